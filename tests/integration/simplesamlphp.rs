//! Proven on an IdP nobody here wrote: SimpleSAMLphp (Debian's package, see
//! `support/simplesamlphp.rs`) through the real binary, real STS (moto) and all three
//! browsers: headless Chromium filling SimpleSAMLphp's own login form, then its cookie
//! jar; the webview with the form typed by a real input tool (xdotool) under Xvfb, then
//! its remembered session; the system browser being a real Chromium window; and the
//! response captured at AWS's own sign-in endpoint (`callback_url = aws`).
//!
//! Linux only: Debian's SimpleSAMLphp, network namespaces, `xdotool` under Xvfb.

#![cfg(target_os = "linux")]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::netns::*;
use crate::support::simplesamlphp::*;
use crate::support::*;

const PASSWORD: &str = "Ssp-s3cret-Pa55";
const DEVELOPER: &str = "arn:aws:iam::123456789012:role/Developer,arn:aws:iam::123456789012:saml-provider/simplesamlphp";

/// The service account: one role (moto reads one Role value), in moto's account.
fn robot() -> SspUser {
    SspUser::new("robot", PASSWORD, &[DEVELOPER])
}

/// A person with several roles over two accounts, in an order that is not sorted.
fn multi() -> SspUser {
    SspUser::new(
        "multi",
        PASSWORD,
        &[
            "arn:aws:iam::210987654321:role/ops/Admin,arn:aws:iam::210987654321:saml-provider/simplesamlphp",
            DEVELOPER,
            "arn:aws:iam::210987654321:role/Auditor,arn:aws:iam::210987654321:saml-provider/simplesamlphp",
        ],
    )
}

/// SimpleSAMLphp posting to saml-login's loopback callback on `port`.
fn ssp_for_port(port: u16, users: Vec<SspUser>) -> SimpleSamlPhp {
    SimpleSamlPhp::start(&SspOptions::new(
        &format!("http://localhost:{port}/saml"),
        users,
    ))
}

/// A configuration for `ssp`: `[DEFAULT]` with its login URL, `[dev]` the Developer role.
fn config(ssp: &SimpleSamlPhp, port: u16, browser: &str, extra: &str) -> String {
    format!(
        "[DEFAULT]\nlogin_url = {}\nlisten_port = {port}\nbrowser = {browser}\ntimeout = 60\n{extra}\n\
         [dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
        ssp.login_url()
    )
}

/// `ran` succeeded and did not show the password.
fn success(ran: Ran) -> Ran {
    ran.success().stderr_lacks(PASSWORD)
}

fn robot_arn() -> &'static str {
    "arn:aws:sts::123456789012:assumed-role/Developer/robot@example.org"
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// ---------------------------------------------------------------------------------
// --headless
// ---------------------------------------------------------------------------------

#[test]
fn headless_fills_its_form_then_its_jar_alone_then_an_expired_session_fails_fast() {
    let _serial = serial();
    let moto = moto();
    let port = free_port();
    let ssp = ssp_for_port(port, vec![robot()]);

    // 1. The service account typed into SimpleSAMLphp's own login form.
    let env = Env::new()
        .sts(&moto)
        .var("SAML_LOGIN_USERNAME", "robot")
        .var("SAML_LOGIN_PASSWORD", PASSWORD);
    env.config(&config(&ssp, port, "headless", ""));
    let jar = env.path("ci/jar.txt");
    std::fs::create_dir_all(jar.parent().unwrap()).unwrap();
    let out = success(
        env.cmd()
            .args(["-c", "dev", "--verbose", "--save-cookies"])
            .arg(&jar)
            .arg("aws-assume-role")
            .ran(),
    );
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "dev"),
        robot_arn()
    );
    let saved = std::fs::read_to_string(&jar).unwrap();
    assert!(
        saved.contains("\tSimpleSAML\t"),
        "its own session cookie: {saved}"
    );
    let session = saved
        .lines()
        .find(|l| l.contains("\tSimpleSAML\t"))
        .unwrap()
        .rsplit('\t')
        .next()
        .unwrap();
    // The cookie never shows.
    out.stderr_lacks(session);
    #[cfg(unix)]
    assert_eq!(mode(&jar), 0o600);
    let sessions = ssp.sessions();

    // 2. The jar alone, no password anywhere: the IdP session is reused.
    let env2 = Env::new().sts(&moto);
    env2.config(&config(&ssp, port, "headless", ""));
    success(
        env2.cmd()
            .args(["-c", "dev", "--cookies"])
            .arg(&jar)
            .arg("aws-assume-role")
            .ran(),
    );
    assert_eq!(
        caller_identity(&moto, &env2.credentials_path(), "dev"),
        robot_arn()
    );
    assert_eq!(ssp.sessions(), sessions, "no new IdP session");

    // 3. The server ended the session: the jar names a session that no longer exists.
    assert!(ssp.expire_sessions() > 0);
    let started = Instant::now();
    let ran = env2
        .cmd()
        .args(["--no-cache", "--cookies"])
        .arg(&jar)
        .arg("get-token")
        .ran();
    let elapsed = started.elapsed();
    ran.code(1).stderr_has("the stored IdP session has expired");
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}

#[test]
fn headless_wrong_password_is_rejected_within_seconds() {
    let _serial = serial();
    let port = free_port();
    let ssp = ssp_for_port(port, vec![robot()]);
    let env = Env::new()
        .var("SAML_LOGIN_USERNAME", "robot")
        .var("SAML_LOGIN_PASSWORD", "not-the-password");
    env.config(&config(&ssp, port, "headless", "").replace("timeout = 60", "timeout = 300"));
    let started = Instant::now();
    let ran = env.call(&["get-token"]);
    let elapsed = started.elapsed();
    ran.code(1)
        .stderr_has("the IdP rejected the login of `robot`")
        .stderr_has("Incorrect username or password")
        .stderr_lacks("not-the-password");
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}

#[test]
fn show_lists_the_roles_in_the_order_simplesamlphp_sends_them() {
    let _serial = serial();
    let port = free_port();
    let ssp = ssp_for_port(port, vec![multi()]);
    let env = Env::new()
        .var("SAML_LOGIN_USERNAME", "multi")
        .var("SAML_LOGIN_PASSWORD", PASSWORD);
    env.config(&config(&ssp, port, "headless", ""));
    env.write(".aws-accounts", "[DEFAULT]\nsandbox = 123456789012\n");
    let out = success(env.cmd().args(["aws-assume-role", "--show"]).ran());
    let login = format!("login_url = {}\n", ssp.login_url());
    let expected = format!(
        "[Admin@210987654321]\n{login}aws_account = 210987654321\naws_role = Admin\naws_profile = Admin@210987654321\n\n\
         [Developer@sandbox]\n{login}aws_account = sandbox\naws_role = Developer\naws_profile = Developer@sandbox\n\n\
         [Auditor@210987654321]\n{login}aws_account = 210987654321\naws_role = Auditor\naws_profile = Auditor@210987654321\n\n"
    );
    out.stdout_eq(&expected);
}

#[test]
fn all_and_credential_process_through_boto3() {
    let _serial = serial();
    let moto = moto();
    let port = free_port();
    let ssp = ssp_for_port(port, vec![robot()]);
    let env = Env::new()
        .sts(&moto)
        .var("SAML_LOGIN_USERNAME", "robot")
        .var("SAML_LOGIN_PASSWORD", PASSWORD);
    env.config(&config(&ssp, port, "headless", ""));
    env.write(".aws-accounts", "[DEFAULT]\nsandbox = 123456789012\n");

    // --all: every granted role into its own profile.
    success(
        env.cmd()
            .args(["--no-cache", "aws-assume-role", "--all"])
            .ran(),
    );
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "Developer@sandbox"),
        robot_arn()
    );

    // credential-process, as the AWS SDK runs it (boto3 spawns saml-login).
    let bin = assert_cmd::cargo::cargo_bin("saml-login");
    env.write(
        ".aws/config",
        &format!(
            "[profile ssp]\ncredential_process = {} -c dev credential-process --force\n",
            bin.display()
        ),
    );
    let out = env
        .command(python())
        .args([
            "-c",
            "import boto3, sys; print(boto3.Session(profile_name='ssp').client('sts', endpoint_url=sys.argv[1], region_name='us-east-1').get_caller_identity()['Arn'])",
            &moto.url,
        ])
        .env("AWS_SHARED_CREDENTIALS_FILE", env.path(".aws/none"))
        .ran()
        .success();
    assert_eq!(out.stdout().trim(), robot_arn());

    // pkce-free commands: env prints the cached credentials, no new login.
    success(env.call(&["-c", "dev", "env"])).stdout_has("AWS_ACCESS_KEY_ID=");
}

/// SimpleSAMLphp posting to AWS's own sign-in endpoint.
fn ssp_for_aws() -> SimpleSamlPhp {
    SimpleSamlPhp::start(&SspOptions::new(
        "https://signin.aws.amazon.com/saml",
        vec![robot()],
    ))
}

fn assert_nothing_left(seen: &Watched) {
    assert!(
        seen.stdout.contains(&format!("ARN={}", robot_arn())) || seen.stdout.contains("TOKEN="),
        "{}\n{}",
        seen.stdout,
        seen.stderr
    );
    assert!(
        !seen.looked_up_aws(),
        "the AWS endpoint was looked up: {:?}",
        seen.lookups
    );
}

#[test]
fn headless_captures_at_the_aws_endpoint_and_nothing_reaches_it() {
    let _serial = serial();
    let ssp = ssp_for_aws();
    let env = Env::new()
        .var("SAML_LOGIN_USERNAME", "robot")
        .var("SAML_LOGIN_PASSWORD", PASSWORD);
    env.config(&config(
        &ssp,
        free_port(),
        "headless",
        "callback_url = aws\n",
    ));
    // In a network namespace whose only way out is watched (support/netns.rs): a
    // SimpleSAMLphp on the same port and configuration, moto, and saml-login.
    let body = format!(
        "{ssp}{moto}{bin} -c dev aws-assume-role --profile p || exit 10\n{identity}\n",
        ssp = ssp.serve_in_namespace(),
        moto = moto_in_namespace(),
        bin = saml_login_path(),
        identity = caller_identity_in_namespace(),
    );
    let seen = in_watched_namespace(&body, &env);
    assert_nothing_left(&seen);
    assert!(!seen.stderr.contains(PASSWORD));
}

// ---------------------------------------------------------------------------------
// --webview and --system-browser: a window under Xvfb, the form typed by xdotool
// ---------------------------------------------------------------------------------

/// Wait for `what` up to `limit`.
fn wait_for<T>(limit: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The PIDs of this user's processes whose command line contains `needle`.
fn pids_with(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

/// The visible X window of process `pid`.
fn window_of(pid: u32) -> Option<String> {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--pid", &pid.to_string()])
        .output()
        .expect("xdotool is installed (scripts/install-deps.sh)");
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .next()
        .map(str::to_owned)
}

/// Type `user`, Tab, the password, Return into `window` with xdotool (XTEST key
/// events, as a keyboard sends them). The password goes through a private file, never
/// a command line; Return is pressed as a key (`type` sends a newline as Linefeed,
/// which GTK does not take for Return).
fn type_login(env: &Env, window: &str, user: &str) {
    let password = env.write("xdotool-password", PASSWORD);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&password, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let xdotool = |args: &[&std::ffi::OsStr]| {
        let status = Command::new("xdotool").args(args).status().unwrap();
        assert!(status.success(), "xdotool {args:?}");
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    xdotool(&[os("windowfocus"), os("--sync"), window.as_ref()]);
    std::thread::sleep(Duration::from_millis(300));
    xdotool(&[os("type"), os("--delay"), os("30"), user.as_ref()]);
    xdotool(&[os("key"), os("Tab")]);
    xdotool(&[
        os("type"),
        os("--delay"),
        os("30"),
        os("--file"),
        password.as_os_str(),
    ]);
    xdotool(&[os("key"), os("Return")]);
    std::fs::remove_file(password).unwrap();
}

/// A child that is killed on drop (with the processes named by `also`).
struct Running {
    child: Child,
    also: Option<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(needle) = &self.also {
            for pid in pids_with(needle) {
                let _ = Command::new("kill").arg(pid.to_string()).status();
            }
        }
    }
}

impl Running {
    /// Wait (bounded) for the exit; returns (success, stdout, stderr).
    fn finish(mut self, limit: Duration) -> (bool, String, String) {
        let until = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < until, "saml-login did not finish");
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut stdout = String::new();
        let mut stderr = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (status.success(), stdout, stderr)
    }
}

fn spawn(env: &Env, args: &[&str], also: Option<String>) -> Running {
    let child = env
        .saml_login()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Running { child, also }
}

/// The webview helper process started by saml-login `parent`.
fn webview_helper_of(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            ppid == Some(parent)
                && std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("saml-login-webview"))
        })
}

/// Log in with the webview: type into SimpleSAMLphp's form when it shows one.
fn webview_login(env: &Env, ssp: &SimpleSamlPhp, args: &[&str], type_form: bool) -> String {
    let sessions_before = ssp.sessions();
    let run = spawn(env, args, None);
    if type_form {
        let helper = wait_for(Duration::from_secs(30), "the webview process", || {
            webview_helper_of(run.child.id())
        });
        let window = wait_for(Duration::from_secs(120), "the webview window", || {
            window_of(helper)
        });
        // The login form was served (SimpleSAMLphp started a session for it).
        wait_for(
            Duration::from_secs(30),
            "SimpleSAMLphp's login form",
            || (ssp.sessions() > sessions_before).then_some(()),
        );
        std::thread::sleep(Duration::from_millis(1500));
        type_login(env, &window, "robot");
    }
    let (ok, stdout, stderr) = run.finish(Duration::from_secs(90));
    assert!(ok, "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    stdout
}

#[test]
fn webview_form_typed_by_xdotool_then_the_remembered_session() {
    let _serial = serial();
    let moto = moto();
    let port = free_port();
    let ssp = ssp_for_port(port, vec![robot()]);
    let env = display_env().sts(&moto);
    env.config(&config(&ssp, port, "webview", ""));

    webview_login(&env, &ssp, &["-c", "dev", "aws-assume-role"], true);
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "dev"),
        robot_arn()
    );
    let sessions = ssp.sessions();

    // The remembered session: no form, no typing, no new IdP session.
    let token = webview_login(&env, &ssp, &["--no-cache", "get-token"], false);
    let xml = decode_b64(token.trim());
    assert!(xml.contains("robot@example.org"), "{xml}");
    assert_eq!(ssp.sessions(), sessions, "no new IdP session");
}

#[test]
fn webview_captures_at_the_aws_endpoint_and_nothing_reaches_it() {
    let _serial = serial();
    let ssp = ssp_for_aws();
    let env = display_env();
    env.config(&config(
        &ssp,
        free_port(),
        "webview",
        "callback_url = aws\n",
    ));
    // The form typed with xdotool (outside the namespace, where the display is).
    let token = webview_login(&env, &ssp, &["--no-cache", "get-token"], true);
    let xml = decode_b64(token.trim());
    assert!(
        xml.contains("Destination=\"https://signin.aws.amazon.com/saml\""),
        "{xml}"
    );
    // Then, the remembered session, in a namespace whose only way out is watched.
    let body = format!(
        "{ssp}{bin} --no-cache get-token > \"$HOME/token\" || exit 10\necho TOKEN=$(wc -c < \"$HOME/token\")\n",
        ssp = ssp.serve_in_namespace(),
        bin = saml_login_path(),
    );
    let seen = in_watched_namespace(&body, &env);
    assert_nothing_left(&seen);
    let token = std::fs::read_to_string(env.path("token")).unwrap();
    assert!(
        decode_b64(token.trim()).contains("robot@example.org"),
        "{}",
        seen.stderr
    );
}

/// The Chromium binary the system-browser test opens.
fn chromium() -> PathBuf {
    which("chromium").expect("chromium is installed (scripts/install-deps.sh)")
}

#[test]
fn system_browser_is_a_real_chromium_and_simplesamlphp_echoes_our_relay_state() {
    let _serial = serial();
    let moto = moto();
    let port = free_port();
    let ssp = ssp_for_port(port, vec![robot()]);
    let env = display_env().sts(&moto);
    let profile = env.path("chromium-profile");
    // The BROWSER command: a real Chromium window on the Xvfb display (as root it
    // needs --no-sandbox), with a profile of this test's own.
    let browser = format!(
        "{} --no-sandbox --no-first-run --password-store=basic --user-data-dir={} %s",
        chromium().display(),
        profile.display()
    );
    let env = env.var("BROWSER", browser);
    env.config(&config(&ssp, port, "system", ""));

    let run = spawn(
        &env,
        &["-c", "dev", "aws-assume-role"],
        Some(profile.display().to_string()),
    );
    // Bounded, but generous: with the rest of the suite running beside it, Chromium's
    // first window on the shared Xvfb display has taken over 40 s.
    let window = wait_for(Duration::from_secs(120), "Chromium's window", || {
        pids_with(&format!("--user-data-dir={}", profile.display()))
            .into_iter()
            .find_map(window_of)
    });
    wait_for(
        Duration::from_secs(30),
        "SimpleSAMLphp's login form",
        || (ssp.sessions() > 0).then_some(()),
    );
    std::thread::sleep(Duration::from_millis(1500));
    type_login(&env, &window, "robot");
    let (ok, _stdout, stderr) = run.finish(Duration::from_secs(90));
    assert!(ok, "{stderr}\n{}", ssp.log());
    assert!(!stderr.contains(PASSWORD));
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "dev"),
        robot_arn()
    );
}
