"""Drive the dashboard in a real browser: start the Streamlit server, wait for a page to settle, watch the network.

Shared by the browser tests (tests/browser) and the page-timing benchmark (benchmarks/page_timings.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SC_CHROMIUM", "/usr/bin/chromium")  # Debian's Chromium (apt-get install chromium)
LAUNCH = {"executable_path": CHROMIUM,
          "args": ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]}  # WebGL with no GPU
PAGES = {"home": "", "predict": "predict", "crystal_viewer": "crystal_viewer", "candidates": "candidates",
         "model_performance": "model_performance", "element_embeddings": "element_embeddings"}
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(port: int | None = None, timeout: float = 120.0) -> Iterator[str]:
    """Run ``streamlit run app.py`` on 127.0.0.1 for the duration of the block; yields the base URL."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    log = open(os.environ.get("SC_SERVER_LOG", os.devnull), "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Streamlit server did not start (exit code {server.poll()})") from None
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]')) return false;
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  return charts.every(c => c.querySelector('.main-svg'));
}"""


def settle(page, timeout_s: float = 120.0) -> float:
    """Wait until the script has finished, no spinner shows and every chart is drawn; returns the seconds waited."""
    start = time.perf_counter()
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    page.wait_for_timeout(150)  # a rerun triggered just before starts within this
    page.wait_for_function(SETTLED, timeout=timeout_s * 1000, polling=50)
    return time.perf_counter() - start


class NetworkLog:
    """Requests a page sent off this machine and requests that failed (aborted navigations excepted)."""

    def __init__(self, page) -> None:
        self.external: list[str] = []
        self.failed: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(LOCAL) else self.external.append(r.url))
        page.on("requestfailed", self._failed)

    def _failed(self, request) -> None:
        if request.failure != "net::ERR_ABORTED":  # a request cut short by the next navigation or a rerun
            self.failed.append(f"{request.url} ({request.failure})")
