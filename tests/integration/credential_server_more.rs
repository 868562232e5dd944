//! The credential server, continued (issue 30): a `--profile` chain's served keys
//! renewed hop by hop across several expiries; `status` listing the servers that run;
//! and every SECURITY.md claim about the server checked from another local user (uid
//! 65534 through `setpriv`): the endpoint gives it nothing without the token, it cannot
//! read the token (the command's environment, any command line, `--env-file`), and its
//! stalled connections do not hold up the owner's requests.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\nregion = eu-west-1\n";

/// moto behind the recording proxy, the test IdP (every browser logged in), a HOME whose
/// section [dev] names the role.
fn world(idp_args: &[&str]) -> (Env, Server, Server, Server) {
    let w = World::new()
        .idp_args(idp_args)
        .recorder(&[])
        .config(DEV)
        .build();
    (w.env, w.idp, w.recorder.unwrap(), w.moto.unwrap())
}

fn calls_of(recorder: &Server, action: &str) -> usize {
    sts_calls(recorder)
        .iter()
        .filter(|c| c.get("Action").is_some_and(|a| a == action))
        .count()
}

#[test]
fn a_chained_profiles_served_keys_renew_hop_by_hop_across_expiries() {
    // The SAML role's session lasts 900 s (so its credentials cache serves it all
    // along); the chained hop asks for 900 s and is renewed 893 s before its expiry:
    // every 7 s.
    let (env, idp, recorder, _moto) = world(&["--session-duration", "900"]);
    env.write(
        ".aws/config",
        &format!(
            "[profile dev]\ncredential_process = {} -c dev credential-process\n\n[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deployer\nsource_profile = dev\nrole_session_name = ci\nduration_seconds = 900\n",
            assert_cmd::cargo::cargo_bin("saml-login").display()
        ),
    );
    let env = env.var("SAML_LOGIN_TEST_REFRESH_MARGIN", "893");
    let job = env
        .cmd()
        .args(["exec", "--server", "--profile", "deploy", "--"])
        .arg(python())
        .args(["-c", POLL_ENDPOINT, "17"])
        .ran()
        .success();
    let seen = job.stdout_json();
    let keys = seen["keys"].as_array().unwrap().len();
    assert_eq!(seen["expired"], 0, "{seen}");
    assert_eq!(
        seen["arns"],
        serde_json::json!(["arn:aws:sts::123456789012:assumed-role/Deployer/ci"]),
        "every key served is the chained role's: {seen}"
    );
    // Hop by hop: one AssumeRole per period (each key the job saw, and at most one
    // renewal that landed after its last request), while the SAML hop's keys still
    // serve: one login and one AssumeRoleWithSAML in all.
    let hops = calls_of(&recorder, "AssumeRole");
    let saml_calls = calls_of(&recorder, "AssumeRoleWithSAML");
    job.check(
        keys >= 3,
        &format!("renewed chained keys reached the job: {seen}"),
    )
    .check(
        hops == keys || hops == keys + 1,
        &format!("{hops} AssumeRole calls for {keys} keys: {seen}"),
    )
    .check(
        saml_calls == 1,
        &format!("{saml_calls} AssumeRoleWithSAML calls"),
    )
    .check(idp.samlp_requests() == 1, "one login in all");
}

/// `status --json`'s rows of kind `server`.
fn servers(env: &Env) -> Vec<serde_json::Value> {
    let out = env.cmd().args(["status", "--json"]).ran().success().out;
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter().filter(|r| r["kind"] == "server").collect()
}

/// Wait until `file` holds a line ending in a newline; its trimmed text.
fn wait_for_line(file: &std::path::Path, guard: &mut GroupGuard) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if text.ends_with('\n') {
            return text.trim().to_owned();
        }
        assert!(guard.wait_for(Duration::ZERO).is_none(), "it ended early");
        assert!(Instant::now() < deadline, "nothing in {}", file.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn status_lists_the_running_servers_and_forgets_them_when_they_end() {
    let (env, _idp, _recorder, _moto) = world(&[]);
    env.write(".aws-accounts", "[DEFAULT]\nsandbox = 123456789012\n");
    assert!(servers(&env).is_empty());
    // `serve`, in the background.
    let vars = env.path("serve.env");
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "serve", "--env-file"])
        .arg(&vars)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut serve = GroupGuard::spawn(cmd);
    let (uri, token) = served_vars(&vars, &mut serve);
    // Its row, once the login at start has given it keys.
    let deadline = Instant::now() + Duration::from_secs(60);
    let row = loop {
        let rows = servers(&env);
        if let Some(r) = rows.iter().find(|r| r["state"] == "valid") {
            break r.clone();
        }
        assert!(Instant::now() < deadline, "no valid server row: {rows:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let name = row["name"].as_str().unwrap();
    assert!(name.starts_with(&uri), "{row}");
    assert!(
        name.contains("section dev") && name.contains("serve"),
        "{row}"
    );
    assert_eq!(
        row["role"], "arn:aws:iam::123456789012:role/Developer",
        "{row}"
    );
    assert_eq!(row["account"], "sandbox", "{row}");
    assert!(row["seconds_left"].as_i64().unwrap() > 1800, "{row}");
    // `exec --server` beside it: its command sees both servers listed.
    let seen = env.path("seen.json");
    env.cmd()
        .args(["-c", "dev", "exec", "--server", "--", "sh", "-c"])
        .arg(format!(
            "\"{}\" status --json > {}",
            assert_cmd::cargo::cargo_bin("saml-login").display(),
            seen.display()
        ))
        .ran()
        .success();
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&seen).unwrap()).unwrap();
    let listed: Vec<_> = rows.iter().filter(|r| r["kind"] == "server").collect();
    assert_eq!(listed.len(), 2, "{rows:?}");
    assert!(
        listed
            .iter()
            .any(|r| r["name"].as_str().unwrap().contains("(exec --server)")
                && r["state"] == "valid"),
        "{rows:?}"
    );
    let all = std::fs::read_to_string(&seen).unwrap();
    assert!(!all.contains(&token), "no token in status");
    assert!(!all.contains("ASIA"), "no key in status: {all}");
    // The exec server ended with its command: only `serve` is left; then none.
    assert_eq!(servers(&env).len(), 1);
    let status = env.call(&["status"]);
    let listed = status.stdout().lines().any(|l| {
        l.starts_with(&format!(
            "server\t{uri} section dev (serve)\tsandbox\tDeveloper\t"
        )) && l.ends_with("\tvalid")
    });
    status.check(listed, "the serve server's line");
    let _ = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status();
    assert!(
        serve.wait_for(Duration::from_secs(20)).is_some(),
        "serve stops"
    );
    assert!(servers(&env).is_empty(), "an ended server is not listed");
    // Even one killed with SIGKILL, whose file stays: it is not listed.
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "serve", "--env-file"])
        .arg(env.path("serve2.env"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut killed = GroupGuard::spawn(cmd);
    wait_for_line(&env.path("serve2.env"), &mut killed);
    let deadline = Instant::now() + Duration::from_secs(60);
    while servers(&env).is_empty() {
        assert!(Instant::now() < deadline, "the second server is not listed");
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("kill")
        .args(["-KILL", &killed.id().to_string()])
        .status();
    assert!(killed.wait_for(Duration::from_secs(20)).is_some());
    assert!(servers(&env).is_empty(), "a killed server is not listed");
}

/// As uid 65534: given (on stdin) the token to look for, and argv = [uri, pid, env file]:
/// reads the command's environment and the env file, looks for the token on every
/// command line, asks the endpoint without and with a wrong token and a CORS
/// preflight, then holds 40 idle connections and a half-sent request open, prints one
/// JSON line and waits for stdin to close.
const OTHER: &str = r#"
import json, os, socket, sys, urllib.request, urllib.error
uri, pid, env_file = sys.argv[1], sys.argv[2], sys.argv[3]
token = sys.stdin.readline().strip().encode()
out = {"uid": os.getuid()}
def can_read(path):
    try:
        open(path, "rb").read()
        return "read"
    except PermissionError:
        return "denied"
    except FileNotFoundError:
        return "missing"
out["environ"] = can_read(f"/proc/{pid}/environ") if pid != "-" else "-"
out["env_file"] = can_read(env_file) if env_file != "-" else "-"
hits = []
for p in filter(str.isdigit, os.listdir("/proc")):
    try:
        if token in open(f"/proc/{p}/cmdline", "rb").read():
            hits.append(p)
    except OSError:
        pass
out["cmdline_hits"] = hits
answers = []
for method, headers in (("GET", {}), ("GET", {"Authorization": "0" * 64}), ("OPTIONS", {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})):
    try:
        r = urllib.request.urlopen(urllib.request.Request(uri, method=method, headers=headers), timeout=10)
        answers.append([r.status, r.read().decode(), dict(r.headers)])
    except urllib.error.HTTPError as e:
        answers.append([e.code, e.read().decode(), dict(e.headers)])
out["answers"] = answers
host, port = uri.split("//")[1].split("/")[0].rsplit(":", 1)
held = [socket.create_connection((host, int(port)), timeout=10) for _ in range(40)]
held[0].sendall(b"GET /credentials HTTP/1.1\r\nHost: x\r\n")
out["held"] = len(held)
print(json.dumps(out), flush=True)
sys.stdin.read()
"#;

/// Run [`OTHER`] as uid 65534; its report, and the process (stdin open: it holds its
/// connections until that closes).
fn other_user(
    uri: &str,
    pid: &str,
    env_file: &str,
    token: &str,
) -> (serde_json::Value, std::process::Child) {
    let mut child = python_as_uid_65534(OTHER)
        .args([uri, pid, env_file])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("setpriv (util-linux) and /usr/bin/python3 are installed");
    writeln!(child.stdin.as_mut().unwrap(), "{token}").unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let report = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    (report, child)
}

/// The answers another user got: 401, 403 and a refused preflight, with no key and no
/// CORS grant.
fn assert_refused(report: &serde_json::Value) {
    let answers = report["answers"].as_array().unwrap();
    assert_eq!(answers[0][0], 401, "{report}");
    assert_eq!(answers[1][0], 403, "{report}");
    assert_eq!(
        answers[2][0], 401,
        "the CORS preflight is refused: {report}"
    );
    for a in answers {
        let body = a[1].as_str().unwrap();
        assert!(
            !body.contains("AccessKeyId") && !body.contains("ASIA"),
            "{report}"
        );
        let headers = a[2].as_object().unwrap();
        assert!(
            !headers
                .keys()
                .any(|h| h.to_ascii_lowercase().starts_with("access-control-allow")),
            "{report}"
        );
    }
    assert_eq!(
        report["cmdline_hits"],
        serde_json::json!([]),
        "the token on a command line: {report}"
    );
}

/// GET `uri` with the token: status, and how long it took.
fn owner_get(uri: &str, token: &str) -> (u16, String, Duration) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .proxy(None)
        .build()
        .into();
    let asked = Instant::now();
    let mut resp = agent
        .get(uri)
        .header("Authorization", token)
        .call()
        .expect("the endpoint answers");
    let status = resp.status().as_u16();
    (
        status,
        resp.body_mut().read_to_string().unwrap(),
        asked.elapsed(),
    )
}

#[test]
fn another_local_user_gets_no_keys_and_cannot_read_the_token_of_exec_server() {
    let (env, _idp, _recorder, _moto) = world(&[]);
    let ready = env.path("ready");
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "exec", "--server", "--", "sh", "-c"])
        .arg(format!(
            "printf '%s %s %s\\n' \"$$\" \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" \"$AWS_CONTAINER_AUTHORIZATION_TOKEN\" > {}; while :; do sleep 0.1; done",
            ready.display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut guard = GroupGuard::spawn(cmd);
    let line = wait_for_line(&ready, &mut guard);
    let mut parts = line.split(' ');
    let (pid, uri, token) = (
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().to_owned(),
    );
    // The command's environment holds the token (it is the point), readable by us.
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(String::from_utf8_lossy(&environ).contains(&token));
    let (report, mut other) = other_user(&uri, &pid, "-", &token);
    assert_eq!(report["uid"], 65534, "{report}");
    assert_eq!(report["environ"], "denied", "{report}");
    assert_refused(&report);
    // Its 40 idle connections and a half-sent request hold nothing up: the owner's
    // request is answered at once, with the keys.
    assert_eq!(report["held"], 40);
    let (status, body, took) = owner_get(&uri, &token);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("AccessKeyId"), "{body}");
    assert!(
        took < Duration::from_secs(2),
        "answered in {took:?} beside the stalls"
    );
    drop(other.stdin.take());
    let _ = other.wait();
}

#[test]
fn another_local_user_cannot_read_serves_env_file_nor_get_keys() {
    let (env, _idp, _recorder, _moto) = world(&[]);
    // A directory others may enter (as a shared project directory would be): only
    // the file's own mode keeps them out.
    let shared = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let vars = shared.path().join("serve.env");
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "serve", "--env-file"])
        .arg(&vars)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut guard = GroupGuard::spawn(cmd);
    let (uri, token) = served_vars(&vars, &mut guard);
    let (report, mut other) = other_user(&uri, "-", &vars.display().to_string(), &token);
    assert_eq!(report["env_file"], "denied", "{report}");
    assert_refused(&report);
    // The owner gets the keys once the login at start is done (at once, not held up).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body, took) = owner_get(&uri, &token);
        assert!(took < Duration::from_secs(2), "answered in {took:?}");
        if status == 200 {
            assert!(body.contains("AccessKeyId"), "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "{status} {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(other.stdin.take());
    let _ = other.wait();
}

#[test]
fn a_headless_renewal_that_needs_a_person_answers_an_error_json_at_once_and_says_why() {
    // Headless with neither a cookie jar nor a service account: only a person could log
    // in, so the server's login fails fast and the endpoint says so.
    let (env, idp, recorder, _moto) = world(&[]);
    let env = env.var("CHROME", "/nonexistent/no-chromium-for-this-test");
    let vars = env.path("serve.env");
    let errors = env.path("serve.err");
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "--headless", "serve", "--env-file"])
        .arg(&vars)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&errors).unwrap());
    let mut guard = GroupGuard::spawn(cmd);
    let (uri, token) = served_vars(&vars, &mut guard);
    // Wait for the failed login to be said on stderr, then ask twice.
    let deadline = Instant::now() + Duration::from_secs(60);
    let said = loop {
        let said = std::fs::read_to_string(&errors).unwrap_or_default();
        if said.contains("cannot renew the credentials") {
            break said;
        }
        assert!(Instant::now() < deadline, "{said}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let reason: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("cannot renew the credentials"))
        .collect();
    assert_eq!(reason.len(), 1, "one line says what is needed: {said}");
    for _ in 0..2 {
        let (status, body, took) = owner_get(&uri, &token);
        assert!(took < Duration::from_secs(2), "answered in {took:?}");
        assert_eq!(status, 503, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], "CredentialsUnavailable", "{body}");
        let message = v["message"].as_str().unwrap();
        assert!(
            reason[0].contains(message) || message.contains("cannot renew"),
            "the JSON says what stderr says: {message} / {said}"
        );
        assert!(!body.contains("AccessKeyId"), "{body}");
    }
    assert_eq!(calls_of(&recorder, "AssumeRoleWithSAML"), 0);
    assert_eq!(idp.samlp_requests(), 0, "{said}");
}
