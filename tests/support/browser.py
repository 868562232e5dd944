#!/usr/bin/env python3
"""A stand-in for the system browser in tests: an HTTP client that does what a browser
does with the IdP's pages.

saml-login opens the login URL with the command in $BROWSER (`python3 browser.py %s`).
This program fetches the URL, follows redirects (HTTP and `<meta http-equiv=refresh>`,
also from a `file://` page), keeps cookies, fills a login form when `--user
NAME:PASSWORD` is given, and submits the IdP's auto-submitting form to its action (the
loopback callback), exactly as a browser's JavaScript would. Like Chromium it resolves
`localhost` itself, to `::1` first and then `127.0.0.1`, whatever /etc/hosts says.

Options: `--user NAME:PASSWORD` or the variable BROWSER_LOGIN (fill login forms; the
variable exists because $BROWSER splits its commands on `:`), `--cookie NAME=VALUE`
(start with a cookie), `--delay SECONDS` (wait before the final POST), `--wait-for FILE` (wait until FILE
exists before the final POST), `--log FILE` (append what it did),
`--timing FILE` (write the seconds it ran, for scripts/bench.sh), `--linger SECONDS`
(stay running that long afterwards, as a browser does).
"""

import time

_T0 = time.perf_counter()

import argparse  # noqa: E402 (imported after the clock starts)
import html  # noqa: E402
import http.cookiejar  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from html.parser import HTMLParser  # noqa: E402


_getaddrinfo = socket.getaddrinfo


def _localhost_like_chromium(host, port, *args, **kwargs):
    """Chromium answers `localhost` itself: ::1, then 127.0.0.1 (tried in that order)."""
    if host == "localhost":
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("::1", int(port), 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", int(port))),
        ]
    return _getaddrinfo(host, port, *args, **kwargs)


socket.getaddrinfo = _localhost_like_chromium

REFRESH = re.compile(r'<meta http-equiv="refresh" content="\d+;url=([^"]*)"', re.IGNORECASE)


class Forms(HTMLParser):
    """Collects the forms of a page: action, method and input fields."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": (a.get("method") or "get").lower(), "fields": []})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            if a.get("type") in ("submit",) and tag == "input":
                return
            self.forms[-1]["fields"].append([a["name"], a.get("value", "")])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--user")
    p.add_argument("--cookie", action="append", default=[])
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--wait-for", metavar="FILE",
                   help="before the final POST, wait (60 s at most) until FILE exists")
    p.add_argument("--log")
    p.add_argument("--timing", help="write the seconds this program ran to this file")
    p.add_argument("--linger", type=float, default=0)
    args = p.parse_args()
    try:
        return run(args)
    finally:
        time.sleep(args.linger)
        if args.timing:
            # From the first line of this file: the interpreter's own start-up is not
            # counted, so the figure left to saml-login is an overestimate.
            with open(args.timing, "w") as f:
                f.write(f"{time.perf_counter() - _T0}")


def run(args):
    args.user = args.user or os.environ.get("BROWSER_LOGIN")

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    if args.cookie:
        opener.addheaders.append(("Cookie", "; ".join(args.cookie)))

    def log(msg):
        if args.log:
            with open(args.log, "a") as f:
                f.write(msg + "\n")

    url, data = args.url, None
    for _ in range(10):
        log(f"fetch {url}")
        with opener.open(url, data=data, timeout=20) as r:
            page, url = r.read().decode(), r.geturl()
        refresh = REFRESH.search(page)
        if refresh:
            url, data = html.unescape(refresh.group(1)), None
            log(f"forwarded from {r.geturl().split(':')[0]}")
            continue
        forms = Forms()
        forms.feed(page)
        if not forms.forms:
            log(f"page without a form at {url}")
            print(page)
            return 0
        form = forms.forms[0]
        fields = dict(form["fields"])
        if "password" in fields or "username" in fields:
            if not args.user:
                log("login form and no --user")
                return 3
            name, password = args.user.split(":", 1)
            if "username" in fields:
                fields["username"] = name
            if "password" in fields:
                fields["password"] = password
        action = urllib.parse.urljoin(url, form["action"] or url)
        if "SAMLResponse" in fields and args.wait_for:
            deadline = time.time() + 60
            while not os.path.exists(args.wait_for):
                if time.time() > deadline:
                    log(f"{args.wait_for} never appeared")
                    return 5
                time.sleep(0.05)
        if "SAMLResponse" in fields and args.delay:
            time.sleep(args.delay)
        log(f"{form['method'].upper()} {action}")
        data = urllib.parse.urlencode(list(fields.items())).encode()
        url = action
        if "SAMLResponse" in fields:
            with opener.open(urllib.request.Request(action, data=data, method="POST"), timeout=20) as r:
                answer = r.read().decode(errors="replace").splitlines()
                log(f"callback answered {r.status}: {answer[0] if answer else ''}")
            return 0
    return 4


if __name__ == "__main__":
    sys.exit(main())
