"""Getting replies out through a messenger's outages, whatever the medium: the retry budget, deadlines and a
bounded shutdown for the work in hand, and a window of recent event ids so that no event is answered twice.

The contract (README.md, "Delivery"):
- A call that fails for a reason that may pass (rate limit, 5xx, a dropped connection, an unreadable answer) is
  tried again, after the wait the messenger asks for or with exponential backoff, until ``RetryPolicy.budget``
  (minutes) is spent or the event's deadline comes, whichever is first. A call that failed for good (the user
  blocked the bot, the chat is gone) is dropped at once.
- A webhook event has a deadline below the reverse proxy's read timeout (``WEBHOOK_DEADLINE``). When a reply
  could not be delivered by then, the event is answered non-2xx so that the messenger delivers it again later;
  the steps that did go out (``once``) are remembered by event id and not repeated when it comes back.
- At SIGTERM the work in hand gets ``SHUTDOWN_GRACE`` seconds; what is still running then is cancelled, and a
  webhook event it belonged to is answered non-2xx (delivered again to the next worker).
- A deadline (or the end of the grace) is soft: no retry waits past it, and each call's own timeout is cut to
  the time left, so that a call is not cancelled halfway (a message that went out and is then sent again). Work
  still running ``OVERRUN`` seconds later (a stalled handler) is cancelled.

Nothing here holds personal data: event ids are the messenger's sequence numbers or random ids; the window of
handled ones is ``recent.RecentIds`` (keyed hashes, shared with LINE), and only the few unfinished ones are kept
as they are, with the numbers of their steps done.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.channels.recent import RecentIds

__all__ = [
    "OVERRUN",
    "RECENT_EVENTS",
    "SHUTDOWN_GRACE",
    "WEBHOOK_DEADLINE",
    "Handling",
    "MaybeDelivered",
    "Progress",
    "RecentEvents",
    "RetryPolicy",
    "Undelivered",
    "defer",
    "first_attempt",
    "once",
    "pause",
    "time_left",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

# A webhook event is answered within this many seconds: below deploy/nginx.conf's proxy_read_timeout (60 s), so
# the proxy never gives up first and passes the same event to another worker (tests/test_deploy.py checks it).
WEBHOOK_DEADLINE = 50.0
# At SIGTERM, the work in hand gets this long to finish; below the 15 s the deploy files give a worker to stop.
SHUTDOWN_GRACE = 5.0
OVERRUN = 3.0  # work still running this long after its deadline is cancelled: 53 s for a webhook event, 8 s at SIGTERM
RECENT_EVENTS = 10_000  # handled event ids remembered per worker (10,000 to 20,000): minutes of a busy bot


class Undelivered(Exception):
    """A message the retries could not deliver in the time there was; the event should be handled again later."""


class MaybeDelivered(Exception):
    """A message whose call got no answer in time: it may have gone out, so it is not simply sent again."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long a failing call is tried again. Waits double from ``backoff`` up to ``max_delay``; a rate limit's
    own wait is kept whatever its length, as long as it fits. ``scale`` multiplies every wait and the budget:
    1 in production; tests run the same policy on a faster clock."""

    budget: float = 300.0  # seconds from a call's first try after which it is given up
    backoff: float = 0.5
    max_delay: float = 30.0
    scale: float = 1.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1, 2, ...)."""
        wait = retry_after if retry_after is not None else min(self.max_delay, self.backoff * 2.0 ** (attempt - 1))
        return max(0.0, wait) * self.scale

    def wait(self, attempt: int, started: float, retry_after: float | None = None) -> float | None:
        """The wait before the next try, or None when the budget (from ``started``, ``time.monotonic()``) or the
        current event's deadline would pass before it ends: give up now rather than wait for nothing."""
        delay = self.delay(attempt, retry_after)
        now = time.monotonic()
        if now + delay > started + self.budget * self.scale:
            return None
        left = time_left()
        return None if left is not None and delay >= left else delay


@dataclass
class Progress:
    """How far the handling of one event got: which of its steps (messages sent, numbered in order) are done."""

    done: set[int] = field(default_factory=set)  # steps done, by this attempt or earlier ones
    attempt: int = 1
    passed: int = 0  # steps reached in this attempt
    deferred: bool = False  # ``defer`` was called: not handled, whatever the work returned


_PROGRESS: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("anshin_progress", default=None)
@dataclass(frozen=True)
class _Scope:
    timeout: asyncio.Timeout  # cancels the work at its deadline plus ``overrun``
    overrun: float
    stopped: asyncio.Event  # set at SIGTERM: retry waits wake up


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("anshin_scope", default=None)


async def once(step: Callable[[], Awaitable[T]]) -> T | None:
    """Run one outgoing step of the current event unless an earlier attempt at the event did it. A step that
    raises ``Undelivered`` is not done: the next attempt runs it again."""
    progress = _PROGRESS.get()
    if progress is None:
        return await step()
    progress.passed += 1
    number = progress.passed
    if number in progress.done:
        return None
    result = await step()
    progress.done.add(number)
    return result


def first_attempt() -> bool:
    """False while an event is being handled again (redelivered): count it once."""
    progress = _PROGRESS.get()
    return progress is None or progress.attempt == 1


def defer() -> bool:
    """Mark the current event as not handled (a reply could not go out in time) so that it comes again: True when
    the messenger will deliver it again (a webhook's event), False when it will not (a polled one: it is lost)."""
    progress = _PROGRESS.get()
    if progress is None:
        return False
    progress.deferred = True
    return True


async def pause(delay: float) -> bool:
    """Wait ``delay`` seconds before trying a call again: True when the wait is over; False when a shutdown began
    meanwhile and the rest of the wait would not end before the grace does (give up now)."""
    scope = _SCOPE.get()
    if scope is None:
        await asyncio.sleep(delay)
        return True
    loop = asyncio.get_running_loop()
    until = loop.time() + delay
    if not scope.stopped.is_set():
        try:
            async with asyncio.timeout(delay):
                await scope.stopped.wait()
        except TimeoutError:
            return True
    rest, left = until - loop.time(), time_left()
    if left is not None and rest >= left:
        return False
    await asyncio.sleep(max(0.0, rest))
    return True


def time_left() -> float | None:
    """Seconds until the current event's deadline (or the end of the shutdown grace); None: no deadline. A call
    starts only with time left, and waits for its answer at most that long."""
    scope = _SCOPE.get()
    when = scope.timeout.when() if scope is not None else None
    return None if when is None or scope is None else when - scope.overrun - asyncio.get_running_loop().time()


class Handling:
    """The work in hand (a webhook request, a polled update): each piece under an optional deadline, and all of it
    given ``grace`` seconds once ``stop`` is called (SIGTERM). Deadlines are soft (``time_left``); a piece still
    running ``overrun`` seconds after its deadline is cancelled."""

    def __init__(self, deadline: float | None = None, grace: float = SHUTDOWN_GRACE, overrun: float = OVERRUN) -> None:
        self.deadline = deadline
        self.grace = grace
        self.overrun = overrun
        self.abandoned = 0  # pieces cancelled after their deadline or at shutdown
        self._scopes: set[asyncio.Timeout] = set()
        self._stop_at: float | None = None
        self._idle: asyncio.Event | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def stopping(self) -> bool:
        return self._stop_at is not None

    async def run(self, work: Awaitable[None]) -> bool:
        """Await ``work``: True when it finished (its exceptions propagate), False when it was cancelled after its
        deadline or at the end of the shutdown grace. Work already under a deadline runs as it is."""
        if _SCOPE.get() is not None:
            await work
            return True
        loop = asyncio.get_running_loop()
        ends = [end for end in (self._stop_at, None if self.deadline is None else loop.time() + self.deadline)
                if end is not None]
        timeout = asyncio.timeout_at(min(ends) + self.overrun if ends else None)
        if self._stopped is None:
            self._stopped = asyncio.Event()
        token = _SCOPE.set(_Scope(timeout, self.overrun, self._stopped))
        self._scopes.add(timeout)
        try:
            async with timeout:
                await work
            return True
        except TimeoutError:
            if not timeout.expired():
                raise  # a timeout of the work's own
            self.abandoned += 1
            return False
        finally:
            _SCOPE.reset(token)
            self._scopes.discard(timeout)
            if not self._scopes and self._idle is not None:
                self._idle.set()

    def stop(self) -> None:
        """From now on, no piece of work runs past ``grace`` seconds from now (plus ``overrun`` if it must be
        cancelled)."""
        if self._stop_at is not None:
            return
        self._stop_at = asyncio.get_running_loop().time() + self.grace
        if self._stopped is not None:
            self._stopped.set()
        for timeout in self._scopes:
            when = timeout.when()
            timeout.reschedule(self._stop_at + self.overrun if when is None else
                               min(when, self._stop_at + self.overrun))

    async def drain(self) -> None:
        """``stop``, then wait until every piece of work has finished or been cancelled (at most ``grace`` plus
        ``overrun``)."""
        self.stop()
        if self._scopes:
            self._idle = asyncio.Event()
            await self._idle.wait()


class RecentEvents:
    """Each event handled once per worker: the ids of the last ``size`` events handled (``RecentIds``), those being
    handled now, and how far the unfinished ones got. A webhook asks ``handle`` and answers 2xx for True, non-2xx
    for False."""

    def __init__(self, handling: Handling, size: int = RECENT_EVENTS) -> None:
        self.handling = handling
        self.size = size
        self._done = RecentIds(size)
        # id -> (steps done, attempts so far) of the events not yet handled
        self._partial: OrderedDict[Hashable, tuple[tuple[int, ...], int]] = OrderedDict()
        self._running: dict[Hashable, asyncio.Future[bool]] = {}

    def __len__(self) -> int:
        return len(self._done) + len(self._partial)

    async def handle(self, event_id: Hashable, work: Callable[[], Awaitable[None]]) -> bool:
        """True when the event has been handled, now or before (answer 2xx); False when it has not been yet
        (a reply undelivered at the deadline, the worker stopping): answer non-2xx so that it comes again.
        The same id arriving while it is being handled waits for that handling's outcome."""
        if self._done.seen(str(event_id)):
            return True
        running = self._running.get(event_id)
        if running is not None:
            return await asyncio.shield(running)
        if self.handling.stopping:
            return False
        done, attempts = self._partial.pop(event_id, ((), 0))
        progress = Progress(done=set(done), attempt=attempts + 1)
        outcome: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._running[event_id] = outcome
        token = _PROGRESS.set(progress)
        finished = False
        try:
            finished = await self.handling.run(work()) and not progress.deferred
        except Undelivered:
            finished = False
        except BaseException:
            finished = True  # a bug or a cancellation: handling it again would not help
            raise
        finally:
            _PROGRESS.reset(token)
            del self._running[event_id]
            self._remember(event_id, finished, progress)
            outcome.set_result(finished)
        return finished

    def _remember(self, event_id: Hashable, finished: bool, progress: Progress) -> None:
        if finished:
            self._done.add(str(event_id))
            return
        self._partial[event_id] = (tuple(sorted(progress.done)), progress.attempt)
        if len(self._partial) > self.size:
            self._partial.popitem(last=False)  # the oldest: constant time
