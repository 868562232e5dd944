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
mod browserless;
mod claims_round_three;
mod cli;
mod console;
#[cfg(target_os = "linux")]
mod console_profiles;
mod corporate_network;
mod crash_safety;
mod credential_process;
mod credential_server;
mod credential_server_more;
mod credential_store;
mod form_filling;
mod guidance;
mod headless;
mod hostile_aws_config;
mod hostile_cache_dir;
mod hostile_keyring;
mod hostile_lows;
mod hostile_memory;
mod hostile_neighbours;
mod hostile_port_grace;
mod hostile_round_three;
mod interrupt;
mod keyring;
mod layout;
mod new_user_three;
mod new_user_three_b;
mod one_voice;
mod passkeys;
mod pkce;
mod pkce_settings;
mod profiles;
mod proxied_endpoints;
mod remote_shells;
mod secret_hygiene;
mod simplesamlphp;
mod sts_calls;
mod sts_errors;
mod system_browser;
mod trust;
mod webview;
mod wine;
