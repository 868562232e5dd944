#!/usr/bin/env python3
"""A loopback stand-in for AWS's sign-in (federation) host and the console, for tests of
the console in browser profiles of their own.

Two made-up hosts on one port: `signin.aws.test` and `console.aws.test`. The browser
reaches them through `--host-resolver-rules=MAP *.aws.test 127.0.0.1:PORT`; saml-login
through `http_proxy=http://127.0.0.1:PORT` (this server also answers a proxy's
absolute-form requests and `CONNECT` tunnels). Cookies are set for the parent domain `aws.test`, as AWS sets
them for `.aws.amazon.com`, so the console host sees what sign-in set.

signin.aws.test:
  GET /federation?Action=getSigninToken&Session=JSON  -> {"SigninToken": "stoken-<sessionId>-<random>"}
  GET /federation?Action=login&Destination=D&SigninToken=T
      -> a session cookie for T's account (aws-session=ACCOUNT, replacing any; or, when the
         browser opted in to multi-session, aws-session-ACCOUNT=ACCOUNT beside the others),
         302 to D
  GET /oauth?Action=logout&redirect_uri=R  -> every session cookie removed, 302 to R
  GET /sessions/v1/opt-in                  -> the multi-session opt-in cookie
console.aws.test:
  any GET  -> a page naming the path, the region and the sessions the browser holds
127.0.0.1:
  GET /requests -> every request above as JSON (host, path, query, cookies), in order

127.0.0.1 only; prints `listening on http://127.0.0.1:PORT` first.
"""

import argparse
import html
import json
import secrets
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEEN = []
TOKENS = {}
LOCK = threading.Lock()


def cookies_of(header):
    jar = {}
    for part in (header or "").split(";"):
        if "=" in part:
            k, v = part.strip().split("=", 1)
            jar[k] = v
    return jar


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_CONNECT(self):
        # A proxy client's tunnel (ureq tunnels plain http too): the requests that follow
        # on this connection are answered here, by their Host header.
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = False

    def send(self, status, body, ctype="application/json", headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        target = urllib.parse.urlsplit(self.path)
        # A proxy's request names the host in its target; a browser's in Host.
        host = (target.hostname or self.headers.get("Host", "").split(":")[0]).lower()
        query = dict(urllib.parse.parse_qsl(target.query))
        jar = cookies_of(self.headers.get("Cookie"))
        event = {"host": host, "path": target.path, "query": query, "cookies": jar}
        if host in ("127.0.0.1", "localhost") and target.path == "/requests":
            with LOCK:
                return self.send(200, json.dumps(SEEN, indent=1))
        with LOCK:
            SEEN.append(event)
        if host == "signin.aws.test":
            return self.signin(target.path, query, jar)
        if host == "console.aws.test":
            return self.console(target.path, query, jar)
        return self.send(404, json.dumps({"error": f"no host {host}"}))

    def signin(self, path, query, jar):
        action = query.get("Action")
        cookie = "Domain=aws.test; Path=/; Max-Age=3600; HttpOnly"
        if path == "/federation" and action == "getSigninToken":
            try:
                account = json.loads(query["Session"])["sessionId"]
            except (KeyError, ValueError, TypeError):
                return self.send(400, json.dumps({"error": "no Session"}))
            token = f"stoken-{account}-{secrets.token_hex(12)}"
            with LOCK:
                TOKENS[token] = account
            return self.send(200, json.dumps({"SigninToken": token}))
        if path == "/federation" and action == "login":
            with LOCK:
                account = TOKENS.get(query.get("SigninToken", ""))
            if account is None:
                return self.send(403, json.dumps({"error": "unknown SigninToken"}))
            if jar.get("aws-multisession") == "on":
                set_cookie = f"aws-session-{account}={account}; {cookie}"
            else:
                set_cookie = f"aws-session={account}; {cookie}"
            return self.send(
                302, "", "text/plain",
                [("Set-Cookie", set_cookie), ("Location", query.get("Destination", "/"))],
            )
        if path == "/oauth" and action == "logout":
            gone = [("Set-Cookie", f"{k}=; Domain=aws.test; Path=/; Max-Age=0")
                    for k in jar if k.startswith("aws-session")]
            return self.send(
                302, "", "text/plain", gone + [("Location", query.get("redirect_uri", "/"))]
            )
        if path == "/sessions/v1/opt-in":
            return self.send(
                200, "<h1>multi-session on</h1>", "text/html",
                [("Set-Cookie", f"aws-multisession=on; {cookie}")],
            )
        return self.send(400, json.dumps({"error": "unexpected request"}))

    def console(self, path, query, jar):
        sessions = sorted(v for k, v in jar.items() if k.startswith("aws-session"))
        body = (
            "<!doctype html><title>console stand-in</title>"
            "<body style='font:28px sans-serif;margin:2em'>"
            f"<h1>console stand-in</h1><p>page: {html.escape(path)}</p>"
            f"<p>region: {html.escape(query.get('region', '-'))}</p>"
            f"<p>signed in as: {html.escape(', '.join(sessions) or 'nobody')}</p></body>"
        )
        return self.send(200, body, "text/html")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
