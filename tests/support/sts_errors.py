#!/usr/bin/env python3
"""A loopback responder that replays AWS STS's error replies to AssumeRoleWithSAML.

moto cannot produce STS's error replies, so tests point saml-login's STS endpoint here
instead. Every request gets the error chosen with ``--error``: the body is the recorded
STS ``ErrorResponse`` in ``fixtures/sts-errors/{KIND}.xml`` (repo root = two levels
above this script), with HTTP 403 for AccessDenied and 400 for the others.

With ``--error MaxSessionDuration --upstream URL`` only AssumeRoleWithSAML requests
asking for ``DurationSeconds`` above 3600 get the error; everything else is proxied
verbatim to the upstream (moto), so a client that retries with 3600 succeeds.
``GET /requests`` lists the DurationSeconds values received, in order (null if absent).

With ``--upstream URL`` and no ``--error`` it is a recording proxy: every call goes to
the upstream (moto), which answers it. ``--error KIND --upstream URL --fail-call N``
replays the error for the Nth AssumeRoleWithSAML call only (repeatable) and proxies the
rest. ``GET /calls`` lists every call's parameters (query and form body), in order.

Python 3.11 standard library only. Binds 127.0.0.1 only, and prints exactly one line,
``listening on http://127.0.0.1:PORT``, to stdout once it accepts connections.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sts-errors"
KINDS = ("AccessDenied", "ExpiredToken", "MaxSessionDuration", "InvalidIdentityToken", "IDPRejectedClaim",
         "Throttling", "RequestLimitExceeded", "ServiceUnavailable")
# HTTP status of each error where it is not 400 (STS answers Throttling with 400).
STATUS = {"AccessDenied": 403, "ServiceUnavailable": 503}
MAX_SESSION_DURATION = 3600  # the role's MaxSessionDuration the responder pretends to have
# The RequestId recorded in every fixture, echoed in the header as STS does.
REQUEST_ID = "c6104cbe-af31-11e0-8154-cbc7ccf896c7"
# Headers not forwarded in either direction: per-connection ones, and ones we recompute.
HOP_BY_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "te", "trailer",
              "upgrade", "proxy-connection", "proxy-authenticate", "proxy-authorization"}


class Responder:
    """The configuration and the record of requests, shared by all handler threads."""

    def __init__(self, kind: str | None, upstream: str | None, fail_calls: list[int]) -> None:
        self.kind = kind
        self.status = STATUS.get(kind or "", 400)
        self.body = (FIXTURES / f"{kind}.xml").read_bytes() if kind else b""
        self.upstream = urlsplit(upstream) if upstream else None
        self.fail_calls = set(fail_calls)
        self.durations: list[int | str | None] = []
        self.calls: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def record(self, params: dict[str, str]) -> int | None:
        """Remember the call and its DurationSeconds; return that as an int if it is one."""
        raw = params.get("DurationSeconds")
        try:
            value: int | str | None = int(raw) if raw is not None else None
        except ValueError:
            value = raw
        with self.lock:
            self.durations.append(value)
            self.calls.append(params)
        return value if isinstance(value, int) else None

    def should_fail(self, params: dict[str, str], duration: int | None) -> bool:
        """Without an upstream every request fails; with one, the calls chosen with
        --fail-call, or (MaxSessionDuration) the over-long sessions; none without --error."""
        if self.upstream is None:
            return True
        if self.kind is None or params.get("Action") != "AssumeRoleWithSAML":
            return False
        if self.fail_calls:
            with self.lock:
                n = sum(c.get("Action") == "AssumeRoleWithSAML" for c in self.calls)
            return n in self.fail_calls
        return duration is not None and duration > MAX_SESSION_DURATION


class StsErrorHandler(BaseHTTPRequestHandler):
    server_version = "sts-errors/1.0"
    responder: Responder  # set on the subclass built in main()
    log_requests = False
    stall = False

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        if self.log_requests:
            super().log_message(format, *args)

    def reply(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/requests", "/calls"):
            with self.responder.lock:
                record = self.responder.durations if path == "/requests" else self.responder.calls
                body = json.dumps(record).encode()
            self.reply(200, body, [("Content-Type", "application/json")])
        else:
            self.handle_sts(b"")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.stall:
            # Record the call, then never answer (a proxy that blackholes traffic).
            self.responder.record({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
            threading.Event().wait()
        self.handle_sts(body)

    def handle_sts(self, body: bytes) -> None:
        """An STS call: parameters may be in the query string or a form-encoded body."""
        query = urlsplit(self.path).query
        params = {k: v[0] for k, v in parse_qs(query).items()}
        if "json" not in (self.headers.get("Content-Type") or ""):
            params.update({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
        duration = self.responder.record(params)
        if self.responder.should_fail(params, duration):
            self.reply(self.responder.status, self.responder.body,
                       [("Content-Type", "text/xml"), ("x-amzn-RequestId", REQUEST_ID)])
        else:
            self.proxy(body)

    def proxy(self, body: bytes) -> None:
        """Forward the request verbatim (minus Host) to the upstream and relay its reply."""
        up = self.responder.upstream
        assert up is not None
        conn_class = http.client.HTTPSConnection if up.scheme == "https" else http.client.HTTPConnection
        conn = conn_class(up.hostname, up.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            conn.request(self.command, up.path.rstrip("/") + self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            kept = [(k, v) for k, v in resp.getheaders()
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
            self.reply(resp.status, data, kept)
        except OSError as err:
            self.reply(502, f"upstream error: {err}".encode(), [("Content-Type", "text/plain")])
        finally:
            conn.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Replays AWS STS AssumeRoleWithSAML error replies on 127.0.0.1.")
    p.add_argument("--port", type=int, default=0, help="port to bind (default 0: ephemeral)")
    p.add_argument("--error", choices=KINDS, help="the error to reply with")
    p.add_argument("--upstream", metavar="URL",
                   help="proxy here what does not get the error (alone: record and proxy every call)")
    p.add_argument("--fail-call", type=int, action="append", default=[], metavar="N",
                   help="with --error and --upstream: the Nth AssumeRoleWithSAML call gets the error")
    p.add_argument("--fail-first", type=int, default=0, metavar="N",
                   help="with --error and --upstream: the first N AssumeRoleWithSAML calls get the error")
    p.add_argument("--stall", action="store_true", help="accept every POST and never answer it")
    p.add_argument("--log", action="store_true", help="log requests to stderr")
    args = p.parse_args(argv)
    args.fail_call += list(range(1, args.fail_first + 1))
    if args.stall:
        args.upstream = args.upstream or "http://127.0.0.1:9"
    if args.error is None and args.upstream is None:
        p.error("--error, --upstream or both are required")
    if args.upstream and args.error not in (None, "MaxSessionDuration") and not args.fail_call:
        p.error("--upstream with this --error needs --fail-call")
    if args.fail_call and not (args.error and args.upstream):
        p.error("--fail-call needs --error and --upstream")

    responder = Responder(args.error, args.upstream, args.fail_call)
    handler = type("BoundStsErrorHandler", (StsErrorHandler,),
                   {"responder": responder, "log_requests": args.log, "stall": args.stall})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
