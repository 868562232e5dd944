//! The D-Bus session bus the Secret Service is reached on, connected only when it is the
//! user's own (issue 27, finding 1).
//!
//! A bus socket in /tmp (`dbus-launch`, `dbus-run-session`) outlives its bus in the
//! `DBUS_SESSION_BUS_ADDRESS` of a tmux or screen shell; another local user may then
//! listen on the freed path (or abstract name) and serve a keyring of their own. The
//! address's `guid=` does not help: a real dbus-daemon tells its GUID to anyone. So on
//! Linux saml-login connects the socket itself and uses it only when
//! - a socket file (`unix:path=`, also the default `$XDG_RUNTIME_DIR/bus` or
//!   `/run/user/UID/bus`) is a socket owned by the user, and
//! - the process at the other end (`SO_PEERCRED`, for `unix:abstract=` too) runs as the
//!   user;
//!
//! then hands that very socket to zbus (no second connection to race). Other transports
//! (`tcp:`, `unixexec:`, `autolaunch:`) cannot be checked this way and are not used.

/// Why the session bus was not used.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Served by someone else, or not checkable: a keyring there is not the user's.
    Untrusted(String),
    /// No bus, or it did not answer.
    Failed(String),
}

/// A connection to the session bus, checked to be the user's own (Linux).
#[cfg(target_os = "linux")]
pub(crate) fn connect() -> Result<zbus::blocking::Connection, Refusal> {
    use zbus::address::transport::{Transport, UnixSocket};
    let address = zbus::Address::session().map_err(|e| {
        Refusal::Failed(format!(
            "the session bus address (DBUS_SESSION_BUS_ADDRESS) is not usable: {e}"
        ))
    })?;
    let me = rustix::process::geteuid().as_raw();
    let stream = match address.transport() {
        Transport::Unix(unix) => match unix.path() {
            UnixSocket::File(path) => {
                socket_file_is_ours(path, me)?;
                std::os::unix::net::UnixStream::connect(path).map_err(|e| {
                    Refusal::Failed(format!("cannot connect to {}: {e}", path.display()))
                })?
            }
            UnixSocket::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                use std::os::unix::ffi::OsStrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                    .map_err(|e| Refusal::Failed(format!("bad abstract bus name: {e}")))?;
                std::os::unix::net::UnixStream::connect_addr(&addr).map_err(|e| {
                    Refusal::Failed(format!(
                        "cannot connect to the abstract socket @{}: {e}",
                        name.to_string_lossy()
                    ))
                })?
            }
            other => {
                return Err(Refusal::Untrusted(format!(
                    "the session bus address `unix:{other}` is a listening address, not one to connect to"
                )));
            }
        },
        other => {
            let kind = other.to_string();
            let kind = kind.split(':').next().unwrap_or_default();
            return Err(Refusal::Untrusted(format!(
                "the session bus is reached over `{kind}:`, where saml-login cannot check which user serves it"
            )));
        }
    };
    peer_is_ours(&stream, &address, me)?;
    zbus::blocking::connection::Builder::async_io_unix_stream(stream)
        .build()
        .map_err(|e| Refusal::Failed(format!("the session bus did not answer: {e}")))
}

/// Elsewhere (the BSDs): zbus's own connection to the session bus.
#[cfg(not(target_os = "linux"))]
pub(crate) fn connect() -> Result<zbus::blocking::Connection, Refusal> {
    zbus::blocking::Connection::session()
        .map_err(|e| Refusal::Failed(format!("the session bus did not answer: {e}")))
}

/// The bus socket file `path` is a socket owned by uid `me` (not followed if a link).
#[cfg(target_os = "linux")]
fn socket_file_is_ours(path: &std::path::Path, me: u32) -> Result<(), Refusal> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| Refusal::Failed(format!("no session bus at {} ({e})", path.display())))?;
    if !meta.file_type().is_socket() {
        return Err(Refusal::Untrusted(format!(
            "the session bus path {} is not a socket",
            path.display()
        )));
    }
    if meta.uid() != me {
        return Err(Refusal::Untrusted(format!(
            "the session bus socket {} is owned by uid {}, not by you (uid {me})",
            path.display(),
            meta.uid()
        )));
    }
    Ok(())
}

/// The process at the other end of `stream` runs as uid `me` (`SO_PEERCRED`).
#[cfg(target_os = "linux")]
fn peer_is_ours(
    stream: &std::os::unix::net::UnixStream,
    address: &zbus::Address,
    me: u32,
) -> Result<(), Refusal> {
    let cred = rustix::net::sockopt::socket_peercred(stream)
        .map_err(|e| Refusal::Untrusted(format!("cannot tell who serves the session bus: {e}")))?;
    let uid = cred.uid.as_raw();
    if uid != me {
        return Err(Refusal::Untrusted(format!(
            "the session bus at {address} is served by uid {uid} (pid {}), not by you (uid {me})",
            cred.pid.as_raw_nonzero()
        )));
    }
    Ok(())
}
