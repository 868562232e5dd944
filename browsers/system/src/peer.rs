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

/// The owner of the sockets listening on `address`'s port (Linux: their lines in
/// `/proc/net/tcp` and `tcp6`, in the LISTEN state, on any address: a wildcard listener
/// holds the loopback port too): `Other` when any is another user's.
#[cfg(target_os = "linux")]
pub(crate) fn listener_of(address: SocketAddr) -> Peer {
    let me = rustix::process::getuid().as_raw();
    let mut owners = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            owners.extend(listeners_on(&text, address.port()));
        }
    }
    if owners.iter().any(|&(uid, inode)| uid != me || inode == 0) {
        Peer::Other
    } else if owners.is_empty() {
        Peer::Unknown
    } else {
        Peer::Us
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn listener_of(_address: SocketAddr) -> Peer {
    Peer::Unknown
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
    fn a_listener_of_our_own_is_ours_and_a_free_port_is_nobodys() {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let address = listener.local_addr().unwrap();
        assert_eq!(listener_of(address), Peer::Us);
        drop(listener);
        assert_eq!(listener_of(address), Peer::Unknown);
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
