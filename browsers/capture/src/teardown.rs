//! Clean-up a browser leaves running once it has handed over its answer (ending
//! Chromium, removing its temporary profile), so the answer goes on through the pipeline
//! at once: credentials are written and printed while the browser ends. Every binary
//! calls [`finish`] before it exits, so the clean-up is still complete when it does.

use std::sync::Mutex;
use std::thread::JoinHandle;

static PENDING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Runs `work` on a thread of its own; [`finish`] waits for it. When no thread can be
/// started, `work` runs here and now.
pub fn spawn(name: &str, work: impl FnOnce() + Send + 'static) {
    /// Runs the work when dropped: in the thread, or here when the thread could not
    /// be started (the closure holding it is then dropped).
    struct Work<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Work<F> {
        fn drop(&mut self) {
            if let Some(work) = self.0.take() {
                work();
            }
        }
    }
    let work = Work(Some(work));
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || drop(work));
    if let Ok(handle) = spawned {
        PENDING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(handle);
    }
}

/// Waits for every clean-up started with [`spawn`] so far.
pub fn finish() {
    let pending = std::mem::take(
        &mut *PENDING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for handle in pending {
        let _ = handle.join();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    #[test]
    fn finish_waits_for_the_work_that_runs_meanwhile() {
        let started = Arc::new(Barrier::new(2));
        let done = Arc::new(AtomicBool::new(false));
        let (s, d) = (started.clone(), done.clone());
        super::spawn("test-teardown", move || {
            s.wait();
            std::thread::sleep(Duration::from_millis(200));
            d.store(true, Ordering::SeqCst);
        });
        // The caller goes on while the work runs...
        started.wait();
        assert!(!done.load(Ordering::SeqCst));
        // ...and finish returns only once it is done.
        super::finish();
        assert!(done.load(Ordering::SeqCst));
    }
}
