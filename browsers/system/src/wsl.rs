//! WSL: open the login in Windows' default browser. The browser is handed the private
//! forwarding page ([`crate::forward`]), never the login URL (it carries our
//! `RelayState`, and a command line is public on both sides), at a path Windows can
//! read (`wslpath -w`: `\\wsl.localhost\<distro>\...`), through the first of `wslview`,
//! `powershell.exe -NoProfile -Command -` (the command on stdin, the path as a
//! single-quoted literal) and `cmd.exe /c start` that works.

use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use url::Url;

use crate::forward::Forwarder;

/// How long one opener may take to hand the page over.
const OPENER_LIMIT: Duration = Duration::from_secs(20);

/// Open `target` in Windows' default browser through a [`Forwarder`]; the page stays
/// until the returned value is dropped. The error names every opener tried.
pub fn open(target: &Url, programs: &saml_login_capture::Vars) -> io::Result<Forwarder> {
    let forwarder = Forwarder::new(target)?;
    let page = forwarder.path();
    let mut tried = Vec::new();
    if let Some(wslview) = programs.find_on_path("wslview") {
        let mut cmd = Command::new(wslview);
        cmd.arg(page);
        match run(cmd, None) {
            Ok(()) => return Ok(forwarder),
            Err(e) => tried.push(format!("wslview: {e}")),
        }
    }
    let windows = match windows_path(page, programs) {
        Ok(path) => path,
        Err(e) => {
            tried.push(format!("wslpath: {e}"));
            return Err(none_worked(&tried));
        }
    };
    if let Some(powershell) = programs.find_on_path("powershell.exe") {
        let mut cmd = Command::new(powershell);
        cmd.args(["-NoProfile", "-NonInteractive", "-Command", "-"]);
        let script = format!("Start-Process -FilePath {}\n", powershell_literal(&windows));
        match run(cmd, Some(&script)) {
            Ok(()) => return Ok(forwarder),
            Err(e) => tried.push(format!("powershell.exe: {e}")),
        }
    }
    if let Some(cmd_exe) = programs.find_on_path("cmd.exe") {
        match cmd_argument(&windows) {
            Some(arg) => {
                let mut cmd = Command::new(cmd_exe);
                cmd.args(["/c", "start", "", &arg]);
                match run(cmd, None) {
                    Ok(()) => return Ok(forwarder),
                    Err(e) => tried.push(format!("cmd.exe: {e}")),
                }
            }
            None => tried.push(format!("cmd.exe: cannot be given {windows:?} safely")),
        }
    }
    if tried.is_empty() {
        tried.push("none of wslview, powershell.exe, cmd.exe is on PATH".into());
    }
    Err(none_worked(&tried))
}

fn none_worked(tried: &[String]) -> io::Error {
    io::Error::other(format!("no Windows browser opened ({})", tried.join("; ")))
}

/// The Windows path of `page` (`wslpath -w`).
fn windows_path(page: &Path, programs: &saml_login_capture::Vars) -> io::Result<String> {
    let wslpath = programs
        .find_on_path("wslpath")
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not on PATH"))?;
    let out = Command::new(wslpath)
        .arg("-w")
        .arg(page)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()?;
    let path = String::from_utf8(out.stdout)
        .map_err(|_| io::Error::other("a path that is not UTF-8"))?
        .trim_end_matches(['\r', '\n'])
        .to_owned();
    if !out.status.success() || path.is_empty() {
        return Err(io::Error::other(format!("exited with {}", out.status)));
    }
    Ok(path)
}

/// Run an opener (its output discarded), writing `stdin` to it, for at most
/// [`OPENER_LIMIT`].
fn run(mut cmd: Command, stdin: Option<&str>) -> io::Result<()> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let mut child = cmd.spawn()?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())?;
    }
    let until = Instant::now() + OPENER_LIMIT;
    loop {
        if let Some(status) = child.try_wait()? {
            return if status.success() {
                Ok(())
            } else {
                Err(io::Error::other(format!("exited with {status}")))
            };
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(io::ErrorKind::TimedOut, "did not finish"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `text` as a PowerShell single-quoted string: nothing in it is expanded (`$`, `` ` ``,
/// `"`, `&`, `%`, `^` are literal); each single quote (PowerShell takes the typographic
/// ones as quotes too) is doubled.
pub fn powershell_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `text` as one argument of `cmd.exe /c start "" ARG`: cmd's specials escaped with
/// `^` (also `%`, which the command line expands before it removes the carets). A
/// text with white space, quotes or control characters is refused (WSL would quote
/// it, and inside quotes a caret is no escape).
pub fn cmd_argument(text: &str) -> Option<String> {
    if text.is_empty()
        || text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
    {
        return None;
    }
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if matches!(c, '^' | '&' | '|' | '<' | '>' | '(' | ')' | '%' | '!') {
            out.push('^');
        }
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powershell_takes_the_text_literally() {
        assert_eq!(
            powershell_literal(r"\\wsl.localhost\Debian\tmp\a&b%c^d$e`f"),
            r"'\\wsl.localhost\Debian\tmp\a&b%c^d$e`f'"
        );
        assert_eq!(
            powershell_literal("it's \u{2019}x\""),
            "'it''s \u{2019}\u{2019}x\"'"
        );
    }

    #[test]
    fn cmd_gets_carets_and_refuses_what_it_cannot_take() {
        assert_eq!(
            cmd_argument(r"\\wsl.localhost\D\a&b%PATH%^c(d)!").as_deref(),
            Some(r"\\wsl.localhost\D\a^&b^%PATH^%^^c^(d^)^!")
        );
        assert_eq!(cmd_argument("a b"), None);
        assert_eq!(cmd_argument("a\"b"), None);
        assert_eq!(cmd_argument(""), None);
    }
}
