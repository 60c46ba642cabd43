"""The ``privacybot site`` command group: the knowledge base as a static web site.

    privacybot site build OUT_DIR [--base-url https://privacy.example.org/]

The knowledge base is validated first; an invalid one ends the command with
``file: topic: field: problem`` lines and exit status 2 (the CLI's error
boundary), so a CI job or a deploy hook publishes nothing broken. The base URL
(default: ``PRIVACYBOT_SITE_URL``) only adds absolute addresses (canonical
links, ``hreflang``, the sitemap); without it the site still works from disk.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.cli.common import load_kb
from bot.site.urls import SITE_URL_VARIABLE

EXIT_CANNOT_WRITE = 1


def cmd_build(args: argparse.Namespace) -> int:
    """Validate the knowledge base and write the site into ``args.out_dir``."""
    # Jinja2 and the templates load only for this command, not at every CLI start.
    from bot.site.build import SiteError, build_site

    kb = load_kb(args)
    base_url = args.base_url or os.environ.get(SITE_URL_VARIABLE, "").strip() or None
    try:
        report = build_site(kb, Path(args.out_dir), base_url=base_url)
    except (SiteError, OSError) as exc:
        print(f"privacybot site build: {exc}", file=sys.stderr)
        return EXIT_CANNOT_WRITE
    print(
        f"{args.out_dir}: {report.pages} pages ({report.topic_pages} topic pages,"
        f" languages {', '.join(report.languages)}), {report.files} files,"
        f" {report.size_bytes / 1024:.0f} KiB, in {report.seconds:.2f} s"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``site build`` to the top-level subcommands.

    Args:
        subparsers: The ``privacybot`` parser's subparsers.
    """
    site = subparsers.add_parser("site", help="the knowledge base as a static web site")
    site_sub = site.add_subparsers(dest="site_command", required=True)
    build = site_sub.add_parser("build", help="write the site into OUT_DIR")
    build.add_argument("out_dir", metavar="OUT_DIR")
    build.add_argument(
        "--base-url",
        help=f"the site's public root URL (default: ${SITE_URL_VARIABLE}); adds canonical"
        " links and absolute sitemap entries",
    )
    build.set_defaults(func=cmd_build)
