"""Linking coaches to Slack users: by an admin, or by the coach with a one-time code."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking import catalog, coach_accounts
from booking.errors import InvalidInput, NotAllowed, NotFound
from tests.fakes import make_context


async def two_coaches():
    ctx, store, clock, _pay, _video = make_context()
    ada = await catalog.add_coach(ctx, name="Ada", timezone="UTC", rate=6000)
    bea = await catalog.add_coach(ctx, name="Bea", timezone="UTC", rate=6000)
    return ctx, store, clock, ada, bea


async def test_linking_replaces_the_coachs_earlier_user_and_finds_the_coach_by_user():
    ctx, store, _clock, ada, _bea = await two_coaches()
    await coach_accounts.link_slack(ctx, ada.id, "U111AAA")
    await coach_accounts.link_slack(ctx, ada.id, " U222BBB ")
    assert store.coaches[ada.id].slack_user_id == "U222BBB"
    assert (await coach_accounts.coach_for_slack_user(ctx, "U222BBB")).id == ada.id
    assert await coach_accounts.coach_for_slack_user(ctx, "U111AAA") is None


async def test_a_user_linked_to_one_coach_is_refused_for_another():
    ctx, store, _clock, ada, bea = await two_coaches()
    await coach_accounts.link_slack(ctx, ada.id, "U111AAA")
    with pytest.raises(NotAllowed, match="already linked to coach"):
        await coach_accounts.link_slack(ctx, bea.id, "U111AAA")
    assert store.coaches[bea.id].slack_user_id is None


@pytest.mark.parametrize("bad", ["", "hello", "C0123ABC", "u123abc"])
async def test_a_value_that_is_not_a_slack_user_id_names_the_field(bad):
    ctx, _store, _clock, ada, _bea = await two_coaches()
    with pytest.raises(InvalidInput) as info:
        await coach_accounts.link_slack(ctx, ada.id, bad)
    assert info.value.field == "slack_user_id"


async def test_an_unknown_coach_is_not_found():
    ctx, *_ = await two_coaches()
    with pytest.raises(NotFound):
        await coach_accounts.link_slack(ctx, 999, "U111AAA")


async def test_an_invite_code_links_whoever_redeems_it_once():
    ctx, store, _clock, ada, _bea = await two_coaches()
    code = await coach_accounts.invite(ctx, ada.id)
    assert code not in str(store.coaches[ada.id].slack_invite_hash)  # only its hash is kept
    typed = f"{code[:5].lower()}-{code[5:]}"  # people type codes loosely
    coach = await coach_accounts.redeem_invite(ctx, typed, "U333CCC")
    assert coach.id == ada.id and store.coaches[ada.id].slack_user_id == "U333CCC"
    with pytest.raises(InvalidInput, match="not valid") as info:
        await coach_accounts.redeem_invite(ctx, code, "U444DDD")
    assert info.value.field == "code"
    assert store.coaches[ada.id].slack_user_id == "U333CCC"


async def test_a_new_invite_replaces_the_old_one_and_codes_expire():
    ctx, _store, clock, ada, _bea = await two_coaches()
    first = await coach_accounts.invite(ctx, ada.id)
    second = await coach_accounts.invite(ctx, ada.id)
    with pytest.raises(InvalidInput):
        await coach_accounts.redeem_invite(ctx, first, "U333CCC")
    clock.set(clock.now() + coach_accounts.INVITE_VALID + timedelta(seconds=1))
    with pytest.raises(InvalidInput, match="expired"):
        await coach_accounts.redeem_invite(ctx, second, "U333CCC")


async def test_an_invite_cannot_take_a_user_already_acting_for_another_coach():
    ctx, store, _clock, ada, bea = await two_coaches()
    await coach_accounts.link_slack(ctx, bea.id, "U333CCC")
    code = await coach_accounts.invite(ctx, ada.id)
    with pytest.raises(NotAllowed):
        await coach_accounts.redeem_invite(ctx, code, "U333CCC")
    assert store.coaches[ada.id].slack_user_id is None
    assert (await coach_accounts.redeem_invite(ctx, code, "U555EEE")).slack_user_id == "U555EEE"  # still usable


async def test_an_admins_link_voids_a_pending_invite():
    ctx, store, _clock, ada, _bea = await two_coaches()
    code = await coach_accounts.invite(ctx, ada.id)
    await coach_accounts.link_slack(ctx, ada.id, "U111AAA")
    with pytest.raises(InvalidInput):
        await coach_accounts.redeem_invite(ctx, code, "U999ZZZ")
    assert store.coaches[ada.id].slack_user_id == "U111AAA"
