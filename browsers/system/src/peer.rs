//! Whose program is on the other end of a loopback connection (Linux: the socket's
//! owner in `/proc/net/tcp` and `tcp6`, where every local socket of this network
//! namespace is listed with its uid). TCP has no `SO_PEERCRED`; this is its stand-in.

use std::net::{IpAddr, SocketAddr, TcpStream};

/// Who opened a connection to the callback server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Peer {
    /// A program of the user running saml-login (only Linux can tell).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    Us,
    /// A program of another user (or a socket no longer owned by any program).
    Other,
    /// Not a socket of this machine's kernel as far as can be told (a browser on the
    /// other side of a relay), or not Linux.
    Unknown,
}

/// The owner of the other end of `stream`.
pub(crate) fn of(stream: &TcpStream) -> Peer {
    match (stream.peer_addr(), stream.local_addr()) {
        (Ok(peer), Ok(local)) => lookup(peer, local),
        _ => Peer::Unknown,
    }
}

#[cfg(target_os = "linux")]
fn lookup(peer: SocketAddr, local: SocketAddr) -> Peer {
    let table = match peer.ip() {
        IpAddr::V4(_) => "/proc/net/tcp",
        IpAddr::V6(_) => "/proc/net/tcp6",
    };
    let Ok(text) = std::fs::read_to_string(table) else {
        return Peer::Unknown;
    };
    let me = rustix::process::getuid().as_raw();
    find(&text, &socket_hex(peer), &socket_hex(local)).map_or(Peer::Unknown, |(uid, inode)| {
        // An inode of 0 is a socket no program holds any more (its uid reads 0).
        if uid == me && inode != 0 {
            Peer::Us
        } else {
            Peer::Other
        }
    })
}

#[cfg(not(target_os = "linux"))]
fn lookup(_peer: SocketAddr, _local: SocketAddr) -> Peer {
    Peer::Unknown
}

/// Whether every socket listening on `port` (any address, IPv4 and IPv6) belongs to a
/// process of this user whose first argument is `marker`: an earlier login's port guard,
/// and nobody else's listener (Linux: the LISTEN lines of `/proc/net/tcp` and `tcp6`,
/// then the socket inodes among the user's processes' file descriptors). Elsewhere:
/// false (there is no guard to find).
#[cfg(target_os = "linux")]
pub(crate) fn port_held_only_by(port: u16, marker: &str) -> bool {
    let me = rustix::process::getuid().as_raw();
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            for (uid, inode) in listeners_on(&text, port) {
                if uid != me || inode == 0 {
                    return false;
                }
                inodes.push(inode);
            }
        }
    }
    if inodes.is_empty() {
        return false;
    }
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    let mut held = Vec::new();
    for entry in procs.flatten() {
        let dir = entry.path();
        let is_marked = std::fs::read(dir.join("cmdline"))
            .is_ok_and(|cmdline| cmdline.split(|&b| b == 0).nth(1) == Some(marker.as_bytes()));
        if !is_marked {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(dir.join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path()) {
                let link = link.to_string_lossy();
                if let Some(inode) = link
                    .strip_prefix("socket:[")
                    .and_then(|l| l.strip_suffix(']'))
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    held.push(inode);
                }
            }
        }
    }
    inodes.iter().all(|inode| held.contains(inode))
}

#[cfg(all(unix, not(target_os = "linux")))]
pub(crate) fn port_held_only_by(_port: u16, _marker: &str) -> bool {
    false
}

/// The uid and inode of every socket listening (state `0A`) on `port`, on any address,
/// in a `/proc/net/tcp` text.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn listeners_on(table: &str, port: u16) -> Vec<(u32, u64)> {
    let suffix = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            (cols.len() > 9 && cols[1].ends_with(&suffix) && cols[3] == "0A")
                .then(|| Some((cols[7].parse().ok()?, cols[9].parse().ok()?)))
                .flatten()
        })
        .collect()
}

/// `ADDR:PORT` as the kernel writes it: the address in 32-bit words of host byte order.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn socket_hex(addr: SocketAddr) -> String {
    let words: Vec<String> = match addr.ip() {
        IpAddr::V4(ip) => vec![format!("{:08X}", u32::from_ne_bytes(ip.octets()))],
        IpAddr::V6(ip) => ip
            .octets()
            .chunks(4)
            .map(|c| format!("{:08X}", u32::from_ne_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
    };
    format!("{}:{:04X}", words.concat(), addr.port())
}

/// The uid and inode of the socket from `local` to `remote` in a `/proc/net/tcp` text.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn find(table: &str, local: &str, remote: &str) -> Option<(u32, u64)> {
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.len() > 9
            && cols[1].eq_ignore_ascii_case(local)
            && cols[2].eq_ignore_ascii_case(remote))
        .then(|| Some((cols[7].parse().ok()?, cols[9].parse().ok()?)))
        .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_socket_and_its_owner() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   \
             0: 0100007F:D431 0100007F:2FB8 01 00000000:00000000 00:00000000 00000000 65534        0 4242 1 0 20 4 30 10 -1\n";
        let peer: SocketAddr = "127.0.0.1:54321".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:12216".parse().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(socket_hex(peer), "0100007F:D431");
            assert_eq!(socket_hex(local), "0100007F:2FB8");
        }
        assert_eq!(
            find(table, "0100007F:D431", "0100007F:2FB8"),
            Some((65534, 4242))
        );
        assert_eq!(find(table, "0100007F:D432", "0100007F:2FB8"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_listener_of_a_process_without_the_marker_is_not_a_guard() {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(!port_held_only_by(port, "__no-such-marker"));
        drop(listener);
        assert!(!port_held_only_by(port, "__no-such-marker"));
    }

    #[test]
    fn listeners_are_found_by_port_in_the_listen_state() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   \
             0: 0100007F:2FB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 4242 1 0 20 4 30 10 -1\n";
        assert_eq!(listeners_on(table, 12216), vec![(65534, 4242)]);
        assert_eq!(listeners_on(table, 12217), vec![]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_connection_of_our_own_is_ours() {
        for ip in ["127.0.0.1", "::1"] {
            let Ok(listener) = std::net::TcpListener::bind((ip, 0)) else {
                continue; // no IPv6 loopback here
            };
            let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (server_side, _) = listener.accept().unwrap();
            assert_eq!(of(&server_side), Peer::Us, "{ip}");
        }
    }
}
