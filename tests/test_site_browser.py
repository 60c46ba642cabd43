"""The built site in a real browser: screenshots at phone and desktop widths, axe-core.

Self-sufficient on a fresh machine: the fixtures install Debian's ``chromium``
(apt-get, as root) and axe-core from tests/site_browser/package-lock.json
(``npm ci`` into tests/site_browser/node_modules, git-ignored). They skip,
saying why, only when that installation is impossible (no apt-get or not
root, no npm). Screenshots and the axe results go to tests/artifacts/site/
(git-ignored); the path is printed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from site_browser.cdp import Browser

from bot.kb.loader import load_knowledge
from bot.site.build import build_site

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "tests" / "site_browser"
AXE = TOOLS / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "tests" / "artifacts" / "site"
INSTALL_TIMEOUT = 900
PHONE = (390, 844)
DESKTOP = (1280, 900)
# Pages axe checks: every template, in two languages.
AXE_PAGES = (
    "index.html",
    "en/index.html",
    "fr/index.html",
    "en/privacy/index.html",
    "en/x/grok-training/index.html",
    "fr/x/grok-training/index.html",
    "en/meta/ai-training/index.html",
)
BLOCKING = {"serious", "critical"}
# Plus the first topic page of each other language the knowledge base has (CJK included).
EXTRA_LANGUAGES = ("es", "pt", "de", "it", "ja")

pytestmark = pytest.mark.timeout(INSTALL_TIMEOUT + 300)


def _install_chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if not shutil.which("apt-get") or os.geteuid() != 0:
        pytest.skip("chromium is not installed and apt-get cannot install it (needs root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "chromium"]
    done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    if done.returncode != 0:  # a fresh machine has no package lists yet
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        done = subprocess.run(
            install, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT
        )
    found = shutil.which("chromium")
    if not found:
        pytest.skip(f"apt-get could not install chromium: {done.stderr.strip()[-500:]}")
    return found


def _install_axe() -> Path:
    if AXE.is_file():
        return AXE
    npm = shutil.which("npm")
    if not npm:
        pytest.skip("npm is missing: cannot install axe-core from tests/site_browser")
    # Two pytest processes on one checkout must not run npm ci into one folder at once.
    with open(TOOLS / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not AXE.is_file():
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=TOOLS,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
            if done.returncode != 0 or not AXE.is_file():
                pytest.skip(f"npm ci could not install axe-core: {done.stderr.strip()[-500:]}")
    return AXE


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser-site") / "public"
    build_site(load_knowledge(), out)
    return out


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nsite browser artifacts: {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    executable = _install_chromium()
    session = Browser(executable, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield session
    finally:
        session.close()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize(("name", "size"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_topic_page_screenshots(
    browser: Browser, site: Path, artifacts: Path, name: str, size: tuple[int, int]
) -> None:
    width, height = size
    browser.open(
        (site / "en/x/grok-training/index.html").as_uri(),
        width=width,
        height=height,
        mobile=name == "phone",
    )
    # The style sheet applied (it is the only one, loaded from disk)...
    assert browser.evaluate("getComputedStyle(document.body).maxWidth") != "none"
    # ...and nothing is wider than the screen: no sideways scrolling on a phone.
    assert browser.evaluate("document.documentElement.scrollWidth") <= width
    shot = artifacts / f"grok-training-{name}.png"
    browser.screenshot(shot)
    shot_width, shot_height = _png_size(shot)
    assert shot_width == width and shot_height > height // 2
    print(f"{shot} ({shot_width}x{shot_height})")


def test_pages_request_nothing_but_their_own_files(browser: Browser, site: Path) -> None:
    # With the pages' Content-Security-Policy off, so that what is checked is
    # the HTML itself, not only the policy that would block a slip.
    browser.page("Page.setBypassCSP", enabled=True)
    try:
        for page in AXE_PAGES:
            requested = browser.open((site / page).as_uri(), width=1280, height=900, mobile=False)
            assert requested and all(url.startswith("file://") for url in requested), requested
            assert browser.evaluate("document.cookie") == ""
            assert browser.evaluate("document.scripts.length") == 0
    finally:
        browser.page("Page.setBypassCSP", enabled=False)


def test_skip_link_is_first_and_visibly_focused(browser: Browser, site: Path) -> None:
    browser.open(
        (site / "en/x/grok-training/index.html").as_uri(), width=390, height=844, mobile=True
    )
    for kind in ("keyDown", "keyUp"):
        browser.page(
            "Input.dispatchKeyEvent", type=kind, key="Tab", code="Tab", windowsVirtualKeyCode=9
        )
    focused = browser.evaluate(
        "(() => { const e = document.activeElement, s = getComputedStyle(e),"
        " r = e.getBoundingClientRect();"
        " return {cls: e.className, outline: s.outlineStyle, width: parseFloat(s.outlineWidth),"
        " left: r.left, right: r.right}; })()"
    )
    assert focused["cls"] == "skip"
    assert focused["outline"] != "none" and focused["width"] >= 2
    assert 0 <= focused["left"] < focused["right"] <= 390


def test_axe_finds_no_serious_or_critical_violation(
    browser: Browser, site: Path, artifacts: Path
) -> None:
    axe_source = _install_axe().read_text(encoding="utf-8")
    # axe is injected by the test, never shipped: the pages themselves run no script.
    browser.page("Page.setBypassCSP", enabled=True)
    results = {}
    extra = [
        found[0].relative_to(site).as_posix()
        for lang in EXTRA_LANGUAGES
        if (found := sorted(site.glob(f"{lang}/*/*/index.html")))
    ]
    try:
        for page in [*AXE_PAGES, *extra]:
            browser.open((site / page).as_uri(), width=1280, height=900, mobile=False)
            browser.evaluate(axe_source)
            results[page] = browser.evaluate(
                "axe.run(document, {resultTypes: ['violations']}).then(r => ({"
                " version: r.testEngine.version,"
                " passes: r.passes.length, incomplete: r.incomplete.length,"
                " violations: r.violations.map(v => ({id: v.id, impact: v.impact,"
                " help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))}))",
                awaiting=True,
            )
    finally:
        browser.page("Page.setBypassCSP", enabled=False)
    (artifacts / "axe.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    for page, result in results.items():
        counts: dict[str, int] = {}
        for v in result["violations"]:
            counts[v["impact"]] = counts.get(v["impact"], 0) + 1
        print(f"axe {result['version']} {page}: {result['passes']} rules passed, {counts}")
    blocking = [
        (page, v["id"], v["impact"], v["nodes"][:3])
        for page, result in results.items()
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]
    assert not blocking, blocking
