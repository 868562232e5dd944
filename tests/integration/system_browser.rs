//! The whole login through the system-browser path: the browser stand-in (an HTTP
//! client doing what a browser does) drives the test IdP, which posts to saml-login's
//! loopback callback; moto's STS issues the credentials.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

fn dev_config(idp: &Server, port: u16) -> String {
    format!(
        "{}\n[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
        config_for(idp, port)
    )
}

#[test]
fn assume_role_end_to_end_with_moto() {
    let moto = moto();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new().sts(&moto).test_browser("");
    env.config(&dev_config(&idp, port));
    env.write(
        ".aws/credentials",
        "# mine\n[default]\naws_access_key_id = AKIAKEEP\n",
    );

    let out = env
        .cmd()
        .args(["-c", "dev", "aws-assume-role"])
        .ran()
        .success()
        .stdout_empty()
        .stderr_has("saved under AWS profile dev");

    let creds = env.credentials();
    assert!(
        creds.starts_with("# mine\n[default]\naws_access_key_id = AKIAKEEP\n\n[dev]\n"),
        "{creds}"
    );
    for key in [
        "aws_access_key_id = ",
        "aws_secret_access_key = ",
        "aws_session_token = ",
        "expiration = ",
        "x_security_token_expires = ",
    ] {
        assert!(creds.contains(key), "{key} missing in {creds}");
    }
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "dev"),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.credentials_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The secret key never reaches the terminal.
    let secret = creds
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .unwrap();
    out.stderr_lacks(secret);
}

#[test]
fn login_form_then_get_token() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--callback", &callback]);
    let env = Env::new()
        .test_browser("")
        .var("BROWSER_LOGIN", "alice:correct-horse");
    env.config(&config_for(&idp, port));

    let out = env.cmd().arg("get-token").ran().success().out;
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(token.lines().count(), 1);
    let xml = decode_saml(token.trim());
    assert!(xml.contains(ROLE), "{xml}");
    assert!(xml.contains(&callback));
    let stats = idp.get("/stats");
    assert!(stats.contains("\"login_posts\": 2"), "{stats}");
}

#[test]
fn show_prints_one_section_per_role() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&[
        "--auto-session",
        "--callback",
        &callback,
        "--role",
        &format!("{ROLE},{PROVIDER}"),
        "--role",
        "arn:aws:iam::210987654321:role/ops/Admin,arn:aws:iam::210987654321:saml-provider/test-idp",
    ]);
    let env = Env::new().test_browser("");
    env.config(&config_for(&idp, port));
    env.write(".aws-accounts", "[DEFAULT]\nsandbox = 123456789012\n");

    let out = env
        .cmd()
        .args(["aws-assume-role", "--show"])
        .ran()
        .success()
        .out;
    let expected = format!(
        "[Developer@sandbox]\nidp_url = {url}\nclient_id = test-client\naws_account = sandbox\naws_role = Developer\naws_profile = Developer@sandbox\n\n\
         [Admin@210987654321]\nidp_url = {url}\nclient_id = test-client\naws_account = 210987654321\naws_role = Admin\naws_profile = Admin@210987654321\n\n",
        url = idp.url
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

#[test]
fn wrong_relay_state_is_refused() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = forging_idp(&callback);
    let log = tempfile::NamedTempFile::new().unwrap();
    let env = Env::new().test_browser(&format!("--log {}", log.path().display()));
    env.config(&config_for(&idp, port).replace("timeout = 30", "timeout = 4"));

    env.call(&["get-token"])
        .code(4)
        .stdout_empty()
        .stderr_has("no login completed within 4 s");
    // The browser's post was answered, with a refusal.
    let browser_log = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        browser_log.contains(&format!("POST {callback}")),
        "{browser_log}"
    );
    assert!(
        !browser_log.contains("callback answered 200"),
        "{browser_log}"
    );
}

#[test]
fn stray_requests_do_not_end_the_wait() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new().test_browser("--delay 2");
    env.config(&config_for(&idp, port));

    let child = {
        let mut cmd = env.saml_login();
        cmd.arg("get-token")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        GroupGuard::spawn(cmd)
    };
    let stray = [
        format!("GET /favicon.ico HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"),
        format!("GET /saml HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"),
        format!(
            "POST /other HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Length: 14\r\nConnection: close\r\n\r\nSAMLResponse=x"
        ),
        format!(
            "POST /saml HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nnope="
        ),
    ];
    let mut answers = Vec::new();
    for request in &stray {
        let mut s = connect_within(port, Duration::from_secs(20));
        s.write_all(request.as_bytes()).unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        answers.push(reply.lines().next().unwrap_or_default().to_owned());
    }
    let (out, left) = child.output_within(Duration::from_secs(60));
    assert!(left.is_empty(), "{left:?}");
    let out = Ran::from(out).success().out;
    assert!(decode_saml(String::from_utf8(out.stdout).unwrap().trim()).contains(ROLE));
    assert!(answers[0].contains("404"), "{answers:?}");
    assert!(answers[1].contains("404"), "{answers:?}");
    assert!(answers[2].contains("404"), "{answers:?}");
    assert!(answers[3].contains("400"), "{answers:?}");
}

#[test]
fn busy_port_is_named() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let idp = idp(&["--auto-session"]);
    let env = Env::new().test_browser("");
    env.config(&config_for(&idp, port));
    env.call(&["get-token"]).code(1).stderr_starts(&format!(
        "saml-login: error: port {port} on 127.0.0.1 is already in use; stop the program holding it or choose another `listen_port`\n"
    ));
}

#[test]
fn listens_on_loopback_only() {
    let port = free_port();
    let idp = idp(&["--auto-session"]);
    let env = Env::new().test_browser("--delay 3");
    env.config(&config_for(&idp, port));
    let mut child = {
        let mut cmd = env.saml_login();
        cmd.args(["get-token", "--timeout", "3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        GroupGuard::spawn(cmd)
    };
    std::thread::sleep(Duration::from_millis(800));
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let hex_port = format!(":{port:04X}");
    let listening: Vec<&str> = tcp
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(&hex_port))
        })
        .filter(|l| l.split_whitespace().nth(3) == Some("0A"))
        .collect();
    assert_eq!(listening.len(), 1, "{tcp}");
    assert!(
        listening[0]
            .split_whitespace()
            .nth(1)
            .unwrap()
            .starts_with("0100007F:")
    );
}

/// With no browser chosen and no display, the system browser is the default: the
/// login goes through $BROWSER and the loopback callback.
#[test]
fn system_browser_is_the_default_without_a_display() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let log = tempfile::NamedTempFile::new().unwrap();
    let env = Env::new().test_browser(&format!("--log {}", log.path().display()));
    assert!(
        !env.vars
            .iter()
            .any(|(k, _)| k == "DISPLAY" || k == "WAYLAND_DISPLAY")
    );
    env.config(&config_for(&idp, port).replace("browser = system\n", ""));
    let out = env.cmd().arg("get-token").ran().success().out;
    assert!(decode_saml(&String::from_utf8(out.stdout).unwrap()).contains(ROLE));
    let browser_log = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        browser_log.contains(&format!("POST {callback}"))
            && browser_log.contains("callback answered 200"),
        "{browser_log}"
    );
}

/// A callback body over 1 MiB is refused with 413 and the wait goes on; the real
/// login then completes. IPv6 loopback ([::1]) is held by saml-login too, so no other
/// program can take `localhost`'s first address (tests/hostile_neighbours.rs has the
/// other user's listener).
#[test]
fn body_over_one_mib_is_refused_and_ipv6_loopback_is_ours() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new().test_browser("--delay 3");
    env.config(&config_for(&idp, port));
    let child = {
        let mut cmd = env.saml_login();
        cmd.arg("get-token")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        GroupGuard::spawn(cmd)
    };
    let post = |len: usize| -> String {
        let mut s = connect_within(port, Duration::from_secs(20));
        write!(
            s,
            "POST /saml HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        // The server may answer and close before the whole body is sent.
        let body = format!("SAMLResponse={}", "A".repeat(len - "SAMLResponse=".len()));
        let _ = s.write_all(body.as_bytes());
        let mut reply = String::new();
        let _ = s.read_to_string(&mut reply);
        reply.lines().next().unwrap_or_default().to_owned()
    };
    const MIB: usize = 1024 * 1024;
    let too_large = post(MIB + 1);
    assert!(too_large.contains("413"), "{too_large}");
    // Just under the limit: read and refused for its content (no RelayState), not size.
    let at_limit = post(MIB);
    assert!(at_limit.contains("400"), "{at_limit}");
    if std::net::TcpListener::bind(("::1", 0)).is_ok() {
        let v6 = std::net::TcpStream::connect(("::1", port));
        assert!(v6.is_ok(), "saml-login does not hold [::1]:{port}");
    }
    let (out, left) = child.output_within(Duration::from_secs(60));
    assert!(left.is_empty(), "{left:?}");
    let out = Ran::from(out).success().out;
    assert!(decode_saml(&String::from_utf8(out.stdout).unwrap()).contains(ROLE));
}
