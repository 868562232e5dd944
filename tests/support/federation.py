#!/usr/bin/env python3
"""A loopback stand-in for AWS's console federation endpoint, for tests.

`GET /federation?Action=getSigninToken&Session=JSON[&SessionDuration=N]` answers
`{"SigninToken": "signin-token-for-<sessionId>"}` and records the request;
`GET /federation?Action=login&...` (the console URL a browser opens) is recorded too;
`GET /requests` lists what was asked (the Session JSON decoded). 127.0.0.1 only; prints
`listening on http://127.0.0.1:PORT` first.
"""

import argparse
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEEN = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body, indent=1).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/requests":
            return self.reply(200, SEEN)
        if url.path == "/federation" and query.get("Action") == "login":
            # The sign-in URL itself, as a browser opening the console fetches it.
            SEEN.append(query)
            return self.reply(200, {"console": "signed in"})
        if url.path != "/federation" or query.get("Action") != "getSigninToken":
            return self.reply(400, {"error": "unexpected request"})
        try:
            session = json.loads(query["Session"])
        except (KeyError, ValueError):
            return self.reply(400, {"error": "no Session"})
        query["Session"] = session
        SEEN.append(query)
        return self.reply(200, {"SigninToken": f"signin-token-for-{session.get('sessionId')}"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
