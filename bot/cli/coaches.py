"""`coachbot coach ...`: coaches and their booking settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from booking import catalog, coach_accounts
from booking.errors import InvalidInput
from booking.model import Coach
from bot.cli.common import JsonOpt, coach_json, emit, parse_durations, run

if TYPE_CHECKING:
    from bot.container import Container

app = typer.Typer(no_args_is_help=True, help="Coaches and their booking settings.")
out = Console()


@app.command("add")
def coach_add(
    name: Annotated[str, typer.Option("--name")],
    timezone: Annotated[str, typer.Option("--timezone")],
    rate: Annotated[int, typer.Option("--rate", help="Price per hour in minor units (cents).")],
    currency: Annotated[str, typer.Option("--currency")] = "usd",
    specialty: Annotated[Optional[list[str]], typer.Option("--specialty")] = None,
    bio: Annotated[Optional[str], typer.Option("--bio")] = None,
    min_notice_hours: Annotated[float, typer.Option("--min-notice-hours")] = 24,
    horizon_days: Annotated[int, typer.Option("--horizon-days")] = 60,
    buffer_before: Annotated[int, typer.Option("--buffer-before", help="Minutes kept free before each session.")] = 0,
    buffer_after: Annotated[int, typer.Option("--buffer-after", help="Minutes kept free after each session.")] = 0,
    durations: Annotated[str, typer.Option("--durations", help="Offered durations in minutes, e.g. 30,60,90.")] = "60",
    slot_step: Annotated[
        Optional[int], typer.Option("--slot-step", help="Minutes between slot starts (default: the duration).")
    ] = None,
    email: Annotated[Optional[str], typer.Option("--email")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a coach."""
    fields = dict(
        name=name,
        timezone=timezone,
        rate=rate,
        currency=currency,
        specialties=specialty or [],
        bio=bio,
        min_notice_minutes=_minutes_of_hours("min_notice_hours", min_notice_hours),
        horizon_days=horizon_days,
        buffer_before_minutes=buffer_before,
        buffer_after_minutes=buffer_after,
        durations=parse_durations(durations),
        slot_step_minutes=slot_step,
        email=email,
    )
    coach = run(lambda c: catalog.add_coach(c.ctx, **fields))
    emit(coach_json(coach)) if as_json else typer.echo(f"coach {coach.id} added: {coach.name} ({coach.timezone})")


@app.command("list")
def coach_list(
    active: Annotated[bool, typer.Option("--active", help="Only active coaches.")] = False, as_json: JsonOpt = False
) -> None:
    """List coaches."""
    coaches = run(lambda c: catalog.coaches(c.ctx, active_only=active))
    if as_json:
        emit([coach_json(x) for x in coaches])
        return
    table = Table("id", "name", "zone", "rate/h", "durations", "rating", "sessions", "active")
    for x in coaches:
        table.add_row(
            str(x.id),
            x.name,
            x.timezone,
            f"{x.rate / 100:.2f} {x.currency.upper()}",
            ",".join(map(str, x.durations)),
            f"{x.rating} ({x.rating_count})",
            str(x.total_sessions),
            "yes" if x.is_active else "no",
        )
    out.print(table)


@app.command("show")
def coach_show(coach: int, as_json: JsonOpt = False) -> None:
    """Show one coach."""
    found = run(lambda c: catalog.coach(c.ctx, coach))
    if as_json:
        emit(coach_json(found))
        return
    for key, value in coach_json(found).items():
        out.print(f"{key:>16}: {value}")


@app.command("update")
def coach_update(
    coach: int,
    name: Annotated[Optional[str], typer.Option("--name")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone")] = None,
    rate: Annotated[Optional[int], typer.Option("--rate")] = None,
    currency: Annotated[Optional[str], typer.Option("--currency")] = None,
    specialty: Annotated[Optional[list[str]], typer.Option("--specialty", help="Replaces the list.")] = None,
    bio: Annotated[Optional[str], typer.Option("--bio")] = None,
    min_notice_hours: Annotated[Optional[float], typer.Option("--min-notice-hours")] = None,
    horizon_days: Annotated[Optional[int], typer.Option("--horizon-days")] = None,
    buffer_before: Annotated[Optional[int], typer.Option("--buffer-before")] = None,
    buffer_after: Annotated[Optional[int], typer.Option("--buffer-after")] = None,
    durations: Annotated[Optional[str], typer.Option("--durations")] = None,
    slot_step: Annotated[Optional[int], typer.Option("--slot-step")] = None,
    activate: Annotated[bool, typer.Option("--activate", help="Take bookings again.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Change a coach's profile or booking settings."""
    changes = {
        "name": name,
        "timezone": timezone,
        "rate": rate,
        "currency": currency,
        "specialties": specialty,
        "bio": bio,
        "min_notice_minutes": None
        if min_notice_hours is None
        else _minutes_of_hours("min_notice_hours", min_notice_hours),
        "horizon_days": horizon_days,
        "buffer_before_minutes": buffer_before,
        "buffer_after_minutes": buffer_after,
        "durations": parse_durations(durations),
        "slot_step_minutes": slot_step,
        "is_active": True if activate else None,
    }
    changes = {k: val for k, val in changes.items() if val is not None}
    if not changes:
        raise InvalidInput("options", "nothing to update: give at least one option")
    updated = run(lambda c: catalog.update_coach(c.ctx, coach, **changes))
    emit(coach_json(updated)) if as_json else typer.echo(f"coach {updated.id} updated")


@app.command("deactivate")
def coach_deactivate(coach: int) -> None:
    """Stop new bookings for a coach (existing sessions stay)."""
    run(lambda c: catalog.update_coach(c.ctx, coach, is_active=False))
    typer.echo(f"coach {coach} deactivated")


def _minutes_of_hours(field: str, hours: float) -> int:
    minutes = hours * 60
    if minutes != int(minutes) or minutes < 0:
        raise InvalidInput(field, f"expected a non-negative whole number of minutes, got {hours} h")
    return int(minutes)


@app.command("link-slack")
def coach_link_slack(
    coach_id: Annotated[int, typer.Argument(metavar="COACH")],
    slack_user_id: Annotated[str, typer.Argument(metavar="SLACK_USER_ID", help="e.g. U012AB3CD")],
    team: Annotated[
        Optional[str],
        typer.Option(
            "--team",
            help="The coach's Slack workspace (team id, e.g. T012AB3CD); needed only when the app is "
            "installed in several workspaces (SLACK_CLIENT_ID).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Link a coach to their Slack user (replaces an earlier link)."""

    async def link(c: Container) -> Coach:
        workspace = await _link_team(c, team)
        return await coach_accounts.link_slack(c.ctx, coach_id, slack_user_id, workspace)

    coach = run(link)
    if as_json:
        emit(coach_json(coach))
    else:
        where = f" in workspace {coach.slack_team_id}" if coach.slack_team_id else ""
        typer.echo(f"coach {coach.id} ({coach.name}) is linked to Slack user {coach.slack_user_id}{where}")


async def _link_team(c: Container, team: str | None) -> str | None:
    """The workspace to record: as given; with a bot token, none (the token's); with OAuth, the one
    installed workspace, and a given one must be installed."""
    settings = c.settings
    if not settings.slack_oauth_enabled or settings.slack_client_id is None:
        return coach_accounts.checked_slack_team_id(team)
    from bot.settings import SLACK_INSTALL_PATH
    from storage.slack_installations import installed_teams

    installed = await installed_teams(c.db.engine, settings.slack_client_id)
    if team is not None:
        team = coach_accounts.checked_slack_team_id(team)
        if team not in installed:
            found = ", ".join(installed) or "none yet"
            raise InvalidInput("team", f"the Slack app is not installed in workspace {team} (installed: {found})")
        return team
    if not installed:
        install = settings.public_base_url.rstrip("/") + SLACK_INSTALL_PATH
        raise InvalidInput("team", f"no workspace has installed the Slack app yet; install it from {install}")
    if len(installed) > 1:
        raise InvalidInput("team", f"the app is installed in several workspaces ({', '.join(installed)}): give --team")
    return installed[0]


@app.command("invite")
def coach_invite(
    coach_id: Annotated[int, typer.Argument(metavar="COACH")],
    as_json: JsonOpt = False,
) -> None:
    """A one-time code the coach types as `/coach link CODE` in Slack to link themselves (valid 7 days)."""
    code = run(lambda c: coach_accounts.invite(c.ctx, coach_id))
    if as_json:
        emit({"coach_id": coach_id, "code": code, "valid_days": coach_accounts.INVITE_VALID.days})
    else:
        typer.echo(
            f"{code}\nThe coach types /coach link {code} in Slack (valid {coach_accounts.INVITE_VALID.days} days, once)."
        )
