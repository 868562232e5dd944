//! [`Env`]: one test's temporary HOME and the environment saml-login runs in.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{Server, python, support};

/// Where an [`Env`]'s temporary directory is, under its HOME.
const TMP: &str = "tmp";

/// One test's world: a temporary HOME and the environment saml-login runs in.
pub struct Env {
    pub home: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
}

impl Env {
    pub fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let path = std::env::var("PATH").unwrap_or_default();
        // The temporary directory of everything run in this world is its own, inside
        // HOME: what a run leaves there is this test's, and nothing is left outside.
        let tmp = home.path().join(TMP);
        std::fs::create_dir(&tmp).unwrap();
        let tmp = tmp.display().to_string();
        let mut vars: Vec<(String, String)> = vec![
            ("HOME".into(), home.path().display().to_string()),
            // Windows reads the home from USERPROFILE first (as the AWS CLI does).
            ("USERPROFILE".into(), home.path().display().to_string()),
            ("PATH".into(), path),
            ("LANG".into(), "C.UTF-8".into()),
            ("NO_COLOR".into(), "1".into()),
            ("TMPDIR".into(), tmp.clone()),
            ("TEMP".into(), tmp.clone()),
            ("TMP".into(), tmp),
            // Nothing of the machine's AWS setup leaks in.
            (
                "AWS_CONFIG_FILE".into(),
                home.path().join(".aws/config").display().to_string(),
            ),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            // No session bus: with none set, the keyring client would try
            // /run/user/UID/bus, the desktop's real keyring (the keyring tests start a
            // private one where they need one).
            (
                "DBUS_SESSION_BUS_ADDRESS".into(),
                "unix:path=/nonexistent/saml-login-tests-have-no-session-bus".into(),
            ),
        ];
        // What Windows cannot run a program without (Winsock needs SYSTEMROOT, `cmd`
        // COMSPEC, a PATH search PATHEXT); unset elsewhere, so nothing is added there.
        for key in ["SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT"] {
            if let Ok(value) = std::env::var(key) {
                vars.push((key.into(), value));
            }
        }
        Env { vars, home }
    }

    /// This world's temporary directory (`TMPDIR`, `TEMP`, `TMP`), inside its HOME.
    pub fn tmp(&self) -> PathBuf {
        self.path(TMP)
    }

    pub fn var(mut self, key: &str, value: impl Into<String>) -> Self {
        self.vars.push((key.into(), value.into()));
        self
    }

    /// Point STS at `server`.
    pub fn sts(self, server: &Server) -> Self {
        self.var("AWS_ENDPOINT_URL_STS", server.url.clone())
    }

    /// Use browser.py as the system browser, with extra arguments.
    pub fn test_browser(self, args: &str) -> Self {
        let cmd = format!("{} {} {args} %s", python(), support("browser.py").display());
        self.var("BROWSER", cmd)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.home.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Write ~/.saml-login.
    pub fn config(&self, text: &str) -> &Self {
        self.write(".saml-login", text);
        self
    }

    pub fn credentials_path(&self) -> PathBuf {
        self.path(".aws/credentials")
    }

    pub fn credentials(&self) -> String {
        std::fs::read_to_string(self.credentials_path()).unwrap_or_default()
    }

    /// `program` as a plain `std::process::Command` with this environment only, for
    /// children run in the background or under another program.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// saml-login as a plain `std::process::Command` (see [`Env::command`]).
    pub fn saml_login(&self) -> Command {
        self.command(assert_cmd::cargo::cargo_bin("saml-login"))
    }

    /// Run saml-login with `args`, which must succeed; its stderr.
    pub fn ok(&self, args: &[&str]) -> String {
        self.call(args).success().stderr()
    }

    /// The saml-login binary in this world.
    pub fn cmd(&self) -> assert_cmd::Command {
        self.cmd_for("saml-login")
    }

    /// One of the project's binaries (`saml-login`, `pkce-login`, `aws-console`) in
    /// this world, with a 120 s limit.
    pub fn cmd_for(&self, bin: &str) -> assert_cmd::Command {
        let mut cmd =
            assert_cmd::Command::from_std(self.command(assert_cmd::cargo::cargo_bin(bin)));
        cmd.timeout(Duration::from_secs(120));
        cmd
    }
}

/// A world with the display the suite runs under (`DISPLAY`, `XAUTHORITY`), for the
/// webview and browser windows; its absence is a failure, not a skip.
pub fn display_env() -> Env {
    let display = std::env::var("DISPLAY")
        .expect("these tests need DISPLAY: run them under xvfb-run (scripts/test.sh does)");
    let mut env = Env::new().var("DISPLAY", display);
    if let Ok(auth) = std::env::var("XAUTHORITY") {
        env = env.var("XAUTHORITY", auth);
    }
    env
}
