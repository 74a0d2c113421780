"""Hub mutation inputs: a listener as CRM or a partner registers it."""

from __future__ import annotations

import strawberry


@strawberry.input(description="Narrow the events a listener receives; every given list matches.")
class ListenerFilterInput:
    subjects: list[str] | None = strawberry.field(
        default=None, description="Only events about these ids (order ids)."
    )
    sites: list[str] | None = strawberry.field(
        default=None, description="Only events naming one of these sites."
    )
    products: list[str] | None = strawberry.field(
        default=None, description="Only events naming one of these products."
    )
    partner: str | None = strawberry.field(
        default=None,
        description="Only events concerning this partner (a partner key may name only itself; "
        "its listeners are bound to it anyway).",
    )


@strawberry.input(description="A callback for the events of these types that pass the filter.")
class RegisterListenerInput:
    callback: str = strawberry.field(
        description="http(s) URL on a host the operator allows (PBOSS_HUB_ALLOWED_HOSTS)."
    )
    types: list[str] | None = strawberry.field(
        default=None, description="Event types (every type the caller may receive when left out)."
    )
    filter: ListenerFilterInput | None = None
    secret: str | None = strawberry.field(
        default=None,
        description="The HMAC key deliveries are signed with (16 to 256 characters); "
        "generated when left out.",
    )
    batch_size: int = strawberry.field(
        default=1,
        description="Events per POST: 1 (the default) sends each event as one JSON object, TMF "
        "style; 2 to 100 sends a JSON array of up to that many consecutive events already "
        "committed, in order (the receiver must accept arrays; see docs/api.md).",
    )
