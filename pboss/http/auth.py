"""API keys and the principal each maps to: who is calling, in which role, for which partner.

Keys come from configuration (PBOSS_API_KEYS as JSON `{"<key>": "<role>"}`, or a TOML file named
by PBOSS_API_KEYS_FILE with `[[key]]` tables of key, role and name), never from code. Roles are
`crm`, `engineer`, `admin` and `partner:<partner id>`. Only when nothing is configured and the
store is the embedded demo do the documented development keys (DEV_KEYS) apply.
"""

from __future__ import annotations

import hashlib
import logging
import tomllib
from collections.abc import Mapping

from pboss.config import Settings
from pboss.graphql.permissions import Principal, parse_role
from pboss.inventory.errors import PbossError

log = logging.getLogger(__name__)

#: Development keys, active only with no keys configured on the embedded demo store.
DEV_KEYS: dict[str, str] = {
    "dev-crm": "crm",
    "dev-engineer": "engineer",
    "dev-admin": "admin",
    "dev-partner-tt": "partner:P-TT",
    "dev-partner-oc": "partner:P-OC",
    "dev-network": "network",
}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """Looks up the principal of an API key (keys are held only as SHA-256 digests)."""

    def __init__(self, keys: Mapping[str, Principal]):
        self._by_digest = {_digest(k): p for k, p in keys.items()}

    def __len__(self) -> int:
        return len(self._by_digest)

    def principal(self, key: str | None) -> Principal | None:
        """The principal of a key, or None when the key is missing or unknown."""
        if not key:
            return None
        return self._by_digest.get(_digest(key))


def _from_file(path: str) -> dict[str, Principal]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    out = {}
    for i, row in enumerate(data.get("key", [])):
        if "key" not in row or "role" not in row:
            raise ValueError(f"{path}: [[key]] #{i + 1} needs key and role")
        out[row["key"]] = parse_role(row["role"], row.get("name") or f"key{i + 1}")
    return out


def load_keyring(settings: Settings, store_name: str) -> KeyRing:
    """The configured keys; the development keys only if none are configured on the demo store."""
    keys = {k: parse_role(r, _digest(k)[:8]) for k, r in settings.api_keys.items()}
    if settings.api_keys_file is not None:
        keys.update(_from_file(str(settings.api_keys_file)))
    if not keys and store_name == "memory" and settings.demo:
        log.warning("no API keys configured: the development keys (dev-crm, ...) are active")
        return dev_keyring()
    return KeyRing(keys)


class NoApiKeys(PbossError):
    """The service would open a store with no API key configured: every request would be 401."""

    code = "no_api_keys"


def require_keys(keyring: KeyRing, store_name: str) -> None:
    """Refuse to serve a store no key can reach (e.g. Neo4j with PBOSS_API_KEYS unset)."""
    if len(keyring) == 0:
        raise NoApiKeys(
            f"no API keys configured for the {store_name} store, so every request would be "
            'refused: set PBOSS_API_KEYS (JSON {"<key>": "<role>"}) or PBOSS_API_KEYS_FILE '
            "(`pboss keys init` writes a .env with generated keys); the development keys work "
            "only on the embedded demo store"
        )


def dev_keyring() -> KeyRing:
    """The documented development keys, each named after itself in the audit trail."""
    return KeyRing({k: parse_role(r, k) for k, r in DEV_KEYS.items()})


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    """The API key of a request: `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key") or None
