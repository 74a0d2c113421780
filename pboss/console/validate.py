"""What a console box accepts: text that is not blank, not too long and free of control
characters; anything else gets a message saying exactly what is wrong (never a 500)."""

from __future__ import annotations

import unicodedata

#: Longest text a search box or an id field takes (the API compares at most 200 characters).
MAX_TEXT = 200


def check_text(raw: str, what: str) -> tuple[str, str | None]:
    """The stripped text and None, or ('', the reason it cannot be used)."""
    text = raw.strip()
    if not text:
        return "", f"The {what} is empty: type one in the box."
    if len(text) > MAX_TEXT:
        return "", f"The {what} is {len(text)} characters long; at most {MAX_TEXT} are allowed."
    bad = sorted({c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn")})
    if bad:
        shown = ", ".join(f"U+{ord(c):04X}" for c in bad[:5])
        return "", f"The {what} contains control or invisible characters ({shown}); remove them."
    return text, None
