"""The message builder's lanes when a campaign's template fails: each email fails with the reason, and
the campaign stops occupying the probes that time new campaigns."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from app.recipient import Recipient
from app.sending import sandbox
from app.sending.builders import CampaignSource, LaneBuilder
from app.sending.connection import run_sync
from app.sending.message import Sender
from app.sending.sandbox import RenderLimits, RenderRefused

LOOPING = CampaignSource(
    "Hello",
    "{% for a in code %}{% for b in code %}{% for c in code %}{% endfor %}{% endfor %}{% endfor %}",
    "",
)


@pytest.fixture
def builder() -> Iterator[LaneBuilder]:
    before = sandbox.current_limits()
    sandbox.configure(RenderLimits())  # the build processes get this process's limits
    lanes = LaneBuilder(2)
    yield lanes
    lanes.close()
    sandbox.configure(before)


def test_builds_waiting_on_a_failing_probe_each_fail_with_the_reason(builder: LaneBuilder) -> None:
    """Four emails of one campaign at once (the same content in four users' campaigns is one campaign to
    the lanes): the first is timed in the probe lane, the others wait for it and, as it failed, probe
    one after another; none may trip over another's probe."""

    async def build(index: int) -> BaseException | bytes:
        recipient = Recipient(f"r{index}@rcpt.example", "Reader", {"code": "x" * 5000})
        try:
            return await builder.build(
                LOOPING, Sender("me@sender.example"), recipient, "https://u", f"<{index}@x>"
            )
        except Exception as error:  # the test looks at each
            return error

    async def all_four() -> list[BaseException | bytes]:
        return await asyncio.gather(*(build(index) for index in range(4)))

    outcomes = run_sync(all_four)
    assert all(isinstance(outcome, RenderRefused) for outcome in outcomes), outcomes
    assert "took more than 0.2 s to render" in str(outcomes[0])
    assert builder.is_fast[LOOPING] is False
    assert builder.probing == {}
