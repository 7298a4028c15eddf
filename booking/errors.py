"""Domain errors. Every message is fit to show a person in a chat or on a CLI line."""

from __future__ import annotations

from datetime import datetime


class BookingError(Exception):
    """Base of every error the use cases raise on purpose."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(BookingError):
    """Bad input; `field` names what was wrong."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class NotFound(BookingError):
    def __init__(self, what: str, ident: object):
        super().__init__(f"{what} {ident} not found")
        self.what = what
        self.ident = ident


class SlotUnavailable(BookingError):
    """The requested time is not a bookable slot by the coach's rules."""

    def __init__(self, message: str, alternatives: list[tuple[datetime, datetime]] | None = None):
        super().__init__(message)
        self.alternatives = alternatives or []


class SlotTaken(SlotUnavailable):
    """Lost a race for the slot: someone else booked it first."""

    def __init__(self, alternatives: list[tuple[datetime, datetime]] | None = None):
        super().__init__("that slot was just taken", alternatives)


class GroupFull(SlotUnavailable):
    """Every seat of a group session is taken (unpaid seats count until their hold lapses)."""

    def __init__(self) -> None:
        super().__init__("every seat of this group session is taken")


class SlotConflict(Exception):
    """Raised by storage when the database guard rejects an overlapping session.
    Internal: the use cases turn it into SlotTaken with alternatives."""


class TransientConflict(Exception):
    """Raised by storage for a deadlock or serialization failure that is worth retrying."""


class InvalidTransition(BookingError):
    pass


class PolicyViolation(BookingError):
    pass


class NotAllowed(BookingError):
    pass


class PaymentError(BookingError):
    pass
