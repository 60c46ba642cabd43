"""Helpers to read a built site: parse pages, map links and addresses to files.

Shared by tests/test_site.py and tests/test_site_browser.py.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

BASE_URL = "https://privacy.example.org/"


@dataclass
class Page:
    """What the tests need from one HTML page."""

    file: str
    lang: str | None = None
    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    headings: list[int] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    first_body_tag: tuple[str, dict[str, str]] | None = None

    def attrs(self, tag: str) -> list[dict[str, str]]:
        """Attributes of every ``tag`` element, in document order."""
        return [a for t, a in self.tags if t == tag]

    def alternates(self) -> dict[str, str]:
        """hreflang -> href of the ``<link rel="alternate">`` elements."""
        return {
            a["hreflang"]: a["href"]
            for a in self.attrs("link")
            if a.get("rel") == "alternate" and "hreflang" in a
        }


class _Parser(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.page.tags.append((tag, values))
        if tag == "html":
            self.page.lang = values.get("lang")
        if tag == "body":
            self.in_body = True
        elif self.in_body and self.page.first_body_tag is None:
            self.page.first_body_tag = (tag, values)
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.page.headings.append(int(tag[1]))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.page.text.append(data.strip())


def parse(root: Path, file: str) -> Page:
    """Parse the page ``file`` (relative to ``root``)."""
    page = Page(file)
    _Parser(page).feed((root / file).read_text(encoding="utf-8"))
    return page


def pages(root: Path) -> dict[str, Page]:
    """Every HTML page of the site, by path relative to ``root``."""
    return {
        p.relative_to(root).as_posix(): parse(root, p.relative_to(root).as_posix())
        for p in sorted(root.rglob("*.html"))
    }


def resolve(page_file: str, href: str) -> str:
    """The file a relative link from ``page_file`` points to (fragment dropped)."""
    href = href.split("#", 1)[0]
    if not href:
        return page_file
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page_file), href))
    return target + "/index.html" if href.endswith("/") else target


def url_to_file(url: str) -> str:
    """The file an absolute address of the test site stands for."""
    assert url.startswith(BASE_URL), url
    path = url[len(BASE_URL) :]
    return path + "index.html" if path.endswith("/") or not path else path
