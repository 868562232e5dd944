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
