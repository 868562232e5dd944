//! SIGTERM and SIGHUP end a login as Ctrl-C does (issue 27): the wait is cancelled, so
//! that the forwarding page, Chromium, the webview helper and the callback port are
//! cleaned up (the port then guarded), and saml-login exits with 128 + the signal's
//! number. Once `exec` or `serve` takes the signals over (to pass them on to a
//! command, or to stop a server), they are theirs alone.

#[cfg(unix)]
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicI32, Ordering};

/// The first termination signal received (0: none).
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// Whether `exec` or `serve` handles the signals now.
#[cfg(unix)]
static HANDED_OVER: AtomicBool = AtomicBool::new(false);

/// `exec` and `serve` handle SIGTERM and SIGHUP from here on.
#[cfg(unix)]
pub(crate) fn hand_over() {
    HANDED_OVER.store(true, Ordering::SeqCst);
}

#[cfg(unix)]
pub(crate) fn handed_over() -> bool {
    HANDED_OVER.load(Ordering::SeqCst)
}

/// Record `signal`; whether it is the first one.
#[cfg(unix)]
pub(crate) fn record(signal: i32) -> bool {
    RECEIVED
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
}

/// The termination signal received, if any.
pub(crate) fn received() -> Option<i32> {
    Some(RECEIVED.load(Ordering::SeqCst)).filter(|s| *s != 0)
}

/// The signal's name, for the one line saml-login ends with.
pub(crate) fn name(signal: i32) -> String {
    #[cfg(unix)]
    {
        match signal {
            signal_hook::consts::SIGTERM => return "SIGTERM".into(),
            signal_hook::consts::SIGHUP => return "SIGHUP".into(),
            _ => {}
        }
    }
    format!("signal {signal}")
}

/// The exit status after `signal`: 128 + its number, as shells report it.
pub(crate) fn exit_code(signal: i32) -> i32 {
    128 + signal
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn the_exit_codes_are_the_documented_ones() {
        use crate::error::exit;
        assert_eq!(
            super::exit_code(signal_hook::consts::SIGTERM),
            exit::TERMINATED
        );
        assert_eq!(super::exit_code(signal_hook::consts::SIGHUP), exit::HUNG_UP);
        assert_eq!(super::name(signal_hook::consts::SIGHUP), "SIGHUP");
    }
}
