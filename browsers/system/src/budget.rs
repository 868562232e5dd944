//! A budget of request body bytes in flight across all of the callback server's
//! connections (issue 27, finding 7): 300 connections with 1 MiB bodies took the server
//! from 9 MB to 327 MB in half a second (about 4.4 GiB at the 4,096-connection cap),
//! and where memory is limited the OOM killer then frees the port. A body is read only
//! when its `Content-Length` fits in what is left; otherwise it is answered 503 at once
//! (a login's real POST, tens of KiB, fits beside 47 bodies of the largest size).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Body bytes all connections together may hold at once.
pub(crate) const BUDGET_BYTES: usize = 48 * 1024 * 1024;

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Bytes taken from the budget; given back when dropped.
#[derive(Debug)]
pub(crate) struct Reserved(usize);

/// Take `bytes` from the budget, or `None` when they do not fit.
pub(crate) fn reserve(bytes: usize) -> Option<Reserved> {
    IN_FLIGHT
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
            used.checked_add(bytes)
                .filter(|&total| total <= BUDGET_BYTES)
        })
        .ok()
        .map(|_| Reserved(bytes))
}

impl Drop for Reserved {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(self.0, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_shared_and_given_back() {
        let a = reserve(BUDGET_BYTES - 10).unwrap();
        assert!(reserve(11).is_none());
        let b = reserve(10).unwrap();
        drop(a);
        assert!(reserve(1024).is_some());
        drop(b);
    }
}
