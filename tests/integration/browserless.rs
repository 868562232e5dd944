//! `--headless` with a cookie jar and no browser (`headless_mode`): when the stored
//! session is enough, one plain GET of the start page brings the IdP's auto-submitting
//! SAML form, whose response goes through the same checks and the same pipeline as a
//! Chromium capture; otherwise Chromium runs the login, and a missing Chromium is named
//! only then. Against the test IdP and SimpleSAMLphp, moto's STS, real Chromium.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::*;

const SESSION: &str = "valid-session-0123456789";
/// A `CHROME` that names nothing: any run that starts Chromium fails naming it.
const NO_CHROME: &str = "/nonexistent/chromium-for-browserless-tests";

fn jar_text(value: &str) -> String {
    format!(
        "# Netscape HTTP Cookie File\n#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tidp_session\t{value}\n"
    )
}

fn private_jar(env: &Env, rel: &str, value: &str) -> PathBuf {
    let p = env.write(rel, &jar_text(value));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p
}

fn config(idp: &Server, port: u16, extra: &str) -> String {
    format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\ntimeout = 60\n{extra}\n\
         [dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
        idp.url
    )
}

/// A world where no Chromium can be found: `CHROME` names nothing and `PATH` is a
/// directory with nothing in it, so a run that needed a browser would fail saying so.
fn no_browser_env() -> Env {
    let env = Env::new().var("CHROME", NO_CHROME);
    let empty = env.path("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    env.var("PATH", empty.display().to_string())
}

/// A world with its own TMPDIR and full Chromium or the headless shell as `CHROME`.
fn chromium_env() -> Env {
    let chrome = which("chromium-headless-shell")
        .expect("chromium-headless-shell is required (apt-get install chromium-headless-shell)");
    Env::new().var("CHROME", chrome.display().to_string())
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `[dev]` profile with the values that differ on every STS call (keys, token,
/// expiry) replaced by their names: what must be equal whichever way the login ran.
fn profile_shape(credentials: &str) -> Vec<String> {
    let mut in_dev = false;
    let mut lines = Vec::new();
    for line in credentials.lines() {
        if line.starts_with('[') {
            in_dev = line == "[dev]";
            continue;
        }
        if !in_dev || line.trim().is_empty() {
            continue;
        }
        let key = line.split('=').next().unwrap().trim();
        // The keys' fingerprint (x_saml_login_keys) follows the access key id, which
        // differs with every STS call; the role and the request's fingerprint do not.
        if CREDENTIAL_KEYS.contains(&key) || key == "x_saml_login_keys" {
            lines.push(format!("{key} = (varies)"));
        } else {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// The same session gives the same SAML response, byte for byte, and the same stored
/// credentials, through Chromium and through the browserless login (which starts no
/// browser: `CHROME` names nothing there).
#[test]
fn browserless_and_chromium_give_the_same_assertion_and_credentials() {
    let _serial = serial();
    let moto = moto();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&[
        "--session-cookie",
        SESSION,
        "--callback",
        &callback,
        "--replay-response",
    ]);

    let chromium = chromium_env().sts(&moto);
    chromium.config(&config(&idp, port, "headless_mode = chromium\n"));
    let jar = private_jar(&chromium, "jar.txt", SESSION);
    let browserless = no_browser_env().sts(&moto);
    browserless.config(&config(&idp, port, ""));
    let jar2 = private_jar(&browserless, "jar.txt", SESSION);

    let token = |env: &Env, jar: &PathBuf| {
        let out = env
            .cmd()
            .args(["--no-cache", "--verbose", "--cookies"])
            .arg(jar)
            .arg("get-token")
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains(SESSION), "cookie leaked: {stderr}");
        (String::from_utf8(out.stdout).unwrap(), stderr)
    };
    let (by_chromium, _) = token(&chromium, &jar);
    let (by_http, said) = token(&browserless, &jar2);
    assert_eq!(by_chromium, by_http, "the same SAMLResponse");
    assert!(
        decode_saml(&by_http).contains(&format!("Destination=\"{callback}\"")),
        "{by_http}"
    );
    assert!(
        said.contains("the stored session was enough") && said.contains("no browser started"),
        "{said}"
    );
    assert!(!said.contains(&by_http.trim()[..40]), "response leaked");

    for (env, jar) in [(&chromium, &jar), (&browserless, &jar2)] {
        let out = env
            .cmd()
            .args(["-c", "dev", "--cookies"])
            .arg(jar)
            .arg("aws-assume-role")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        assert_eq!(
            caller_identity(&moto, &env.credentials_path(), "dev"),
            "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
        );
    }
    let shape = profile_shape(&chromium.credentials());
    assert!(shape.len() >= CREDENTIAL_KEYS.len(), "{shape:?}");
    assert_eq!(shape, profile_shape(&browserless.credentials()));
}

/// Point 3: no Chromium anywhere (`PATH` without it, `CHROME` naming nothing), and a
/// login with a valid jar stores credentials moto accepts. The IdP renews its session
/// cookie on the way: `--save-cookies` writes the renewed jar, which the next run uses;
/// the old jar's session is gone, and that run names what is missing (a browser).
#[test]
fn no_chromium_is_needed_while_the_session_is_valid() {
    let moto = moto();
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    holder.set_nonblocking(true).unwrap();
    let port = holder.local_addr().unwrap().port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&[
        "--session-cookie",
        SESSION,
        "--callback",
        &callback,
        "--rotate-session",
    ]);
    let env = no_browser_env().sts(&moto);
    env.config(&config(&idp, port, ""));
    let jar = private_jar(&env, "jar.txt", SESSION);
    let renewed = env.path("renewed.txt");

    let started = Instant::now();
    let out = env
        .cmd()
        .args(["-c", "dev", "--cookies"])
        .arg(&jar)
        .arg("--save-cookies")
        .arg(&renewed)
        .arg("aws-assume-role")
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "dev"),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
    assert!(
        holder.accept().is_err(),
        "nothing reached the callback port"
    );
    assert_eq!(idp.samlp_requests(), 1, "one GET, no browser after it");

    let saved = std::fs::read_to_string(&renewed).unwrap();
    let value = saved
        .lines()
        .find(|l| l.contains("\tidp_session\t"))
        .unwrap_or_else(|| panic!("{saved}"))
        .rsplit('\t')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(value, SESSION, "the jar rolled forward: {saved}");
    assert!(!stderr.contains(&value), "cookie leaked: {stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&renewed).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The renewed jar serves the next login, still without a browser.
    let out = env
        .cmd()
        .args(["--no-cache", "--cookies"])
        .arg(&renewed)
        .arg("get-token")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));

    // The old jar's session was replaced: now the login needs a browser, and the run
    // says which is missing, at once.
    let started = Instant::now();
    let out = env
        .cmd()
        .args(["--no-cache", "--cookies"])
        .arg(&jar)
        .arg("get-token")
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("login page"), "{stderr}");
    assert!(stderr.contains("needs a browser"), "{stderr}");
    assert!(
        stderr.contains(NO_CHROME),
        "names the missing Chromium: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
}

/// An expired session falls back to Chromium, said in one `--verbose` line, and
/// Chromium logs in with the service account; the browserless try itself typed nothing.
#[test]
fn an_expired_session_falls_back_to_chromium() {
    let _serial = serial();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--callback", &callback, "--user", "robot:s3cret-Pa55"]);
    let env = chromium_env()
        .var("SAML_LOGIN_USERNAME", "robot")
        .var("SAML_LOGIN_PASSWORD", "s3cret-Pa55");
    env.config(&config(&idp, port, ""));
    let jar = private_jar(&env, "jar.txt", "expired-value");
    let out = env
        .cmd()
        .args(["--verbose", "--cookies"])
        .arg(&jar)
        .arg("get-token")
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    let fallback: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("logging in with headless Chromium (headless_mode = auto)"))
        .collect();
    assert_eq!(fallback.len(), 1, "{stderr}");
    assert!(fallback[0].contains("login page"), "{stderr}");
    assert!(!stderr.contains("s3cret-Pa55") && !stderr.contains("expired-value"));
    assert!(
        idp.get("/stats").contains("\"login_posts\": 2"),
        "Chromium typed the two steps, the browserless try none"
    );
    assert!(chromium_of(&env).is_empty() || wait_no_chromium(&env));
}

fn wait_no_chromium(env: &Env) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !chromium_of(env).is_empty() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// `headless_mode` forces either path, from the flag, the variable or the file: `http`
/// never starts a browser (an expired session is an error that says so), `chromium`
/// always does (here the `CHROME` that names nothing is reported), and the flag wins.
#[test]
fn headless_mode_forces_either_path() {
    let port = free_port();
    let idp = idp(&[
        "--session-cookie",
        SESSION,
        "--callback",
        &format!("http://localhost:{port}/saml"),
    ]);
    let env = no_browser_env();
    env.config(&config(&idp, port, "headless_mode = chromium\n"));
    let jar = private_jar(&env, "jar.txt", SESSION);
    let expired = private_jar(&env, "expired.txt", "expired-value");
    let run = |args: &[&str], jar: &PathBuf, var: Option<&str>| {
        let mut cmd = env.cmd();
        if let Some(mode) = var {
            cmd.env("SAML_LOGIN_HEADLESS_MODE", mode);
        }
        let out = cmd
            .args(["--no-cache", "--cookies"])
            .arg(jar)
            .args(args)
            .arg("get-token")
            .output()
            .unwrap();
        (out.status.code(), stderr_of(&out))
    };

    // The file says chromium: Chromium is looked for although the session is valid.
    let (code, stderr) = run(&[], &jar, None);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(NO_CHROME), "{stderr}");
    // The variable and the flag say otherwise; the flag wins over the variable.
    let (code, stderr) = run(&[], &jar, Some("auto"));
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stderr) = run(&["--headless-mode", "http"], &jar, Some("chromium"));
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stderr) = run(&["--headless-mode", "chromium"], &jar, Some("http"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(NO_CHROME), "{stderr}");

    // http with an expired session: the error says so; no browser is looked for.
    let (code, stderr) = run(&["--headless-mode", "http"], &expired, None);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("the stored IdP session has expired"),
        "{stderr}"
    );
    assert!(stderr.contains("--save-cookies"), "{stderr}");
    assert!(!stderr.contains(NO_CHROME), "{stderr}");
    assert!(!stderr.contains("expired-value"), "{stderr}");

    // A value that is no mode: the flag is a usage error, the file names the setting.
    let (code, stderr) = run(&["--headless-mode", "sometimes"], &jar, None);
    assert_eq!(code, Some(2), "{stderr}");
    env.config(&config(&idp, port, "headless_mode = sometimes\n"));
    let (code, stderr) = run(&[], &jar, None);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("headless_mode"), "{stderr}");
    assert!(stderr.contains("not a headless mode"), "{stderr}");
}

/// The IdP's form is judged by the callback's own checks: a foreign `RelayState` is
/// refused (with `headless_mode = http`, at once), and nothing reaches the callback.
#[test]
fn a_foreign_relay_state_in_the_form_is_refused() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    holder.set_nonblocking(true).unwrap();
    let port = holder.local_addr().unwrap().port();
    let idp = idp(&[
        "--session-cookie",
        SESSION,
        "--callback",
        &format!("http://localhost:{port}/saml"),
        "--relay-state-override",
        "forged-by-someone-else",
    ]);
    let env = no_browser_env();
    env.config(&config(&idp, port, "headless_mode = http\n"));
    let jar = private_jar(&env, "jar.txt", SESSION);
    let out = env
        .cmd()
        .arg("--cookies")
        .arg(&jar)
        .arg("get-token")
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("its RelayState is not the one we sent"),
        "{stderr}"
    );
    assert!(
        holder.accept().is_err(),
        "nothing reached the callback port"
    );
}

/// The key table gives the setting its flag, variable, help and manual page entry.
#[test]
fn the_setting_is_in_the_help_and_the_manual() {
    let env = Env::new();
    let out = env.cmd().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--headless-mode"), "{help}");
    assert!(help.contains("SAML_LOGIN_HEADLESS_MODE"), "{help}");
    let out = env.cmd().arg("man").output().unwrap();
    let man = String::from_utf8_lossy(&out.stdout);
    assert!(man.contains("headless_mode"), "{man}");
    assert!(man.contains("SAML_LOGIN_HEADLESS_MODE"), "{man}");
}

/// SimpleSAMLphp: a session made by Chromium with the service account, kept in a jar;
/// then the jar alone, through Chromium and without any browser, gives the same
/// assertion (everything but what SimpleSAMLphp makes anew for each response: IDs,
/// instants, signatures) and the same stored credentials. When the server ends the
/// session, the browserless login gives way, and with no browser installed the run
/// says what is missing at once.
#[cfg(target_os = "linux")]
#[test]
fn simplesamlphp_gives_the_same_answer_either_way() {
    use crate::support::simplesamlphp::*;
    const PASSWORD: &str = "Ssp-s3cret-Pa55";
    let _serial = serial();
    let moto = moto();
    let port = free_port();
    let ssp = SimpleSamlPhp::start(&SspOptions::new(
        &format!("http://localhost:{port}/saml"),
        vec![SspUser::new(
            "robot",
            PASSWORD,
            &[
                "arn:aws:iam::123456789012:role/Developer,arn:aws:iam::123456789012:saml-provider/simplesamlphp",
            ],
        )],
    ));
    let ssp_config = |extra: &str| {
        format!(
            "[DEFAULT]\nlogin_url = {}\nlisten_port = {port}\nbrowser = headless\ntimeout = 60\n{extra}\n\
             [dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
            ssp.login_url()
        )
    };
    // The session, made in Chromium by the service account.
    let maker = chromium_env()
        .var("SAML_LOGIN_USERNAME", "robot")
        .var("SAML_LOGIN_PASSWORD", PASSWORD);
    maker.config(&ssp_config(""));
    let jar = maker.path("jar.txt");
    let out = maker
        .cmd()
        .arg("--save-cookies")
        .arg(&jar)
        .arg("get-token")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let sessions = ssp.sessions();

    let chromium = chromium_env().sts(&moto);
    chromium.config(&ssp_config("headless_mode = chromium\n"));
    let browserless = no_browser_env().sts(&moto);
    browserless.config(&ssp_config(""));
    let mut tokens = Vec::new();
    for env in [&chromium, &browserless] {
        let out = env
            .cmd()
            .args(["--no-cache", "--cookies"])
            .arg(&jar)
            .arg("get-token")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        tokens.push(decode_saml(&String::from_utf8(out.stdout).unwrap()));
        let out = env
            .cmd()
            .args(["-c", "dev", "--cookies"])
            .arg(&jar)
            .arg("aws-assume-role")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        assert_eq!(
            caller_identity(&moto, &env.credentials_path(), "dev"),
            "arn:aws:sts::123456789012:assumed-role/Developer/robot@example.org"
        );
    }
    assert_eq!(ssp.sessions(), sessions, "no new IdP session");
    assert!(tokens[0].contains("<ds:SignatureValue>"), "signed");
    assert_eq!(stable_parts(&tokens[0]), stable_parts(&tokens[1]));
    assert_eq!(
        profile_shape(&chromium.credentials()),
        profile_shape(&browserless.credentials())
    );

    // The server ends the session: without a browser the run names what is missing.
    assert!(ssp.expire_sessions() > 0);
    let started = Instant::now();
    let out = browserless
        .cmd()
        .args(["--no-cache", "--cookies"])
        .arg(&jar)
        .arg("get-token")
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("needs a browser"), "{stderr}");
    assert!(stderr.contains(NO_CHROME), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

/// What two responses to the same session must share: every attribute's name and
/// values, the issuer, audience, destination and recipient, in document order.
#[cfg(target_os = "linux")]
fn stable_parts(xml: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for (open, close) in [
        ("<saml:AttributeValue", "</saml:AttributeValue>"),
        ("<saml:Issuer", "</saml:Issuer>"),
        ("<saml:Audience", "</saml:Audience>"),
    ] {
        let mut rest = xml;
        while let Some(at) = rest.find(open) {
            let from = at + rest[at..].find('>').unwrap() + 1;
            let to = from + rest[from..].find(close).unwrap();
            parts.push(format!("{open} {}", &rest[from..to]));
            rest = &rest[to..];
        }
    }
    for attr in ["Destination=\"", "Recipient=\"", "<saml:Attribute Name=\""] {
        let mut rest = xml;
        while let Some(at) = rest.find(attr) {
            let from = at + attr.len();
            let to = from + rest[from..].find('"').unwrap();
            parts.push(format!("{attr}{}", &rest[from..to]));
            rest = &rest[to..];
        }
    }
    assert!(parts.len() >= 5, "{xml}");
    parts
}
