"""A real relying party against Tessera with authlib: the journey of openid_client_flow.mjs.

authlib's OAuth2Session (code_challenge_method S256) is the client's back channel: the
authorization URL, the code exchange, userinfo and refresh. A second requests.Session is the
browser: it keeps the server's cookies and posts the login and consent forms, never
following a redirect by itself. authlib's JOSE (JsonWebToken with its OpenID Connect claims
class CodeIDToken) validates each ID token against the server's JWKS: RS256 signature, iss,
aud, exp, iat, nonce and at_hash; the RFC 9207 `iss` of each callback is checked explicitly,
since authlib does not.

Inputs (environment): ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, POST_LOGOUT_REDIRECT_URI,
CLIENT2_ID, CLIENT2_SECRET, CLIENT2_REDIRECT_URI, USER_EMAIL, USER_PASSWORD; optional USER_NAME.
Prints one line per step passed; exits 1 with "FAIL: ..." at the first check that fails.
Run by crates/tessera-cli/tests/interop_oidc.rs.
"""

import base64
import hashlib
import json
import os
import re
import sys
import warnings
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

# The server under test is an http:// loopback issuer; authlib refuses plain HTTP without this.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

try:
    import requests
    from authlib.common.security import generate_token
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.requests_client import OAuth2Session

    # authlib 1.7+ marks authlib.jose as deprecated in favour of joserfc (same author); it
    # is still authlib's OpenID Connect validation, and the one CodeIDToken builds on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from authlib.jose import JsonWebKey, JsonWebToken
        from authlib.jose.errors import JoseError
        from authlib.oidc.core import CodeIDToken
except ImportError as error:  # pragma: no cover - an environment problem, said clearly
    print(f"FAIL: {error}: run scripts/test (it installs interop/python/requirements.txt)", file=sys.stderr)
    sys.exit(1)

SCOPE = "openid profile email"


class Failure(Exception):
    pass


def fail(message, detail=None):
    raise Failure(message if detail is None else f"{message}\n  {detail}")


def check(condition, message, detail=None):
    if not condition:
        fail(message, detail)


def passed(step):
    print(f"ok - {step}", flush=True)


def env(name):
    value = os.environ.get(name)
    if not value:
        fail(f"missing environment variable {name} (tests/interop_oidc.rs of tessera-cli sets it)")
    return value


def describe(response):
    body = re.sub(r"\s+", " ", response.text)[:400]
    location = response.headers.get("location")
    return f"{response.request.method} {response.url} -> {response.status_code}" + (
        f" Location: {location}" if location else ""
    ) + f" {body}"


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- The server's HTML pages --------------------------------------------------------------


class Forms(HTMLParser):
    """Every <form> of a page with its inputs and buttons."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.alerts = 0
        self._button = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("role") == "alert":
            self.alerts += 1
        if tag == "form":
            self.forms.append({"attrs": attrs, "inputs": [], "buttons": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(attrs)
        elif tag == "button" and self.forms:
            self._button = dict(attrs, text="")
            self.forms[-1]["buttons"].append(self._button)

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data

    def handle_endtag(self, tag):
        if tag == "button":
            self._button = None


def parse_page(response):
    parser = Forms()
    parser.feed(response.text)
    forms = []
    for form in parser.forms:
        action = urljoin(response.url, form["attrs"].get("action", ""))
        hidden = {i["name"]: i.get("value", "") for i in form["inputs"] if i.get("type") == "hidden" and i.get("name")}
        path = urlsplit(action).path
        kind = None
        if re.fullmatch(r"/interaction/[^/]+/login", path):
            kind = "login"
        elif re.fullmatch(r"/interaction/[^/]+/consent", path):
            kind = "consent"
        elif path == "/oauth/logout":
            kind = "logout"
        forms.append(dict(form, action=action, hidden=hidden, kind=kind))
    return forms, parser.alerts


def page_kind(response):
    forms, _ = parse_page(response)
    for form in forms:
        if form["kind"]:
            return form["kind"], form
    return None, None


def check_login_form(form, response):
    check(form["attrs"].get("method", "").lower() == "post", "the login form posts", describe(response))
    check(form["hidden"].get("csrf"), "the login form has a hidden csrf with a value", describe(response))
    by_name = {i.get("name"): i for i in form["inputs"]}
    email, password = by_name.get("email", {}), by_name.get("password", {})
    check(email.get("id") == "email" and email.get("type") == "email", 'login: <input id="email" type="email">', form["inputs"])
    check(password.get("id") == "password" and password.get("type") == "password", 'login: <input id="password" type="password">', form["inputs"])
    check(any("sign in" in b["text"].lower() for b in form["buttons"]), 'login: a "Sign in" button', form["buttons"])


def check_consent_form(form, response):
    check(form["hidden"].get("csrf"), "the consent form has a hidden csrf with a value", describe(response))
    decisions = {(b.get("name"), b.get("value")) for b in form["buttons"]}
    check({("decision", "allow"), ("decision", "deny")} <= decisions, "consent: Allow and Deny buttons named decision", form["buttons"])


def check_cookie(response, name):
    """HttpOnly and SameSite=Lax on a cookie this response sets (SPEC §7)."""
    lines = [v for k, v in response.raw.headers.items() if k.lower() == "set-cookie"]
    line = next((line for line in lines if line.startswith(f"{name}=")), None)
    check(line, f"the response sets cookie {name}", describe(response))
    attrs = [part.strip().lower() for part in line.split(";")[1:]]
    check("httponly" in attrs, f"cookie {name} is HttpOnly", line)
    check("samesite=lax" in attrs, f"cookie {name} is SameSite=Lax", line)
    check("path=/" in attrs, f"cookie {name} has Path=/", line)


class Browser:
    """A browser without JavaScript: cookies kept, redirects seen one by one."""

    def __init__(self):
        self.session = requests.Session()
        self.session.headers["Accept"] = "text/html"

    def get(self, url):
        return self.session.get(url, allow_redirects=False, timeout=30)

    def post(self, url, data):
        return self.session.post(url, data=data, allow_redirects=False, timeout=30)

    def authorize(self, url, redirect_uri, user, wrong_password_first=False):
        """From an authorization URL to the callback: returns (callback URL, pages seen)."""
        pages = []
        response = self.get(url)
        for _ in range(12):
            location = response.headers.get("location")
            if location:
                location = urljoin(response.url, location)
                check(response.status_code in (302, 303), "redirects are 303", describe(response))
                if location.startswith(redirect_uri):
                    return location, pages
                if urlsplit(response.url).path == "/oauth/authorize":
                    check_cookie(response, "tessera_interaction")
                response = self.get(location)
                continue
            kind, form = page_kind(response)
            if kind == "login":
                check_login_form(form, response)
                pages.append("login")
                password = user["password"]
                if wrong_password_first:
                    wrong_password_first = False
                    password += "-wrong"
                response = self.post(form["action"], dict(form["hidden"], email=user["email"], password=password))
                if password != user["password"]:
                    check(response.status_code == 401, "a wrong password answers 401", describe(response))
                    _, alerts = parse_page(response)
                    check(alerts > 0, 'the page after a wrong password has role="alert"', describe(response))
                    check(password not in response.text, "the wrong password is not echoed")
                    pages.append("login-error")
                else:
                    check(response.status_code == 303, "a successful login answers 303", describe(response))
                    check_cookie(response, "tessera_session")
                continue
            if kind == "consent":
                check_consent_form(form, response)
                pages.append("consent")
                response = self.post(form["action"], dict(form["hidden"], decision="allow"))
                check(response.status_code == 303, "the consent POST answers 303", describe(response))
                continue
            fail(f"unexpected page on the way to {redirect_uri}", describe(response))
        fail(f"more than 12 hops from {url}")

    def landing(self, url, redirect_uri):
        """Which page a browser would see for an authorization URL: login, consent or callback."""
        response = self.get(url)
        for _ in range(8):
            location = response.headers.get("location")
            if not location:
                break
            location = urljoin(response.url, location)
            if location.startswith(redirect_uri):
                return "callback", response
            response = self.get(location)
        return page_kind(response)[0], response


# --- The relying party ----------------------------------------------------------------------


class RelyingParty:
    # docs:begin relying-party
    def __init__(self, metadata, jwks, client_id, secret, redirect_uri, auth_method):
        self.metadata = metadata
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.keys = JsonWebKey.import_key_set(jwks)
        self.oauth = OAuth2Session(
            client_id,
            secret,
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=auth_method,
        )
    # docs:end relying-party

    # docs:begin authorization-url
    def authorization_url(self, **extra):
        verifier = generate_token(64)
        nonce = generate_token(24)
        url, state = self.oauth.create_authorization_url(
            self.metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
        )
        query = parse_qs(urlsplit(url).query)
        check(query.get("code_challenge_method") == ["S256"], "authlib sent code_challenge_method=S256", url)
        return {"url": url, "state": state, "nonce": nonce, "verifier": verifier}
    # docs:end authorization-url

    # docs:begin exchange
    def exchange(self, request, callback):
        # RFC 9207 §2.4: the authorization response must name this issuer before the code is used.
        query = parse_qs(urlsplit(callback).query)
        check(query.get("iss") == [self.metadata["issuer"]], "the callback carries iss = the issuer (RFC 9207)", callback)
        check(query.get("state") == [request["state"]], "the callback carries the state", callback)
        token = self.oauth.fetch_token(
            self.metadata["token_endpoint"],
            authorization_response=callback,
            state=request["state"],
            code_verifier=request["verifier"],
        )
        check(token.get("id_token"), "the token response has an id_token", list(token))
        check(str(token.get("token_type", "")).lower() == "bearer", "token_type is Bearer", token.get("token_type"))
        return token, self.validate_id_token(token["id_token"], token["access_token"], request["nonce"])
    # docs:end exchange

    def validate_id_token(self, id_token, access_token, nonce):
        # docs:begin validate-id-token
        header = json.loads(b64url_decode(id_token.split(".")[0]))
        check(header.get("alg") == "RS256" and header.get("kid"), "ID token header: RS256 with a kid", header)
        jwt = JsonWebToken(["RS256"])
        params = {"client_id": self.client_id, "access_token": access_token}
        if nonce is not None:
            params["nonce"] = nonce
        claims = jwt.decode(
            id_token,
            self.keys,
            claims_cls=CodeIDToken,
            claims_options={
                "iss": {"essential": True, "value": self.metadata["issuer"]},
                "aud": {"essential": True, "value": self.client_id},
                "sub": {"essential": True},
                "auth_time": {"essential": True},
                "sid": {"essential": True},
                "at_hash": {"essential": True},
            },
            claims_params=params,
        )
        # exp, iat, iss, aud, nonce, azp and at_hash (OpenID Connect Core §3.1.3.7).
        claims.validate(leeway=5)
        # Explicitly, not trusting the claims options: the audience is this client.
        aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        check(self.client_id in aud, f"ID token aud contains {self.client_id}", claims)
        check(claims["iss"] == self.metadata["issuer"], "ID token iss is the issuer", claims)
        if nonce is not None:
            check(claims.get("nonce") == nonce, "ID token nonce is the request nonce", claims)
        digest = hashlib.sha256(access_token.encode("ascii")).digest()
        at_hash = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        check(claims.get("at_hash") == at_hash, "at_hash matches the access token", claims)
        check(isinstance(claims.get("auth_time"), int), "ID token has auth_time", claims)
        check(claims.get("sid"), "ID token has sid", claims)
        # docs:end validate-id-token
        # A changed signature must fail: authlib really verifies against the JWKS.
        head, body, signature = id_token.split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        try:
            jwt.decode(f"{head}.{body}.{flipped}", self.keys)
            fail("an ID token with a changed signature was accepted")
        except JoseError:
            pass
        return dict(claims)

    def refresh(self, refresh_token):
        return self.oauth.refresh_token(self.metadata["token_endpoint"], refresh_token=refresh_token)

    def refused(self, refresh_token, error):
        try:
            self.refresh(refresh_token)
        except OAuthError as refused:
            check(refused.error == error, f"the refresh is refused with {error}", f"{refused.error}: {refused.description}")
            return
        fail(f"the refresh token was accepted; expected {error}")


NAMES = [
    "ISSUER", "CLIENT_ID", "CLIENT_SECRET", "REDIRECT_URI", "POST_LOGOUT_REDIRECT_URI",
    "CLIENT2_ID", "CLIENT2_SECRET", "CLIENT2_REDIRECT_URI", "USER_EMAIL", "USER_PASSWORD",
]


def journey():
    missing = [name for name in NAMES if not os.environ.get(name)]
    check(not missing, f"missing environment variables: {', '.join(missing)} (tests/interop_oidc.rs of tessera-cli sets them)")
    issuer = env("ISSUER")
    user = {"email": env("USER_EMAIL"), "password": env("USER_PASSWORD")}

    # --- 1. Discovery ---------------------------------------------------------------------
    # docs:begin discovery-jwks
    metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=30).json()
    check(metadata.get("issuer") == issuer, "discovery issuer is the issuer (OIDC Discovery §4.3)", metadata.get("issuer"))
    for field, path in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("userinfo_endpoint", "/oauth/userinfo"),
        ("end_session_endpoint", "/oauth/logout"),
    ]:
        check(metadata.get(field) == issuer + path, f"discovery {field} is {issuer}{path}", metadata.get(field))
    check(metadata.get("code_challenge_methods_supported") == ["S256"], "S256 only", metadata.get("code_challenge_methods_supported"))
    check(metadata.get("authorization_response_iss_parameter_supported") is True, "RFC 9207 advertised", metadata)
    jwks = requests.get(metadata["jwks_uri"], timeout=30).json()
    check(any(key.get("kty") == "RSA" for key in jwks.get("keys", [])), "the JWKS has an RSA key for ID tokens", jwks)
    passed("discovery and JWKS")
    # docs:end discovery-jwks

    rp = RelyingParty(metadata, jwks, env("CLIENT_ID"), env("CLIENT_SECRET"), env("REDIRECT_URI"), "client_secret_basic")
    rp2 = RelyingParty(metadata, jwks, env("CLIENT2_ID"), env("CLIENT2_SECRET"), env("CLIENT2_REDIRECT_URI"), "client_secret_post")
    browser = Browser()

    # --- 2. Sign in -----------------------------------------------------------------------
    request = rp.authorization_url()
    callback, pages = browser.authorize(request["url"], rp.redirect_uri, user, wrong_password_first=True)
    check(pages[:2] == ["login", "login-error"], "login page, then the error page after a wrong password", pages)
    passed(f"authorize: {', '.join(pages)}, callback")
    token, claims = rp.exchange(request, callback)
    check(token.get("refresh_token"), "the token response has a refresh_token", list(token))
    passed(f"code exchange (client_secret_basic, PKCE S256) and ID token validated: sub={claims['sub']}")

    # --- 3. Userinfo ----------------------------------------------------------------------
    response = rp.oauth.get(metadata["userinfo_endpoint"], timeout=30)
    check(response.status_code == 200, "userinfo answers 200", describe(response))
    info = response.json()
    check(info.get("sub") == claims["sub"], "userinfo sub is the ID token sub", info)
    check(info.get("email") == user["email"], "userinfo email (scope email)", info)
    if os.environ.get("USER_NAME"):
        check(info.get("name") == os.environ["USER_NAME"], "userinfo name (scope profile)", info)
    passed(f"userinfo: {info}")

    # --- 4. Refresh (OpenID Connect Core §12.2) -----------------------------------------------
    # docs:begin refresh-reuse
    refreshed = rp.refresh(token["refresh_token"])
    check(refreshed.get("id_token"), "the refresh response has a new id_token", list(refreshed))
    check(refreshed.get("refresh_token") not in (None, token["refresh_token"]), "the refresh token was rotated")
    again = rp.validate_id_token(refreshed["id_token"], refreshed["access_token"], None)
    for claim in ("iss", "sub", "aud", "auth_time", "sid"):
        check(again.get(claim) == claims.get(claim), f"the refreshed ID token has the same {claim}", (claims, again))
    rp.refused(token["refresh_token"], "invalid_grant")
    passed("refresh: new ID token with the same iss, sub, aud, auth_time; the old refresh token is refused")
    # That reuse revoked the family (SPEC §4), the new token with it; sign in to the client anew
    # within the session for the rest of the journey.
    rp.refused(refreshed["refresh_token"], "invalid_grant")
    passed("reuse of a rotated refresh token revoked its whole family")
    # docs:end refresh-reuse
    request = rp.authorization_url()
    callback, pages = browser.authorize(request["url"], rp.redirect_uri, user)
    check("login" not in pages, "within the session no login form", pages)
    token, claims = rp.exchange(request, callback)

    # --- 5. SSO into the second client ---------------------------------------------------------
    # docs:begin sso-second-client
    request2 = rp2.authorization_url()
    callback2, pages2 = browser.authorize(request2["url"], rp2.redirect_uri, user)
    check("login" not in pages2, "SSO: no login form for the second client", pages2)
    token2, claims2 = rp2.exchange(request2, callback2)
    check(claims2["sub"] == claims["sub"] and claims2["sid"] == claims["sid"], "SSO: same sub and sid", (claims, claims2))
    check(claims2["auth_time"] == claims["auth_time"], "SSO: same auth_time", (claims, claims2))
    passed(f"SSO into {rp2.client_id} (client_secret_post) without a login; pages: {pages2 or 'none'}")
    # docs:end sso-second-client

    # OIDC Core §5.3: userinfo answers only for an access token of an OpenID request; without
    # `openid` the request is plain OAuth 2.0 and the token must not read the user's claims.
    # docs:begin userinfo-needs-openid
    request3 = rp2.authorization_url(scope="profile email")
    callback3, _ = browser.authorize(request3["url"], rp2.redirect_uri, user)
    plain = rp2.oauth.fetch_token(
        metadata["token_endpoint"], authorization_response=callback3, state=request3["state"],
        code_verifier=request3["verifier"],
    )
    check("id_token" not in plain, "no id_token without the openid scope", list(plain))
    response = requests.get(metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {plain['access_token']}"}, timeout=30)
    check(response.status_code in (401, 403), "userinfo refuses an access token without the openid scope (403 insufficient_scope)", describe(response))
    passed(f"userinfo refuses a token without openid ({response.status_code} {response.headers.get('www-authenticate')})")
    # docs:end userinfo-needs-openid

    # --- 6. RP-initiated logout -----------------------------------------------------------------
    # docs:begin logout
    state = generate_token(16)
    post_logout = env("POST_LOGOUT_REDIRECT_URI")
    end_session = metadata["end_session_endpoint"] + "?" + urlencode(
        {"id_token_hint": token["id_token"], "post_logout_redirect_uri": post_logout, "state": state, "client_id": rp.client_id}
    )
    response = browser.get(end_session)
    check(response.status_code in (302, 303), "logout with id_token_hint redirects at once", describe(response))
    location = urlsplit(urljoin(response.url, response.headers["location"]))
    check(f"{location.scheme}://{location.netloc}{location.path}" == post_logout, "to the post_logout_redirect_uri", location.geturl())
    check(parse_qs(location.query).get("state") == [state], "with the state", location.geturl())
    passed("RP-initiated logout with id_token_hint")

    kind, response = browser.landing(rp.authorization_url()["url"], rp.redirect_uri)
    check(kind == "login", "after logout, authorize shows the login form", describe(response))
    rp.refused(token["refresh_token"], "invalid_grant")
    if token2.get("refresh_token"):
        rp2.refused(token2["refresh_token"], "invalid_grant")
    passed("after logout: the login form again, and the session's refresh tokens are refused")
    # docs:end logout

    # --- 7. A logout URI that is not registered is never followed (RP-Initiated Logout §3) --------
    request = rp.authorization_url()
    callback, _ = browser.authorize(request["url"], rp.redirect_uri, user)
    token, claims = rp.exchange(request, callback)
    evil = metadata["end_session_endpoint"] + "?" + urlencode(
        {"id_token_hint": token["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:9/elsewhere", "state": state}
    )
    response = browser.get(evil)
    location = response.headers.get("location", "")
    check("127.0.0.1:9" not in location, "an unregistered post_logout_redirect_uri is not followed", describe(response))
    passed(f"an unregistered post_logout_redirect_uri is not followed ({response.status_code})")
    passed("authlib journey complete")


def main():
    try:
        journey()
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        return 1
    except (JoseError, OAuthError, requests.RequestException, KeyError, ValueError) as error:
        print(f"FAIL: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
