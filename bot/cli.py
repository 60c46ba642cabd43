"""The ``privacybot`` command line (also ``python -m bot``).

    privacybot ask "how do I stop Grok training?"
    privacybot ask --json --lang fr "désactiver grok"
    privacybot chat
    privacybot kb check [DIR]   (also kb stale, kb links: see bot/cli_kb.py)
    privacybot topics
    privacybot eval ../shared/eval/dev.yaml --min 0.95
    privacybot run [telegram] [bluesky]

Every command loads the knowledge base first; an invalid one ends the program
with ``file: topic: field: problem`` lines and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot import cli_kb, cli_site
from bot.core import Answer, Core
from bot.errors import ConfigError
from bot.evaluation import evaluate, format_report, load_file
from bot.kb.loader import KnowledgeBase, KnowledgeError, default_dir, load_knowledge
from bot.messages import IncomingMessage, Reply
from bot.nlu.language import SUPPORTED, normalize_hint
from bot.nlu.registry import RegistryError
from bot.render.plain import render_plain
from bot.texts import text

EXIT_INVALID = 2

# Extra subcommands (run, config, admin...) register themselves here so that the
# operations code stays out of this module.
EXTENSIONS: list[Callable[[argparse._SubParsersAction, argparse._SubParsersAction], None]] = []


def _load(directory: str | None) -> KnowledgeBase:
    return load_knowledge(Path(directory) if directory else default_dir())


def _cmd_ask(args: argparse.Namespace) -> int:
    core = Core(_load(args.kb))
    answer = asyncio.run(
        core.respond(
            IncomingMessage(text=args.question, language_hint=args.lang, surface_hint=args.surface)
        )
    )
    reply = answer.reply
    rendered = render_plain(reply)
    if args.json:
        understood = answer.understood
        payload = {
            "topic": reply.topic_id,
            "confidence": reply.confidence,
            "language": reply.language,
            "asked_language": understood.language if understood else reply.language,
            "platform": understood.platform if understood else None,
            "need": understood.need if understood else None,
            "surface": answer.match.surface,
            "kind": reply.kind,
            "text": rendered,
            "url": reply.url,
            "steps": list(reply.steps),
            "last_verified": reply.last_verified.isoformat() if reply.last_verified else None,
            "alternatives": [
                {"topic": a.topic_id, "confidence": a.confidence} for a in reply.alternatives
            ],
            "choices": [
                {"kind": c.kind, "value": c.value, "label": c.label} for c in reply.choices
            ],
        }
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(rendered)
    return 0


def _cmd_chat(args: argparse.Namespace) -> int:
    core = Core(_load(args.kb))
    interactive = sys.stdin.isatty() and not args.json
    prompt = "> " if interactive else ""
    if interactive:
        print("privacybot: ask how to stop a platform using your data. Ctrl-D to quit.")

    async def loop() -> None:
        while True:
            try:
                line = input(prompt)
            except EOFError:
                return
            if line.strip().lower() in {"quit", "exit", "/quit"}:
                return
            wanted = line.strip().split()
            if len(wanted) == 2 and wanted[0] == "/lang" and normalize_hint(wanted[1]):
                # The choice stays until the person changes it, as on Telegram.
                await core.set_language("cli", "terminal", normalize_hint(wanted[1]) or "en")
                print(text(normalize_hint(wanted[1]) or "en", "tg.lang.set"))
                continue
            # "2" after "Which one do you mean?", follow-ups and "sources" after an
            # answer are the core's job, as on every channel: the terminal passes text.
            incoming = IncomingMessage(text=line, user_id="terminal", language_hint=args.lang)
            detail = await core.detail_request(incoming)
            answer = None if detail is not None else await core.respond(incoming)
            reply = detail if detail is not None else answer.reply  # type: ignore[union-attr]
            if args.json:
                print(json.dumps(_chat_payload(reply, answer), ensure_ascii=False), flush=True)
            else:
                print(render_plain(reply))
                print()

    asyncio.run(loop())
    return 0


def _chat_payload(reply: Reply, answer: Answer | None) -> dict[str, object]:
    """One reply of ``privacybot chat --json`` (``answer`` is None for a detail part)."""
    understood = answer.understood if answer is not None else None
    return {
        "topic": reply.topic_id,
        "kind": reply.kind,
        "language": reply.language,
        "asked_language": understood.language if understood else reply.language,
        "platform": understood.platform if understood else None,
        "need": understood.need if understood else None,
        "surface": reply.surface,
        "follow_up": answer.follow_up if answer is not None else True,
        "choices": [{"kind": c.kind, "value": c.value, "label": c.label} for c in reply.choices],
        "title": reply.title,
    }


def _cmd_topics(args: argparse.Namespace) -> int:
    kb = _load(args.kb)
    for topic in kb.topics.values():
        loc = topic.lang(args.lang or "en")
        print(f"{topic.id}\t{loc.title}\t(checked {topic.last_verified.isoformat()})")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    core = Core(_load(args.kb))
    cases, dialogues = load_file(Path(args.file))
    report = evaluate(core, cases, dialogues)
    print(format_report(report))
    if args.min is not None and report.accuracy < args.min:
        print(f"accuracy {report.accuracy:.1%} is below --min {args.min:.1%}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="privacybot",
        description="Tells people how to stop platforms from using their data.",
    )
    parser.add_argument("--kb", help="knowledge directory (default: the bundled knowledge/)")
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--lang", choices=SUPPORTED, help="language hint (breaks ties)")
    ask.add_argument("--surface", choices=["web", "ios", "android"])
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.set_defaults(func=_cmd_ask)

    chat = sub.add_parser("chat", help="talk with the bot in the terminal")
    chat.add_argument("--lang", choices=SUPPORTED)
    chat.add_argument(
        "--json", action="store_true", help="one message a line in, one JSON object a line out"
    )
    chat.set_defaults(func=_cmd_chat)

    kb = sub.add_parser("kb", help="knowledge base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    cli_kb.register(kb_sub)  # check, stale, links

    topics = sub.add_parser("topics", help="list topics")
    topics.add_argument("--lang", choices=["en", "fr"])
    topics.set_defaults(func=_cmd_topics)

    ev = sub.add_parser("eval", help="measure the engine on a question or conversation file")
    ev.add_argument("file")
    ev.add_argument("--min", type=float, help="fail when top-1 accuracy is below this (0..1)")
    ev.set_defaults(func=_cmd_eval)

    from bot import (
        cli_bluesky,  # noqa: F401  (registers `bluesky setup-profile`)
        cli_ops,  # noqa: F401  (registers run/config/admin into EXTENSIONS)
        cli_preview,
    )

    for extend in EXTENSIONS:
        extend(sub, kb_sub)
    cli_site.register(sub)
    cli_preview.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
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


if __name__ == "__main__":
    sys.exit(main())
