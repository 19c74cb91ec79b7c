"""A headless browser for PDFs, screenshots and the browser test (Chromium, when installed).

:func:`find_browser` looks for Chromium or Chrome (``$KOMPETENSPROGNOS_BROWSER`` first);
:func:`print_pdf` prints a report to an A4 PDF with Chromium's own ``--print-to-pdf`` (the
report's print stylesheet decides the layout); :class:`BrowserPage` drives one tab over the
Chrome DevTools Protocol for the browser test and the documentation screenshots: open a file,
collect console errors, exceptions and network requests, run a script, take a screenshot.

Nothing is downloaded: on Debian, ``apt-get install chromium`` provides the browser.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from kompetensprognos.errors import KompetensprognosError

__all__ = [
    "BROWSER_ENV",
    "BrowserPage",
    "find_browser",
    "print_pdf",
    "print_reports",
    "require_browser",
]

BROWSER_ENV = "KOMPETENSPROGNOS_BROWSER"
_CANDIDATES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "headless_shell",
)
INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: `sudo apt-get install chromium`) or set "
    f"{BROWSER_ENV} to a Chromium or Chrome executable"
)


def find_browser() -> str | None:
    """Path of a Chromium-family browser, or None when none is installed.

    ``$KOMPETENSPROGNOS_BROWSER`` wins when set (an empty value means "no browser").
    """
    env = os.environ.get(BROWSER_ENV)
    if env is not None:
        return shutil.which(env) if env else None
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_browser() -> str:
    """Like :func:`find_browser`, but raise a clear error when no browser is installed."""
    path = find_browser()
    if path is None:
        raise KompetensprognosError(
            f"PDF output needs a headless browser and none was found: {INSTALL_HINT}"
        )
    return path


def _base_args(browser: str, profile: str) -> list[str]:
    args = [
        browser,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return args


def print_pdf(
    html: str | os.PathLike[str],
    pdf: str | os.PathLike[str],
    *,
    browser: str | None = None,
    timeout: float = 120,
) -> Path:
    """Print an HTML file to PDF with headless Chromium (A4, the page's print stylesheet).

    Parameters
    ----------
    html : path
        The page to print (a local file).
    pdf : path
        The PDF to write.
    browser : str, optional
        Browser executable; default :func:`require_browser`.
    timeout : float, default 120
        Seconds to wait for the browser.

    Returns
    -------
    pathlib.Path
        ``pdf``.
    """
    exe = browser or require_browser()
    src, out = Path(html).resolve(), Path(pdf).resolve()
    if not src.exists():
        raise KompetensprognosError(f"cannot print {src}: the file does not exist")
    with tempfile.TemporaryDirectory(prefix="kp-chromium-") as profile:
        cmd = [
            *_base_args(exe, profile),
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            f"--print-to-pdf={out}",
            src.as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise KompetensprognosError(
                f"the browser did not print {src} within {timeout:.0f} s"
            ) from exc
    if done.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise KompetensprognosError(
            f"{exe} could not print {src} to PDF (exit code {done.returncode}): {' | '.join(tail)}"
        )
    return out


class BrowserPage:
    """One headless Chromium tab driven over the DevTools protocol (for tests and screenshots).

    Use as a context manager::

        with BrowserPage() as page:
            page.open("outputs/index.html")
            page.evaluate("document.title")
            page.screenshot("index.png")
            page.errors  # console errors, uncaught exceptions, failed loads

    Attributes
    ----------
    errors : list of str
        Console ``error`` messages, uncaught exceptions and log entries of level error.
    requests : list of str
        URLs the page requested (the page itself included).
    """

    def __init__(self, browser: str | None = None, *, width: int = 1280, height: int = 900) -> None:
        self.browser = browser or require_browser()
        self.width, self.height = width, height
        self.errors: list[str] = []
        self.requests: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._ws: Any = None
        self._id = 0
        self._profile: tempfile.TemporaryDirectory[str] | None = None

    # -- lifecycle
    def __enter__(self) -> BrowserPage:
        import websocket  # websocket-client, a Jupyter dependency

        self._profile = tempfile.TemporaryDirectory(prefix="kp-chromium-")
        cmd = [
            *_base_args(self.browser, self._profile.name),
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--window-size={self.width},{self.height}",
            "about:blank",
        ]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.__exit__(None, None, None)
                raise KompetensprognosError(f"{self.browser} did not start a DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = json.load(r)
        url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        self._ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:
                pass
            self._ws = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None
        if self._profile is not None:
            self._profile.cleanup()
            self._profile = None

    # -- protocol
    def _event(self, msg: dict[str, Any]) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", [])
            )
            self.errors.append(f"console.error: {args}")
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            desc = d.get("exception", {}).get("description") or d.get("text", "")
            self.errors.append(f"exception: {desc}")
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            self.errors.append(f"log: {e.get('text', '')} {e.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            self.requests.append(p.get("request", {}).get("url", ""))
        elif method == "Network.loadingFailed" and not p.get("canceled"):
            self.errors.append(f"network: {p.get('errorText', '')}")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events are recorded meanwhile)."""
        if self._ws is None:
            raise KompetensprognosError("BrowserPage is not open; use it in a with-block")
        self._id += 1
        my = self._id
        self._ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self._ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise KompetensprognosError(f"{method}: {msg['error'].get('message')}")
                return msg.get("result", {})
            self._event(msg)

    def _wait_event(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._ws.settimeout(max(0.1, deadline - time.monotonic()))
            msg = json.loads(self._ws.recv())
            self._event(msg)
            if msg.get("method") == name:
                self._ws.settimeout(30)
                return
        raise KompetensprognosError(f"timed out waiting for {name}")

    # -- actions
    def open(self, path: str | os.PathLike[str], timeout: float = 60) -> None:
        """Load a local file (or URL) and wait until it has loaded."""
        url = str(path)
        if "://" not in url:
            url = Path(url).resolve().as_uri()
        self.send("Page.navigate", url=url)
        self._wait_event("Page.loadEventFired", timeout)

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its (JSON) value."""
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            raise KompetensprognosError(
                f"script failed: {d.get('exception', {}).get('description') or d.get('text')}"
            )
        return res.get("result", {}).get("value")

    def screenshot(self, path: str | os.PathLike[str], *, full_page: bool = False) -> Path:
        """Save a PNG of the viewport (or the whole page)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": min(size["height"], 16000),
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", **params)["data"]
        out = Path(path)
        out.write_bytes(base64.b64decode(data))
        return out

    def pdf(self, path: str | os.PathLike[str]) -> Path:
        """Print the loaded page to PDF (A4, the page's print stylesheet)."""
        data = self.send(
            "Page.printToPDF",
            preferCSSPageSize=True,
            printBackground=True,
            displayHeaderFooter=False,
        )["data"]
        out = Path(path)
        out.write_bytes(base64.b64decode(data))
        return out


def print_reports(output: str | os.PathLike[str], outcomes: Any, timings: dict[str, float]) -> None:
    """Print ``<region>/rapport.html`` to ``rapport.pdf`` for every successful region outcome.

    A region whose PDF fails is marked failed (``ok=False``, ``error`` says why); its HTML,
    Excel and tables stay in place. The time taken goes to ``timings["pdf"]``.
    """
    t0 = time.perf_counter()
    exe = require_browser()
    for o in outcomes:
        if not o.ok:
            continue
        folder = Path(output) / o.region
        try:
            print_pdf(folder / "rapport.html", folder / "rapport.pdf", browser=exe)
        except KompetensprognosError as exc:
            o.ok, o.error = False, f"PDF: {exc}"
    timings["pdf"] = time.perf_counter() - t0
