"""The signature check docs/api.md gives CRM (standard library only) accepts what pboss signs and
refuses a changed body, another secret and an old timestamp: the documented scheme is pboss's."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from pboss.hub.signing import sign

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _documented_check() -> Any:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Verifying a delivery's signature") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "docs/api.md lost its Python signature check"
    scope: dict[str, Any] = {}
    exec(compile(code[1], str(DOC), "exec"), scope)  # the documented code, as CRM would run it
    return scope["verify_pboss_signature"]


def test_the_documented_check_accepts_pboss_signatures_and_refuses_forgeries() -> None:
    check = _documented_check()
    secret, body = "crm-listener-secret-0123456789", b'{"eventId":"E1","event":{}}'
    now = int(time.time())
    assert (
        check(secret, sign(secret, body), body) == now
        or abs(check(secret, sign(secret, body), body) - now) <= 1
    )
    with pytest.raises(ValueError, match="does not match"):
        check(secret, sign(secret, body), body + b" ")
    with pytest.raises(ValueError, match="does not match"):
        check("another-secret-0123456789", sign(secret, body), body)
    with pytest.raises(ValueError, match="too old"):
        check(secret, sign(secret, body, timestamp=now - 3600), body)
    with pytest.raises(ValueError, match="malformed"):
        check(secret, "v1=abc", body)
