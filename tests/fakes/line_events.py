"""Real-shaped LINE webhook bodies and events, as webhook.yml describes them, and their signature.

``LineUser`` builds one user's events (its own user id, reply tokens, webhook event ids); ``body(*events)`` wraps
them as LINE posts them and ``sign`` gives the ``X-Line-Signature`` a channel secret makes. The harness checks
every body it posts against webhook.yml (``line_spec.validate_events``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CHANNEL_SECRET", "DESTINATION", "MEDIA_SAMPLES", "LineUser", "body", "encode", "sign"]

CHANNEL_SECRET = "0123456789abcdef0123456789abcdef"
DESTINATION = "U" + "d" * 32  # the bot's own user id
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_counter = itertools.count(1)


def _ulid(n: int) -> str:
    """A ULID-shaped webhook event id (26 Crockford base32 characters), distinct per n."""
    value = (1_760_000_000_000 << 80) | n
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def body(*events: dict[str, Any], destination: str = DESTINATION) -> dict[str, Any]:
    return {"destination": destination, "events": list(events)}


def encode(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(raw: bytes, secret: str = CHANNEL_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


MEDIA_SAMPLES: dict[str, dict[str, Any]] = {
    "image": {"contentProvider": {"type": "line"}, "quoteToken": "qImage"},
    "video": {"duration": 6000, "contentProvider": {"type": "line"}, "quoteToken": "qVideo"},
    "audio": {"duration": 3000, "contentProvider": {"type": "line"}},
    "file": {"fileName": "notes.pdf", "fileSize": 2048},
    "location": {"title": "Somewhere", "address": "Tokyo", "latitude": 35.68, "longitude": 139.76},
    "sticker": {"packageId": "446", "stickerId": "1988", "stickerResourceType": "STATIC", "quoteToken": "qSticker"},
}


@dataclass
class LineUser:
    """One user of the bot (``user_id``: ``U`` and 32 hex digits)."""

    user_id: str = "U" + "1" * 32
    redelivery: bool = False
    sent: list[str] = field(default_factory=list)  # reply tokens handed out, in order

    def _base(self, kind: str, source: dict[str, Any] | None = None, token: bool = True) -> dict[str, Any]:
        n = next(_counter)
        event: dict[str, Any] = {
            "type": kind, "mode": "active", "timestamp": 1_760_000_000_000 + n,
            "source": source or {"type": "user", "userId": self.user_id},
            "webhookEventId": _ulid(n), "deliveryContext": {"isRedelivery": self.redelivery},
        }
        if token:
            event["replyToken"] = f"{n:08x}" + "a" * 24
            self.sent.append(event["replyToken"])
        return event

    def text(self, text: str, source: dict[str, Any] | None = None) -> dict[str, Any]:
        event = self._base("message", source)
        event["message"] = {"id": str(900_000 + next(_counter)), "type": "text", "quoteToken": "qText", "text": text}
        return event

    def media(self, kind: str) -> dict[str, Any]:
        event = self._base("message")
        event["message"] = {"id": str(900_000 + next(_counter)), "type": kind, **MEDIA_SAMPLES[kind]}
        return event

    def press(self, data: str) -> dict[str, Any]:
        event = self._base("postback")
        event["postback"] = {"data": data}
        return event

    def follow(self, unblocked: bool = False) -> dict[str, Any]:
        event = self._base("follow")
        event["follow"] = {"isUnblocked": unblocked}
        return event

    def unfollow(self) -> dict[str, Any]:
        return self._base("unfollow", token=False)

    def unsend(self) -> dict[str, Any]:
        event = self._base("unsend", token=False)
        event["unsend"] = {"messageId": "325708"}
        return event

    def join(self, chat: str = "group", chat_id: str = "C" + "2" * 32) -> dict[str, Any]:
        return self._base("join", {"type": chat, f"{chat}Id": chat_id})

    def leave(self, chat: str = "group", chat_id: str = "C" + "2" * 32) -> dict[str, Any]:
        return self._base("leave", {"type": chat, f"{chat}Id": chat_id}, token=False)

    def member_joined(self, chat_id: str = "C" + "2" * 32) -> dict[str, Any]:
        event = self._base("memberJoined", {"type": "group", "groupId": chat_id})
        event["joined"] = {"members": [{"type": "user", "userId": self.user_id}]}
        return event

    def member_left(self, chat_id: str = "C" + "2" * 32) -> dict[str, Any]:
        event = self._base("memberLeft", {"type": "group", "groupId": chat_id}, token=False)
        event["left"] = {"members": [{"type": "user", "userId": self.user_id}]}
        return event

    def in_group(self, text: str, chat: str = "group", chat_id: str = "C" + "2" * 32) -> dict[str, Any]:
        return self.text(text, {"type": chat, f"{chat}Id": chat_id, "userId": self.user_id})

    def unknown(self, kind: str = "futureThing") -> dict[str, Any]:
        """An event type this SDK and webhook.yml do not know (LINE adds types): not valid against the spec."""
        return self._base(kind)
