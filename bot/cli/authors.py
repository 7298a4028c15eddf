"""`coachbot author ...`: authors."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from booking import catalog
from bot.cli.common import JsonOpt, emit, run

app = typer.Typer(no_args_is_help=True, help="Authors.")


@app.command("add")
def author_add(
    name: Annotated[str, typer.Option("--name")],
    timezone: Annotated[str, typer.Option("--timezone")],
    telegram_id: Annotated[Optional[int], typer.Option("--telegram-id")] = None,
    email: Annotated[Optional[str], typer.Option("--email")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an author."""
    author = run(
        lambda c: catalog.add_author(c.ctx, name=name, timezone=timezone, telegram_id=telegram_id, email=email)
    )
    if as_json:
        emit({"id": author.id, "name": author.name, "timezone": author.timezone, "telegram_id": author.telegram_id})
    else:
        typer.echo(f"author {author.id} added: {author.name} ({author.timezone})")
