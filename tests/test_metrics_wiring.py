"""/metrics on the web chat and the Telegram webhook server, served for real on 127.0.0.1."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.channels.telegram.aiogram_bot import create_bot, create_dispatcher, webhook_app
from bot.channels.web.app import create_app, metrics_app, start_web
from bot.engine import Engine, Event
from bot.metrics import ReachMetrics


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner, port = await start_web(app, "127.0.0.1", 0)
    return runner, f"http://127.0.0.1:{port}"


async def test_the_web_chat_counts_its_events_and_serves_metrics_on_an_address_of_their_own(
        fixture_engine: Engine) -> None:
    metrics = ReachMetrics.for_engine(fixture_engine, ["spring2027"])
    runner, base = await serve(create_app(fixture_engine, metrics=metrics))
    counters, counted = await serve(metrics_app(metrics))
    try:
        async with aiohttp.ClientSession() as session:
            for body in ('{"start": "p-ja-spring2027"}', '{"text": "Kanaria7731"}', '{"nope": 1}'):
                async with session.post(f"{base}/api/event", data=body,
                                        headers={"Content-Type": "application/json"}) as response:
                    await response.read()
            async with session.get(f"{base}/metrics") as response:
                assert response.status == 404, "the chat, safe to expose, does not publish the counters"
            async with session.get(f"{counted}/metrics") as response:
                assert response.status == 200
                text = await response.text()
    finally:
        await runner.cleanup()
        await counters.cleanup()
    assert 'anshin_starts_total{audience="parent",campaign="spring2027",locale="ja"} 1.0' in text
    assert 'anshin_errors_total{kind="bad_event"} 1.0' in text
    assert "Kanaria7731" not in text
    assert "_created" not in text, "no series holds the moment a label was first seen"


def test_no_counter_has_a_created_series(fixture_engine: Engine) -> None:
    """prometheus_client adds ``*_created`` (the time a label was first seen: for a rare screen, the moment one
    person opened it) unless told not to."""
    metrics = ReachMetrics.for_engine(fixture_engine)
    metrics.record(Event("start", "", "ja"), fixture_engine.handle(Event("start", "", "ja")))
    metrics.error("bad_event")
    text = metrics.exposition().decode()
    assert "anshin_topics_opened_total" in text and "anshin_errors_total" in text
    assert "_created" not in text


async def test_the_webhook_server_serves_metrics(fixture_engine: Engine) -> None:
    metrics = ReachMetrics.for_engine(fixture_engine)
    bot = create_bot("123456:" + "A" * 35, "http://127.0.0.1:9")
    app = webhook_app(create_dispatcher(fixture_engine, metrics=metrics), bot, "s" * 32, "/tg/hook", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 200
            assert "anshin_starts_total" in await response.text() or "anshin_starts" in await response.text()
    finally:
        await runner.cleanup()
        await bot.session.close()
