"""Check that every URL of the knowledge base still answers (``privacybot kb links``).

Editors run it by hand; it is the only knowledge tool that needs the internet.
Each URL is asked with HEAD (cheap), then with GET when a server refuses HEAD;
redirects are followed and reported. The standard library's client honours the
usual ``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY`` variables.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.kb.loader import KnowledgeBase

USER_AGENT = "privacybot-kb-links/1 (+https://github.com/privacybot; link checker)"
# Servers that refuse HEAD often answer these; GET is then tried.
_RETRY_WITH_GET = frozenset({403, 405, 501})


@dataclass(frozen=True, slots=True)
class LinkResult:
    """What one URL answered.

    Attributes:
        url: The URL asked.
        ok: True for a 2xx answer (after redirects).
        status: The HTTP status, or None when no answer came.
        detail: ``redirected to ...``, ``timed out after 10s``, the error...
        topics: The topics citing the URL.
    """

    url: str
    ok: bool
    status: int | None
    detail: str
    topics: tuple[str, ...]


def collect_urls(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Every URL of the knowledge base (settings links and sources) -> topics citing it."""
    urls: dict[str, list[str]] = {}
    for topic in kb.topics.values():
        for url in ([topic.url] if topic.url else []) + [s.url for s in topic.sources]:
            cited = urls.setdefault(url, [])
            if topic.id not in cited:
                cited.append(topic.id)
    return urls


def _ask(
    opener: urllib.request.OpenerDirector, url: str, method: str, timeout: float
) -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
    with opener.open(request, timeout=timeout) as response:
        if method == "GET":
            response.read(1024)  # a first chunk proves the body starts; the rest is not needed
        final = response.geturl()
        return int(response.status), final


def check_url(
    url: str,
    timeout: float,
    topics: Iterable[str] = (),
    opener: urllib.request.OpenerDirector | None = None,
) -> LinkResult:
    """Ask one URL; never raises.

    Args:
        url: An absolute http(s) URL.
        timeout: Seconds to wait for the connection and for each read.
        topics: The topics citing it (carried into the result).
        opener: The client to use; a new one (reading the proxy variables now) when None.

    Returns:
        The result.
    """
    opener = opener or urllib.request.build_opener()
    cited = tuple(topics)
    status: int | None = None
    try:
        try:
            status, final = _ask(opener, url, "HEAD", timeout)
        except urllib.error.HTTPError as exc:
            if exc.code not in _RETRY_WITH_GET:
                raise
            status, final = _ask(opener, url, "GET", timeout)
    except urllib.error.HTTPError as exc:
        return LinkResult(url, False, exc.code, f"HTTP {exc.code} {exc.reason}", cited)
    except TimeoutError:
        return LinkResult(url, False, None, f"timed out after {timeout:g}s", cited)
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return LinkResult(url, False, None, f"timed out after {timeout:g}s", cited)
        return LinkResult(url, False, None, f"no answer: {reason}", cited)
    except (OSError, ValueError) as exc:
        return LinkResult(url, False, None, f"no answer: {exc}", cited)
    detail = f"HTTP {status}" + (f", redirected to {final}" if final != url else "")
    return LinkResult(url, 200 <= status < 300, status, detail, cited)


def check_links(
    urls: dict[str, list[str]], *, timeout: float = 10.0, workers: int = 8
) -> list[LinkResult]:
    """Ask every URL, a few at a time.

    Args:
        urls: URL -> topics citing it (see :func:`collect_urls`).
        timeout: Seconds per request.
        workers: Requests in flight at once.

    Returns:
        One result per URL, in the order given.
    """
    if not urls:
        return []
    # One opener for the run, built now so that it sees the current proxy variables.
    opener = urllib.request.build_opener()
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(urls)))) as pool:
        futures = [
            pool.submit(check_url, url, timeout, topics, opener) for url, topics in urls.items()
        ]
        return [f.result() for f in futures]
