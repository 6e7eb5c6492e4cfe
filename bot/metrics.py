"""Reach metrics without people: Prometheus counters whose labels come only from fixed, known sets.

Nothing here sees a user id, a chat id, a name or anything a user typed. ``record(event, replies)`` reads the
event's kind, the ``/start`` payload's campaign (kept only when it is a configured campaign code, else
``other``) and the engine's replies (screen keys, service ids, locales: all from the loaded content). Every
label value is checked against its fixed set before it is counted, so cardinality is bounded by the content.
Counters only: no timestamps per person (no ``*_created`` series either), no histograms of sessions.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, disable_created_metrics, generate_latest

from bot.engine import Engine, Event, Reply, parse_payload
from bot.safety.categories import CATEGORIES, CATEGORY_TOPIC

__all__ = [
    "AUDIENCE_LABELS",
    "CAMPAIGN_CODE",
    "CRISIS_LABELS",
    "ERROR_KINDS",
    "MAX_CAMPAIGNS",
    "ReachMetrics",
    "metrics_handler",
    "parse_campaigns",
]

OTHER, NONE = "other", "none"
AUDIENCE_LABELS = {"t": "teen", "p": "parent", "s": "school", "x": "unknown"}
CRISIS_LABELS = (*CATEGORIES, OTHER)
# delivery_failure: a message given up on (blocked, chat gone, or retries spent when no redelivery will come);
# delivery_deferred: a webhook update answered 503 because its reply could not go out in time (the messenger
# sends it again); delivery_unknown: a send that got no answer in time and so is not repeated;
# unreadable_update: an update the library could not read, skipped.
ERROR_KINDS = ("outdated_button", "bad_event", "delivery_failure", "delivery_deferred", "delivery_unknown",
               "rate_limited", "unreadable_update", OTHER)
CAMPAIGN_CODE = re.compile(r"^[A-Za-z0-9_]{1,48}$")
MAX_CAMPAIGNS = 100  # the known set is configuration; a bound keeps a typo'd list from growing the series
_TOPIC_CATEGORY = {topic: category for category, topic in CATEGORY_TOPIC.items()}
# Without this every labelled counter also has a ``*_created`` series: the moment its label was first seen, which
# for a rare screen is the moment one person opened it.
disable_created_metrics()  # type: ignore[no-untyped-call]


def parse_campaigns(text: str) -> frozenset[str]:
    """``ANSHIN_CAMPAIGNS``: comma-separated campaign codes counted by name; any other code counts as other."""
    codes = [code.strip() for code in text.split(",") if code.strip()]
    bad = [code for code in codes if not CAMPAIGN_CODE.match(code) or code in (OTHER, NONE)]
    if bad:
        raise ValueError(f"not a campaign code: {bad[0]!r} (letters, digits and _; not 'other' or 'none')")
    if len(set(codes)) > MAX_CAMPAIGNS:
        raise ValueError(f"{len(set(codes))} campaigns; at most {MAX_CAMPAIGNS} are counted by name")
    return frozenset(codes)


class ReachMetrics:
    """The counters, in their own registry; one per process, shared by every channel in it."""

    def __init__(self, screens: Iterable[str], services: Iterable[str], locales: Iterable[str],
                 campaigns: Iterable[str] = (), outdated_screen: str | None = None) -> None:
        self.screens = frozenset(screens)
        self.services = frozenset(services)
        self.locales = frozenset(locales)
        self.campaigns = parse_campaigns(",".join(campaigns))
        self.outdated_screen = outdated_screen
        self.registry = CollectorRegistry(auto_describe=True)
        self.starts = Counter("anshin_starts", "Conversations started, by campaign link, audience and language.",
                              ["campaign", "audience", "locale"], registry=self.registry)
        self.topics = Counter("anshin_topics_opened", "Screens shown, by screen key.", ["screen"],
                              registry=self.registry)
        self.referrals = Counter("anshin_referrals_shown", "Service cards shown, by service id.", ["service"],
                                 registry=self.registry)
        self.crisis = Counter("anshin_crisis_replies", "Replies to typed text that led with help, by category.",
                              ["category"], registry=self.registry)
        self.errors = Counter("anshin_errors", "Things that went wrong, by kind.", ["kind"], registry=self.registry)
        self._starts, self._topics, self._referrals, self._crisis, self._errors = (
            _Children(counter) for counter in (self.starts, self.topics, self.referrals, self.crisis, self.errors))

    @classmethod
    def for_engine(cls, engine: Engine, campaigns: Iterable[str] = ()) -> ReachMetrics:
        content = engine.content
        return cls(content.nodes, content.services, engine.locales, campaigns, content.events.get("outdated"))

    def label_sets(self) -> dict[str, frozenset[str]]:
        """Every value each label may take: what the tests hold the exposition to."""
        return {
            "campaign": self.campaigns | {OTHER, NONE},
            "audience": frozenset(AUDIENCE_LABELS.values()),
            "locale": self.locales | {OTHER},
            "screen": self.screens | {OTHER},
            "service": self.services,
            "category": frozenset(CRISIS_LABELS),
            "kind": frozenset(ERROR_KINDS),
        }

    def record(self, event: Event, replies: Sequence[Reply]) -> None:
        """Count one answered event. Reads no user text: only the event kind, a start payload's fields
        (each mapped into a fixed set) and the replies the engine built."""
        if event.kind == "start":
            request = parse_payload(event.value)
            campaign = request.campaign if request.valid else None
            locale = replies[0].locale if replies else OTHER
            self._starts.inc(
                (campaign if campaign in self.campaigns else OTHER) if campaign else NONE,
                AUDIENCE_LABELS.get(request.audience, "unknown") if request.valid else "unknown",
                locale if locale in self.locales else OTHER,
            )
        for reply in replies:
            self._topics.inc(reply.screen if reply.screen in self.screens else OTHER)
            for service in reply.referrals:
                if service in self.services:
                    self._referrals.inc(service)
            if event.kind == "press" and self.outdated_screen and reply.screen == self.outdated_screen:
                self.error("outdated_button")
            if event.kind == "text" and (reply.emergency or reply.crisis):
                self._crisis.inc(_TOPIC_CATEGORY.get(reply.screen, OTHER))

    def error(self, kind: str) -> None:
        self._errors.inc(kind if kind in ERROR_KINDS else OTHER)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _Children:
    """A counter's labelled children, each looked up once: ``labels()`` takes a lock and builds its key on
    every call. The label values are checked against fixed sets first, so this stays as small as they are."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.children: dict[tuple[str, ...], Counter] = {}

    def inc(self, *values: str) -> None:
        child = self.children.get(values)
        if child is None:
            child = self.children[values] = self.counter.labels(*values)
        child.inc()


def metrics_handler(metrics: ReachMetrics) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler for ``GET /metrics`` (Prometheus text format)."""

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return handle
