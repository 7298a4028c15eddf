"""CalDAV passwords encrypted at rest with CALENDAR_SECRET_KEY (a Fernet key)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from booking.calendar_sources import CalendarError


class FernetBox:
    def __init__(self, key: str):
        try:
            self._fernet = Fernet(key.encode())
        except ValueError:
            raise ValueError("CALENDAR_SECRET_KEY is not a Fernet key (make one with Fernet.generate_key())") from None

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise CalendarError(
                "a stored calendar password cannot be decrypted: was CALENDAR_SECRET_KEY changed?"
            ) from None
