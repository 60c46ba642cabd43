"""Python helper for the local Bluesky/atproto stack (PLC + PDS + AppView) used by e2e tests.

Usage from pytest::

    from tests.bluesky_stack import stack

    @pytest.fixture(scope="module")
    def bsky():
        info = stack.start_stack()          # runs up.sh (idempotent), returns URLs
        yield info
        if not info.reused:                 # someone else's running stack: leave it up
            stack.stop_stack()              # runs down.sh

    def test_x(bsky):
        alice = stack.create_account("alice.test", "pw-alice-123")
        bot = stack.create_account("grokbot.test", "pw-bot-123")
        post = stack.post_mention(alice.client, bot, " how do I stop Grok training?")
        notif = stack.wait_for_notification(bot.client, uri=post.uri, reason="mention")
        reply = stack.reply_to(bot.client, notif, "Settings > Privacy ...")
        stack.wait_for_reply_in_thread(alice.client, post.uri, reply.uri)

Point the SDK (and the adapter under test) at ``info.pds_url``: the PDS proxies ``app.bsky.*``
to the AppView by itself. AppView reads are eventually consistent; ``process_all()`` (the
launcher's ``/process-all`` endpoint) makes them deterministic.

Env: BSKY_STACK_DIR (state dir, default <repo>/.stack), BSKY_STACK_TIMEOUT (s), ports as in up.sh.
Handles: ``<3-18 chars>.test``; ``bot.test`` / ``user.test`` are reserved unless the stack was
started with UNRESERVE_HANDLES=bot,user (``start_stack(unreserve_handles=["bot", "user"])``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
UP_SH = HERE / "up.sh"
DOWN_SH = HERE / "down.sh"

T = TypeVar("T")


class StackError(RuntimeError):
    """up.sh / down.sh failed, or the stack is not running."""


@dataclass(frozen=True)
class StackInfo:
    pds_url: str  # point the SDK / adapter here (http://127.0.0.1:2583)
    appview_url: str  # AppView (bsky) direct, public unauthenticated reads only
    plc_url: str  # did:plc directory (in memory; reset on every start)
    process_all_url: str  # GET -> AppView has indexed every write the PDS has sequenced
    appview_did: str = ""
    ozone_url: str = ""
    state_dir: Path = field(default_factory=lambda: default_state_dir())
    pid: int = 0  # the Node launcher's pid
    startup_ms: int = 0  # TestNetwork.create time reported by the launcher
    reused: bool = False  # start_stack() found it already running: don't stop what you didn't start


@dataclass
class Account:
    handle: str
    did: str
    password: str
    client: Any = None  # logged-in atproto.Client (None if create_account(log_in=False))


_current: StackInfo | None = None


def default_state_dir() -> Path:
    return Path(os.environ.get("BSKY_STACK_DIR") or (REPO_ROOT / ".stack")).resolve()


def _env(state_dir: str | Path | None, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["BSKY_STACK_DIR"] = str(Path(state_dir).resolve() if state_dir else default_state_dir())
    env.update(extra or {})
    return env


def _info_from_ready(state_dir: Path) -> StackInfo:
    ready = json.loads((state_dir / "ready.json").read_text())
    return StackInfo(
        pds_url=ready["pds"],
        appview_url=ready["appview"],
        plc_url=ready["plc"],
        process_all_url=ready["processAll"],
        appview_did=ready.get("appviewDid", ""),
        ozone_url=ready.get("ozone", ""),
        state_dir=state_dir,
        pid=int(ready.get("pid", 0)),
        startup_ms=int(ready.get("startupMs", 0)),
    )


def start_stack(
    timeout: float = 300.0,
    state_dir: str | Path | None = None,
    unreserve_handles: list[str] | None = None,
) -> StackInfo:
    """Run up.sh (installs what is missing, starts Postgres + network, waits for health).

    Idempotent: returns the running stack's info if it is already up. ``timeout`` covers the
    whole script, including a first ``npm ci`` (~75-90 s here). Raises StackError with the
    script's output on failure.
    """
    global _current
    sd = Path(state_dir).resolve() if state_dir else default_state_dir()
    extra = {"BSKY_STACK_TIMEOUT": str(int(max(30, timeout - 5)))}
    if unreserve_handles:
        extra["UNRESERVE_HANDLES"] = ",".join(unreserve_handles)
    try:
        proc = subprocess.run(
            ["bash", str(UP_SH)],
            env=_env(sd, extra),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        raise StackError(f"up.sh timed out after {timeout}s\n{e.stderr or ''}") from e
    with contextlib.suppress(OSError):  # keep up.sh's log (npm ci, initdb, timings) by net.log
        (sd / "up.log").write_text(proc.stderr + proc.stdout)
    if proc.returncode != 0:
        raise StackError(
            f"up.sh failed (rc={proc.returncode}); logs in {sd}/up.log and {sd}/net.log\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-6000:]}"
        )
    _current = dataclasses.replace(
        _info_from_ready(sd), reused="BSKY_STACK_REUSED=1" in proc.stdout.splitlines()
    )
    return _current


def stop_stack(state_dir: str | Path | None = None, purge: bool = False) -> None:
    """Run down.sh: SIGTERM the launcher (network.close()), stop Postgres. Idempotent."""
    global _current
    args = ["bash", str(DOWN_SH)] + (["--purge"] if purge else [])
    proc = subprocess.run(
        args,
        env=_env(state_dir),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    _current = None
    if proc.returncode != 0:
        raise StackError(f"down.sh failed (rc={proc.returncode})\n{proc.stdout}\n{proc.stderr}")


def stack_info(state_dir: str | Path | None = None) -> StackInfo | None:
    """Info of a running stack (from ready.json), or None."""
    sd = Path(state_dir).resolve() if state_dir else default_state_dir()
    try:
        return _info_from_ready(sd)
    except (OSError, ValueError, KeyError):
        return None


def current() -> StackInfo:
    info = _current or stack_info()
    if info is None:
        raise StackError("the Bluesky stack is not running: call start_stack() first")
    return info


def process_all(info: StackInfo | None = None, timeout_ms: int = 10000) -> float:
    """Make the AppView catch up with the PDS (drains queues, waits for the firehose cursor).

    Returns the seconds it took. After it returns, notifications/threads for every write made
    before the call are readable.
    """
    info = info or current()
    t0 = time.monotonic()
    url = f"{info.process_all_url}?timeout={int(timeout_ms)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_ms / 1000 + 10) as r:
            r.read()
    except urllib.error.HTTPError as e:
        raise StackError(f"process-all failed: {e.code} {e.read()[:500]!r}") from e
    return time.monotonic() - t0


def memory_usage(info: StackInfo | None = None) -> dict:
    """RSS of the Node launcher; summed RSS and summed PSS of all postgres processes (MiB)."""
    info = info or current()

    def read_kb(pid: int, path: str, key: str) -> int:
        try:
            for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    pg_pids = []
    pg_root = info.state_dir / "pg"
    with contextlib.suppress(OSError):
        pg_root = Path((info.state_dir / "pg.path").read_text().strip())
    pm = pg_root / "data" / "postmaster.pid"
    if pm.exists():
        master = int(pm.read_text().splitlines()[0])
        pg_pids = [master]
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                try:
                    if int(p.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                        pg_pids.append(int(p.name))
                except (OSError, IndexError, ValueError):
                    pass
    return {
        "node_rss_mib": read_kb(info.pid, "status", "VmRSS") / 1024,
        "node_hwm_mib": read_kb(info.pid, "status", "VmHWM") / 1024,
        "postgres_procs": len(pg_pids),
        "postgres_rss_sum_mib": sum(read_kb(p, "status", "VmRSS") for p in pg_pids) / 1024,
        "postgres_pss_sum_mib": sum(read_kb(p, "smaps_rollup", "Pss") for p in pg_pids) / 1024,
    }


# ---------------------------------------------------------------------------------------------
# atproto SDK helpers (pip install atproto)


def make_client(info: StackInfo | None = None):
    from atproto import Client

    return Client(base_url=(info or current()).pds_url)


def login(handle: str, password: str, info: StackInfo | None = None):
    """Logged-in atproto.Client against the local PDS (createSession costs ~0.4 s: reuse it)."""
    client = make_client(info)
    client.login(handle, password)
    return client


def create_account(
    handle: str,
    password: str,
    *,
    email: str | None = None,
    log_in: bool = True,
    info: StackInfo | None = None,
) -> Account:
    """com.atproto.server.createAccount on the local PDS (no invite code needed).

    Waits (process_all) until the AppView has indexed the new account, so that ``login()``'s
    getProfile call does not race (research pitfall 2). Returns an Account with a logged-in client
    unless ``log_in=False``.
    """
    from atproto import models

    info = info or current()
    c = make_client(info)
    res = c.com.atproto.server.create_account(
        models.ComAtprotoServerCreateAccount.Data(
            handle=handle,
            password=password,
            email=email or f"{handle.split('.')[0]}@example.com",
        )
    )
    process_all(info)
    acct = Account(handle=res.handle, did=res.did, password=password)
    if log_in:
        acct.client = login(handle, password, info)
    return acct


def set_profile(
    client,
    *,
    display_name: str | None = None,
    description: str | None = None,
    bot: bool = False,
    info: StackInfo | None = None,
):
    """Write app.bsky.actor.profile/self; ``bot=True`` adds the self-label ``bot``:
    ``labels: {$type: com.atproto.label.defs#selfLabels, values: [{val: bot}]}``."""
    from atproto import models

    labels = None
    if bot:
        labels = models.ComAtprotoLabelDefs.SelfLabels(
            values=[models.ComAtprotoLabelDefs.SelfLabel(val="bot")]
        )
    record = models.AppBskyActorProfile.Record(
        display_name=display_name, description=description, labels=labels
    )
    res = client.com.atproto.repo.put_record(
        models.ComAtprotoRepoPutRecord.Data(
            repo=client.me.did if client.me else client._session.did,
            collection="app.bsky.actor.profile",
            rkey="self",
            record=record,
        )
    )
    process_all(info)
    return res


def _did_handle(target: Account | tuple[str, str]) -> tuple[str, str]:
    if isinstance(target, Account):
        return target.did, target.handle
    did, handle = target
    return did, handle


def post_mention(
    client,
    target: Account | tuple[str, str],
    text: str = "",
    *,
    prefix: str = "",
    langs: list[str] | None = None,
    reply_to=None,
):
    """Post ``f"{prefix}@{handle}{text}"`` with a proper app.bsky.richtext.facet#mention facet
    (built by atproto.client_utils.TextBuilder, UTF-8 byte offsets). ``target`` is an Account or
    (did, handle). Returns the CreateRecordResponse (uri, cid)."""
    from atproto import client_utils

    did, handle = _did_handle(target)
    tb = client_utils.TextBuilder()
    if prefix:
        tb.text(prefix)
    tb.mention(f"@{handle}", did)
    if text:
        tb.text(text)
    return client.send_post(tb, langs=langs, reply_to=reply_to)


def reply_refs(post) -> Any:
    """ReplyRef for answering ``post`` (a notification or PostView: has uri, cid, record).

    parent = the post itself; root = post.record.reply.root if the post is itself a reply,
    else the post (setting root=parent for nested replies breaks threads)."""
    from atproto import models

    parent = models.create_strong_ref(post)
    rec = getattr(post, "record", None)
    rec_reply = getattr(rec, "reply", None) if rec is not None else None
    if rec_reply is None and isinstance(rec, dict):
        rec_reply = rec.get("reply")
    root = parent
    if rec_reply is not None:
        r = rec_reply.root if hasattr(rec_reply, "root") else rec_reply["root"]
        root = models.ComAtprotoRepoStrongRef.Main(
            uri=r.uri if hasattr(r, "uri") else r["uri"],
            cid=r.cid if hasattr(r, "cid") else r["cid"],
        )
    return models.AppBskyFeedPost.ReplyRef(root=root, parent=parent)


def reply_to(client, post, text: str | Any, *, langs: list[str] | None = None):
    """Reply to ``post`` (notification / PostView) with correct root/parent strong refs.
    ``text`` may be a str or a client_utils.TextBuilder."""
    return client.send_post(text, reply_to=reply_refs(post), langs=langs)


def wait_for(
    fn: Callable[[], T | None],
    timeout: float = 10.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Poll ``fn`` until it returns a truthy value; TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # AppView not caught up yet (e.g. 400 "Post not found")
            last_exc = e
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {what}; last error: {last_exc!r}"
            )
        time.sleep(interval)


def wait_for_notification(
    client,
    *,
    uri: str | None = None,
    reason: str | None = "mention",
    timeout: float = 10.0,
    use_process_all: bool = True,
    info: StackInfo | None = None,
):
    """Wait until ``client``'s listNotifications contains a notification with ``reason`` (and
    ``uri`` if given); returns it. With ``use_process_all`` the AppView is first told to catch up,
    so the first call normally succeeds; otherwise this polls every 50 ms."""
    if use_process_all:
        process_all(info)

    def find():
        res = client.app.bsky.notification.list_notifications(params={"limit": 100})
        for n in res.notifications:
            if (uri is None or n.uri == uri) and (reason is None or n.reason == reason):
                return n
        return None

    return wait_for(find, timeout=timeout, what=f"notification reason={reason} uri={uri}")


def wait_for_post_indexed(
    client, uri: str, *, timeout: float = 10.0, use_process_all: bool = True, info=None
):
    """Wait until the AppView knows post ``uri`` (app.bsky.feed.getPosts); returns the PostView."""
    if use_process_all:
        process_all(info)

    def find():
        res = client.get_posts([uri])
        return res.posts[0] if res.posts else None

    return wait_for(find, timeout=timeout, what=f"post {uri} indexed")


def wait_for_reply_in_thread(
    client,
    root_uri: str,
    reply_uri: str,
    *,
    timeout: float = 10.0,
    use_process_all: bool = True,
    info=None,
):
    """Wait until getPostThread(root_uri) lists ``reply_uri`` among the direct replies;
    returns (thread, reply_thread_view)."""
    if use_process_all:
        process_all(info)

    def find():
        th = client.get_post_thread(root_uri, depth=6).thread
        for r in getattr(th, "replies", None) or []:
            if getattr(getattr(r, "post", None), "uri", None) == reply_uri:
                return th, r
        return None

    return wait_for(find, timeout=timeout, what=f"reply {reply_uri} in thread {root_uri}")


def has_bot_label(author) -> bool:
    """True if an author view (ProfileViewBasic/ProfileView) carries the ``bot`` label."""
    return any(
        getattr(lbl, "val", None) == "bot" for lbl in (getattr(author, "labels", None) or [])
    )
