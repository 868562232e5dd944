//! SimpleSAMLphp, an IdP nobody here wrote, on loopback for the tests: Debian's
//! `simplesamlphp` package (1.19) under PHP's built-in web server, with a private
//! configuration directory (`SIMPLESAMLPHP_CONFIG_DIR`): a signing key and certificate
//! made for this run, `exampleauth:UserPass` users carrying AWS's attributes, and an SP
//! entry for AWS (`urn:amazon:webservices`) whose ACS is the callback under test. The
//! static configuration is in `simplesamlphp/`; the values of a run go to
//! `settings.json` next to it. The server is killed and the directory removed on drop.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Server, free_port, repo};

/// AWS's SAML attributes.
pub const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
pub const SESSION_NAME_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
pub const SESSION_DURATION_ATTRIBUTE: &str =
    "https://aws.amazon.com/SAML/Attributes/SessionDuration";

/// The SP entity ID AWS uses.
pub const AWS_ENTITY_ID: &str = "urn:amazon:webservices";

/// Where Debian's package keeps SimpleSAMLphp's web root.
const WWW: &str = "/usr/share/simplesamlphp/www";

/// A user of SimpleSAMLphp's own login form.
#[derive(Clone, Debug)]
pub struct SspUser {
    pub name: String,
    pub password: String,
    /// `role_arn,provider_arn` values, in the order SimpleSAMLphp sends them.
    pub roles: Vec<String>,
    pub session_name: String,
    pub session_duration: Option<u32>,
}

impl SspUser {
    pub fn new(name: &str, password: &str, roles: &[&str]) -> Self {
        Self {
            name: name.into(),
            password: password.into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            session_name: format!("{name}@example.org"),
            session_duration: Some(3600),
        }
    }

    fn json(&self) -> serde_json::Value {
        let mut attributes = serde_json::json!({
            "uid": [self.name],
            ROLE_ATTRIBUTE: self.roles,
            SESSION_NAME_ATTRIBUTE: [self.session_name],
        });
        if let Some(d) = self.session_duration {
            attributes[SESSION_DURATION_ATTRIBUTE] = serde_json::json!([d.to_string()]);
        }
        serde_json::json!({"name": self.name, "password": self.password, "attributes": attributes})
    }
}

/// How a SimpleSAMLphp instance is set up.
#[derive(Clone, Debug)]
pub struct SspOptions {
    /// The ACS of the AWS SP entry: where the IdP posts the response.
    pub acs: String,
    pub users: Vec<SspUser>,
    pub sign_response: bool,
    pub sign_assertion: bool,
}

impl SspOptions {
    pub fn new(acs: &str, users: Vec<SspUser>) -> Self {
        Self {
            acs: acs.into(),
            users,
            sign_response: true,
            sign_assertion: true,
        }
    }
}

/// A running SimpleSAMLphp.
pub struct SimpleSamlPhp {
    server: Server,
    dir: tempfile::TempDir,
}

impl SimpleSamlPhp {
    /// Start SimpleSAMLphp on a free loopback port; ready when it answers.
    pub fn start(options: &SspOptions) -> Self {
        let www = Path::new(WWW);
        assert!(
            www.is_dir(),
            "SimpleSAMLphp is installed (scripts/install-deps.sh: apt-get install simplesamlphp php8.2-cli php8.2-xml)"
        );
        let dir = tempfile::Builder::new()
            .prefix("simplesamlphp-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        for sub in ["cert", "log", "data", "tmp", "sessions"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let templates = repo().join("tests/support/simplesamlphp");
        for file in ["config.php", "authsources.php"] {
            std::fs::copy(templates.join(file), d.join(file)).unwrap();
        }
        // A key and certificate made for this run.
        let openssl = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=simplesamlphp-test-idp", "-keyout"])
            .arg(d.join("cert/idp.key"))
            .arg("-out")
            .arg(d.join("cert/idp.crt"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("openssl is installed");
        assert!(
            openssl.status.success(),
            "{}",
            String::from_utf8_lossy(&openssl.stderr)
        );
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let settings = serde_json::json!({
            "base_url": url,
            "dir": d,
            "metadata_dir": templates.join("metadata"),
            "secret_salt": saml_login_capture::random_token(),
            "admin_password": saml_login_capture::random_token(),
            "acs": options.acs,
            "sign_response": options.sign_response,
            "sign_assertion": options.sign_assertion,
            "users": options.users.iter().map(SspUser::json).collect::<Vec<_>>(),
        });
        std::fs::write(d.join("settings.json"), settings.to_string()).unwrap();
        let child = Command::new("php")
            .args(["-S", &format!("127.0.0.1:{port}"), "-t"])
            .arg(www)
            .env("SIMPLESAMLPHP_CONFIG_DIR", d)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("php (php8.2-cli) is installed");
        let server = Server {
            child,
            port,
            url: url.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "SimpleSAMLphp did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { server, dir }
    }

    pub fn url(&self) -> &str {
        &self.server.url
    }

    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// The IdP-initiated login for AWS (saml-login appends its `RelayState`, which
    /// SimpleSAMLphp posts back).
    pub fn login_url(&self) -> String {
        format!(
            "{}/saml2/idp/SSOService.php?spentityid={}",
            self.url(),
            AWS_ENTITY_ID.replace(':', "%3A")
        )
    }

    /// Shell lines that start a second server on this one's port and configuration
    /// (its sessions too) in the current network namespace: for runs in
    /// [`super::netns::in_watched_namespace`], where this one cannot be reached.
    pub fn serve_in_namespace(&self) -> String {
        format!(
            "SIMPLESAMLPHP_CONFIG_DIR='{dir}' php -S 127.0.0.1:{port} -t {WWW} > /dev/null 2>&1 &\n\
             for i in $(seq 100); do {py} -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 0.2)\" 2>/dev/null && break; sleep 0.1; done\n",
            dir = self.dir.path().display(),
            port = self.port(),
            py = super::python(),
        )
    }

    /// End every session on the server side (as PHP's session expiry does): the
    /// browser's cookies then name a session that no longer exists.
    pub fn expire_sessions(&self) -> usize {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.sessions_dir()).unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with("sess_") {
                std::fs::remove_file(entry.path()).unwrap();
                removed += 1;
            }
        }
        removed
    }

    /// How many PHP sessions the server holds.
    pub fn sessions(&self) -> usize {
        std::fs::read_dir(self.sessions_dir())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("sess_"))
            .count()
    }

    fn sessions_dir(&self) -> PathBuf {
        self.dir.path().join("sessions")
    }

    /// SimpleSAMLphp's own log (warnings and errors), for assertion messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/simplesamlphp.log")).unwrap_or_default()
    }
}
