"""How pboss stores a time: a fixed-width ISO 8601 string in UTC, so stored times order as strings
do (Cypher compares them as strings; the memory store compares the same strings)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(at: datetime) -> datetime:
    """The same instant in UTC (naive datetimes are taken as UTC)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def stamp(at: datetime) -> str:
    """A fixed-width UTC timestamp, so stored timestamps order as strings do."""
    return utc(at).isoformat(timespec="microseconds")
