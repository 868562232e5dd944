//! `SAML_LOGIN_*` variables saml-login does not read (a misspelt `SAML_LOGIN_TIMOUT`
//! would otherwise be ignored in silence): one warning each, with the closest variable
//! it does read.

use crate::config::ini::closest;
use crate::config::keys::Key;

/// The variables read besides the `SAML_LOGIN_{KEY}` of each setting (and the test
/// hook of the credential server's renewal margin).
const OTHER_VARIABLES: &[&str] = &[
    "SAML_LOGIN_CONFIG",
    "SAML_LOGIN_COOKIES",
    "SAML_LOGIN_USERNAME",
    "SAML_LOGIN_PASSWORD",
    "SAML_LOGIN_WEBVIEW_HELPER",
    "SAML_LOGIN_WEBVIEW_LOG",
    "SAML_LOGIN_FEDERATION_URL",
    "SAML_LOGIN_TEST_REFRESH_MARGIN",
];

/// Every variable saml-login reads.
fn known() -> Vec<String> {
    Key::ALL
        .into_iter()
        .filter_map(Key::env_var)
        .chain(OTHER_VARIABLES.iter().map(|v| (*v).to_owned()))
        .collect()
}

/// One warning for each of `names` that starts with `SAML_LOGIN_` and is not read.
pub(crate) fn unknown_variables(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let known = known();
    let mut names: Vec<String> = names
        .into_iter()
        .filter(|n| n.starts_with("SAML_LOGIN_") && !known.contains(n))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let guess = closest(&name, known.iter().map(String::as_str))
                .map(|g| format!("; did you mean {g}?"))
                .unwrap_or_default();
            format!("{name} is not a variable saml-login reads{guess}")
        })
        .collect()
}

/// Print the warnings for the variables of this process.
pub(crate) fn warn_unknown_variables() {
    let names = std::env::vars_os().filter_map(|(k, _)| k.into_string().ok());
    for warning in unknown_variables(names) {
        crate::output::warning!("{warning}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_variable_gets_the_closest_and_known_ones_nothing() {
        let got = unknown_variables(
            [
                "SAML_LOGIN_TIMOUT",
                "SAML_LOGIN_TIMEOUT",
                "SAML_LOGIN_USERNAME",
                "HOME",
                "SAML_LOGIN_ZZZZZZZZZZZZ",
            ]
            .map(String::from),
        );
        assert_eq!(
            got,
            [
                "SAML_LOGIN_TIMOUT is not a variable saml-login reads; did you mean SAML_LOGIN_TIMEOUT?",
                "SAML_LOGIN_ZZZZZZZZZZZZ is not a variable saml-login reads",
            ]
        );
    }
}
