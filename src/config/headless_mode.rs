//! How `--headless` runs a login that has a cookie jar (`headless_mode`): plain HTTP
//! first and Chromium when that cannot finish it (`auto`), HTTP alone, or Chromium
//! alone. A leaf: the parser, the resolver and the browser factory all use it.

/// How a headless login with a cookie jar runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum HeadlessMode {
    /// One plain GET of the start page with the jar first; Chromium when the answer is
    /// not the IdP's auto-submitting SAML form (and without a jar).
    #[default]
    Auto,
    /// The plain GET alone: no browser is ever started; a login that needs one fails.
    Http,
    /// Chromium alone, as before the browserless try existed.
    Chromium,
}

impl HeadlessMode {
    /// Its name as `--headless-mode` and the `headless_mode` setting spell it.
    pub fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}
