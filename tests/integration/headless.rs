//! `--headless`: real Debian Chromium driven through DevTools, with cookie jars, the
//! service-account login, and the shared pipeline ending at moto's STS.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::*;

const SESSION: &str = "valid-session-0123456789";

fn netscape_jar(value: &str) -> String {
    format!(
        "# Netscape HTTP Cookie File\n#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tidp_session\t{value}\n"
    )
}

fn private(env: &Env, rel: &str, text: &str) -> std::path::PathBuf {
    let p = env.write(rel, text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p
}

/// A test's world with a TMPDIR of its own: its Chromium profiles, and so its Chromium
/// processes (each names its profile), are told apart from any other run's.
fn headless_env() -> Env {
    let env = Env::new();
    let tmp = env.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    env.var("TMPDIR", tmp.display().to_string())
}

/// The live Chromium processes of `env`'s runs: each names the run's profile (in its
/// TMPDIR) or, for the crash handlers Chromium double-forks, its HOME.
fn chromium_left(env: &Env) -> Vec<String> {
    chromium_of(env)
}

/// Asserts that no Chromium process of `env`'s runs is left (within 10 s: the crash
/// handlers notice the browser's exit on their own).
fn assert_no_chromium_left(env: &Env) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !chromium_left(env).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(chromium_left(env).is_empty(), "{:#?}", chromium_left(env));
}

/// Both builds of Chromium the headless tests run with: the headless shell and full
/// Chromium (scripts/install-deps.sh installs both).
fn both_chromiums() -> [std::path::PathBuf; 2] {
    ["chromium-headless-shell", "chromium"].map(|name| {
        which(name).unwrap_or_else(|| {
            panic!("{name} is required for these tests (Debian: apt-get install {name})")
        })
    })
}

/// Runs `test` with each Chromium build, chosen through `CHROME`.
fn with_each_chromium(test: impl Fn(&str)) {
    for chrome in both_chromiums() {
        eprintln!("with CHROME={}", chrome.display());
        test(&chrome.to_string_lossy());
    }
}

/// Chromium runs every login of this module (`headless_mode = chromium`): with a valid
/// jar, `auto` would answer without it (tests/integration/browserless.rs).
fn headless_config(idp: &Server, port: u16) -> String {
    format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\nheadless_mode = chromium\ntimeout = 60\n\n[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
        idp.url
    )
}

#[test]
fn cookie_jar_login_ends_in_credentials_moto_accepts_while_port_is_taken() {
    let _serial = serial();
    let moto = moto();
    with_each_chromium(|chrome| cookie_jar_login_with(chrome, &moto));
}

fn cookie_jar_login_with(chrome: &str, moto: &Server) {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--session-cookie", SESSION, "--callback", &callback]);
    let env = headless_env().sts(moto).var("CHROME", chrome);
    env.config(&headless_config(&idp, port));
    let jar = private(&env, "jar.txt", &netscape_jar(SESSION));

    env.cmd()
        .args(["-c", "dev", "--cookies"])
        .arg(&jar)
        .arg("aws-assume-role")
        .ran()
        .success();
    assert_eq!(
        caller_identity(moto, &env.credentials_path(), "dev"),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
    assert_eq!(idp.stat("login_posts"), 0);
    holder.set_nonblocking(true).unwrap();
    assert!(
        holder.accept().is_err(),
        "nothing reached the callback port"
    );
    assert_no_chromium_left(&env);
}

#[test]
fn json_jar_from_the_environment() {
    let _serial = serial();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--session-cookie", SESSION, "--callback", &callback]);
    let env = headless_env().var(
        "SAML_LOGIN_COOKIES",
        format!(
            "{{\"cookies\": [{{\"name\": \"idp_session\", \"value\": \"{SESSION}\", \"domain\": \"127.0.0.1\", \"path\": \"/\", \"expires\": -1, \"httpOnly\": true, \"secure\": false, \"sameSite\": \"Lax\"}}], \"origins\": []}}"
        ),
    );
    env.config(&headless_config(&idp, port));
    let out = env.cmd().arg("get-token").ran().success().out;
    // Exactly the IdP's response for this callback, on one line.
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(token.lines().count(), 1, "{token}");
    let xml = decode_saml(&token);
    assert_eq!(xml.matches("<samlp:Response ").count(), 1, "{xml}");
    assert!(
        xml.contains(&format!("Destination=\"{callback}\"")),
        "{xml}"
    );
    assert!(xml.contains(&format!("{ROLE},{PROVIDER}")), "{xml}");
    assert_no_chromium_left(&env);
}

#[test]
fn password_login_then_saved_jar_needs_no_password() {
    let _serial = serial();
    with_each_chromium(password_login_then_saved_jar_with);
}

fn password_login_then_saved_jar_with(chrome: &str) {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--callback", &callback, "--user", "robot:s3cret-Pa55"]);
    let env = headless_env()
        .var("CHROME", chrome)
        .var("SAML_LOGIN_USERNAME", "robot")
        .var("SAML_LOGIN_PASSWORD", "s3cret-Pa55");
    env.config(&headless_config(&idp, port));
    let saved = env.path("ci/jar.txt");
    std::fs::create_dir_all(saved.parent().unwrap()).unwrap();

    let out = env
        .cmd()
        .args(["--verbose", "--save-cookies"])
        .arg(&saved)
        .arg("get-token")
        .ran()
        .success()
        .stderr_lacks("s3cret-Pa55");
    let jar = std::fs::read_to_string(&saved).unwrap();
    assert!(jar.contains("\tidp_session\t"), "{jar}");
    let cookie_value = jar
        .lines()
        .find(|l| l.contains("idp_session"))
        .unwrap()
        .rsplit('\t')
        .next()
        .unwrap();
    out.stderr_lacks(cookie_value);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(idp.stat("login_posts"), 2);

    // Second run: the saved jar alone, no password in the environment.
    let env2 = headless_env().var("CHROME", chrome);
    env2.config(&headless_config(&idp, port));
    env2.cmd()
        .arg("--cookies")
        .arg(&saved)
        .arg("get-token")
        .ran()
        .success();
    assert_eq!(idp.stat("login_posts"), 2, "no new login");
}

#[test]
fn expired_session_fails_fast_and_leaves_no_chromium() {
    let _serial = serial();
    with_each_chromium(expired_session_with);
}

fn expired_session_with(chrome: &str) {
    let port = free_port();
    let idp = idp(&[]);
    let env = headless_env().var("CHROME", chrome);
    env.config(&headless_config(&idp, port));
    let jar = private(&env, "jar.txt", &netscape_jar("expired-value"));
    let started = Instant::now();
    let out = env.cmd().arg("--cookies").arg(&jar).arg("get-token").ran();
    let elapsed = started.elapsed();
    out.code(1)
        .stderr_has("the stored IdP session has expired")
        .stderr_has("--save-cookies")
        .stderr_lacks("expired-value");
    assert!(
        elapsed < Duration::from_secs(20),
        "took {elapsed:?} with a 60 s timeout"
    );
    assert_no_chromium_left(&env);
}

#[test]
fn loose_jar_permissions_refused() {
    let env = Env::new();
    let idp = idp(&[]);
    env.config(&headless_config(&idp, free_port()));
    let jar = env.write("jar.txt", &netscape_jar(SESSION));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&jar, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    env.cmd()
        .arg("--cookies")
        .arg(&jar)
        .arg("get-token")
        .ran()
        .code(1)
        .stderr_has("readable by group or others")
        .stderr_has("chmod 600");
    assert_eq!(idp.stat("samlp"), 0, "no login attempted");
}

/// `--show-browser` needs a window, which the headless shell has not: with only the
/// shell installed, the run says so instead of waiting for a window that never comes.
#[cfg(unix)]
#[test]
fn show_browser_with_only_the_headless_shell_asks_for_full_chromium() {
    let [shell, _] = both_chromiums();
    let env = Env::new();
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(&shell, bin.join("chromium-headless-shell")).unwrap();
    let env = env.var("PATH", bin.to_string_lossy());
    let idp = idp(&[]);
    env.config(&headless_config(&idp, free_port()));
    env.call(&["--show-browser", "get-token"])
        .code(1)
        .stderr_has("--show-browser needs a window")
        .stderr_has("apt-get install chromium");
    assert_eq!(idp.stat("samlp"), 0, "no login attempted");
}

/// The `chrome` setting chooses the binary (over `CHROME`), as `--chrome` does.
#[test]
fn chrome_setting_chooses_the_binary() {
    let env = Env::new().var("CHROME", "/nonexistent/from-the-variable");
    let idp = idp(&[]);
    env.config(&headless_config(&idp, free_port()).replace(
        "timeout = 60\n",
        "timeout = 60\nchrome = /nonexistent/from-the-setting\n",
    ));
    env.call(&["get-token"])
        .code(1)
        .stderr_has("/nonexistent/from-the-setting");
}

#[test]
fn missing_chromium_says_how_to_install() {
    let env = Env::new().var("CHROME", "/nonexistent/chromium");
    let idp = idp(&[]);
    env.config(&headless_config(&idp, free_port()));
    env.call(&["get-token"])
        .code(1)
        .stderr_has("/nonexistent/chromium");
}

/// `saml-login get-token` in `env`, running in the background in a process group of
/// its own (with its Chromium), its output discarded; the whole group is killed when
/// the guard drops, also when the test fails.
fn spawn_get_token(env: &Env) -> GroupGuard {
    let mut cmd = env.saml_login();
    cmd.arg("get-token")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    GroupGuard::spawn(cmd)
}

/// A headless login whose IdP posts a foreign `RelayState`: refused in the browser, so
/// the run waits until it times out after `timeout` seconds (exit 4). The callback's
/// port is held by the returned listener, so a forged POST that leaked out of the
/// browser would be seen there.
fn forged_relay_state_login(timeout: u32) -> (Server, Env, TcpListener) {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    holder.set_nonblocking(true).unwrap();
    let port = holder.local_addr().unwrap().port();
    let idp = forging_idp(&format!("http://localhost:{port}/saml"));
    let env = headless_env();
    env.config(
        &headless_config(&idp, port).replace("timeout = 60", &format!("timeout = {timeout}")),
    );
    (idp, env, holder)
}

/// The refusal is what ends in exit 4: the forged POST reached the interception (the
/// refusal line names why), nothing reached the port behind it, and the wait went on
/// until the timeout.
#[test]
fn foreign_relay_state_is_refused_and_the_wait_goes_on() {
    let _serial = serial();
    let (idp, env, holder) = forged_relay_state_login(5);
    let started = Instant::now();
    let out = env.call(&["get-token"]).code(4);
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "the wait lasted the whole timeout"
    );
    out.stdout_empty()
        .stderr_has(
            "saml-login: warning: refused a callback request: its RelayState is not the one we sent; still waiting\n",
        )
        .stderr_has("no login completed within 5 s");
    assert_eq!(idp.stat("samlp"), 1, "the IdP page was loaded");
    assert!(
        holder.accept().is_err(),
        "the forged POST leaked to the port on 127.0.0.1"
    );
    assert_no_chromium_left(&env);
}

/// Inodes of the TCP sockets in the LISTEN state (IPv4 and IPv6).
#[cfg(target_os = "linux")]
fn listening_inodes() -> std::collections::HashSet<String> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|t| {
            t.lines()
                .skip(1)
                .filter_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    (f.get(3) == Some(&"0A")).then(|| f.get(9).map(|s| s.to_string()))?
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The Chromium processes of `env`'s runs: (cmdline, socket inodes they hold).
#[cfg(target_os = "linux")]
fn chromium_sockets(env: &Env) -> Vec<(String, Vec<String>)> {
    let ours = env.path("tmp/saml-login-chromium-").display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if !cmd.contains(&ours) {
                return None;
            }
            let sockets = std::fs::read_dir(e.path().join("fd"))
                .map(|fds| {
                    fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                        .filter_map(|l| {
                            let l = l.to_string_lossy().to_string();
                            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some((cmd, sockets))
        })
        .collect()
}

/// DevTools travels over a pipe: during a whole login (one held open by a refused
/// callback until the timeout) no Chromium process of the run listens on any TCP port,
/// so no other local user can connect to the logged-in browser.
#[cfg(target_os = "linux")]
#[test]
fn chromium_listens_on_no_port_devtools_goes_over_a_pipe() {
    let _serial = serial();
    let (_idp, env, _port) = forged_relay_state_login(4);
    let mut child = spawn_get_token(&env);
    let mut samples_with_chromium = 0;
    let mut processes_seen = 0;
    let started = Instant::now();
    while child.child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "a 4 s login still runs after 60 s"
        );
        let listening = listening_inodes();
        let chromium = chromium_sockets(&env);
        for (cmd, sockets) in &chromium {
            assert!(
                !cmd.contains("--remote-debugging-port"),
                "Chromium was given a DevTools port: {cmd}"
            );
            let listens: Vec<_> = sockets.iter().filter(|s| listening.contains(*s)).collect();
            assert!(listens.is_empty(), "a Chromium process listens: {cmd}");
        }
        if chromium
            .iter()
            .any(|(cmd, _)| cmd.contains("--remote-debugging-pipe"))
        {
            samples_with_chromium += 1;
            processes_seen = processes_seen.max(chromium.len());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        child.child.wait().unwrap().code(),
        Some(4),
        "the login times out"
    );
    assert!(
        samples_with_chromium >= 10 && processes_seen >= 2,
        "Chromium was seen in {samples_with_chromium} samples, at most {processes_seen} processes"
    );
    assert_no_chromium_left(&env);
}

/// saml-login killed with SIGKILL cannot clean up, but its Chromium must not outlive
/// it (the DevTools pipe closes with the process, and Chromium exits on that), and the
/// next headless run removes the profile it left, which holds the IdP session, while
/// leaving a live run's profile and other names alone.
#[test]
fn after_a_sigkill_chromium_exits_and_the_next_run_removes_its_profile() {
    let _serial = serial();
    let (idp, env, _port) = forged_relay_state_login(30);
    let tmp = env.path("tmp");
    let mut child = spawn_get_token(&env);
    // Wait until the login page is up (Chromium asked the IdP for it; the headless
    // shell's renderer does not name the profile on its command line).
    let up = Instant::now();
    while idp.stat("samlp") == 0 {
        // The guard kills the run when this fails.
        assert!(
            up.elapsed() < Duration::from_secs(20),
            "Chromium did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.child.kill().unwrap();
    child.child.wait().unwrap();
    let killed = Instant::now();
    while !chromium_left(&env).is_empty() {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "Chromium outlived saml-login: {:?}",
            chromium_left(&env)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let names = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let prefix = format!("saml-login-chromium-{}-", child.id());
    let left = names();
    assert!(
        left.iter().any(|n| n.starts_with(&prefix)),
        "the killed run's profile: {left:?}"
    );
    // A live process's profile (this test's PID) and a name without a PID stay.
    let live = format!("saml-login-chromium-{}-live", std::process::id());
    std::fs::create_dir(tmp.join(&live)).unwrap();
    std::fs::create_dir(tmp.join("saml-login-chromium-old")).unwrap();

    let mut next = spawn_get_token(&env);
    std::thread::sleep(Duration::from_secs(3));
    next.child.kill().unwrap();
    next.child.wait().unwrap();
    let killed = Instant::now();
    while !chromium_left(&env).is_empty() && killed.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = names();
    assert!(
        !after.iter().any(|n| n.starts_with(&prefix)),
        "the next run did not remove the killed run's profile: {after:?}"
    );
    assert!(after.contains(&live), "{after:?}");
    assert!(
        after.contains(&"saml-login-chromium-old".to_string()),
        "{after:?}"
    );
}

/// A process seen in /proc: its start time (so a reused id is not mistaken for it), and
/// whether it is still running (not a zombie).
#[cfg(target_os = "linux")]
fn process_start(pid: u32) -> Option<(String, bool)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some((fields[19].to_string(), fields[0] != "Z"))
}

/// The processes descending from `root`, with their start times.
#[cfg(target_os = "linux")]
fn descendants(root: u32) -> Vec<(u32, String)> {
    let parents: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            Some((pid, fields[1].parse().ok()?, fields[19].to_string()))
        })
        .collect();
    let mut found = vec![root];
    let mut out = Vec::new();
    while let Some(parent) = found.pop() {
        for (pid, ppid, start) in &parents {
            if *ppid == parent {
                found.push(*pid);
                out.push((*pid, start.clone()));
            }
        }
    }
    out
}

/// When a headless run exits, no process it started is running (Chromium and all its
/// helpers: the shell's helpers do not name the profile on their command line, so they
/// are tracked as the run's descendants), with either build.
#[cfg(target_os = "linux")]
#[test]
fn no_process_of_a_headless_run_outlives_it() {
    let _serial = serial();
    with_each_chromium(|chrome| {
        let port = free_port();
        let callback = format!("http://localhost:{port}/saml");
        let idp = idp(&["--session-cookie", SESSION, "--callback", &callback]);
        let env = Env::new().var("CHROME", chrome);
        env.config(&headless_config(&idp, port));
        let jar = private(&env, "jar.txt", &netscape_jar(SESSION));
        let mut child = env
            .saml_login()
            .arg("--cookies")
            .arg(&jar)
            .arg("get-token")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut seen = std::collections::HashMap::new();
        let started = Instant::now();
        let status = loop {
            for (pid, start) in descendants(child.id()) {
                seen.insert(pid, start);
            }
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the run hangs");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(status.success());
        assert!(
            seen.len() >= 3,
            "Chromium and its helpers were seen: {seen:?}"
        );
        // Zombies are left to their parent: full Chromium's crash handlers leave its
        // process group and belong to PID 1 from the start.
        let running: Vec<_> = seen
            .iter()
            .filter(|(pid, start)| process_start(**pid) == Some(((*start).clone(), true)))
            .map(|(pid, _)| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default()
            })
            .collect();
        assert!(
            running.is_empty(),
            "still running after the run (/proc/PID/stat): {running:?}"
        );
    });
}

/// The headless shell opens no tab of its own: a login that waited for one took 10 s
/// (a 10 s wait for a first tab), where the shell itself starts and loads a page in a
/// fraction of a second.
#[test]
fn headless_shell_login_does_not_wait_for_a_first_tab() {
    let _serial = serial();
    let [shell, _] = both_chromiums();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--session-cookie", SESSION, "--callback", &callback]);
    let env = Env::new().var("CHROME", shell.to_string_lossy());
    env.config(&headless_config(&idp, port));
    let jar = private(&env, "jar.txt", &netscape_jar(SESSION));
    let started = Instant::now();
    let out = env
        .cmd()
        .arg("--cookies")
        .arg(&jar)
        .arg("get-token")
        .output()
        .unwrap();
    let took = started.elapsed();
    Ran::from(out).success();
    assert!(took < Duration::from_secs(5), "the login took {took:?}");
}
