"""The local Neo4j launcher (pboss.inventory.neo4j.local) on a real JVM: never skipped in CI."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
from pathlib import Path

import pytest

from pboss.inventory.neo4j import local as neo4j_local
from tests.neo4j_server import free_port

IN_CI = os.environ.get("CI", "").strip().lower() == "true"


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def launcher_ready() -> None:
    """Java and Maven are there (outside CI their absence skips; in CI it fails)."""
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing and not os.environ.get("PBOSS_JAVA_HOME"):
        if IN_CI:
            pytest.fail(f"CI=true and {', '.join(missing)} not installed", pytrace=False)
        pytest.skip(f"{', '.join(missing)} not installed")
    neo4j_local.build()


def test_parse_size() -> None:
    assert neo4j_local._parse_size("512m") == 512 << 20
    assert neo4j_local._parse_size("1G") == 1 << 30
    assert neo4j_local._parse_size("64MiB") == 64 << 20
    assert neo4j_local._jvm_size(1 << 30) == "1g"
    with pytest.raises(ValueError):
        neo4j_local._parse_size("lots")


def test_status_of_unknown_home_is_none(tmp_path: Path) -> None:
    assert neo4j_local.status(tmp_path / "nothing") is None
    assert neo4j_local.stop(tmp_path / "nothing") is False


@pytest.mark.neo4j
def test_build_is_cached(launcher_ready: None) -> None:
    started = time.monotonic()
    jar = neo4j_local.build()
    assert jar.is_file()
    assert time.monotonic() - started < 5, "an up-to-date launcher must not run Maven again"


@pytest.mark.neo4j
@pytest.mark.timeout(420)
def test_start_query_stop(launcher_ready: None, tmp_path: Path) -> None:
    import neo4j

    home = tmp_path / "n1"
    port = free_port()
    uri = neo4j_local.start(home, port=port, heap="512m", pagecache="64m")
    try:
        assert uri == f"bolt://127.0.0.1:{port}"
        info = neo4j_local.status(home)
        assert info is not None
        assert info["alive"] and info["ready"]
        assert info["port"] == port and info["uri"] == uri
        assert (home / "neo4j.pid").read_text().strip() == str(info["pid"])

        login = neo4j_local.credentials(home)
        assert login is not None and login[0] == "neo4j" and len(login[1]) >= 24
        with neo4j.GraphDatabase.driver(uri, auth=login) as driver:
            driver.verify_connectivity()
            records, _, _ = driver.execute_query("RETURN 1 AS one")
            assert records[0]["one"] == 1
            driver.execute_query("CREATE (:Probe {name: $name, n: 42})", name="launcher")
            records, _, _ = driver.execute_query(
                "MATCH (p:Probe {name: $name}) RETURN p.n AS n", name="launcher"
            )
            assert [r["n"] for r in records] == [42]

        # Idempotent: a second start for the same home returns the running instance.
        assert neo4j_local.start(home, port=port) == uri
        assert neo4j_local.status(home)["pid"] == info["pid"]  # type: ignore[index]
    finally:
        assert neo4j_local.stop(home) is True
    assert not _port_open(port)
    assert neo4j_local.status(home) is None
    assert not (home / "neo4j.pid").exists()
    assert neo4j_local.stop(home) is False
    assert "stopped" in (home / "neo4j.log").read_text()

    # Restart right away on the same port (closed connections may linger in TIME_WAIT): the
    # store survived the clean shutdown.
    assert neo4j_local.start(home, port=port, heap="512m", pagecache="64m") == uri
    try:
        with neo4j.GraphDatabase.driver(uri, auth=neo4j_local.credentials(home)) as driver:
            records, _, _ = driver.execute_query("MATCH (p:Probe) RETURN p.n AS n")
            assert [r["n"] for r in records] == [42]
    finally:
        neo4j_local.stop(home)
    assert not _port_open(port)


def _loose_modes(home: Path) -> list[str]:
    """Every path under ``home`` (itself included) that its group or others may read or enter."""
    paths = [home, *home.rglob("*")]
    return [
        f"{p} {oct(p.lstat().st_mode & 0o777)}"
        for p in paths
        if not p.is_symlink() and p.lstat().st_mode & 0o077
    ]


@pytest.mark.neo4j
@pytest.mark.timeout(420)
def test_the_launcher_runs_with_auth_and_private_files(
    launcher_ready: None, tmp_path: Path
) -> None:
    """Auth is on with a generated password (mode 600); nothing in the home is readable by
    others, including a home made before (world-readable files get tightened); the default
    password and no password are refused; a new password file rotates the password."""
    import neo4j
    from neo4j.exceptions import AuthError

    home = tmp_path / "secure"
    (home / "db").mkdir(parents=True)
    (home / "db" / "old.txt").write_text("from a run without auth")
    os.chmod(home / "db" / "old.txt", 0o644)
    os.chmod(home, 0o755)
    port = free_port()
    uri = neo4j_local.start(home, port=port, heap="512m", pagecache="64m")
    try:
        login = neo4j_local.credentials(home)
        assert login is not None
        assert oct((home / "neo4j.password").stat().st_mode & 0o777) == "0o600"
        with neo4j.GraphDatabase.driver(uri, auth=login) as driver:
            driver.execute_query("CREATE (:Probe {n: 1})")
        for wrong in (None, ("neo4j", "neo4j"), ("neo4j", login[1] + "x")):
            with (
                pytest.raises(AuthError),
                neo4j.GraphDatabase.driver(uri, auth=wrong) as driver,
            ):
                driver.verify_connectivity()
        assert _loose_modes(home) == []
        assert not list(home.rglob("auth.ini")), "the initial credentials are not kept around"
        assert neo4j_local.credentials_for_uri(uri, home) == login
        assert neo4j_local.credentials_for_uri(f"bolt://127.0.0.1:{port + 1}", home) is None
        assert neo4j_local.credentials_for_uri(f"bolt://db.example:{port}", home) is None
    finally:
        neo4j_local.stop(home)

    (home / "neo4j.password").unlink()
    neo4j_local.start(home, port=port, heap="512m", pagecache="64m")
    try:
        rotated = neo4j_local.credentials(home)
        assert rotated is not None and rotated != login
        with neo4j.GraphDatabase.driver(uri, auth=rotated) as driver:
            records, _, _ = driver.execute_query("MATCH (p:Probe) RETURN p.n AS n")
            assert [r["n"] for r in records] == [1]
        with pytest.raises(AuthError), neo4j.GraphDatabase.driver(uri, auth=login) as driver:
            driver.verify_connectivity()
        assert _loose_modes(home) == []
    finally:
        neo4j_local.stop(home)


@pytest.mark.neo4j
@pytest.mark.timeout(420)
def test_two_instances_coexist(launcher_ready: None, tmp_path: Path) -> None:
    """Two homes on two ports run side by side; concurrent starts of one home share one JVM."""
    from concurrent.futures import ThreadPoolExecutor

    import neo4j

    a, b = tmp_path / "a", tmp_path / "b"
    port_a, port_b = free_port(), free_port()
    jobs = [(a, port_a), (b, port_b), (a, port_a)]
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            uri_a, uri_b, uri_a2 = pool.map(
                lambda job: neo4j_local.start(job[0], port=job[1], heap="512m", pagecache="64m"),
                jobs,
            )
        assert uri_a == uri_a2 == f"bolt://127.0.0.1:{port_a}"
        assert uri_b == f"bolt://127.0.0.1:{port_b}"
        with (
            neo4j.GraphDatabase.driver(uri_a, auth=neo4j_local.credentials(a)) as da,
            neo4j.GraphDatabase.driver(uri_b, auth=neo4j_local.credentials(b)) as db,
        ):
            da.execute_query("CREATE (:Only {where: 'a'})")
            n_b, _, _ = db.execute_query("MATCH (n:Only) RETURN count(n) AS c")
            assert n_b[0]["c"] == 0, "instances must not share data"
        assert neo4j_local.stop(b) is True
        assert not _port_open(port_b)
        assert neo4j_local.status(a)["alive"]  # type: ignore[index]
        with neo4j.GraphDatabase.driver(uri_a, auth=neo4j_local.credentials(a)) as da:
            n_a, _, _ = da.execute_query("MATCH (n:Only) RETURN count(n) AS c")
            assert n_a[0]["c"] == 1
    finally:
        neo4j_local.stop(a)
        neo4j_local.stop(b)
    assert not _port_open(port_a)


@pytest.mark.neo4j
def test_port_in_use_is_a_clear_error(launcher_ready: None, tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(neo4j_local.Neo4jLaunchError, match="in use"):
            neo4j_local.start(tmp_path / "busy", port=port)


def test_one_neo4j_version_everywhere() -> None:
    """pom.xml, docker-compose.yml and the test container pin the same Neo4j."""
    import re

    from tests.neo4j_server import TEST_IMAGE

    root = Path(__file__).resolve().parent.parent
    version = neo4j_local.NEO4J_VERSION
    assert re.fullmatch(r"5\.26\.\d+", version), "5.26 LTS is the last line that runs on Java 17"
    pom = (root / "tools" / "neo4j-local" / "pom.xml").read_text()
    assert f"<neo4j.version>{version}</neo4j.version>" in pom
    compose = (root / "docker-compose.yml").read_text()
    assert f"image: neo4j:{version}-community" in compose
    assert f"neo4j:{version}-community" == TEST_IMAGE


@pytest.mark.neo4j
@pytest.mark.timeout(300)
def test_owner_pid_stops_an_orphaned_server(launcher_ready: None, tmp_path: Path) -> None:
    import subprocess
    import sys

    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    home = tmp_path / "owned"
    port = free_port()
    try:
        neo4j_local.start(home, port=port, heap="512m", pagecache="64m", owner_pid=owner.pid)
        pid = neo4j_local.status(home)["pid"]  # type: ignore[index]
        owner.kill()
        owner.wait()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and neo4j_local.status(home)["alive"]:  # type: ignore[index]
            time.sleep(0.5)
        assert not neo4j_local.status(home)["alive"], f"JVM {pid} outlived its owner"  # type: ignore[index]
        assert not _port_open(port)
        assert "has exited; stopping" in (home / "neo4j.log").read_text()
    finally:
        owner.kill()
        neo4j_local.stop(home)


@pytest.mark.neo4j
@pytest.mark.timeout(300)
def test_stop_kills_a_hung_server(launcher_ready: None, tmp_path: Path) -> None:
    import signal

    home = tmp_path / "hung"
    port = free_port()
    neo4j_local.start(home, port=port, heap="512m", pagecache="64m")
    pid = neo4j_local.status(home)["pid"]  # type: ignore[index]
    os.kill(pid, signal.SIGSTOP)  # SIGTERM now goes unanswered
    try:
        started = time.monotonic()
        assert neo4j_local.stop(home, timeout=2) is True
        assert time.monotonic() - started < 30
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert neo4j_local.status(home) is None
    assert not _port_open(port)
