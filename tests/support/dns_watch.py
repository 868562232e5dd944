#!/usr/bin/env python3
"""A resolver that answers nothing and writes down every name it is asked, for tests
that prove no lookup of some host happens (tests/any_idp.rs).

`dns_watch.py ADDRESS LOGFILE`: listens on UDP and TCP port 53 of ADDRESS, appends each
query's name to LOGFILE (one per line), and answers REFUSED.
"""

import socket
import struct
import sys
import threading


def qname(packet: bytes) -> str:
    """The first question's name of a DNS message."""
    labels, i = [], 12
    while i < len(packet) and packet[i]:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels)


def refused(packet: bytes) -> bytes:
    """The query echoed as a response with RCODE 5 (REFUSED)."""
    flags = struct.unpack("!H", packet[2:4])[0] | 0x8000 | 0x0005
    return packet[:2] + struct.pack("!H", flags) + packet[4:]


def main() -> None:
    address, log = sys.argv[1], sys.argv[2]
    lock = threading.Lock()

    def note(packet: bytes) -> None:
        with lock, open(log, "a") as f:
            f.write(qname(packet) + "\n")

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((address, 53))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((address, 53))
    tcp.listen()

    def serve_tcp() -> None:
        while True:
            conn, _ = tcp.accept()
            with conn:
                data = conn.recv(65535)
                if len(data) > 2:
                    note(data[2:])
                    reply = refused(data[2:])
                    conn.sendall(struct.pack("!H", len(reply)) + reply)

    threading.Thread(target=serve_tcp, daemon=True).start()
    print("ready", flush=True)
    while True:
        data, peer = udp.recvfrom(65535)
        if len(data) > 12:
            note(data)
            udp.sendto(refused(data), peer)


if __name__ == "__main__":
    main()
