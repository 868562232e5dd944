//! The integration tests: one test binary, one module per feature, all through the real
//! binaries and the harness in `tests/support/` (compiled once, here). Run one module
//! with `cargo test --test integration MODULE::` (for example `trust::`).
//!
//! Modules marked Linux-only need what only Linux has here (network namespaces,
//! `strace`, `/proc` views with no portable form, WebKitGTK under Xvfb, `xdotool`);
//! the rest compile on every OS.

#[path = "../support/mod.rs"]
mod support;

mod any_idp;
mod cli;
mod console;
mod crash_safety;
mod credential_process;
mod credential_store;
mod form_filling;
mod guidance;
mod headless;
mod hostile_neighbours;
mod interrupt;
mod keyring;
mod passkeys;
mod pkce;
mod profiles;
mod secret_hygiene;
mod simplesamlphp;
mod sts_calls;
mod sts_errors;
mod system_browser;
mod trust;
mod webview;
