//! A real SSH server for the remote-shell tests: Debian's `sshd` on a loopback port of
//! a private network namespace (the "server"), with a throwaway host key and a key
//! authorized for this test only; the test's own namespace is the "laptop", whose ssh
//! client reaches the server's loopback through `nsenter` and a stdio relay.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{GroupGuard, python, support};

/// The port sshd listens on inside its namespace (nothing else is there).
const SSHD_PORT: u16 = 2222;

pub struct SshServer {
    dir: tempfile::TempDir,
    /// The namespace's `/proc/PID/ns/net` link, to find everything left inside.
    ns: String,
    pid: u32,
    _guard: GroupGuard,
}

fn keygen(path: &std::path::Path) {
    let status = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "saml-login-test",
            "-f",
        ])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen (openssh-client: scripts/install-deps.sh)");
    assert!(status.success());
}

impl SshServer {
    /// Start sshd in a new network namespace; returns once it listens.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let host_pub = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        std::fs::write(
            d.join("known_hosts"),
            format!("saml-login-test-server {host_pub}"),
        )
        .unwrap();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {SSHD_PORT}\nListenAddress 127.0.0.1\nHostKey {dir}/host_key\n\
                 AuthorizedKeysFile {dir}/authorized_keys\nPidFile none\nStrictModes no\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
                 AllowTcpForwarding local\nX11Forwarding no\nPrintMotd no\nLogLevel DEBUG1\n",
                dir = d.display()
            ),
        )
        .unwrap();
        // sshd's privilege separation directory (Debian's service makes it at start).
        std::fs::create_dir_all("/run/sshd").unwrap();
        let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("sshd (openssh-server: scripts/install-deps.sh)");
        let mut cmd = Command::new("unshare");
        cmd.args(["--net", "sh", "-c"])
            .arg(format!(
                "ip link set lo up && exec {sshd} -D -e -f '{}' 2>'{}'",
                d.join("sshd_config").display(),
                d.join("sshd.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let guard = GroupGuard::spawn(cmd);
        let pid = guard.id();
        let listening = format!(":{SSHD_PORT:04X} 00000000:0000 0A");
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let tcp = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
            if tcp.contains(&listening) {
                break;
            }
            let log = std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default();
            assert!(
                Instant::now() < until,
                "sshd did not listen within 30 s: {log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let ns = std::fs::read_link(format!("/proc/{pid}/ns/net"))
            .unwrap()
            .display()
            .to_string();
        Self {
            dir,
            ns,
            pid,
            _guard: guard,
        }
    }

    /// The laptop's `ssh -L PORT:127.0.0.1:PORT` to the server, running `remote` there.
    pub fn ssh_forwarding(&self, port: u16, remote: &str) -> Command {
        let d = self.dir.path();
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned();
        let proxy = format!(
            "nsenter --net=/proc/{}/ns/net {} {} 127.0.0.1 {SSHD_PORT}",
            self.pid,
            python(),
            support("stdio_relay.py").display()
        );
        let mut cmd = Command::new("ssh");
        cmd.args(["-F", "/dev/null", "-T", "-i"])
            .arg(d.join("client_key"))
            .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                d.join("known_hosts").display()
            ))
            .args([
                "-o",
                "HostKeyAlias=saml-login-test-server",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "ExitOnForwardFailure=yes",
                "-o",
                "ConnectTimeout=30",
            ])
            .arg("-o")
            .arg(format!("ProxyCommand={proxy}"))
            .arg("-L")
            .arg(format!("{port}:127.0.0.1:{port}"))
            .arg(format!("{user}@127.0.0.1"))
            .arg(remote)
            .stdin(Stdio::null());
        cmd
    }

    /// sshd's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for SshServer {
    /// Stop everything inside the server's namespace: sshd, its sessions and what they
    /// ran (a session leaves sshd's process group).
    fn drop(&mut self) {
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<i32>().ok())
            else {
                continue;
            };
            let same = std::fs::read_link(entry.path().join("ns/net"))
                .is_ok_and(|l| l.display().to_string() == self.ns);
            if same {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

/// `text` as one single-quoted sh word.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
