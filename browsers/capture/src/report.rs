//! The one voice on stderr: every line for people that a tool (`saml-login`,
//! `pkce-login`, the stand-alone `aws-console`) or one of its browsers writes goes
//! through here, signed with the running tool's name, one format per kind
//! (`PROGRAM: warning: message`), control characters shown, not sent. saml-login's
//! `output` module speaks through it; the browser crates call [`warning!`](crate::warning)
//! and [`notice!`](crate::notice). `tracing` is `--verbose`'s trace only;
//! `scripts/check-architecture.py` fails on an `eprintln!` or a `tracing::warn!`
//! anywhere else.

use std::fmt;
use std::io::Write;
use std::sync::OnceLock;

/// The name the running tool signs its lines on stderr with (`saml-login`,
/// `pkce-login`, `aws-console`), set once by its entry point (the webview helper takes
/// its caller's from the request).
static PROGRAM: OnceLock<String> = OnceLock::new();

/// Set the running tool's name (see [`program`]); the first call wins.
pub fn set_program(name: &str) {
    let _ = PROGRAM.set(name.to_owned());
}

/// The running tool's name; `saml-login` until set.
pub fn program() -> &'static str {
    PROGRAM.get().map_or("saml-login", String::as_str)
}

/// What a line on stderr is; each kind has one format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `PROGRAM: message`: what happens, a stored answer used, what was written.
    Notice,
    /// `PROGRAM: note: message`: something not done on purpose, and how to have it.
    Note,
    /// `PROGRAM: warning: message`: the run goes on, but something is wrong.
    Warning,
    /// `PROGRAM: error: message`: what failed.
    Error,
}

impl Kind {
    /// What follows the program's name and `: `.
    fn label(self) -> &'static str {
        match self {
            Kind::Notice => "",
            Kind::Note => "note: ",
            Kind::Warning => "warning: ",
            Kind::Error => "error: ",
        }
    }
}

/// `text` safe to print on a terminal: control characters other than a line end (an
/// escape sequence from an IdP's or a file's text) are shown escaped, not interpreted.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The line `message` of `kind` as it is written: signed with [`program`], control
/// characters shown (see [`printable`]), ending in a line end.
pub fn line(kind: Kind, message: fmt::Arguments<'_>) -> String {
    format!(
        "{}: {}{}\n",
        program(),
        kind.label(),
        printable(&message.to_string())
    )
}

/// Write `message` of `kind` on stderr (see [`line`]).
pub fn say(kind: Kind, message: fmt::Arguments<'_>) {
    write_stderr(&line(kind, message));
}

/// Lines the user acts on, as they are (no name before them: the URL to open and the
/// command to forward the port start lines of their own, to be copied), control
/// characters shown.
pub fn instructions(text: &str) {
    write_stderr(&format!("{}\n", printable(text.trim_end_matches('\n'))));
}

/// Write `text` (lines made by [`line`], and what belongs under them) on stderr at
/// once. A line that cannot be written does not end the run (`eprintln!` would panic).
pub fn write_stderr(text: &str) {
    #[cfg(feature = "observe")]
    if let Some(observer) = OBSERVER.get() {
        observer(text);
    }
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Who else is handed every text written (see [`observe`]).
#[cfg(feature = "observe")]
static OBSERVER: OnceLock<fn(&str)> = OnceLock::new();

/// Hand every text written on stderr from now on to `observer` too (it still goes to
/// stderr): for a test that runs a browser in its own process and counts the warnings
/// it expects. The first call wins. Only with the feature `observe`, which only tests
/// turn on (the webview crate's, as a dev-dependency): no release build has the hook.
#[cfg(feature = "observe")]
pub fn observe(observer: fn(&str)) {
    let _ = OBSERVER.set(observer);
}

/// `warning!("...", args)`: `PROGRAM: warning: ...` on stderr, for what the user must
/// know although the run goes on (a refused callback request, a setting not honoured).
#[macro_export]
macro_rules! warning {
    ($($arg:tt)*) => {
        $crate::report::say($crate::report::Kind::Warning, format_args!($($arg)*))
    };
}

/// `notice!("...", args)`: `PROGRAM: ...` on stderr, for what happens (a browser
/// opened, a URL to open).
#[macro_export]
macro_rules! notice {
    ($($arg:tt)*) => {
        $crate::report::say($crate::report::Kind::Notice, format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::{Kind, line, printable};

    /// Every line is signed with the tool that runs, in one format per kind, and an
    /// escape sequence in it is shown, not sent to the terminal.
    #[test]
    fn lines_on_stderr_have_one_voice() {
        super::set_program("pkce-login");
        assert_eq!(super::program(), "pkce-login");
        super::set_program("saml-login");
        assert_eq!(super::program(), "pkce-login", "the first name stays");
        assert_eq!(
            line(Kind::Notice, format_args!("wrote {}", 2)),
            "pkce-login: wrote 2\n"
        );
        assert_eq!(
            line(Kind::Note, format_args!("not reading x")),
            "pkce-login: note: not reading x\n"
        );
        assert_eq!(
            line(Kind::Warning, format_args!("a\u{1b}[31mb")),
            "pkce-login: warning: a\\u{1b}[31mb\n"
        );
        assert_eq!(
            line(Kind::Error, format_args!("failed\r\u{7}")),
            "pkce-login: error: failed\\r\\u{7}\n"
        );
    }

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(
            printable("a\u{1b}[31mb\r\n\u{7}"),
            "a\\u{1b}[31mb\\r\n\\u{7}"
        );
        assert_eq!(printable("plain: ünïcode ‘q’"), "plain: ünïcode ‘q’");
    }
}
