//! Logging in from a shell whose browser is elsewhere (issue 31): `--no-browser` (and
//! `browser = none`, `SAML_LOGIN_BROWSER=none`) prints the URL and how to forward the
//! callback and opens nothing; over SSH without a display saml-login chooses that by
//! itself; a busy port is never swapped for another; a real SSH forward (sshd in a
//! private network namespace) carries the callback; under WSL, Windows' browser is
//! opened through fakes of `wslview`, `powershell.exe` and `cmd.exe` that record their
//! argv and stdin. Linux only (network namespaces, `/proc`).
#![cfg(target_os = "linux")]

use std::time::Duration;

use crate::support::remote::{PrintedLogin, path_with, scripted_browser, spy};
use crate::support::*;

/// The programs a system browser could be opened with on Linux: none may run.
const OPENERS: &[&str] = &[
    "xdg-open",
    "x-www-browser",
    "sensible-browser",
    "www-browser",
    "gio",
];

/// A world whose every browser opener is a spy: `BROWSER` too when `browser_var`.
fn spied_env(browser_var: bool) -> (Env, Vec<std::path::PathBuf>) {
    let env = Env::new();
    let dir = env.path("spies");
    let mut records: Vec<_> = OPENERS.iter().map(|name| spy(&dir, name)).collect();
    let mut env = env.var("PATH", path_with(&dir));
    if browser_var {
        records.push(spy(&dir, "spy-browser"));
        let browser = dir.join("spy-browser").display().to_string();
        env = env.var("BROWSER", browser);
    }
    (env, records)
}

fn relay_state(url: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "RelayState")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no RelayState in {url}"))
}

/// `--no-browser`, `SAML_LOGIN_BROWSER=none` and `browser = none`: a spy BROWSER (and
/// every other opener) is never run, the URL is printed with the forward to make, it is
/// on no command line, and the printed URL opened elsewhere completes the login.
#[test]
fn no_browser_opens_nothing_and_the_printed_url_completes_the_login() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let base = config_for(&idp, port).replace("browser = system\n", "");
    for way in ["--no-browser", "SAML_LOGIN_BROWSER=none", "browser = none"] {
        let (env, spies) = spied_env(true);
        let mut args = vec!["get-token"];
        let env = match way {
            "--no-browser" => {
                args.insert(0, way);
                env.config(&base);
                env
            }
            "SAML_LOGIN_BROWSER=none" => {
                env.config(&base);
                env.var("SAML_LOGIN_BROWSER", "none")
            }
            _ => {
                env.config(&format!("{base}browser = none\n"));
                env
            }
        };
        let mut cmd = env.saml_login();
        cmd.args(&args);
        let login = PrintedLogin::spawn(cmd);
        assert!(
            login
                .text
                .contains(&format!("\n  ssh -L {port}:127.0.0.1:{port} HOST\n")),
            "{way}: {}",
            login.text
        );
        assert!(
            !login.text.contains("No browser opened"),
            "{way}: {}",
            login.text
        );
        let state = relay_state(&login.url);
        let on_command_lines: Vec<String> = processes()
            .into_iter()
            .filter(|p| p.cmd.contains(&state))
            .map(|p| p.cmd)
            .collect();
        assert!(on_command_lines.is_empty(), "{way}: {on_command_lines:?}");
        let log = env.path("browser.log");
        assert!(scripted_browser(&login.url, &log).success(), "{way}");
        let (code, stdout, stderr) = login.finish(Duration::from_secs(60));
        assert_eq!(code, Some(0), "{way}: {stderr}");
        assert!(decode_saml(stdout.trim()).contains(ROLE), "{way}");
        for record in &spies {
            assert!(!record.exists(), "{way}: {} was run", record.display());
        }
    }
}

/// pkce-login takes `--no-browser` too: the URL and the forward of its own callback port.
#[test]
fn pkce_login_takes_no_browser() {
    let idp = idp(&["--auto-session"]);
    let port = free_port();
    let (env, spies) = spied_env(true);
    env.write(
        ".pkce-login",
        &format!(
            "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\ntimeout = 60\n",
            idp.url
        ),
    );
    let mut cmd = env.command(assert_cmd::cargo::cargo_bin("pkce-login"));
    cmd.args(["--no-browser", "get-id-jwt"]);
    let login = PrintedLogin::spawn(cmd);
    assert!(
        login
            .text
            .contains(&format!("ssh -L {port}:127.0.0.1:{port} HOST")),
        "{}",
        login.text
    );
    assert!(login.url.contains("/authorize?"), "{}", login.url);
    assert!(scripted_browser(&login.url, &env.path("browser.log")).success());
    let (code, stdout, stderr) = login.finish(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
    let response: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(response["id_token"].is_string(), "{stdout}");
    for record in &spies {
        assert!(!record.exists(), "{} was run", record.display());
    }
}

/// Over SSH (`SSH_CONNECTION`) with no display and no `BROWSER`, nothing configured:
/// one line says why no browser opens, the forward names the host the client reached,
/// and the login completes from the printed URL.
#[test]
fn ssh_without_a_display_prints_the_url_by_itself() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let (env, spies) = spied_env(false);
    let env = env.var("SSH_CONNECTION", "192.0.2.9 40022 203.0.113.5 22");
    env.config(&config_for(&idp, port).replace("browser = system\n", ""));
    let mut cmd = env.saml_login();
    cmd.arg("get-token");
    let login = PrintedLogin::spawn(cmd);
    let why: Vec<&str> = login
        .text
        .lines()
        .filter(|l| l.starts_with("No browser opened: over SSH without a display"))
        .collect();
    assert_eq!(why.len(), 1, "{}", login.text);
    assert!(
        login
            .text
            .contains(&format!("\n  ssh -L {port}:127.0.0.1:{port} 203.0.113.5\n")),
        "{}",
        login.text
    );
    assert!(scripted_browser(&login.url, &env.path("browser.log")).success());
    let (code, stdout, stderr) = login.finish(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(decode_saml(stdout.trim()).contains(ROLE));
    for record in &spies {
        assert!(!record.exists(), "{} was run", record.display());
    }
}

/// The port given is the port used: when it is busy (here, as an SSH forward of the
/// same number would hold it), the login stops with the port named and the forwarding
/// case explained; no URL is printed and no other port is taken.
#[test]
fn a_busy_fixed_port_is_never_swapped_and_names_the_ssh_forward() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let idp = idp(&["--auto-session"]);
    let (env, _) = spied_env(false);
    env.config(&config_for(&idp, port));
    env.call(&[
        "--no-browser",
        "--listen-port",
        &port.to_string(),
        "get-token",
    ])
    .code(1)
    .stderr_starts(&format!(
        "saml-login: error: port {port} on 127.0.0.1 is already in use"
    ))
    .stderr_has(&format!(
        "SSH forward (`ssh -L {port}:127.0.0.1:{port} HOST`)"
    ))
    .stderr_lacks("Open this URL");
}

/// A real SSH session: saml-login runs on "the server" (sshd in a private network
/// namespace, reached over `ssh -L PORT:127.0.0.1:PORT`), chooses by itself to print
/// the URL (sshd set SSH_CONNECTION; no display), names the host the client reached;
/// the scripted browser on "the laptop" (this namespace) posts to the forwarded port,
/// and the login completes on the server.
#[test]
fn a_real_ssh_forward_carries_the_callback_to_the_server() {
    use crate::support::ssh::{SshServer, sh_quote};
    let server = SshServer::start();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new();
    env.config(&config_for(&idp, port).replace("browser = system\n", ""));
    // saml-login's environment on the server: this world's, and what sshd sets.
    let vars: Vec<String> = env
        .vars
        .iter()
        .map(|(k, v)| format!("{k}={}", sh_quote(v)))
        .collect();
    let remote = format!(
        "env {} {} get-token",
        vars.join(" "),
        sh_quote(
            &assert_cmd::cargo::cargo_bin("saml-login")
                .display()
                .to_string()
        )
    );
    let login = PrintedLogin::spawn(server.ssh_forwarding(port, &remote));
    assert!(
        login
            .text
            .contains("No browser opened: over SSH without a display"),
        "{}\nsshd: {}",
        login.text,
        server.log()
    );
    assert!(
        login
            .text
            .contains(&format!("\n  ssh -L {port}:127.0.0.1:{port} 127.0.0.1\n")),
        "{}",
        login.text
    );
    let log = env.path("laptop-browser.log");
    assert!(scripted_browser(&login.url, &log).success());
    let (code, stdout, stderr) = login.finish(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}\nsshd: {}", server.log());
    assert!(decode_saml(stdout.trim()).contains(ROLE));
    let browser_log = std::fs::read_to_string(&log).unwrap();
    assert!(
        browser_log.contains(&format!("POST {callback}"))
            && browser_log.contains("callback answered 200"),
        "{browser_log}"
    );
    assert!(
        server
            .log()
            .contains(&format!("direct-tcpip: listen 127.0.0.1 port {port}"))
            || server.log().contains(&format!("port {port}")),
        "the POST did not go through sshd: {}",
        server.log()
    );
}

/// A WSL world: `WSL_DISTRO_NAME` when `by_variable`, the fakes of `tools` (and
/// `wslpath`) first on PATH, recording into `fakes.log`, opening with the scripted
/// browser; TMPDIR (where the forwarding page is written) holds `&`, `%`, `^` and a
/// quote, which must survive every opener. The login URL holds them too.
fn wsl_world(tools: &[&str], by_variable: bool) -> (Env, Server, String) {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new();
    let fakes = env.path("fakes");
    std::fs::create_dir_all(&fakes).unwrap();
    for tool in tools.iter().chain(&["wslpath"]) {
        std::os::unix::fs::symlink(support("wsl_fakes.py"), fakes.join(tool)).unwrap();
    }
    let tmp = env.path("tmp/odd&dir%PATH%^x'y");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let browser = format!(
        "{} {} --log {}",
        python(),
        support("browser.py").display(),
        env.path("browser.log").display()
    );
    let login_url = format!("{}/samlp/test-client?x=a%26b&y=50%25&z=^c", idp.url);
    let log = env_path(&env, "fakes.log");
    let mut env = env
        .var("PATH", path_with(&fakes))
        .var("FAKE_LOG", log)
        .var("FAKE_BROWSER", browser)
        .var("TMPDIR", tmp.display().to_string());
    if by_variable {
        env = env.var("WSL_DISTRO_NAME", "FakeDistro");
    }
    env.config(&format!(
        "{}login_url = {login_url}\n",
        config_for(&idp, port).replace("browser = system\n", "")
    ));
    (env, idp, login_url)
}

fn env_path(env: &Env, rel: &str) -> String {
    env.path(rel).display().to_string()
}

/// One run of a fake: its name, argv and stdin.
type FakeRun = (String, Vec<String>, String);

/// The fakes' runs, and the paths they opened.
fn fake_records(env: &Env) -> (Vec<FakeRun>, Vec<String>) {
    let text = std::fs::read_to_string(env.path("fakes.log")).unwrap_or_default();
    let mut runs = Vec::new();
    let mut opened = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(path) = v["opened"].as_str() {
            opened.push(path.to_owned());
            continue;
        }
        let argv = v["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        runs.push((
            v["tool"].as_str().unwrap().to_owned(),
            argv,
            v["stdin"].as_str().unwrap().to_owned(),
        ));
    }
    (runs, opened)
}

/// The login went through the Windows opener: the scripted browser fetched the login
/// URL with `&`, `%`, `^` intact and our RelayState, from the forwarding page; no
/// opener's argv or stdin held the RelayState or the login URL.
fn assert_wsl_login(env: &Env, login_url: &str, stdout: &str) {
    assert!(decode_saml(stdout.trim()).contains(ROLE));
    let browser_log = std::fs::read_to_string(env.path("browser.log")).unwrap();
    let fetched = browser_log
        .lines()
        .find_map(|l| l.strip_prefix("fetch http"))
        .map(|rest| format!("http{rest}"))
        .unwrap_or_else(|| panic!("{browser_log}"));
    assert!(
        fetched.starts_with(&format!("{login_url}&RelayState=")),
        "{fetched}"
    );
    let state = relay_state(&fetched);
    let (runs, opened) = fake_records(env);
    assert_eq!(opened.len(), 1, "{runs:?}");
    assert!(opened[0].contains("odd&dir%PATH%^x'y"), "{opened:?}");
    for (tool, argv, stdin) in &runs {
        for text in argv.iter().chain([stdin]) {
            assert!(
                !text.contains(&state) && !text.contains("samlp"),
                "{tool}: {text}"
            );
        }
    }
}

/// WSL (`WSL_DISTRO_NAME`), wslview failing: PowerShell opens the page, given on
/// stdin as a literal (`Start-Process -FilePath '...'`, the quote doubled); cmd.exe is
/// not run.
#[test]
fn wsl_opens_windows_browser_through_powershell() {
    let (env, _idp, login_url) = wsl_world(&["wslview", "powershell.exe", "cmd.exe"], true);
    let env = env.var("FAKE_FAIL", "wslview");
    let token = env.call(&["get-token"]).success().stdout();
    assert_wsl_login(&env, &login_url, &token);
    let (runs, _) = fake_records(&env);
    let tools: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(tools, ["wslview", "wslpath", "powershell.exe"], "{runs:?}");
    let (_, argv, stdin) = &runs[2];
    assert_eq!(argv, &["-NoProfile", "-NonInteractive", "-Command", "-"]);
    assert!(
        stdin.starts_with(r"Start-Process -FilePath '\\wsl.localhost\FakeDistro\")
            && stdin.contains(r"\odd&dir%PATH%^x''y\saml-login-open-")
            && stdin.ends_with("\\login.html'\n"),
        "{stdin}"
    );
}

/// WSL with only cmd.exe: `cmd.exe /c start "" PATH` with cmd's specials escaped by
/// carets (also `%`), and the login completes.
#[test]
fn wsl_falls_back_to_cmd_with_carets() {
    let (env, _idp, login_url) = wsl_world(&["cmd.exe"], true);
    let token = env.call(&["get-token"]).success().stdout();
    assert_wsl_login(&env, &login_url, &token);
    let (runs, _) = fake_records(&env);
    let tools: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(tools, ["wslpath", "cmd.exe"], "{runs:?}");
    let argv = &runs[1].1;
    assert_eq!(argv[..3], ["/c", "start", ""]);
    assert!(argv[3].contains("odd^&dir^%PATH^%^^x'y"), "{argv:?}");
}

/// WSL known only by the interop marker (no WSL variable): a private mount namespace
/// puts `/proc/sys/fs/binfmt_misc/WSLInterop` there; wslview is given the page's own
/// path and opens it.
#[test]
fn wsl_is_known_by_its_interop_marker_and_wslview_opens() {
    let (env, _idp, login_url) = wsl_world(&["wslview", "powershell.exe"], false);
    let mut cmd = env.command("unshare");
    cmd.args([
        "--mount",
        "sh",
        "-c",
        "mount -t tmpfs saml-login-test /proc/sys/fs/binfmt_misc && : > /proc/sys/fs/binfmt_misc/WSLInterop && exec \"$0\" get-token",
    ])
    .arg(assert_cmd::cargo::cargo_bin("saml-login"))
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let (out, _) = GroupGuard::spawn(cmd).output_within(Duration::from_secs(90));
    let token = Ran::from(out).success().stdout();
    assert_wsl_login(&env, &login_url, &token);
    let (runs, opened) = fake_records(&env);
    let tools: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(tools, ["wslview"], "{runs:?}");
    assert_eq!(runs[0].1, [opened[0].clone()]);
    assert!(opened[0].ends_with("/login.html"), "{opened:?}");
}

/// `--help` of both tools and the manual page name `--no-browser`.
#[test]
fn help_and_man_page_name_no_browser() {
    let env = Env::new();
    for bin in ["saml-login", "pkce-login"] {
        env.cmd_for(bin)
            .arg("--help")
            .ran()
            .stdout_has("--no-browser");
    }
    env.call(&["man"])
        .success()
        .stdout_has("\\-\\-no\\-browser")
        .stdout_has("SSH_CONNECTION");
}
