"""Column types. SQLite keeps no offset with DateTime(timezone=True), so instants are
normalised to UTC going in and come back as aware UTC datetimes on every engine."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store a naive datetime: {value!r}")
        value = value.astimezone(UTC)
        # SQLite stores text; a naive UTC value keeps a fixed-width, comparable format.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None or value.tzinfo is UTC:
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect, coltype):
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # The slot query reads hundreds of busy intervals; parsing SQLite's naive UTC text straight
        # to an aware datetime is several times cheaper than parse-then-replace (bench/busy_slots.py).
        general = super().result_processor(dialect, coltype)
        assert general is not None  # SQLite's DateTime always parses its text

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                return datetime.fromisoformat(value + "+00:00")
            except ValueError:  # not the naive text this type writes: take the general path
                return general(value)

        return process
