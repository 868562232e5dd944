//! The credential server (`exec --server`, `serve`) and `status`: boto3 reads the
//! ECS-format endpoint with no static keys, against moto and the test IdP; wrong tokens
//! are refused; renewals are counted at the STS (one per period, not per request); a
//! renewal that needs a person answers an error JSON at once; `serve` on a
//! container-style address in a private network namespace (Linux only).

use std::time::{Duration, Instant};

use crate::support::*;

const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\nregion = eu-west-1\n";

/// moto behind the recording proxy, the test IdP (every browser logged in unless
/// `person` is set), and a HOME whose section [dev] names the role.
fn world(idp_args: &[&str], person: bool) -> (Env, Server, Server, Server) {
    let mut w = World::new().idp_args(idp_args).recorder(&[]).config(DEV);
    if person {
        w = w.person();
    }
    let w = w.build();
    (w.env, w.idp, w.recorder.unwrap(), w.moto.unwrap())
}

fn assume_calls(recorder: &Server) -> usize {
    sts_calls(recorder)
        .iter()
        .filter(|c| c.get("Action").is_some_and(|a| a == "AssumeRoleWithSAML"))
        .count()
}

/// The job `exec --server` runs: what it sees, as one JSON line; exits 7.
const JOB: &str = r#"
import json, os, sys, urllib.request, urllib.error
import boto3
out = {"static": [k for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE") if k in os.environ]}
uri = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
out["uri"], out["token_len"] = uri, len(token)
session = boto3.Session()
out["method"] = session.get_credentials().method
out["arn"] = session.client("sts").get_caller_identity()["Arn"]
refused = []
for headers in ({}, {"Authorization": "wrong"}, {"Authorization": token[:-1] + ("0" if token[-1] != "0" else "1")}):
    try:
        urllib.request.urlopen(urllib.request.Request(uri, headers=headers), timeout=5)
        refused.append([200, ""])
    except urllib.error.HTTPError as e:
        refused.append([e.code, e.read().decode()])
out["refused"] = refused
print(json.dumps(out))
sys.exit(7)
"#;

#[test]
fn exec_server_serves_boto3_through_the_endpoint_and_refuses_wrong_tokens() {
    let (env, _idp, recorder, _moto) = world(&[], false);
    // Static keys and a profile that would win over the endpoint are not passed on.
    let env = env
        .var("AWS_ACCESS_KEY_ID", "AKIASTALESTALESTALE0")
        .var("AWS_SECRET_ACCESS_KEY", "stale")
        .var("AWS_PROFILE", "elsewhere");
    let out = env
        .cmd()
        .args(["-c", "dev", "exec", "--server", "--"])
        .arg(python())
        .args(["-c", JOB])
        .ran()
        .code(7);
    let seen = out.stdout_json();
    assert_eq!(seen["static"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["method"], "container-role", "{seen}");
    assert_eq!(
        seen["arn"], "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com",
        "{seen}"
    );
    assert!(
        seen["token_len"].as_u64().unwrap() >= 32,
        "128 bits or more: {seen}"
    );
    let uri = seen["uri"].as_str().unwrap();
    assert!(uri.starts_with("http://127.0.0.1:"), "{uri}");
    let refused = seen["refused"].as_array().unwrap();
    assert_eq!(refused[0][0], 401, "{seen}");
    assert_eq!(refused[1][0], 403, "{seen}");
    assert_eq!(refused[2][0], 403, "{seen}");
    for r in refused {
        let body = r[1].as_str().unwrap();
        assert!(
            !body.contains("AccessKeyId") && !body.contains("ASIA"),
            "{body}"
        );
    }
    assert_eq!(assume_calls(&recorder), 1);
    // The port closed with the command.
    let port: u16 = uri
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the endpoint outlived the command"
    );
}

#[test]
fn exec_server_with_a_profile_chain_serves_the_chained_role() {
    let (env, _idp, _recorder, _moto) = world(&[], false);
    env.write(
        ".aws/config",
        &format!(
            "[profile dev]\ncredential_process = {} -c dev credential-process\n\n[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deployer\nsource_profile = dev\nrole_session_name = ci\n",
            assert_cmd::cargo::cargo_bin("saml-login").display()
        ),
    );
    let who = "import boto3, os; s = boto3.Session(); print(s.get_credentials().method, s.client('sts', region_name='us-east-1').get_caller_identity()['Arn'])";
    let out = env
        .cmd()
        .args(["exec", "--server", "--profile", "deploy", "--"])
        .arg(python())
        .args(["-c", who])
        .ran()
        .success();
    assert_eq!(
        out.stdout().trim(),
        "container-role arn:aws:sts::123456789012:assumed-role/Deployer/ci"
    );
}

#[test]
fn renewal_before_expiry_one_sts_call_per_period_not_per_request() {
    // Sessions of 900 s (moto's minimum) renewed 893 s before expiry: every 7 s.
    let (env, idp, recorder, _moto) = world(&["--session-duration", "900"], false);
    let env = env.var("SAML_LOGIN_TEST_REFRESH_MARGIN", "893");
    let started = Instant::now();
    let job = env
        .cmd()
        .args(["-c", "dev", "exec", "--server", "--"])
        .arg(python())
        .args(["-c", POLL_ENDPOINT, "17"])
        .ran();
    let ran = started.elapsed();
    let job = job.success();
    let seen = job.stdout_json();
    let keys = seen["keys"].as_array().unwrap().len();
    let requests = seen["requests"].as_u64().unwrap();
    let calls = assume_calls(&recorder);
    assert_eq!(seen["expired"], 0, "{seen}");
    // The job (17 s) spans two renewals at least (at 7 s and 14 s).
    job.check(keys >= 3, &format!("renewed keys reached the job: {seen}"))
        // One STS call per period: each key the job saw, and at most one renewal more
        // that landed after its last request.
        .check(
            calls == keys || calls == keys + 1,
            &format!("{calls} STS calls for {keys} keys: {seen}"),
        )
        .check(
            requests >= 4 * keys as u64,
            &format!("many requests, few STS calls: {seen}"),
        )
        // The renewals came from the cached assertion: one login in all.
        .check(idp.samlp_requests() == 1, "one login in all");
    assert!(
        calls as u64 <= ran.as_secs() / 7 + 2,
        "{calls} STS calls in {ran:?}"
    );
}

/// GET `uri` with `token`: status and body.
fn get_with(uri: &str, token: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .proxy(None)
        .build()
        .into();
    let mut req = agent.get(uri);
    if let Some(t) = token {
        req = req.header("Authorization", t);
    }
    let mut resp = req.call().expect("the endpoint answers");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap())
}

#[test]
fn serve_answers_an_error_json_at_once_while_a_person_must_log_in() {
    // No session at the IdP and a browser that fills nothing: a person must act.
    let (env, _idp, recorder, _moto) = world(&[], true);
    let vars = env.path("serve.env");
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "serve", "--env-file"])
        .arg(&vars)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut guard = GroupGuard::spawn(cmd);
    let (uri, token) = served_vars(&vars, &mut guard);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&vars).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        uri.starts_with("http://127.0.0.1:"),
        "loopback by default: {uri}"
    );
    for _ in 0..2 {
        let asked = Instant::now();
        let (status, body) = get_with(&uri, Some(&token));
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "answered in {:?}",
            asked.elapsed()
        );
        assert_eq!(status, 503, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], "CredentialsUnavailable");
        assert!(v["message"].as_str().unwrap().contains("login"), "{body}");
    }
    assert_eq!(get_with(&uri, Some("nope")).0, 403);
    assert_eq!(get_with(&uri, None).0, 401);
    assert_eq!(assume_calls(&recorder), 0);
    // SIGTERM ends it (and the login under way) promptly.
    #[cfg(unix)]
    {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &guard.id().to_string()])
            .status();
        let status = guard.wait_for(Duration::from_secs(20));
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(0),
            "serve stops on SIGTERM"
        );
    }
}

#[test]
fn serve_refuses_every_interface_unless_asked() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://idp.example.test\nclient_id = c\n");
    env.call(&["serve", "--address", "0.0.0.0"])
        .code(2)
        .stderr_has("--all-interfaces");
    env.call(&["serve", "--address", "::"]).code(2);
}

#[test]
fn status_lists_profiles_with_time_left_and_the_cached_assertion() {
    let (env, _idp, _recorder, _moto) = world(&[], false);
    env.write(".aws-accounts", "[DEFAULT]\nsandbox = 123456789012\n");
    env.ok(&["-c", "dev", "aws-assume-role"]);
    let fmt = |d: time::Duration| {
        (time::OffsetDateTime::now_utc() + d)
            .replace_nanosecond(0)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let mut creds = env.credentials();
    for (name, left) in [
        ("soon", time::Duration::minutes(4)),
        ("gone", time::Duration::minutes(-30)),
    ] {
        creds.push_str(&format!(
            "\n[{name}]\naws_access_key_id = ASIAX\naws_secret_access_key = s3cr3tvalue\naws_session_token = t0kenvalue\nexpiration = {}\nx_saml_login_role = arn:aws:iam::123456789012:role/Ops\n",
            fmt(left)
        ));
    }
    creds.push_str("\n[mine]\naws_access_key_id = AKIAMINE\naws_secret_access_key = x\n");
    std::fs::write(env.credentials_path(), creds).unwrap();
    let text = env.call(&["status", "--json"]).success().stdout();
    assert!(
        !text.contains("s3cr3t") && !text.contains("t0ken"),
        "{text}"
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    assert_eq!(row("dev")["state"], "valid");
    assert_eq!(row("dev")["account"], "sandbox");
    assert_eq!(
        row("dev")["role"],
        "arn:aws:iam::123456789012:role/Developer"
    );
    assert!(
        row("dev")["seconds_left"].as_i64().unwrap() > 1800,
        "{text}"
    );
    assert_eq!(row("soon")["state"], "expiring");
    assert_eq!(row("gone")["state"], "expired");
    assert!(rows.iter().all(|r| r["name"] != "mine"), "not ours: {text}");
    let assertions: Vec<_> = rows.iter().filter(|r| r["kind"] == "assertion").collect();
    assert_eq!(assertions.len(), 1, "{text}");
    assert_eq!(assertions[0]["state"], "valid");
    assert!(
        assertions[0]["name"]
            .as_str()
            .unwrap()
            .contains("/samlp/test-client")
    );
    // Not a terminal: one tab-separated line each, expiring ones marked.
    let status = env.call(&["status"]);
    let marked = status
        .stdout()
        .lines()
        .any(|l| l.starts_with("profile\tsoon\tsandbox\tOps\t") && l.ends_with("expiring !"));
    status
        .stdout_matches("\\AKIND\tNAME\tACCOUNT\tROLE\tLEFT\tSTATE\n")
        .check(marked, "the expiring profile's line, marked");
}

/// `serve` on the ECS container address (169.254.170.2, which the SDKs accept over plain
/// HTTP) in a private network namespace: boto3 with only the two variables gets the
/// role; nothing listens on 127.0.0.1 then, and nothing leaves the namespace.
#[cfg(target_os = "linux")]
#[test]
fn serve_on_a_container_address_in_a_private_namespace() {
    use crate::support::netns::{in_watched_namespace, moto_in_namespace, saml_login_path};
    let port = free_port();
    let idp = idp(&[
        "--auto-session",
        "--callback",
        &format!("http://localhost:{port}/saml"),
    ]);
    let env = Env::new();
    env.config(&format!("{}\n{DEV}", config_for(&idp, port)));
    env.write("resp.b64", &fetch_saml_response(&idp));
    let body = format!(
        r#"ip addr add 169.254.170.2/32 dev lo
{moto}
"{sl}" -c dev --saml-response-file "$HOME/resp.b64" serve --address 169.254.170.2 --port 80 --env-file "$HOME/serve.env" 2> "$HOME/serve.err" &
for i in $(seq 100); do [ -s "$HOME/serve.env" ] && break; sleep 0.1; done
set -a; . "$HOME/serve.env"; set +a
{py} - <<'PY'
import os, time, urllib.request, urllib.error, boto3
uri, token = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
print("URI=" + uri)
for i in range(100):
    try:
        urllib.request.urlopen(urllib.request.Request(uri, headers={{"Authorization": token}}), timeout=2)
        break
    except urllib.error.HTTPError:
        time.sleep(0.1)
s = boto3.Session()
print("ARN=" + s.client("sts", region_name="us-east-1").get_caller_identity()["Arn"])
print("METHOD=" + s.get_credentials().method)
import socket
try:
    socket.create_connection(("127.0.0.1", 80), 1)
    print("LOOPBACK=open")
except OSError:
    print("LOOPBACK=closed")
PY
cat "$HOME/serve.err" >&2
"#,
        moto = moto_in_namespace(),
        sl = saml_login_path(),
        py = python(),
    );
    let seen = in_watched_namespace(&body, &env);
    let line = |k: &str| {
        seen.stdout
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap_or_else(|| panic!("{k} in {}\n{}", seen.stdout, seen.stderr))
            .to_owned()
    };
    assert_eq!(line("URI="), "http://169.254.170.2:80/credentials");
    assert_eq!(
        line("ARN="),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
    assert_eq!(line("METHOD="), "container-role");
    assert_eq!(
        line("LOOPBACK="),
        "closed",
        "bound to the one address asked for"
    );
    assert_eq!(
        seen.tx_packets, 0,
        "nothing left the namespace: {}",
        seen.stderr
    );
}

/// SIGTERM to saml-login reaches the command, whose status is then saml-login's; the
/// endpoint's port closes with it.
#[cfg(unix)]
#[test]
fn exec_server_passes_sigterm_on_to_the_command() {
    let (env, _idp, _recorder, _moto) = world(&[], false);
    let ready = env.path("ready");
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "exec", "--server", "--", "sh", "-c"])
        .arg(format!(
            "trap 'exit 42' TERM; echo \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" > {}; while :; do sleep 0.1; done",
            ready.display()
        ))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut guard = GroupGuard::spawn(cmd);
    let deadline = Instant::now() + Duration::from_secs(60);
    let uri = loop {
        let text = std::fs::read_to_string(&ready).unwrap_or_default();
        if text.ends_with('\n') {
            break text.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(100));
    };
    let port: u16 = uri
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    // Only saml-login gets the signal (not its process group).
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &guard.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = guard.wait_for(Duration::from_secs(20));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(42),
        "the command's trap ran and its status is ours"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
