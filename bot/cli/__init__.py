"""The admin CLI `coachbot`: one module per command group. Errors: one line on stderr, exit 1
(2 for usage), no traceback (bot.cli.common.Commands)."""

from __future__ import annotations

import typer

from bot.cli import admin, authors, availability, calendar, coaches, groups, packages, payments, sessions, waitlist
from bot.cli.common import Commands

app = typer.Typer(
    cls=Commands,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="coachbot: admin and support commands.",
)
app.add_typer(coaches.app, name="coach")
app.add_typer(availability.app, name="availability")
app.add_typer(authors.app, name="author")
app.add_typer(admin.db_app, name="db")
app.add_typer(payments.app, name="payments")
app.add_typer(calendar.app, name="calendar")
app.add_typer(packages.app, name="package")
app.add_typer(groups.app, name="group")
app.add_typer(waitlist.app, name="waitlist")
for group in (admin.app, sessions.app, packages.credits_app):
    app.registered_commands.extend(group.registered_commands)


def main() -> None:
    from bot.logging import configure

    configure("WARNING")
    app(prog_name="coachbot")
