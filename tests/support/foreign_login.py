#!/usr/bin/env python3
"""A login form on another origin than the IdP's, for tests: where a hostile or
compromised redirect could send a browser that fills in passwords.

`GET /` (any path) answers a page with a username and a password field; `POST` to it
is counted and its field names recorded; `GET /stats` answers `{"posts": N, "fields":
[...]}`. 127.0.0.1 only; prints `listening on http://127.0.0.1:PORT` first.
"""

import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POSTS = []

PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>Sign in</title></head>
<body><form method="post" action="/login">
<input name="username" id="username"><input type="password" name="password" id="password">
<button type="submit" name="action" value="default">Continue</button>
</form></body></html>"""


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/stats":
            body = json.dumps({"posts": len(POSTS), "fields": sorted({k for p in POSTS for k in p})})
            return self.reply(200, body.encode(), "application/json")
        if self.path == "/favicon.ico":
            return self.reply(404, b"not found", "text/plain")
        return self.reply(200, PAGE, "text/html; charset=utf-8")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        POSTS.append(dict(urllib.parse.parse_qsl(self.rfile.read(length).decode())))
        return self.reply(200, b"<!doctype html><p>thanks</p>", "text/html; charset=utf-8")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
