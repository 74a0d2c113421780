"""Start and stop a real Neo4j Community on 127.0.0.1 without Docker.

Size: one process lifecycle (build, start, wait, status, stop, clean up) that reads in order.

The server is the small embedded launcher in ``tools/neo4j-local`` (Maven project, Neo4j
``NEO4J_VERSION`` pinned in its pom.xml): one JVM per *home* directory, Bolt only on
127.0.0.1, authentication on, bounded memory. Layout of a home (directories mode 700, files 600:
only the owner reads the data or the password)::

    HOME/neo4j.password  user ``neo4j``'s password, generated on first start (``credentials``)
    HOME/neo4j.pid     pid of the JVM (its own process group)
    HOME/neo4j.json    how it was started: port, uri, heap, page cache, java, version
    HOME/neo4j.log     the JVM's stdout and stderr (the previous run's is neo4j.log.1)
    HOME/neo4j.ready   written by the JVM once Bolt listens (removed on shutdown)
    HOME/db/           the Neo4j home: data/, logs/debug.log

Only the standard library and the ``neo4j`` driver are used. Java 17 or 21 is needed (Neo4j
5.26 supports those two); Maven builds the launcher on first use (``build``).

Environment:
    PBOSS_NEO4J_HOME       default home (else ``.pboss/neo4j`` under the current directory)
    PBOSS_NEO4J_LOCAL_DIR  the Maven project (else ``tools/neo4j-local`` of this checkout)
    PBOSS_JAVA_HOME        the JDK to run (else JAVA_HOME if it is 17/21, else one found)
    PBOSS_MVN              the Maven command (else ``mvn`` on PATH)
    PBOSS_NEO4J_JAVA_OPTS  extra JVM options, appended as given (split on blanks)
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import glob
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "NEO4J_VERSION",
    "Neo4jLaunchError",
    "build",
    "credentials",
    "credentials_for_uri",
    "default_home",
    "find_java",
    "start",
    "status",
    "stop",
]

#: The Neo4j version of tools/neo4j-local/pom.xml, docker-compose.yml and the test container.
NEO4J_VERSION = "5.26.30"

READY_MARKER = "NEO4J-LOCAL READY"
JAR_NAME = "neo4j-local.jar"
MAIN_CLASS = "pboss.neo4jlocal.Main"
SUPPORTED_JAVA = (17, 21)

PID_FILE = "neo4j.pid"
STATE_FILE = "neo4j.json"
LOG_FILE = "neo4j.log"
READY_FILE = "neo4j.ready"
PASSWORD_FILE = "neo4j.password"
DB_DIR = "db"
USER = "neo4j"

# What Neo4j 5's own launcher passes (conf/neo4j.conf, server.jvm.additional), minus
# -XX:+AlwaysPreTouch (it would make the whole heap resident at once). Without the three
# --add-opens Neo4j warns and falls back to slower paths (page cache buffers, fadvise on the
# transaction logs).
JVM_FLAGS: tuple[str, ...] = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:MaxDirectMemorySize=256m",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
)

BUILD_TIMEOUT = 1800.0
_INITIAL_HEAP_CAP = 256 << 20

# JVMs started by this process, so that stop() can reap them (no zombies left behind).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class Neo4jLaunchError(RuntimeError):
    """The launcher could not be built, started or stopped; the message has the log's tail."""


# --------------------------------------------------------------------------------------------
# locations


def default_home() -> Path:
    """``$PBOSS_NEO4J_HOME``, else ``.pboss/neo4j`` under the current directory."""
    env = os.environ.get("PBOSS_NEO4J_HOME")
    return Path(env).expanduser() if env else Path.cwd() / ".pboss" / "neo4j"


def _project_dir(project_dir: Path | None = None) -> Path:
    """The tools/neo4j-local Maven project."""
    if project_dir is not None:
        return Path(project_dir).resolve()
    env = os.environ.get("PBOSS_NEO4J_LOCAL_DIR")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(__file__).resolve().parent.parent / "tools" / "neo4j-local"
    if (here / "pom.xml").is_file():
        return here
    cwd = Path.cwd() / "tools" / "neo4j-local"
    if (cwd / "pom.xml").is_file():
        return cwd.resolve()
    raise Neo4jLaunchError(
        f"tools/neo4j-local not found (looked in {here} and {cwd}); "
        "set PBOSS_NEO4J_LOCAL_DIR to the launcher's Maven project"
    )


# --------------------------------------------------------------------------------------------
# Java and Maven


def _java_major(java: Path) -> int | None:
    """The major version of a ``java`` binary, or None when it does not run."""
    try:
        out = subprocess.run(
            [str(java), "-version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


@functools.cache
def find_java() -> tuple[Path, int]:
    """The ``java`` to run Neo4j 5.26 with, and its major version.

    ``$PBOSS_JAVA_HOME`` wins as given; otherwise the first Java 17 or 21 among ``$JAVA_HOME``,
    ``/usr/lib/jvm/*`` and ``java`` on PATH; otherwise any Java >= 17 (Neo4j then logs that the
    runtime is unsupported).
    """
    forced = os.environ.get("PBOSS_JAVA_HOME")
    if forced:
        java = Path(forced).expanduser() / "bin" / "java"
        major = _java_major(java)
        if major is None:
            raise Neo4jLaunchError(f"PBOSS_JAVA_HOME={forced}: {java} does not run")
        return java, major
    candidates: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    for pattern in ("/usr/lib/jvm/*17*", "/usr/lib/jvm/*21*", "/usr/lib/jvm/*"):
        candidates.extend(Path(p) / "bin" / "java" for p in sorted(glob.glob(pattern)))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path))
    seen: set[Path] = set()
    fallback: tuple[Path, int] | None = None
    for java in candidates:
        real = java.resolve() if java.exists() else java
        if real in seen or not java.is_file():
            continue
        seen.add(real)
        major = _java_major(java)
        if major in SUPPORTED_JAVA:
            return java, major
        if major is not None and major >= 17 and fallback is None:
            fallback = (java, major)
    if fallback is not None:
        return fallback
    raise Neo4jLaunchError(
        "no Java 17 or 21 found (Neo4j 5.26 needs one): install openjdk-17-jdk-headless "
        "or set PBOSS_JAVA_HOME"
    )


def _source_digest(project: Path) -> str:
    """A hash of everything the build reads: pom.xml and src/."""
    h = hashlib.sha256()
    files = [project / "pom.xml"]
    files += sorted(p for p in (project / "src").rglob("*") if p.is_file())
    for f in files:
        h.update(str(f.relative_to(project)).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _jar_complete(jar: Path) -> bool:
    """The jar exists and every jar its manifest's Class-Path names is in target/lib."""
    if not jar.is_file():
        return False
    try:
        with zipfile.ZipFile(jar) as z:
            manifest = z.read("META-INF/MANIFEST.MF").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    # Manifest lines are wrapped at 72 bytes; continuation lines start with one space.
    manifest = manifest.replace("\r\n", "\n").replace("\n ", "")
    m = re.search(r"^Class-Path: (.*)$", manifest, re.MULTILINE)
    if not m:
        return False
    entries = m.group(1).split()
    return bool(entries) and all((jar.parent / e).is_file() for e in entries)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if missing), held for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(_private_open(path, os.O_RDWR | os.O_CREAT), "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(project_dir: Path | None = None) -> Path:
    """Build the launcher with Maven unless it is up to date; return the jar to run.

    Up to date means: ``target/neo4j-local.jar`` and every jar of its Class-Path exist, and
    ``target/.pboss-build.sha256`` matches pom.xml and src/. Otherwise ``mvn -q -B package``
    runs (Java 17/21 from :func:`find_java` as JAVA_HOME), under a file lock so that parallel
    callers build once. Run as ``java [JVM_FLAGS] -jar JAR --data DIR --port N``.
    """
    project = _project_dir(project_dir)
    target = project / "target"
    jar = target / JAR_NAME
    stamp = target / ".pboss-build.sha256"
    digest = _source_digest(project)

    def up_to_date() -> bool:
        try:
            return stamp.read_text().strip() == digest and _jar_complete(jar)
        except OSError:
            return False

    if up_to_date():
        return jar
    with _locked(target / ".pboss-build.lock"):
        if up_to_date():
            return jar
        mvn = os.environ.get("PBOSS_MVN") or shutil.which("mvn")
        if not mvn:
            raise Neo4jLaunchError(
                "Maven (mvn) not found: install maven or set PBOSS_MVN to build tools/neo4j-local"
            )
        java, _ = find_java()
        env = dict(os.environ, JAVA_HOME=str(java.resolve().parent.parent))
        stamp.unlink(missing_ok=True)
        cmd = [*mvn.split(), "-q", "-B", "-Dstyle.color=never", "package"]
        try:
            proc = subprocess.run(
                cmd,
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise Neo4jLaunchError(f"{' '.join(cmd)} timed out after {BUILD_TIMEOUT:.0f}s") from exc
        if proc.returncode != 0 or not _jar_complete(jar):
            tail = _tail_text((proc.stdout or "") + (proc.stderr or ""), 60)
            raise Neo4jLaunchError(
                f"building {project} failed ({' '.join(cmd)}, exit {proc.returncode}):\n{tail}"
            )
        stamp.write_text(digest + "\n")
    return jar


# --------------------------------------------------------------------------------------------
# processes and files


def _parse_size(text: str) -> int:
    """``"512m"`` -> bytes (k, m, g, t suffixes; the JVM's and the launcher's syntax)."""
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*", str(text).lower())
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"bad size {text!r}: use e.g. 512m or 1g")
    return int(m.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30, "t": 40}[m.group(2)]


def _jvm_size(nbytes: int) -> str:
    """Bytes -> a -Xmx style size."""
    for shift, suffix in ((30, "g"), (20, "m"), (10, "k")):
        if nbytes % (1 << shift) == 0:
            return f"{nbytes >> shift}{suffix}"
    return str(nbytes)


def _tail_text(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _tail(path: Path, lines: int = 40) -> str:
    """The last lines of a file ('' if missing)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64_000))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return _tail_text(data, lines)


def _reap(pid: int) -> None:
    """Collect the exit status of a JVM this process started (so it does not linger)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            _CHILDREN.pop(pid, None)
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (zombies count as dead)."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_our_jvm(pid: int, home: Path) -> bool:
    """The process ``pid`` is this home's launcher (guards against a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _pid_alive(pid)  # no /proc: trust the pid file
    args = [a.decode("utf-8", "replace") for a in cmdline]
    db = str(home / DB_DIR)
    return any(JAR_NAME in a or MAIN_CLASS in a for a in args) and db in args


def _read_pid(home: Path) -> int | None:
    try:
        return int((home / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def _read_state(home: Path) -> dict[str, Any]:
    try:
        data = json.loads((home / STATE_FILE).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _private_open(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """``os.open`` creating ``path`` readable by its owner only (mode 600, whatever the umask)."""
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with os.fdopen(_private_open(tmp), "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _tighten(home: Path) -> None:
    """Make ``home`` private to its owner: directories 700, files 600 (homes made before
    authentication was on were world-readable)."""
    home.chmod(0o700)
    for root, dirs, files in os.walk(home):
        for name in dirs:
            path = Path(root, name)
            if not path.is_symlink():
                path.chmod(0o700)
        for name in files:
            path = Path(root, name)
            if not path.is_symlink() and stat.S_IMODE(path.lstat().st_mode) & 0o077:
                path.chmod(0o600)


def _ensure_password(home: Path) -> str:
    """This home's password for user ``neo4j``, generated (random, mode 600) if it has none."""
    path = home / PASSWORD_FILE
    try:
        fd = _private_open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        path.chmod(0o600)
        password = path.read_text().strip()
        if not password:
            raise Neo4jLaunchError(f"{path} is empty: delete it to get a new password") from None
        return password
    password = secrets.token_urlsafe(24)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    return password


def credentials(home: Path) -> tuple[str, str] | None:
    """``(user, password)`` of this home's Neo4j, or None when it has no password yet."""
    try:
        password = (Path(home).expanduser() / PASSWORD_FILE).read_text().strip()
    except OSError:
        return None
    return (USER, password) if password else None


def credentials_for_uri(uri: str, home: Path | None = None) -> tuple[str, str] | None:
    """The launcher's credentials when ``uri`` is where ``home``'s (default: ``default_home()``)
    Neo4j was last started, else None: how pboss logs in to it with no password configured."""
    home = Path(home).expanduser() if home is not None else default_home()
    started = _read_state(home).get("uri")
    if not started:
        return None
    want, have = urlsplit(uri), urlsplit(str(started))
    local = {"127.0.0.1", "localhost"}
    if want.hostname not in local or have.hostname not in local:
        return None
    if (want.port or 7687) != (have.port or 7687):
        return None
    return credentials(home)


def _running_pid(home: Path) -> int | None:
    """The pid of this home's JVM if it runs, else None."""
    pid = _read_pid(home)
    if pid is not None and _pid_alive(pid) and _is_our_jvm(pid, home):
        return pid
    return None


def _port_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:``port`` (connections in TIME_WAIT do not count: Netty
    binds with SO_REUSEADDR, so a restart on the same port works)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _answers(uri: str, auth: tuple[str, str] | None, timeout: float = 5.0) -> bool:
    """Bolt at ``uri`` completes a handshake and a connectivity check (logged in as ``auth``)."""
    import neo4j

    try:
        with neo4j.GraphDatabase.driver(
            uri, auth=auth, connection_timeout=timeout, connection_acquisition_timeout=timeout
        ) as driver:
            driver.verify_connectivity()
        return True
    except Exception:
        return False


def _signal(pid: int, sig: int) -> None:
    """Send ``sig`` to the JVM's process group (the JVM leads it), else to the JVM."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    child = _CHILDREN.get(pid)
    while time.monotonic() < deadline:
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=0.2)
            if child.poll() is not None:
                _CHILDREN.pop(pid, None)
                return True
        elif not _pid_alive(pid):
            return True
        else:
            time.sleep(0.1)
    return not _pid_alive(pid)


def _wait_ready(home: Path, pid: int, uri: str, deadline: float) -> None:
    """Block until the JVM wrote its ready file and Bolt answers; raise if it dies or stalls."""
    ready = home / READY_FILE
    while True:
        if not _pid_alive(pid):
            raise Neo4jLaunchError(
                f"Neo4j (pid {pid}) exited during start-up; {home / LOG_FILE}:\n"
                f"{_tail(home / LOG_FILE)}"
            )
        if ready.is_file() and _answers(uri, credentials(home)):
            return
        if time.monotonic() >= deadline:
            raise Neo4jLaunchError(
                f"Neo4j (pid {pid}) did not answer on {uri} in time; {home / LOG_FILE}:\n"
                f"{_tail(home / LOG_FILE)}"
            )
        time.sleep(0.25)


# --------------------------------------------------------------------------------------------
# public API


def start(
    home: Path,
    port: int = 7687,
    heap: str = "1g",
    pagecache: str = "512m",
    timeout: float = 180,
    *,
    owner_pid: int | None = None,
) -> str:
    """Start Neo4j for ``home`` on 127.0.0.1:``port`` and return ``bolt://127.0.0.1:PORT``.

    Builds the launcher first if needed (not counted in ``timeout``), runs the JVM detached in
    its own process group with ``-Xmx{heap}`` and a page cache of ``pagecache``, output to
    ``home/neo4j.log`` and pid to ``home/neo4j.pid``, then waits up to ``timeout`` seconds until
    Bolt answers a driver's ``verify_connectivity()``. Authentication is on: user ``neo4j`` with
    the password of ``home/neo4j.password`` (generated on first start; :func:`credentials`), and
    the home is made private (directories 700, files 600, the JVM under umask 077).

    Idempotent: when this home's JVM already runs, waits until it answers and returns its URI
    (its port, whatever ``port`` says). With ``owner_pid`` the JVM shuts itself down (cleanly)
    once that process has exited, e.g. ``os.getpid()`` of a test run.

    Raises :class:`Neo4jLaunchError` (with the log's tail) when the port is taken, Java/Maven
    are missing, or the JVM dies or stays silent.
    """
    home = Path(home).expanduser().resolve()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    heap_bytes = _parse_size(heap)
    pagecache_bytes = _parse_size(pagecache)
    if not 0 < int(port) < 65536:
        raise ValueError(f"bad port {port}")
    with _locked(home / ".lock"):
        pid = _running_pid(home)
        if pid is not None:
            state = _read_state(home)
            uri = state.get("uri") or f"bolt://127.0.0.1:{state.get('port', port)}"
            _wait_ready(home, pid, uri, time.monotonic() + timeout)
            return uri

        # Stale files of a JVM that is gone.
        for name in (PID_FILE, READY_FILE):
            (home / name).unlink(missing_ok=True)
        _tighten(home)
        _ensure_password(home)
        if not _port_free(port):
            raise Neo4jLaunchError(f"port 127.0.0.1:{port} is already in use")

        jar = build()
        java, java_major = find_java()
        uri = f"bolt://127.0.0.1:{port}"
        cmd = [
            str(java),
            f"-Xmx{_jvm_size(heap_bytes)}",
            f"-Xms{_jvm_size(min(heap_bytes, _INITIAL_HEAP_CAP))}",
            *JVM_FLAGS,
            *os.environ.get("PBOSS_NEO4J_JAVA_OPTS", "").split(),
            "-jar",
            str(jar),
            "--data",
            str(home / DB_DIR),
            "--port",
            str(port),
            "--pagecache",
            _jvm_size(pagecache_bytes),
            "--ready-file",
            str(home / READY_FILE),
            "--password-file",
            str(home / PASSWORD_FILE),
        ]
        if owner_pid is not None:
            cmd += ["--watch-pid", str(int(owner_pid))]
        log = home / LOG_FILE
        if log.exists():
            os.replace(log, home / (LOG_FILE + ".1"))
        with os.fdopen(_private_open(log), "wb") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=home,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                umask=0o077,  # what Neo4j writes (store, logs, auth) is private to its owner
            )
        _CHILDREN[proc.pid] = proc
        _write_atomic(home / PID_FILE, f"{proc.pid}\n")
        state = {
            "pid": proc.pid,
            "port": port,
            "uri": uri,
            "heap": _jvm_size(heap_bytes),
            "pagecache": _jvm_size(pagecache_bytes),
            "neo4j_version": NEO4J_VERSION,
            "java": str(java),
            "java_version": java_major,
            "started_at": time.time(),
            "cmd": cmd,
        }
        _write_atomic(home / STATE_FILE, json.dumps(state, indent=2) + "\n")
        try:
            _wait_ready(home, proc.pid, uri, time.monotonic() + timeout)
        except Neo4jLaunchError:
            _signal(proc.pid, signal.SIGKILL)
            _wait_dead(proc.pid, 10)
            (home / PID_FILE).unlink(missing_ok=True)
            raise
        return uri


def stop(home: Path, timeout: float = 60) -> bool:
    """Stop this home's Neo4j: SIGTERM (clean shutdown), then SIGKILL after ``timeout`` s.

    Returns True if a running JVM was stopped, False if none ran. The pid and ready files are
    removed either way; the data stays.
    """
    home = Path(home).expanduser().resolve()
    with _locked(home / ".lock"):
        pid = _running_pid(home)
        stopped = False
        if pid is not None:
            _signal(pid, signal.SIGTERM)
            if not _wait_dead(pid, timeout):
                _signal(pid, signal.SIGKILL)
                if not _wait_dead(pid, 15):
                    raise Neo4jLaunchError(f"Neo4j (pid {pid}) survived SIGKILL")
            stopped = True
        for name in (PID_FILE, READY_FILE):
            (home / name).unlink(missing_ok=True)
        return stopped


def status(home: Path) -> dict[str, Any] | None:
    """What runs for ``home``: pid, port, uri, alive (plus home, log and version), or None.

    None means no pid file (never started, or stopped). ``alive`` says the JVM runs; whether it
    already answers on Bolt is ``ready`` (its ready file exists and the port accepts).
    """
    home = Path(home).expanduser().resolve()
    pid = _read_pid(home)
    if pid is None:
        return None
    state = _read_state(home)
    port = state.get("port")
    alive = _pid_alive(pid) and _is_our_jvm(pid, home)
    return {
        "pid": pid,
        "port": port,
        "uri": state.get("uri") or (f"bolt://127.0.0.1:{port}" if port else None),
        "alive": alive,
        "ready": bool(alive and (home / READY_FILE).is_file() and port and _port_open(int(port))),
        "home": str(home),
        "log": str(home / LOG_FILE),
        "user": USER,
        "password_file": str(home / PASSWORD_FILE),
        "neo4j_version": state.get("neo4j_version", NEO4J_VERSION),
        "heap": state.get("heap"),
        "pagecache": state.get("pagecache"),
    }
