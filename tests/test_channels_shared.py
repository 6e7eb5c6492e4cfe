"""What the channels share besides the server: the window of recent event ids and the retry policy."""

from __future__ import annotations

import time

import pytest

from bot.channels.line.client import REPLY_RETRY
from bot.channels.line.events import event_action
from bot.channels.recent import RecentIds


def test_the_window_remembers_recent_ids_and_forgets_old_ones() -> None:
    window = RecentIds(capacity=3)
    for n in range(3):
        window.add(f"id{n}")
    assert all(window.seen(f"id{n}") for n in range(3)) and not window.seen("id9")
    for n in range(3, 9):
        window.add(f"id{n}")
    assert not window.seen("id0") and window.seen("id8")
    assert len(window) <= 6  # two generations of at most ``capacity``


def test_the_window_keeps_no_id_as_given() -> None:
    window = RecentIds()
    window.add("01CANARYEVENTID")
    assert not any(b"CANARY" in digest for generation in (window._current, window._previous) for digest in generation)
    with pytest.raises(ValueError):
        RecentIds(capacity=0)


def test_a_line_reply_is_tried_three_times_within_a_second_then_given_up() -> None:
    """The one retry policy (bot.channels.delivery), with LINE's short budget: a reply token does not wait."""
    now = time.monotonic()
    assert REPLY_RETRY.wait(1, now) == 0.25
    assert REPLY_RETRY.wait(2, now - 0.25) == 0.5
    assert REPLY_RETRY.wait(3, now - 0.75) is None  # a third wait would end after the budget: give up now
    assert REPLY_RETRY.wait(1, now, retry_after=60.0) is None


@pytest.mark.parametrize("chat_id", ["C../../v2/bot/message/push", "C 1", "", "Cあ", "C" + "1" * 200])
def test_a_group_id_not_of_lines_shape_is_never_used(chat_id: str) -> None:
    source = {"type": "group", "groupId": chat_id}
    event = {"type": "join", "mode": "active", "source": source, "replyToken": "t"}
    assert event_action(event, "ja").kind == "silent"
    message = {"type": "message", "mode": "active", "source": source, "replyToken": "t",
               "message": {"type": "text", "text": "hi"}}
    assert event_action(message, "ja").kind == "silent"
