"""Operations subcommands of ``privacybot``, for whoever runs the bot.

    privacybot run [telegram] [bluesky]   # every configured channel by default
    privacybot config                     # the effective configuration, secrets masked
    privacybot admin purge                # apply retention now (also done every 6 h)
    privacybot kb reload                  # reload the running bot's knowledge base
                                          # (registered by bot.cli.kb)

Every command reads the environment plus an optional ``.env`` file (see
:mod:`bot.settings`). ``kb reload`` first validates the knowledge folder here,
then asks the running process through its health server
(``POST http://127.0.0.1:PORT/admin/reload`` with the admin token from
``PRIVACYBOT_ADMIN_TOKEN`` or the bot's token file beside its database, waiting
out a 429 when reloads come too fast); when the health server is off,
send SIGHUP instead (``systemctl reload privacybot``,
``docker compose kill -s HUP bot``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.cli.common import EXIT_INVALID, environment, knowledge_dir
from bot.errors import ConfigError
from bot.kb.loader import load_knowledge
from bot.settings import channel_variables
from bot.store import open_store, salt_path

EXIT_UNREACHABLE = 1
RELOAD_TIMEOUT = 30.0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``run``, ``config`` and ``admin purge`` to the top-level subcommands.

    Args:
        subparsers: The ``privacybot`` parser's subparsers.
    """
    run = subparsers.add_parser(
        "run", help="run the chat channels (all configured ones by default)"
    )
    run.add_argument("channels", nargs="*", metavar="CHANNEL", help="telegram, bluesky")
    run.set_defaults(func=cmd_run)

    config = subparsers.add_parser(
        "config", help="print the effective configuration, secrets masked"
    )
    config.set_defaults(func=cmd_config)

    admin = subparsers.add_parser("admin", help="maintenance")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    purge = admin_sub.add_parser("purge", help="delete data past its retention now")
    purge.set_defaults(func=cmd_purge)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the channels named on the command line (all configured ones by default)."""
    # The one place that knows how the application is started.
    from bot.app import serve  # aiohttp and the adapters: only when running

    return serve(args.channels, kb_dir=Path(args.kb) if args.kb else None)


def cmd_config(args: argparse.Namespace) -> int:
    """Print the effective configuration, secrets masked, and the channels configured."""
    from bot.channel_choice import builtin_factories, configured

    env, settings = environment()
    print("# privacybot effective configuration (secrets masked)")
    for name, value in settings.describe():
        print(f"{name}={value}")
    if settings.backend == "sqlite":
        source = "PRIVACYBOT_SALT" if settings.salt else f"file {salt_path(settings.db_path)}"
        print(f"# user ids are hashed with the salt from {source}")
    print(f"# knowledge base: {knowledge_dir(args, settings)}")
    rows = channel_variables(env)
    if rows:
        print("# channel variables")
        for name, value in rows:
            print(f"{name}={value}")
    try:
        factories = builtin_factories()
        ready = configured(factories, env)
    except Exception as exc:  # a broken adapter must not hide the rest
        print(f"# channels: cannot tell ({type(exc).__name__})")
    else:
        known = sorted(f.name for f in factories)
        print(f"# channels configured: {', '.join(ready) or 'none'} (known: {', '.join(known)})")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Apply the retention periods now and say what was deleted."""
    _, settings = environment()

    async def purge() -> dict[str, int]:
        store = open_store(settings)
        await store.open()
        try:
            return await store.purge(
                user_days=settings.user_retention_days,
                unanswered_days=settings.unanswered_retention_days,
            )
        finally:
            await store.close()

    counts = asyncio.run(purge())
    print(
        f"purged: {counts.get('users', 0)} user record(s) idle over "
        f"{settings.user_retention_days} days, {counts.get('answered_posts', 0)} answered "
        f"post address(es), {counts.get('unanswered', 0)} unanswered question(s) over "
        f"{settings.unanswered_retention_days} days"
    )
    return 0


def _post_reload(request: urllib.request.Request, attempts: int = 4) -> dict:
    """POST a reload, waiting out the bot's 429 (one reload every few seconds)."""
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=RELOAD_TIMEOUT) as response:
                return dict(json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            if exc.code != 429 or attempt == attempts - 1:
                raise
            delay = exc.headers.get("Retry-After", "2")
            time.sleep(min(float(delay) if delay.isdigit() else 2.0, 10.0))
    raise AssertionError("unreachable")


def _reload_url(host: str, port: int) -> str:
    """The running bot's reload address; a wildcard bind is asked on the loopback."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/admin/reload"


def _refused(exc: urllib.error.HTTPError, url: str) -> int:
    """Say why the running bot answered the reload with an error.

    Returns:
        The exit status: invalid knowledge (the bot keeps its version) or unreachable.
    """
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    if exc.code == 403:
        print(
            f"privacybot: the running bot refused the request ({body or exc.reason}); "
            "is PRIVACYBOT_ADMIN_TOKEN the same here as for the bot?",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    if exc.code == 422:
        print(f"the running bot refused the new version; it keeps {body.get('version')}:")
        for problem in body.get("problems", []):
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    print(f"privacybot: {url} answered {exc.code}", file=sys.stderr)
    return EXIT_UNREACHABLE


def cmd_kb_reload(args: argparse.Namespace) -> int:
    """Validate the knowledge folder here, then ask the running bot to reload it."""
    _, settings = environment()
    directory = knowledge_dir(args, settings)
    kb = load_knowledge(directory)  # invalid: problems printed, exit 2, nothing sent
    print(f"{directory}: {len(kb.topics)} topics OK (version {kb.version})")
    if settings.health_port is None:
        raise ConfigError(
            "PRIVACYBOT_HEALTH_PORT is off, so the running bot cannot be asked: send it "
            "SIGHUP instead (systemctl reload privacybot, docker compose kill -s HUP bot)"
        )
    url = _reload_url(settings.health_host, settings.health_port)
    from bot.health import admin_token, admin_token_path

    token = admin_token(settings)
    if token is None:  # the bot writes it at start: none yet means no bot ran here
        print(
            f"privacybot: no admin token in {admin_token_path(settings)} and "
            "PRIVACYBOT_ADMIN_TOKEN is unset: is the bot running with this PRIVACYBOT_DB? "
            "Otherwise send it SIGHUP.",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    request = urllib.request.Request(
        url,
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        body = _post_reload(request)
    except urllib.error.HTTPError as exc:
        return _refused(exc, url)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(
            f"privacybot: cannot reach the running bot at {url} ({reason}); is it running "
            "with this PRIVACYBOT_HEALTH_PORT? Otherwise send it SIGHUP.",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    print(f"the running bot now uses version {body.get('version')}")
    return 0
