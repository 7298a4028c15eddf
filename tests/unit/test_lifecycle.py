"""The scheduler's status transitions, reminders, materials and author settings."""

from datetime import timedelta

import pytest

from booking import bookings, cancellation, catalog, lifecycle, materials, rescheduling, slots
from booking.errors import InvalidInput, InvalidTransition, NotAllowed
from booking.model import Actor, SessionStatus
from tests.unit.test_use_cases import THU_10, WED_10, world


async def test_statuses_advance_at_the_start_and_after_the_end_plus_grace():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    assert await lifecycle.advance_statuses(w.ctx) == 0

    w.clock.set(WED_10)
    assert await lifecycle.advance_statuses(w.ctx) == 1
    assert w.store.sessions[s.id].status is SessionStatus.IN_PROGRESS

    w.clock.set(WED_10 + timedelta(minutes=60 + 14))
    assert await lifecycle.advance_statuses(w.ctx) == 0
    w.clock.set(WED_10 + timedelta(minutes=60 + 15))
    assert await lifecycle.advance_statuses(w.ctx) == 1
    assert w.store.sessions[s.id].status is SessionStatus.COMPLETED
    assert w.store.coaches[w.coach.id].total_sessions == 1
    assert [m.kind for m in w.store.outbox if m.session_id == s.id and m.recipient == "author"][-1] == "rating_prompt"
    assert await lifecycle.advance_statuses(w.ctx) == 0  # nothing happens twice


async def test_a_session_found_long_after_its_end_goes_straight_to_completed():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    w.clock.set(WED_10 + timedelta(days=1))
    assert await lifecycle.advance_statuses(w.ctx) == 1
    assert w.store.sessions[s.id].status is SessionStatus.COMPLETED


async def test_rescheduling_schedules_reminders_for_the_new_time():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await rescheduling.reschedule(w.ctx, s.id, THU_10)
    reminders = [m for m in w.store.outbox if m.session_id == s.id and m.kind == "reminder" and m.recipient == "author"]
    assert {m.payload["starts_at"] for m in reminders} == {WED_10.isoformat(), THU_10.isoformat()}
    assert sorted(m.due_at for m in reminders if m.payload["starts_at"] == THU_10.isoformat()) == [
        THU_10 - timedelta(days=1),
        THU_10 - timedelta(hours=1),
    ]


async def test_reminder_preferences_are_validated_and_used():
    w = await world()
    with pytest.raises(InvalidInput) as info:
        await catalog.update_author(w.ctx, w.author.id, reminder_minutes=[1])
    assert info.value.field == "reminder_minutes"
    await catalog.update_author(w.ctx, w.author.id, reminder_minutes=[30], timezone="asia/tokyo")
    assert w.store.authors[w.author.id].timezone == "Asia/Tokyo"
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    assert [
        m.payload["minutes_before"]
        for m in w.store.outbox
        if m.session_id == s.id and m.kind == "reminder" and m.recipient == "author"
    ] == [30]


async def test_materials_are_shared_by_the_two_parties_only():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await materials.add_material(
        w.ctx, s.id, by=Actor.AUTHOR, actor_id=w.author.id, kind="manuscript", title="Chapter 1", file_ref="tg:file:abc"
    )
    await materials.add_material(
        w.ctx,
        s.id,
        by=Actor.COACH,
        actor_id=w.coach.id,
        kind="homework",
        title="Exercises",
        content="Rewrite the opening.",
    )
    with pytest.raises(NotAllowed):
        await materials.add_material(
            w.ctx, s.id, by=Actor.AUTHOR, actor_id=w.other.id, kind="notes", title="x", content="y"
        )
    with pytest.raises(NotAllowed):
        await materials.materials(w.ctx, s.id, by=Actor.AUTHOR, actor_id=w.other.id)
    with pytest.raises(InvalidInput) as info:
        await materials.add_material(
            w.ctx, s.id, by=Actor.AUTHOR, actor_id=w.author.id, kind="poem", title="x", content="y"
        )
    assert info.value.field == "kind"
    with pytest.raises(InvalidInput) as info:
        await materials.add_material(w.ctx, s.id, by=Actor.AUTHOR, actor_id=w.author.id, kind="notes", title="x")
    assert info.value.field == "content"

    shared = await materials.materials(w.ctx, s.id, by=Actor.COACH, actor_id=w.coach.id)
    assert [(m.uploaded_by, m.title) for m in shared] == [(Actor.AUTHOR, "Chapter 1"), (Actor.COACH, "Exercises")]
    assert [m.kind for m in w.store.outbox if m.kind == "material_shared"] == ["material_shared"] * 2

    await cancellation.cancel(w.ctx, s.id, by=Actor.COACH)
    with pytest.raises(InvalidTransition):
        await materials.add_material(
            w.ctx, s.id, by=Actor.AUTHOR, actor_id=w.author.id, kind="notes", title="x", content="y"
        )


async def test_author_lookup_by_telegram_id():
    w = await world()
    author = await catalog.add_author(w.ctx, name="Tg", timezone="UTC", telegram_id=4242)
    assert (await catalog.author_by_telegram(w.ctx, 4242)).id == author.id
    assert await catalog.author_by_telegram(w.ctx, 999_999) is None


async def test_slots_can_treat_a_session_s_own_time_as_free_for_rescheduling():
    w = await world(slot_step_minutes=30)
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    day = (WED_10.replace(hour=0), WED_10.replace(hour=23))
    taken = {x.start for x in await slots.slots(w.ctx, w.coach.id, *day)}
    freed = {x.start for x in await slots.slots(w.ctx, w.coach.id, *day, exclude=s.id)}
    half_past = WED_10 + timedelta(minutes=30)
    assert WED_10 not in taken and half_past not in taken
    assert {WED_10, half_past} <= freed
    assert (await rescheduling.reschedule(w.ctx, s.id, half_past)).starts_at == half_past


async def test_moving_a_session_away_and_back_leaves_one_set_of_reminders():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await rescheduling.reschedule(w.ctx, s.id, THU_10)
    await rescheduling.reschedule(w.ctx, s.id, WED_10)
    pending = [
        (m.kind, m.payload.get("minutes_before"))
        for m in w.store.outbox
        if m.session_id == s.id and m.kind in ("reminder", "starting_now") and m.sent_at is None
        if m.recipient == "author"
    ]
    assert sorted(pending, key=str) == sorted([("reminder", 1440), ("reminder", 60), ("starting_now", None)], key=str)


async def test_cancelling_drops_the_pending_reminders():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await cancellation.cancel(w.ctx, s.id, by=Actor.COACH)
    assert not [m for m in w.store.outbox if m.session_id == s.id and m.kind == "reminder" and m.sent_at is None]


async def test_a_coach_no_show_can_be_recorded_after_the_scheduler_completed_the_session():
    w = await world(payments=True)
    held = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await bookings.confirm_payment(w.ctx, held.id, amount=held.price_amount, payment_ref="pi_1")
    w.clock.set(WED_10 + timedelta(hours=3))
    await lifecycle.advance_statuses(w.ctx)
    assert w.store.sessions[held.id].status is SessionStatus.COMPLETED

    out = await lifecycle.no_show(w.ctx, held.id, who=Actor.COACH)
    assert out.status is SessionStatus.NO_SHOW and out.amount_refunded == held.price_amount
    assert w.store.coaches[w.coach.id].total_sessions == 0


async def test_a_rated_session_cannot_become_a_no_show():
    w = await world()
    s = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    w.clock.set(WED_10 + timedelta(hours=3))
    await lifecycle.advance_statuses(w.ctx)
    await lifecycle.rate(w.ctx, s.id, author_id=w.author.id, stars=4)
    with pytest.raises(InvalidTransition):
        await lifecycle.no_show(w.ctx, s.id, who=Actor.COACH)
