"""`anshin line setup` against the fake LINE API: the rich menus come from the content, every request keeps to
messaging-api.yml, and a second run changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from io import BytesIO

import pytest
from PIL import Image

from bot.channels.line.richmenu import apply_plans
from bot.engine import Engine, Event, decode_button
from bot.ops.richmenu import DOORS, LANGUAGE_ALIAS, MenuPlan, alias_for, plan_menus
from tests.fakes.line_api import ACCESS_TOKEN, FakeLineAPI


@pytest.fixture(scope="module")
def plans(shipped_engine: Engine) -> list[MenuPlan]:
    try:
        return plan_menus(shipped_engine)
    except Exception as error:  # no Japanese font: .ci/run installs fonts-noto-cjk
        pytest.fail(f"rich menus cannot be drawn here: {error}")


@pytest.fixture
async def line_api() -> AsyncIterator[FakeLineAPI]:
    api = FakeLineAPI()
    await api.start()
    yield api
    await api.stop()
    assert api.problems() == []


def test_each_language_menu_has_the_four_doors_of_the_start_screen(shipped_engine: Engine,
                                                                   plans: list[MenuPlan]) -> None:
    by_locale = {p.locale: p for p in plans if p.locale}
    assert next(iter(by_locale)) == "ja" and {"ja", "en", "ko", "zh_Hans"} <= set(by_locale)
    for locale, plan in by_locale.items():
        areas = plan.request["areas"]
        doors = [decode_button(a["action"]["data"]) for a in areas if a["action"]["type"] == "postback"]
        assert [d.trigger for d in doors if d] == list(DOORS) and {d.locale for d in doors if d} == {locale}
        for area in areas:  # each door opens the very screen the start screen's button opens
            reply = shipped_engine.handle(Event("press", area["action"]["data"]))[0]
            assert reply.screen in (*DOORS, "start.language")
        assert areas[-1]["action"]["richMenuAliasId"] == LANGUAGE_ALIAS
        image = Image.open(BytesIO(plan.image))
        assert image.size == (2500, 1686) and len(plan.image) < 1 << 20
    language = plans[-1]
    assert language.alias == LANGUAGE_ALIAS
    targets = [a["action"]["richMenuAliasId"] for a in language.request["areas"]]
    assert targets == [alias_for(locale) for locale in by_locale]
    for area in language.request["areas"]:
        choice = decode_button(area["action"]["data"])
        assert choice is not None and alias_for(choice.locale) == area["action"]["richMenuAliasId"]


def test_a_language_the_font_cannot_draw_gets_no_menu(shipped_engine: Engine, plans: list[MenuPlan]) -> None:
    assert "ne" in shipped_engine.locales and "ne" not in {p.locale for p in plans}  # Devanagari: not in Noto CJK


async def test_setup_creates_the_menus_and_a_second_run_changes_nothing(line_api: FakeLineAPI,
                                                                        plans: list[MenuPlan]) -> None:
    first = await apply_plans(list(plans), ACCESS_TOKEN, line_api.base)
    assert sum(step.startswith("created") for step in first) == len(plans)
    assert set(line_api.aliases) == {p.alias for p in plans}
    assert line_api.default_menu == line_api.aliases["anshin-ja"]
    assert set(line_api.images) == set(line_api.menus)
    calls = len(line_api.calls)
    second = await apply_plans(list(plans), ACCESS_TOKEN, line_api.base)
    assert second == [f"kept    {p.name}" for p in plans]
    writes = [c for c in line_api.calls[calls:] if c.method != "GET"]
    assert writes == []


async def test_changed_content_replaces_anshins_old_menus_and_no_other(line_api: FakeLineAPI,
                                                                       plans: list[MenuPlan]) -> None:
    await apply_plans(list(plans), ACCESS_TOKEN, line_api.base)
    line_api.menus["richmenu-theirs"] = {"richMenuId": "richmenu-theirs", "name": "a campaign of the school",
                                         "size": {"width": 2500, "height": 843}, "selected": False,
                                         "chatBarText": "x", "areas": []}
    changed = [MenuPlan(p.alias, p.locale, {**p.request, "name": p.name + "x"}, p.image) for p in plans]
    steps = await apply_plans(changed, ACCESS_TOKEN, line_api.base)
    assert sum(s.startswith("deleted") for s in steps) == len(plans)
    assert sorted(m["name"] for m in line_api.menus.values()) == sorted([*(p.name for p in changed),
                                                                        "a campaign of the school"])
    assert {line_api.menus[m]["name"] for m in line_api.aliases.values()} == {p.name for p in changed}
    assert line_api.menus[line_api.default_menu or ""]["name"] == changed[0].name


async def test_a_failed_image_upload_leaves_no_half_made_menu(line_api: FakeLineAPI, plans: list[MenuPlan]) -> None:
    line_api.fail("setRichMenuImage", 400)
    with pytest.raises(Exception):  # noqa: B017 - the SDK's ApiException
        await apply_plans(list(plans), ACCESS_TOKEN, line_api.base)
    assert line_api.menus == {}
