//! The pipeline every login command shares: a SAML response (cached, or from a login
//! in the resolved browser, one login at a time per IdP) -> its parsed assertion ->
//! the role -> STS (with the retry of an expired cached assertion); the commands
//! store or print what it gives.

use std::cell::RefCell;
use std::time::Duration;

use saml_login_capture::{Callback, Cancel, CaptureError, Captured, LoginRequest, UnechoedVerdict};
use time::OffsetDateTime;

use crate::aws::assertion::{Assertion, SamlResponse};
use crate::aws::credentials::Credentials;
use crate::aws::partition::Partition;
use crate::aws::role::AwsRole;
use crate::aws::sts::{self, AssumeRequest};
use crate::config::CallbackSetting;
use crate::config::browser_setup::{BrowserSetup, LoginSetup};
use crate::config::plan::Job;
use crate::error::{Error, Result};
use crate::login::lock::{Acquired, LoginLock};
use crate::login::{self, Received};
use crate::login::{browser, handover};
use crate::storage::cache::Cache;
use crate::storage::identity::RequestTerms;

/// A login's context: the resolved [`Job`], owned whole, and what only a running login
/// has: the cancel, the clock and the time the run started, the caches it reads and the
/// IdP's login lock once taken.
pub(crate) struct Context {
    /// Everything the resolver produced for the pipeline.
    pub job: Job,
    pub cache: Cache,
    pub cancel: Cancel,
    /// The run's start, read once from [`Context::clock`].
    pub now: OffsetDateTime,
    /// The wall clock: the only time source of the pipeline (see [`Context::clock`]).
    clock: fn() -> OffsetDateTime,
    /// The login's start page (IdP and application): what identifies a login.
    pub idp: url::Url,
    /// The IdP's login lock, once taken: held until the run ends, so that a process
    /// waiting for it finds what this one stored.
    pub login_lock: RefCell<Option<LoginLock>>,
}

impl Context {
    /// The context of the resolved `job`.
    pub(crate) fn new(job: Job, cancel: Cancel) -> Self {
        let clock: fn() -> OffsetDateTime = crate::clock::now;
        Self {
            cache: Cache::new(job.paths.cache.clone(), job.settings.cache),
            idp: job.settings.start_url(),
            job,
            cancel,
            now: clock(),
            clock,
            login_lock: RefCell::new(None),
        }
    }

    /// The time now, for what is decided after a wait (a lock, a login: minutes may
    /// have passed since [`Context::now`]): a cache's validity, a login's start.
    pub(crate) fn clock(&self) -> OffsetDateTime {
        (self.clock)()
    }

    fn login_setup(&self) -> &LoginSetup {
        self.job
            .login
            .as_ref()
            .expect("the resolver sets up the browser of every command that logs in")
    }
}

/// The request's terms that every role of this run shares.
pub(crate) fn terms(cx: &Context) -> RequestTerms<'_> {
    let s = &cx.job.settings;
    RequestTerms {
        idp: &cx.idp,
        policy_arns: &s.policy_arns,
        inline_policy: s.inline_policy.as_deref(),
        duration: s.role_duration,
        region: s.region.as_deref(),
    }
}

/// Which roles a command asks for: an account number, a role (name or ARN), both or
/// neither.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Wanted<'a> {
    pub account: Option<&'a str>,
    pub role: Option<&'a str>,
}

impl Wanted<'_> {
    pub(crate) fn matches(&self, r: &AwsRole) -> bool {
        self.account.is_none_or(|a| r.account() == a)
            && self.role.is_none_or(|x| r.role_arn == x || r.name() == x)
    }

    pub(crate) fn is_any(&self) -> bool {
        self.account.is_none() && self.role.is_none()
    }
}

impl std::fmt::Display for Wanted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.role, self.account) {
            (Some(r), Some(a)) => write!(f, "role {r} in account {a}"),
            (Some(r), None) => write!(f, "role {r}"),
            (None, Some(a)) => write!(f, "a role in account {a}"),
            (None, None) => f.write_str("any role"),
        }
    }
}

/// Assume `role`: duration from the settings, else the assertion, else 3600; the STS
/// region from the settings, else the sign-in endpoint that got the assertion, else
/// the AWS sources, else the partition's. A cached assertion STS calls expired is
/// dropped and the login done again, once.
pub(crate) fn assume(
    cx: &Context,
    granted: &Granted,
    role: &AwsRole,
) -> Result<(Credentials, i32)> {
    let s = &cx.job.settings;
    let duration = s
        .role_duration
        .or(granted.assertion.session_duration)
        .unwrap_or(crate::config::DEFAULT_ROLE_DURATION);
    // The endpoint that received the POST, else the one the assertion names.
    let endpoint_region = granted
        .response
        .endpoint_region()
        .or_else(|| granted.assertion.signin_region());
    let request = AssumeRequest {
        role,
        saml_response: &granted.response,
        duration,
        policy_arns: &s.policy_arns,
        inline_policy: s.inline_policy.as_deref(),
        region: s.region.as_deref().or(endpoint_region.as_deref()),
        fallback_region: Partition::of_arn(&role.role_arn).default_region(),
    };
    match sts::assume(&request) {
        Err(Error::Sts { code, .. })
            if code == "ExpiredTokenException"
                && matches!(granted.origin, Origin::Cached { .. }) =>
        {
            crate::output::notice!("the cached SAML assertion has expired; logging in again");
            cx.cache.drop_assertion(cx.idp.as_str());
            let fresh = login(cx, format!("[{}]", s.shared.section))?;
            let again = AssumeRequest {
                saml_response: &fresh.response,
                ..request
            };
            Ok((sts::assume(&again)?, duration))
        }
        other => Ok((other?, duration)),
    }
}

/// A SAML response, its parsed assertion, and where it came from.
pub(crate) struct Granted {
    pub response: SamlResponse,
    pub assertion: Assertion,
    pub origin: Origin,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Origin {
    /// A login in this run.
    Login,
    /// The response the user handed over (`--saml-response-file`).
    Saved,
    /// The assertion cache.
    Cached { obtained_at: OffsetDateTime },
}

impl Origin {
    /// Where a list of granted roles came from, for messages.
    pub(crate) fn describe(self) -> String {
        match self {
            Origin::Login => "the SAML assertion of this login".into(),
            Origin::Saved => "the saved SAML response".into(),
            Origin::Cached { obtained_at } => format!(
                "the cached SAML assertion of {} (--force logs in again)",
                clock(obtained_at)
            ),
        }
    }
}

pub(crate) use crate::output::clock;

/// The SAML response and its parsed assertion: the cached one while it is valid and
/// grants a role that is `wanted` (said on stderr), else a new login (then cached
/// until its `NotOnOrAfter`). A process that waited for another's login uses what
/// that login stored.
pub(crate) fn assertion(cx: &Context, title: String, wanted: Wanted) -> Result<Granted> {
    if let Some(g) = cached_assertion(cx, wanted)? {
        return Ok(g);
    }
    if cx.job.use_assertion_cache
        && lock_login(cx)? == Acquired::AfterWaiting
        && let Some(g) = cached_assertion(cx, wanted)?
    {
        return Ok(g);
    }
    login(cx, title)
}

/// The cached assertion, when it may answer: caching on, no `--force`, still valid,
/// granting a `wanted` role. Its use is announced.
fn cached_assertion(cx: &Context, wanted: Wanted) -> Result<Option<Granted>> {
    if !cx.job.use_assertion_cache || cx.job.force {
        return Ok(None);
    }
    let Some(cached) = cx.cache.assertion(cx.idp.as_str(), cx.clock())? else {
        return Ok(None);
    };
    let Ok(assertion) = cached.response.parse() else {
        cx.cache.drop_assertion(cx.idp.as_str());
        return Ok(None);
    };
    if !assertion.roles.iter().any(|r| wanted.matches(r)) {
        crate::output::notice!(
            "the cached SAML assertion of {} grants no {wanted}; logging in again",
            clock(cached.obtained_at)
        );
        return Ok(None);
    }
    crate::output::notice!(
        "using the SAML assertion of {}, valid until {}; --force logs in again",
        clock(cached.obtained_at),
        clock(cached.not_on_or_after)
    );
    Ok(Some(Granted {
        response: cached.response,
        assertion,
        origin: Origin::Cached {
            obtained_at: cached.obtained_at,
        },
    }))
}

/// A new login (or the saved response), parsed, and cached when caching is on and the
/// response came back with our `RelayState`.
fn login(cx: &Context, title: String) -> Result<Granted> {
    let received = obtain(cx, title)?;
    let assertion = received.response.parse()?;
    if let Some(until) = assertion.not_on_or_after
        && cx.login_setup().browser.is_saved()
        && until < cx.clock()
    {
        crate::output::warning!(
            "the saved SAML response expired at {} (its NotOnOrAfter); STS refuses an expired assertion: save a new one",
            clock(until)
        );
    }
    if cx.job.use_assertion_cache {
        let cached = received.state_echoed
            && assertion.not_on_or_after.is_some_and(|until| {
                cx.cache
                    .store_assertion(cx.idp.as_str(), &received.response, cx.clock(), until)
                    .inspect_err(|e| {
                        crate::output::warning!("cannot cache the SAML assertion: {e}");
                    })
                    .is_ok()
            });
        if !cached {
            // Never leave an older assertion to answer for this login.
            cx.cache.drop_assertion(cx.idp.as_str());
        }
    }
    Ok(Granted {
        response: received.response,
        assertion,
        origin: if cx.login_setup().browser.is_saved() {
            Origin::Saved
        } else {
            Origin::Login
        },
    })
}

/// How long a process waits for another's login beyond its own login timeout.
const LOCK_MARGIN: Duration = Duration::from_secs(30);

/// Take the IdP's login lock unless this run holds it already.
pub(crate) fn lock_login(cx: &Context) -> Result<Acquired> {
    let mut held = cx.login_lock.borrow_mut();
    if held.is_some() {
        return Ok(Acquired::Free);
    }
    let (lock, how) = LoginLock::acquire(
        &cx.cache.locks_dir(),
        &format!("login at {}", cx.idp),
        cx.job.settings.shared.timeout + LOCK_MARGIN,
        &cx.cancel,
    )?;
    *held = Some(lock);
    Ok(how)
}

/// A response without our `RelayState` may be issued after the login began, within
/// this much clock difference between the IdP and this machine.
const ISSUE_SKEW: time::Duration = time::Duration::minutes(2);

/// Get the SAML response: a saved one, or a login in the chosen browser (one login at
/// a time per IdP, and per callback port for the system browser).
pub(crate) fn obtain(cx: &Context, title: String) -> Result<Received> {
    let mut request: LoginRequest = login::saml_request(
        &cx.job.settings,
        title,
        cx.cancel.clone(),
        cx.job.check_response,
    );
    let setup = cx.login_setup();
    // One login at a time per IdP; a saved response logs in nowhere, so it waits for
    // no other login.
    if !setup.browser.is_saved() {
        lock_login(cx)?;
    }
    // Another IdP's login may wait on the same loopback port.
    let _port = match (&setup.browser, request.callback.port()) {
        (BrowserSetup::System { .. }, Some(port)) if request.callback.is_loopback() => Some(
            LoginLock::acquire(
                &cx.cache.locks_dir(),
                &format!("callback port {port}"),
                cx.job.settings.shared.timeout + LOCK_MARGIN,
                &cx.cancel,
            )?
            .0,
        ),
        _ => None,
    };
    let started = cx.clock();
    if cx.job.settings.relay_state_applies() {
        // A post without our RelayState ends the wait only when it is this login's
        // response: junk from another program is refused and the wait goes on.
        let judge = unechoed_judge(cx, &request.callback, started);
        request.callback = request.callback.judging_unechoed(judge);
    }
    // A browser opened here waits for an IdP that answers: said at once when it does not.
    let here = match &setup.browser {
        BrowserSetup::System { open } => !matches!(open, saml_login_system::Open::PrintUrl(_)),
        BrowserSetup::Webview { .. } => true,
        _ => false,
    };
    if here {
        login::idp_check::check_start_url(&request.start_url)?;
    }
    let began = std::time::Instant::now();
    let port_setting = match cx.job.settings.callback {
        CallbackSetting::Url(_) => "callback_url",
        _ => "listen_port",
    };
    // The webview could not serve this IdP before: straight to the system browser.
    let remembered = handover::remembered(cx, &request);
    let (received, handed_over) = if let Some(line) = remembered {
        crate::output::notice!("{line}");
        let received = handover::in_system_browser(cx, &request, began, port_setting)?;
        (received, true)
    } else {
        let mut browser = browser::open(&setup.browser, &cx.job.paths.programs)?;
        match login::saml_response(browser.as_mut(), &request) {
            Err(Error::Capture(CaptureError::Unsupported { demand, .. }))
                if handover::possible(&setup.browser, &request) =>
            {
                drop(browser);
                let received = handover::after_demand(cx, &request, began, &demand, port_setting)?;
                (received, true)
            }
            other => (other.map_err(|e| e.port_from_setting(port_setting))?, false),
        }
    };
    if handed_over && setup.save_cookies.is_some() {
        crate::output::notice!(
            "not saving cookies: the login ended in your browser, which keeps its cookies to itself"
        );
    } else {
        browser::save_cookies(
            setup.save_cookies.as_deref(),
            &received.cookies,
            &request.start_url,
        )?;
    }
    if !received.state_echoed && cx.job.settings.relay_state_applies() {
        if cx.job.settings.require_relay_state {
            return Err(Error::RelayStateNotEchoed {
                callback: request.callback.url.to_string(),
            });
        }
        verify_unechoed(cx, &received.response, &request, started)?;
    }
    Ok(received)
}

/// The judge of a callback without our `RelayState` (see [`Callback::judging_unechoed`]):
/// a response not addressed to our callback or issued before this login began is
/// refused (anyone on this machine can post one) and the wait goes on; this login's
/// own response ends the wait, to be used only with `require_relay_state = false` for
/// one named role (else the page says why not and the terminal what to do).
fn unechoed_judge(
    cx: &Context,
    callback: &Callback,
    started: OffsetDateTime,
) -> impl Fn(&Captured) -> UnechoedVerdict + Send + Sync + 'static {
    let callback = callback.clone();
    let (required, pinned) = (cx.job.settings.require_relay_state, cx.job.pinned_role);
    move |captured| {
        let value = captured
            .field("SAMLResponse")
            .ok_or("carries no SAMLResponse")?;
        let assertion = SamlResponse::new(value.expose())
            .parse()
            .map_err(|_| "its SAMLResponse is not a SAML response saml-login can read")?;
        own_response(&assertion, &callback, started)?;
        Ok(if required {
            Some(
                "saml-login did not use the IdP's response: the IdP did not send our \
                 RelayState back. The terminal says what to do; you can close this tab."
                    .into(),
            )
        } else if !pinned {
            Some(
                "saml-login did not use the IdP's response: it came without our RelayState \
                 and this command does not name one role. The terminal says more; you can \
                 close this tab."
                    .into(),
            )
        } else {
            None
        })
    }
}

/// Whether `assertion` is addressed to `callback` (its Destination or Recipient) and
/// was issued after the login began (within [`ISSUE_SKEW`]); the error says why not.
fn own_response(
    assertion: &Assertion,
    callback: &Callback,
    started: OffsetDateTime,
) -> std::result::Result<(), String> {
    let addressed = [&assertion.destination, &assertion.recipient]
        .into_iter()
        .flatten()
        .filter_map(|u| url::Url::parse(u).ok())
        .any(|u| callback.matches_url(&u));
    if !addressed {
        return Err(format!(
            "it is not addressed to {} (its Destination and Recipient)",
            callback.url
        ));
    }
    match assertion.issued_at {
        Some(at) if at >= started - ISSUE_SKEW => Ok(()),
        Some(at) => Err(format!(
            "it was issued at {}, before this login began",
            clock(at)
        )),
        None => Err("it carries no IssueInstant".into()),
    }
}

/// `require_relay_state = false`: a response without our `RelayState` could have been
/// posted by any local program, so it is taken only when it is addressed to our
/// callback, was issued after this login began, and serves one role named by
/// `aws_account` and `aws_role` (STS then checks the IdP's signature for that role).
/// It is never cached.
fn verify_unechoed(
    cx: &Context,
    response: &SamlResponse,
    request: &LoginRequest,
    started: OffsetDateTime,
) -> Result<()> {
    if !cx.job.pinned_role {
        return Err(Error::UnverifiedResponse(
            "this command does not name one role (aws_account and aws_role)".into(),
        ));
    }
    let assertion = response.parse()?;
    own_response(&assertion, &request.callback, started).map_err(Error::UnverifiedResponse)?;
    crate::output::notice!(
        "the IdP sent no RelayState; the response is addressed to {} and was issued for this login (require_relay_state = false)",
        request.callback.url
    );
    Ok(())
}
