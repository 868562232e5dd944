//! Any SAML IdP, no extra application: `login_url` opens another vendor's IdP-initiated
//! link and `callback_url = aws` captures the POST at AWS's own sign-in endpoint, inside
//! the browser, before it leaves the machine.
//!
//! The proof that nothing leaves: the run happens in a network namespace of its own
//! (`unshare`, `ip`; root) with loopback, a veth interface holding the default route,
//! and the only resolver a logger on loopback (`dns_watch.py`) that writes down every
//! name asked and answers none. A request to the AWS endpoint needs its name looked
//! up first: the log must hold no sign-in host, and no TCP connection to port 443 may
//! be attempted (the kernel's `/proc/net/snmp` count of active opens to the endpoint
//! is read as the veth's transmit counter). A control run shows both see an attempt.

mod support;

use support::*;

/// What a namespace run saw.
struct Watched {
    /// The namespace script's exit status (the body's, or 10 when saml-login failed).
    status: Option<i32>,
    stdout: String,
    stderr: String,
    /// Packets sent on the veth (the way out) while `body` ran.
    tx_packets: u64,
    /// Every name looked up while `body` ran.
    lookups: Vec<String>,
}

impl Watched {
    fn looked_up_aws(&self) -> bool {
        self.lookups
            .iter()
            .any(|n| n.contains("signin.aws") || n.contains("amazonaws"))
    }
}

/// Run `body` (sh) in a fresh network namespace with loopback up, a watched veth
/// default route and a logging resolver. The script stops every server it started
/// (their pids are in `$PIDS`) before it exits, and the test checks that nothing of its
/// process group is left; the group is killed anyway when the run fails or overruns.
fn in_watched_namespace(body: &str, env: &Env) -> Watched {
    let script = format!(
        r#"set -e
PIDS=""
trap 'kill $PIDS 2>/dev/null; wait' EXIT
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
ip link set lo up
ip link add watch0 type veth peer name watch1
ip link set watch0 up; ip link set watch1 up
ip addr add 192.0.2.1/24 dev watch0
ip route add default via 192.0.2.254 dev watch0
ip addr add 192.0.2.53/32 dev lo
echo "nameserver 192.0.2.53" > "$HOME/resolv.conf"
mount --bind "$HOME/resolv.conf" /etc/resolv.conf
: > "$HOME/lookups.log"
{py} {dns} 192.0.2.53 "$HOME/lookups.log" > "$HOME/dns.out" 2>/dev/null &
PIDS="$PIDS $!"
for i in $(seq 50); do [ -s "$HOME/dns.out" ] && break; sleep 0.1; done
sleep 0.5
tx() {{ awk '/watch0:/ {{ print $11 }}' /proc/net/dev; }}
before=$(tx)
set +e
{body}
status=$?
after=$(tx)
echo "TX_DELTA=$((after - before))" >&2
sed 's/^/LOOKUP=/' "$HOME/lookups.log" >&2
exit $status
"#,
        py = python(),
        dns = support("dns_watch.py").display(),
    );
    let mut cmd = env.command("unshare");
    cmd.args(["--net", "--mount", "sh", "-c", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let (out, left) = GroupGuard::spawn(cmd).output_within(std::time::Duration::from_secs(180));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        left.is_empty(),
        "the namespace script left processes running: {left:#?}\n{stderr}"
    );
    let tx_packets = stderr
        .lines()
        .find_map(|l| l.strip_prefix("TX_DELTA="))
        .unwrap_or_else(|| panic!("the namespace script failed: {stderr}"))
        .parse()
        .unwrap();
    let lookups = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("LOOKUP="))
        .map(str::to_owned)
        .collect();
    Watched {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        tx_packets,
        lookups,
    }
}

/// Start the IdP and moto inside the namespace; `$IDP` and `$STS` name them.
fn servers(idp_args: &str) -> String {
    let moto = which("moto_server").expect("moto_server is installed");
    format!(
        r#"{py} {idp} --port 0 --auto-session {idp_args} > "$HOME/idp.out" 2>/dev/null &
PIDS="$PIDS $!"
STS_PORT=$({py} -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{moto} -H 127.0.0.1 -p "$STS_PORT" > /dev/null 2>&1 &
PIDS="$PIDS $!"
for i in $(seq 100); do [ -s "$HOME/idp.out" ] && {py} -c "import socket; socket.create_connection(('127.0.0.1', $STS_PORT), 0.2)" 2>/dev/null && break; sleep 0.1; done
IDP=$(sed -n 's/^listening on //p' "$HOME/idp.out")
export AWS_ENDPOINT_URL_STS="http://127.0.0.1:$STS_PORT"
"#,
        py = python(),
        idp = support("idp.py").display(),
        moto = moto.display(),
    )
}

fn saml_login() -> String {
    assert_cmd::cargo::cargo_bin("saml-login")
        .display()
        .to_string()
}

fn caller_identity_in_namespace() -> String {
    format!(
        r#"AWS_SHARED_CREDENTIALS_FILE="$HOME/.aws/credentials" {py} -c "import boto3, os; print('ARN=' + boto3.Session(profile_name='p').client('sts', endpoint_url=os.environ['AWS_ENDPOINT_URL_STS'], region_name='us-east-1').get_caller_identity()['Arn'])""#,
        py = python()
    )
}

#[test]
fn watcher_sees_an_attempt_to_reach_aws() {
    let env = Env::new();
    let seen = in_watched_namespace(
        &format!(
            "{py} -c \"import socket\ntry: socket.create_connection(('signin.aws.amazon.com', 443), 1)\nexcept OSError: pass\"\n{py} -c \"import socket\ntry: socket.create_connection(('192.0.2.80', 443), 1)\nexcept OSError: pass\"",
            py = python()
        ),
        &env,
    );
    assert!(
        seen.looked_up_aws(),
        "the control lookup was not seen: {}",
        seen.stderr
    );
    assert!(seen.tx_packets > 0, "the control connection was not seen");
}

#[test]
fn headless_captures_at_the_aws_endpoint_with_another_vendors_login_url() {
    let env = Env::new();
    let body = format!(
        r#"{servers}
{bin} --headless --login-url "$IDP/app/amazon_aws/test-client/sso/saml" --callback-url aws --timeout 60 \
  aws-assume-role --account 123456789012 --role Developer --profile p || exit 10
{identity}
"#,
        servers = servers("--callback https://signin.aws.amazon.com/saml"),
        bin = saml_login(),
        identity = caller_identity_in_namespace(),
    );
    let seen = in_watched_namespace(&body, &env);
    assert_eq!(seen.status, Some(0), "{}\n{}", seen.stdout, seen.stderr);
    assert!(
        seen.stdout
            .contains("ARN=arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"),
        "{}\n{}",
        seen.stdout,
        seen.stderr
    );
    assert!(
        !seen.looked_up_aws(),
        "the AWS endpoint was looked up: {:?}",
        seen.lookups
    );
    assert_eq!(
        seen.tx_packets, 0,
        "packets left through the way out; lookups: {:?}",
        seen.lookups
    );
}

#[test]
fn regional_endpoint_decides_the_sts_region() {
    let env = Env::new();
    let body = format!(
        r#"{servers}
cat > "$HOME/.saml-login" <<INI
[DEFAULT]
login_url = $IDP/app/amazon_aws/test-client/sso/saml
callback_url = aws
browser = headless
INI
{bin} --verbose aws-assume-role --account 123456789012 --role Developer --profile p || exit 10
"#,
        servers = servers("--callback https://eu-central-2.signin.aws.amazon.com/saml"),
        bin = saml_login(),
    );
    let seen = in_watched_namespace(&body, &env);
    assert_eq!(seen.status, Some(0), "{}\n{}", seen.stdout, seen.stderr);
    assert!(
        seen.stderr.contains("region=eu-central-2"),
        "{}\n{}",
        seen.stdout,
        seen.stderr
    );
    assert!(
        seen.stderr
            .contains("to=https://eu-central-2.signin.aws.amazon.com/saml"),
        "{}",
        seen.stderr
    );
    assert!(
        !seen.looked_up_aws(),
        "the AWS endpoint was looked up: {:?}",
        seen.lookups
    );
}

#[test]
fn system_browser_cannot_take_an_https_endpoint() {
    let idp = idp(&["--auto-session"]);
    let env = Env::new();
    env.config(&format!(
        "[DEFAULT]\nlogin_url = {}/app/amazon_aws/test-client/sso/saml\ncallback_url = aws\nbrowser = system\n",
        idp.url
    ));
    let out = env.cmd().arg("get-token").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("use --webview or --headless"), "{stderr}");
    assert!(
        idp.get("/stats").contains("\"samlp\": 0"),
        "no browser was opened"
    );
}

#[test]
fn webview_captures_at_the_aws_endpoint() {
    let display = std::env::var("DISPLAY")
        .expect("the webview tests need DISPLAY: run them under xvfb-run (scripts/test.sh does)");
    let mut env = Env::new().var("DISPLAY", display);
    if let Ok(auth) = std::env::var("XAUTHORITY") {
        env = env.var("XAUTHORITY", auth);
    }
    let body = format!(
        r#"{servers}
{bin} --webview --fresh --login-url "$IDP/app/amazon_aws/test-client/sso/saml" --callback-url aws --timeout 60 \
  aws-assume-role --account 123456789012 --role Developer --profile p || exit 10
{identity}
"#,
        servers =
            servers("--callback https://us-west-2.signin.aws.amazon.com/saml/acs/SAMLSPEXAMPLE"),
        bin = saml_login(),
        identity = caller_identity_in_namespace(),
    );
    let seen = in_watched_namespace(&body, &env);
    assert_eq!(seen.status, Some(0), "{}\n{}", seen.stdout, seen.stderr);
    assert_eq!(
        seen.tx_packets, 0,
        "packets left through the way out; lookups: {:?}",
        seen.lookups
    );
    assert!(
        seen.stdout
            .contains("ARN=arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"),
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
