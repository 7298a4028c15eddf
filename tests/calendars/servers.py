"""Real servers for the calendar tests: Radicale (CalDAV, htpasswd auth) in a thread, restartable
on the same port and storage, and a local ICS address with ETag / If-None-Match."""

from __future__ import annotations

import hashlib
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

USER, PASSWORD = "coach", "app-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Radicale:
    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.port = free_port()
        users = Path(self.folder.name) / "users"
        users.write_text(f"{USER}:{PASSWORD}\n")
        self.users = str(users)
        self._thread: threading.Thread | None = None
        self._shutdown: tuple[socket.socket, socket.socket] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import radicale.config
        import radicale.server

        configuration = radicale.config.load("")
        configuration.update(
            {
                "server": {"hosts": f"127.0.0.1:{self.port}"},
                "storage": {"filesystem_folder": str(Path(self.folder.name) / "collections")},
                "auth": {"type": "htpasswd", "htpasswd_filename": self.users, "htpasswd_encryption": "plain"},
                "logging": {"level": "warning"},
            },
            "test",
        )
        self._shutdown = socket.socketpair()
        self._thread = threading.Thread(
            target=radicale.server.serve, args=(configuration, self._shutdown[1]), daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base + "/", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("Radicale did not start")

    def stop(self) -> None:
        if self._shutdown is not None and self._thread is not None:
            self._shutdown[0].close()
            self._thread.join(timeout=10)
            self._shutdown[1].close()
        self._thread = self._shutdown = None

    def make_calendar(self, name: str) -> str:
        """A new calendar of USER; its own URL."""
        from caldav.davclient import DAVClient

        with DAVClient(url=f"{self.base}/{USER}/", username=USER, password=PASSWORD) as client:
            calendar = client.principal().make_calendar(name=name, cal_id=name)
            return str(calendar.url)

    def events(self, calendar_url: str) -> list[bytes]:
        from caldav.davclient import DAVClient

        with DAVClient(url=calendar_url, username=USER, password=PASSWORD) as client:
            return [o.data.encode() for o in client.calendar(url=calendar_url).events()]

    def put(self, calendar_url: str, name: str, ics: str) -> None:
        response = httpx.put(
            f"{calendar_url.rstrip('/')}/{name}.ics",
            content=ics.encode(),
            auth=(USER, PASSWORD),
            headers={"Content-Type": "text/calendar"},
        )
        assert response.status_code in (201, 204), response.text

    def close(self) -> None:
        self.stop()
        self.folder.cleanup()


class IcsAddress:
    """An ICS address whose body the test sets; it answers 304 to a matching If-None-Match."""

    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.requests: list[tuple[str | None, int]] = []  # (If-None-Match, status answered)
        self.app = Starlette(routes=[Route("/secret/basic.ics", self._serve)])

    async def _serve(self, request: Request) -> Response:
        if self.status != 200:
            self.requests.append((request.headers.get("if-none-match"), self.status))
            return Response(b"<html>down</html>", status_code=self.status)
        etag = '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'
        asked = request.headers.get("if-none-match")
        answer = 304 if asked == etag else 200
        self.requests.append((asked, answer))
        if answer == 304:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(self.body, media_type="text/calendar", headers={"ETag": etag})


class Trickle:
    """A server that answers every request with a byte every second and never finishes: a
    per-read socket timeout never trips on it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.app = Starlette(
            routes=[Route("/{path:path}", self._serve, methods=["GET", "PUT", "DELETE", "REPORT", "PROPFIND"])]
        )

    async def _serve(self, request: Request) -> Response:
        import asyncio

        from starlette.responses import StreamingResponse

        self.requests.append(request.method)

        async def forever():
            while True:
                yield b" "
                await asyncio.sleep(1)

        return StreamingResponse(forever(), status_code=207, media_type="application/xml")
