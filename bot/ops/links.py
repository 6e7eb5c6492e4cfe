"""Campaign deep links: a ``/start`` payload that the engine's ``parse_payload`` reads back exactly.

The payload is ``<audience letter>-<locale>-<campaign>``, e.g. ``p-ja-spring2027``: a parent who scans
the parent poster lands in the parent menu, in Japanese, and the campaign can be counted (as a label from
a fixed set, never per person).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from bot.engine.ids import MAX_PAYLOAD_CHARS, parse_payload

__all__ = ["AUDIENCES", "CampaignLinks", "LineLinks", "LinkError", "build_line_links", "build_links", "build_payload",
           "check_bot_username", "check_line_id", "line_friend_link", "web_link"]

AUDIENCES: dict[str, str] = {"teen": "t", "parent": "p", "school": "s"}
# "-" separates the payload's fields; parse_payload accepts "_" inside the campaign field.
CAMPAIGN = re.compile(r"^[A-Za-z0-9_]+$")
# Telegram: 5-32 characters, letters, digits and "_", a bot's name ends in "bot".
BOT_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,28}bot$", re.IGNORECASE)
# LINE: an official account's basic id (@ and 8 characters) or premium id (@ and up to 18 of a-z 0-9 . _ -).
LINE_ID = re.compile(r"^@[a-z0-9._-]{1,40}$", re.IGNORECASE)


class LinkError(ValueError):
    """A campaign, audience, language, bot name or URL that cannot make a working link."""


@dataclass(frozen=True)
class CampaignLinks:
    payload: str
    telegram: str
    web: str | None


def build_payload(campaign: str, audience: str, lang: str, locales: Iterable[str] | None = None) -> str:
    """The ``/start`` payload, validated by reading it back with the engine's own parser."""
    if audience not in AUDIENCES:
        raise LinkError(f"unknown audience {audience!r}; use one of: {', '.join(AUDIENCES)}")
    shipped = tuple(locales) if locales is not None else None
    if shipped is not None and lang not in shipped:
        raise LinkError(f"unknown language {lang!r}; shipped: {', '.join(shipped)}")
    if not campaign:
        raise LinkError("the campaign code is empty")
    bad = sorted({c for c in campaign if not CAMPAIGN.match(c)})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise LinkError(f"campaign {campaign!r} has characters a link cannot carry: {shown}; use A-Z a-z 0-9 _")
    payload = f"{AUDIENCES[audience]}-{lang}-{campaign}"
    if len(payload) > MAX_PAYLOAD_CHARS:
        room = MAX_PAYLOAD_CHARS - len(payload) + len(campaign)
        raise LinkError(f"payload {payload!r} is {len(payload)} characters; Telegram allows {MAX_PAYLOAD_CHARS}: "
                        f"shorten the campaign code to at most {room}")
    request = parse_payload(payload)
    if not request.valid or (request.audience, request.locale, request.campaign) != (
            AUDIENCES[audience], lang, campaign):
        raise LinkError(f"payload {payload!r} does not read back as {audience}/{lang}/{campaign}")
    return payload


def check_bot_username(name: str) -> str:
    """The bot's username without ``@``; Telegram's rules, so a typo fails here and not on a poster."""
    bare = name.removeprefix("@")
    if not BOT_USERNAME.match(bare):
        raise LinkError(f"bot username {name!r} is not a Telegram bot name (5-32 of A-Z a-z 0-9 _, ending in 'bot')")
    return bare


def check_line_id(value: str) -> str:
    """An official account's id with its ``@`` (``@anshin``); a typo fails here and not on a poster."""
    line_id = value if value.startswith("@") else f"@{value}"
    if not LINE_ID.match(line_id):
        raise LinkError(f"LINE id {value!r} is not an official account id such as @anshin")
    return line_id


def line_friend_link(line_id: str) -> str:
    """LINE's add-friend link: opens the account's profile with an "Add friend" button."""
    return f"https://line.me/R/ti/p/{check_line_id(line_id)}"


@dataclass(frozen=True)
class LineLinks:
    payload: str
    friend: str  # add the account as a friend (a follow event: the start screen)
    chat: str  # open the chat with ``/start <payload>`` typed in: the audience's menu, counted for the campaign


def build_line_links(campaign: str, audience: str, lang: str, line_id: str,
                     locales: Iterable[str] | None = None) -> LineLinks:
    """The LINE links of a campaign: ``oaMessage`` opens the chat with the campaign's text ready to send."""
    payload = build_payload(campaign, audience, lang, locales)
    account = check_line_id(line_id)
    chat = f"https://line.me/R/oaMessage/{account}/?{quote('/start ' + payload, safe='')}"
    return LineLinks(payload, line_friend_link(account), chat)


def _check_web_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise LinkError(f"web URL {url!r} must be http(s)://host[/path] without ?query or #fragment")
    return url.rstrip("/")


def web_link(web_url: str, payload: str) -> str:
    """The web chat link that opens the payload's menu."""
    return f"{_check_web_url(web_url)}/?start={payload}"


def build_links(campaign: str, audience: str, lang: str, bot_username: str, web_url: str | None = None,
                locales: Iterable[str] | None = None) -> CampaignLinks:
    payload = build_payload(campaign, audience, lang, locales)
    telegram = f"https://t.me/{check_bot_username(bot_username)}?start={payload}"
    web = web_link(web_url, payload) if web_url else None
    return CampaignLinks(payload, telegram, web)
