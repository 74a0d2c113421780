"""Progress of long loads: a rich bar with rates on a terminal, plain periodic lines otherwise.

Sources report bytes read (so the bar knows its end) and the loader reports rows; CI logs get one
line every few seconds and one per phase, never terminal control codes.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Protocol


class Progress(Protocol):
    """What loaders tell about their progress."""

    def phase(self, name: str, total_bytes: int) -> None:
        """Start a phase (validate, write, generate...) over this many bytes."""

    def advance(self, nbytes: int = 0, rows: int = 0) -> None:
        """Count bytes read and rows handled."""

    def done(self) -> None:
        """End the current phase."""

    def close(self) -> None:
        """Release the terminal (after the last phase)."""


class NoProgress:
    """Says nothing (library use, tests)."""

    def phase(self, name: str, total_bytes: int) -> None:
        """Nothing to show."""

    def advance(self, nbytes: int = 0, rows: int = 0) -> None:
        """Nothing to count."""

    def done(self) -> None:
        """Nothing to end."""

    def close(self) -> None:
        """Nothing to release."""


def _size(n: float) -> str:
    """A byte count for people."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


class PlainProgress:
    """One line every `every` seconds and one at the end of each phase (for logs and CI)."""

    def __init__(self, stream: IO[str] | None = None, every: float = 5.0):
        self.stream = stream or sys.stderr
        self.every = every
        self.name = ""
        self.total = 0
        self.bytes = 0
        self.rows = 0
        self.started = 0.0
        self.last = 0.0

    def _line(self, final: bool = False) -> None:
        """Print one progress line (or the phase's final one)."""
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        pct = f" {100 * self.bytes / self.total:.0f}%" if self.total and not final else ""
        rate = self.rows / elapsed
        end = " done in" if final else ""
        size = f", {_size(self.bytes)}" if self.bytes else ""
        self.stream.write(
            f"[{self.name}]{pct} {self.rows:,} rows{size}{end} {elapsed:.1f}s "
            f"({rate:,.0f} rows/s)\n"
        )
        self.stream.flush()

    def phase(self, name: str, total_bytes: int) -> None:
        """Start counting a new phase."""
        self.name, self.total, self.bytes, self.rows = name, total_bytes, 0, 0
        self.started = self.last = time.perf_counter()

    def advance(self, nbytes: int = 0, rows: int = 0) -> None:
        """Count, and print a line when the period has passed."""
        self.bytes += nbytes
        self.rows += rows
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            self._line()

    def done(self) -> None:
        """Print the phase's totals."""
        self._line(final=True)

    def close(self) -> None:
        """Nothing to release."""


class RichProgress:
    """A rich progress bar per phase with bytes, rows and rows per second."""

    def __init__(self, stream: IO[str] | None = None):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self.bar = Bar(
            TextColumn("[bold]{task.description:<10}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rows]:>12,} rows {task.fields[rate]:>10,.0f}/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream or sys.stderr),
            transient=False,
        )
        self.task: int | None = None
        self.rows = 0
        self.started = 0.0

    def phase(self, name: str, total_bytes: int) -> None:
        """Add a bar for the phase."""
        self.done()
        if not self.bar.live.is_started:
            self.bar.start()
        self.rows, self.started = 0, time.perf_counter()
        self.task = self.bar.add_task(name, total=total_bytes or None, rows=0, rate=0.0)

    def advance(self, nbytes: int = 0, rows: int = 0) -> None:
        """Move the bar."""
        if self.task is None:
            return
        self.rows += rows
        rate = self.rows / max(time.perf_counter() - self.started, 1e-9)
        self.bar.update(self.task, advance=nbytes, rows=self.rows, rate=rate)

    def done(self) -> None:
        """Complete the bar of the current phase."""
        if self.task is not None:
            task = self.bar.tasks[self.task]
            if task.total is not None:
                self.bar.update(self.task, completed=task.total)
            self.task = None

    def close(self) -> None:
        """Stop the live display."""
        self.done()
        if self.bar.live.is_started:
            self.bar.stop()


def make_progress(quiet: bool = False, stream: IO[str] | None = None) -> Progress:
    """Rich on an interactive terminal, plain lines otherwise, nothing when quiet."""
    if quiet:
        return NoProgress()
    out = stream or sys.stderr
    if out.isatty():
        return RichProgress(out)
    return PlainProgress(out)
