"""`coachbot serve` as a real process for end-to-end tests: migrate, start on a free port, wait for
/healthz, and on the way out stop it and fail on any traceback in its output."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

COACHBOT = str(Path(sys.executable).parent / "coachbot")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(env: dict[str, str], cwd: Path, port: int | None = None) -> Iterator[str]:
    """Yields the server's base URL; `port` when the environment must name it beforehand."""
    subprocess.run([COACHBOT, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60, cwd=cwd)
    port = port or free_port()
    server = subprocess.Popen(
        [COACHBOT, "serve", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("server did not come up")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert "Traceback" not in output, output
