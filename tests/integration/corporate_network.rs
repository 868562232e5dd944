//! Corporate networks (issue 29): every HTTP client through the user's proxy, the
//! proxy's CA added to (never replacing) the system roots, proxy authentication, STS
//! retries said on stderr, bounded waits and the first Ctrl-C. The proxy is a real
//! TLS-inspecting one (mitmproxy) mapping made-up names (`sts.example.test`) to loopback
//! servers; the tests assert what it saw.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use crate::support::mitm::Mitm;
use crate::support::*;

const STS_HOST: &str = "sts.example.test";

/// A world that logs in from a saved response of the test IdP: `dev` names one role.
fn world() -> (Env, Server) {
    let w = World::new()
        .no_callback()
        .no_sts()
        .no_browser()
        .section(
            "dev",
            "aws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
        )
        .saved_response()
        .build();
    (w.env, w.idp)
}

/// `aws-assume-role` from the saved response, with `extra` flags first.
fn assume(env: &Env, extra: &[&str]) -> (Ran, Duration) {
    let started = Instant::now();
    let ran = env
        .cmd()
        .args(extra)
        .args(["-c", "dev", "--saml-response-file"])
        .arg(env.path("saved.b64"))
        // A login each time, never the profile the last run stored.
        .args(["aws-assume-role", "--force"])
        .ran();
    (ran, started.elapsed())
}

/// How many lines `ran` wrote to stderr.
fn stderr_lines(ran: &Ran) -> usize {
    ran.stderr().lines().count()
}

fn proxied_sts(env: Env, proxy: &Mitm, credentials: Option<&str>) -> Env {
    env.var("HTTPS_PROXY", proxy.url(credentials))
        .var("AWS_ENDPOINT_URL_STS", format!("https://{STS_HOST}"))
}

#[test]
fn sts_goes_through_the_inspecting_proxy_with_its_ca_added() {
    let moto = moto();
    let proxy = Mitm::proxy(&[(STS_HOST, moto.port)], &[]);
    let (env, _idp) = world();
    let env = proxied_sts(env, &proxy, None).var("AWS_CA_BUNDLE", proxy.ca.display().to_string());
    assume(&env, &[]).0.success();
    assert!(env.credentials().contains("[dev]"), "{}", env.credentials());
    assert_eq!(proxy.connects(), vec![format!("{STS_HOST}:443")]);
    assert_eq!(proxy.requests(), vec![format!("POST {STS_HOST}/")]);
}

#[test]
fn an_untrusted_inspecting_proxy_fails_fast_naming_host_issuer_and_setting() {
    let moto = moto();
    let proxy = Mitm::proxy(&[(STS_HOST, moto.port)], &[]);
    let (env, _idp) = world();
    let env = proxied_sts(env, &proxy, None);
    let (ran, took) = assume(&env, &[]);
    let lines = stderr_lines(&ran);
    // One line (so what it has, its one line has), naming the host, the issuer
    // presented, and the setting to set.
    ran.code(1)
        .check(lines == 1, "one line")
        .stderr_has(STS_HOST)
        .stderr_has("CN=mitmproxy")
        .stderr_has("AWS_CA_BUNDLE=")
        .stderr_has("not trusted");
    assert!(took < Duration::from_secs(20), "fast: {took:?}");
    assert!(
        proxy.requests().is_empty(),
        "nothing was sent: {:?}",
        proxy.requests()
    );
    assert!(!env.credentials().contains("[dev]"));
}

#[test]
fn an_added_ca_never_replaces_the_system_roots() {
    // The "system" roots are another CA (SSL_CERT_FILE, read by the OS store loader),
    // which signs a TLS front to moto on localhost; the added bundle is mitmproxy's.
    let moto = moto();
    let front = Mitm::tls_front(moto.port);
    let other = Mitm::proxy(&[], &[]);
    let (env, _idp) = world();
    let env = env
        .var("SSL_CERT_FILE", front.ca.display().to_string())
        .var("AWS_CA_BUNDLE", other.ca.display().to_string())
        .var(
            "AWS_ENDPOINT_URL_STS",
            format!("https://localhost:{}", front.port),
        );
    // The system's CA still verifies.
    assume(&env, &[]).0.success();
    // And the bundle adds: the front's CA given only as --ca-bundle verifies too.
    let env = env
        .var("SSL_CERT_FILE", other.ca.display().to_string())
        .var("AWS_CA_BUNDLE", "");
    assume(&env, &["--ca-bundle", &front.ca.display().to_string()])
        .0
        .success();
    // Without it, refused.
    assume(&env, &[])
        .0
        .code(1)
        .stderr_has("localhost")
        .stderr_has("not trusted");
}

#[test]
fn no_proxy_routes_around_the_proxy_and_loopback_never_goes_through_it() {
    let moto = moto();
    let proxy = Mitm::proxy(&[(STS_HOST, moto.port)], &[]);
    let (env, _idp) = world();
    // Loopback: direct, although every proxy variable is set.
    let env = env
        .var("HTTPS_PROXY", proxy.url(None))
        .var("http_proxy", proxy.url(None))
        .var("ALL_PROXY", proxy.url(None))
        .var("AWS_ENDPOINT_URL_STS", moto.url.clone());
    assume(&env, &[]).0.success();
    // NO_PROXY (lower case wins over upper case): a made-up name goes direct, so its
    // name cannot even be resolved, and the proxy sees nothing.
    let env = env
        .var("AWS_ENDPOINT_URL_STS", format!("https://{STS_HOST}"))
        .var("NO_PROXY", "nothing.example")
        .var("no_proxy", ".example.test");
    assume(&env, &[])
        .0
        .code(1)
        .stderr_has(STS_HOST)
        .stderr_lacks("through proxy");
    assert!(
        proxy.flows().is_empty(),
        "the proxy saw {:?}",
        proxy.flows()
    );
}

#[test]
fn proxy_authentication_407_is_named_and_credentials_succeed_unshown() {
    let moto = moto();
    let proxy = Mitm::proxy(
        &[(STS_HOST, moto.port)],
        &["--set", "proxyauth=alice:s3cr3t-pw"],
    );
    let (without, _idp) = world();
    let without =
        proxied_sts(without, &proxy, None).var("AWS_CA_BUNDLE", proxy.ca.display().to_string());
    let (ran, _) = assume(&without, &[]);
    let lines = stderr_lines(&ran);
    ran.code(1)
        .stderr_has("407")
        .stderr_has("proxy authentication")
        .check(lines == 1, "one line");
    let (with, _idp2) = world();
    let with = proxied_sts(with, &proxy, Some("alice:s3cr3t-pw"))
        .var("AWS_CA_BUNDLE", proxy.ca.display().to_string());
    // The password is never shown.
    assume(&with, &["--verbose"])
        .0
        .success()
        .stderr_lacks("s3cr3t-pw");
    // mitmproxy takes the credentials off before its addons see them: that the
    // proxy, which refused the first CONNECT, let this one's request through is the proof.
    assert_eq!(proxy.connects().len(), 2, "{:?}", proxy.flows());
    assert_eq!(proxy.requests(), vec![format!("POST {STS_HOST}/")]);
}

#[test]
fn the_federation_endpoint_goes_through_the_proxy() {
    let fed = Server::python("federation.py", &[]);
    let proxy = Mitm::proxy(&[("signin.example.test", fed.port)], &[]);
    let env = Env::new()
        .var(
            "SAML_LOGIN_FEDERATION_URL",
            "https://signin.example.test/federation",
        )
        .var("https_proxy", proxy.url(None))
        .var("AWS_CA_BUNDLE", proxy.ca.display().to_string());
    env.write(
        ".aws/credentials",
        "[dev]\naws_access_key_id = ASIAEXAMPLE\naws_secret_access_key = sekrit\naws_session_token = tok\n",
    );
    env.write(".aws/config", "[profile dev]\nregion = eu-central-1\n");
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    env.cmd()
        .args(["aws-console", "--profile", "dev", "--print"])
        .ran()
        .success()
        .stdout_has("SigninToken=signin-token-for-ASIAEXAMPLE");
    assert_eq!(proxy.connects(), vec!["signin.example.test:443".to_owned()]);
    assert_eq!(
        proxy.requests(),
        vec!["GET signin.example.test/federation".to_owned()]
    );
}

#[test]
fn throttling_is_retried_with_backoff_and_said() {
    let moto = moto();
    let sts = sts_recorder(&moto, &["--error", "Throttling", "--fail-first", "2"]);
    let (env, _idp) = world();
    let env = env.sts(&sts);
    let (ran, took) = assume(&env, &[]);
    let stderr = ran.stderr();
    let retries: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("retrying in"))
        .collect();
    ran.success()
        .check(retries.len() == 2, "two retries said")
        .check(
            retries[0].starts_with("saml-login: STS is throttling; retrying in "),
            "the first says STS is throttling",
        )
        .check(
            retries[0].ends_with("s (2 of 3)") && retries[1].ends_with("s (3 of 3)"),
            "the attempts counted",
        );
    assert_eq!(sts_calls(&sts).len(), 3);
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn a_busy_sts_that_stays_busy_ends_after_three_attempts() {
    let moto = moto();
    let sts = sts_recorder(
        &moto,
        &["--error", "ServiceUnavailable", "--fail-first", "9"],
    );
    let (env, _idp) = world();
    let env = env.sts(&sts);
    let (ran, _) = assume(&env, &[]);
    let retries = ran
        .stderr()
        .matches("STS is unavailable; retrying in")
        .count();
    ran.code(5)
        .check(retries == 2, &format!("{retries} retries said, not 2"))
        .stderr_has("STS ServiceUnavailable");
    assert_eq!(sts_calls(&sts).len(), 3);
}

#[test]
fn refusals_that_cannot_succeed_are_never_retried() {
    let moto = moto();
    for kind in ["AccessDenied", "InvalidIdentityToken", "ExpiredToken"] {
        let sts = sts_recorder(&moto, &["--error", kind, "--fail-first", "9"]);
        let (env, _idp) = world();
        let env = env.sts(&sts);
        assume(&env, &[])
            .0
            .context(kind)
            .code(5)
            .stderr_lacks("retrying");
        assert_eq!(sts_calls(&sts).len(), 1, "{kind}");
    }
}

#[test]
fn a_stalled_sts_ends_within_the_http_timeout_naming_the_host() {
    let sts = Server::python("sts_errors.py", &["--stall"]);
    let (env, _idp) = world();
    let env = env.sts(&sts).var("SAML_LOGIN_HTTP_TIMEOUT", "2");
    let (ran, took) = assume(&env, &[]);
    ran.code(1)
        .stderr_has(&format!("127.0.0.1:{}", sts.port))
        .stderr_has("did not answer");
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn the_first_ctrl_c_ends_a_network_wait_and_frees_the_login_lock() {
    let sts = Server::python("sts_errors.py", &["--stall"]);
    let World { env, idp: _idp, .. } = World::new()
        .sts_url(&sts.url)
        .section(
            "dev",
            "aws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
        )
        .build();
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "aws-assume-role"]);
    let mut child = GroupGuard::spawn(cmd);
    let deadline = Instant::now() + Duration::from_secs(60);
    while sts_calls(&sts).is_empty() {
        assert!(Instant::now() < deadline, "the login never reached STS");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    rustix_kill(child.id());
    let sent = Instant::now();
    let status = child.wait_for(Duration::from_secs(10)).expect("it ended");
    assert_eq!(status.code(), Some(130));
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );
    // The lock is free: the next login takes it at once (and reaches STS again).
    let mut again = env.saml_login();
    again.args(["-c", "dev", "aws-assume-role"]);
    let again = GroupGuard::spawn(again);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sts_calls(&sts).len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the second login waited on the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(again);
}

/// SIGINT to one process (the first Ctrl-C).
fn rustix_kill(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn headless_chromium_reaches_an_idp_only_the_proxy_can_resolve() {
    let _serial = serial();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let proxy = Mitm::proxy(&[("idp.example.test", idp.port)], &[]);
    let env = Env::new().var("HTTP_PROXY", proxy.url(None));
    env.config(&format!(
        "[DEFAULT]\nidp_url = http://idp.example.test\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\ntimeout = 60\n"
    ));
    let out = env.call(&["get-token"]).success();
    assert!(decode_saml(&out.stdout()).contains("<samlp:Response "));
    let requests = proxy.requests();
    assert!(
        requests
            .iter()
            .any(|r| r == "GET idp.example.test/samlp/test-client"),
        "the proxy saw {requests:?}"
    );
    // The callback on loopback went direct.
    assert!(
        !requests.iter().any(|r| r.contains("localhost")),
        "{requests:?}"
    );
}

#[test]
fn doctor_shows_proxy_verification_and_issuer_for_every_endpoint() {
    let proxy = Mitm::proxy(&[], &["--set", "proxyauth=alice:d0ct0r-pw"]);
    let env = Env::new()
        .var("HTTPS_PROXY", proxy.url(Some("alice:d0ct0r-pw")))
        .var("AWS_ENDPOINT_URL_STS", format!("https://{STS_HOST}"))
        .var(
            "SAML_LOGIN_FEDERATION_URL",
            "https://signin.example.test/federation",
        );
    env.config("[DEFAULT]\nidp_url = https://idp.example.test\nclient_id = test-client\n");
    let with_ca = Env {
        home: tempfile::tempdir().unwrap(),
        vars: env.vars.clone(),
    }
    .var("AWS_CA_BUNDLE", proxy.ca.display().to_string());
    let doctor = with_ca
        .call(&["doctor"])
        .success()
        .stdout_lacks("d0ct0r-pw")
        .stderr_lacks("d0ct0r-pw");
    let stdout = doctor.stdout();
    for host in ["idp.example.test", STS_HOST, "signin.example.test"] {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!("https://{host}")))
            .unwrap_or_else(|| panic!("{host}: {stdout}"));
        assert!(
            line.contains("through proxy http://alice:***@127.0.0.1:"),
            "{line}"
        );
        assert!(
            line.contains("TLS verified") && line.contains("CN=mitmproxy"),
            "{line}"
        );
    }
    assert!(stdout.contains("AWS_CA_BUNDLE="), "{stdout}");
    assert_eq!(proxy.connects().len(), 3, "{:?}", proxy.flows());
    assert!(
        proxy.requests().is_empty(),
        "no request is sent: {:?}",
        proxy.requests()
    );
    // Without the proxy's CA: exit 1, each endpoint not verified, issuer still named.
    let doctor = env.call(&["doctor"]).code(1).stdout_has("CN=mitmproxy");
    let unverified = doctor.stdout().matches("TLS NOT verified").count();
    doctor.check(
        unverified == 3,
        &format!("{unverified} endpoints not verified, not 3"),
    );
}
