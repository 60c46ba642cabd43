"""``privacybot kb links`` against a local HTTP server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from bot.cli import main
from bot.kb.links import check_links, check_url

VALID = Path(__file__).parent / "fixtures" / "kb_valid"


class _Site(BaseHTTPRequestHandler):
    release: threading.Event  # set by the fixture; /slow waits on it

    def _answer(self, body: bool) -> None:
        path = urlsplit(self.path).path  # absolute when asked as a proxy
        if path == "/ok":
            self.send_response(200)
        elif path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/ok")
        elif path == "/nohead" and not body:
            self.send_response(405)
        elif path == "/nohead":
            self.send_response(200)
        elif path == "/slow":
            self.release.wait(30)
            self.send_response(200)
        else:
            self.send_response(404)
        self.send_header("Content-Length", "2" if body else "0")
        self.end_headers()
        if body:
            self.wfile.write(b"ok")

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def site() -> Iterator[str]:
    release = threading.Event()
    handler = type("Site", (_Site,), {"release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_each_kind_of_answer_is_reported(site: str) -> None:
    urls = {f"{site}/{p}": [f"demo.{p}"] for p in ("ok", "moved", "nohead", "missing")}
    results = {r.url.rsplit("/", 1)[1]: r for r in check_links(urls, timeout=5)}
    assert results["ok"].ok and results["ok"].detail == "HTTP 200"
    assert results["moved"].ok and results["moved"].detail == f"HTTP 200, redirected to {site}/ok"
    assert results["nohead"].ok  # HEAD refused, GET answered
    assert not results["missing"].ok and results["missing"].status == 404
    assert results["missing"].detail == "HTTP 404 Not Found"
    assert results["missing"].topics == ("demo.missing",)


def test_a_slow_server_times_out_with_a_clear_message(site: str) -> None:
    result = check_url(f"{site}/slow", timeout=0.3)
    assert (result.ok, result.status, result.detail) == (False, None, "timed out after 0.3s")


def test_a_closed_port_is_no_answer() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = check_url(f"http://127.0.0.1:{port}/", timeout=2)
    assert not result.ok and result.detail.startswith("no answer:")


def test_kb_links_command(
    site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command asks every URL of the knowledge base, here through the local server as proxy."""
    kb_dir = tmp_path / "kb"
    shutil.copytree(VALID, kb_dir)
    path = kb_dir / "demo.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["topics"][0]["url"] = "http://docs.demo.example/ok"
    data["topics"][0]["sources"][0]["url"] = "http://docs.demo.example/nohead"
    data["topics"][1]["sources"][0]["url"] = "http://docs.demo.example/missing"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", site)

    assert main(["kb", "links", str(kb_dir), "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "checking 3 URL(s), 5s timeout each" in out
    assert "ok   http://docs.demo.example/ok  HTTP 200  [demo.training]" in out
    assert "FAIL http://docs.demo.example/missing  HTTP 404 Not Found  [demo.delete]" in out
    assert out.strip().endswith("2 ok, 1 failed")

    assert main(["kb", "links", str(kb_dir), "--topic", "demo.training"]) == 0
    assert capsys.readouterr().out.strip().endswith("2 ok, 0 failed")
