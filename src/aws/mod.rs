//! AWS: the SAML assertion and the roles it grants, partitions, STS, the console's
//! federation endpoint, and `--profile` chains through the AWS config.

pub mod assertion;
pub(crate) mod chain;
pub(crate) mod credentials;
pub(crate) mod federation;
pub(crate) mod partition;
pub(crate) mod role;
pub(crate) mod sts;
pub(crate) mod sts_retry;
