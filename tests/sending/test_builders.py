"""The message builder's lanes: a campaign whose template fails has each email fail with the reason, and
stops occupying the probes that time new campaigns; a quick one is built on the loop's own thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from app.recipient import Recipient
from app.sending import builders, sandbox
from app.sending.builders import INLINE_BUILD, CampaignSource, LaneBuilder
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


def test_a_quick_campaign_is_built_on_the_loops_own_thread_until_a_build_is_slow(
    builder: LaneBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newsletter builds in a fraction of a millisecond, less than the hop to a build thread and back:
    once a build on a thread has shown it, its next ones run right on the loop's thread; a build there
    that takes longer than `INLINE_BUILD` sends the campaign back to the threads."""
    quick = CampaignSource("Hello {{ name }}", "<p>Dear {{ name }}</p>", "")
    built_on: list[str] = []
    slow = False
    build_message = builders.build_message

    def recording(*args: object) -> bytes:
        built_on.append(
            "build thread" if threading.current_thread().name.startswith("sender-build") else "loop"
        )
        if slow:
            ends = time.thread_time() + INLINE_BUILD * 2
            while time.thread_time() < ends:
                pass
        return build_message(*args)  # type: ignore[arg-type]

    sender = Sender("me@sender.example")
    build_message(quick, sender, Recipient("first@rcpt.example", "", {}), "https://u", "<0@x>")  # compiled
    monkeypatch.setattr(builders, "build_message", recording)

    async def build(index: int) -> bytes:
        recipient = Recipient(f"r{index}@rcpt.example", "Reader", {})
        return await builder.build(quick, sender, recipient, "https://u", f"<{index}@x>")

    async def emails() -> None:
        nonlocal slow
        await build(0)  # timed in the probe lane, a process of its own: not recorded here
        for index in range(1, 4):
            await build(index)
        slow = True
        for index in range(4, 6):
            await build(index)

    run_sync(emails)
    assert built_on == ["build thread", "loop", "loop", "loop", "build thread"]
