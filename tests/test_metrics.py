"""Reach metrics: counters only, every label from a fixed set, nothing a user sent ever becomes a label."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from bot.engine import MEDIA_KINDS, Engine, Event
from bot.metrics import CRISIS_LABELS, ReachMetrics, metrics_handler, parse_campaigns

CANARY = "Kanaria7731"


def samples(metrics: ReachMetrics) -> list[tuple[str, dict[str, str], float]]:
    text = metrics.exposition().decode("utf-8")
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text)
            for s in family.samples if s.name.endswith("_total")]


def count(metrics: ReachMetrics, name: str, **labels: str) -> float:
    return sum(v for n, ls, v in samples(metrics) if n == name + "_total" and labels.items() <= ls.items())


def answer(engine: Engine, metrics: ReachMetrics, event: Event) -> None:
    metrics.record(event, engine.handle(event))


@pytest.fixture
def metrics(fixture_engine: Engine) -> ReachMetrics:
    return ReachMetrics.for_engine(fixture_engine, campaigns=["spring2027"])


@pytest.fixture
def shipped_metrics(shipped_engine: Engine) -> ReachMetrics:
    return ReachMetrics.for_engine(shipped_engine, campaigns=["spring2027"])


def test_a_campaign_start_is_counted_by_campaign_audience_and_locale(fixture_engine: Engine,
                                                                      metrics: ReachMetrics) -> None:
    answer(fixture_engine, metrics, Event("start", "p-ja-spring2027"))
    answer(fixture_engine, metrics, Event("start", "t-en-spring2027"))
    answer(fixture_engine, metrics, Event("start", f"p-ja-{CANARY}"))
    answer(fixture_engine, metrics, Event("start", ""))
    assert count(metrics, "anshin_starts", campaign="spring2027", audience="parent", locale="ja") == 1
    assert count(metrics, "anshin_starts", campaign="spring2027", audience="teen", locale="en") == 1
    assert count(metrics, "anshin_starts", campaign="other", audience="parent") == 1
    assert count(metrics, "anshin_starts", campaign="none", audience="unknown") == 1
    assert CANARY not in metrics.exposition().decode()


def test_topics_referrals_and_outdated_buttons_are_counted(fixture_engine: Engine, metrics: ReachMetrics) -> None:
    reply = fixture_engine.handle(Event("start", "t-ja"))[0]
    metrics.record(Event("start", "t-ja"), [reply])
    pictures = next(b.id for row in reply.buttons for b in row if b.id and b.id.endswith(":pictures"))
    assert pictures is not None
    answer(fixture_engine, metrics, Event("press", pictures))
    answer(fixture_engine, metrics, Event("press", "1:ja:t:teen.menu:nothing_here"))
    assert count(metrics, "anshin_topics_opened", screen="teen.menu") == 1
    assert count(metrics, "anshin_topics_opened", screen="teen.pictures") == 1
    shown = fixture_engine.handle(Event("press", pictures))[0].referrals
    assert shown and all(count(metrics, "anshin_referrals_shown", service=s) >= 1 for s in shown)
    assert count(metrics, "anshin_errors", kind="outdated_button") == 1


def test_a_crisis_reply_to_typed_text_is_counted_by_category_only(shipped_engine: Engine,
                                                                  shipped_metrics: ReachMetrics) -> None:
    metrics = shipped_metrics
    text = f"しにたい {CANARY}"
    replies = shipped_engine.handle(Event("text", text))
    assert replies[0].emergency  # the safety router's answer; if this changes, pick another phrase
    metrics.record(Event("text", text), replies)
    crisis = [(ls["category"], v) for n, ls, v in samples(metrics) if n == "anshin_crisis_replies_total"]
    assert crisis == [("suicide", 1.0)]
    assert CANARY not in metrics.exposition().decode()


def test_unknown_error_kinds_are_counted_as_other(metrics: ReachMetrics) -> None:
    metrics.error("bad_event")
    metrics.error(f"boom {CANARY}")
    assert count(metrics, "anshin_errors", kind="bad_event") == 1
    assert count(metrics, "anshin_errors", kind="other") == 1


def test_campaign_configuration_is_validated() -> None:
    assert parse_campaigns(" spring2027, newterm_2027 ,") == {"spring2027", "newterm_2027"}
    for bad in ("spring-2027", "other", "春"):
        with pytest.raises(ValueError):
            parse_campaigns(bad)
    with pytest.raises(ValueError):
        parse_campaigns(",".join(f"c{i}" for i in range(101)))


events = st.one_of(
    st.builds(Event, st.just("start"), st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                      "0123456789_-pts", max_size=64)),
    st.builds(Event, st.just("start"), st.sampled_from(["p", "t", "s", "x"]).flatmap(
        lambda a: st.tuples(st.sampled_from(["ja", "en", "fr", "zz"]), st.text(min_size=1, max_size=20)).map(
            lambda t: f"{a}-{t[0]}-{t[1]}"))),
    st.builds(Event, st.just("press"), st.text(max_size=80)),
    st.builds(Event, st.just("press"), st.tuples(
        st.sampled_from(["ja", "en", "ko"]), st.sampled_from("tpsxTPSX"), st.text(max_size=12),
        st.text(max_size=12)).map(lambda t: f"1:{t[0]}:{t[1]}:{t[2]}:{t[3]}")),
    st.builds(Event, st.just("text"), st.text(max_size=200)),
    st.builds(Event, st.just("media"), st.sampled_from(sorted(MEDIA_KINDS))),
    st.builds(Event, st.just("command"), st.sampled_from(["help", "language", "privacy", "cancel"])),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(events, min_size=1, max_size=20))
def test_fuzzed_events_only_ever_produce_labels_from_the_fixed_sets(fixture_engine: Engine,
                                                                    batch: list[Event]) -> None:
    metrics = ReachMetrics.for_engine(fixture_engine, campaigns=["spring2027"])
    for event in batch:
        answer(fixture_engine, metrics, event)
        metrics.error(event.value)
    allowed = metrics.label_sets()
    for name, labels, _ in samples(metrics):
        for label, value in labels.items():
            assert value in allowed[label], f"{name} {label}={value!r}"
    # Bounded: never more series than the fixed sets allow, whatever was sent.
    limit = len(allowed["campaign"]) * len(allowed["audience"]) * len(allowed["locale"]) + len(allowed["screen"]) \
        + len(allowed["service"]) + len(CRISIS_LABELS) + len(allowed["kind"])
    assert len(samples(metrics)) <= limit


def test_the_label_check_can_fail(metrics: ReachMetrics) -> None:
    metrics.topics.labels(screen=CANARY).inc()  # what the code must never do, done by hand
    allowed = metrics.label_sets()
    assert any(value not in allowed[label] for _, labels, _ in samples(metrics) for label, value in labels.items())


async def test_metrics_are_served_over_http(fixture_engine: Engine, metrics: ReachMetrics) -> None:
    answer(fixture_engine, metrics, Event("start", "s-ja-spring2027"))
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(metrics))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session, session.get(server.make_url("/metrics")) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            body = await response.text()
    finally:
        await server.close()
    assert 'anshin_starts_total{audience="school",campaign="spring2027",locale="ja"} 1.0' in body
