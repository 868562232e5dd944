//! The integration-test harness: a temporary HOME per test, no inherited `AWS_*`
//! variables, and real peers on loopback: moto's STS server, the project's Auth0-like
//! test IdP (`idp.py`), the STS error responder (`sts_errors.py`) and a browser
//! stand-in (`browser.py`), and SimpleSAMLphp (`simplesamlphp.rs`). Every server is
//! killed when its handle drops.

// Parts of the harness only the Linux-only test modules use go unused elsewhere.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

#[cfg(target_os = "linux")]
pub mod console;
#[cfg(target_os = "linux")]
pub mod mitm;
#[cfg(target_os = "linux")]
pub mod netns;
#[cfg(target_os = "linux")]
pub mod remote;
#[cfg(target_os = "linux")]
pub mod simplesamlphp;
#[cfg(target_os = "linux")]
pub mod ssh;
#[cfg(target_os = "linux")]
pub mod wine;

mod env;
mod expect;
mod guard;
mod ports;
mod processes;
mod programs;
mod servers;
mod sts;
mod world;

pub use env::*;
pub use expect::*;
pub use guard::*;
pub use ports::*;
pub use processes::*;
pub use programs::*;
pub use servers::*;
pub use sts::*;
pub use world::*;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub const ROLE: &str = "arn:aws:iam::123456789012:role/Developer";
pub const PROVIDER: &str = "arn:aws:iam::123456789012:saml-provider/test-idp";
/// The keys saml-login writes into a credentials profile.
pub const CREDENTIAL_KEYS: [&str; 5] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "expiration",
    "x_security_token_expires",
];

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn support(file: &str) -> PathBuf {
    repo().join("tests/support").join(file)
}

/// Real browsers (headless Chromium, the SimpleSAMLphp runs) one at a time across the
/// whole test binary: two cores, one display, timing assertions. Hold the guard for the
/// test's length; "no Chromium left" checks count only their own run's processes anyway.
pub fn serial() -> MutexGuard<'static, ()> {
    static BROWSER: Mutex<()> = Mutex::new(());
    BROWSER.lock().unwrap_or_else(|e| e.into_inner())
}
