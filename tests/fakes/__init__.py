"""Fakes of the servers the bot talks to, real HTTP on 127.0.0.1 (nothing mocked).

``fakes.bot_api``: the Telegram Bot API. ``fakes.xrpc``: a Bluesky PDS with the
AppView behind it, for the faults the real local stack cannot produce on demand.
"""
