#!/usr/bin/env python3
"""Relay stdin/stdout to a TCP address (`stdio_relay.py HOST PORT`): the ProxyCommand
that brings the test's ssh client to an sshd listening on loopback in another network
namespace (run under `nsenter --net=...`)."""

import os
import socket
import sys
import threading

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
s.settimeout(None)


def up():
    while True:
        data = os.read(0, 65536)
        if not data:
            s.shutdown(socket.SHUT_WR)
            return
        s.sendall(data)


threading.Thread(target=up, daemon=True).start()
while True:
    data = s.recv(65536)
    if not data:
        break
    os.write(1, data)
