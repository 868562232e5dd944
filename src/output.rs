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
