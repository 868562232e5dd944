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
pub(crate) mod secret_store;
pub(crate) mod webview_refusals;
