"""A minimal Chrome DevTools Protocol client for the site's browser test.

Starts Debian's headless Chromium with a fresh profile and no background
networking, and speaks CDP over its WebSocket (the ``websockets`` package the
Bluesky client already brings). Only what the test needs: open a page, wait
for its load event, evaluate script, take a full-page screenshot, and record
every request the page makes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import threading
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

# The brief's flags: no sandbox (root in a container), nothing fetched on the
# browser's own behalf (updates, sync, field trials), an empty profile.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)
REPLY_TIMEOUT = 60.0


class Browser:
    """One headless Chromium and one page (tab) in it.

    Args:
        executable: The chromium binary.
        profile: An empty folder for ``--user-data-dir``.
    """

    def __init__(self, executable: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        assert self.process.stderr is not None
        url = None
        # Chromium prints its DevTools address once it listens: wait for that line.
        for line in self.process.stderr:
            self.log.append(line)
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                url = found.group(1)
                break
        if url is None:
            self.process.wait(timeout=10)
            raise RuntimeError("chromium exited before listening:\n" + "".join(self.log[-20:]))
        # Keep reading its log so it never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        self._stack = contextlib.ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(url, max_size=None, open_timeout=30)
        )
        self._id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page.enable", "Network.enable", "Runtime.enable"):
            self.page(domain)

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and return its result; events meanwhile are queued."""
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv(timeout=REPLY_TIMEOUT))
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to the page's session."""
        return self.call(method, self.session, **params)

    def wait_event(self, method: str) -> dict[str, Any]:
        """Wait for the page's next ``method`` event (queued ones first)."""
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == self.session:
                    # Only this event is consumed: the requests before it stay readable.
                    return self.events.pop(index)
            self.events.append(json.loads(self.ws.recv(timeout=REPLY_TIMEOUT)))

    def open(self, url: str, *, width: int, height: int, mobile: bool) -> list[str]:
        """Load ``url`` at a viewport size; return every URL the page requested."""
        self.page(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        self.events.clear()
        self.page("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def evaluate(self, expression: str, *, awaiting: bool = False) -> Any:
        """Evaluate JavaScript in the page and return its value."""
        result = self.page(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=awaiting,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """Save the whole page, not only the viewport, as PNG."""
        size = self.page("Page.getLayoutMetrics")["cssContentSize"]
        shot = self.page(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        )
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        """Close the connection and stop this Chromium (its process only)."""
        with contextlib.suppress(Exception):
            self._stack.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
