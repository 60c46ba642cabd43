"""The knowledge base as a static web site: one page per topic and language.

A chat reply holds 300 graphemes on Bluesky and a handful of links on
Telegram; the site holds the whole answer (every surface's steps, every source
with its date) at a stable address the bots can link to and people can share.
Pages are built from the core's :class:`~bot.messages.Reply`, the same
structure the chat renderers use, so the site never says something the bot
would not. :mod:`bot.site.urls` is the only part the bots need.
"""
