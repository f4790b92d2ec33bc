"""Where a batch's messages are built: rendering a campaign's templates for one recipient, serialised.

A template can be slow to render (loops over long merge values): rendered on a thread of the worker's
own process, it would hold Python's interpreter lock and slow every other account's sending down with
it (measured: an account due every 0.5 s went out every 0.8 s beside three campaigns taking 1.3 s a
render). So `LaneBuilder` renders a campaign it has not seen yet in a process of its own (the probe
lane) and times it: a campaign fast to render goes on in the fast lane, threads of this process, with
no copying between processes; a slow one in a process of its own (the slow lane), where it waits
only behind other slow campaigns. A fast campaign whose builds take less than `INLINE_BUILD` is built
right on the loop's thread: the hop to a build thread and back costs more than such a build.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol

from jinja2 import TemplateError

from app.recipient import Recipient
from app.sending import sandbox
from app.sending.message import Sender, compiled_template

#: CPU seconds a build may take and still run in the fast lane (CPU time, not wall time: on a busy
#: machine a quick build can take longer than this by the clock, and would be sent to the slow lane).
FAST_BUILD = 0.02
#: CPU seconds under which a fast campaign's build runs on the loop's own thread: the hop to a build
#: thread and back cost 0.1 ms of CPU and 0.2 ms of wall time here, a newsletter's build 0.17 ms, and
#: a build this short holds the other accounts up no longer than a build thread holding the
#: interpreter lock would. One that takes longer goes back to the threads.
INLINE_BUILD = 0.001
#: Processes timing the first build of campaigns new to this worker (a thousand new campaigns at once
#: are timed two at a time, beside the worker's own process).
PROBES = 2
#: How many campaigns' lanes a worker remembers (each is a few bytes and its campaign's text).
REMEMBERED = 4096


@dataclass(frozen=True)
class CampaignSource:
    """A campaign's templates as the user wrote them; also how a lane knows the campaign again."""

    subject: str
    html_body: str
    text_body: str
    preheader: str = ""


def build_message(
    source: CampaignSource, sender: Sender, recipient: Recipient, unsubscribe_url: str, message_id: str
) -> bytes:
    """The serialised message for one recipient (raises `TemplateError` or `ValueError` if it can't be
    built; `sandbox.RenderRefused`, a `TemplateError`, when a part passes the render limits)."""
    template = compiled_template(source.subject, source.html_body, source.text_body, source.preheader)
    return template.build(sender, recipient, unsubscribe_url, message_id)


def timed_build(
    source: CampaignSource, sender: Sender, recipient: Recipient, unsubscribe_url: str, message_id: str
) -> tuple[bytes, float]:
    started = time.thread_time()
    message = build_message(source, sender, recipient, unsubscribe_url, message_id)
    return message, time.thread_time() - started


def ready() -> bool:
    """Nothing to build: a new build process has started and imported this module."""
    return True


class Builder(Protocol):
    async def build(
        self,
        source: CampaignSource,
        sender: Sender,
        recipient: Recipient,
        unsubscribe_url: str,
        message_id: str,
    ) -> bytes: ...


class InlineBuilder:
    """Builds right here, in the loop's thread (one batch run on its own: tests, benchmarks)."""

    async def build(
        self,
        source: CampaignSource,
        sender: Sender,
        recipient: Recipient,
        unsubscribe_url: str,
        message_id: str,
    ) -> bytes:
        return build_message(source, sender, recipient, unsubscribe_url, message_id)


class LaneBuilder:
    """Fast campaigns on threads of this process, new and slow ones in processes of their own."""

    def __init__(self, threads: int) -> None:
        self.fast = ThreadPoolExecutor(threads, thread_name_prefix="sender-build")
        # A fresh interpreter for each child (forkserver), not a fork of this many-threaded process.
        self.context = multiprocessing.get_context("forkserver")
        self.probe = self._processes(PROBES)
        self.slow = self._processes(1)
        self.is_fast: dict[CampaignSource, bool] = {}
        #: The fast campaigns whose last build took less than `INLINE_BUILD`.
        self.inline: set[CampaignSource] = set()
        self.probing: dict[CampaignSource, asyncio.Future[None]] = {}

    async def build(
        self,
        source: CampaignSource,
        sender: Sender,
        recipient: Recipient,
        unsubscribe_url: str,
        message_id: str,
    ) -> bytes:
        loop = asyncio.get_running_loop()
        args = (source, sender, recipient, unsubscribe_url, message_id)
        # The same campaign's first build is being timed: wait for its lane. Several builds may wait on
        # one probe; if it ends without a lane (its build failed), the first of them to wake probes next.
        while (probing := self.probing.get(source)) is not None:
            await asyncio.shield(probing)
        fast = self.is_fast.get(source)
        if fast:
            if source in self.inline:
                message, seconds = timed_build(*args)
            else:
                message, seconds = await loop.run_in_executor(self.fast, timed_build, *args)
            if seconds < INLINE_BUILD:
                self.inline.add(source)
            else:
                self.inline.discard(source)
            return message
        if fast is None:
            return await self._probe(source, args)
        message, _ = await self._in_process(self.slow, args)
        return message

    async def _probe(self, source: CampaignSource, args: tuple[Any, ...]) -> bytes:
        """Build in the probe lane, time it, and remember the campaign's lane. A campaign whose build
        fails (a template stopped by its render limits, say) goes to the slow lane: its next emails
        may fail the same way, and should not keep the probes from timing new campaigns."""
        done = self.probing[source] = asyncio.get_running_loop().create_future()
        try:
            message, seconds = await self._in_process(self.probe, args)
            self._remember(source, seconds < FAST_BUILD)
            return message
        except TemplateError:
            self._remember(source, False)
            raise
        finally:
            del self.probing[source]
            done.set_result(None)

    def _remember(self, source: CampaignSource, fast: bool) -> None:
        if len(self.is_fast) >= REMEMBERED:
            self.is_fast.clear()
            self.inline.clear()
        self.is_fast[source] = fast

    async def _in_process(self, lane: ProcessPoolExecutor, args: tuple[Any, ...]) -> tuple[bytes, float]:
        try:
            return await asyncio.get_running_loop().run_in_executor(lane, timed_build, *args)
        except BrokenProcessPool:
            self._replace(lane)
            raise

    def _processes(self, count: int) -> ProcessPoolExecutor:
        """A lane of `count` processes, rendering within this process's limits."""
        limits = sandbox.current_limits()
        return ProcessPoolExecutor(
            count, mp_context=self.context, initializer=sandbox.configure, initargs=(limits,)
        )

    def warm_up(self) -> None:
        """Start the build processes now (a second or so each), not on the first email of the day."""
        for lane, processes in ((self.probe, PROBES), (self.slow, 1)):
            for _ in range(processes):
                lane.submit(ready)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """A lane whose process died (killed, or unable to start) gets a new one for the next build."""
        if broken is self.probe:
            self.probe = self._processes(PROBES)
        else:
            self.slow = self._processes(1)
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        for executor in (self.fast, self.probe, self.slow):
            executor.shutdown(wait=False, cancel_futures=True)
