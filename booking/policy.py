"""Cancellation, refund and reschedule rules. The numbers come from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.errors import PolicyViolation
from booking.model import Actor, Session


@dataclass(frozen=True)
class CancellationPolicy:
    author_cutoff_hours: int = 24
    author_refund_percent: int = 100  # author cancelling before the cut-off
    coach_refund_percent: int = 100  # coach or admin cancelling, at any time
    coach_no_show_refund_percent: int = 100
    author_no_show_refund_percent: int = 0

    @property
    def cutoff(self) -> timedelta:
        return timedelta(hours=self.author_cutoff_hours)

    def author_may_change(self, session: Session, now: datetime) -> bool:
        return session.starts_at - now >= self.cutoff

    def refund_on_cancel(self, session: Session, by: Actor, now: datetime) -> int:
        """Minor units to refund when `by` cancels now; raises if the author is too late."""
        if by is Actor.AUTHOR:
            if not self.author_may_change(session, now):
                raise PolicyViolation(
                    f"sessions can be cancelled up to {self.author_cutoff_hours} hours before the start; "
                    "this one starts sooner"
                )
            pct = self.author_refund_percent
        else:
            pct = self.coach_refund_percent
        return _share(session.kept, pct)

    def check_reschedule(self, session: Session, by: Actor, now: datetime) -> None:
        if by is Actor.AUTHOR and not self.author_may_change(session, now):
            raise PolicyViolation(
                f"sessions can be rescheduled up to {self.author_cutoff_hours} hours before the start; "
                "this one starts sooner"
            )

    def refund_on_no_show(self, session: Session, who: Actor) -> int:
        pct = self.coach_no_show_refund_percent if who is Actor.COACH else self.author_no_show_refund_percent
        return _share(session.kept, pct)


def _share(amount: int, pct: int) -> int:
    # Round half up on integers so a refund is exact to the minor unit.
    return (amount * pct * 2 + 100) // 200
