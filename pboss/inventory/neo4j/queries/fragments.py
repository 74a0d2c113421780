"""Cypher fragments several queries share, each written once.

- the write lock: Neo4j runs at read-committed, so a transaction takes the node's write lock
  (setting and removing a dummy property) before it reads what it decides on;
- the PON load: the ONTs and held splitter outputs below a PON port (its split budget's use);
- the VC-12 slot holders of a trunk section or partner link (circuits routed over it, holds);
- the failure edges (what "depends on" means) and the busy tests of exclusive ports.
"""

from __future__ import annotations

from pboss.inventory.lifecycle import DEGRADED, DOWN
from pboss.inventory.model import FAILURE_EDGES, SINGLE_UPSTREAM
from pboss.inventory.transaction import BUSY_BY

#: The relationship types along which a failure spreads, as one Cypher type alternative.
FAIL = "|".join(FAILURE_EDGES)
#: The single-upstream relationship types (one target per source).
SINGLE = "|".join(sorted(SINGLE_UPSTREAM))
#: Statuses that make the elements depending on one down or degraded.
IMPAIRING = sorted(str(s) for s in DOWN | DEGRADED)
#: Edge types that may take an exclusive port (every type of `transaction.BUSY_BY`).
PORT_TAKING = "|".join(sorted(frozenset().union(*BUSY_BY.values())))
#: Edge types that hold VC-12 slots of a trunk section or partner link.
SLOT_HOLDING = "ROUTED_OVER|HOLDS"


def lock(var: str) -> str:
    """Take the write lock of the node bound to `var` (no property is left behind)."""
    return f"SET {var}._lock = true REMOVE {var}._lock"


def slot_holders(section: str, rel: str = "h", holder: str = "") -> str:
    """The pattern of the edges holding slots of `section`: `(section)<-[rel:...]-(holder)`."""
    return f"({section})<-[{rel}:{SLOT_HOLDING}]-({holder})"


def pon_load(pon: str, var: str = "o") -> str:
    """A pattern and condition matching what uses a PON port's split budget: each ONT below it
    and each held splitter output (count `DISTINCT var`)."""
    return (
        f"({pon})<-[:FED_BY|PART_OF*1..16]-({var}) "
        f"WHERE {var}:ONT OR ({var}:SplitterPort AND EXISTS {{ ({var})<-[:HOLDS]-() }})"
    )


def _busy(var: str, kind: str) -> str:
    return f"EXISTS {{ ({var})<-[:{'|'.join(sorted(BUSY_BY[kind]))}]-() }}"


def splitter_port_busy(var: str) -> str:
    """True when a splitter output feeds something or is held (`transaction.BUSY_BY`)."""
    return _busy(var, "SplitterPort")


def ne_port_busy(var: str) -> str:
    """True when an NE port ends a circuit or a trunk, or is held (`transaction.BUSY_BY`)."""
    return _busy(var, "Port")


#: The reads validation (`rules.plan_batch`) needs, as `CALL` subqueries both the upsert and a
#: transaction's commit use: the written nodes whole (`$own`), the ids referred to as
#: `rules.Ref` rows (`$refs`), and the single-upstream edges already leaving `$single`.
VALIDATION_READS = f"""
    CALL () {{
      MATCH (n:Entity) WHERE n.id IN $own
      RETURN collect(properties(n)) AS nodes
    }}
    CALL () {{
      MATCH (n:Entity) WHERE n.id IN $refs
      RETURN collect([n.id, n.kind, n.stage, n.capacity_vc12]) AS refs
    }}
    CALL () {{
      UNWIND $single AS sid
      MATCH (a:Entity {{id: sid}})-[r:{SINGLE}]->(b)
      RETURN collect([type(r), sid, b.id]) AS upstreams
    }}
"""
