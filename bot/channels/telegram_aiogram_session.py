"""aiogram's aiohttp session, serialising Anshin's shared keyboards once instead of on every call.

aiogram turns each request into form data by dumping the method model and walking every nested value
(``BaseSession.prepare_value``), so an eight-button keyboard costs more than the rest of a reply. Anshin's
keyboards are built once per screen, language and audience (``telegram_aiogram._keyboard``) and never
change, so their JSON is kept beside them; everything else goes through aiogram's own path.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageText,
    GetMe,
    GetUpdates,
    Response,
    SendMessage,
    SetMyCommands,
    SetMyDescription,
    SetMyShortDescription,
    SetWebhook,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, InputFile, LinkPreviewOptions, TelegramObject
from aiohttp import FormData

__all__ = ["RESPONSE_TYPES", "SHARED_FIELDS", "AnshinSession"]

# Fields whose values Anshin reuses across calls; any other value is serialised afresh.
SHARED_FIELDS: dict[str, type[TelegramObject]] = {
    "reply_markup": InlineKeyboardMarkup,
    "link_preview_options": LinkPreviewOptions,
}
# aiogram reads every answer as ``Response[method.__returning__]``; pydantic keeps such parametrised classes
# only in a WeakValueDictionary, so once the garbage collector frees one the next answer builds the class
# again (a fifth of a webhook worker's CPU). Holding the ones Anshin's calls need makes each a one-time cost.
RESPONSE_TYPES = tuple(Response[method.__returning__] for method in (  # type: ignore[name-defined]
    SendMessage, EditMessageText, AnswerCallbackQuery, GetMe, GetUpdates, SetWebhook, DeleteWebhook,
    SetMyCommands, SetMyDescription, SetMyShortDescription))
_MAX_CACHED = 8192  # more distinct keyboards than the content has: a safety bound, not a tuning knob


class AnshinSession(AiohttpSession):
    """An ``AiohttpSession`` whose form data reuses the JSON of keyboards it has already sent."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # id -> (the object itself, its JSON): holding the object keeps its id from being given to another
        # object while the entry exists, so an id found here is this object's.
        self._serialised: dict[int, tuple[object, str]] = {}

    def shared_json(self, value: TelegramObject, bot: Bot) -> str:
        """The JSON aiogram would send for ``value``, computed once per object."""
        cached = self._serialised.get(id(value))
        if cached is not None:
            return cached[1]
        text = str(self.prepare_value(value.model_dump(warnings=False), bot=bot, files={}))
        if len(self._serialised) >= _MAX_CACHED:
            self._serialised.clear()
        self._serialised[id(value)] = (value, text)
        return text

    def build_form_data(self, bot: Bot, method: TelegramMethod[TelegramType]) -> FormData:
        shared = {name: value for name, kind in SHARED_FIELDS.items()
                  if isinstance(value := getattr(method, name, None), kind)}
        if not shared:
            return super().build_form_data(bot, method)
        form = FormData(quote_fields=False)
        files: dict[str, InputFile] = {}
        for key, value in method.model_dump(warnings=False, exclude=set(shared)).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                form.add_field(key, prepared)
        for key, value in shared.items():
            form.add_field(key, self.shared_json(value, bot))
        for key, file in files.items():
            form.add_field(key, file.read(bot), filename=file.filename or key)
        return form
