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
        // The cookie never shows.
        env.cmd()
            .args(["--no-cache", "--verbose", "--cookies"])
            .arg(jar)
            .arg("get-token")
            .ran()
            .success()
            .stderr_lacks(SESSION)
    };
    let by_chromium = String::from_utf8(token(&chromium, &jar).out.stdout).unwrap();
    let said = token(&browserless, &jar2);
    let by_http = String::from_utf8(said.out.stdout.clone()).unwrap();
    assert_eq!(by_chromium, by_http, "the same SAMLResponse");
    assert!(
        decode_saml(&by_http).contains(&format!("Destination=\"{callback}\"")),
        "{by_http}"
    );
    said.stderr_has("the stored session was enough")
        .stderr_has("no browser started")
        // The response never shows.
        .stderr_lacks(&by_http.trim()[..40]);

    for (env, jar) in [(&chromium, &jar), (&browserless, &jar2)] {
        env.cmd()
            .args(["-c", "dev", "--cookies"])
            .arg(jar)
            .arg("aws-assume-role")
            .ran()
            .success();
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
    let first = env
        .cmd()
        .args(["-c", "dev", "--cookies"])
        .arg(&jar)
        .arg("--save-cookies")
        .arg(&renewed)
        .arg("aws-assume-role")
        .ran();
    let elapsed = started.elapsed();
    let first = first.success().check(
        elapsed < Duration::from_secs(20),
        &format!("took {elapsed:?}"),
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
    // The cookie never shows.
    first.stderr_lacks(&value);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&renewed).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The renewed jar serves the next login, still without a browser.
    env.cmd()
        .args(["--no-cache", "--cookies"])
        .arg(&renewed)
        .arg("get-token")
        .ran()
        .success();

    // The old jar's session was replaced: now the login needs a browser, and the run
    // says which is missing, at once.
    let started = Instant::now();
    let ran = env
        .cmd()
        .args(["--no-cache", "--cookies"])
        .arg(&jar)
        .arg("get-token")
        .ran();
    let elapsed = started.elapsed();
    ran.code(1)
        .stderr_has("login page")
        .stderr_has("needs a browser")
        // Names the missing Chromium.
        .stderr_has(NO_CHROME)
        .check(
            elapsed < Duration::from_secs(15),
            &format!("took {elapsed:?}"),
        );
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
    let ran = env
        .cmd()
        .args(["--verbose", "--cookies"])
        .arg(&jar)
        .arg("get-token")
        .ran()
        .success();
    let stderr = ran.stderr();
    let fallback: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("logging in with headless Chromium (headless_mode = auto)"))
        .collect();
    ran.check(fallback.len() == 1, "the fallback said in one line")
        .check(
            fallback[0].contains("login page"),
            "it names the login page",
        )
        .stderr_lacks("s3cret-Pa55")
        .stderr_lacks("expired-value");
    assert_eq!(
        idp.stat("login_posts"),
        2,
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
        let ran = cmd
            .args(["--no-cache", "--cookies"])
            .arg(jar)
            .args(args)
            .arg("get-token")
            .ran();
        ran.context(format!("SAML_LOGIN_HEADLESS_MODE={var:?}"))
    };

    // The file says chromium: Chromium is looked for although the session is valid.
    run(&[], &jar, None).code(1).stderr_has(NO_CHROME);
    // The variable and the flag say otherwise; the flag wins over the variable.
    run(&[], &jar, Some("auto")).code(0);
    run(&["--headless-mode", "http"], &jar, Some("chromium")).code(0);
    run(&["--headless-mode", "chromium"], &jar, Some("http"))
        .code(1)
        .stderr_has(NO_CHROME);

    // http with an expired session: the error says so; no browser is looked for.
    run(&["--headless-mode", "http"], &expired, None)
        .code(1)
        .stderr_has("the stored IdP session has expired")
        .stderr_has("--save-cookies")
        .stderr_lacks(NO_CHROME)
        .stderr_lacks("expired-value");

    // A value that is no mode: the flag is a usage error, the file names the setting.
    run(&["--headless-mode", "sometimes"], &jar, None).code(2);
    env.config(&config(&idp, port, "headless_mode = sometimes\n"));
    run(&[], &jar, None)
        .code(1)
        .stderr_has("headless_mode")
        .stderr_has("not a headless mode");
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
    env.cmd()
        .arg("--cookies")
        .arg(&jar)
        .arg("get-token")
        .ran()
        .code(1)
        .stdout_empty()
        .stderr_has("its RelayState is not the one we sent");
    assert!(
        holder.accept().is_err(),
        "nothing reached the callback port"
    );
}

/// The key table gives the setting its flag, variable, help and manual page entry.
#[test]
fn the_setting_is_in_the_help_and_the_manual() {
    let env = Env::new();
    env.call(&["--help"])
        .stdout_has("--headless-mode")
        .stdout_has("SAML_LOGIN_HEADLESS_MODE");
    env.call(&["man"])
        .stdout_has("headless_mode")
        .stdout_has("SAML_LOGIN_HEADLESS_MODE");
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
    maker
        .cmd()
        .arg("--save-cookies")
        .arg(&jar)
        .arg("get-token")
        .ran()
        .success();
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
            .ran()
            .success()
            .out;
        tokens.push(decode_saml(&String::from_utf8(out.stdout).unwrap()));
        env.cmd()
            .args(["-c", "dev", "--cookies"])
            .arg(&jar)
            .arg("aws-assume-role")
            .ran()
            .success();
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
    let ran = browserless
        .cmd()
        .args(["--no-cache", "--cookies"])
        .arg(&jar)
        .arg("get-token")
        .ran();
    let elapsed = started.elapsed();
    ran.code(1)
        .stderr_has("needs a browser")
        .stderr_has(NO_CHROME)
        .check(
            elapsed < Duration::from_secs(15),
            &format!("took {elapsed:?}"),
        );
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
