//! What a run writes, in one voice. stdout carries only machine output (tokens, JSON,
//! URLs asked for, exports): the one way every command writes it, with the one error a
//! failed write gives. stderr carries the lines for people: notices, notes, warnings and
//! errors, each signed with the name of the tool that runs (`saml-login`, `pkce-login`,
//! the stand-alone `aws-console`), written only here (`scripts/check-architecture.py`
//! fails on an `eprintln!` elsewhere), through the reporter the browsers use too
//! ([`saml_login_capture::report`]): one format, byte for byte. `tracing` is for
//! `--verbose` only.

use std::io::Write;

use saml_login_capture::report;

use crate::error::{Error, Result};

pub(crate) fn write_stdout(text: &str) -> Result<()> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(stdout_error)
}

pub(crate) fn stdout_error(source: std::io::Error) -> Error {
    Error::Write {
        path: "standard output".into(),
        source,
    }
}

/// Set the name the run's lines on stderr are signed with (`saml-login`, or the
/// stand-alone `aws-console`'s own), once, by the entry point; the browsers' lines (a
/// refused callback request) carry it too: they share one reporter,
/// [`saml_login_capture::report`].
pub(crate) fn set_program(name: &str) {
    saml_login_capture::set_program(name);
}

/// What a line on stderr is; each kind has one format (see [`line`]).
pub(crate) use saml_login_capture::report::Kind;

/// The line `message` of `kind` as it is written: signed with the running tool's name,
/// control characters (an escape sequence from an IdP's or a file's text) shown, not
/// sent. The browsers' lines are made by the same function.
pub(crate) fn line(kind: Kind, message: std::fmt::Arguments<'_>) -> String {
    report::line(kind, message)
}

/// Write `message` of `kind` on stderr (see [`line`]). A notice that cannot be written
/// does not end the run (`eprintln!` would panic).
pub(crate) fn say(kind: Kind, message: std::fmt::Arguments<'_>) {
    report::say(kind, message);
}

/// An error as `main` reports it: `PROGRAM: error: message`, and the hint under it.
pub(crate) fn error(message: std::fmt::Arguments<'_>, hint: Option<&str>) {
    let mut text = line(Kind::Error, message);
    if let Some(hint) = hint {
        text.push_str(&format!("  hint: {}\n", report::printable(hint)));
    }
    report::write_stderr(&text);
}

/// `notice!("...", args)`: `PROGRAM: ...` on stderr.
macro_rules! notice {
    ($($arg:tt)*) => {
        $crate::output::say($crate::output::Kind::Notice, format_args!($($arg)*))
    };
}
/// `note!("...", args)`: `PROGRAM: note: ...` on stderr.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::output::say($crate::output::Kind::Note, format_args!($($arg)*))
    };
}
/// `warning!("...", args)`: `PROGRAM: warning: ...` on stderr.
macro_rules! warning {
    ($($arg:tt)*) => {
        $crate::output::say($crate::output::Kind::Warning, format_args!($($arg)*))
    };
}
pub(crate) use {note, notice, warning};

/// The one format of a time in a notice: `06:03 UTC` today, `2026-12-08 06:03 UTC`
/// another day. On a terminal the time is local, with its zone (`07:03 CET`): the
/// person reading it is here; in a pipe or a log it is UTC, which reads the same on
/// another machine.
pub(crate) fn clock(at: time::OffsetDateTime) -> String {
    static LOCAL: std::sync::OnceLock<Option<jiff::tz::TimeZone>> = std::sync::OnceLock::new();
    let zone = LOCAL.get_or_init(|| {
        use std::io::IsTerminal;
        // jiff reads `TZ` (a name or a POSIX rule) or the system's zone.
        std::io::stderr()
            .is_terminal()
            .then(|| jiff::tz::TimeZone::try_system().ok())
            .flatten()
    });
    zone.as_ref()
        .and_then(|zone| clock_in(at, zone))
        .unwrap_or_else(|| clock_in(at, &jiff::tz::TimeZone::UTC).unwrap_or_default())
}

/// [`clock`] in `zone`.
fn clock_in(at: time::OffsetDateTime, zone: &jiff::tz::TimeZone) -> Option<String> {
    let at = jiff::Timestamp::from_second(at.unix_timestamp())
        .ok()?
        .to_zoned_datetime(zone.clone());
    let today = jiff::Timestamp::from_second(crate::clock::now().unix_timestamp())
        .ok()?
        .to_zoned_datetime(zone.clone())
        .date();
    let format = if at.date() == today {
        "%H:%M %Z"
    } else {
        "%Y-%m-%d %H:%M %Z"
    };
    Some(at.strftime(format).to_string())
}

#[cfg(test)]
mod tests {
    use super::{Kind, line};

    /// Every line on stderr is signed with the tool that runs, in one format per kind,
    /// and an escape sequence in it is shown, not sent to the terminal.
    #[test]
    fn lines_on_stderr_have_one_voice() {
        let p = saml_login_capture::program();
        assert_eq!(
            line(Kind::Notice, format_args!("wrote {}", 2)),
            format!("{p}: wrote 2\n")
        );
        assert_eq!(
            line(Kind::Note, format_args!("not reading x")),
            format!("{p}: note: not reading x\n")
        );
        assert_eq!(
            line(Kind::Warning, format_args!("a\u{1b}[31mb")),
            format!("{p}: warning: a\\u{{1b}}[31mb\n")
        );
        assert_eq!(
            line(Kind::Error, format_args!("failed")),
            format!("{p}: error: failed\n")
        );
    }

    #[test]
    fn times_in_notices_have_one_format() {
        let now = time::OffsetDateTime::now_utc();
        assert_eq!(
            super::clock(now),
            format!("{:02}:{:02} UTC", now.hour(), now.minute())
        );
        assert_eq!(
            super::clock(time::macros::datetime!(2020-01-01 10:00 +01:00)),
            "2020-01-01 09:00 UTC"
        );
    }

    #[test]
    fn a_terminal_gets_local_time_with_its_zone() {
        let zone = jiff::tz::TimeZone::posix("IST-5:30").unwrap();
        assert_eq!(
            super::clock_in(time::macros::datetime!(2020-01-01 10:00 UTC), &zone).unwrap(),
            "2020-01-01 15:30 IST"
        );
        let utc = jiff::tz::TimeZone::UTC;
        assert_eq!(
            super::clock_in(time::macros::datetime!(2020-01-01 10:00 UTC), &utc).unwrap(),
            "2020-01-01 10:00 UTC"
        );
    }
}
