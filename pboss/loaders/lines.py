"""Read a text file as a stream of numbered lines in a given encoding, one line in memory at a time.

Each line is decoded on its own, so a byte sequence the encoding rejects becomes an issue on that
line (with its column) instead of an exception that ends the load. Splitting on b"\\n" before
decoding is safe for UTF-8 and the GB family (their multi-byte sequences never contain 0x0A).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pboss.loaders.issues import LoadError, RowIssue

#: Encodings whose multi-byte sequences may contain a newline byte: unsafe to read by line.
_UNSAFE = ("utf_16", "utf_32", "utf-16", "utf-32")
_REPORT_EVERY = 2048


@dataclass(slots=True)
class Line:
    """One physical line: its number, decoded text (None if undecodable) and raw bytes."""

    number: int
    text: str | None
    raw: bytes
    complete: bool
    issue: RowIssue | None = None


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; LoadError for an unknown or line-unsafe encoding."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise LoadError(f"unknown encoding {encoding!r}") from None
    if name.startswith(_UNSAFE):
        raise LoadError(f"encoding {encoding!r} is not supported; convert the file to UTF-8")
    return name


def _decode_reason(raw: bytes, encoding: str, exc: UnicodeDecodeError) -> str:
    """Why a line cannot be decoded, naming the bytes and hinting at the likely encoding."""
    bad = raw[exc.start : min(exc.end, exc.start + 4)].hex(" ")
    hint = " (is it GBK? try --encoding gbk)" if encoding.startswith("utf") else ""
    return f"bytes {bad} at byte {exc.start + 1} are not valid {encoding}{hint}"


def read_lines(
    path: Path,
    encoding: str,
    display: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
    *,
    start: int = 0,
    end: int | None = None,
    first_line: int = 1,
) -> Iterator[Line]:
    """Yield the file's lines (endings stripped); undecodable lines carry an issue, not text.

    `start`, `end` and `first_line` read one segment of the file: the lines from byte `start`
    (a line's first byte, numbered `first_line`) to byte `end` (a line's first byte, or the end),
    as parallel pass 1 does (`parallel.py`).
    """
    codec = check_encoding(encoding)
    shown = display or str(path)
    pending = 0
    left = end - start if end is not None else -1
    with path.open("rb") as fh:
        if start:
            fh.seek(start)
        for number, raw in enumerate(fh, start=first_line):
            if left >= 0:
                if left == 0:
                    break
                left -= len(raw)
            pending += len(raw)
            if on_bytes is not None and number % _REPORT_EVERY == 0:
                on_bytes(pending)
                pending = 0
            complete = raw.endswith(b"\n")
            body = raw.rstrip(b"\r\n") if complete else raw
            if number == 1 and codec == "utf-8" and body.startswith(codecs.BOM_UTF8):
                body = body[len(codecs.BOM_UTF8) :]
            try:
                text = body.decode(codec)
            except UnicodeDecodeError as exc:
                column = len(body[: exc.start].decode(codec, errors="replace")) + 1
                reason = _decode_reason(body, codec, exc)
                yield Line(number, None, body, complete, RowIssue(shown, number, column, reason))
                continue
            yield Line(number, text, body, complete)
    if on_bytes is not None and pending:
        on_bytes(pending)
