"""Knowledge base commands: ``privacybot topics`` and ``privacybot kb ...``.

    privacybot topics [--lang fr] every topic with its title and last check
    privacybot kb check [DIR]     schema + sourcing policy, a per-topic table and counts
    privacybot kb stale [DIR]     what is due for re-checking
    privacybot kb links [DIR]     does every URL still answer (needs the internet)
    privacybot kb reload          reload the running bot's (see :mod:`bot.cli.ops`)

Without DIR each editor's command reads the knowledge base in use: ``--kb``,
else ``PRIVACYBOT_KNOWLEDGE_DIR``, else the bundled one, and says which.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from bot.cli.common import load_kb
from bot.cli.ops import cmd_kb_reload
from bot.kb.links import check_links, collect_urls
from bot.kb.loader import KnowledgeBase, KnowledgeError, default_dir, load_knowledge
from bot.kb.policy import check_policy, due, load_blocked, topic_row
from bot.kb.schema import LANGUAGES, SOURCE_KINDS

EXIT_PROBLEMS = 2  # the same status as an invalid knowledge base elsewhere
EXIT_LINKS_FAILED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``kb`` (check, stale, links, reload) and ``topics`` to the top-level subcommands.

    Args:
        subparsers: The ``privacybot`` parser's subparsers.
    """
    kb = subparsers.add_parser("kb", help="knowledge base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_sub.add_parser("check", help="validate the knowledge base and its sourcing")
    check.add_argument("dir", nargs="?", help="knowledge folder (default: the one in use)")
    check.add_argument(
        "--schema-only",
        action="store_true",
        help="fail only on what stops the bot loading it; report the sourcing policy as "
        "warnings (for builds, while editors finish their files)",
    )
    check.set_defaults(func=cmd_check)

    stale = kb_sub.add_parser("stale", help="list topics and facts due for re-checking")
    stale.add_argument("dir", nargs="?")
    stale.add_argument(
        "--within", type=int, default=0, metavar="DAYS", help="also what falls due within DAYS"
    )
    stale.set_defaults(func=cmd_stale)

    links = kb_sub.add_parser("links", help="check that every URL answers (uses the internet)")
    links.add_argument("dir", nargs="?")
    links.add_argument("--timeout", type=float, default=10.0, help="seconds per URL (10)")
    links.add_argument("--workers", type=int, default=8, help="URLs asked at once (8)")
    links.add_argument("--topic", help="only topics whose id starts with this")
    links.set_defaults(func=cmd_links)

    reload = kb_sub.add_parser("reload", help="reload the running bot's knowledge base")
    reload.set_defaults(func=cmd_kb_reload)

    topics = subparsers.add_parser("topics", help="list topics")
    topics.add_argument("--lang", choices=["en", "fr"])
    topics.set_defaults(func=cmd_topics)


def cmd_topics(args: argparse.Namespace) -> int:
    """``topics``: one line per topic, its title and when it was last checked."""
    kb = load_kb(args)
    for topic in kb.topics.values():
        loc = topic.lang(args.lang or "en")
        print(f"{topic.id}\t{loc.title}\t(checked {topic.last_verified.isoformat()})")
    return 0


def _directory(args: argparse.Namespace) -> tuple[Path, str]:
    """The folder to read and how it was chosen."""
    if getattr(args, "dir", None):
        return Path(args.dir), "given on the command line"
    if getattr(args, "kb", None):
        return Path(args.kb), "from --kb"
    if os.environ.get("PRIVACYBOT_KNOWLEDGE_DIR"):
        return default_dir(), "from PRIVACYBOT_KNOWLEDGE_DIR"
    return default_dir(), "the bundled knowledge base"


def _load_and_say_which(args: argparse.Namespace) -> KnowledgeBase:
    """Load the folder an editor asked for, first saying which one and why."""
    directory, how = _directory(args)
    print(f"knowledge base: {directory} ({how})")
    return load_knowledge(directory)


def _table(kb: KnowledgeBase) -> list[str]:
    rows = [topic_row(t) for t in kb.topics.values()]
    width = max([len(r.topic) for r in rows] + [5])
    need_width = max([len(r.need) for r in rows] + [4])
    head = " ".join(k[:3] for k in SOURCE_KINDS)
    lines = [
        f"{'topic':<{width}} {'need':<{need_width}} {head}  oldest fact  verified    "
        "languages complete"
    ]
    for r in rows:
        kinds = " ".join(f"{r.kinds[k]:>3}" for k in SOURCE_KINDS)
        oldest = r.oldest_fact.isoformat() if r.oldest_fact else "-"
        lines.append(
            f"{r.topic:<{width}} {r.need:<{need_width}} {kinds}  {oldest:<11}  "
            f"{r.verified.isoformat()}  {' '.join(r.languages)}"
        )
    return lines


def _counts(kb: KnowledgeBase) -> list[str]:
    topics = list(kb.topics.values())
    total = len(topics)
    per_language = ", ".join(
        f"{lang} {sum(1 for t in topics if t.is_complete(lang))}/{total}" for lang in LANGUAGES
    )
    sources = [s for t in topics for s in t.sources]
    by_kind = ", ".join(f"{k} {sum(1 for s in sources if s.kind == k)}" for k in SOURCE_KINDS)
    distinct = len({s.url for s in sources})
    return [
        f"platforms: {len(kb.platforms)}; topics: {total}",
        f"languages complete: {per_language}",
        f"sources by kind: {by_kind} ({len(sources)} citations, {distinct} distinct URLs)",
    ]


def cmd_check(args: argparse.Namespace) -> int:
    """``kb check``: schema, then the sourcing policy; prints the table and counts."""
    kb = _load_and_say_which(args)
    for warning in kb.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for line in [*_table(kb), "", *_counts(kb)]:
        print(line)
    blocked, problems = load_blocked(kb.directory or default_dir())
    problems += check_policy(kb, blocked)
    if problems and getattr(args, "schema_only", False):
        for problem in problems:
            print(f"policy: {problem}", file=sys.stderr)
        print(f"{len(problems)} sourcing-policy problem(s) reported, not enforced (--schema-only)")
    elif problems:
        raise KnowledgeError(problems)
    print(f"{kb.directory}: {len(kb.topics)} topics OK (version {kb.version})")
    return 0


def cmd_stale(args: argparse.Namespace) -> int:
    """``kb stale``: topics not verified for too long, facts whose end date passed."""
    kb = _load_and_say_which(args)
    items = due(kb, dt.date.today(), args.within)
    for item in items:
        print(f"{item.topic}\tdue {item.since.isoformat()}\t{item.reason}\t{item.file}")
    print(f"{len(items)} item(s) due" if items else "nothing is due")
    return 0


def cmd_links(args: argparse.Namespace) -> int:
    """``kb links``: ask every URL; exit 1 when one does not answer with 2xx."""
    kb = _load_and_say_which(args)
    urls = collect_urls(kb)
    if args.topic:
        urls = {u: ts for u, ts in urls.items() if any(t.startswith(args.topic) for t in ts)}
    print(f"checking {len(urls)} URL(s), {args.timeout:g}s timeout each")
    results = check_links(urls, timeout=args.timeout, workers=args.workers)
    for r in results:
        mark = "ok  " if r.ok else "FAIL"
        print(f"{mark} {r.url}  {r.detail}  [{', '.join(r.topics)}]")
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} ok, {len(failed)} failed")
    return EXIT_LINKS_FAILED if failed else 0
