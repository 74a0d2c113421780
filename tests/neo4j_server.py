"""A real Neo4j for the test session (imported by conftest; not a conftest itself).

``neo4j_endpoint_for_tests()`` returns a :class:`Neo4jEndpoint` ``(uri, auth, stop, source)``,
trying in order:

1. ``NEO4J_URI`` from the environment (auth from ``NEO4J_USER``/``NEO4J_PASSWORD`` when set);
   it is checked with ``verify_connectivity()`` and ``stop`` does nothing.
2. A testcontainers ``Neo4jContainer`` (image ``neo4j:<NEO4J_VERSION>-community``, bounded
   memory) when a Docker engine answers a ping within a couple of seconds.
3. The local launcher (:mod:`pboss.inventory.neo4j.local`) on a free port, home in a temporary
   directory that ``stop`` removes; the JVM also stops by itself if this process dies. Auth is
   on, as ``pboss neo4j start`` runs it: ``auth`` is the home's generated login.

When none works it raises :class:`Neo4jUnavailable` (the conftest skips on it locally), or,
with ``CI=true``, :class:`Neo4jStartError`, which is deliberately *not* a Neo4jUnavailable, so
that nothing turns it into a skip. ``PBOSS_TEST_NEO4J=docker|local`` restricts step 2/3 to one
backend (``auto``, the default, tries both).

``neo4j_uri_for_tests()`` is the same function under the name of the original brief.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pboss.inventory.neo4j import local as neo4j_local

__all__ = [
    "TEST_IMAGE",
    "Neo4jEndpoint",
    "Neo4jStartError",
    "Neo4jUnavailable",
    "free_port",
    "neo4j_endpoint_for_tests",
    "neo4j_uri_for_tests",
]

#: Same Neo4j as tools/neo4j-local and docker-compose.yml.
TEST_IMAGE = f"neo4j:{neo4j_local.NEO4J_VERSION}-community"
TEST_HEAP = "1g"
TEST_PAGECACHE = "256m"
_CONTAINER_PASSWORD = "pboss-test-password"


class Neo4jUnavailable(RuntimeError):
    """No Neo4j could be had here (outside CI the conftest turns this into a skip)."""


class Neo4jStartError(RuntimeError):
    """CI=true and no Neo4j could be had: the run must fail, never skip."""


def _noop() -> None:
    return None


@dataclass(frozen=True)
class Neo4jEndpoint:
    """Where the session's Neo4j answers.

    ``auth`` is ``None`` (a server without auth) or ``(user, password)`` (the local launcher's
    generated login, as ``pboss neo4j start`` gives it); ``stop()`` releases what was started
    (idempotent); ``source`` is ``"env"``, ``"docker"`` or ``"local"``; ``home`` is the
    launcher's home (``"local"`` only).
    """

    uri: str
    auth: tuple[str, str] | None
    stop: Callable[[], None] = field(default=_noop, repr=False, compare=False)
    source: str = "env"
    home: Path | None = None

    def driver(self, **kwargs: Any) -> Any:
        """A ``neo4j.Driver`` for this endpoint (the caller closes it)."""
        import neo4j

        return neo4j.GraphDatabase.driver(self.uri, auth=self.auth, **kwargs)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _verify(uri: str, auth: tuple[str, str] | None, timeout: float = 10.0) -> None:
    import neo4j

    with neo4j.GraphDatabase.driver(uri, auth=auth, connection_timeout=timeout) as driver:
        driver.verify_connectivity()


def _from_env() -> Neo4jEndpoint | None:
    uri = os.environ.get("NEO4J_URI", "").strip()
    if not uri:
        return None
    user = os.environ.get("NEO4J_USER")
    auth = (user, os.environ.get("NEO4J_PASSWORD", "")) if user else None
    try:
        _verify(uri, auth)
    except Exception as exc:
        raise Neo4jUnavailable(f"NEO4J_URI={uri} does not answer: {exc}") from exc
    return Neo4jEndpoint(uri=uri, auth=auth, source="env")


def _docker_answers(timeout: float = 3.0) -> bool:
    """A Docker engine answers a ping (quick; never hangs)."""
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False
    try:
        import docker
    except ImportError:
        return False
    client = None
    try:
        client = docker.from_env(timeout=int(max(1, timeout)))
        return bool(client.ping())
    except Exception:
        return False
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()


def _from_docker() -> Neo4jEndpoint:
    from testcontainers.neo4j import Neo4jContainer

    container = Neo4jContainer(TEST_IMAGE, username="neo4j", password=_CONTAINER_PASSWORD)
    container.with_env("NEO4J_server_memory_heap_initial__size", "256m")
    container.with_env("NEO4J_server_memory_heap_max__size", TEST_HEAP)
    container.with_env("NEO4J_server_memory_pagecache_size", TEST_PAGECACHE)
    container.start()
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            container.stop()

    return Neo4jEndpoint(
        uri=container.get_connection_url(),
        auth=("neo4j", _CONTAINER_PASSWORD),
        stop=stop,
        source="docker",
    )


def _from_launcher(attempts: int = 2) -> Neo4jEndpoint:
    home = Path(tempfile.mkdtemp(prefix="pboss-neo4j-test-"))
    last: Exception | None = None
    for _ in range(attempts):
        try:
            uri = neo4j_local.start(
                home,
                port=free_port(),
                heap=TEST_HEAP,
                pagecache=TEST_PAGECACHE,
                timeout=180,
                owner_pid=os.getpid(),  # no orphan JVM if the test run dies
            )
            break
        except neo4j_local.Neo4jLaunchError as exc:  # e.g. the free port was taken meanwhile
            last = exc
            neo4j_local.stop(home)
    else:
        shutil.rmtree(home, ignore_errors=True)
        raise Neo4jUnavailable(f"local launcher failed: {last}") from last
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            try:
                neo4j_local.stop(home)
            finally:
                shutil.rmtree(home, ignore_errors=True)

    return Neo4jEndpoint(
        uri=uri, auth=neo4j_local.credentials(home), stop=stop, source="local", home=home
    )


def neo4j_endpoint_for_tests() -> Neo4jEndpoint:
    """A running Neo4j for the test session: NEO4J_URI, else Docker, else the local launcher.

    Call once per session and ``stop()`` the result at the end. Raises
    :class:`Neo4jUnavailable` when nothing works, :class:`Neo4jStartError` instead when
    ``CI=true``.
    """
    backend = os.environ.get("PBOSS_TEST_NEO4J", "auto").strip().lower() or "auto"
    failures: list[str] = []
    try:
        endpoint = _from_env()
        if endpoint is not None:
            return endpoint
        if backend in ("auto", "docker"):
            if _docker_answers():
                try:
                    return _from_docker()
                except Exception as exc:  # no image, no registry, ...: try the launcher
                    failures.append(f"testcontainers {TEST_IMAGE}: {exc}")
            else:
                failures.append("no Docker engine answers")
        if backend in ("auto", "local"):
            try:
                return _from_launcher()
            except Exception as exc:
                failures.append(str(exc))
        raise Neo4jUnavailable("; ".join(failures) or f"PBOSS_TEST_NEO4J={backend}: no backend")
    except Neo4jUnavailable as exc:
        if _in_ci():
            raise Neo4jStartError(f"CI=true and Neo4j could not be started: {exc}") from exc
        raise


def neo4j_uri_for_tests() -> Neo4jEndpoint:
    """Alias of :func:`neo4j_endpoint_for_tests` (returns the endpoint, not a tuple)."""
    return neo4j_endpoint_for_tests()
