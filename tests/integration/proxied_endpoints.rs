//! Corporate networks, continued (issue 29): the STS endpoint the SDK resolves from the
//! AWS settings users already have (`AWS_USE_FIPS_ENDPOINT` / `use_fips_endpoint`, the
//! region, dual-stack, GovCloud) is the one that goes through the proxy and the one
//! saml-login names; pkce-login's token exchange and the browserless headless login go
//! through the inspecting proxy with its CA added. The proxy (mitmproxy) maps the real
//! AWS host names to moto on loopback, answers 502 for any other, and logs what it saw.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;

use crate::support::mitm::Mitm;
use crate::support::*;

const FIPS_EAST: &str = "sts-fips.us-east-1.amazonaws.com";
const FRANKFURT: &str = "sts.eu-central-1.amazonaws.com";
const GOV_WEST: &str = "sts.us-gov-west-1.amazonaws.com";
const DUAL_STACK: &str = "sts.us-east-1.api.aws";

/// A HOME whose section `dev` names the Developer role of `partition`, logging in from
/// a saved response of the test IdP; the proxy and its CA set.
fn world(partition: &str, proxy: &Mitm) -> (Env, Server) {
    let role = format!(
        "arn:{partition}:iam::123456789012:role/Developer,arn:{partition}:iam::123456789012:saml-provider/test-idp"
    );
    let w = World::new()
        .no_callback()
        .idp_args(&["--role", &role])
        .no_sts()
        .no_browser()
        .var("HTTPS_PROXY", proxy.url(None))
        .var("AWS_CA_BUNDLE", proxy.ca.display().to_string())
        .section(
            "dev",
            "aws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
        )
        .saved_response()
        .build();
    (w.env, w.idp)
}

fn assume(env: &Env) -> Ran {
    env.cmd()
        .args(["-c", "dev", "--saml-response-file"])
        .arg(env.path("saved.b64"))
        .args(["aws-assume-role", "--force"])
        .ran()
}

#[test]
fn fips_regional_and_dual_stack_sts_endpoints_are_the_sdks_and_go_through_the_proxy() {
    let moto = moto();
    let proxy = Mitm::proxy(
        &[
            (FIPS_EAST, moto.port),
            (FRANKFURT, moto.port),
            (GOV_WEST, moto.port),
            (DUAL_STACK, moto.port),
        ],
        &[],
    );
    let connects = |n: usize| proxy.connects().get(n).cloned().unwrap_or_default();

    // AWS_USE_FIPS_ENDPOINT in the environment: us-east-1's FIPS endpoint.
    let (env, _idp) = world("aws", &proxy);
    let env = env.var("AWS_USE_FIPS_ENDPOINT", "true");
    assume(&env).success();
    assert_eq!(
        connects(0),
        format!("{FIPS_EAST}:443"),
        "{:?}",
        proxy.flows()
    );

    // The region of the AWS config's default profile: its regional endpoint.
    let (env, _idp) = world("aws", &proxy);
    env.write(".aws/config", "[default]\nregion = eu-central-1\n");
    assume(&env).success();
    assert_eq!(
        connects(1),
        format!("{FRANKFURT}:443"),
        "{:?}",
        proxy.flows()
    );

    // GovCloud with use_fips_endpoint in the AWS config: the SDK's FIPS endpoint there
    // is sts.us-gov-west-1.amazonaws.com (no sts-fips host exists), and that is the
    // host saml-login names when the proxy's certificate is not trusted.
    let (env, _idp) = world("aws-us-gov", &proxy);
    env.write(".aws/config", "[default]\nuse_fips_endpoint = true\n");
    assume(&env).success();
    assert_eq!(
        connects(2),
        format!("{GOV_WEST}:443"),
        "{:?}",
        proxy.flows()
    );
    assert!(env.credentials().contains("[dev]"), "{}", env.credentials());
    let untrusted = env.var("AWS_CA_BUNDLE", "");
    let ran = assume(&untrusted);
    // Its handshake, and the one that read the issuer for the message: the same host.
    assert_eq!(
        connects(3),
        format!("{GOV_WEST}:443"),
        "{:?}",
        proxy.flows()
    );
    assert_eq!(
        connects(4),
        format!("{GOV_WEST}:443"),
        "{:?}",
        proxy.flows()
    );
    // The host the SDK called.
    ran.code(1)
        .stderr_has(&format!("the certificate of {GOV_WEST} "))
        .stderr_lacks("sts-fips");

    // Dual-stack behind a NO_PROXY that lets *.amazonaws.com go direct (a VPC endpoint):
    // the SDK calls sts.us-east-1.api.aws, which is not in NO_PROXY, so it goes through
    // the proxy (deciding for an amazonaws.com name would send it direct, and fail).
    let (env, _idp) = world("aws", &proxy);
    let env = env
        .var("AWS_USE_DUALSTACK_ENDPOINT", "true")
        .var("NO_PROXY", ".amazonaws.com");
    assume(&env).success();
    assert_eq!(
        connects(5),
        format!("{DUAL_STACK}:443"),
        "{:?}",
        proxy.flows()
    );

    assert_eq!(proxy.connects().len(), 6, "{:?}", proxy.flows());
    // Every call that was trusted reached moto through the proxy; none went elsewhere.
    assert_eq!(
        proxy.requests(),
        [FIPS_EAST, FRANKFURT, GOV_WEST, DUAL_STACK].map(|h| format!("POST {h}/")),
    );
}

/// One GET through `proxy` trusting only its CA (curl, as the user's browser): the
/// `Location` it answers, not followed.
fn location_through(proxy: &Mitm, url: &str) -> String {
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "30",
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
        ])
        .args(["--proxy", &proxy.url(None), "--cacert"])
        .arg(&proxy.ca)
        .arg(url)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .output()
        .expect("curl runs");
    let out = Ran::from(out).success().out;
    String::from_utf8(out.stdout).unwrap()
}

/// pkce-login `--no-open` against an IdP only the proxy can reach: the test plays the
/// browser (curl through the proxy), pkce-login exchanges the code itself.
fn pkce_through(env: &Env, proxy: &Mitm) -> (std::process::ExitStatus, String, String) {
    let mut cmd = env.command(assert_cmd::cargo::cargo_bin("pkce-login"));
    cmd.args(["--no-open", "get-id-jwt"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = GroupGuard::spawn(cmd);
    let mut stderr = BufReader::new(guard.child.stderr.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no URL printed");
        if let Some(rest) = line.trim().strip_prefix("https://idp.example.test/") {
            break format!("https://idp.example.test/{rest}");
        }
    };
    let callback = url::Url::parse(&location_through(proxy, &url)).unwrap();
    assert_eq!(callback.host_str(), Some("localhost"), "{callback}");
    // The callback is on loopback: the "browser" reaches it directly.
    let port = callback.port().unwrap();
    let mut s = connect_within(port, std::time::Duration::from_secs(20));
    write!(
        s,
        "GET {}?{} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n",
        callback.path(),
        callback.query().unwrap()
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let status = guard
        .wait_for(std::time::Duration::from_secs(60))
        .expect("pkce-login ended");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let mut stdout = String::new();
    if let Some(mut out) = guard.child.stdout.take() {
        out.read_to_string(&mut stdout).unwrap();
    }
    (status, stdout, rest)
}

#[test]
fn pkce_logins_token_exchange_goes_through_the_inspecting_proxy_with_its_ca() {
    let idp = idp(&["--auto-session"]);
    let proxy = Mitm::proxy(&[("idp.example.test", idp.port)], &[]);
    let env = Env::new().var("HTTPS_PROXY", proxy.url(None));
    env.write(
        ".pkce-login",
        &format!(
            "[DEFAULT]\nidp_url = https://idp.example.test\nclient_id = test-client\nlisten_port = {}\nbrowser = system\ntimeout = 60\n",
            free_port()
        ),
    );
    // Without the proxy's CA: the exchange fails naming the host, the issuer and the
    // setting; nothing was sent to the token endpoint.
    let (status, _, stderr) = pkce_through(&env, &proxy);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("idp.example.test")
            && stderr.contains("CN=mitmproxy")
            && stderr.contains("AWS_CA_BUNDLE="),
        "{stderr}"
    );
    assert!(
        !proxy.requests().iter().any(|r| r.contains("/oauth/token")),
        "{:?}",
        proxy.requests()
    );
    // With it (AWS_CA_BUNDLE): the code is exchanged through the proxy.
    let env = env.var("AWS_CA_BUNDLE", proxy.ca.display().to_string());
    let (status, stdout, stderr) = pkce_through(&env, &proxy);
    assert!(status.success(), "{stderr}");
    let tokens: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        tokens["id_token"].as_str().unwrap().split('.').count(),
        3,
        "a JWT: {stdout}"
    );
    assert_eq!(
        proxy.requests(),
        [
            "GET idp.example.test/authorize",
            "GET idp.example.test/authorize",
            "POST idp.example.test/oauth/token",
        ],
    );
    let stats: serde_json::Value = serde_json::from_str(&idp.get("/stats")).unwrap();
    assert_eq!(stats["token"], 1, "{stats}");
}

#[test]
fn get_token_without_a_browser_goes_through_the_inspecting_proxy_with_its_ca() {
    const SESSION: &str = "valid-session-through-proxy";
    let port = free_port();
    let idp = idp(&[
        "--session-cookie",
        SESSION,
        "--callback",
        &format!("http://localhost:{port}/saml"),
    ]);
    let proxy = Mitm::proxy(&[("idp.example.test", idp.port)], &[]);
    let env = Env::new()
        .var("HTTPS_PROXY", proxy.url(None))
        .var("CHROME", "/nonexistent/no-chromium-behind-the-proxy");
    env.config(&format!(
        "[DEFAULT]\nidp_url = https://idp.example.test\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\nheadless_mode = http\ntimeout = 60\n"
    ));
    let jar = env.write(
        "jar.txt",
        &format!("# Netscape HTTP Cookie File\n#HttpOnly_idp.example.test\tFALSE\t/\tTRUE\t0\tidp_session\t{SESSION}\n"),
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&jar, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let token = |extra: &[&str]| {
        env.cmd()
            .args(extra)
            .args(["--no-cache", "--cookies"])
            .arg(&jar)
            .arg("get-token")
            .ran()
    };
    // Untrusted: one line naming the host, the issuer and the setting.
    let untrusted = token(&[]);
    let lines = untrusted.stderr().lines().count();
    untrusted
        .code(1)
        .stderr_has("the certificate of idp.example.test")
        .stderr_has("CN=mitmproxy")
        .stderr_has("AWS_CA_BUNDLE=")
        .check(lines == 1, "one line");
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
    let ca = proxy.ca.display().to_string();
    let trusted = token(&["--ca-bundle", &ca]).success();
    assert!(decode_saml(&trusted.stdout()).contains("<samlp:Response "));
    assert_eq!(
        proxy.requests(),
        ["GET idp.example.test/samlp/test-client"],
        "{}",
        trusted.stderr()
    );
}
