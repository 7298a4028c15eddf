"""Jitsi Meet rooms: a room exists as soon as someone opens its URL, so the room name is the
secret and carries 128 bits of randomness."""

import secrets


class JitsiRooms:
    def __init__(self, domain: str = "meet.jit.si", prefix: str = "coachbot"):
        self.domain = domain
        self.prefix = prefix

    async def create(self, session) -> str:
        return f"https://{self.domain}/{self.prefix}-{secrets.token_urlsafe(16)}"

    async def delete(self, url: str) -> None:
        # Public Jitsi rooms vanish when the last participant leaves; there is nothing to delete.
        return None
