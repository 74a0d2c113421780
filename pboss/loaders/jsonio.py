"""JSON for one-object-per-line files: orjson when installed (several times faster), else stdlib."""

from __future__ import annotations

import json
from typing import Any

try:  # optional accelerator; the output is the same compact UTF-8 JSON either way
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

JSONDecodeError = json.JSONDecodeError


def loads(text: str) -> Any:
    """Parse one JSON document (raises json.JSONDecodeError, which orjson's error subclasses)."""
    if orjson is not None:
        return orjson.loads(text)
    return json.loads(text)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (no ASCII escaping, so Chinese stays readable in the files)."""
    if orjson is not None:
        return orjson.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
