//! Opening a URL that holds a secret (our `RelayState`, a console `SigninToken`) in the
//! system browser without putting it on the browser's command line, which every local
//! user can read in `/proc/PID/cmdline`: the browser is given a `file://` page in a
//! private directory (0700, the page 0600) that forwards to the real URL.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use url::Url;

/// A forwarding page on disk; removed (with its directory) when dropped.
pub struct Forwarder {
    dir: tempfile::TempDir,
    page: PathBuf,
}

impl Forwarder {
    /// Write a page forwarding to `target` in a new private directory under the temp
    /// directory.
    pub fn new(target: &Url) -> io::Result<Self> {
        let dir = saml_login_capture::private_temp_dir("saml-login-open-")?;
        let page = dir.path().join("login.html");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&page)?;
        file.write_all(forwarding_page(target).as_bytes())?;
        file.sync_all()?;
        // An access time before any read: a later one says the browser has read it.
        file.set_times(std::fs::FileTimes::new().set_accessed(SystemTime::UNIX_EPOCH))?;
        Ok(Self { dir, page })
    }

    /// The `file://` URL to hand to the browser: it holds no secret.
    pub fn url(&self) -> Url {
        Url::from_file_path(&self.page).expect("an absolute path")
    }

    /// The page's path.
    pub fn path(&self) -> &Path {
        &self.page
    }

    /// Whether something has read the page since it was written (its access time moved).
    pub fn was_read(&self) -> bool {
        std::fs::metadata(&self.page)
            .and_then(|m| m.accessed())
            .is_ok_and(|t| t > SystemTime::UNIX_EPOCH)
    }

    /// Wait (at most `limit`) until something has read the page, so it can be removed
    /// after a browser that opens asynchronously; whether it was read. On a file system
    /// mounted `noatime` this waits the whole `limit` and says no.
    pub fn wait_until_read(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if self.was_read() {
                // The browser may read the file in more than one go.
                std::thread::sleep(Duration::from_millis(500));
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        tracing::debug!(dir = %self.dir.path().display(), "the forwarding page was not seen read");
        false
    }
}

/// An HTML page that sends the browser on to `target` at once and keeps no history
/// entry or referrer of its own.
fn forwarding_page(target: &Url) -> String {
    let attr = html_attribute(target.as_str());
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <meta http-equiv=\"refresh\" content=\"0;url={attr}\">\
         <title>saml-login</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\">\
         <p>Opening the sign-in page &hellip; <a href=\"{attr}\">continue</a></p></body></html>"
    )
}

fn html_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Open `target` in the system browser (`BROWSER` honoured) through a [`Forwarder`];
/// the page stays until the returned value is dropped.
pub fn open(target: &Url) -> io::Result<Forwarder> {
    let forwarder = Forwarder::new(target)?;
    webbrowser::open(forwarder.url().as_str())?;
    Ok(forwarder)
}

/// `url` without the query fields that are secrets of the login (`RelayState`,
/// `state`), for messages.
pub fn without_secrets(url: &Url) -> Url {
    let mut shown = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "RelayState" && k != "state")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    shown.set_query(None);
    if !kept.is_empty() {
        shown.query_pairs_mut().extend_pairs(kept);
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_left_out_of_the_url_shown() {
        let url = Url::parse("https://idp.example/samlp/x?a=1&RelayState=s3cret&state=t").unwrap();
        assert_eq!(
            without_secrets(&url).as_str(),
            "https://idp.example/samlp/x?a=1"
        );
        let bare = Url::parse("https://idp.example/samlp/x?RelayState=s3cret").unwrap();
        assert_eq!(
            without_secrets(&bare).as_str(),
            "https://idp.example/samlp/x"
        );
    }

    #[test]
    fn the_page_forwards_and_is_private() {
        let target = Url::parse("https://idp.example/samlp/x?RelayState=s3cret&a=\"b\"").unwrap();
        let f = Forwarder::new(&target).unwrap();
        assert!(!f.url().as_str().contains("s3cret"));
        let page = std::fs::read_to_string(f.path()).unwrap();
        assert!(
            page.contains(
                "content=\"0;url=https://idp.example/samlp/x?RelayState=s3cret&amp;a=%22b%22\""
            ),
            "{page}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(f.path()), 0o600);
            assert_eq!(mode(f.path().parent().unwrap()), 0o700);
        }
        let dir = f.path().parent().unwrap().to_owned();
        drop(f);
        assert!(!dir.exists());
    }
}
