//! Starting Chromium and driving the login in it: the launch options (DevTools over a
//! pipe, a process group, no secret in its environment), then the wait loop that
//! watches the page, types the service account's credentials where allowed, and ends
//! at the intercepted callback, a cancel, the timeout or a page that cannot go on.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Network;
use headless_chrome::{Browser as Chrome, LaunchOptions};
use saml_login_capture::{CaptureError, Login, LoginRequest, MAX_BODY_BYTES, Wait};
use url::Url;

use crate::demands;
use crate::devtools::{self, Intercepted};
use crate::login_form::{
    LoginState, STALL, Stillness, may_type_credentials, no_login, page_state, refused_with_status,
    rejected, waits_for_a_person,
};
use crate::profile::chromium_environment;
use crate::{Chromium, HeadlessOptions, NAME};

/// How often the wait loop looks at the page, the clock and the cancel flag.
const POLL: Duration = Duration::from_millis(150);

/// Whether this process runs as root (Chromium's sandbox refuses to start as root).
#[cfg(unix)]
fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[cfg(not(unix))]
fn running_as_root() -> bool {
    false
}

/// Start Chromium on `profile`, connected over the DevTools pipe. A failed start leaves
/// no process: the crate kills what it started.
pub(crate) fn launch(
    opts: &HeadlessOptions,
    chrome: &Chromium,
    profile: &Path,
    request: &LoginRequest,
) -> Result<Chrome, CaptureError> {
    let as_root = running_as_root();
    let args: Vec<&std::ffi::OsStr> = [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        "--disable-extensions",
        "--metrics-recording-only",
        // No window or tab of its own: saml-login opens the one tab it drives (full
        // Chromium would otherwise load its new-tab page; the shell opens none at all).
        "--no-startup-window",
    ]
    .iter()
    .map(std::ffi::OsStr::new)
    .collect();
    // A callback off this machine (AWS's sign-in endpoint) is answered inside the
    // browser: its host must never be resolved either, not even by a speculative
    // lookup after the capture (seen in tests/integration/any_idp.rs).
    let never_resolve = never_resolve_rule(&request.callback);
    let mut args = args;
    if let Some(rule) = &never_resolve {
        args.push(std::ffi::OsStr::new(rule));
    }
    let proxy_args: Vec<String> = opts
        .proxy
        .iter()
        .flat_map(|p| {
            [
                format!("--proxy-server={}", p.server),
                format!("--proxy-bypass-list={}", p.bypass),
            ]
        })
        .collect();
    args.extend(proxy_args.iter().map(std::ffi::OsStr::new));
    let envs = chromium_environment(profile, std::env::vars_os())?;
    let launch = LaunchOptions::default_builder()
        .path(Some(chrome.path.clone()))
        .process_envs(Some(envs))
        .headless(!opts.show_window)
        .sandbox(!as_root)
        .ignore_certificate_errors(false)
        .user_data_dir(Some(profile.to_path_buf()))
        .idle_browser_timeout(request.timeout + Duration::from_secs(60))
        // DevTools over a pipe, not a loopback port another local user could connect
        // to and drive the logged-in browser through (vendor/README.md).
        .pipe(true)
        // The service account's password stays in saml-login (Chromium gets it typed
        // into the page), as does a jar given in the environment.
        .env_remove(
            saml_login_capture::SECRET_ENV_VARS
                .map(str::to_owned)
                .to_vec(),
        )
        // Chromium and its helpers in a process group of their own, ended at once.
        .process_group(true)
        .args(args)
        .build()
        .map_err(|e| CaptureError::browser(NAME, format!("bad launch options: {e}")))?;
    tracing::debug!(
        chrome = %chrome.path.display(),
        build = ?chrome.build,
        headless = !opts.show_window,
        sandbox = !as_root,
        "launching Chromium"
    );
    let launched = Instant::now();
    let browser = Chrome::new(launch).map_err(|e| {
        CaptureError::browser(
            NAME,
            format!("could not start {}: {e}", chrome.path.display()),
        )
    })?;
    tracing::debug!(
        elapsed_ms = launched.elapsed().as_millis() as u64,
        "Chromium is up (DevTools connected)"
    );
    Ok(browser)
}

pub(crate) fn drive(
    browser: &Chrome,
    opts: &HeadlessOptions,
    request: &LoginRequest,
) -> Result<Login, CaptureError> {
    let fail =
        |what: &str, e: &dyn std::fmt::Display| CaptureError::browser(NAME, format!("{what}: {e}"));
    let opened = Instant::now();
    let tab = browser
        .new_tab()
        .map_err(|e| fail("Chromium opened no tab", &e))?;
    tracing::debug!(
        elapsed_ms = opened.elapsed().as_millis() as u64,
        "tab opened"
    );

    if !opts.cookies.is_empty() {
        let params: Vec<Network::CookieParam> =
            opts.cookies.iter().map(devtools::cookie_param).collect();
        tab.set_cookies(params)
            .map_err(|e| fail("could not set the cookies from the cookie jar", &e))?;
        tracing::debug!(count = opts.cookies.len(), "cookies set");
    }

    let rx = devtools::intercept_callback(&tab, &request.callback)
        .map_err(|e| fail("could not enable request interception", &e))?;
    demands::install(&tab, opts.show_window)
        .map_err(|e| fail("could not install the passkey watch", &e))?;

    let host = request
        .start_url
        .host_str()
        .unwrap_or("the IdP")
        .to_string();
    tracing::debug!(host = %host, "opening the login page");
    if let Err(e) = tab.navigate_to(request.start_url.as_str()) {
        return Err(navigation_error(&host, &e.to_string()));
    }

    let started = Instant::now();
    let wait = Wait::new(request, started);
    let mut login = LoginState::default();
    let mut still = Stillness::new(started);
    wait.until(POLL, |limit| {
            match rx.recv_timeout(limit) {
                Ok(Intercepted::Captured(captured)) => {
                    tracing::debug!(
                        method = captured.method.as_str(),
                        fields = captured.fields.len(),
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "callback captured"
                    );
                    let cookies = devtools::read_cookies(&tab);
                    return Ok(Some(Login {
                        callback: captured,
                        cookies,
                    }));
                }
                Ok(Intercepted::TooLarge(len)) => {
                    return Err(CaptureError::browser(
                        NAME,
                        format!(
                            "the callback request body is {len} bytes, more than the {MAX_BODY_BYTES} accepted"
                        ),
                    ));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(CaptureError::browser(
                        NAME,
                        "Chromium stopped intercepting requests",
                    ));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            // Out of time or cancelled while waiting: that, before judging the page.
            wait.check()?;
            // A passkey or a managed device asked for: no wait helps.
            demands::check(&tab, opts.show_window)?;
            let page = match page_state(&tab) {
                Ok(page) => page,
                Err(e) => {
                    // A page between documents cannot be evaluated; a dead browser cannot
                    // answer anything.
                    if browser.get_version().is_err() {
                        return Err(CaptureError::browser(
                            NAME,
                            format!("Chromium exited or crashed during the login ({e})"),
                        ));
                    }
                    return Ok(None);
                }
            };
            if let Some(failed) = page.error_url.as_deref() {
                let failed_host = Url::parse(failed)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_else(|| host.clone());
                return Err(navigation_error(
                    &failed_host,
                    "the page could not be loaded",
                ));
            }
            let unchanged = still.observe(&page, Instant::now());
            let account = opts.login.as_ref();
            if !page.submitted && page.is_login_form() {
                match account {
                    Some((user, password)) => {
                        let here = tab
                            .evaluate("location.href", false)
                            .ok()
                            .and_then(|r| r.value)
                            .and_then(|v| v.as_str().and_then(|u| Url::parse(u).ok()));
                        may_type_credentials(&request.start_url, here.as_ref())
                            .map_err(|why| CaptureError::browser(NAME, why))?;
                        login.step(&tab, &page, user, password)?;
                        return Ok(None);
                    }
                    // A person at the window (--show-browser) logs in.
                    None if opts.show_window => {}
                    None => return Err(no_login(&opts.cookies)),
                }
            }
            if let Some((user, _)) = account
                && !page.submitted
                && login.submitted()
                && page.alert.is_some()
            {
                // Our login was answered with an error page instead of the form.
                return Err(rejected(user, &page));
            }
            if let Some((user, _)) = account
                && login.submitted()
                && matches!(page.status, 401 | 403)
            {
                // The IdP refused the login itself (often a bare page no form follows).
                return Err(refused_with_status(user, &page));
            }
            // saml-login's own answer (a refused callback) waits for the timeout, as before.
            if !opts.show_window && !page.ours && unchanged >= STALL {
                return Err(waits_for_a_person(&page, unchanged));
            }
        Ok(None)
    })
}

fn navigation_error(host: &str, detail: &str) -> CaptureError {
    CaptureError::browser(
        NAME,
        format!(
            "could not open the login page on {host} ({detail}); check the IdP URL and the network"
        ),
    )
}

/// `--host-resolver-rules` that make Chromium's resolver fail every callback host at
/// once without asking DNS, when the callback is not on this machine.
fn never_resolve_rule(callback: &saml_login_capture::Callback) -> Option<String> {
    if callback.is_loopback() {
        return None;
    }
    let rules: Vec<String> = callback
        .intercept_hosts()
        .iter()
        .map(|h| {
            h.rsplit_once(':')
                .map_or(h.as_str(), |(host, _)| host)
                .to_owned()
        })
        .map(|h| format!("MAP {h} ~NOTFOUND"))
        .collect();
    Some(format!("--host-resolver-rules={}", rules.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use saml_login_capture::{Callback, Method};

    #[test]
    fn callback_hosts_are_never_resolved() {
        let aws = never_resolve_rule(&Callback::aws_signin(Method::Post)).unwrap();
        assert!(aws.contains("MAP signin.aws.amazon.com ~NOTFOUND"), "{aws}");
        assert!(aws.contains("MAP *.signin.amazonaws.cn ~NOTFOUND"), "{aws}");
        let loopback = Callback::new(
            Method::Post,
            Url::parse("http://localhost:12200/saml").unwrap(),
        );
        assert_eq!(never_resolve_rule(&loopback), None);
        let other = Callback::new(
            Method::Post,
            Url::parse("https://sso.example:8443/acs").unwrap(),
        );
        assert_eq!(
            never_resolve_rule(&other).unwrap(),
            "--host-resolver-rules=MAP sso.example ~NOTFOUND"
        );
    }
}
