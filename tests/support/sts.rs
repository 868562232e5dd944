//! STS peers: moto's server (a real STS), the STS error responder and recorder
//! (`sts_errors.py`), and a boto3 client asking moto who credentials belong to.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Server, free_port, python, which};

/// The STS error responder replaying `kind`.
pub fn sts_errors(kind: &str, upstream: Option<&str>) -> Server {
    let mut args = vec!["--error", kind];
    if let Some(u) = upstream {
        args.extend(["--upstream", u]);
    }
    Server::python_script("sts_errors.py", &args)
}

/// A recording proxy in front of `upstream` (moto): every call is forwarded and
/// answered by moto, and its parameters are kept for [`sts_calls`]. `extra` adds
/// flags (`--error KIND --fail-call N` replays an STS error for the Nth
/// AssumeRoleWithSAML call instead).
pub fn sts_recorder(upstream: &Server, extra: &[&str]) -> Server {
    let mut args = vec!["--upstream", upstream.url.as_str()];
    args.extend_from_slice(extra);
    Server::python_script("sts_errors.py", &args)
}

/// The calls a [`sts_recorder`] received, in order: each one's form parameters.
pub fn sts_calls(recorder: &Server) -> Vec<std::collections::BTreeMap<String, String>> {
    serde_json::from_str(&recorder.get("/calls")).expect("the recorder answers JSON")
}

/// moto's server: a real STS implementation.
///
/// The port is chosen before moto binds it, so another process can take it in
/// between: a server is only returned once moto itself answers there (its own API),
/// and a moto that could not bind (it exits) is started again on another port.
pub fn moto() -> Server {
    let moto_server =
        which("moto_server").expect("moto_server is installed (pip install 'moto[server]')");
    for _ in 0..5 {
        let port = free_port();
        let child = Command::new(&moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let mut server = Server {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if server.child.try_wait().ok().flatten().is_some() {
                break; // it could not bind: the port was taken; another one
            }
            if is_moto(port) {
                return server;
            }
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("moto_server did not start on any of 5 ports");
}

/// Whether moto answers on `port` (its own API, which no other server has).
fn is_moto(port: u16) -> bool {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .proxy(None)
        .build()
        .into();
    agent
        .get(&format!("http://127.0.0.1:{port}/moto-api/data.json"))
        .call()
        .and_then(|mut reply| reply.body_mut().read_to_string())
        .is_ok_and(|body| body.trim_start().starts_with('{'))
}

/// Ask moto who the credentials of `profile` in `credentials_file` belong to.
pub fn caller_identity(moto: &Server, credentials_file: &Path, profile: &str) -> String {
    let out = Command::new(python())
        .args([
            "-c",
            "import boto3, sys; s = boto3.Session(profile_name=sys.argv[1]); \
             print(s.client('sts', endpoint_url=sys.argv[2], region_name='us-east-1').get_caller_identity()['Arn'])",
            profile,
            &moto.url,
        ])
        .env("AWS_SHARED_CREDENTIALS_FILE", credentials_file)
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "GetCallerIdentity: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A job (python, `-c`) polling a credential server's endpoint (the two container
/// variables) for argv[1] seconds, as a long job would: every key, how many answers had
/// expired, and the ARN GetCallerIdentity gives each round's keys (boto3 reads them from
/// the endpoint).
pub const POLL_ENDPOINT: &str = r#"
import json, os, sys, time, urllib.request, datetime
import boto3
uri = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
keys, arns, requests, expired = [], set(), 0, 0
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    body = json.load(urllib.request.urlopen(urllib.request.Request(uri, headers={"Authorization": token}), timeout=5))
    requests += 1
    exp = datetime.datetime.fromisoformat(body["Expiration"].replace("Z", "+00:00"))
    if exp <= datetime.datetime.now(datetime.timezone.utc):
        expired += 1
    if body["AccessKeyId"] not in keys:
        keys.append(body["AccessKeyId"])
    arns.add(boto3.Session().client("sts", region_name="us-east-1").get_caller_identity()["Arn"])
    time.sleep(0.2)
print(json.dumps({"keys": keys, "arns": sorted(arns), "requests": requests, "expired": expired}))
"#;
