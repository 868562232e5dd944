//! stdout carries only machine output (tokens, JSON, URLs asked for, exports): the one
//! way every command writes it, with the one error a failed write gives.

use std::io::Write;

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

/// The name this run's own lines on stderr start with (`saml-login`, or the
/// stand-alone `aws-console`'s own), set once by the entry point.
static PROGRAM: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub(crate) fn set_program(name: &str) {
    let _ = PROGRAM.set(name.to_owned());
}

/// See [`PROGRAM`]; `saml-login` until set.
pub(crate) fn program() -> &'static str {
    PROGRAM.get().map_or("saml-login", String::as_str)
}

/// The one format of a time in a notice: `06:03 UTC` today, `2026-12-08 06:03 UTC`
/// another day (UTC always: a notice may be read on another machine, in a log).
pub(crate) fn clock(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let hhmm = format!("{:02}:{:02} UTC", at.hour(), at.minute());
    if at.date() == time::OffsetDateTime::now_utc().date() {
        hhmm
    } else {
        format!(
            "{:04}-{:02}-{:02} {hhmm}",
            at.year(),
            u8::from(at.month()),
            at.day()
        )
    }
}

#[cfg(test)]
mod tests {
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
}
