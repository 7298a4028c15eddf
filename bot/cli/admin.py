"""Running and setting up: `coachbot db upgrade`, `coachbot serve`, `coachbot seed-demo`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from booking import catalog
from bot.cli.common import run

if TYPE_CHECKING:
    from bot.container import Container


db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app = typer.Typer()  # its commands are added to the top level


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create or update the schema by running the migrations."""
    from bot.settings import load_settings
    from storage.migrate import upgrade

    settings = load_settings()
    settings.ensure_sqlite_dir()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at revision {revision}")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the HTTP server (health check, webhooks) and the scheduler."""
    import uvicorn

    from bot.container import Container
    from bot.http import create_app
    from bot.logging import configure
    from bot.settings import load_settings

    settings = load_settings()
    configure(settings.log_level, json=settings.log_json)
    container = Container(settings)
    uvicorn.run(
        create_app(container),
        host=host or settings.http_host,
        port=port or settings.http_port,
        log_level=settings.log_level.lower(),
        # Idle keep-alive sockets close after 5 s, headers must arrive within uvicorn's limits, and
        # webhook bodies within bot.http.BODY_TIMEOUT_S: a slow or abandoned client holds no socket.
        timeout_keep_alive=5,
        timeout_graceful_shutdown=15,
        limit_concurrency=500,
    )


@app.command("seed-demo")
def seed_demo() -> None:
    """Add demo coaches with weekly hours and a demo author (skipped if they exist)."""

    async def work(c: Container) -> list[str]:
        existing = {x.name for x in await catalog.coaches(c.ctx)}
        made: list[str] = []
        demo = [
            ("Maya Lind", "Europe/Berlin", 9000, ["romance", "character development"], "Ten years editing romance."),
            ("Jon Okafor", "America/New_York", 12000, ["mystery", "plotting"], "Former crime-desk editor."),
        ]
        for name, zone, rate_, specialties, bio in demo:
            if name in existing:
                continue
            coach = await catalog.add_coach(
                c.ctx,
                name=name,
                timezone=zone,
                rate=rate_,
                specialties=specialties,
                bio=bio,
                durations=[30, 60, 90],
                slot_step_minutes=30,
            )
            assert coach.id is not None  # assigned when the coach was stored
            for day in ("mon", "tue", "wed", "thu", "fri"):
                await catalog.add_rule(c.ctx, coach.id, weekday=day, start="09:00", end="17:00")
            made.append(f"coach {coach.id} {name}")
        if made:  # first run: the coaches were just created, so the author is new too
            author = await catalog.add_author(c.ctx, name="Demo Author", timezone="Europe/London")
            made.append(f"author {author.id} Demo Author")
        return made

    made = run(work)
    typer.echo("\n".join(made) if made else "demo data already present")
