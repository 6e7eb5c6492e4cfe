"""The baseline bot of the benchmarks: the smallest aiogram 3 echo bot, as aiogram's documentation writes one."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, Router
from aiogram.types import CallbackQuery, Message

__all__ = ["echo_dispatcher"]


def echo_dispatcher() -> Dispatcher:
    """Echoes a message's text; answers a press and echoes its data. No FSM storage, as Anshin's."""
    router = Router()

    @router.message()
    async def echo(message: Message, bot: Bot) -> None:
        await bot.send_message(chat_id=message.chat.id, text=message.text or "…")

    @router.callback_query()
    async def press(query: CallbackQuery, bot: Bot) -> None:
        await bot.answer_callback_query(query.id)
        if query.message is not None:
            await bot.send_message(chat_id=query.message.chat.id, text=query.data or "…")

    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.include_router(router)
    return dispatcher
