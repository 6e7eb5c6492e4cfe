"""The engine's replies as LINE messages: a text message per reply, its buttons as quick replies.

Why a text message with quick replies (README.md, "LINE"): the screen's text and its referral cards stay in the
chat history as ordinary text, where LINE links phone numbers and web addresses; quick replies are LINE's own
answer buttons, up to 13 above the keyboard, and they leave with the next message, so no stale buttons stay
behind. A template message holds 4 buttons and 160 characters, too few for a screen; a Flex bubble's text links
no phone number.

Limits (messaging-api.yml and LINE's documentation): at most 5 messages a reply, 5000 characters of text, 13 quick
reply items, 20 characters a label, 300 characters of postback data, 1000 of a URI. Labels are the catalogue's
short form where a label is longer (``Button.short``; ``anshin check`` holds every one to 20), so nothing is cut
here in practice. The way to a person comes first: quick replies scroll sideways, and the first ones are the ones
seen. Every phone number on a referral card is also a ``tel:`` quick reply. A postback sets no ``displayText``:
nothing is written into the chat as if the user had typed it (a label such as "sexual harm" must not appear as
their message).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from urllib.parse import quote

from bot.engine import Button, Engine, Reply, decode_button

__all__ = [
    "MAX_DATA",
    "MAX_LABEL",
    "MAX_MESSAGES",
    "MAX_QUICK_REPLIES",
    "MAX_TEXT",
    "MAX_URI",
    "Messages",
    "fit",
    "length",
    "tel_uri",
]

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_DATA = 300
MAX_URI = 1000
PERSON_TRIGGER = "@person"  # the engine's trigger of the "talk to a person" button (every screen but help's)
PHONE_KINDS = ("phone", "short_code")
CACHE_SIZE = 4096


def length(text: str) -> int:
    """Characters as LINE counts them: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """``text`` within ``limit`` UTF-16 units, cut with an ellipsis as a last resort (the check prevents it)."""
    text = text.strip() or "…"
    if length(text) <= limit:
        return text
    out = ""
    for char in text:
        if length(out + char) > limit - 1:
            break
        out += char
    return out.rstrip() + "…"


def tel_uri(number: str) -> str:
    """``0120-0-78310`` -> ``tel:0120078310``; ``#9110`` -> ``tel:%239110`` (``#`` would start a fragment)."""
    kept = "".join(c for c in number if c.isdigit() or c in "#*+")
    return "tel:" + quote(kept, safe="+*")


def _action(button: Button) -> dict[str, str] | None:
    label = fit(button.short_label, MAX_LABEL)
    if button.url is not None:
        return {"type": "uri", "label": label, "uri": button.url} if len(button.url) <= MAX_URI else None
    if button.id and len(button.id) <= MAX_DATA:
        return {"type": "postback", "label": label, "data": button.id}
    return None


def _is_person(button: Button) -> bool:
    state = decode_button(button.id) if button.id else None
    return state is not None and state.trigger == PERSON_TRIGGER


class Messages:
    """Reply -> LINE message JSON, each reply's built once: replies are immutable and the engine reuses them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache: OrderedDict[Reply, dict[str, Any]] = OrderedDict()

    def phones(self, reply: Reply) -> list[str]:
        """The phone numbers on the reply's referral cards, in order, each once."""
        numbers: list[str] = []
        for service_id in reply.referrals:
            service = self.engine.content.services.get(service_id)
            for contact in service.contacts if service is not None else ():
                if contact.kind in PHONE_KINDS and contact.value not in numbers:
                    numbers.append(contact.value)
        return numbers

    def quick_replies(self, reply: Reply) -> list[dict[str, Any]]:
        buttons = [b for row in reply.buttons for b in row]
        ordered = [b for b in buttons if _is_person(b)] + [b for b in buttons if not _is_person(b)]
        actions = [a for a in map(_action, ordered) if a is not None]
        for number in self.phones(reply):
            actions.append({"type": "uri", "label": fit(f"📞 {number}", MAX_LABEL), "uri": tel_uri(number)})
        return [{"type": "action", "action": action} for action in actions[:MAX_QUICK_REPLIES]]

    def message(self, reply: Reply) -> dict[str, Any]:
        """One text message with the reply's quick replies (built once per reply)."""
        built = self._cache.get(reply)
        if built is not None:
            self._cache.move_to_end(reply)
            return built
        built = {"type": "text", "text": fit(reply.text, MAX_TEXT)}
        items = self.quick_replies(reply)
        if items:
            built["quickReply"] = {"items": items}
        self._cache[reply] = built
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return built

    def for_replies(self, replies: list[Reply]) -> list[dict[str, Any]]:
        """At most 5 messages; quick replies only on the last (LINE shows only the last message's)."""
        shown = replies[:MAX_MESSAGES]
        out: list[dict[str, Any]] = []
        for number, reply in enumerate(shown):
            message = self.message(reply)
            if number < len(shown) - 1 and "quickReply" in message:
                message = {k: v for k, v in message.items() if k != "quickReply"}
            out.append(message)
        return out

    def group(self, lang: str | None, friend_link: str | None) -> dict[str, Any]:
        """The one message a group or room gets before the bot leaves: talk one-to-one, naming nobody."""
        catalogs = self.engine.content.catalogs
        locale = catalogs.negotiate(lang)
        message: dict[str, Any] = {"type": "text", "text": fit(catalogs.gettext(locale, "sys.line.group"), MAX_TEXT)}
        if friend_link:
            label = fit(catalogs.gettext(locale, "sys.line.btn.friend"), MAX_LABEL)
            message["quickReply"] = {"items": [{"type": "action",
                                                "action": {"type": "uri", "label": label, "uri": friend_link}}]}
        return message
