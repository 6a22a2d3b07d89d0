"""Build hostile JWTs from real ones: re-signed with changed claims, unsigned, or tampered."""

import base64
import json

import jwt
from django.conf import settings


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def resign(token: str, key: str | None = None, **changes) -> str:
    """The same token with ``changes`` applied (None removes a claim), validly signed with ``key``."""
    claims = claims_of(token)
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=settings.SIMPLE_JWT["ALGORITHM"])


def unsigned(token: str) -> str:
    """``alg: none`` with the original claims and no signature."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = token.split(".")[1]
    return f"{header}.{payload}."


def with_tampered_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{header}.{payload}.{flipped}"


def with_tampered_payload(token: str, **changes) -> str:
    """Claims changed but the original signature kept."""
    header, _, signature = token.split(".")
    claims = claims_of(token)
    claims.update(changes)
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
