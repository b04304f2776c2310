"""A page's DOM as headless Chromium leaves it with JavaScript turned off.

``chromium --dump-dom`` reads the DOM by running script in the page, so with script disabled
it prints nothing. This drives Chromium over its DevTools protocol instead: script execution
is switched off for the tab, the page loads, and the DOM is read through the ``DOM`` domain,
which runs no script. ``websockets`` comes with ``uvicorn[standard]``.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

__all__ = ["dom_without_javascript"]

_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class _Session:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv(timeout=60))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(json.loads(self.socket.recv(timeout=remaining)))


def dom_without_javascript(chromium: str, profile: Path, url: str) -> str:
    """The outer HTML of ``url``'s document once loaded, with JavaScript off in the tab."""
    process = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        endpoint = None
        for line in process.stderr:
            if found := _LISTENING.search(line):
                endpoint = found[1]
                break
        if endpoint is None:
            raise RuntimeError("Chromium exited without opening its DevTools endpoint")
        with connect(endpoint, max_size=None) as socket:
            browser = _Session(socket)
            target = browser.call("Target.createTarget", url="about:blank")["targetId"]
            tab = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            browser.call("Emulation.setScriptExecutionDisabled", tab, value=True)
            browser.call("Page.enable", tab)
            browser.call("Page.navigate", tab, url=url)
            browser.wait_for("Page.loadEventFired")
            root = browser.call("DOM.getDocument", tab, depth=-1)["root"]["nodeId"]
            html: str = browser.call("DOM.getOuterHTML", tab, nodeId=root)["outerHTML"]
            return html
    finally:
        process.kill()
        process.wait(timeout=30)
