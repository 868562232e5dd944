//! The console in browser profiles of its own, for tests: the stand-in for AWS's sign-in
//! host and console (`console_standin.py`, two made-up hosts under `aws.test` on one
//! loopback port), a `console_browser` wrapper that runs the real Chromium with
//! `--host-resolver-rules` mapping `*.aws.test` to that port, and a guard that kills every
//! browser process of the test's HOME (also when the test fails).
//!
//! How the made-up hosts are reached: the browser through the wrapper's resolver rules;
//! saml-login (which fetches the SigninToken itself) through `http_proxy` pointing at
//! the stand-in, which also answers a proxy's `CONNECT` and absolute-form requests. saml-login is told
//! the hosts by `SAML_LOGIN_FEDERATION_URL` and `SAML_LOGIN_CONSOLE_URL`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Env, Server, display_env, processes, repo, which};

/// A test's console world: its display Env (HOME, the stand-in's variables), the
/// stand-in, the wrapper, and where its screenshots go.
pub struct ConsoleWorld {
    pub env: Env,
    pub standin: Server,
    pub wrapper: PathBuf,
    pub out: PathBuf,
}

impl ConsoleWorld {
    /// A new world for the test called `name` (its screenshots go to
    /// `target/test-output/console_profiles/NAME/`), whose `~/.saml-login` has the
    /// wrapper as `console_browser` (and an IdP nothing asks, as no login is made).
    pub fn new(name: &str) -> ConsoleWorld {
        let standin = Server::python("console_standin.py", &[]);
        let env = display_env()
            .var(
                "SAML_LOGIN_FEDERATION_URL",
                "http://signin.aws.test/federation",
            )
            .var("SAML_LOGIN_CONSOLE_URL", "http://console.aws.test/")
            .var("http_proxy", standin.url.clone());
        let chromium = which("chromium").expect("chromium is installed (scripts/install-deps.sh)");
        let wrapper = env.write(
            "bin/console-chromium",
            &format!(
                "#!/bin/sh\nexec {} --no-sandbox --disable-gpu --password-store=basic \
                 --no-proxy-server --host-resolver-rules='MAP *.aws.test 127.0.0.1:{}' \
                 --window-size=1000,700 \"$@\"\n",
                chromium.display(),
                standin.port
            ),
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let out = repo()
            .join("target/test-output/console_profiles")
            .join(name);
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        ConsoleWorld {
            env,
            standin,
            wrapper,
            out,
        }
        .defaults("")
    }

    /// `~/.saml-login`'s `[DEFAULT]` with `lines` (`key = value`) after `console_browser`.
    pub fn defaults(self, lines: &str) -> Self {
        self.env.config(&format!(
            "[DEFAULT]\nidp_url = https://idp.example\nclient_id = c\nconsole_browser = {}\n{lines}",
            self.wrapper.display()
        ));
        self
    }

    /// Write `~/.aws/credentials`.
    pub fn credentials(self, text: &str) -> Self {
        self.env.write(".aws/credentials", text);
        self
    }

    /// The browser profile directory saml-login keeps for identity `name`.
    pub fn identity_dir(&self, name: &str) -> PathBuf {
        self.env.path(".local/share/saml-login/console").join(name)
    }

    /// Every request the stand-in saw, in order.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.standin.get("/requests")).unwrap()
    }

    /// Wait (at most `limit`) for a request `pick` accepts; panics naming what was seen.
    pub fn wait_for_request(
        &self,
        limit: Duration,
        what: &str,
        pick: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + limit;
        loop {
            let seen = self.requests();
            if let Some(found) = seen.iter().find(|r| pick(r)) {
                return found.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {limit:?}; the stand-in saw: {seen:#?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Open `url` in the browser of profile directory `dir` the way a person would (the
    /// wrapper; a browser already running on `dir` gets it as a new tab).
    pub fn open_in(&self, dir: &Path, url: &str) {
        let status = self
            .env
            .command(&self.wrapper)
            .arg(format!("--user-data-dir={}", dir.display()))
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(|mut c| {
                // A browser already running on `dir` takes the URL and this one ends;
                // otherwise it is the browser (killed with the others by the guard).
                let until = Instant::now() + Duration::from_secs(5);
                while Instant::now() < until {
                    if let Ok(Some(_)) = c.try_wait() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        status.unwrap();
    }

    /// A screenshot of the whole display into the output folder, as `name`.png.
    pub fn screenshot(&self, name: &str) {
        let file = self.out.join(format!("{name}.png"));
        let display = self
            .env
            .vars
            .iter()
            .find(|(k, _)| k == "DISPLAY")
            .map(|(_, v)| v.clone())
            .unwrap();
        let ok = std::process::Command::new("import")
            .args(["-display", &display, "-window", "root"])
            .arg(&file)
            .status()
            .expect("ImageMagick's import is installed (scripts/install-deps.sh)")
            .success();
        assert!(ok && file.is_file(), "no screenshot at {}", file.display());
    }
}

/// The pids and command lines (read from `/proc/PID/cmdline`, NUL-separated arguments
/// joined by spaces) of the live browser processes of `env`: those whose arguments
/// name its HOME (the profiles saml-login keeps there, the crash handler's database),
/// and their descendants.
pub fn browsers_of(env: &Env) -> Vec<(u32, String)> {
    let home = env.home.path().display().to_string();
    let all = processes();
    let mut pids: std::collections::BTreeSet<u32> = all
        .iter()
        .filter(|p| p.cmd.contains(&home) && (p.cmd.contains("chrom") || p.cmd.contains("firefox")))
        .map(|p| p.pid)
        .collect();
    loop {
        let before = pids.len();
        for p in &all {
            if p.parent.is_some_and(|parent| pids.contains(&parent)) {
                pids.insert(p.pid);
            }
        }
        if pids.len() == before {
            break;
        }
    }
    pids.into_iter()
        .filter_map(|pid| {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmd = raw
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            Some((pid, cmd))
        })
        .collect()
}

/// Kills every browser process of an Env's HOME when dropped (on success and failure),
/// then checks within 10 s that none is left.
pub struct BrowserGuard<'a>(pub &'a Env);

impl Drop for BrowserGuard<'_> {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = browsers_of(self.0);
            if left.is_empty() {
                return;
            }
            for (pid, _) in &left {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .stderr(std::process::Stdio::null())
                    .status();
            }
            if Instant::now() >= deadline {
                if !std::thread::panicking() {
                    panic!("browser processes left after 10 s: {left:?}");
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
