//! `saml-login completions SHELL`: clap's completion script, with `-c` completing the
//! section names of the configuration file (as aws-vault and granted complete profile
//! names), read through the hidden `saml-login __sections` command, which itself is
//! never offered.

use std::io::Write;

use clap_complete::Shell;

use crate::error::Result;

/// The command that prints the section names, one a line.
const SECTIONS: &str = "saml-login __sections 2>/dev/null";

/// The hidden command the scripts call for the section names.
const SECTIONS_COMMAND: &str = "__sections";

/// Write the completion script for `shell` to stdout.
pub fn write(shell: Shell) -> Result<()> {
    std::io::stdout()
        .lock()
        .write_all(script(shell).as_bytes())
        .map_err(crate::output::stdout_error)
}

/// The completion script for `shell`.
pub(crate) fn script(shell: Shell) -> String {
    let mut command = offered_command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "saml-login", &mut out);
    let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
    with_sections(shell, script)
}

/// saml-login's command line as completions offer it: without the hidden
/// `__sections` (clap's bash and fish scripts list hidden commands too).
fn offered_command() -> clap::Command {
    let full = crate::cli::command();
    let subcommands: Vec<clap::Command> = full
        .get_subcommands()
        .filter(|c| c.get_name() != SECTIONS_COMMAND)
        .cloned()
        .collect();
    clap::Command::new("saml-login")
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(subcommands)
}

/// The name clap gives the bash function of `script` (`_saml__login` for saml-login).
fn bash_function(script: &str) -> &str {
    script
        .lines()
        .find_map(|l| l.strip_suffix("() {"))
        .expect("clap's bash script starts with its function")
}

/// `script` with `-c`/`--configuration` completing section names.
fn with_sections(shell: Shell, script: String) -> String {
    match shell {
        Shell::Bash => {
            let function = bash_function(&script).to_owned();
            format!(
                r#"{script}
# -c/--configuration: the sections of the configuration file (--config FILE honoured),
# one word each (a name with a space is quoted).
_saml_login_with_sections() {{
    local prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    if [[ $prev == -c || $prev == --configuration ]]; then
        local i section cur="${{COMP_WORDS[COMP_CWORD]}}" config=()
        for ((i = 1; i < COMP_CWORD - 1; i++)); do
            [[ ${{COMP_WORDS[i]}} == --config ]] && config=(--config "${{COMP_WORDS[i+1]}}")
        done
        COMPREPLY=()
        while IFS= read -r section; do
            [[ $section == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$section")")
        done < <(saml-login "${{config[@]}}" {SECTIONS_COMMAND} 2>/dev/null)
        return 0
    fi
    {function} "$@"
}}
complete -F _saml_login_with_sections -o nosort -o bashdefault -o default saml-login
"#
            )
        }
        Shell::Zsh => {
            let function = format!(
                "\n# -c/--configuration: the sections of the configuration file.\n_saml_login_sections() {{\n    local -a sections\n    sections=(${{(f)\"$({SECTIONS})\"}})\n    _describe -t sections 'section' sections\n}}\n"
            );
            let script = script
                .replace(":SECTION:_default'", ":SECTION:_saml_login_sections'")
                .replace(":SECTION:( )'", ":SECTION:_saml_login_sections'");
            match script.split_once('\n') {
                Some((first, rest)) => format!("{first}\n{function}{rest}"),
                None => script,
            }
        }
        Shell::Fish => format!(
            "{script}# -c/--configuration: the sections of the configuration file.\ncomplete -c saml-login -s c -l configuration -x -a '({SECTIONS})'\n"
        ),
        _ => script,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_script_offers_the_hidden_sections_command() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
            let text = script(shell);
            let offered = text
                .lines()
                .filter(|l| l.contains(SECTIONS_COMMAND))
                .filter(|l| !l.contains(&format!("saml-login {SECTIONS_COMMAND}")))
                .filter(|l| !l.contains(&format!("}}\" {SECTIONS_COMMAND} 2>")))
                .collect::<Vec<_>>();
            assert!(offered.is_empty(), "{shell:?}: {offered:?}");
        }
    }
}
