"""The ``privacybot`` command line (also ``python -m bot``).

    privacybot ask "how do I stop Grok training?"      bot/cli/ask.py
    privacybot chat                                    bot/cli/chat.py
    privacybot topics | kb check|stale|links|reload    bot/cli/kb.py
    privacybot eval ../shared/eval/dev.yaml --min 0.95 bot/cli/evaluate.py
    privacybot run | config | admin purge              bot/cli/ops.py
    privacybot bluesky setup-profile                   bot/cli/bluesky.py
    privacybot site build OUT_DIR                      bot/cli/site.py
    privacybot preview x.grok_training                 bot/cli/preview.py
    privacybot deeplinks --bot NAME                    bot/cli/deeplinks.py

Each module adds its commands with an explicit ``register(subparsers)``, called
here in order; what several need is in :mod:`bot.cli.common`. An invalid
knowledge base or configuration ends the program with ``file: topic: field:
problem`` lines (or the variable's name) and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli import ask, bluesky, chat, deeplinks, evaluate, kb, ops, preview, site
from bot.cli.common import EXIT_INVALID
from bot.errors import ConfigError
from bot.kb.loader import KnowledgeError
from bot.nlu.registry import RegistryError

__all__ = ["EXIT_INVALID", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(
        prog="privacybot",
        description="Tells people how to stop platforms from using their data.",
    )
    parser.add_argument("--kb", help="knowledge directory (default: the bundled knowledge/)")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (ask, chat, kb, evaluate, bluesky, ops, site, preview, deeplinks):
        module.register(subparsers)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except ConfigError as exc:
        print(f"privacybot: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except RegistryError as exc:  # knowledge/platforms.yaml or needs.yaml
        for line in exc.problems:
            print(line, file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
