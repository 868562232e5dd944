//! Harness for the remote-shell tests (tests/integration/remote_shells.rs): a login
//! that prints its URL (`--no-browser`, SSH), read from its stderr as a user would,
//! and spies that record whether a program was run.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{ChildStderr, Command, Stdio};
use std::time::Duration;

use super::{GroupGuard, python, support};

/// A login running in the background whose printed instructions were read.
pub struct PrintedLogin {
    pub guard: GroupGuard,
    /// The URL printed under "Open this URL in a browser:".
    pub url: String,
    /// Everything printed up to and including the `ssh -L` line.
    pub text: String,
    stderr: BufReader<ChildStderr>,
}

impl PrintedLogin {
    /// Spawn `cmd` (stdout and stderr piped here) and read its stderr up to the end
    /// of the instructions (60 s at most).
    pub fn spawn(mut cmd: Command) -> Self {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut guard = GroupGuard::spawn(cmd);
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = guard.child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut stderr = BufReader::new(stderr);
            let mut text = String::new();
            let mut url = None;
            let mut line = String::new();
            loop {
                line.clear();
                if stderr.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                text.push_str(&line);
                if let Some(u) = line.strip_prefix("  http") {
                    url.get_or_insert_with(|| format!("http{}", u.trim_end()));
                }
                if line.starts_with("  ssh -L ") {
                    break;
                }
            }
            let _ = tx.send((url, text, stderr));
        });
        let (url, text, stderr) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("no login URL printed within 60 s");
        let url = url.unwrap_or_else(|| panic!("no URL in: {text}"));
        Self {
            guard,
            url,
            text,
            stderr,
        }
    }

    /// Wait (at most `limit`) for the login to end: its exit code, stdout and the rest
    /// of its stderr.
    pub fn finish(mut self, limit: Duration) -> (Option<i32>, String, String) {
        let status = self.guard.wait_for(limit);
        self.guard.kill_group();
        let mut stdout = String::new();
        if let Some(mut out) = self.guard.child.stdout.take() {
            let _ = out.read_to_string(&mut stdout);
        }
        let mut rest = String::new();
        let _ = self.stderr.read_to_string(&mut rest);
        let status = status.unwrap_or_else(|| panic!("still running after {limit:?}: {rest}"));
        (status.code(), stdout, rest)
    }
}

/// Open `url` with the scripted browser (tests/support/browser.py), as the user would
/// on the machine with the browser; its exit status.
pub fn scripted_browser(url: &str, log: &Path) -> std::process::ExitStatus {
    let mut cmd = Command::new(python());
    cmd.arg(support("browser.py"))
        .arg("--log")
        .arg(log)
        .arg(url)
        .stdout(Stdio::null());
    let mut guard = GroupGuard::spawn(cmd);
    guard
        .wait_for(Duration::from_secs(60))
        .expect("the scripted browser ran over 60 s")
}

/// An executable `dir/name` that writes its argv to `dir/name.called` and does
/// nothing else (and fails): a program that must not be run.
pub fn spy(dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    let record = dir.join(format!("{name}.called"));
    std::fs::write(
        &path,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\nexit 1\n", record.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    record
}

/// PATH with `dir` first.
pub fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}
