"""`pboss serve` as a child process for end-to-end tests: started with its own environment,
waited for on /healthz, killable with SIGKILL (nothing flushed or released) and restartable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.neo4j_server import free_port

ROOT = Path(__file__).resolve().parents[1]


class ServeProcess:
    """One `pboss serve` on 127.0.0.1 with `settings` (PBOSS_* variables) and an API key."""

    def __init__(self, tmp: Path, key: str, settings: dict[str, str]):
        self.port = free_port()
        self.tmp = tmp
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PBOSS_")}
        self.env.update(PYTHONPATH=str(ROOT), **settings)
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )

    def start(self, timeout: float = 90) -> None:
        """Start the process and wait (up to `timeout` s) until it answers /healthz."""
        code = "from pboss.cli.main import app; app()"
        log = open(self.tmp / "pboss.log", "ab")  # noqa: SIM115 (the child writes it)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.tmp,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"pboss serve exited {self.proc.returncode}: {self.log()}")
            try:
                if self.client.get("/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"pboss serve did not answer: {self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        """The end of the process's output, for failure messages."""
        return (self.tmp / "pboss.log").read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL: nothing is flushed, recorded or released."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        """Terminate the process (kill it if it does not stop) and close the client."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self.client.close()
