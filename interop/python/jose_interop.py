"""Interoperability of tessera-jose with PyJWT and jwcrypto, both ways.

Reads a JSON file of cases written by crates/tessera-jose/tests/interop_python.rs:
  {"issuer", "audience", "now", "cases": [{"alg", "token", "public_jwk", "private_pem"|"secret_b64u"}]}
For every case it verifies Tessera's token with PyJWT and with jwcrypto (and checks that a
tampered copy is refused), then signs the same claims with PyJWT, and writes
  {"results": [{"alg", "pyjwt_verified", "jwcrypto_verified", "tamper_refused", "pyjwt_token"}]}
Any library error is a failed case, not a crash: the Rust test reports each one.
"""

import base64
import json
import sys

import jwt
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_pyjwt(case, doc):
    if case["alg"].startswith("HS"):
        key = b64u_decode(case["secret_b64u"])
    else:
        key = jwt.PyJWK(case["public_jwk"], algorithm=case["alg"]).key
    claims = jwt.decode(
        case["token"],
        key,
        algorithms=[case["alg"]],
        audience=doc["audience"],
        issuer=doc["issuer"],
        options={"verify_exp": False, "verify_iat": False},
    )
    header = jwt.get_unverified_header(case["token"])
    return claims["sub"] == "user-42" and header["typ"] == "at+jwt"


def verify_jwcrypto(case):
    if case["alg"].startswith("HS"):
        key = jwcrypto_jwk.JWK(kty="oct", k=case["secret_b64u"])
    else:
        key = jwcrypto_jwk.JWK(**case["public_jwk"])
    token = jwcrypto_jws.JWS()
    token.deserialize(case["token"])
    token.verify(key, alg=case["alg"])
    return json.loads(token.payload)["sub"] == "user-42"


def tamper_refused(case):
    header, payload, signature = case["token"].split(".")
    claims = json.loads(b64u_decode(payload))
    claims["sub"] = "admin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    try:
        verify_pyjwt(dict(case, token=f"{header}.{forged_payload}.{signature}"), DOC)
    except jwt.InvalidTokenError:
        return True
    return False


def sign_pyjwt(case, doc):
    claims = {
        "iss": doc["issuer"], "aud": doc["audience"], "sub": "user-42", "iat": doc["now"],
        "exp": doc["now"] + 900, "jti": "py-" + case["alg"], "scope": "orders:read",
    }
    if case["alg"].startswith("HS"):
        key = b64u_decode(case["secret_b64u"])
    else:
        key = case["private_pem"]
    return jwt.encode(claims, key, algorithm=case["alg"], headers={"typ": "at+jwt", "kid": case["public_jwk"]["kid"]})


def attempt(function, *args):
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 - every failure is reported per case
        return f"{type(error).__name__}: {error}"


if __name__ == "__main__":
    with open(sys.argv[1]) as source:
        DOC = json.load(source)
    results = []
    for case in DOC["cases"]:
        results.append({
            "alg": case["alg"],
            "pyjwt_verified": attempt(verify_pyjwt, case, DOC),
            "jwcrypto_verified": attempt(verify_jwcrypto, case),
            "tamper_refused": attempt(tamper_refused, case),
            "pyjwt_token": attempt(sign_pyjwt, case, DOC),
        })
    with open(sys.argv[2], "w") as sink:
        json.dump({"results": results, "pyjwt": jwt.__version__}, sink)
