//! The wall clock: the one place saml-login reads the time of day
//! (`scripts/check-architecture.py` fails on any other read in `src/`). The login
//! pipeline reads it through its context (`login::pipeline::Context::now`, read once at
//! the start, and `Context::clock` for what is decided after a wait); the credential
//! server, `status` and profile chains, which outlive or precede a login, call
//! [`now`]. Deadlines and waits measure with `std::time::Instant`, which no clock change
//! moves.

/// The time now, in UTC.
pub(crate) fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}
