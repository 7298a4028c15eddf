"""Calendar addresses come from coaches, and the server fetches them: one pointing inside our own
network (127.0.0.1, 10.x, the cloud's 169.254.169.254 metadata service...) is refused before any
request, on every redirect hop too. CALENDAR_ALLOW_PRIVATE_URLS turns this off (a calendar server
on the same host, and the tests' local servers)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import httpx

from booking.calendar_sources import CalendarError

PRIVATE = "the calendar address points into a private network; use the calendar's public address"


async def check_public(url: httpx.URL) -> None:
    host = url.host
    if not host:
        raise CalendarError("the calendar address has no host")
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, url.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        raise CalendarError(f"the calendar address's host {host} is not known") from None
    for *_, address in found:
        if not ipaddress.ip_address(address[0]).is_global:
            raise CalendarError(PRIVATE)


def request_guard(allow_private: bool) -> dict[str, list[Callable[[httpx.Request], Awaitable[None]]]]:
    """httpx event hooks that check every request (each redirect hop is one) before it is sent."""

    async def guard(request: httpx.Request) -> None:
        await check_public(request.url)

    return {} if allow_private else {"request": [guard]}
