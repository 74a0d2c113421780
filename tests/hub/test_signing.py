"""Delivery signatures (`pboss.hub.signing`): what a receiver accepts and what it refuses."""

from __future__ import annotations

import pytest

from pboss.hub.signing import BadSignature, new_secret, sign, verify

BODY = b'{"eventId":"e-1","eventType":"ProductOrderStateChangeEvent"}'
T = 1_800_000_000


def test_a_signed_body_verifies_and_returns_its_time() -> None:
    secret = new_secret()
    assert verify(secret, sign(secret, BODY, T), BODY, now=T + 10) == T


@pytest.mark.parametrize(
    ("header", "body", "now", "why"),
    [
        (None, BODY, T, "no X-Pboss-Signature"),
        ("v1=abc", BODY, T, "malformed"),
        ("t=soon,v1=abc", BODY, T, "malformed"),
        ("SIGNED", BODY + b" ", T, "does not match"),  # the body was changed
        ("OTHER", BODY, T, "does not match"),  # signed with another secret
        ("SIGNED", BODY, T + 301, "off"),  # replayed after the tolerance
        ("SIGNED", BODY, T - 301, "off"),  # a clock far ahead is refused too
    ],
)
def test_forged_altered_or_replayed_deliveries_are_refused(
    header: str | None, body: bytes, now: int, why: str
) -> None:
    secret = "s" * 32
    if header == "SIGNED":
        header = sign(secret, BODY, T)
    elif header == "OTHER":
        header = sign("o" * 32, BODY, T)
    with pytest.raises(BadSignature, match=why):
        verify(secret, header, body, now=now)


def test_secrets_are_fresh_and_long() -> None:
    a, b = new_secret(), new_secret()
    assert a != b and len(a) >= 40
