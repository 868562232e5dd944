//! Shell syntax for `env`: the shells it can print for, and one `export` line quoted
//! for each (a value never escapes its quotes, whatever it holds; cmd.exe refuses a
//! value it cannot quote).

use crate::config::plan::EnvShell;
use crate::error::{Error, Result};

impl EnvShell {
    /// The line that sets variable `k` to `v` in this shell; a usage error when cmd.exe
    /// cannot be given `v` safely (see [`cmd_set`]).
    pub(crate) fn export(self, k: &str, v: &str) -> Result<String> {
        Ok(match self {
            EnvShell::Sh | EnvShell::Bash | EnvShell::Zsh => {
                format!("export {k}='{}'\n", v.replace('\'', r"'\''"))
            }
            EnvShell::Fish => format!(
                "set -gx {k} '{}';\n",
                v.replace('\\', r"\\").replace('\'', r"\'")
            ),
            EnvShell::Powershell => format!("$Env:{k} = '{}'\n", powershell_quoted(v)),
            EnvShell::Cmd => cmd_set(k, v).ok_or_else(|| Error::CmdUnsafe {
                variable: k.to_string(),
            })?,
        })
    }
}

/// A cmd.exe line setting `name` to `value`: `set "NAME=value"`, where the quotes keep
/// `& | < > ^` literal. `None` when `value` holds what cmd would still expand or cut
/// (`%`, `!` with delayed expansion, `"`, a line break): no quoting makes those safe at
/// the prompt. (AWS keys and tokens never hold them.)
fn cmd_set(name: &str, value: &str) -> Option<String> {
    let unsafe_char = |c: char| matches!(c, '%' | '!' | '"' | '\r' | '\n');
    (!name.contains(unsafe_char) && !name.contains('=') && !value.contains(unsafe_char))
        .then(|| format!("set \"{name}={value}\"\r\n"))
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
        assert_eq!(
            EnvShell::Sh.export("K", "a'b").unwrap(),
            "export K='a'\\''b'\n"
        );
        assert_eq!(
            EnvShell::Fish.export("K", "a\\'b").unwrap(),
            "set -gx K 'a\\\\\\'b';\n"
        );
        assert_eq!(
            EnvShell::Powershell.export("K", "a\u{2019}b").unwrap(),
            "$Env:K = 'a\u{2019}\u{2019}b'\n"
        );
        assert_eq!(
            EnvShell::of_shell_path(Some("/usr/bin/fish")),
            EnvShell::Fish
        );
        assert_eq!(EnvShell::of_shell_path(None), EnvShell::Sh);
    }

    #[test]
    fn cmd_lines_quote_what_they_can_and_refuse_the_rest() {
        assert_eq!(
            cmd_set("AWS_SESSION_TOKEN", "IQo+/b=&x|y<z>^").as_deref(),
            Some("set \"AWS_SESSION_TOKEN=IQo+/b=&x|y<z>^\"\r\n")
        );
        for bad in ["50%", "a!b", "a\"b", "a\nset X=1"] {
            assert_eq!(cmd_set("AWS_REGION", bad), None, "{bad}");
            assert!(EnvShell::Cmd.export("AWS_REGION", bad).is_err(), "{bad}");
        }
        assert_eq!(
            EnvShell::of_shell_path(Some("C:\\Program Files\\PowerShell\\7\\pwsh.exe")),
            EnvShell::Powershell
        );
        assert_eq!(
            EnvShell::of_shell_path(Some("/c/Windows/cmd.exe")),
            EnvShell::Cmd
        );
        assert_eq!(
            EnvShell::platform_default(),
            if cfg!(windows) {
                EnvShell::Powershell
            } else {
                EnvShell::Sh
            }
        );
    }
}
