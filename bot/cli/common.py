"""What several ``privacybot`` commands share: the knowledge base, a core, the environment.

An invalid knowledge base raises :class:`~bot.kb.loader.KnowledgeError`; the
command line's error boundary (:func:`bot.cli.main`) prints its
``file: topic: field: problem`` lines and exits with :data:`EXIT_INVALID`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.core import Core
from bot.kb.loader import KnowledgeBase, default_dir, load_knowledge
from bot.settings import Settings, load_environment

EXIT_INVALID = 2  # an invalid knowledge base or configuration: nothing was done


def knowledge_dir(args: argparse.Namespace, settings: Settings | None = None) -> Path:
    """The knowledge folder a command reads.

    Args:
        args: The parsed command line (its ``--kb``).
        settings: When given, ``PRIVACYBOT_KNOWLEDGE_DIR`` as the settings read it
            comes before the bundled folder (the operations commands).

    Returns:
        ``--kb``, else the settings' folder, else :func:`~bot.kb.loader.default_dir`.
    """
    if args.kb:
        return Path(args.kb)
    if settings is not None and settings.knowledge_dir:
        return settings.knowledge_dir
    return default_dir()


def load_kb(args: argparse.Namespace) -> KnowledgeBase:
    """Load the knowledge base of ``--kb`` (or the default one).

    Raises:
        KnowledgeError: If it is invalid.
    """
    return load_knowledge(knowledge_dir(args))


def build_core(args: argparse.Namespace) -> Core:
    """A core over the knowledge base of ``--kb``, with an in-memory store."""
    return Core(load_kb(args))


def environment() -> tuple[dict[str, str], Settings]:
    """The merged environment (real over ``.env``) and the settings read from it."""
    env = load_environment()
    return env, Settings.from_env(env)
