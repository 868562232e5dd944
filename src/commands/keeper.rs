//! The credential server's keys, renewed before they expire: the main thread asks the
//! [`Source`] (the same one every command uses: credentials cache, assertion cache, a
//! login) for new keys when the held ones come within their refresh margin of their expiry;
//! requests are answered from what is held, and never wait long for a login.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;

use crate::aws::credentials::Credentials;
use crate::commands::endpoint::Lease;
use crate::error::Result;

/// Where new keys come from (on the thread that runs [`Keeper::renew`]: the caches may
/// hold a keyring connection, which stays on its thread).
pub(crate) trait Source {
    /// Credentials; with `held`, ones expiring after it (a cached copy of the held
    /// keys is no renewal).
    fn fetch(&mut self, held: Option<OffsetDateTime>) -> Result<Credentials>;

    /// What `status` lists for the server: the section or profile served and its role
    /// when known.
    fn serves(&self) -> (String, Option<String>) {
        (String::new(), None)
    }
}

/// How long after a failed renewal the next one starts.
const RETRY_AFTER: time::Duration = time::Duration::seconds(30);
/// How long a request waits for a renewal under way before it gets an error (the SDKs
/// give the endpoint 1 to 2 s).
const REQUEST_WAIT: Duration = Duration::from_millis(800);
/// Held keys closer than this to their expiry are not handed out.
const SERVE_GUARD: time::Duration = time::Duration::seconds(30);

#[derive(Default)]
struct State {
    held: Option<Credentials>,
    /// Why the last renewal failed, and when.
    failed: Option<(String, OffsetDateTime)>,
    renewing: bool,
    stopped: bool,
}

/// The held keys, renewed by [`Keeper::renew`].
pub(crate) struct Keeper {
    state: Mutex<State>,
    changed: Condvar,
    margin: time::Duration,
}

impl Keeper {
    /// Hold `first` (if any); [`Keeper::renew`] keeps it fresh, renewing `margin` before
    /// the held keys expire (the resolved `ServeSetup::refresh_margin`).
    pub(crate) fn new(first: Option<Credentials>, margin: time::Duration) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                held: first,
                ..State::default()
            }),
            changed: Condvar::new(),
            margin,
        })
    }

    /// Make [`Keeper::renew`] return (once a renewal under way ends).
    pub(crate) fn stop(&self) {
        self.lock().stopped = true;
        self.changed.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the next renewal is due, given `state`.
    fn due(&self, state: &State) -> OffsetDateTime {
        let by_expiry = state
            .held
            .as_ref()
            .map_or(OffsetDateTime::UNIX_EPOCH, |c| c.expiration - self.margin);
        match &state.failed {
            Some((_, at)) => by_expiry.max(*at + RETRY_AFTER),
            None => by_expiry,
        }
    }

    /// Renew the held keys from `source` whenever they are due, until [`Keeper::stop`].
    pub(crate) fn renew(&self, source: &mut dyn Source) {
        loop {
            let held = {
                let mut state = self.lock();
                loop {
                    if state.stopped {
                        return;
                    }
                    let wait = self.due(&state) - crate::clock::now();
                    if wait <= time::Duration::ZERO {
                        break;
                    }
                    let wait = Duration::try_from(wait).unwrap_or(Duration::from_secs(1));
                    state = self
                        .changed
                        .wait_timeout(state, wait.min(Duration::from_secs(60)))
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0;
                }
                state.renewing = true;
                state.held.as_ref().map(|c| c.expiration)
            };
            let got = source.fetch(held);
            let mut state = self.lock();
            state.renewing = false;
            match got {
                Ok(c) if held.is_none_or(|h| c.expiration > h) => {
                    crate::output::notice!(
                        "the credential server holds new credentials, valid until {}",
                        crate::output::clock(c.expiration)
                    );
                    state.held = Some(c);
                    state.failed = None;
                }
                Ok(_) => {
                    state.failed = Some((
                        "no credentials newer than the held ones were found".into(),
                        crate::clock::now(),
                    ));
                }
                // A login cancelled because the server is ending is no news.
                Err(_) if state.stopped => {}
                Err(e) => {
                    let message = format!("cannot renew the credentials: {e}");
                    crate::output::error(format_args!("{message}"), e.hint().as_deref());
                    state.failed = Some((message, crate::clock::now()));
                }
            }
            drop(state);
            self.changed.notify_all();
        }
    }
}

impl Lease for Keeper {
    fn current(&self) -> std::result::Result<Credentials, String> {
        let usable = |state: &State| {
            state
                .held
                .clone()
                .filter(|c| c.expiration - SERVE_GUARD > crate::clock::now())
        };
        let mut state = self.lock();
        if let Some(c) = usable(&state) {
            return Ok(c);
        }
        if state.renewing {
            state = self
                .changed
                .wait_timeout_while(state, REQUEST_WAIT, |s| s.renewing)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
            if let Some(c) = usable(&state) {
                return Ok(c);
            }
        }
        Err(match (&state.failed, state.renewing) {
            (_, true) => "new credentials are on their way: a login is under way (finish it in the browser window if one opened); ask again in a moment".into(),
            (Some((message, _)), _) => message.clone(),
            (None, false) => "the credentials have expired and are being renewed; ask again in a moment".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::cache::CREDENTIALS_MARGIN;
    use saml_login_capture::Secret;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    fn keys(until: OffsetDateTime) -> Credentials {
        Credentials {
            access_key_id: format!("ASIA{}", until.unix_timestamp()),
            secret_access_key: Secret::new("s"),
            session_token: Secret::new("t"),
            expiration: until,
        }
    }

    /// Keys valid for an hour, after `delay`; counts its calls.
    struct Counting {
        calls: Arc<AtomicUsize>,
        delay: Duration,
    }

    impl Source for Counting {
        fn fetch(&mut self, _held: Option<OffsetDateTime>) -> Result<Credentials> {
            std::thread::sleep(self.delay);
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(keys(OffsetDateTime::now_utc() + time::Duration::hours(1)))
        }
    }

    /// Run the keeper's renewals while `during` runs; how often the source was called.
    fn run(keeper: &Arc<Keeper>, delay: Duration, during: impl FnOnce()) -> usize {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut source = Counting {
            calls: calls.clone(),
            delay,
        };
        let renewer = Arc::clone(keeper);
        let t = std::thread::spawn(move || renewer.renew(&mut source));
        during();
        keeper.stop();
        t.join().unwrap();
        calls.load(Ordering::SeqCst)
    }

    #[test]
    fn fresh_keys_are_served_with_no_renewal() {
        let held = keys(OffsetDateTime::now_utc() + time::Duration::hours(1));
        let keeper = Keeper::new(Some(held.clone()), CREDENTIALS_MARGIN);
        let calls = run(&keeper, Duration::ZERO, || {
            for _ in 0..100 {
                assert_eq!(keeper.current().unwrap().access_key_id, held.access_key_id);
            }
            std::thread::sleep(Duration::from_millis(200));
        });
        assert_eq!(calls, 0);
    }

    #[test]
    fn keys_within_the_margin_are_renewed_once() {
        let held = keys(OffsetDateTime::now_utc() + time::Duration::minutes(5));
        let keeper = Keeper::new(Some(held.clone()), CREDENTIALS_MARGIN);
        let calls = run(&keeper, Duration::ZERO, || {
            std::thread::sleep(Duration::from_millis(500));
            for _ in 0..100 {
                assert_ne!(keeper.current().unwrap().access_key_id, held.access_key_id);
            }
        });
        assert_eq!(calls, 1, "one renewal, however many requests");
    }

    #[test]
    fn with_nothing_held_a_slow_renewal_answers_an_error_within_a_second() {
        let keeper = Keeper::new(None, CREDENTIALS_MARGIN);
        let calls = run(&keeper, Duration::from_secs(3), || {
            std::thread::sleep(Duration::from_millis(100));
            let asked = Instant::now();
            let e = keeper.current().unwrap_err();
            assert!(
                asked.elapsed() < Duration::from_secs(1),
                "{:?}",
                asked.elapsed()
            );
            assert!(e.contains("a login is under way"), "{e}");
        });
        assert_eq!(calls, 1);
    }
}
