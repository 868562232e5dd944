//! The wait every browser does for its callback, written once: look for the answer a
//! tick at a time, and between ticks stop when the user cancels (`Cancelled`) or the
//! login's time is up (`Timeout`).

use std::time::{Duration, Instant};

use crate::{Cancel, CaptureError, LoginRequest};

/// A login's wait: its cancel flag, its deadline and the timeout it reports.
#[derive(Clone, Debug)]
pub struct Wait {
    cancel: Cancel,
    deadline: Instant,
    timeout: Duration,
}

impl Wait {
    /// The wait of `request` started at `started`: over after `request.timeout`.
    pub fn new(request: &LoginRequest, started: Instant) -> Self {
        Self {
            cancel: request.cancel.clone(),
            deadline: request.deadline(started),
            timeout: request.timeout,
        }
    }

    /// The same wait with `grace` more before it gives up (a helper process that keeps
    /// the timeout itself), still reporting the request's timeout.
    #[must_use]
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.deadline += grace;
        self
    }

    /// When the wait is over.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// `Cancelled` once the user asked to stop, `Timeout` once the deadline has passed;
    /// otherwise how long is left.
    pub fn check(&self) -> Result<Duration, CaptureError> {
        if self.cancel.is_cancelled() {
            return Err(CaptureError::Cancelled);
        }
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or(CaptureError::Timeout(self.timeout))
    }

    /// Calls `tick` until it brings an answer (`Ok(Some)`) or fails, checking the cancel
    /// flag and the deadline before each call. `tick` is given how long it may block:
    /// `every`, or less when the deadline is nearer.
    pub fn until<T>(
        &self,
        every: Duration,
        mut tick: impl FnMut(Duration) -> Result<Option<T>, CaptureError>,
    ) -> Result<T, CaptureError> {
        loop {
            let left = self.check()?;
            if let Some(answer) = tick(every.min(left))? {
                return Ok(answer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Callback, Method};

    fn request(timeout: Duration) -> LoginRequest {
        let url = url::Url::parse("http://localhost:1/saml").unwrap();
        LoginRequest {
            start_url: url.clone(),
            callback: Callback::new(Method::Post, url),
            timeout,
            cancel: Cancel::new(),
            title: String::new(),
        }
    }

    #[test]
    fn the_answer_ends_the_wait() {
        let wait = Wait::new(&request(Duration::from_secs(5)), Instant::now());
        let mut calls = 0;
        let got = wait.until(Duration::from_millis(10), |limit| {
            assert!(limit <= Duration::from_millis(10));
            calls += 1;
            Ok((calls == 3).then_some("answer"))
        });
        assert_eq!(got.unwrap(), "answer");
        assert_eq!(calls, 3);
    }

    #[test]
    fn the_deadline_ends_the_wait_with_the_requests_timeout() {
        let timeout = Duration::from_millis(200);
        let started = Instant::now();
        let wait = Wait::new(&request(timeout), started);
        let mut longest = Duration::ZERO;
        let got = wait.until(Duration::from_secs(1), |limit| {
            longest = longest.max(limit);
            std::thread::sleep(limit);
            Ok(None::<()>)
        });
        assert!(matches!(got, Err(CaptureError::Timeout(t)) if t == timeout));
        assert!(longest <= timeout, "a tick may not outlast the deadline");
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn the_grace_extends_the_deadline_but_not_the_reported_timeout() {
        let timeout = Duration::from_millis(50);
        let started = Instant::now();
        let wait = Wait::new(&request(timeout), started).with_grace(Duration::from_millis(150));
        let got = wait.until(Duration::from_millis(20), |limit| {
            std::thread::sleep(limit);
            Ok(None::<()>)
        });
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(matches!(got, Err(CaptureError::Timeout(t)) if t == timeout));
    }

    #[test]
    fn a_cancel_ends_the_wait_between_ticks() {
        let request = request(Duration::from_secs(30));
        let wait = Wait::new(&request, Instant::now());
        let mut calls = 0;
        let got = wait.until(Duration::from_millis(10), |_| {
            calls += 1;
            request.cancel.cancel();
            Ok(None::<()>)
        });
        assert!(matches!(got, Err(CaptureError::Cancelled)));
        assert_eq!(calls, 1);
    }

    #[test]
    fn a_failing_tick_ends_the_wait_with_its_error() {
        let wait = Wait::new(&request(Duration::from_secs(30)), Instant::now());
        let got = wait.until(Duration::from_millis(10), |_| {
            Err::<Option<()>, _>(CaptureError::browser("test", "gone"))
        });
        assert_eq!(got.unwrap_err().to_string(), "test: gone");
    }
}
