//! Runs with nothing but loopback: a fresh network namespace (`unshare`, `ip`; root)
//! with loopback, a veth interface holding the default route, and the only resolver a
//! logger on loopback (`dns_watch.py`) that writes down every name asked and answers
//! none. A request to an AWS endpoint needs its name looked up first: a run whose log
//! holds no sign-in host sent nothing there. Servers a run needs are started inside
//! (moto: [`moto_in_namespace`]).

use super::{Env, GroupGuard, python, support, which};

/// What a namespace run saw.
pub struct Watched {
    /// The namespace script's exit status (the body's).
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Packets sent on the veth (the way out) while `body` ran.
    pub tx_packets: u64,
    /// Every name looked up while `body` ran.
    pub lookups: Vec<String>,
}

impl Watched {
    pub fn looked_up_aws(&self) -> bool {
        self.lookups
            .iter()
            .any(|n| n.contains("signin.aws") || n.contains("amazonaws"))
    }
}

/// Run `body` (sh) in a fresh network namespace with loopback up, a watched veth
/// default route and a logging resolver.
pub fn in_watched_namespace(body: &str, env: &Env) -> Watched {
    let script = format!(
        r#"set -e
# At exit, stop every process of this namespace (servers the body started in the
# background; `kill $(jobs -p)` in a trap sees no jobs in dash): only this run's own.
stop_all() {{
  me=$(readlink /proc/$$/ns/net)
  for p in /proc/[0-9]*; do
    pid=${{p#/proc/}}
    [ "$pid" = "$$" ] && continue
    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$me" ] && kill -9 "$pid" 2>/dev/null
  done
  true
}}
trap stop_all EXIT
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
    // A process group of its own, killed as a whole if the run fails or overruns.
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
    let left = processes_of(env);
    assert!(
        left.is_empty(),
        "the namespace run left processes: {left:?}"
    );
    Watched {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        tx_packets,
        lookups,
    }
}

/// The command lines of the processes running with `env`'s HOME.
fn processes_of(env: &Env) -> Vec<String> {
    let home = format!("HOME={}", env.home.path().display());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter(|e| {
            std::fs::read(e.path().join("environ"))
                .is_ok_and(|v| v.split(|b| *b == 0).any(|kv| kv == home.as_bytes()))
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .collect()
}

/// Shell lines that start moto inside the namespace and export `AWS_ENDPOINT_URL_STS`.
pub fn moto_in_namespace() -> String {
    let moto = which("moto_server").expect("moto_server is installed");
    format!(
        r#"STS_PORT=$({py} -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{moto} -H 127.0.0.1 -p "$STS_PORT" > /dev/null 2>&1 &
for i in $(seq 100); do {py} -c "import socket; socket.create_connection(('127.0.0.1', $STS_PORT), 0.2)" 2>/dev/null && break; sleep 0.1; done
export AWS_ENDPOINT_URL_STS="http://127.0.0.1:$STS_PORT"
"#,
        py = python(),
        moto = moto.display(),
    )
}

/// The saml-login binary, for namespace scripts.
pub fn saml_login_path() -> String {
    assert_cmd::cargo::cargo_bin("saml-login")
        .display()
        .to_string()
}

/// A shell line printing `ARN=` and the caller identity of profile `p` (moto).
pub fn caller_identity_in_namespace() -> String {
    format!(
        r#"AWS_SHARED_CREDENTIALS_FILE="$HOME/.aws/credentials" {py} -c "import boto3, os; print('ARN=' + boto3.Session(profile_name='p').client('sts', endpoint_url=os.environ['AWS_ENDPOINT_URL_STS'], region_name='us-east-1').get_caller_identity()['Arn'])""#,
        py = python()
    )
}
