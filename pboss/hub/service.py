"""Registering, listing and removing listeners, and replaying dead letters: the hub's rules.

Who may do what: every role may register a listener for the event types it may receive
(`pboss.hub.catalog`); a partner's listener is bound to events naming that partner and gets the
partner's view of them; a caller lists and removes its own role's listeners (a partner its own),
an admin every listener; only an admin replays dead letters. Callback URLs pass the operator's
allow-list (`pboss.hub.urls`). The GraphQL area `graphql/hub` is a thin layer over this.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pboss.config import Settings
from pboss.hub import catalog
from pboss.hub.signing import new_secret
from pboss.hub.urls import CallbackRefused, check_callback, parse_allow_list
from pboss.inventory.events import EventFilter
from pboss.inventory.listeners import MAX_BATCH_SIZE, DeadLetter, DeadLetterState, Listener
from pboss.inventory.store import GraphStore

MIN_SECRET, MAX_SECRET = 16, 256
#: The most values one filter criterion may list.
MAX_FILTER_VALUES = 100
#: The longest value a filter criterion may hold (ids and names are far shorter).
MAX_VALUE_LENGTH = 200


@dataclass(frozen=True)
class Caller:
    """Who is asking: a role, a name for the audit trail, the partner a partner key speaks for."""

    role: str
    name: str = ""
    partner_id: str | None = None

    @property
    def is_partner(self) -> bool:
        return self.role == "partner"


class HubRefused(ValueError):
    """A request the hub refuses, naming the argument at fault (`field`)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class HubForbidden(PermissionError):
    """The caller's role may not do this (`action`), and why; `field` names the argument that
    asked for it when one did (event types the role may not see, another partner's filter)."""

    def __init__(self, action: str, role: str, detail: str = "", field: str | None = None):
        self.action, self.role, self.detail, self.field = action, role, detail, field
        super().__init__(
            f"{action} is not allowed for role {role!r}" + (f": {detail}" if detail else "")
        )


class ListenerNotFound(LookupError):
    """No listener with this id that the caller may see."""

    def __init__(self, listener_id: str):
        self.listener_id = listener_id
        super().__init__(f"listener {listener_id!r} not found")


def public(listener: Listener) -> Listener:
    """A listener as shown to callers: its secret blanked."""
    return listener.model_copy(update={"secret": ""})


class HubService:
    """The hub's rules over a store's listener records."""

    def __init__(
        self,
        store: GraphStore,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.allow = parse_allow_list(settings.hub_allowed_hosts)

    # ---- listeners -------------------------------------------------------------------------------

    def register(
        self,
        caller: Caller,
        callback: str,
        *,
        types: Sequence[str] | None = None,
        where: EventFilter | None = None,
        secret: str | None = None,
        batch_size: int = 1,
    ) -> tuple[Listener, str]:
        """Register a callback for these event types (all the caller may receive when None) and
        filter, sent `batch_size` events a POST at most (1: one event object per POST); returns
        the listener (secret blanked) and its signing secret, shown only now."""
        if caller.role not in catalog.LISTENER_ROLES:
            raise HubForbidden("register a listener", caller.role)
        try:
            check_callback(callback, self.allow)
        except CallbackRefused as exc:
            raise HubRefused("callback", str(exc)) from None
        wanted = self._types(caller, types)
        where = self._filter(caller, where or EventFilter(), wanted)
        if secret is not None and not MIN_SECRET <= len(secret) <= MAX_SECRET:
            raise HubRefused("secret", f"a secret has {MIN_SECRET} to {MAX_SECRET} characters")
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise HubRefused(
                "batchSize",
                f"batchSize is 1 (one event per POST) to {MAX_BATCH_SIZE} (a JSON array of up "
                f"to that many events), got {batch_size}",
            )
        if len(self.store.list_listeners()) >= self.settings.hub_max_listeners:
            raise HubRefused(
                "callback",
                f"the hub holds its maximum of {self.settings.hub_max_listeners} listeners",
            )
        key = secret or new_secret()
        listener = Listener(
            id=f"LST-{uuid.uuid4().hex[:16]}",
            callback=callback,
            secret=key,
            where=where,
            owner_role=caller.role,
            owner_partner=caller.partner_id,
            created_by=caller.name,
            created_at=self.clock(),
            batch_size=batch_size,
            # a new listener starts at the log's end: it hears what happens from now on
            # (what happened before is in `events(after:)`)
            cursor=self.store.last_event_seq(),
        )
        self.store.add_listener(listener)
        return public(listener), key

    def _types(self, caller: Caller, types: Sequence[str] | None) -> list[str]:
        visible = catalog.visible_types(caller.role)
        if types is None:
            return visible
        if not types:
            raise HubRefused("types", "name at least one event type, or leave types out for all")
        if len(types) > MAX_FILTER_VALUES:
            raise HubRefused("types", f"types lists 1 to {MAX_FILTER_VALUES} values")
        unknown = sorted(set(types) - set(catalog.known_types()))
        if unknown:
            raise HubRefused(
                "types", f"unknown event type(s) {unknown}; known: {catalog.known_types()}"
            )
        hidden = sorted(set(types) - set(visible))
        if hidden:
            raise HubForbidden(
                "receive events of type(s) " + ", ".join(hidden), caller.role, field="types"
            )
        return sorted(set(types))

    def _filter(self, caller: Caller, where: EventFilter, types: list[str]) -> EventFilter:
        for name in ("subjects", "sites", "products"):
            values = getattr(where, name)
            if values is not None and not 1 <= len(values) <= MAX_FILTER_VALUES:
                raise HubRefused(name, f"{name} lists 1 to {MAX_FILTER_VALUES} values")
            if values is not None and not all(0 < len(v) <= MAX_VALUE_LENGTH for v in values):
                raise HubRefused(name, f"each of {name} has 1 to {MAX_VALUE_LENGTH} characters")
        partner = where.partner
        if caller.is_partner:
            if partner not in (None, caller.partner_id):
                raise HubForbidden(
                    "filter on another partner's events", caller.role, field="partner"
                )
            partner = caller.partner_id
        return where.model_copy(update={"types": types, "partner": partner})

    def listeners(self, caller: Caller) -> list[Listener]:
        """The listeners the caller may see (its own role's; an admin every one), secrets
        blanked."""
        return [public(ls) for ls in self.store.list_listeners() if self._sees(caller, ls)]

    def listener(self, caller: Caller, listener_id: str) -> Listener:
        """One listener the caller may see (ListenerNotFound otherwise), secret blanked."""
        found = self.store.get_listener(listener_id)
        if found is None or not self._sees(caller, found):
            raise ListenerNotFound(listener_id)
        return public(found)

    def unregister(self, caller: Caller, listener_id: str) -> Listener:
        """Remove a listener the caller may see, with its dead letters; returns what it was."""
        found = self.listener(caller, listener_id)
        if not self.store.remove_listener(listener_id):
            raise ListenerNotFound(listener_id)
        return found

    @staticmethod
    def _sees(caller: Caller, listener: Listener) -> bool:
        if caller.role == "admin":
            return True
        if caller.is_partner:
            return listener.owner_partner == caller.partner_id
        return listener.owner_role == caller.role

    # ---- dead letters ----------------------------------------------------------------------------

    def dead_letters(
        self,
        caller: Caller,
        *,
        listener: str | None = None,
        states: Sequence[DeadLetterState] | None = None,
        first: int = 100,
    ) -> list[DeadLetter]:
        """Dead letters of the listeners the caller may see (of one, when named)."""
        if listener is not None:
            self.listener(caller, listener)  # ListenerNotFound unless the caller sees it
            return self.store.dead_letters(listener=listener, states=states, first=first)
        if caller.role == "admin":
            return self.store.dead_letters(states=states, first=first)
        out: list[DeadLetter] = []
        for ls in self.listeners(caller):
            out += self.store.dead_letters(listener=ls.id, states=states, first=first)
        return sorted(out, key=lambda d: (d.listener, d.seq))[:first]

    def replay(self, caller: Caller, ids: Sequence[str]) -> list[DeadLetter]:
        """Queue dead letters for delivery again (admins only), all or none: an unknown id
        refuses the request and queues nothing. The deliverer holding their listener sends them
        before its next events."""
        if caller.role != "admin":
            raise HubForbidden("replay dead letters", caller.role, "an admin replays them")
        if not ids:
            raise HubRefused("ids", "name at least one dead letter")
        found = self.store.set_dead_letters(list(ids), DeadLetterState.REPLAY)
        missing = sorted(set(ids) - {d.id for d in found})
        if missing:
            raise HubRefused("ids", f"no dead letter(s) {missing}")
        return found
