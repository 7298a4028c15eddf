"""Jitsi Meet rooms: a room exists as soon as someone opens its URL, so the room name is the
secret and carries 128 bits of randomness.

Jitsi room names are case-insensitive (the XMPP room JID is lower-cased, and prosody's token
check compares the `room` claim lower-cased), so the random part uses a lower-case alphabet:
mixed-case base64 would lose ~12 of its 128 bits once folded.

A self-hosted Jitsi with prosody token authentication (`jitsi-meet-tokens`) needs a JWT: give
`app_id` and `app_secret` (the VirtualHost's `app_id`/`app_secret`) and every URL carries
`?jwt=<HS256 token>` limited to its room, valid from shortly before the start until some time
after the end. Claims follow lib-jitsi-meet's doc/tokens.md."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt

OPEN_BEFORE_START = timedelta(minutes=10)


def random_room_part() -> str:
    """128 random bits as 26 lower-case base32 characters (a-z, 2-7): safe under case folding."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


class JitsiRooms:
    creates_locally = True  # the URL (and its JWT) is computed here; no provider call

    creates_locally = True  # a random room name and a locally signed token: no provider call

    def __init__(
        self,
        domain: str = "meet.jit.si",
        prefix: str = "coachbot",
        app_id: str | None = None,
        app_secret: str | None = None,
        token_ttl_after_end: timedelta = timedelta(hours=1),
        *,
        audience: str = "jitsi",
    ):
        if bool(app_id) != bool(app_secret):
            raise ValueError("Jitsi JWT needs both app_id and app_secret (or neither)")
        self.domain = domain
        self.prefix = prefix
        self.app_id = app_id or None
        self.app_secret = app_secret or None
        self.token_ttl_after_end = token_ttl_after_end
        self.audience = audience

    @property
    def uses_jwt(self) -> bool:
        return self.app_id is not None

    async def create(self, session) -> str:
        room = f"{self.prefix}-{random_room_part()}"
        url = f"https://{self.domain}/{room}"
        if self.uses_jwt:
            url += f"?jwt={self.token(room, session.starts_at, session.ends_at)}"
        return url

    def token(self, room: str, starts_at: datetime, ends_at: datetime, *, user: dict[str, str] | None = None) -> str:
        """An HS256 token for one room, valid from 10 minutes before `starts_at` until
        `ends_at + token_ttl_after_end`. `user` becomes `context.user` (id, name, email, avatar);
        Jitsi rejects non-string values there, so they are checked here."""
        if not self.uses_jwt or self.app_secret is None:
            raise ValueError("this JitsiRooms has no app_id/app_secret, so it issues no tokens")
        claims: dict[str, Any] = {
            "aud": self.audience,
            "iss": self.app_id,
            "sub": self._sub(),
            "room": room,
            "nbf": int((starts_at - OPEN_BEFORE_START).timestamp()),
            "exp": int((ends_at + self.token_ttl_after_end).timestamp()),
        }
        if user is not None:
            bad = sorted(k for k, v in user.items() if not isinstance(v, str))
            if bad:
                raise ValueError(f"Jitsi context.user values must be strings: {', '.join(bad)}")
            claims["context"] = {"user": dict(user)}
        return jwt.encode(claims, self.app_secret, algorithm="HS256")

    def _sub(self) -> str:
        # prosody compares `sub` with the lower-cased host the room lives on (no port, no path).
        return (urlsplit(f"//{self.domain}").hostname or self.domain).lower()

    async def delete(self, url: str) -> None:
        # Jitsi rooms vanish when the last participant leaves; there is nothing to delete.
        return None

    async def aclose(self) -> None:
        return None
