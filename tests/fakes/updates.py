"""Real-shaped Telegram Update JSON (as the Bot API sends it), for scripted scenarios."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.fakes.bot_api import BOT_ID, BOT_USERNAME

__all__ = ["MEDIA_SAMPLES", "Updates"]

_FILE = {"file_id": "AgACAgIAAxkBAAIBQ2", "file_unique_id": "AQADx7ExG"}
MEDIA_SAMPLES: dict[str, dict[str, Any]] = {
    "photo": {"photo": [{**_FILE, "width": 90, "height": 90, "file_size": 1200},
                        {**_FILE, "width": 800, "height": 800, "file_size": 64000}]},
    "video": {"video": {**_FILE, "width": 640, "height": 360, "duration": 5}},
    "voice": {"voice": {**_FILE, "duration": 3, "mime_type": "audio/ogg"}},
    "document": {"document": {**_FILE, "file_name": "x.pdf", "mime_type": "application/pdf"}},
    "sticker": {"sticker": {**_FILE, "type": "regular", "width": 512, "height": 512, "is_animated": False,
                            "is_video": False, "emoji": "😀"}},
    "contact": {"contact": {"phone_number": "+819000000000", "first_name": "Friend"}},
    "location": {"location": {"latitude": 35.68, "longitude": 139.76}},
    "animation": {"animation": {**_FILE, "width": 320, "height": 240, "duration": 2},
                  "document": {**_FILE, "file_name": "a.mp4"}},
    "audio": {"audio": {**_FILE, "duration": 30}},
    "video_note": {"video_note": {**_FILE, "length": 240, "duration": 4}},
}


# Each builder's update_ids start in a block of their own, as Telegram's never repeat: a webhook answers an
# update_id it has handled once only (bot/channels/delivery.py), so two builders must not both start at 1.
_BLOCKS = itertools.count(1_000_000, 10_000)


class Updates:
    """Builds updates with increasing ids for one user (the user's fields are parameters)."""

    def __init__(self, user_id: int = 5550001, first_name: str = "Hana", username: str = "hana_t",
                 lang: str | None = "ja", start_id: int | None = None) -> None:
        self.user_id, self.first_name, self.username, self.lang = user_id, first_name, username, lang
        self._ids = itertools.count(next(_BLOCKS) if start_id is None else start_id)
        self._messages = itertools.count(1)

    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name,
                                "username": self.username}
        if self.lang is not None:
            user["language_code"] = self.lang
        return user

    def _private_chat(self) -> dict[str, Any]:
        return {"id": self.user_id, "type": "private", "first_name": self.first_name, "username": self.username}

    def message(self, text: str | None = None, chat: dict[str, Any] | None = None, **content: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"message_id": next(self._messages), "from": self.user(),
                                "chat": chat or self._private_chat(), "date": int(time.time())}
        if text is not None:
            body["text"] = text
            if text.startswith("/"):
                body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        body.update(content)
        return {"update_id": next(self._ids), "message": body}

    def text(self, text: str) -> dict[str, Any]:
        return self.message(text)

    def media(self, kind: str, caption: str | None = None) -> dict[str, Any]:
        extra = {"caption": caption} if caption else {}
        return self.message(None, **MEDIA_SAMPLES[kind], **extra)

    def press(self, data: str, message_id: int = 1001, message_text: str = "…",
              accessible: bool = True, keyboard: Any = None) -> dict[str, Any]:
        """A press on a message of the bot's, which comes back whole as Telegram sends it: its text and its
        keyboard (``keyboard``: the ``inline_keyboard`` value; by default one button carrying ``data``)."""
        message: dict[str, Any] = {"message_id": message_id, "chat": self._private_chat(), "date": 0}
        if accessible:
            rows = [[{"text": "…", "callback_data": data}]] if keyboard is None else keyboard
            message.update({"date": int(time.time()), "text": message_text,
                            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Anshin", "username": BOT_USERNAME},
                            "reply_markup": {"inline_keyboard": rows}})
        query = {"id": f"48{next(self._messages)}7", "from": self.user(), "message": message,
                 "chat_instance": "-88112233", "data": data}
        return {"update_id": next(self._ids), "callback_query": query}

    def group_message(self, text: str, chat_type: str = "supergroup", title: str = "Class 2-B") -> dict[str, Any]:
        return self.message(text, chat={"id": -1001234567890, "type": chat_type, "title": title})

    def added_to_group(self, title: str = "Class 2-B") -> dict[str, Any]:
        bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Anshin", "username": BOT_USERNAME}
        change = {"chat": {"id": -1001234567890, "type": "supergroup", "title": title}, "from": self.user(),
                  "date": int(time.time()), "old_chat_member": {"status": "left", "user": bot_user},
                  "new_chat_member": {"status": "member", "user": bot_user}}
        return {"update_id": next(self._ids), "my_chat_member": change}

    def edited(self, text: str) -> dict[str, Any]:
        update = self.message(text)
        body = update.pop("message")
        body["edit_date"] = body["date"] + 5
        update["edited_message"] = body
        return update

    def channel_post(self, text: str) -> dict[str, Any]:
        post = {"message_id": next(self._messages), "chat": {"id": -100999, "type": "channel", "title": "News"},
                "date": int(time.time()), "text": text}
        return {"update_id": next(self._ids), "channel_post": post}

    def unknown(self, secret: str) -> dict[str, Any]:
        """An update type from a future Bot API version."""
        return {"update_id": next(self._ids), "future_thing": {"id": 1, "note": secret, "from": self.user()}}
