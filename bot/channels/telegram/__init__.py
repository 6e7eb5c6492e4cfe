"""Telegram: one bot on aiogram (``aiogram_bot``, with its session in ``aiogram_session``) or python-telegram-bot
(``ptb_bot``), both following the rules in ``common`` and reading updates trimmed by ``updates``."""

__all__: list[str] = []
