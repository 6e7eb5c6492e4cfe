"""The shipped guidance: every topic of the issue is reachable by pressing buttons, in every locale."""

from __future__ import annotations

from collections import deque

import pytest

from bot.engine import Engine, Event

TOPICS = {
    "teen": ["teen.meet", "teen.pictures", "teen.paid", "teen.posted", "teen.privacy", "teen.friend",
             "teen.happened"],
    "parent": ["parent.filtering", "parent.rules", "parent.first_phone", "parent.signs", "parent.victim"],
    "school": ["school.disclosure", "school.share"],
    "help": ["help.now", "help.home", "help.images", "help.talk", "help.violence", "help.legal", "help.suicide"],
}
FILTERING = ["parent.docomo", "parent.au", "parent.softbank", "parent.rakuten", "parent.ymobile", "parent.mvno",
             "parent.filter_iphone", "parent.filter_android", "parent.game_switch", "parent.game_ps",
             "parent.filter_wifi"]


def screens_reached_by_pressing(engine: Engine, lang: str) -> dict[str, int]:
    """Every screen a user reaches from /start by pressing buttons, with the fewest presses it takes."""
    [start] = engine.handle(Event("start", "", lang))
    depth = {start.screen: 0}
    queue = deque([(start, 0)])
    seen_ids: set[str] = set()
    while queue:
        reply, presses = queue.popleft()
        for button_id in reply.button_ids():
            if button_id in seen_ids:
                continue
            seen_ids.add(button_id)
            [after] = engine.handle(Event("press", button_id))
            if after.screen not in depth:
                depth[after.screen] = presses + 1
                queue.append((after, presses + 1))
    return depth


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_topic_is_reachable_from_the_start(shipped_engine: Engine, lang: str) -> None:
    reached = screens_reached_by_pressing(shipped_engine, lang)
    wanted = [screen for screens in TOPICS.values() for screen in screens] + FILTERING
    assert [screen for screen in wanted if screen not in reached] == []
    assert all(reached[screen] <= 2 for screen in TOPICS["teen"] + TOPICS["parent"]), "topics are two presses away"
    assert reached["help.now"] == 1, "'I need help now' is on the first screen"


def test_every_screen_is_reached_by_pressing(shipped_engine: Engine) -> None:
    reached = screens_reached_by_pressing(shipped_engine, "ja")
    event_screens = set(shipped_engine.content.events.values())
    assert sorted(set(shipped_engine.content.nodes) - set(reached) - event_screens) == []


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_screens_are_short_enough_for_a_phone(shipped_engine: Engine, lang: str) -> None:
    catalogs = shipped_engine.content.catalogs
    limit = 500 if lang == "ja" else 900  # English runs about 1.7 times longer than Japanese
    too_long = {key: len(catalogs.gettext(lang, node.text)) for key, node in shipped_engine.content.nodes.items()
                if len(catalogs.gettext(lang, node.text)) > limit}
    assert too_long == {}


def test_every_ending_names_a_service_that_fits(shipped_engine: Engine) -> None:
    """Screens with no buttons of their own end a path: they must name a service, not rely on the menu."""
    endings = [node for node in shipped_engine.content.nodes.values()
               if not node.buttons and not node.languages and node.key not in ("start.privacy",)]
    assert endings
    assert [node.key for node in endings if not node.referrals] == []


def test_danger_now_names_110_first(shipped_engine: Engine) -> None:
    assert shipped_engine.content.nodes["help.now"].referrals[0] == "police_emergency_110"

