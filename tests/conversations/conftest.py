import pytest

from booking import catalog
from tests.conversations.harness import BERLIN, Harness, make_world


@pytest.fixture
async def make_bot():
    """Build a bot (optionally with payments on); each is checked for unexpected errors at the end."""
    started: list[Harness] = []

    async def build(*, payments_enabled: bool = False, world=None, states=None) -> Harness:
        world = world or await make_world(payments_enabled=payments_enabled)
        harness = await Harness(world, payments_enabled=payments_enabled, states=states).start()
        started.append(harness)
        return harness

    yield build
    for harness in started:
        await harness.stop()
        assert harness.unexpected_errors == []


@pytest.fixture
async def bot(make_bot) -> Harness:
    return await make_bot()


@pytest.fixture
async def paid_bot(make_bot) -> Harness:
    return await make_bot(payments_enabled=True)


async def author_for(harness: Harness, user, zone: str = BERLIN):
    return await catalog.add_author(harness.ctx, name=user.first_name, timezone=zone, telegram_id=user.id)
