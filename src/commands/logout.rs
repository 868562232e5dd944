//! `logout`: forget the cached SAML assertion and credentials, the remembered
//! webview session and the webview's remembered refusal of an IdP, or of every IdP.

use saml_login_capture::webview;

use crate::config::paths::Paths;
use crate::error::{Error, Result};
use crate::storage::cache::Cache;
use crate::storage::webview_refusals::WebviewRefusals;

/// `logout`: forget the cached assertion and credentials and the remembered webview
/// session of `idp` (of every IdP when `None`). Profiles already written to the
/// credentials file stay.
pub(crate) fn logout(cache: &Cache, paths: &Paths, idp: Option<&url::Url>) -> Result<()> {
    // Nothing is deleted in a directory another user could have planted links in
    // (issue 27, finding 5): the whole of each is checked first.
    for dir in [
        cache.dir().join("credentials"),
        cache.dir().join("assertions"),
        paths.data.clone(),
    ] {
        crate::storage::credentials_file::check_trusted(&dir).map_err(|(path, why)| {
            Error::Untrusted {
                message: format!("{why}; logout deletes nothing there"),
                path,
            }
        })?;
    }
    let (assertion, credentials) = cache.forget(idp.map(url::Url::as_str))?;
    let profiles = match idp {
        Some(idp) => webview::profile_dir_for(&paths.data, idp),
        None => webview::profiles_dir(&paths.data),
    };
    let session = match std::fs::remove_dir_all(&profiles) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(source) => {
            return Err(Error::Write {
                path: profiles,
                source,
            });
        }
    };
    // The webview is tried again on an IdP it could not serve (a passkey page).
    let refusals = WebviewRefusals::new(paths.cache.clone()).forget(idp.map(url::Url::as_str))?;
    let refusals = if refusals > 0 {
        format!(", {refusals} remembered webview refusal(s) (the webview is tried again)")
    } else {
        String::new()
    };
    let whose = idp.map_or_else(|| "every IdP".to_owned(), |u| u.to_string());
    crate::output::notice!(
        "logged out of {whose}: removed {} cached SAML assertion, {credentials} cached credential(s), {} webview session{refusals}",
        if assertion { "the" } else { "no" },
        if session {
            "the remembered"
        } else {
            "no remembered"
        },
    );
    Ok(())
}
