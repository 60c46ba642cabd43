"""The static site built from the shipped knowledge base: links, translations, data files.

One build per module (it takes a fraction of a second); each test reads it
like a browser or a crawler would, from the files alone.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from helpers.processes import run_cli
from site_pages import BASE_URL, Page, pages, parse, resolve, url_to_file

from bot.core import Core
from bot.kb.loader import KnowledgeBase, load_knowledge
from bot.kb.schema import format_date
from bot.messages import Reply
from bot.site.build import MARKER, SiteError, build_site, topic_languages
from bot.site.urls import topic_page_url, topic_path

REPO = Path(__file__).resolve().parents[1]
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
XHTML_NS = "{http://www.w3.org/1999/xhtml}link"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> Path:
    out = tmp_path_factory.mktemp("site") / "public"
    build_site(kb, out, base_url=BASE_URL)
    return out


@pytest.fixture(scope="module")
def site_pages(site: Path) -> dict[str, Page]:
    return pages(site)


def test_every_topic_has_a_page_per_language_at_its_stable_address(
    site: Path, kb: KnowledgeBase
) -> None:
    assert (site / "en/x/grok-training/index.html").is_file()
    for topic in kb.topics.values():
        for lang in topic_languages(topic):
            assert (site / topic_path(lang, topic.id) / "index.html").is_file(), (topic.id, lang)
    for lang in ("en", "fr"):
        assert (site / lang / "index.html").is_file()
        assert (site / lang / "privacy/index.html").is_file()


def test_every_internal_link_resolves_and_works_from_disk(
    site: Path, site_pages: dict[str, Page]
) -> None:
    checked = 0
    for file, page in site_pages.items():
        for tag, attrs in page.tags:
            href = attrs.get("href") or attrs.get("src")
            if tag not in ("a", "link") or not href or re.match(r"^[a-z]+:", href):
                continue
            # file:// has no server to map "dir/" or "/x" to an index page.
            assert not href.startswith("/"), (file, href)
            assert not href.split("#")[0].endswith("/"), (file, href)
            assert (site / resolve(file, href)).is_file(), (file, href)
            checked += 1
    assert checked > 200


def test_no_page_loads_anything_from_elsewhere_or_runs_a_script(
    site: Path, site_pages: dict[str, Page]
) -> None:
    for file, page in site_pages.items():
        tags = {t for t, _ in page.tags}
        assert not tags & {"script", "img", "iframe", "object", "embed", "video", "audio"}, file
        assert not tags & {"style", "form"}, file
        for attrs in page.attrs("link"):
            if attrs.get("rel") in ("stylesheet", "icon", "preload", "preconnect", "manifest"):
                assert not re.match(r"^[a-z]+:", attrs["href"]), (file, attrs)
        assert all("style" not in a for _, a in page.tags), file
        csp = [a for a in page.attrs("meta") if a.get("http-equiv") == "Content-Security-Policy"]
        assert csp and "default-src 'none'" in csp[0]["content"], file
    css = (site / "style.css").read_text()
    assert "url(" not in css and "@import" not in css and "@font-face" not in css


def test_privacy_page_says_the_site_stores_nothing(site: Path, kb: KnowledgeBase) -> None:
    text = " ".join(parse(site, "en/privacy/index.html").text)
    assert "no cookies" in text and "no scripts" in text and "trackers" in text
    french = " ".join(parse(site, "fr/privacy/index.html").text)
    assert "aucun cookie" in french
    assert Core(kb).topic_reply("bot.privacy", "en").summary in text


def test_translations_link_to_each_other_with_hreflang(site_pages: dict[str, Page]) -> None:
    pairs = 0
    for file, page in site_pages.items():
        if file == "index.html":
            continue
        alternates = page.alternates()
        assert url_to_file(alternates[page.lang or ""]) == file, file
        assert url_to_file(alternates["x-default"]).startswith("en/"), file
        for lang, url in alternates.items():
            if lang == "x-default":
                continue
            other = site_pages[url_to_file(url)]
            assert other.lang == lang, (file, lang)
            assert url_to_file(other.alternates()[page.lang or ""]) == file, (file, lang)
            pairs += 1
        visible = {a["hreflang"] for a in page.attrs("a") if "hreflang" in a}
        assert visible == set(alternates) - {"x-default", page.lang}, file
    assert pairs >= 2 * len(site_pages) - 2


def test_sitemap_lists_every_page_with_its_translations(
    site: Path, site_pages: dict[str, Page]
) -> None:
    root = ET.parse(site / "sitemap.xml").getroot()
    listed = set()
    for url in root.findall("s:url", SITEMAP_NS):
        loc = url.findtext("s:loc", namespaces=SITEMAP_NS) or ""
        file = url_to_file(loc)
        assert file in site_pages, loc
        listed.add(file)
        langs = {link.get("hreflang") for link in url.iter(XHTML_NS)}
        assert site_pages[file].lang in langs
    assert listed == set(site_pages) - {"index.html"}
    assert f"Sitemap: {BASE_URL}sitemap.xml" in (site / "robots.txt").read_text()


def test_topics_json_is_the_public_subset(site: Path, kb: KnowledgeBase) -> None:
    data = json.loads((site / "topics.json").read_text(encoding="utf-8"))
    assert data["format"] == "privacybot-topics/1"
    assert [t["id"] for t in data["topics"]] == list(kb.topics)
    grok = next(t for t in data["topics"] if t["id"] == "x.grok_training")
    assert grok["settings_url"] == "https://x.com/settings/grok_settings"
    assert grok["content"]["fr"]["page"] == BASE_URL + "fr/x/grok-training/"
    assert set(grok["content"]["en"]["steps"]) == {"web", "ios", "android"}
    assert all(re.match(r"^https?://", s["url"]) for s in grok["sources"])
    # Engine internals (example questions, keywords, required words) stay out.
    blob = json.dumps(data)
    assert '"examples"' not in blob and '"keywords"' not in blob and '"requires"' not in blob
    for topic in data["topics"]:
        for lang, content in topic["content"].items():
            assert (site / url_to_file(content["page"])).is_file(), (topic["id"], lang)


def test_topic_page_shows_every_surface_source_and_the_date(site: Path, kb: KnowledgeBase) -> None:
    page = parse(site, "fr/x/grok-training/index.html")
    assert page.lang == "fr"
    assert page.headings.count(1) == 1
    topic = kb.topics["x.grok_training"]
    text = " ".join(page.text)
    assert format_date(topic.last_verified, "fr") in text
    assert re.search(r"\d{1,2} [a-zéû]+ \d{4}", format_date(topic.last_verified, "fr"))
    hrefs = {a.get("href") for a in page.attrs("a")}
    assert {s.url for s in topic.sources} <= hrefs
    assert len(topic.sources) > 3, "more sources than a chat reply holds"
    kinds = [t for t in page.text if t.startswith("(") and t.endswith(")")]
    assert len(kinds) == len(topic.sources)
    assert set(kinds) <= {"(officielle)", "(autorité)", "(presse)", "(guide)"}
    assert topic.url in hrefs
    ids = {a.get("id") for _, a in page.tags}
    assert {"steps-web", "steps-ios", "steps-android", "sources"} <= ids
    times = {a["datetime"] for a in page.attrs("time")}
    assert topic.last_verified.isoformat() in times


def test_pages_are_accessible_by_structure(site_pages: dict[str, Page]) -> None:
    for file, page in site_pages.items():
        assert page.lang, file
        assert page.first_body_tag == ("a", {"class": "skip", "href": "#main"}), file
        assert any(a.get("id") == "main" for t, a in page.tags if t == "main"), file
        assert page.headings and page.headings[0] == 1 and page.headings.count(1) == 1, file
        for before, after in zip(page.headings, page.headings[1:], strict=False):
            assert after <= before + 1, (file, page.headings)
    steps_page = site_pages["en/x/grok-training/index.html"]
    tags = [t for t, _ in steps_page.tags]
    assert tags[tags.index("h3") + 1] == "ol", "steps are an ordered list"


def test_pages_show_what_the_core_replies(
    tmp_path: Path, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Core.topic_reply

    def marked(self: Core, topic_id: str, language: str, **kwargs: object) -> Reply:
        reply = original(self, topic_id, language, **kwargs)  # type: ignore[arg-type]
        return Reply(**{**{f: getattr(reply, f) for f in reply.__slots__}, "summary": "FROM CORE"})

    monkeypatch.setattr(Core, "topic_reply", marked)
    build_site(kb, tmp_path / "out")
    page = parse(tmp_path / "out", "en/x/grok-training/index.html")
    assert "FROM CORE" in page.text


def test_a_page_per_optional_language_a_topic_has(tmp_path: Path) -> None:
    kb_dir = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", kb_dir)
    # Spanish only for x.grok_training: no other topic keeps its Spanish block.
    for path in kb_dir.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for topic in data.get("topics") or ():
            topic.pop("es", None)
            if topic["id"] == "x.grok_training":
                title = "Impide que X entrene a Grok con tus posts"
                topic["es"] = {**topic["en"], "title": title}
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    report = build_site(load_knowledge(kb_dir), out, base_url=BASE_URL)
    assert "es" in report.languages
    page = parse(out, "es/x/grok-training/index.html")
    assert page.lang == "es" and "Impide que X entrene a Grok con tus posts" in page.text
    assert "Pasos" in page.text  # the site's own words in Spanish
    assert url_to_file(parse(out, "en/x/grok-training/index.html").alternates()["es"]) == (
        "es/x/grok-training/index.html"
    )
    # Only the topic written in Spanish gets a Spanish page and a place on the Spanish home.
    assert not (out / "es/x/delete-account").exists()
    related = [
        a for a in page.attrs("a") if "/x/" in a["href"] and "grok-training" not in a["href"]
    ]
    assert related and all(a["lang"] == "en" and "/en/" in a["href"] for a in related), related
    assert "es" not in parse(out, "en/x/delete-account/index.html").alternates()
    home = parse(out, "es/index.html")
    assert [a["href"] for a in home.attrs("a") if "grok-training" in a.get("href", "")]
    assert not [a for a in home.attrs("a") if "x/delete-account" in a.get("href", "")]
    # What the bot stores is said on every privacy page: in English, marked, until translated.
    privacy = parse(out, "es/privacy/index.html")
    english = Core(load_knowledge(kb_dir)).topic_reply("bot.privacy", "en").summary
    assert english in privacy.text and {"lang": "en"} in privacy.attrs("div")


def test_topic_page_url_for_the_bots() -> None:
    assert topic_page_url(None, "en", "x.grok_training") is None
    assert topic_page_url("", "en", "x.grok_training") is None
    expected = "https://p.example/en/x/grok-training/"
    assert topic_page_url("https://p.example", "en", "x.grok_training") == expected
    assert topic_page_url("https://p.example/", "en", "x.grok_training") == expected
    assert topic_page_url("https://p.example/", "fr", "meta.ai_training") == (
        "https://p.example/fr/meta/ai-training/"
    )


def test_rebuild_replaces_a_previous_build_but_never_another_folder(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    out = tmp_path / "public"
    build_site(kb, out)
    (out / "en/stale.html").write_text("old")
    build_site(kb, out)
    assert (out / MARKER).exists() and not (out / "en/stale.html").exists()
    other = tmp_path / "home"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(SiteError, match="refusing"):
        build_site(kb, other)
    assert (other / "notes.txt").read_text() == "mine"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, timeout=120)  # a whole site: slower than one answer


def test_cli_builds_the_site(tmp_path: Path) -> None:
    done = _cli("site", "build", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "pages" in done.stdout
    assert (tmp_path / "out/en/x/grok-training/index.html").is_file()


def test_cli_fails_with_file_topic_field_on_an_invalid_knowledge_base(tmp_path: Path) -> None:
    kb_dir = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", kb_dir)
    x = kb_dir / "x.yaml"
    x.write_text(x.read_text(encoding="utf-8").replace("last_verified:", "last_checked:", 1))
    done = _cli("--kb", str(kb_dir), "site", "build", str(tmp_path / "out"))
    assert done.returncode == 2
    assert re.search(r"x\.yaml: x\.grok_training: last_verified: missing", done.stderr)
    assert not (tmp_path / "out").exists()


def test_the_site_speaks_every_language_it_builds(kb: KnowledgeBase) -> None:
    from bot.site.texts import NEEDS, SITE_LANGUAGES, TEXTS

    for lang in SITE_LANGUAGES:
        assert set(TEXTS[lang]) == set(TEXTS["en"]), lang
        assert set(kb.needs) <= set(NEEDS[lang]), lang


def test_answers_carry_their_page_when_the_site_is_published(site: Path, kb: KnowledgeBase) -> None:
    from bot.kb.schema import LANGUAGES

    assert Core(kb).topic_reply("x.grok_training", "fr").site_url is None
    core = Core(kb, site_url=BASE_URL)
    assert core.topic_reply("x.grok_training", "fr").site_url == BASE_URL + "fr/x/grok-training/"
    # Whatever the reply's language, the link lands on a page that exists.
    for topic_id in kb.topics:
        for lang in LANGUAGES:
            url = core.topic_reply(topic_id, lang).site_url
            assert url is not None and (site / url_to_file(url)).is_file(), (topic_id, lang)


def test_site_url_setting() -> None:
    from bot.errors import ConfigError
    from bot.settings import Settings

    assert Settings.from_env({}).site_url is None
    settings = Settings.from_env({"PRIVACYBOT_SITE_URL": " https://p.example/sub "})
    assert settings.site_url == "https://p.example/sub/"
    assert ("PRIVACYBOT_SITE_URL", "https://p.example/sub/") in settings.describe()
    with pytest.raises(ConfigError, match="PRIVACYBOT_SITE_URL"):
        Settings.from_env({"PRIVACYBOT_SITE_URL": "p.example"})


def test_deploy_example_builds_and_serves_the_site(site: Path, tmp_path: Path) -> None:
    deploy = REPO / "deploy"
    compose = yaml.safe_load((deploy / "docker-compose.yml").read_text())
    build, serve = compose["services"]["site-build"], compose["services"]["site"]
    assert build["profiles"] == serve["profiles"] == ["site"]
    assert build["command"][:2] == ["site", "build"]
    out = build["command"][2]
    volume = next(v for v in build["volumes"] if v.startswith("privacybot-site:"))
    mount = next(v for v in serve["volumes"] if v.startswith("privacybot-site:"))
    served_root = serve["environment"]["SITE_ROOT"]
    # The folder Caddy serves is the one the build writes, seen through the shared volume.
    assert out.replace(volume.split(":")[1], "") == served_root.replace(mount.split(":")[1], "")
    assert serve["depends_on"]["site-build"]["condition"] == "service_completed_successfully"
    assert "./Caddyfile.site:/etc/caddy/Caddyfile:ro" in serve["volumes"]
    assert "env_file" not in build  # the bot's tokens stay out of the build container
    caddyfile = (deploy / "Caddyfile.site").read_text()
    assert not re.search(r"^\s*log\b", caddyfile, re.M), "the privacy page promises no log"
    page = parse(site, "en/x/grok-training/index.html")
    meta = next(a for a in page.attrs("meta") if a.get("http-equiv") == "Content-Security-Policy")
    assert f'Content-Security-Policy "{meta["content"]}; frame-ancestors' in caddyfile
    if shutil.which("caddy"):
        done = subprocess.run(
            ["caddy", "validate", "--config", str(deploy / "Caddyfile.site")],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SITE_ROOT": str(site)},
        )
        assert done.returncode == 0, done.stderr[-2000:]


def test_home_lists_x_first_then_needs(site: Path) -> None:
    home = parse(site, "en/index.html")
    links = [
        a["href"] for a in home.attrs("a") if re.match(r"^[a-z]+/[a-z-]+/index.html$", a["href"])
    ]
    assert links[0].startswith("x/"), links[:3]
    assert "Stop AI training on your data" in home.text


def test_bots_link_to_the_page_only_when_the_site_is_published(kb: KnowledgeBase) -> None:
    from telegram import InlineKeyboardMarkup

    from bot.adapters.telegram import keyboard
    from bot.render.bluesky import embed_for
    from bot.render.telegram_html import reply_keyboard

    page = BASE_URL + "fr/x/grok-training/"
    published = Core(kb, site_url=BASE_URL).topic_reply("x.grok_training", "fr")
    card = embed_for(published)
    assert card is not None and card.uri == page
    markup = keyboard(reply_keyboard(published))
    assert isinstance(markup, InlineKeyboardMarkup)
    links = [b for row in markup.inline_keyboard for b in row if b.url]
    assert [(b.text, b.url) for b in links] == [("🌐 Réponse complète sur le web", page)]
    assert all(b.callback_data for row in markup.inline_keyboard for b in row if not b.url)

    plain = Core(kb).topic_reply("x.grok_training", "fr")
    card = embed_for(plain)
    assert card is not None and card.uri == plain.url
    assert not [b for row in reply_keyboard(plain) for b in row if b.url]
