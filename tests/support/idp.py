#!/usr/bin/env python3
"""An Auth0-like test identity provider, served on loopback for the tests of saml-login.

It plays the parts of Auth0 that saml-login talks to:

* ``GET /samlp/{client_id}``: the SAML IdP-initiated login. With a valid session it
  answers Auth0's auto-submitting HTML form that POSTs a fresh, *unsigned* SAML 2.0
  Response (accepted by moto's STS AssumeRoleWithSAML) to the ACS URL (``--callback``).
  Without a session it redirects to the two-step Universal Login pages.
* ``/u/login/identifier`` and ``/u/login/password``: the username, then password, forms.
  A correct password sets the ``idp_session`` cookie and returns to the original URL.
* ``GET /authorize`` and ``POST /oauth/token``: the OAuth authorization-code flow with PKCE
  (S256), returning unsigned dummy JWTs.
* ``GET /stats`` (request counters), ``GET /healthz``, ``GET /favicon.ico`` (404).

Python 3.11 standard library only. Binds 127.0.0.1 only, and prints exactly one line,
``listening on http://127.0.0.1:PORT``, to stdout once it accepts connections.
Run ``idp.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlencode, urlsplit
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

SESSION_COOKIE = "idp_session"
DEFAULT_ROLE = (
    "arn:aws:iam::123456789012:role/Developer,"
    "arn:aws:iam::123456789012:saml-provider/test-idp"
)
ISSUER = "urn:test-idp"
AWS_AUDIENCE = "https://signin.aws.amazon.com/saml"
ATTR_ROLE = "https://aws.amazon.com/SAML/Attributes/Role"
ATTR_SESSION_NAME = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
ATTR_SESSION_DURATION = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
URI_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"


# ---------------------------------------------------------------------------
# Shared state
# ---------------------------------------------------------------------------


@dataclass
class PendingLogin:
    """A login in progress, keyed by the ``state`` query parameter of the login pages."""

    return_to: str  # the original /samlp/... or /authorize?... path with its query
    username: str | None = None


@dataclass
class IssuedCode:
    """An authorization code handed out by /authorize, redeemable once at /oauth/token."""

    challenge: str
    redirect_uri: str
    client_id: str
    scope: str
    audience: str | None
    username: str


@dataclass
class IdpState:
    """Everything the request handlers share; every access goes through ``lock``."""

    config: argparse.Namespace
    users: dict[str, str]
    sessions: dict[str, str] = field(default_factory=dict)  # cookie value -> username
    logins: dict[str, PendingLogin] = field(default_factory=dict)
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    stats: dict[str, int] = field(
        default_factory=lambda: {"samlp": 0, "authorize": 0, "token": 0, "login_posts": 0}
    )
    base_url: str = ""
    replayed: str | None = None  # --replay-response: the one response served
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str) -> None:
        with self.lock:
            self.stats[name] += 1


# ---------------------------------------------------------------------------
# SAML and JWT builders
# ---------------------------------------------------------------------------


def saml_time(moment: datetime) -> str:
    """Format a UTC time the way Auth0 does: ``2026-01-15T12:28:09.997Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def attribute(name: str, values: list[str]) -> str:
    """One ``saml:Attribute`` element with a string ``saml:AttributeValue`` per value."""
    inner = "".join(
        f'<saml:AttributeValue xsi:type="xs:string">{xml_escape(v)}</saml:AttributeValue>'
        for v in values
    )
    return f"<saml:Attribute Name={quoteattr(name)} NameFormat={quoteattr(URI_FORMAT)}>{inner}</saml:Attribute>"


def build_saml_response(config: argparse.Namespace) -> str:
    """A fresh, unsigned SAML 2.0 Response shaped like Auth0's, base64-encoded (one line)."""
    now = datetime.now(timezone.utc)
    issued = saml_time(now - timedelta(seconds=config.issued_ago))
    not_before, expires = saml_time(now - timedelta(minutes=5)), saml_time(now + timedelta(hours=1))
    callback = quoteattr(config.callback)
    roles = [",".join(reversed(r.split(",", 1))) if config.reversed_roles else r for r in config.role]
    if config.split_role_attributes:
        # One Role attribute per role: moto reads one value per attribute (it fails on
        # several values in one), so multi-role logins can still reach moto.
        attributes = "".join(attribute(ATTR_ROLE, [r]) for r in roles)
    else:
        attributes = attribute(ATTR_ROLE, roles)
    attributes += attribute(ATTR_SESSION_NAME, [config.session_name])
    if config.session_duration is not None:
        attributes += attribute(ATTR_SESSION_DURATION, [str(config.session_duration)])
    xml = (
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"'
        f' ID="_{secrets.token_hex(16)}" Version="2.0" IssueInstant="{issued}" Destination={callback}>'
        f'<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">{ISSUER}</saml:Issuer>'
        '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
        '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"'
        f' Version="2.0" ID="_{secrets.token_hex(16)}" IssueInstant="{issued}">'
        f"<saml:Issuer>{ISSUER}</saml:Issuer>"
        "<saml:Subject>"
        '<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">'
        f"{xml_escape(config.session_name)}</saml:NameID>"
        '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f'<saml:SubjectConfirmationData NotOnOrAfter="{expires}" Recipient={callback}/>'
        "</saml:SubjectConfirmation></saml:Subject>"
        f'<saml:Conditions NotBefore="{not_before}" NotOnOrAfter="{expires}">'
        f"<saml:AudienceRestriction><saml:Audience>{AWS_AUDIENCE}</saml:Audience></saml:AudienceRestriction>"
        "</saml:Conditions>"
        f'<saml:AuthnStatement AuthnInstant="{issued}" SessionIndex="_{secrets.token_hex(16)}">'
        "<saml:AuthnContext><saml:AuthnContextClassRef>"
        "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
        "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
        '<saml:AttributeStatement xmlns:xs="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"{attributes}</saml:AttributeStatement>"
        "</saml:Assertion></samlp:Response>"
    )
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")


def b64url(data: bytes) -> str:
    """Base64url without padding, as used by JWTs and PKCE."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def dummy_jwt(claims: dict) -> str:
    """A JWT-shaped token: real header and payload, a random (meaningless) signature."""
    header = {"alg": "RS256", "typ": "JWT", "kid": "test-idp"}
    parts = [b64url(json.dumps(p, separators=(",", ":")).encode()) for p in (header, claims)]
    return ".".join(parts + [b64url(secrets.token_bytes(32))])


# ---------------------------------------------------------------------------
# HTML pages
# ---------------------------------------------------------------------------


def attr(value: str) -> str:
    """Escape a value for an HTML attribute."""
    return html.escape(value, quote=True)


def page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f"<body>{body}</body></html>"
    )


def samlp_form(callback: str, saml_response: str, relay_state: str | None,
               frame: str | None = None, delay_ms: int = 0) -> str:
    """Auth0's auto-submitting form that carries the SAMLResponse to the ACS URL
    (with --frame: the page also shows another site in an iframe)."""
    framed = f'<iframe src="{attr(frame)}"></iframe>' if frame else ""
    relay = (
        f'<input type="hidden" name="RelayState" value="{attr(relay_state)}">'
        if relay_state is not None
        else ""
    )
    return page(
        "Working...",
        f'<form method="post" name="hiddenform" action="{attr(callback)}">'
        f'<input type="hidden" name="SAMLResponse" value="{attr(saml_response)}">{relay}'
        "<noscript><p>Script is disabled. Click Submit to continue.</p>"
        f'<input type="submit" value="Submit"></noscript></form>{framed}'
        f"<script>window.setTimeout(function(){{document.forms[0].submit();}},{delay_ms});</script>",
    )


def autofill_script(field_id: str, value: str) -> str:
    """Test-only page behaviour: fill one field and submit the form (see --autofill)."""
    return (
        "<script>window.setTimeout(function(){"
        f"document.getElementById({json.dumps(field_id)}).value={json.dumps(value)};"
        "document.forms[0].submit();},0);</script>"
    )


def identifier_page(error: str | None, autofill: str) -> str:
    err = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return page(
        "Log in",
        f"<h1>Welcome</h1>{err}<form method=\"post\">"
        '<label for="username">Email address</label>'
        '<input type="text" name="username" id="username" autocomplete="username">'
        '<button type="submit" name="action" value="default">Continue</button>'
        f"</form>{autofill}",
    )


def one_page_login(user_field: str, username: str, error: str | None) -> str:
    """A one-page login form, as most IdPs have, whose user field is not Auth0's."""
    err = f'<div class="alert" role="alert">{html.escape(error)}</div>' if error else ""
    return page(
        "Sign in",
        f"<h1>Sign in</h1>{err}<form method=\"post\">"
        f'<label for="{attr(user_field)}">Email</label>'
        f'<input type="email" name="{attr(user_field)}" id="{attr(user_field)}" value="{attr(username)}" required>'
        '<label for="pw">Password</label>'
        '<input type="password" name="pw" id="pw" required>'
        '<input type="submit" value="Sign in">'
        "</form>",
    )


AFTER_LOGIN_PAGES = {
    # What a person must do after the password, which nothing in a headless run will do.
    "mfa": page(
        "Verify your identity",
        "<h1>Verify your identity</h1><form method=\"post\">"
        '<label for="code">Enter the code from your authenticator app</label>'
        '<input type="text" name="code" id="code" inputmode="numeric" autocomplete="one-time-code">'
        '<button type="submit">Verify</button></form>',
    ),
    "consent": page(
        "Authorize application",
        "<h1>Authorize application</h1><p>AWS is requesting access to your profile.</p>"
        '<form method="post"><button type="submit" name="decision" value="accept">Accept</button>'
        '<button type="submit" name="decision" value="decline">Decline</button></form>',
    ),
}


CHALLENGE_PAGES = {
    # What an IdP shows instead of its login form when it asks for something only some
    # browsers or devices can give (--challenge): saml-login must recognise each.
    "passkey": page(
        "Use your passkey",
        "<h1>Use your passkey</h1><p>Sign in with your passkey or security key.</p>"
        "<p id=\"outcome\"></p><script>navigator.credentials.get({publicKey: {"
        "challenge: new Uint8Array(32), timeout: 120000, userVerification: 'preferred'}})"
        ".then(function () { document.getElementById('outcome').textContent = 'signed in'; },"
        " function (e) { document.getElementById('outcome').textContent = 'failed: ' + e.name; });"
        "</script>",
    ),
    "passkey-registration": page(
        "Create a passkey",
        "<h1>Create a passkey</h1><p>Your organisation requires a passkey.</p><script>"
        "navigator.credentials.create({publicKey: {challenge: new Uint8Array(32),"
        " rp: {name: 'test-idp'}, user: {id: new Uint8Array(16), name: 'alice', displayName: 'Alice'},"
        " pubKeyCredParams: [{type: 'public-key', alg: -7}]}}).catch(function () {});</script>",
    ),
    # Entra ID's Conditional Access error page (its shape; the texts are Microsoft's).
    **{
        f"aadsts{code}": page(
            "Sign in to your account",
            "<h1>You can't get there from here</h1><p>This application contains sensitive "
            "information and can only be accessed from devices or client applications that "
            "meet your organisation's management compliance policy.</p>"
            f"<div id=\"debugDetails\"><p>Troubleshooting details</p><p>Error Code: {code}</p>"
            f"<p>Request Id: 00000000-0000-0000-0000-000000000000</p></div><p>AADSTS{code}: {text}</p>",
        )
        for code, text in [
            ("53000", "Device is not in required device state: compliant. Conditional Access "
                      "policy requires a compliant device, and the device is not compliant."),
            ("53001", "Device is not in required device state: domain_joined. Conditional Access "
                      "policy requires a domain joined device, and the device is not domain joined."),
            ("53003", "Access has been blocked by Conditional Access policies. The access policy "
                      "does not allow token issuance."),
        ]
    },
    # Okta's sign-in widget probing Okta Verify's loopback server (FastPass), then giving up.
    "okta-fastpass": page(
        "Sign In",
        "<h1>Sign in with Okta FastPass</h1><p id=\"status\">Verifying your identity...</p><script>"
        "fetch('http://127.0.0.1:8769/probe').catch(function () {"
        " document.getElementById('status').textContent = 'Okta Verify is not responding. Make sure "
        "Okta Verify is installed and registered on this device.'; });</script>",
    ),
    "okta-device-assurance": page(
        "Sign In",
        "<h1>Access denied</h1><p>Your device doesn't meet the security requirements. To sign in, "
        "make the following updates. Then, access the app again:</p><ul><li>Update to the latest "
        "version of your operating system</li></ul>",
    ),
}


def password_page(username: str, error: str | None, autofill: str) -> str:
    err = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return page(
        "Enter your password",
        f"<h1>Enter your password</h1>{err}<form method=\"post\">"
        f'<input type="text" name="username" id="username" value="{attr(username)}" readonly>'
        '<label for="password">Password</label>'
        '<input type="password" name="password" id="password" autocomplete="current-password">'
        '<button type="submit" name="action" value="default">Continue</button>'
        f"</form>{autofill}",
    )


# ---------------------------------------------------------------------------
# Request handling
# ---------------------------------------------------------------------------


class IdpHandler(BaseHTTPRequestHandler):
    """Routes requests to the endpoints described in the module docstring."""

    server_version = "test-idp/1.0"
    state: IdpState  # set on the subclass built in main()

    # -- plumbing ----------------------------------------------------------

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        if self.state.config.log:
            super().log_message(format, *args)

    def send(self, status: int, body: str | bytes, content_type: str, headers: dict | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_html(self, body: str, status: int = 200) -> None:
        self.send(status, body, "text/html; charset=utf-8")

    def send_text(self, status: int, body: str) -> None:
        self.send(status, body, "text/plain; charset=utf-8")

    def send_json(self, status: int, obj) -> None:
        self.send(status, json.dumps(obj), "application/json")

    def redirect(self, location: str, extra_headers: dict | None = None) -> None:
        self.send(302, "", "text/plain", {"Location": location, **(extra_headers or {})})

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def read_form(self) -> dict[str, str]:
        """Decode a form-encoded or JSON body into a flat dict of strings."""
        raw = self.read_body().decode("utf-8", "replace")
        if "json" in (self.headers.get("Content-Type") or ""):
            try:
                obj = json.loads(raw or "{}")
            except json.JSONDecodeError:
                return {}
            return {k: str(v) for k, v in obj.items()} if isinstance(obj, dict) else {}
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def session_user(self) -> str | None:
        """The user of a valid ``idp_session`` cookie (or --auto-session), else None."""
        cfg = self.state.config
        if cfg.auto_session:
            return next(iter(self.state.users))
        jar = cookies.SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie") or "")
        except cookies.CookieError:
            return None
        morsel = jar.get(SESSION_COOKIE)
        with self.state.lock:
            return self.state.sessions.get(morsel.value) if morsel else None

    def start_login(self, return_to: str) -> None:
        """Remember where to come back to, then send the browser to the login pages."""
        key = secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.logins[key] = PendingLogin(return_to)
        first = "/u/login/password" if self.state.config.user_field else "/u/login/identifier"
        self.redirect(f"{first}?state={key}")

    # -- routing -----------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if url.path.startswith("/samlp/"):
            self.get_samlp(url.path[len("/samlp/"):], query)
        elif url.path == f"/app/amazon_aws/{self.state.config.client_id}/sso/saml":
            # Shaped like another vendor's IdP-initiated link (Okta's AWS app).
            self.get_samlp(self.state.config.client_id, query)
        elif url.path == "/authorize":
            self.get_authorize(query)
        elif url.path in ("/u/login/identifier", "/u/login/password"):
            self.login_page(url.path, query.get("state", ""), post=False)
        elif url.path == "/u/after-login" and self.state.config.after_login:
            self.send_html(AFTER_LOGIN_PAGES[self.state.config.after_login])
        elif url.path == f"/u/challenge/{self.state.config.challenge}":
            self.send_html(CHALLENGE_PAGES[self.state.config.challenge])
        elif url.path == "/stats":
            with self.state.lock:
                self.send_json(200, dict(self.state.stats))
        elif url.path == "/healthz":
            self.send_text(200, "ok")
        else:  # includes /favicon.ico
            self.send_text(404, "Not found")

    def do_HEAD(self) -> None:
        # saml-login's check that the start URL answers (issue 28): counted nowhere;
        # an unknown client is 404 as for GET, anything else 200 with no body.
        path = urlsplit(self.path).path
        known = path == f"/samlp/{self.state.config.client_id}" or not path.startswith("/samlp/")
        self.send_response(200 if known else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path in ("/u/login/identifier", "/u/login/password"):
            self.state.count("login_posts")
            self.login_page(url.path, query.get("state", ""), post=True)
        elif url.path == "/oauth/token":
            self.post_token()
        else:
            self.send_text(404, "Not found")

    # -- SAML ----------------------------------------------------------------

    def get_samlp(self, client_id: str, query: dict[str, str]) -> None:
        self.state.count("samlp")
        cfg = self.state.config
        if client_id != cfg.client_id:
            self.send_text(404, f"Unknown client: {client_id}")
            return
        if self.session_user() is None:
            if cfg.challenge:
                self.redirect(f"/u/challenge/{cfg.challenge}")
                return
            if cfg.login_redirect:
                self.redirect(cfg.login_redirect)
                return
            self.start_login(self.path)
            return
        relay_state = query.get("RelayState")
        if cfg.relay_state_override is not None:
            relay_state = cfg.relay_state_override
        elif cfg.no_relay_state_echo:
            relay_state = None
        response = self.saml_response_for_session()
        form = samlp_form(cfg.callback, response, relay_state, cfg.frame, int(cfg.submit_delay * 1000))
        self.send(200, form, "text/html; charset=utf-8", self.rotated_session())

    def saml_response_for_session(self) -> str:
        """A fresh response, or with --replay-response the first one again (so that two
        ways of logging in can be shown to receive the same assertion)."""
        cfg = self.state.config
        if not cfg.replay_response:
            return build_saml_response(cfg)
        with self.state.lock:
            if self.state.replayed is None:
                self.state.replayed = build_saml_response(cfg)
            return self.state.replayed

    def rotated_session(self) -> dict:
        """With --rotate-session: the session cookie sent is replaced by a new one (the
        old value stops being valid), in a Set-Cookie header."""
        if not self.state.config.rotate_session:
            return {}
        jar = cookies.SimpleCookie()
        jar.load(self.headers.get("Cookie") or "")
        old = jar.get(SESSION_COOKIE)
        new = secrets.token_urlsafe(32)
        with self.state.lock:
            user = self.state.sessions.pop(old.value, None) if old else None
            if user is None:
                return {}
            self.state.sessions[new] = user
        return {"Set-Cookie": f"{SESSION_COOKIE}={new}; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400"}

    # -- Universal Login pages ---------------------------------------------

    def login_page(self, path: str, key: str, post: bool) -> None:
        """Both steps of the login: GET shows a form, POST handles its submission."""
        with self.state.lock:
            pending = self.state.logins.get(key)
        if pending is None:
            self.send_text(400, "Unknown or expired login state")
            return
        first_user, first_password = next(iter(self.state.users.items()))
        autofill = self.state.config.autofill
        form = self.read_form() if post else {}

        if path == "/u/login/identifier":
            if not post:
                self.send_html(identifier_page(None, autofill_script("username", first_user) if autofill else ""))
                return
            username = form.get("username", "").strip()
            if not username:
                self.send_html(identifier_page("Please enter an email address", ""))
                return
            with self.state.lock:
                pending.username = username
            self.redirect(f"/u/login/password?state={key}")
            return

        # /u/login/password
        cfg = self.state.config
        if cfg.user_field:
            # One page: the user field (of another name) and the password together.
            if not post:
                self.send_html(one_page_login(cfg.user_field, "", None))
                return
            with self.state.lock:
                pending.username = form.get(cfg.user_field, "").strip()
            if self.state.users.get(pending.username) != form.get("pw"):
                self.send_html(one_page_login(cfg.user_field, pending.username, "Incorrect username or password."))
                return
            self.logged_in(key, pending)
            return
        if pending.username is None:
            self.redirect(f"/u/login/identifier?state={key}")
            return
        fill = autofill_script("password", first_password) if autofill else ""
        if not post:
            self.send_html(password_page(pending.username, None, fill))
            return
        if cfg.reject_login_status:
            # An IdP (or a gateway in front of it) refusing the login with a bare page.
            self.send_text(cfg.reject_login_status, "Access denied: the account is locked")
            return
        if self.state.users.get(pending.username) != form.get("password"):
            self.send_html(password_page(pending.username, "Wrong email or password", ""))
            return
        self.logged_in(key, pending)

    def logged_in(self, key: str, pending: PendingLogin) -> None:
        """The password was right: a session, then back where the login started (or,
        with --after-login, to a page a person must act on)."""
        session = secrets.token_urlsafe(32)
        with self.state.lock:
            self.state.sessions[session] = pending.username
            del self.state.logins[key]
        cookie = f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax"
        if self.state.config.persistent_cookie:
            # Like Auth0's own session cookie, which outlives the browser.
            cookie += "; Max-Age=86400"
        target = "/u/after-login" if self.state.config.after_login else pending.return_to
        self.redirect(target, {"Set-Cookie": cookie})

    # -- OAuth authorization code + PKCE --------------------------------------

    def get_authorize(self, query: dict[str, str]) -> None:
        self.state.count("authorize")
        cfg = self.state.config
        redirect_uri = query.get("redirect_uri", "")
        oauth_state = query.get("state", "")
        if cfg.state_override is not None:  # a redirect another login asked for
            oauth_state = cfg.state_override

        def back(params: dict[str, str]) -> None:
            sep = "&" if "?" in redirect_uri else "?"
            self.redirect(redirect_uri + sep + urlencode({**params, "state": oauth_state}, quote_via=quote))

        if not redirect_uri:  # nowhere to send an error to
            self.send_text(400, "invalid_request: missing redirect_uri")
            return
        problem = None
        if query.get("client_id") != cfg.client_id:
            problem = f"Unknown client: {query.get('client_id', '')}"
        elif query.get("response_type") != "code":
            problem = "Unsupported response_type"
        elif query.get("code_challenge_method") != "S256":
            problem = "code_challenge_method must be S256"
        elif not query.get("code_challenge"):
            problem = "Missing code_challenge"
        if problem:
            back({"error": "invalid_request", "error_description": problem})
            return

        user = self.session_user()
        if user is None:
            self.start_login(self.path)
            return
        if cfg.deny_authorize:  # the user declined consent after logging in
            back({"error": "access_denied", "error_description": "User did not authorize"})
            return
        code = secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.codes[code] = IssuedCode(
                challenge=query["code_challenge"],
                redirect_uri=redirect_uri,
                client_id=cfg.client_id,
                scope=query.get("scope", ""),
                audience=query.get("audience"),
                username=user,
            )
        back({"code": code})

    def post_token(self) -> None:
        self.state.count("token")
        form = self.read_form()

        def fail(error: str, description: str) -> None:
            self.send_json(400, {"error": error, "error_description": description})

        if form.get("grant_type") != "authorization_code":
            fail("unsupported_grant_type", "Unsupported grant type")
            return
        missing = [k for k in ("code", "code_verifier", "redirect_uri", "client_id") if not form.get(k)]
        if missing:
            fail("invalid_request", f"Missing required parameter: {missing[0]}")
            return
        with self.state.lock:  # a code is spent by its first redemption, good or bad
            issued = self.state.codes.pop(form["code"], None)
        if issued is None:
            fail("invalid_grant", "Invalid authorization code")
        elif form["client_id"] != issued.client_id:
            fail("invalid_grant", "Client id does not match the authorization code")
        elif form["redirect_uri"] != issued.redirect_uri:
            fail("invalid_grant", "Redirect URI does not match the authorization request")
        elif b64url(hashlib.sha256(form["code_verifier"].encode()).digest()) != issued.challenge:
            fail("invalid_grant", "Failed to verify code verifier")
        else:
            self.send_json(200, self.tokens(issued))

    def tokens(self, issued: IssuedCode) -> dict:
        now = int(time.time())
        common = {
            "iss": self.state.base_url + "/",
            "sub": f"auth0|{issued.username}",
            "iat": now,
            "exp": now + 86400,
            "email": self.state.config.session_name,
        }
        return {
            "access_token": dummy_jwt({**common, "aud": issued.audience or issued.client_id, "scope": issued.scope}),
            "id_token": dummy_jwt({**common, "aud": issued.client_id}),
            "token_type": "Bearer",
            "expires_in": 86400,
            "scope": issued.scope,
        }


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Auth0-like test identity provider on 127.0.0.1.")
    p.add_argument("--port", type=int, default=0, help="port to bind (default 0: ephemeral)")
    p.add_argument("--log", action="store_true", help="log requests to stderr")
    p.add_argument("--client-id", default="test-client", help="the one known client id")
    p.add_argument("--role", action="append", metavar="ROLE_ARN,PROVIDER_ARN",
                   help="a Role attribute value (repeatable)")
    p.add_argument("--reversed-roles", action="store_true", help="emit roles as PROVIDER_ARN,ROLE_ARN")
    p.add_argument("--callback", default="http://localhost:12200/saml", help="ACS URL the form posts to")
    p.add_argument("--session-duration", type=int, help="add the SessionDuration attribute")
    p.add_argument("--session-name", default="developer@example.com", help="RoleSessionName value")
    p.add_argument("--auto-session", action="store_true", help="treat every browser as logged in")
    p.add_argument("--user", action="append", metavar="NAME:PASSWORD", help="login account (repeatable)")
    p.add_argument("--session-cookie", action="append", default=[], metavar="VALUE",
                   help="a pre-issued valid idp_session cookie value (repeatable)")
    p.add_argument("--no-relay-state-echo", action="store_true", help="do not post RelayState back")
    p.add_argument("--issued-ago", type=int, default=0, metavar="SECONDS",
                   help="date the response's IssueInstant this many seconds back")
    p.add_argument("--relay-state-override", metavar="VALUE", help="post this RelayState instead")
    p.add_argument("--split-role-attributes", action="store_true",
                   help="one Role attribute per role instead of one attribute with every value")
    p.add_argument("--persistent-cookie", action="store_true",
                   help="the session cookie gets Max-Age (as Auth0's does), so browsers keep it")
    p.add_argument("--autofill", action="store_true",
                   help="login pages fill in the first --user and submit themselves")
    p.add_argument("--frame", metavar="URL", help="the SAML form page also shows URL in an iframe")
    p.add_argument("--submit-delay", type=float, default=0, metavar="SECONDS",
                   help="the SAML form page submits itself after SECONDS")
    p.add_argument("--login-redirect", metavar="URL",
                   help="without a session, send the browser to URL (another origin's login form)")
    p.add_argument("--deny-authorize", action="store_true", help="/authorize answers access_denied")
    p.add_argument("--state-override", metavar="VALUE", help="/authorize sends this state back instead")
    p.add_argument("--user-field", metavar="NAME",
                   help="a one-page login form whose user field (type email) is named NAME")
    p.add_argument("--reject-login-status", type=int, metavar="STATUS",
                   help="answer every password POST with STATUS (401, 403) and a plain-text page")
    p.add_argument("--after-login", choices=sorted(AFTER_LOGIN_PAGES),
                   help="after the right password, a page a person must act on (never left)")
    p.add_argument("--replay-response", action="store_true",
                   help="serve the first SAML response built again on every later /samlp")
    p.add_argument("--rotate-session", action="store_true",
                   help="the SAML form page replaces the session cookie with a new one (Set-Cookie)")
    p.add_argument("--challenge", choices=sorted(CHALLENGE_PAGES),
                   help="without a session, a page that asks for a passkey or a managed device")
    args = p.parse_args(argv)
    args.role = args.role or [DEFAULT_ROLE]
    args.user = args.user or ["alice:correct-horse"]
    for role in args.role:
        if "," not in role:
            p.error(f"--role needs ROLE_ARN,PROVIDER_ARN: {role}")
    for user in args.user:
        if ":" not in user:
            p.error(f"--user needs NAME:PASSWORD: {user}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    users = dict(u.split(":", 1) for u in args.user)
    state = IdpState(config=args, users=users)
    first_user = next(iter(users))
    state.sessions.update({cookie: first_user for cookie in args.session_cookie})

    handler = type("BoundIdpHandler", (IdpHandler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"listening on {state.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
