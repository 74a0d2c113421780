"""Located problems of a load: every issue names its file, line and column, then the reason."""

from __future__ import annotations

from dataclasses import dataclass

from pboss.inventory.errors import PbossError
from pboss.inventory.model import printable


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem with one input row, at `file:line:column` (1-based, like a compiler)."""

    file: str
    line: int
    column: int
    reason: str
    field: str | None = None

    def __str__(self) -> str:
        """`file:line:column: field: reason`, control characters escaped."""
        what = f"{printable(self.field)}: " if self.field else ""
        return f"{printable(self.file)}:{self.line}:{self.column}: {what}{printable(self.reason)}"


class LoadError(PbossError):
    """A load that could not start or had to stop (bad path, bad mapping, store refused a batch)."""

    code = "load_error"


class LoadRefused(PbossError):
    """A load refused because some rows are invalid; nothing was written."""

    code = "invalid_input"

    def __init__(self, issues: list[RowIssue], total: int):
        self.issues = issues
        self.total = total
        shown = "\n".join(str(i) for i in issues[:20])
        more = f"\n... and {total - 20} more" if total > 20 else ""
        super().__init__(f"{total} invalid row(s), nothing written:\n{shown}{more}")
