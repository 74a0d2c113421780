"""What a named query is: a name (for metrics and logs), READ or WRITE, and a fixed Cypher text.

Every value travels as a parameter; the text is fixed. Where a label or relationship type must
be part of the text (Cypher takes neither as a parameter), the query is made by a function that
takes the name from the model's closed sets (`label_of`, `rel_type`), never from input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pboss.inventory.model import EDGE_RULES, KINDS

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class Access(StrEnum):
    """Whether a query only reads (a follower may answer it) or writes."""

    READ = "READ"
    WRITE = "WRITE"


READ = Access.READ
WRITE = Access.WRITE


@dataclass(frozen=True, slots=True)
class Query:
    """One named, parameterised Cypher statement."""

    name: str
    kind: Access
    text: str


def kind_label(kind: str) -> str:
    """A registered kind as a label (never raw input)."""
    if kind not in KINDS or not _IDENT.match(kind):
        raise ValueError(f"unknown kind {kind!r}")
    return kind


def labels_for(kind: str) -> str:
    """`:Entity:<Category>:<Kind>` for a registered kind (never from raw input)."""
    cls = KINDS[kind_label(kind)]
    return f":Entity:{cls.category.value}:{kind}"


def rel_type(edge_type: str) -> str:
    """A relationship type from the model's whitelist (never from raw input)."""
    if edge_type not in EDGE_RULES or not _IDENT.match(edge_type):
        raise ValueError(f"unknown edge type {edge_type!r}")
    return edge_type
