"""Campaign deep links: a ``/start`` payload that the engine's ``parse_payload`` reads back exactly.

The payload is ``<audience letter>-<locale>-<campaign>``, e.g. ``p-ja-spring2027``: a parent who scans
the parent poster lands in the parent menu, in Japanese, and the campaign can be counted (as a label from
a fixed set, never per person).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.engine.ids import MAX_PAYLOAD_CHARS, parse_payload

__all__ = ["AUDIENCES", "CampaignLinks", "LinkError", "build_links", "build_payload", "check_bot_username"]

AUDIENCES: dict[str, str] = {"teen": "t", "parent": "p", "school": "s"}
# "-" separates the payload's fields; parse_payload accepts "_" inside the campaign field.
CAMPAIGN = re.compile(r"^[A-Za-z0-9_]+$")
# Telegram: 5-32 characters, letters, digits and "_", a bot's name ends in "bot".
BOT_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,28}bot$", re.IGNORECASE)


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


def _check_web_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise LinkError(f"web URL {url!r} must be http(s)://host[/path] without ?query or #fragment")
    return url.rstrip("/")


def build_links(campaign: str, audience: str, lang: str, bot_username: str, web_url: str | None = None,
                locales: Iterable[str] | None = None) -> CampaignLinks:
    payload = build_payload(campaign, audience, lang, locales)
    telegram = f"https://t.me/{check_bot_username(bot_username)}?start={payload}"
    web = f"{_check_web_url(web_url)}/?start={payload}" if web_url else None
    return CampaignLinks(payload, telegram, web)
