"""Helpers of the durable embedded store's tests: a whole-state fingerprint to compare a store
with the one reopened from its data directory."""

from __future__ import annotations

import copy
from typing import Any

from pboss.inventory.memory.durable import TRANSIENT
from pboss.inventory.memory.store import MemoryStore


def state_of(store: MemoryStore) -> dict[str, Any]:
    """Everything the store holds, comparable with ==: every attribute but the transient ones
    (so an attribute added to the MemoryStore later is compared too, and a journal that does
    not keep it fails these tests)."""
    out: dict[str, Any] = {}
    for name, value in vars(store).items():
        if name in TRANSIENT:
            continue
        if name == "graph":
            out["nodes"] = {n: d["row"] for n, d in value.nodes(data=True)}
            out["edges"] = sorted(
                (u, v, k, sorted(d.items(), key=repr))
                for u, v, k, d in value.edges(keys=True, data=True)
            )
        elif hasattr(value, "__getstate__") and type(value).__module__.startswith("pboss."):
            out[name] = value.__getstate__()
        else:
            out[name] = value
    return copy.deepcopy(out)  # as it is now: stored elements change in place
