"""Cutting a stream of rows into lists of a fixed size, for batched writes and look-ups."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Items in lists of `size` (itertools.batched arrives with Python 3.12)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk
