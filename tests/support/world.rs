//! [`World`]: the usual pieces of a login test started together: the test IdP, STS
//! (moto, optionally behind the recording proxy), `~/.saml-login` pointing at the IdP,
//! and optional `~/.aws-accounts`, files and a saved SAML response.
//!
//! ```ignore
//! let w = World::new().config(DEV).accounts("[DEFAULT]\nsandbox = 123456789012\n").build();
//! w.env.call(&["-c", "dev", "aws-assume-role"]).success();
//! ```

use super::{Env, Server, config_for, fetch_saml_response, free_port, idp, moto, sts_recorder};

/// Where STS is for the world's runs.
enum Sts {
    /// moto, `AWS_ENDPOINT_URL_STS` pointing at it.
    Moto,
    /// moto behind the recording proxy started with these flags; STS is the proxy.
    Recorder(Vec<String>),
    /// This URL (a server the test started); no moto.
    Url(String),
    /// No STS server and no endpoint variable.
    None,
}

/// What to start; [`WorldBuilder::build`] starts it. By default: an IdP with a session
/// for every browser (`--auto-session`) posting to `http://localhost:PORT/saml`, moto,
/// `browser.py` as the system browser, and a `[DEFAULT]` section from [`config_for`].
pub struct WorldBuilder {
    env: Env,
    idp_args: Vec<String>,
    auto_session: bool,
    callback: bool,
    sts: Sts,
    browser: Option<String>,
    defaults: String,
    config: String,
    accounts: Option<String>,
    files: Vec<(String, String)>,
    saved_response: bool,
}

/// The running pieces: kept alive as long as the `World` (or the parts moved out of it).
pub struct World {
    pub env: Env,
    pub idp: Server,
    /// moto (`None` with [`WorldBuilder::no_sts`] or [`WorldBuilder::sts_url`]).
    pub moto: Option<Server>,
    /// The recording proxy in front of moto ([`WorldBuilder::recorder`]).
    pub recorder: Option<Server>,
    /// The callback port of the configuration.
    pub port: u16,
    /// The saved `SAMLResponse` ([`WorldBuilder::saved_response`]), also in `~/saved.b64`.
    pub response: Option<String>,
}

impl World {
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> WorldBuilder {
        WorldBuilder::on(Env::new())
    }
}

impl WorldBuilder {
    /// A world whose runs use `env` (e.g. [`super::display_env`]).
    pub fn on(env: Env) -> Self {
        WorldBuilder {
            env,
            idp_args: Vec::new(),
            auto_session: true,
            callback: true,
            sts: Sts::Moto,
            browser: Some(String::new()),
            defaults: String::new(),
            config: String::new(),
            accounts: None,
            files: Vec::new(),
            saved_response: false,
        }
    }

    /// More flags for the test IdP (see tests/support/README.md).
    pub fn idp_args(mut self, args: &[&str]) -> Self {
        self.idp_args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// The IdP has no session: a person (or the browser) must log in.
    pub fn person(mut self) -> Self {
        self.auto_session = false;
        self
    }

    /// The IdP keeps its default ACS (no `--callback` to the configured port).
    pub fn no_callback(mut self) -> Self {
        self.callback = false;
        self
    }

    /// STS is moto behind the recording proxy started with `flags` ([`sts_recorder`]).
    pub fn recorder(mut self, flags: &[&str]) -> Self {
        self.sts = Sts::Recorder(flags.iter().map(|a| (*a).to_owned()).collect());
        self
    }

    /// STS is `url` (a server the test started); no moto.
    pub fn sts_url(mut self, url: &str) -> Self {
        self.sts = Sts::Url(url.to_owned());
        self
    }

    /// No STS server and no `AWS_ENDPOINT_URL_STS`.
    pub fn no_sts(mut self) -> Self {
        self.sts = Sts::None;
        self
    }

    /// `browser.py` with `args` as the system browser (the default has none).
    pub fn browser_args(mut self, args: &str) -> Self {
        self.browser = Some(args.to_owned());
        self
    }

    /// No test browser set up (`BROWSER` left to [`WorldBuilder::var`]).
    pub fn no_browser(mut self) -> Self {
        self.browser = None;
        self
    }

    /// Set a variable of the runs' environment.
    pub fn var(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env = self.env.var(key, value);
        self
    }

    /// `key = value` lines of `[DEFAULT]`, each replacing the line of its key that
    /// [`config_for`] writes (`browser = system`, `timeout = 30` ...) or added after them:
    /// `.defaults("browser = webview\ntimeout = 300\n")`.
    pub fn defaults(mut self, lines: &str) -> Self {
        self.defaults.push_str(lines);
        if !lines.ends_with('\n') {
            self.defaults.push('\n');
        }
        self
    }

    /// Append `text` (sections, with their headers) to `~/.saml-login`, after
    /// `[DEFAULT]` and an empty line.
    pub fn config(mut self, text: &str) -> Self {
        self.config.push_str(text);
        self
    }

    /// Append the section `[name]` with `body` (`key = value` lines) to `~/.saml-login`.
    pub fn section(mut self, name: &str, body: &str) -> Self {
        self.config.push_str(&format!("[{name}]\n{body}"));
        if !body.ends_with('\n') {
            self.config.push('\n');
        }
        self
    }

    /// Write `~/.aws-accounts`.
    pub fn accounts(mut self, text: &str) -> Self {
        self.accounts = Some(text.to_owned());
        self
    }

    /// Write `text` to `rel` under HOME.
    pub fn file(mut self, rel: &str, text: &str) -> Self {
        self.files.push((rel.to_owned(), text.to_owned()));
        self
    }

    /// Fetch a SAML response from the IdP (it needs its session) into `~/saved.b64`.
    pub fn saved_response(mut self) -> Self {
        self.saved_response = true;
        self
    }

    /// Start everything and write the files.
    pub fn build(self) -> World {
        let (moto, recorder, sts_url) = match self.sts {
            Sts::Moto => {
                let moto = moto();
                let url = moto.url.clone();
                (Some(moto), None, Some(url))
            }
            Sts::Recorder(flags) => {
                let moto = moto();
                let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
                let recorder = sts_recorder(&moto, &flags);
                let url = recorder.url.clone();
                (Some(moto), Some(recorder), Some(url))
            }
            Sts::Url(url) => (None, None, Some(url)),
            Sts::None => (None, None, None),
        };
        let port = free_port();
        let callback = format!("http://localhost:{port}/saml");
        let mut args: Vec<&str> = Vec::new();
        if self.callback {
            args.extend(["--callback", callback.as_str()]);
        }
        if self.auto_session {
            args.push("--auto-session");
        }
        args.extend(self.idp_args.iter().map(String::as_str));
        let idp = idp(&args);
        let mut env = self.env;
        if let Some(url) = sts_url {
            env = env.var("AWS_ENDPOINT_URL_STS", url);
        }
        if let Some(browser) = &self.browser {
            env = env.test_browser(browser);
        }
        let key = |line: &str| line.split('=').next().unwrap_or_default().trim().to_owned();
        let mut defaults: Vec<String> = config_for(&idp, port).lines().map(String::from).collect();
        for line in self.defaults.lines() {
            defaults.retain(|l| key(l) != key(line));
            defaults.push(line.to_owned());
        }
        env.config(&format!("{}\n\n{}", defaults.join("\n"), self.config));
        if let Some(accounts) = &self.accounts {
            env.write(".aws-accounts", accounts);
        }
        for (rel, text) in &self.files {
            env.write(rel, text);
        }
        let response = self.saved_response.then(|| {
            let response = fetch_saml_response(&idp);
            env.write("saved.b64", &response);
            response
        });
        World {
            env,
            idp,
            moto,
            recorder,
            port,
            response,
        }
    }
}
