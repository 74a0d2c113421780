"""Cursor connections' shared parts: `PageInfo`, opaque cursors, and sealed cursors for callers
who may not read what a cursor names. (Each area's connection types sit with its types.)

Stores page by id (keyset); a cursor is that id wrapped with a prefix saying which list it
belongs to, base64-encoded so clients treat it as opaque. Where the caller may not learn the id
(a partner paging riders), the cursor is sealed instead (`CursorSeal`): AES-256-GCM from
`cryptography`, under a key from configuration (`PBOSS_CURSOR_KEY`), so every replica sharing the
key reads the cursors any of them issued, and a cursor made up or altered is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
from typing import Any

import strawberry
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pboss.graphql.errors import UserInputError

log = logging.getLogger(__name__)

MAX_PAGE = 500


@strawberry.type(description="Where a page ends and whether another follows.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def page_info(edges: list[Any], has_next: bool) -> PageInfo:
    """The PageInfo of a page of `edges` (each with a `cursor`): it ends at the last edge."""
    return PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None)


#: `base64.urlsafe_b64encode`'s alphabet from the standard one.
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def encode_cursor(prefix: str, key: str) -> str:
    """An opaque cursor for the item `key` of a `prefix` list: `base64.urlsafe_b64encode` of
    `prefix:key`, spelled with binascii (a riders page makes fifty)."""
    plain = binascii.b2a_base64(f"{prefix}:{key}".encode(), newline=False)
    return plain.translate(_URLSAFE).decode()


def decode_cursor(prefix: str, cursor: str | None) -> str | None:
    """The key inside a cursor of a `prefix` list (UserInputError when it is not one)."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raw = ""
    kind, sep, key = raw.partition(":")
    if not sep or kind != prefix or not key:
        raise UserInputError(f"invalid cursor {cursor[:80]!r} for this list")
    return key


def page_size(first: int, limit: int = MAX_PAGE) -> int:
    """`first` checked against 1..limit (UserInputError otherwise)."""
    if not 1 <= first <= limit:
        raise UserInputError(f"first must be between 1 and {limit}, got {first}")
    return first


class CursorSeal:
    """Seals keys into opaque cursors and opens them: AES-256-GCM with a random 96-bit nonce,
    the key padded (to a multiple of `PAD` bytes, so a cursor's length says little about it) and
    bound to its list by the associated data. The AES key is SHA-256 of the configured secret,
    so any string works as `PBOSS_CURSOR_KEY`."""

    VERSION = b"\x02"
    NONCE_BYTES = 12
    PAD = 32

    def __init__(self, secret: str | bytes):
        raw = secret.encode() if isinstance(secret, str) else secret
        self.aead = AESGCM(hashlib.sha256(b"pboss cursor key\0" + raw).digest())

    @classmethod
    def from_settings(cls, secret: str | None) -> CursorSeal:
        """The seal of the configured key, or of a random one made once per process (logged:
        cursors sealed with it do not survive a restart and are refused by other replicas)."""
        if secret:
            return cls(secret)
        return cls(_process_secret())

    def seal(self, prefix: str, key: str) -> str:
        """An opaque cursor for the item `key` of a `prefix` list."""
        raw = key.encode()
        body = len(raw).to_bytes(2, "big") + raw
        body += b"\0" * (-len(body) % self.PAD)
        nonce = secrets.token_bytes(self.NONCE_BYTES)
        sealed = self.aead.encrypt(nonce, body, self.VERSION + prefix.encode())
        return base64.urlsafe_b64encode(self.VERSION + nonce + sealed).decode()

    def open(self, prefix: str, cursor: str) -> str | None:
        """The key sealed in a cursor of a `prefix` list, or None when it is not one (tampered,
        sealed under another key, of another list, or not a sealed cursor at all)."""
        try:
            blob = base64.urlsafe_b64decode(cursor.encode("ascii"))
        except (binascii.Error, UnicodeError, ValueError):
            return None
        head = len(self.VERSION) + self.NONCE_BYTES
        if len(blob) < head + self.PAD or not blob.startswith(self.VERSION):
            return None
        nonce, sealed = blob[len(self.VERSION) : head], blob[head:]
        try:
            body = self.aead.decrypt(nonce, sealed, self.VERSION + prefix.encode())
        except InvalidTag:
            return None
        size = int.from_bytes(body[:2], "big")
        if not 0 < size <= len(body) - 2:
            return None
        try:
            return body[2 : 2 + size].decode()
        except UnicodeError:
            return None


_PROCESS_SECRET: list[bytes] = []


def _process_secret() -> bytes:
    """A random secret, made on first use and kept for the process's life."""
    if not _PROCESS_SECRET:
        log.warning(
            "PBOSS_CURSOR_KEY is not set: partners' cursors are sealed with a random key of this "
            "process; they do not survive a restart and other replicas refuse them"
        )
        _PROCESS_SECRET.append(secrets.token_bytes(32))
    return _PROCESS_SECRET[0]
