"""Build the static site from the knowledge base, through the core's replies.

Every topic page is made of :class:`~bot.messages.Reply` objects, one per
surface, exactly as the chat renderers receive them: the site shows what the
bot would say, never a second reading of the YAML. Links between pages are
relative and name ``index.html`` so the site works from ``file://`` as well as
from any static host; absolute addresses (canonical, ``hreflang``, the
sitemap) appear only when the site's public URL is known.
"""

from __future__ import annotations

import json
import posixpath
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import jinja2

from bot.core import PRIMARY_PLATFORM, Core
from bot.kb.loader import KnowledgeBase
from bot.kb.schema import SURFACES, Topic, format_date
from bot.messages import Reply
from bot.site.texts import LANGUAGE_NAMES, SITE_LANGUAGES, need_label, site_text
from bot.site.urls import topic_path

# A file only a previous build leaves: the builder empties a folder holding it
# and refuses to touch any other non-empty folder (someone's home directory).
MARKER = ".privacybot-site"
STYLESHEET = "style.css"
BOT_PLATFORM = "bot"
PRIVACY_TOPIC = "bot.privacy"
TOPICS_JSON_FORMAT = "privacybot-topics/1"


class SiteError(Exception):
    """The site cannot be written where asked."""


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build produced, for the command line and the tests.

    Attributes:
        pages: HTML pages written.
        topic_pages: Of which topic pages (one per topic and language).
        files: All files written (pages, style sheet, sitemap, topics.json...).
        size_bytes: Their total size.
        seconds: Wall-clock build time.
        languages: Languages with at least one page.
    """

    pages: int
    topic_pages: int
    files: int
    size_bytes: int
    seconds: float
    languages: tuple[str, ...]


@dataclass(slots=True)
class _Output:
    root: Path
    files: int = 0
    size: int = 0
    pages: int = 0
    written: list[str] = field(default_factory=list)

    def write(self, relative: str, content: str) -> None:
        data = content.encode("utf-8")
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.files += 1
        self.size += len(data)
        self.pages += relative.endswith(".html")
        self.written.append(relative)


def topic_languages(topic: Topic) -> tuple[str, ...]:
    """The site languages a topic is written in (en and fr always; es, pt... when present).

    A language the topic lacks gets no page: the core would answer in English
    under that language's headings, which is a chat fallback, not a page.
    """
    return tuple(lang for lang in topic.languages if lang in SITE_LANGUAGES)


def _page_file(directory: str) -> str:
    return f"{directory}index.html"


def _relative(target: str, page: str) -> str:
    """A link from the file ``page`` to the file ``target``, both below the root."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


@dataclass(frozen=True, slots=True)
class _Section:
    surface: str
    heading: str
    steps: tuple[str, ...]
    note: str | None


class SiteBuilder:
    """Turns a knowledge base into pages; :func:`build_site` is the usual entry.

    Args:
        kb: The validated knowledge base.
        base_url: The site's public root (``https://privacy.example.org/``),
            or None when unknown (then no absolute URL is written).
    """

    def __init__(self, kb: KnowledgeBase, *, base_url: str | None = None) -> None:
        self.kb = kb
        self.core = Core(kb)
        self.base_url = base_url.strip().rstrip("/") + "/" if base_url else None
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("bot.site", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.languages: dict[str, tuple[str, ...]] = {
            tid: topic_languages(topic) for tid, topic in kb.topics.items()
        }
        self.site_languages = tuple(
            lang for lang in SITE_LANGUAGES if any(lang in ls for ls in self.languages.values())
        )

    # -- addresses ---------------------------------------------------------

    def absolute(self, file: str) -> str | None:
        """The public URL of a file below the root (directories end with ``/``)."""
        if self.base_url is None:
            return None
        if file.endswith("index.html"):
            file = file[: -len("index.html")]
        return self.base_url + file

    def topic_file(self, language: str, topic_id: str) -> str:
        """The topic page's file, in ``language`` or else in English."""
        if language not in self.languages.get(topic_id, ()):
            language = "en"
        return _page_file(topic_path(language, topic_id))

    # -- content -----------------------------------------------------------

    def sections(self, topic_id: str, language: str) -> tuple[Reply, list[_Section]]:
        """The topic's whole answer and its steps for every surface, web first.

        One ``full`` reply holds them all: the short answer's surface and the
        details' other surfaces, exactly what the chat offers part by part.
        """
        main = self.core.topic_reply(topic_id, language, part="full")
        answers = [main.short_answer.surface, *main.details.surfaces]
        by_surface = {a.surface: a for a in answers if a is not None}
        sections = [
            _Section(
                surface,
                site_text(language, f"surface.{surface}"),
                by_surface[surface].steps,
                by_surface[surface].note,
            )
            for surface in SURFACES
            if surface in by_surface
        ]
        return main, sections

    # -- pages -------------------------------------------------------------

    def _alternates(self, files: Mapping[str, str], page: str) -> list[dict[str, str]]:
        """``hreflang`` links: absolute with a base URL, else relative (for file://)."""
        links = []
        for lang, file in files.items():
            href = self.absolute(file) or _relative(file, page)
            links.append({"lang": lang, "href": href, "name": LANGUAGE_NAMES[lang], "file": file})
        return links

    def _common(self, language: str, page: str, files: Mapping[str, str]) -> dict[str, Any]:
        def t(key: str) -> str:
            return site_text(language, key)

        def link(target: str) -> str:
            return _relative(target, page)

        alternates = self._alternates(files, page)
        return {
            "lang": language,
            "t": t,
            "link": link,
            "css": link(STYLESHEET),
            "home": link(f"{language}/index.html"),
            "privacy": link(f"{language}/privacy/index.html"),
            "topics_json": link("topics.json"),
            "canonical": self.absolute(page),
            "alternates": alternates,
            "others": [{**a, "href": link(a["file"])} for a in alternates if a["lang"] != language],
            "x_default": next((a["href"] for a in alternates if a["lang"] == "en"), None),
        }

    def topic_page(self, topic_id: str, language: str) -> str:
        """Render one topic page."""
        topic = self.kb.topics[topic_id]
        page = self.topic_file(language, topic_id)
        files = {lang: self.topic_file(lang, topic_id) for lang in self.languages[topic_id]}
        main, sections = self.sections(topic_id, language)
        related = [
            {
                "title": c.label,
                "href": _relative(self.topic_file(language, c.value), page),
                # A related topic not written in this language opens in English.
                "lang": None if language in self.languages[c.value] else "en",
            }
            for c in main.choices
            if c.kind == "topic" and c.value in self.kb.topics
        ]
        # The reply carries the few sources a chat message can hold; the page
        # has room for every one, with its kind, in the knowledge base's order.
        sources = [
            {
                "title": s.title,
                "publisher": s.publisher,
                "url": s.url,
                "date": s.date,
                "date_text": format_date(s.date, language) if s.date else None,
                "kind": s.kind,
            }
            for s in topic.sources
        ]
        checked = main.last_verified or topic.last_verified
        return self.env.get_template("topic.html").render(
            **self._common(language, page, files),
            reply=main,
            title=main.title,
            summary=main.summary,
            sections=sections,
            facts=main.facts,
            caveats=main.caveats,
            sources=sources,
            related=related,
            platform_name=self.kb.platforms.get(topic.platform, topic.platform),
            checked=checked,
            checked_text=format_date(checked, language),
        )

    def _listing(self, language: str) -> list[Topic]:
        topics = [
            topic
            for tid, topic in self.kb.topics.items()
            if language in self.languages[tid] and topic.platform != BOT_PLATFORM
        ]
        # X first, as in the bot's own lists: it is what most people come for.
        return sorted(topics, key=lambda t: t.platform != PRIMARY_PLATFORM)

    def home_page(self, language: str) -> str:
        """Render a language's home page: topics by platform, then by need."""
        page = f"{language}/index.html"
        files = {lang: f"{lang}/index.html" for lang in self.site_languages}

        def entry(topic: Topic) -> dict[str, str]:
            reply = self.core.topic_reply(topic.id, language)
            return {
                "title": reply.title,
                "href": _relative(self.topic_file(language, topic.id), page),
            }

        platforms: dict[str, list[dict[str, str]]] = {}
        by_need: dict[str, list[dict[str, str]]] = {}
        for topic in self._listing(language):
            item = entry(topic)
            name = self.kb.platforms.get(topic.platform, topic.platform)
            platforms.setdefault(name, []).append(item)
            by_need.setdefault(topic.need, []).append(item)
        # Needs in the vocabulary's order (knowledge/needs.yaml), not the files'.
        order = {need: index for index, need in enumerate(self.kb.needs)}
        needs = {
            need_label(language, need): by_need[need]
            for need in sorted(by_need, key=lambda n: order.get(n, len(order)))
        }
        return self.env.get_template("home.html").render(
            **self._common(language, page, files),
            title=site_text(language, "home.title"),
            platforms=platforms,
            needs=needs,
        )

    def privacy_page(self, language: str) -> str:
        """Render the page saying what the site and the bot store."""
        page = f"{language}/privacy/index.html"
        files = {lang: f"{lang}/privacy/index.html" for lang in self.site_languages}
        bot_reply, bot_lang = None, None
        if PRIVACY_TOPIC in self.kb.topics:
            # What the bot stores matters in every language: English when not translated.
            bot_lang = language if language in self.languages[PRIVACY_TOPIC] else "en"
            bot_reply = self.core.topic_reply(PRIVACY_TOPIC, bot_lang)
        return self.env.get_template("privacy.html").render(
            **self._common(language, page, files),
            title=site_text(language, "privacy.title"),
            bot_reply=bot_reply,
            bot_lang=None if bot_lang == language else bot_lang,
        )

    def root_page(self) -> str:
        """Render the root page: a choice of language."""
        files = {lang: f"{lang}/index.html" for lang in self.site_languages}
        return self.env.get_template("root.html").render(
            **self._common("en", "index.html", files),
            title="privacybot",
            languages=[
                {
                    "lang": lang,
                    "name": LANGUAGE_NAMES[lang],
                    "href": f"{lang}/index.html",
                    "label": site_text(lang, "home.title"),
                }
                for lang in self.site_languages
            ],
        )

    # -- data files --------------------------------------------------------

    def topics_json(self) -> str:
        """The public subset of the knowledge base, as the site shows it."""
        topics = []
        for tid, topic in self.kb.topics.items():
            content: dict[str, Any] = {}
            main: Reply | None = None
            for lang in self.languages[tid]:
                main, sections = self.sections(tid, lang)
                content[lang] = {
                    "title": main.title,
                    "summary": main.summary,
                    "short": main.short,
                    "page": self.absolute(self.topic_file(lang, tid)) or topic_path(lang, tid),
                    "steps": {
                        s.surface: {"steps": list(s.steps), "note": s.note} for s in sections
                    },
                    "facts": list(main.facts),
                    "caveats": list(main.caveats),
                }
            assert main is not None  # en is required for every topic
            topics.append(
                {
                    "id": tid,
                    "platform": topic.platform,
                    "platform_name": self.kb.platforms.get(topic.platform, topic.platform),
                    "need": topic.need,
                    "products": topic.product_ids,
                    "settings_url": main.url,
                    "last_verified": (main.last_verified or topic.last_verified).isoformat(),
                    "sources": [
                        {
                            "title": s.title,
                            "publisher": s.publisher,
                            "url": s.url,
                            "date": s.date.isoformat() if s.date else None,
                            "kind": s.kind,
                        }
                        for s in topic.sources
                    ],
                    "languages": list(self.languages[tid]),
                    "content": content,
                }
            )
        payload = {
            "format": TOPICS_JSON_FORMAT,
            "knowledge_version": self.kb.version,
            "languages": list(self.site_languages),
            "topics": topics,
        }
        return json.dumps(payload, ensure_ascii=False, indent=1) + "\n"

    def sitemap(self, groups: Iterable[Mapping[str, str]]) -> str:
        """A sitemap listing every page with its translations (``xhtml:link``).

        Without a base URL the locations are root-relative paths, which a
        static host can still serve; search engines want the absolute form,
        so publish with ``--base-url``.
        """
        prefix = self.base_url or "/"
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
            ' xmlns:xhtml="http://www.w3.org/1999/xhtml">',
        ]
        for files in groups:
            for file in files.values():
                lines.append("  <url>")
                lines.append(f"    <loc>{xml_escape(prefix + _directory(file))}</loc>")
                for lang, other in files.items():
                    href = xml_escape(prefix + _directory(other))
                    lines.append(
                        f'    <xhtml:link rel="alternate" hreflang="{lang}" href="{href}"/>'
                    )
                lines.append("  </url>")
        lines.append("</urlset>")
        return "\n".join(lines) + "\n"

    # -- the whole site ----------------------------------------------------

    def write(self, out_dir: Path) -> BuildReport:
        """Write every file of the site into ``out_dir`` (emptied first)."""
        started = time.perf_counter()
        _prepare(out_dir)
        out = _Output(out_dir)
        (out_dir / MARKER).write_text("privacybot site build output; safe to delete\n")
        out.write(STYLESHEET, resources.files("bot.site").joinpath("static/style.css").read_text())
        out.write("index.html", self.root_page())
        groups: list[dict[str, str]] = []
        home = {lang: f"{lang}/index.html" for lang in self.site_languages}
        privacy = {lang: f"{lang}/privacy/index.html" for lang in self.site_languages}
        groups += [home, privacy]
        for lang in self.site_languages:
            out.write(home[lang], self.home_page(lang))
            out.write(privacy[lang], self.privacy_page(lang))
        topic_pages = 0
        for tid in self.kb.topics:
            files = {lang: self.topic_file(lang, tid) for lang in self.languages[tid]}
            groups.append(files)
            for lang, file in files.items():
                out.write(file, self.topic_page(tid, lang))
                topic_pages += 1
        out.write("sitemap.xml", self.sitemap(groups))
        out.write("topics.json", self.topics_json())
        if self.base_url:
            out.write(
                "robots.txt", f"User-agent: *\nAllow: /\nSitemap: {self.base_url}sitemap.xml\n"
            )
        return BuildReport(
            pages=out.pages,
            topic_pages=topic_pages,
            files=out.files,
            size_bytes=out.size,
            seconds=time.perf_counter() - started,
            languages=self.site_languages,
        )


def _directory(file: str) -> str:
    return file[: -len("index.html")] if file.endswith("index.html") else file


def _prepare(out_dir: Path) -> None:
    """Empty a previous build's folder; refuse any other non-empty folder."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SiteError(f"{out_dir}: exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).exists():
            raise SiteError(
                f"{out_dir}: not empty and not a previous site build ({MARKER} missing);"
                " refusing to overwrite it"
            )
        # Empty the folder's content, not the folder: a web server or a
        # container volume may hold it open.
        for child in out_dir.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def build_site(kb: KnowledgeBase, out_dir: Path, *, base_url: str | None = None) -> BuildReport:
    """Build the whole site into ``out_dir``.

    Args:
        kb: The validated knowledge base.
        out_dir: Where to write; created if missing, emptied if it holds a
            previous build.
        base_url: The public root URL, for canonical links, ``hreflang`` and
            the sitemap; None for a site read from disk or of unknown address.

    Returns:
        What was written.

    Raises:
        SiteError: If ``out_dir`` is a file or a non-empty folder that is not
            a previous build.
    """
    return SiteBuilder(kb, base_url=base_url).write(out_dir)
