//! What saml-login keeps on disk and in the OS keyring: the AWS credentials file and
//! config block, the request fingerprint that ties a stored answer to its request, the
//! caches and where their secrets live, the headless cookie jar.

pub(crate) mod aws_config;
pub(crate) mod cache;
pub(crate) mod cookie_jar;
pub(crate) mod credentials_check;
pub mod credentials_file;
pub(crate) mod identity;
pub(crate) mod lock_file;
#[cfg(any(test, all(feature = "keyring", any(target_os = "macos", windows))))]
pub(crate) mod secret_parts;
pub(crate) mod secret_store;
pub(crate) mod servers;
#[cfg(all(feature = "keyring", not(any(target_os = "macos", windows))))]
pub(crate) mod session_bus;
pub(crate) mod webview_refusals;
