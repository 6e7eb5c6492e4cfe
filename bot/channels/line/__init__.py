"""LINE: a webhook bot on line-bot-sdk 3 (``linebot.v3``) answering with the reply API only.

``events`` reads what LINE posts into engine events (plain JSON in, plain values out), ``messages`` turns the
engine's replies into LINE message JSON within LINE's limits, ``client`` talks to the Messaging API through the
SDK, ``webhook`` is the aiohttp server (signature, body checks, /healthz, /metrics), ``richmenu`` sets up the rich
menus (``anshin line setup``).
"""

__all__: list[str] = []
