"""A real `reel serve` for tests: a subprocess on a free loopback port, its own REEL_HOME.

    with serve(tmp_path, tokens=["alpha", "beta"]) as server:
        httpx.get(server.url + "/v1/jobs", headers=server.auth("alpha"))

`tokens` are the plain tokens the tests use; the server is given only their hashes.
`workers=False` runs it with --no-workers (jobs wait in the queue). `env` adds settings
(REEL_QUEUE_MAX, REEL_RATE_LIMIT, ...). On exit the server gets SIGTERM and is waited
for; `Server.stop()` does that early and returns the exit code.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
START_SECONDS = 60.0
STOP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Server:
    url: str
    home: Path
    process: subprocess.Popen
    log: Path

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def client(self, token: str | None = None, **kwargs) -> httpx.Client:
        headers = self.auth(token) if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=kwargs.pop("timeout", 30.0), **kwargs)

    def stop(self, timeout: float = STOP_SECONDS) -> int:
        """SIGTERM, then wait; the exit code (SIGKILL and an error if it does not exit)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"reel serve did not exit within {timeout} s of SIGTERM; log:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def serve(
    folder: Path,
    tokens: Sequence[str] = ("test-token",),
    *,
    workers: bool = True,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
) -> Iterator[Server]:
    """A running server with REEL_HOME = `folder`/home; its log in `folder`/serve.log."""
    home = folder / "home"
    port = free_port()
    # No REEL_* of the caller's, and the working folder is `folder` (no ./reel.toml there).
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REEL_")}
    environ.update(
        {
            "REEL_HOME": str(home),
            "REEL_API_TOKENS": ",".join(token_hash(t) for t in tokens),
            "CACHE_SIZE_GB": "0",
            "REEL_RETRY_BACKOFF": "0",
            "PYTHONPATH": str(REPO),
        }
    )
    environ.update(env or {})
    command = [sys.executable, "-m", "engine.cli", "serve", "--port", str(port), *args]
    if not workers:
        command.append("--no-workers")
    log = folder / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=folder, env=environ, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", home, process, log)
    try:
        _wait_healthy(server)
        yield server
    finally:
        if process.poll() is None:
            server.stop()


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"reel serve exited with {server.process.returncode}:\n{server.output()}")
        try:
            if httpx.get(server.url + "/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.process.kill()
    raise AssertionError(f"reel serve did not answer /healthz within {START_SECONDS} s:\n{server.output()}")
