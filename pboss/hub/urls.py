"""Which callback URLs a listener may register: http(s), no credentials, an allowed host.

The operator lists where callbacks may point (`PBOSS_HUB_ALLOWED_HOSTS`): host names, with a
leading `*.` for a domain's hosts, IP addresses or networks, each optionally with `:port`. The
check is on the URL as written, so a name and an address are separate entries; an empty list
refuses every callback, since a hub that POSTs anywhere is a way into the operator's network.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
#: A host name or `*.domain` (letters, digits, hyphens, dots) or an IPv4 address.
_NAME = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


class CallbackRefused(ValueError):
    """A callback URL pboss will not deliver to, and why."""


@dataclass(frozen=True)
class HostRule:
    """One allow-list entry: a host name, `*.domain`, an address or a network; any port or one."""

    host: str
    port: int | None

    @classmethod
    def parse(cls, entry: str) -> HostRule:
        """`crm.example.com`, `*.example.com:8443`, `10.1.2.3`, `10.0.0.0/8`, `[::1]:9000`."""
        text = entry.strip().lower()
        port: int | None = None
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            if rest.startswith(":"):
                port = int(rest[1:])
        elif text.count(":") == 1:
            host, _, raw = text.partition(":")
            port = int(raw)
        else:
            host = text
        if not host:
            raise ValueError("no host")
        if ":" in host or "/" in host:
            ipaddress.ip_network(host, strict=False)  # an IPv6 address or a network, or refused
        elif not _NAME.fullmatch(host):
            raise ValueError("not a host name, address or network")
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"port {port} is out of range")
        return cls(host=host, port=port)

    def allows(self, host: str, port: int) -> bool:
        """True when this entry covers `host` (lower case, no brackets) on `port`."""
        if self.port is not None and self.port != port:
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:]) and host != self.host[2:]
        try:
            net = ipaddress.ip_network(self.host, strict=False)
        except ValueError:
            return host == self.host
        try:
            return ipaddress.ip_address(host) in net
        except ValueError:
            return False


def parse_allow_list(entries: Sequence[str]) -> list[HostRule]:
    """The configured allow-list as rules (ValueError naming a bad entry)."""
    rules = []
    for entry in entries:
        try:
            rules.append(HostRule.parse(entry))
        except ValueError as exc:
            raise ValueError(f"PBOSS_HUB_ALLOWED_HOSTS entry {entry!r}: {exc}") from None
    return rules


def check_callback(url: str, rules: Sequence[HostRule]) -> str:
    """The callback URL if pboss may deliver to it; else CallbackRefused with the reason."""
    if len(url) > MAX_URL_LENGTH:
        raise CallbackRefused(f"callback URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise CallbackRefused(f"callback URL is malformed: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise CallbackRefused(f"callback URL must be http or https, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise CallbackRefused("callback URL has no host")
    if parts.username is not None or parts.password is not None:
        raise CallbackRefused("callback URL must not carry credentials (the secret signs instead)")
    if parts.fragment:
        raise CallbackRefused("callback URL must not have a fragment")
    effective = port if port is not None else (443 if parts.scheme == "https" else 80)
    if not rules:
        raise CallbackRefused(
            "no callback host is allowed on this server (the operator sets PBOSS_HUB_ALLOWED_HOSTS)"
        )
    if not any(rule.allows(parts.hostname, effective) for rule in rules):
        raise CallbackRefused(
            f"callback host {parts.hostname}:{effective} is not in the operator's allow-list"
        )
    return url
