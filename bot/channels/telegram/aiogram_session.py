"""aiogram's aiohttp session, posting each call as one JSON body and serialising Anshin's shared keyboards once.

aiogram posts every call as form data: it dumps the method model, walks every nested value
(``BaseSession.prepare_value``) and urlencodes the result byte by byte in Python, so a Japanese reply
with an eight-button keyboard costs more to post than to compose. The Bot API takes ``application/json``
bodies for every call that uploads no file (Anshin uploads none), and Anshin's keyboards are built once
per screen, language and audience (``aiogram_bot._keyboard``) and never change, so their JSON is
kept beside them.
"""

from __future__ import annotations

# isort: off
from bot.channels.telegram import aiogram_types  # noqa: F401  (first: aiogram's types built when used)
# isort: on

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, InputFile, LinkPreviewOptions, TelegramObject, Update
from aiohttp import ClientError, ClientTimeout, ConnectionTimeoutError
from pydantic import ValidationError

from bot.channels.delivery import time_left
from bot.channels.telegram.updates import skip_unreadable, trim_updates_answer

if TYPE_CHECKING:
    from bot.metrics import ReachMetrics

__all__ = ["RESPONSE_TYPES", "SHARED_FIELDS", "UNREAD_RESULTS", "AnshinSession", "NoAnswer"]

# Fields whose values Anshin reuses across calls; any other value is serialised afresh.
SHARED_FIELDS: dict[str, type[TelegramObject]] = {
    "reply_markup": InlineKeyboardMarkup,
    "link_preview_options": LinkPreviewOptions,
}
# aiogram reads every answer as ``Response[method.__returning__]``; pydantic keeps such parametrised classes
# only in a WeakValueDictionary, so once the garbage collector frees one the next answer builds the class
# again (a fifth of a webhook worker's CPU). Each one is held here from its first answer on: a one-time cost,
# paid only for the calls a process makes (a webhook worker never builds getUpdates' list of Update).
RESPONSE_TYPES: dict[type[TelegramMethod[Any]], type[Response[Any]]] = {}
_MAX_CACHED = 8192  # more distinct keyboards than the content has: a safety bound, not a tuning knob
JSON_HEADERS = {"Content-Type": "application/json"}
# Calls whose result Anshin never reads. Their answers are still checked (ok, or the error and retry_after they
# carry), but a successful one's result is not built into objects: Telegram sends the whole message back, its
# keyboard included, and making a Message of it costs about a tenth of a millisecond per reply.
UNREAD_RESULTS = frozenset({"sendMessage", "editMessageText", "answerCallbackQuery"})


class NoAnswer(TelegramNetworkError):
    """The call was sent and no answer came in time: unlike a refused connection, it may have been carried out."""


def _readable(update: dict[str, Any]) -> bool:
    try:
        Update.model_validate(update)
    except (ValidationError, RecursionError, ValueError):
        return False
    return True


_encode_string: Callable[[str], str] = json.encoder.encode_basestring  # a str as a JSON string, in C
_UNREAD: Response[None] = Response[None](ok=True, result=None)


class AnshinSession(AiohttpSession):
    """An ``AiohttpSession`` that posts JSON and reuses the JSON of keyboards it has already sent."""

    def __init__(self, metrics: ReachMetrics | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics  # counts the updates skipped as unreadable
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

    def build_json_body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> bytes:
        """The call's parameters as one JSON object: the fields aiogram's form would carry (defaults resolved,
        unset and empty ones left out), nested objects as objects. Read field by field rather than through
        ``model_dump``, which would serialise a shared keyboard only for it to be thrown away."""
        files: dict[str, InputFile] = {}
        members = []
        for name, value in (*((n, getattr(method, n)) for n in type(method).model_fields),
                            *(method.model_extra or {}).items()):
            if isinstance(value, Default):
                value = bot.default[value.name]
            kind = type(value)
            if value is None or (kind is str and not value):
                continue
            if kind is str:
                encoded = _encode_string(value)
            elif kind is int:
                encoded = str(value)
            elif kind is bool:
                encoded = "true" if value else "false"
            elif (shared := SHARED_FIELDS.get(name)) is not None and isinstance(value, shared):
                encoded = self.shared_json(value, bot)
            else:
                prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
                if prepared is None or prepared == "":
                    continue
                encoded = json.dumps(prepared, ensure_ascii=False)
            members.append(f'"{name}":{encoded}')
        if files:
            raise ValueError(f"{method.__api_method__}: Anshin uploads no files; JSON bodies cannot carry them")
        return ("{" + ",".join(members) + "}").encode("utf-8")

    def check_response(self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int,
                       content: str) -> Response[TelegramType]:
        """aiogram's check, except that a successful answer to a call in ``UNREAD_RESULTS`` returns no result,
        and the updates of a ``getUpdates`` answer are trimmed to what Anshin reads before they are built."""
        kind = type(method)
        if kind not in RESPONSE_TYPES:
            RESPONSE_TYPES[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        if method.__api_method__ == "getUpdates" and HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED:
            content = trim_updates_answer(content)
            try:
                return super().check_response(bot=bot, method=method, status_code=status_code, content=content)
            except ClientDecodeError:
                # One update aiogram cannot read fails the whole batch: read the batch again without it (only
                # then, so that a readable batch is validated once).
                content, skipped = skip_unreadable(content, _readable)
                if not skipped:
                    raise
                if self.metrics is not None:
                    for _ in range(skipped):
                        self.metrics.error("unreadable_update")
        if method.__api_method__ in UNREAD_RESULTS and HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED:
            try:
                answer = self.json_loads(content)
            except ValueError:
                answer = None  # aiogram's own check below raises ClientDecodeError, which is retried
            if isinstance(answer, dict) and answer.get("ok") is True:
                return cast(Response[TelegramType], _UNREAD)
        return super().check_response(bot=bot, method=method, status_code=status_code, content=content)

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:
        """``AiohttpSession.make_request`` with a JSON body instead of form data."""
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        body = self.build_json_body(bot, method)
        total = float(self.timeout if timeout is None else timeout)
        left = time_left()  # an update's deadline: wait for the answer no longer than that
        if left is not None:
            if left <= 0:
                raise TelegramNetworkError(method=method, message="No time left")  # not sent
            total = min(total, left)
        limit = ClientTimeout(total=total)
        try:
            async with session.post(url, data=body, headers=JSON_HEADERS, timeout=limit) as response:
                raw_result = await response.text()
        except ConnectionTimeoutError as error:  # (before TimeoutError, its base) nothing was sent
            raise TelegramNetworkError(method=method, message="Connection timeout error") from error
        except TimeoutError as error:
            raise NoAnswer(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(method=method, message=f"{type(error).__name__}: {error}") from error
        checked = self.check_response(bot=bot, method=method, status_code=response.status, content=raw_result)
        return cast(TelegramType, checked.result)
