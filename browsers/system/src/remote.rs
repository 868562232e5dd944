//! `--no-browser`: what to print when the browser is on another machine (an SSH
//! session, a container): the login URL, and how that machine reaches the callback on
//! this one. The URL holds our `RelayState`; it goes to the user's own terminal
//! (stderr), never to a command line.

use url::Url;

/// Where the login is printed rather than opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrintUrl {
    /// Why no browser is opened, when saml-login chose so itself (one line).
    pub reason: Option<String>,
    /// The address an SSH client reached this machine at (from `SSH_CONNECTION`).
    pub ssh_host: Option<String>,
}

impl PrintUrl {
    /// The lines to print for the login `start_url` with its callback on `port`.
    pub fn instructions(&self, start_url: &Url, port: u16) -> String {
        let host = self.ssh_host.as_deref().unwrap_or("HOST");
        let mut text = String::new();
        if let Some(reason) = &self.reason {
            text.push_str(&format!(
                "No browser opened: {reason}; as with --no-browser.\n"
            ));
        }
        text.push_str(&format!(
            "Open this URL in a browser:\n  {start_url}\n\
             The browser must reach http://localhost:{port} on this machine. From another \
             machine, forward the port there first (the same number on both ends), e.g.:\n  \
             ssh -L {port}:127.0.0.1:{port} {host}"
        ));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forward_names_the_real_port_and_the_host() {
        let url = Url::parse("https://idp.example/samlp/c?RelayState=abc").unwrap();
        let known = PrintUrl {
            reason: Some("over SSH without a display".into()),
            ssh_host: Some("198.51.100.4".into()),
        };
        let text = known.instructions(&url, 12345);
        assert!(
            text.starts_with("No browser opened: over SSH without a display"),
            "{text}"
        );
        assert!(
            text.contains("\n  https://idp.example/samlp/c?RelayState=abc\n"),
            "{text}"
        );
        assert!(
            text.ends_with("\n  ssh -L 12345:127.0.0.1:12345 198.51.100.4"),
            "{text}"
        );
        let unknown = PrintUrl::default().instructions(&url, 12200);
        assert!(unknown.starts_with("Open this URL"), "{unknown}");
        assert!(
            unknown.ends_with("ssh -L 12200:127.0.0.1:12200 HOST"),
            "{unknown}"
        );
    }
}
