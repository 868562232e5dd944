//! `saml-login completions SHELL`: clap's completion script, with `-c` completing the
//! section names of the configuration file (as aws-vault and granted complete profile
//! names), read through the hidden `saml-login __sections` command.

use std::io::Write;

use clap_complete::Shell;

use crate::error::Result;

/// The command that prints the section names, one a line.
const SECTIONS: &str = "saml-login __sections 2>/dev/null";

/// Write the completion script for `shell` to stdout.
pub fn write(shell: Shell) -> Result<()> {
    let mut command = crate::cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "saml-login", &mut out);
    let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
    std::io::stdout()
        .lock()
        .write_all(with_sections(shell, script).as_bytes())
        .map_err(crate::output::stdout_error)
}

/// `script` with `-c`/`--configuration` completing section names.
fn with_sections(shell: Shell, script: String) -> String {
    match shell {
        Shell::Bash => format!(
            r#"{script}
# -c/--configuration: the sections of the configuration file (--config FILE honoured).
_saml_login_with_sections() {{
    local prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    if [[ $prev == -c || $prev == --configuration ]]; then
        local i config=()
        for ((i = 1; i < COMP_CWORD - 1; i++)); do
            [[ ${{COMP_WORDS[i]}} == --config ]] && config=(--config "${{COMP_WORDS[i+1]}}")
        done
        COMPREPLY=($(compgen -W "$(saml-login "${{config[@]}}" __sections 2>/dev/null)" -- "${{COMP_WORDS[COMP_CWORD]}}"))
        return 0
    fi
    _saml-login "$@"
}}
complete -F _saml_login_with_sections -o nosort -o bashdefault -o default saml-login
"#
        ),
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
