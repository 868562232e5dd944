//! `saml-login man`: one manual page a person can read, generated from the command
//! line's definitions: every command with its own options and examples, the shared
//! options under their headings, then ENVIRONMENT, FILES and EXIT STATUS. It names no
//! other page of saml-login (there is one page).

use std::fmt::Write as _;
use std::io::Write;

use crate::config::keys::{Key, Tool};
use crate::error::{Result, exit};

/// Write the page (roff) to stdout.
pub fn write() -> Result<()> {
    std::io::stdout()
        .lock()
        .write_all(render(&crate::cli::command()).as_bytes())
        .map_err(crate::output::stdout_error)
}

/// Files saml-login reads and writes, with what they hold.
const FILES: &[(&str, &str)] = &[
    (
        "~/.saml-login",
        "The configuration (ini; -c SECTION, keys inherit [DEFAULT]). A ./.saml-login in the working directory is not read: use --config ./.saml-login.",
    ),
    (
        "~/.aws-accounts",
        "Account aliases: [DEFAULT] then alias = 123456789012 lines.",
    ),
    (
        "~/.aws/credentials",
        "Where aws-assume-role stores the keys (AWS_SHARED_CREDENTIALS_FILE); a symbolic link is written through to its target.",
    ),
    (
        "~/.aws/config",
        "The AWS configuration file (AWS_CONFIG_FILE): the profiles configure writes (in a block per section), the credential_process profiles and role_arn/source_profile chains that exec --profile, env --profile and aws-console --profile resolve, and profile regions.",
    ),
    (
        "~/.cache/saml-login",
        "The cached SAML assertion and credentials (mode 0600), and the login locks; logout removes the cached ones.",
    ),
    (
        "~/.local/share/saml-login/webview",
        "The webview's remembered IdP sessions; logout removes them.",
    ),
];

/// Variables besides the `SAML_LOGIN_<KEY>` of each setting.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("SAML_LOGIN_CONFIG", "The configuration file, as --config."),
    (
        "SAML_LOGIN_COOKIES",
        "Headless: a cookie jar's content (not a path), for CI secrets.",
    ),
    (
        "SAML_LOGIN_USERNAME, SAML_LOGIN_PASSWORD",
        "Headless: a service account that fills the IdP's login form.",
    ),
    ("AWS_SHARED_CREDENTIALS_FILE", "The credentials file."),
    ("AWS_CONFIG_FILE", "The AWS configuration file."),
    ("AWS_ENDPOINT_URL_STS", "Another STS endpoint."),
    (
        "AWS_REGION, AWS_DEFAULT_REGION",
        "The region for the console of a profile; exec and env set both for the command.",
    ),
    (
        "AWS_PROFILE",
        "The profile the stand-alone aws-console opens when --profile is not given.",
    ),
    (
        "XDG_CACHE_HOME, XDG_DATA_HOME",
        "Where the caches and the webview sessions are.",
    ),
    (
        "BROWSER",
        "The system browser; when set, it is used over SSH, in containers and under WSL too.",
    ),
    (
        "SSH_CONNECTION, SSH_TTY, DISPLAY, WAYLAND_DISPLAY",
        "Over SSH without a display (and no BROWSER), the system browser prints the login URL and the ssh -L forward to make, as --no-browser does.",
    ),
    (
        "WSL_DISTRO_NAME, WSL_INTEROP",
        "WSL: the system browser opens Windows' default browser (wslview, else powershell.exe, else cmd.exe).",
    ),
    ("CHROME", "Headless: the Chromium binary."),
    (
        "NO_COLOR",
        "No colour in --verbose output (there is none off a terminal).",
    ),
];

/// Escape text for roff.
fn esc(text: &str) -> String {
    let t = text.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with(['.', '\'']) {
        format!("\\&{t}")
    } else {
        t
    }
}

/// `.nf` block lines (examples), kept as written.
fn verbatim(out: &mut String, text: &str) {
    out.push_str(".nf\n");
    for line in text.lines() {
        let _ = writeln!(out, "{}", esc(line));
    }
    out.push_str(".fi\n");
}

/// An option's name as a person types it: `-c, --configuration SECTION`.
fn option_name(a: &clap::Arg) -> String {
    let mut names = Vec::new();
    if let Some(s) = a.get_short() {
        names.push(format!("\\fB\\-{s}\\fR"));
    }
    if let Some(l) = a.get_long() {
        names.push(format!("\\fB\\-\\-{}\\fR", esc(l)));
    }
    let mut name = names.join(", ");
    if a.get_action().takes_values()
        && let Some(v) = a.get_value_names().and_then(|v| v.first())
    {
        let _ = write!(name, " \\fI{}\\fR", esc(v));
    }
    name
}

fn options<'a>(out: &mut String, args: impl Iterator<Item = &'a clap::Arg>) {
    for a in args {
        if a.is_hide_set() || a.is_positional() || a.get_id() == "help" || a.get_id() == "version" {
            continue;
        }
        let help = a.get_help().map(ToString::to_string).unwrap_or_default();
        let _ = writeln!(out, ".TP\n{}\n{}", option_name(a), esc(&help));
    }
}

/// The examples block of a command's `after_help`.
fn examples(c: &clap::Command) -> Option<String> {
    let text = c.get_after_help()?.to_string();
    let start = text.find("Examples:")?;
    let block: Vec<&str> = text[start + "Examples:".len()..]
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim_start)
        .collect();
    Some(block.join("\n"))
}

pub(crate) fn render(cmd: &clap::Command) -> String {
    let name = cmd.get_name();
    let mut out = String::new();
    let _ = writeln!(
        out,
        ".TH {name} 1 \"\" \"{name} {}\" \"User Commands\"",
        env!("CARGO_PKG_VERSION")
    );
    let about = cmd.get_about().map(ToString::to_string).unwrap_or_default();
    let _ = writeln!(out, ".SH NAME\n{} \\- {}", esc(name), esc(&about));
    let _ = writeln!(
        out,
        ".SH SYNOPSIS\n\\fB{}\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fICOMMAND OPTIONS\\fR]",
        esc(name)
    );
    out.push_str(".SH DESCRIPTION\n");
    let _ = writeln!(
        out,
        "{}. Each command below lists its own options and examples; the options shared by every command follow under OPTIONS.",
        esc(&about)
    );

    out.push_str(".SH COMMANDS\n");
    for sc in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
        let _ = writeln!(out, ".SS \"{} {}\"", esc(name), esc(sc.get_name()));
        let text = sc
            .get_long_about()
            .or(sc.get_about())
            .map(ToString::to_string)
            .unwrap_or_default();
        for para in text.split("\n\n") {
            if para.starts_with("  ") {
                verbatim(&mut out, para);
            } else {
                let _ = writeln!(out, ".PP\n{}", esc(&para.replace('\n', " ")));
            }
        }
        let own: Vec<&clap::Arg> = sc.get_arguments().filter(|a| !a.is_global_set()).collect();
        for p in own.iter().filter(|a| a.is_positional()) {
            let help = p.get_help().map(ToString::to_string).unwrap_or_default();
            let v = p
                .get_value_names()
                .and_then(|v| v.first())
                .map_or_else(|| p.get_id().to_string(), ToString::to_string);
            let _ = writeln!(out, ".TP\n\\fI{}\\fR\n{}", esc(&v), esc(&help));
        }
        options(&mut out, own.into_iter());
        if let Some(ex) = examples(sc) {
            out.push_str(".PP\nExamples:\n.RS\n");
            verbatim(&mut out, &ex);
            out.push_str(".RE\n");
        }
    }

    out.push_str(".SH OPTIONS\nThese options go before or after the command.\n");
    let globals: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set() && !a.is_hide_set())
        .collect();
    let mut headings: Vec<&str> = Vec::new();
    for a in &globals {
        if let Some(h) = a.get_help_heading()
            && !headings.contains(&h)
        {
            headings.push(h);
        }
    }
    for h in headings {
        let _ = writeln!(out, ".SS {}", esc(h));
        options(
            &mut out,
            globals
                .iter()
                .copied()
                .filter(|a| a.get_help_heading() == Some(h)),
        );
    }

    out.push_str(".SH ENVIRONMENT\n");
    out.push_str(
        "A setting is taken from its option, then its variable, then the configuration section, then [DEFAULT].\n",
    );
    for key in Key::read_by_tool(Tool::SamlLogin) {
        if let Some(var) = key.env_var() {
            let _ = writeln!(
                out,
                ".TP\n\\fB{}\\fR\nThe setting \\fB{}\\fR: {}.",
                esc(&var),
                esc(key.name()),
                esc(key.help())
            );
        }
    }
    for (var, what) in ENVIRONMENT {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", esc(var), esc(what));
    }

    out.push_str(".SH FILES\n");
    for (path, what) in FILES {
        let _ = writeln!(out, ".TP\n\\fI{}\\fR\n{}", esc(path), esc(what));
    }

    out.push_str(".SH EXIT STATUS\n");
    for (code, meaning) in exit::TABLE {
        let _ = writeln!(out, ".TP\n\\fB{code}\\fR\n{}", esc(meaning));
    }
    out.push_str(
        ".PP\nexec exits with the command's own status (128 + the signal when it was killed).\n",
    );

    if let Some(ex) = examples(cmd) {
        out.push_str(".SH EXAMPLES\n");
        verbatim(&mut out, &ex);
    }
    out
}
