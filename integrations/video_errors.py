"""The error every video adapter raises, and the one HTTP call policy the HTTP-based adapters
(Daily, Zoom) share: bounded retries with backoff for 429/5xx and for requests that never left,
then a VideoError with a message fit for a log line (no secrets, no query strings)."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Collection
from typing import Any, TypedDict
from urllib.parse import urlsplit

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Transport errors raised before the request was sent: always safe to retry, even a POST.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class RetryPolicy(TypedDict):
    """The keyword arguments of `send` an adapter fixes once (provider name and retry limits)."""

    provider: str
    retries: int
    backoff: float
    max_retry_wait: float


class VideoError(Exception):
    """A video provider refused or could not be reached. `status` is the HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


def _where(method: str, url: str) -> str:
    parts = urlsplit(url)
    return f"{method} {parts.scheme}://{parts.netloc}{parts.path}"


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:200] or response.reason_phrase
    if isinstance(body, dict):
        found = [str(body[k]) for k in ("error", "info", "message", "reason", "error_description") if body.get(k)]
        if "code" in body:
            found.append(f"code {body['code']}")
        if found:
            return "; ".join(found)[:300]
    return str(body)[:200]


def retry_after(response: httpx.Response) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or HTTP-date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    retries: int,
    backoff: float,
    max_retry_wait: float,
    accept: Collection[int] = (),
    **kwargs: Any,
) -> httpx.Response:
    """Send one API request; return the response when it is 2xx or in `accept`.

    Retries (at most `retries` times) on 429 and 5xx, honouring Retry-After, and on transport
    errors when repeating cannot do harm. A Retry-After longer than `max_retry_wait` is not waited
    for: the caller gets a VideoError at once (the booking flow must not stall for minutes)."""
    where = _where(method, url)
    attempt = 0
    while True:
        try:
            response = await http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            safe = isinstance(exc, NOT_SENT) or method.upper() in IDEMPOTENT
            if safe and attempt < retries:
                await asyncio.sleep(_backoff(backoff, attempt))
                attempt += 1
                continue
            raise VideoError(f"{provider}: {where} failed: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300 or status in accept:
            return response
        asked = retry_after(response) if status in RETRY_STATUSES else None
        if status in RETRY_STATUSES and attempt < retries:
            if asked is None or asked <= max_retry_wait:
                await asyncio.sleep(_backoff(backoff, attempt) if asked is None else asked)
                attempt += 1
                continue
        tried = f" after {attempt + 1} attempts" if attempt else ""
        later = f" (asks to retry after {asked:.0f} s)" if asked is not None else ""
        raise VideoError(f"{provider}: {where} answered {status}{tried}: {_detail(response)}{later}", status=status)


def _backoff(base: float, attempt: int) -> float:
    """Exponential backoff with jitter: base * 2^attempt, scaled by a random factor in [0.5, 1]."""
    return base * (2**attempt) * (0.5 + random.random() / 2)
