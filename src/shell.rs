//! Shell syntax for `env`: the shells it can print for, and one `export` line quoted
//! for each (a value never escapes its quotes, whatever it holds).

/// The shell syntax `env` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvShell {
    Sh,
    /// The same syntax as `sh`.
    Bash,
    /// The same syntax as `sh`.
    Zsh,
    Fish,
    Powershell,
}

impl EnvShell {
    /// The kind of the shell at `path` (`$SHELL`): `/usr/bin/fish` is fish; anything
    /// not known is `sh`.
    pub fn of_shell_path(path: Option<&str>) -> Self {
        let name = path
            .and_then(|p| p.rsplit('/').next())
            .unwrap_or_default()
            .trim_end_matches(".exe");
        match name {
            "fish" => Self::Fish,
            "pwsh" | "powershell" => Self::Powershell,
            "bash" => Self::Bash,
            "zsh" => Self::Zsh,
            _ => Self::Sh,
        }
    }

    /// The line that sets variable `k` to `v` in this shell.
    pub(crate) fn export(self, k: &str, v: &str) -> String {
        match self {
            EnvShell::Sh | EnvShell::Bash | EnvShell::Zsh => {
                format!("export {k}='{}'\n", v.replace('\'', r"'\''"))
            }
            EnvShell::Fish => format!(
                "set -gx {k} '{}';\n",
                v.replace('\\', r"\\").replace('\'', r"\'")
            ),
            EnvShell::Powershell => format!("$Env:{k} = '{}'\n", powershell_quoted(v)),
        }
    }
}

/// `v` inside a PowerShell single-quoted string: every character PowerShell takes for
/// a single quote (`'` and U+2018 to U+201B) is doubled.
fn powershell_quoted(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
            out.push(c);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_never_end_the_value() {
        assert_eq!(EnvShell::Sh.export("K", "a'b"), "export K='a'\\''b'\n");
        assert_eq!(
            EnvShell::Fish.export("K", "a\\'b"),
            "set -gx K 'a\\\\\\'b';\n"
        );
        assert_eq!(
            EnvShell::Powershell.export("K", "a\u{2019}b"),
            "$Env:K = 'a\u{2019}\u{2019}b'\n"
        );
        assert_eq!(
            EnvShell::of_shell_path(Some("/usr/bin/fish")),
            EnvShell::Fish
        );
        assert_eq!(EnvShell::of_shell_path(None), EnvShell::Sh);
    }
}
