//! mitmproxy (`mitmdump`, PyPI `mitmproxy`) as the corporate network: a TLS-inspecting
//! proxy on loopback whose addon (`mitm_addon.py`) maps made-up host names to loopback
//! servers and logs every flow, or a TLS front (reverse mode) with a CA of its own.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, support, which};

/// A running mitmdump, killed on drop; its CA and its flow log.
pub struct Mitm {
    child: Child,
    pub port: u16,
    /// Its CA certificate (PEM).
    pub ca: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Mitm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mitmdump() -> PathBuf {
    which("mitmdump")
        .or_else(|| Some(PathBuf::from("/opt/mitmproxy/bin/mitmdump")).filter(|p| p.exists()))
        .expect("mitmdump is installed (scripts/install-deps.sh: pip install mitmproxy)")
}

impl Mitm {
    /// A forward proxy mapping each `(host, port)` of `map` to `127.0.0.1:port`, with
    /// `extra` mitmdump arguments (`--set proxyauth=user:pass`).
    pub fn proxy(map: &[(&str, u16)], extra: &[&str]) -> Mitm {
        let map = map
            .iter()
            .map(|(h, p)| format!("{h}=127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut args = vec![
            "--set".to_owned(),
            "connection_strategy=lazy".to_owned(),
            "-s".to_owned(),
            support("mitm_addon.py").display().to_string(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        Self::start(&args, &map)
    }

    /// A TLS front (reverse proxy) to `http://127.0.0.1:upstream`, its certificates
    /// signed by a CA of its own (a second, unrelated CA).
    pub fn tls_front(upstream: u16) -> Mitm {
        Self::start(
            &[
                "--mode".to_owned(),
                format!("reverse:http://127.0.0.1:{upstream}"),
            ],
            "",
        )
    }

    fn start(args: &[String], map: &str) -> Mitm {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("flows.jsonl");
        std::fs::write(&log, "").unwrap();
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(mitmdump())
                .args([
                    "--listen-host",
                    "127.0.0.1",
                    "--listen-port",
                    &port.to_string(),
                ])
                .arg("--set")
                .arg(format!("confdir={}", dir.path().display()))
                .args(["--set", "termlog_verbosity=error", "--set", "flow_detail=0"])
                .args(args)
                .env("MITM_MAP", map)
                .env("MITM_FLOW_LOG", &log)
                .env_remove("HTTPS_PROXY")
                .env_remove("HTTP_PROXY")
                .env_remove("https_proxy")
                .env_remove("http_proxy")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start mitmdump");
            let deadline = Instant::now() + Duration::from_secs(60);
            let ca = dir.path().join("mitmproxy-ca-cert.pem");
            loop {
                if child.try_wait().ok().flatten().is_some() {
                    break; // the port was taken: another one
                }
                if ca.exists() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Mitm {
                        child,
                        port,
                        ca,
                        log,
                        _dir: dir,
                    };
                }
                assert!(Instant::now() < deadline, "mitmdump did not start");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("mitmdump did not start on any of 5 ports");
    }

    /// `http://127.0.0.1:PORT`, with `user:password@` when given.
    pub fn url(&self, credentials: Option<&str>) -> String {
        match credentials {
            Some(c) => format!("http://{c}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    /// What the proxy saw, one JSON object per flow event.
    pub fn flows(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The `CONNECT` targets the proxy saw.
    pub fn connects(&self) -> Vec<String> {
        self.flows()
            .iter()
            .filter_map(|f| f["connect"].as_str().map(str::to_owned))
            .collect()
    }

    /// The requests (`METHOD host/path`) the proxy saw.
    pub fn requests(&self) -> Vec<String> {
        self.flows()
            .iter()
            .filter(|f| f["method"].is_string())
            .map(|f| {
                format!(
                    "{} {}{}",
                    f["method"].as_str().unwrap_or_default(),
                    f["host"].as_str().unwrap_or_default(),
                    f["path"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }
}
