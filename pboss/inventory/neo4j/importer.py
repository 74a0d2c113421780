"""Neo4j's offline bulk importer (`neo4j-admin database import full`) for a launcher's home.

The importer is the one of the server's own version: the launcher's Maven build already holds
`org.neo4j:neo4j-import-tool` and `neo4j-command-line` (pulled in by `org.neo4j:neo4j`), so
`org.neo4j.cli.AdminTool` runs from the same jars as the server. The import is all or nothing:
it writes into a scratch Neo4j home beside the instance, and only a finished import is swapped
in, with the server stopped; the database it replaces is kept aside until the caller says the
new one is good (`ImportSwap.commit`), or put back (`ImportSwap.undo`).

For a server elsewhere (Docker, another machine), `admin_command` gives the same import as a
`neo4j-admin` command line to run there on the same files, with that server stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pboss.inventory.neo4j import local

#: The database pboss uses (Community has one user database).
DATABASE = "neo4j"
#: Where a launcher home keeps the import's scratch files and the database it replaced.
WORK_DIR = "import-work"
#: The array delimiter of the CSV files (fields: the importer's default `,` and `"`, every text
#: quoted): a character no array item in the files holds (one that does is patched in after).
ARRAY_DELIMITER = "\x1f"
_ADMIN_MAIN = "org.neo4j.cli.AdminTool"


class ImportFailed(RuntimeError):
    """The importer refused the files or stopped; the message has its output's tail."""


@dataclass(frozen=True)
class InputGroup:
    """One `--nodes` or `--relationships` group: labels (or a type) and its header + data files."""

    names: tuple[str, ...]
    header: Path
    data: Path

    def argument(self, relative_to: Path | None = None) -> str:
        """`Label:Label=header,data` as the importer takes it."""
        files = [self.header, self.data]
        if relative_to is not None:
            files = [p.relative_to(relative_to) for p in files]
        return f"{':'.join(self.names)}={','.join(str(p) for p in files)}"


@dataclass
class ImportPlan:
    """What to import: node groups, relationship groups, and the importer's options."""

    nodes: list[InputGroup] = field(default_factory=list)
    relationships: list[InputGroup] = field(default_factory=list)
    threads: int | None = None
    max_off_heap: str | None = None

    def arguments(self, report: Path | None, relative_to: Path | None = None) -> list[str]:
        """The arguments after `database import full`."""
        args = [
            DATABASE,
            "--id-type=string",
            f"--array-delimiter=U+{ord(ARRAY_DELIMITER):04X}",
            "--multiline-fields=false",
            "--ignore-empty-strings=false",
            "--trim-strings=false",
            "--bad-tolerance=0",
            "--skip-bad-relationships=false",
            "--skip-duplicate-nodes=false",
            "--overwrite-destination=true",
        ]
        if report is not None:
            args.append(f"--report-file={report}")
        if self.threads:
            args.append(f"--threads={self.threads}")
        if self.max_off_heap:
            args.append(f"--max-off-heap-memory={self.max_off_heap}")
        args += [f"--nodes={g.argument(relative_to)}" for g in self.nodes]
        args += [f"--relationships={g.argument(relative_to)}" for g in self.relationships]
        return args


def admin_command(plan: ImportPlan, csv_dir: Path) -> str:
    """The same import as a `neo4j-admin` command line (paths relative to the CSV directory),
    for a server run elsewhere: copy the directory there, stop the server, run it in it."""
    args = ["neo4j-admin", "database", "import", "full", *plan.arguments(None, csv_dir)]
    return shlex.join(args)


def _jvm_command(jar: Path, heap: str) -> list[str]:
    """`java ... -cp <launcher jars> org.neo4j.cli.AdminTool` with the server's JVM flags."""
    java, _ = local.find_java()
    classpath = f"{jar}{os.pathsep}{jar.parent / 'lib' / '*'}"
    return [str(java), f"-Xmx{heap}", *local.JVM_FLAGS, "-cp", classpath, _ADMIN_MAIN]


def run_import(plan: ImportPlan, scratch: Path, *, heap: str = "1g", timeout: float = 7200) -> str:
    """Run the importer into a fresh Neo4j home `scratch`; returns its output; ImportFailed."""
    jar = local.build()
    if scratch.exists():
        shutil.rmtree(scratch)
    (scratch / "conf").mkdir(parents=True, mode=0o700)
    report = scratch / "import.report"
    cmd = [*_jvm_command(jar, heap), "database", "import", "full", *plan.arguments(report)]
    env = dict(os.environ, NEO4J_HOME=str(scratch), NEO4J_CONF=str(scratch / "conf"))
    try:
        proc = subprocess.run(
            cmd, env=env, cwd=scratch, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ImportFailed(f"the importer did not finish in {timeout:.0f} s") from exc
    out = (proc.stdout or "") + (proc.stderr or "")
    bad = report.read_text(errors="replace").strip() if report.is_file() else ""
    if proc.returncode != 0 or "IMPORT DONE" not in out:
        detail = f"\nbad entries:\n{_tail(bad, 20)}" if bad else ""
        raise ImportFailed(
            f"neo4j-admin database import full failed (exit {proc.returncode}):\n"
            f"{_tail(out, 30)}{detail}"
        )
    return out


def _tail(text: str, lines: int) -> str:
    """The last lines of a text (the importer's output, its bad-entries report)."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _database_dirs(neo4j_home: Path) -> list[Path]:
    """A Neo4j home's store and transaction-log directories of the pboss database."""
    data = neo4j_home / "data"
    return [data / "databases" / DATABASE, data / "transactions" / DATABASE]


@dataclass
class ImportSwap:
    """The imported database swapped into a stopped launcher home, the old one kept aside."""

    home: Path
    kept: Path

    def commit(self) -> None:
        """The new database is good: drop the one it replaced and the scratch files."""
        shutil.rmtree(self.home / WORK_DIR, ignore_errors=True)

    def undo(self) -> None:
        """Put the replaced database back (the server must be stopped): nothing imported."""
        for target, old in zip(
            _database_dirs(self.home / local.DB_DIR), self._kept_dirs(), strict=True
        ):
            if target.exists():
                shutil.rmtree(target)
            if old.exists():
                os.replace(old, target)
        shutil.rmtree(self.home / WORK_DIR, ignore_errors=True)

    def _kept_dirs(self) -> list[Path]:
        return [self.kept / "databases", self.kept / "transactions"]


def swap_in(home: Path, scratch: Path) -> ImportSwap:
    """Move the scratch home's database into `home`'s Neo4j (stopped), keeping the old aside."""
    if (local.status(home) or {}).get("alive"):
        raise ImportFailed(f"Neo4j of {home} runs: stop it before swapping a database in")
    kept = home / WORK_DIR / "replaced"
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True, mode=0o700)
    swap = ImportSwap(home, kept)
    targets = _database_dirs(home / local.DB_DIR)
    try:
        for target, old, new in zip(
            targets, swap._kept_dirs(), _database_dirs(scratch), strict=True
        ):
            if not new.is_dir():
                raise ImportFailed(f"the importer left no {new}")
            if target.exists():
                os.replace(target, old)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(new, target)
    except BaseException:
        swap.undo()
        raise
    return swap


def wait_stopped(home: Path, timeout: float = 120) -> None:
    """Stop the launcher's Neo4j for `home` and wait until its store is released."""
    local.stop(home, timeout=timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = local.status(home)
        if not info or not info.get("alive"):
            return
        time.sleep(0.2)
    raise ImportFailed(f"Neo4j of {home} did not stop in {timeout:.0f} s")


def restart(home: Path, settings: dict[str, Any], timeout: float = 600) -> str:
    """Start `home`'s Neo4j as it ran before (port, heap, page cache, the process it watches);
    its Bolt URI."""
    return local.start(
        home,
        port=int(settings.get("port") or 7687),
        heap=str(settings.get("heap") or "1g"),
        pagecache=str(settings.get("pagecache") or "512m"),
        timeout=timeout,
        owner_pid=settings.get("owner_pid"),
    )


def started_with(home: Path) -> dict[str, Any]:
    """How `home`'s Neo4j was last started (port, heap, page cache, the pid it watches), from
    its state file, so that it starts again the same way after the import."""
    with contextlib.suppress(OSError, ValueError):
        data = json.loads((Path(home) / local.STATE_FILE).read_text())
        if isinstance(data, dict):
            out = {k: data.get(k) for k in ("port", "heap", "pagecache", "uri")}
            cmd = [str(a) for a in data.get("cmd") or []]
            if "--watch-pid" in cmd[:-1]:
                out["owner_pid"] = int(cmd[cmd.index("--watch-pid") + 1])
            return out
    return {}
