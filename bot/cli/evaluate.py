"""``privacybot eval``: measure the engine on a question or conversation file.

    privacybot eval ../shared/eval/dev.yaml --min 0.95

Prints the report of :func:`bot.evaluation.format_report`; with ``--min`` the
exit status is 1 when top-1 accuracy is below it (for CI).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.common import build_core
from bot.evaluation import evaluate, format_report, load_file


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``eval`` to the top-level subcommands.

    Args:
        subparsers: The ``privacybot`` parser's subparsers.
    """
    ev = subparsers.add_parser("eval", help="measure the engine on a question or conversation file")
    ev.add_argument("file")
    ev.add_argument("--min", type=float, help="fail when top-1 accuracy is below this (0..1)")
    ev.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate the file; 1 when accuracy is below ``--min``."""
    core = build_core(args)
    cases, dialogues = load_file(Path(args.file))
    report = evaluate(core, cases, dialogues)
    print(format_report(report))
    if args.min is not None and report.accuracy < args.min:
        print(f"accuracy {report.accuracy:.1%} is below --min {args.min:.1%}", file=sys.stderr)
        return 1
    return 0
