//! What differs between Linux, macOS and Windows in saml-login's own code, each as a
//! small function the rest calls: the home directory, the byte-order mark a Windows
//! editor puts before a config file, a rename that Windows refuses while another
//! program has the file open, and how `exec` finds its command. (`env`'s default shell
//! per system is in shell.rs.)

use std::ffi::OsStr;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The home directory from the environment: on Windows `USERPROFILE` before `HOME` (the
/// AWS CLI v2 and the SDKs read `%USERPROFILE%\.aws` there, and a `HOME` set by Git
/// Bash or MSYS may point elsewhere); on every other system `HOME`. Empty values do not
/// count. `None`: the caller asks the system.
pub(crate) fn home_from_env(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    home_vars(cfg!(windows))
        .iter()
        .find_map(|name| env(name).filter(|v| !v.is_empty()))
        .map(PathBuf::from)
}

/// The variables naming the home directory, the first set one wins.
fn home_vars(windows: bool) -> &'static [&'static str] {
    if windows {
        &["USERPROFILE", "HOME"]
    } else {
        &["HOME"]
    }
}

/// `text` without a leading UTF-8 byte-order mark (Windows PowerShell 5.1's
/// `Out-File -Encoding utf8` and Notepad before Windows 10 1903 write one).
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// How long a secret file's rename is retried while another program has the file open.
pub(crate) const PERSIST_RETRY: Duration = Duration::from_secs(2);

/// Runs `attempt` (a rename that gives back its input on failure) until it succeeds,
/// fails with an error `transient` does not accept, or `bound` has passed; sleeps a
/// little more between tries each time (10 ms, 20 ms, ... at most 200 ms).
pub(crate) fn retry_bounded<S, T>(
    mut state: S,
    bound: Duration,
    transient: impl Fn(&io::Error) -> bool,
    mut attempt: impl FnMut(S) -> Result<T, (S, io::Error)>,
) -> io::Result<T> {
    let until = Instant::now() + bound;
    let mut pause = Duration::from_millis(10);
    loop {
        match attempt(state) {
            Ok(done) => return Ok(done),
            Err((back, e)) if transient(&e) && Instant::now() + pause <= until => {
                state = back;
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            Err((_, e)) => return Err(e),
        }
    }
}

/// Whether a failed rename onto a file may succeed later: on Windows, access denied
/// (5), a sharing violation (32) or a lock violation (33), which MoveFileEx reports
/// while the AWS CLI, an editor or an antivirus scanner has the target open. Never
/// elsewhere (a POSIX rename does not care who has the file open).
pub(crate) fn rename_may_succeed_later(e: &io::Error) -> bool {
    cfg!(windows) && matches!(e.raw_os_error(), Some(5 | 32 | 33))
}

/// The program `exec` starts for `name`: on Windows a bare name is looked up in `PATH`
/// with `PATHEXT` (so `cdk` finds `cdk.cmd`; std alone tries only `.exe`), as the
/// resolved `programs` hold them; elsewhere the name itself (the system searches `PATH`).
pub(crate) fn exec_program(name: &OsStr, programs: &saml_login_capture::Vars) -> PathBuf {
    let found = if cfg!(windows) {
        name.to_str().and_then(|n| programs.find_on_path(n))
    } else {
        None
    };
    found.unwrap_or_else(|| PathBuf::from(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userprofile_comes_before_home_on_windows_only() {
        assert_eq!(home_vars(true), ["USERPROFILE", "HOME"]);
        assert_eq!(home_vars(false), ["HOME"]);
        let env = |k: &str| match k {
            "HOME" => Some("/h".to_owned()),
            "USERPROFILE" => Some(String::new()),
            _ => None,
        };
        // An empty USERPROFILE does not count (on Windows HOME is then used).
        assert_eq!(home_from_env(env), Some(PathBuf::from("/h")));
        assert_eq!(home_from_env(|_| None), None);
    }

    #[test]
    fn a_leading_byte_order_mark_is_dropped() {
        assert_eq!(strip_bom("\u{feff}[default]\n"), "[default]\n");
        assert_eq!(strip_bom("[default]\n"), "[default]\n");
        // Only one, and only at the start.
        assert_eq!(strip_bom("\u{feff}\u{feff}x"), "\u{feff}x");
        assert_eq!(strip_bom("x\u{feff}"), "x\u{feff}");
    }

    /// A config saved by Windows PowerShell 5.1 starts with a BOM.
    #[test]
    fn a_config_file_with_a_byte_order_mark_keeps_its_first_section() {
        let text = "\u{feff}[dev]\nclient_id = abc\n";
        let file = crate::config::IniFile::parse(text, std::path::Path::new("c")).unwrap();
        assert!(file.has_section("dev"), "{:?}", file.section_names());
    }

    fn busy() -> io::Error {
        io::Error::from_raw_os_error(32)
    }

    #[test]
    fn a_busy_target_is_retried_until_it_is_free() {
        let mut tries = 0;
        let done = retry_bounded(
            0u8,
            Duration::from_secs(5),
            |_| true,
            |s| {
                tries += 1;
                if tries < 4 {
                    Err((s, busy()))
                } else {
                    Ok(tries)
                }
            },
        );
        assert_eq!(done.unwrap(), 4);
    }

    #[test]
    fn the_retry_is_bounded_and_other_errors_are_not_retried() {
        let started = Instant::now();
        let mut tries = 0;
        let e = retry_bounded(
            (),
            Duration::from_millis(300),
            |_| true,
            |()| -> Result<(), _> {
                tries += 1;
                Err(((), busy()))
            },
        )
        .unwrap_err();
        assert_eq!(e.raw_os_error(), Some(32));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(tries > 1 && tries < 20, "{tries}");

        let mut tries = 0;
        let _ = retry_bounded(
            (),
            Duration::from_secs(5),
            |_| false,
            |()| -> Result<(), _> {
                tries += 1;
                Err(((), busy()))
            },
        );
        assert_eq!(tries, 1);
    }

    #[test]
    fn only_windows_sharing_errors_are_transient() {
        assert_eq!(rename_may_succeed_later(&busy()), cfg!(windows));
        assert!(!rename_may_succeed_later(&io::Error::from(
            io::ErrorKind::NotFound
        )));
    }
}
