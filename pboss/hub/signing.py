"""Signing deliveries so a receiver can reject forgeries and replays.

Each POST carries `X-Pboss-Signature: t=<unix seconds>,v1=<hex>` where the hex is
HMAC-SHA256(listener secret, "<t>.<raw body>"). A receiver recomputes it over the raw bytes it
received, compares in constant time, and refuses a timestamp older than its tolerance (a replayed
request) — `verify` does all three, and docs/api.md shows the same in a few lines for CRM.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-Pboss-Signature"
EVENT_ID_HEADER = "X-Pboss-Event-Id"
EVENT_TYPE_HEADER = "X-Pboss-Event-Type"
ATTEMPT_HEADER = "X-Pboss-Delivery-Attempt"
#: A batched delivery's (a listener with batchSize > 1): how many events its array holds, and
#: the ids of its first and last (in sequence order).
EVENT_COUNT_HEADER = "X-Pboss-Event-Count"
FIRST_EVENT_ID_HEADER = "X-Pboss-First-Event-Id"
LAST_EVENT_ID_HEADER = "X-Pboss-Last-Event-Id"
#: How old a signature a receiver should accept, in seconds (the default of `verify`).
TOLERANCE_SECONDS = 300


class BadSignature(ValueError):
    """The signature header is missing, malformed, wrong or too old."""


def new_secret() -> str:
    """A fresh listener secret: 32 random bytes, URL-safe text."""
    return secrets.token_urlsafe(32)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header value for this body, now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_mac(secret, t, body)}"


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Check a signature header against the raw body; returns its timestamp, or raises
    BadSignature saying why (missing, malformed, wrong, or older/newer than `tolerance`)."""
    if not header:
        raise BadSignature(f"no {SIGNATURE_HEADER} header")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not given:
        raise BadSignature(f"malformed {SIGNATURE_HEADER}: expected t=<unix>,v1=<hex>")
    t = int(stamp)
    if not hmac.compare_digest(_mac(secret, t, body), given):
        raise BadSignature("signature does not match the body")
    current = time.time() if now is None else now
    if abs(current - t) > tolerance:
        raise BadSignature(f"signature time is {int(current - t)} s off (tolerance {tolerance} s)")
    return t
