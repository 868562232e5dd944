//! Support servers started from Python scripts (`idp.py`, ...): [`Server`], the test
//! IdP, HTTP GETs to them and the SAML responses they serve.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{python, support};

/// A server process on loopback, killed on drop.
pub struct Server {
    pub(super) child: Child,
    pub port: u16,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Start a support script that prints `listening on URL` first.
    pub fn python(script: &str, args: &[&str]) -> Server {
        Self::python_script(script, args)
    }

    pub(super) fn python_script(script: &str, args: &[&str]) -> Server {
        let mut child = Command::new(python())
            .arg(support(script))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {script}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{script} said {line:?}"))
            .to_owned();
        let port = url.rsplit(':').next().unwrap().parse().unwrap();
        Server { child, port, url }
    }

    /// GET a path and return the body.
    pub fn get(&self, path: &str) -> String {
        http_get(&format!("{}{path}", self.url))
    }

    /// The test IdP's count `name` in its `/stats` (`samlp`, `login_posts` ...).
    pub fn stat(&self, name: &str) -> u64 {
        let stats = self.get("/stats");
        serde_json::from_str::<serde_json::Value>(&stats)
            .ok()
            .and_then(|v| v[name].as_u64())
            .unwrap_or_else(|| panic!("no count {name} in the test IdP's /stats: {stats}"))
    }

    /// How many times the test IdP served `/samlp/...`: the logins it saw.
    pub fn samlp_requests(&self) -> u64 {
        self.stat("samlp")
    }
}

/// The test IdP with `args` (see tests/support/README.md).
pub fn idp(args: &[&str]) -> Server {
    Server::python_script("idp.py", args)
}

/// A test IdP with a session for every browser that posts a `RelayState` of its own
/// (`forged`) to `callback`: a capture that must be refused while the wait goes on.
pub fn forging_idp(callback: &str) -> Server {
    idp(&[
        "--auto-session",
        "--callback",
        callback,
        "--relay-state-override",
        "forged",
    ])
}

/// GET `url` (a loopback server of the harness) and return the body; an unreachable
/// server, an HTTP error status or 20 s without an answer fails the test.
pub fn http_get(url: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        // The servers are on loopback: never through the machine's proxy.
        .proxy(None)
        .build()
        .into();
    agent
        .get(url)
        .call()
        .and_then(|mut reply| reply.body_mut().read_to_string())
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// The text of a base64 value (a `SAMLResponse`).
pub fn decode_b64(s: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

/// The SAMLResponse of the IdP's auto-submitting form (an IdP run with --auto-session).
pub fn fetch_saml_response(idp: &Server) -> String {
    let page = idp.get("/samlp/test-client");
    let start = page
        .find("name=\"SAMLResponse\" value=\"")
        .expect("form has SAMLResponse")
        + "name=\"SAMLResponse\" value=\"".len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].to_owned()
}

/// The XML of a base64 `SAMLResponse` (as `get-token` prints it).
pub fn decode_saml(b64: &str) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .unwrap_or_else(|e| panic!("not base64 ({e}): {b64:?}"));
    String::from_utf8(bytes).expect("the SAML response is UTF-8 XML")
}

/// A configuration whose [DEFAULT] points at `idp` with callback port `port`.
pub fn config_for(idp: &Server, port: u16) -> String {
    format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = system\ntimeout = 30\n",
        idp.url
    )
}
