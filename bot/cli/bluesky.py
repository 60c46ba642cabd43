"""``privacybot bluesky ...``: one-off operations on the Bluesky bot account.

    privacybot bluesky setup-profile [--description TEXT] [--display-name NAME]

``setup-profile`` adds the ``bot`` self-label to the account's profile (Bluesky
asks bots to identify themselves) and writes a description of what the bot
stores. It reuses the stored session, like ``privacybot run bluesky``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging

from bot.cli.common import environment, load_kb


async def _setup_profile(args: argparse.Namespace) -> int:
    from bot.adapters.bluesky import (
        PROFILE_DESCRIPTION,
        BlueskyChannel,
        BlueskySettings,
        setup_profile,
    )
    from bot.core import Core
    from bot.store import open_store

    env, settings = environment()
    bsky = BlueskySettings.from_env(env)
    store = open_store(settings)
    await store.open()
    try:
        core = Core(load_kb(args), store)
        channel = BlueskyChannel(core, bsky)
        try:
            # A few tries past 429/5xx/network holds (tenacity, in the session).
            record = await channel.session.retrying(
                lambda: setup_profile(
                    channel,
                    description=args.description or PROFILE_DESCRIPTION,
                    display_name=args.display_name,
                )
            )
        finally:
            await channel.close()
    finally:
        await store.close()
    print(json.dumps({"did": channel.did, "profile": record}, ensure_ascii=False))
    return 0


def cmd_setup_profile(args: argparse.Namespace) -> int:
    """Label the account as a bot and write its description; prints the profile as JSON."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return asyncio.run(_setup_profile(args))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bluesky setup-profile`` to the top-level subcommands.

    Args:
        subparsers: The ``privacybot`` parser's subparsers.
    """
    bsky = subparsers.add_parser("bluesky", help="Bluesky bot account tools")
    bsky_sub = bsky.add_subparsers(dest="bluesky_command", required=True)
    setup = bsky_sub.add_parser(
        "setup-profile", help="add the 'bot' self-label and say what the bot stores"
    )
    setup.add_argument("--description", help="profile text (at most 256 graphemes)")
    setup.add_argument("--display-name", help="display name (unchanged by default)")
    setup.set_defaults(func=cmd_setup_profile)
