"""Property tests: no event, press or walk ever raises, and every answer keeps a way to a person."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import COMMANDS, MEDIA_KINDS, Engine, Event, Reply


def keeps_a_way_to_a_person(reply: Reply) -> bool:
    """A person is one press away (the person button) or already named (referrals on this screen)."""
    return bool(reply.referrals) or any(i.endswith(":@person") for i in reply.button_ids())


def within_limits(reply: Reply) -> bool:
    return len(reply.text) <= 4096 and all(len(i.encode()) <= 64 for i in reply.button_ids())


@settings(max_examples=300, deadline=None)
@given(choices=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=25),
       lang=st.sampled_from([None, "ja", "en", "en-US", "fr", "zz-ZZ"]))
def test_random_walks_from_the_start(shipped_engine: Engine, choices: list[int], lang: str | None) -> None:
    [reply] = shipped_engine.handle(Event("start", "", lang))
    for choice in choices:
        ids = reply.button_ids()
        assert ids, f"{reply.screen} has no buttons"
        [reply] = shipped_engine.handle(Event("press", ids[choice % len(ids)], lang))
        assert keeps_a_way_to_a_person(reply), reply.screen
        assert within_limits(reply), reply.screen


@settings(max_examples=500, deadline=None)
@given(button_id=st.one_of(
    st.text(max_size=100),
    st.builds(lambda parts: ":".join(parts), st.lists(st.text(alphabet="1jaenxtps.@_:menuhlp", max_size=12),
                                                       max_size=7)),
    st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
))
def test_any_button_id_gets_a_kind_answer(shipped_engine: Engine, button_id: str) -> None:
    replies = shipped_engine.handle(Event("press", button_id))
    assert replies
    for reply in replies:
        assert keeps_a_way_to_a_person(reply)
        assert within_limits(reply)


@settings(max_examples=300, deadline=None)
@given(event=st.one_of(
    st.builds(Event, st.just("text"), st.text(max_size=5000), st.one_of(st.none(), st.text(max_size=40))),
    st.builds(Event, st.just("start"), st.text(max_size=100)),
    st.builds(Event, st.just("command"), st.sampled_from([*COMMANDS, "nonsense"])),
    st.builds(Event, st.just("media"), st.sampled_from(MEDIA_KINDS)),
))
def test_any_event_gets_a_kind_answer(shipped_engine: Engine, event: Event) -> None:
    replies = shipped_engine.handle(event)
    assert replies
    for reply in replies:
        assert keeps_a_way_to_a_person(reply)
        assert within_limits(reply)
