//! What the console is asked to do, as resolved from the flags and the configuration:
//! where it opens (`--service`, `--destination`), how (`--print`, `--logout`), and in
//! which browser identity (`browser_profile`, `console_browser`).

use std::path::PathBuf;

use crate::config::keys::Key;
use crate::config::{Layers, expand_home, parse_bool};
use crate::error::Result;

/// What `aws-console` (or `-C`) is asked to do: where the console opens, and how.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConsoleTarget {
    /// `--service`: a console service (`s3`, `ec2`).
    pub service: Option<String>,
    /// `--destination`: a console URL, or a service name.
    pub destination: Option<String>,
    /// `--print`: the sign-in URL on stdout, no browser.
    pub print: bool,
    /// `--logout`: the console's sign-out in the profile's browser identity.
    pub logout: bool,
    /// `browser_profile` and `console_browser`.
    pub identity: IdentitySetting,
}

/// The browser identity a console opens in, as resolved.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdentitySetting {
    /// The `browser_profile` template (`{profile}` is the AWS profile's name); `None`:
    /// the default browser, as before.
    pub template: Option<String>,
    /// `console_browser`: the browser to run; else found like headless Chromium is,
    /// then Firefox.
    pub browser: Option<PathBuf>,
}

impl IdentitySetting {
    /// The identity's name for AWS profile `profile`, when one is configured.
    pub(crate) fn name_for(&self, profile: &str) -> Option<String> {
        self.template
            .as_ref()
            .map(|t| safe_name(&t.replace("{profile}", profile)))
    }
}

/// `name` as a directory name: ASCII letters, digits, `.`, `_`, `-` and `@` kept,
/// everything else `_`; never empty, never starting with a dot.
pub(crate) fn safe_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match kept.strip_prefix('.') {
        _ if kept.is_empty() => "_".into(),
        Some(rest) => format!("_{rest}"),
        None => kept,
    }
}

/// `browser_profile` (`true`: one per AWS profile, `{profile}`; `false`: none; else a
/// name, `{profile}` standing for the profile's) and `console_browser`, through `layers`.
pub(crate) fn console_identity(layers: &Layers) -> Result<IdentitySetting> {
    let template = layers
        .parsed(Key::BrowserProfile, |v| match parse_bool(v) {
            Ok(true) => Ok(Some("{profile}".to_owned())),
            Ok(false) => Ok(None),
            Err(_) if v.len() <= 64 && !v.starts_with('.') && !v.contains(['/', '\\']) => {
                Ok(Some(v.to_owned()))
            }
            Err(_) => Err(format!(
                "{v:?} is not a browser profile name (at most 64 characters, no / or \\, not starting with .)"
            )),
        })?
        .flatten();
    Ok(IdentitySetting {
        template,
        browser: layers.string(Key::ConsoleBrowser).map(|p| expand_home(&p)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_directory_names() {
        assert_eq!(safe_name("Admin@prod"), "Admin@prod");
        assert_eq!(safe_name("../../etc"), "_._.._etc");
        assert_eq!(safe_name("a/b c"), "a_b_c");
        assert_eq!(safe_name(""), "_");
        let s = IdentitySetting {
            template: Some("team-{profile}".into()),
            browser: None,
        };
        assert_eq!(s.name_for("dev").as_deref(), Some("team-dev"));
        assert_eq!(IdentitySetting::default().name_for("dev"), None);
    }
}
