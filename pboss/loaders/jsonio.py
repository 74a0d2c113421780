"""JSON for one-object-per-line files: orjson when installed (several times faster), else stdlib."""

from __future__ import annotations

import json
import re
from typing import Any

try:  # optional accelerator; the output is the same compact UTF-8 JSON either way
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

JSONDecodeError = json.JSONDecodeError


#: 19 digits in a row: a number orjson may turn into a float (it keeps ints up to 2**64 - 1
#: only), so such a document is parsed by the standard library, which keeps every int exact
#: and lets the loader refuse one beyond 64 bits instead of storing it rounded.
_LONG_NUMBER = re.compile(r"\d{19}")
_LONG_NUMBER_BYTES = re.compile(rb"\d{19}")


def _no_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which are not JSON (orjson refuses them too)."""
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """Parse one JSON document, text or UTF-8 bytes (raises json.JSONDecodeError, which orjson's
    error subclasses); integers stay exact however long (see `_LONG_NUMBER`)."""
    long_number = _LONG_NUMBER_BYTES if isinstance(text, bytes) else _LONG_NUMBER
    if orjson is not None and long_number.search(text) is None:  # type: ignore[arg-type]
        return orjson.loads(text)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        if isinstance(exc, JSONDecodeError):
            raise
        doc = text if isinstance(text, str) else text.decode("utf-8", "replace")
        raise JSONDecodeError(str(exc), doc, 0) from None


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (no ASCII escaping, so Chinese stays readable in the files)."""
    if orjson is not None:
        return orjson.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
