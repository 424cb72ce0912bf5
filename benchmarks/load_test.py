"""Load test of the dashboard: ``python benchmarks/load_test.py [--sessions 8] [--seconds 60]``.

Starts ``streamlit run app.py`` on a free port of 127.0.0.1, then drives N concurrent sessions (one
headless Chromium, one browser context each) until the time is up. Each session loops over two tasks:
Predict (type one formula, wait for the prediction or the clear error) and Candidates (screen an uploaded
CSV of 50 formulas with the baseline model, wait for the table). It prints, per task, the runs, the failed
runs by cause and the latency percentiles of the successful ones; the failed network requests and page
errors; the peak RSS of the server (children included, sampled every 0.5 s); and whether the server is
still alive. Exits 1 if anything failed.

Needs playwright (in requirements.txt) and a Chromium; by default Debian's
``/usr/bin/chromium`` (``apt-get install chromium``), as ``playwright install`` needs the internet.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
FORMULAS = ("MgB2", "Nb3Sn", "YBa2Cu3O7", "NaCl", "La1.85Sr0.15CuO4", "Xy2O3")
MALFORMED = {"Xy2O3"}  # the page must show a clear error for these, and a prediction for the others
POOL_NAME = "load_test_pool.csv"
CATIONS = ("Mg", "Ca", "Sr", "Ba", "Y", "La", "Nb", "Ti", "Zr", "V")
ANIONS = ("B2", "C", "N", "O", "Si2")
POOL_SIZE = len(CATIONS) * len(ANIONS)
MODEL = "baseline"
RSS_EVERY_S = 0.5
STARTUP_S = 120.0
STOP_S = 10.0
TASK_WAITS = 2  # a task may last this many --timeout (each of its waits lasts at most one)

PREDICT_BOX = "Formula, CIF/POSCAR text or MP id"
EXCEPTION = '[data-testid="stException"]'
ERROR_BOX = '[data-testid="stAlertContentError"]'
METRIC = '[data-testid="stMetric"]'
TABLE = '[data-testid="stDataFrame"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
UPLOAD_PATH = "/_stcore/upload_file"


class TaskFailed(Exception):
    """One run of a task went wrong; the message is its cause (a key of Stats.failures)."""


@dataclass
class Stats:
    """Outcomes of one task over all sessions."""

    latencies_s: list[float] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    network: Counter = field(default_factory=Counter)  # failed requests while the task ran, by reason

    @property
    def runs(self) -> int:
        return len(self.latencies_s) + sum(self.failures.values())


# --- the server -------------------------------------------------------------------------------------------

def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(port: int, log) -> subprocess.Popen:
    """``streamlit run app.py`` on 127.0.0.1:port from the repository root, in its own process group."""
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", HOST,
           "--server.port", str(port), "--server.headless", "true"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_up(url: str, server: subprocess.Popen) -> None:
    """Return once the server's health check answers; raise if it exits or takes over STARTUP_S."""
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode} while starting")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the server did not answer within {STARTUP_S:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL after STOP_S."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if server.poll() is not None:
            return
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(STOP_S)
        except subprocess.TimeoutExpired:
            continue


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (psutil if installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        return _proc_tree_rss_bytes(pid)
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def _proc_tree_rss_bytes(pid: int) -> int:
    """tree_rss_bytes from /proc/*/stat (parents) and /proc/PID/status (VmRSS)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total


class Monitor(threading.Thread):
    """Samples the server's tree RSS every RSS_EVERY_S and notices when the server exits."""

    def __init__(self, server: subprocess.Popen) -> None:
        super().__init__(daemon=True)
        self.server, self.peak_bytes, self.samples = server, 0, 0
        self.stopped = threading.Event()

    @property
    def alive(self) -> bool:
        return self.server.poll() is None

    def run(self) -> None:
        while not self.stopped.is_set() and self.alive:
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.server.pid))
            self.samples += 1
            self.stopped.wait(RSS_EVERY_S)


# --- the browser sessions -----------------------------------------------------------------------------------

def write_pool(folder: str) -> Path:
    """A CSV of POOL_SIZE formulas (id, formula) for the Candidates upload."""
    path = Path(folder) / POOL_NAME
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "formula"])
        for i, (cation, anion) in enumerate((c, a) for c in CATIONS for a in ANIONS):
            writer.writerow([f"m{i}", f"{cation}{anion}"])
    return path


class Watch:
    """A session's page, its requests in flight, and the task now running, to which it charges failed
    requests, HTTP errors and uncaught page errors."""

    def __init__(self, page: Page, stats: dict[str, Stats]) -> None:
        self.page, self.stats, self.task = page, stats, "predict"
        self.pending: set = set()
        page.on("request", lambda request: self.pending.add(request))
        page.on("requestfinished", lambda request: self.pending.discard(request))
        page.on("requestfailed", self.on_failed)
        page.on("response", self.on_response)
        page.on("pageerror", lambda error: self.charge(f"page error {str(error)[:40]}"))

    def charge(self, cause: str) -> None:
        self.stats[self.task].network[cause] += 1

    def on_failed(self, request) -> None:
        self.pending.discard(request)
        self.charge(f"{request.failure} {short_url(request.url)}")

    def on_response(self, response) -> None:
        if response.status >= 400 and not (response.status == 404 and is_base_url_probe(response.url)):
            self.charge(f"HTTP {response.status} {short_url(response.url)}")

    async def settle(self) -> None:
        """Wait until the script run and the page's requests end, so that leaving the page aborts nothing."""
        await self.page.locator(IDLE).wait_for()
        while self.pending:
            await asyncio.sleep(0.1)


def short_url(url: str) -> str:
    """Host and path of a URL, cut to 50 characters."""
    parts = urlparse(url)
    return (parts.netloc + parts.path)[:50]


def is_base_url_probe(url: str) -> bool:
    """Streamlit's frontend first looks for its server under the page's path (/predict/_stcore/health): a 404."""
    path = urlparse(url).path
    return path.endswith(("/_stcore/health", "/_stcore/host-config")) and not path.startswith("/_stcore/")


async def outcome(page: Page, expected: str) -> None:
    """Wait until the expected element, an exception box or an error box shows; raise unless it is expected."""
    await page.locator(expected).or_(page.locator(EXCEPTION)).or_(page.locator(ERROR_BOX)).first.wait_for()
    if await page.locator(EXCEPTION).count():
        raise TaskFailed("exception box")
    if not await page.locator(expected).count():
        texts = await page.locator(ERROR_BOX).all_inner_texts()
        raise TaskFailed(f"error box '{texts[0][:40] if texts else ''}'")


async def predict(watch: Watch, url: str, formula: str) -> float:
    """Seconds from submitting a formula on Predict to its prediction (or, for a malformed one, its error)."""
    page = watch.page
    await page.goto(f"{url}/predict")
    box = page.get_by_label(PREDICT_BOX)
    await box.fill(formula)
    start = time.perf_counter()
    await box.press("Control+Enter")
    await outcome(page, ERROR_BOX if formula in MALFORMED else METRIC)
    seconds = time.perf_counter() - start
    await watch.settle()
    return seconds


async def screen(watch: Watch, url: str, pool: Path) -> float:
    """Seconds from pressing Screen on Candidates (uploaded pool, baseline model only) to the table."""
    page = watch.page
    await page.goto(f"{url}/candidates")
    await page.get_by_text("Upload: a CSV").click()
    models = page.locator('[data-testid="stMultiSelect"] span[data-tag]')
    await models.first.wait_for()
    for name in await models.evaluate_all("tags => tags.map(tag => tag.getAttribute('aria-label'))"):
        if name != MODEL:
            await page.get_by_role("button", name=f"Remove {name}", exact=True).click()
    await models.nth(1).wait_for(state="detached")
    async with page.expect_response(lambda r: UPLOAD_PATH in r.url and r.request.method == "PUT"):
        await page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(pool)
    await watch.settle()
    start = time.perf_counter()
    await page.locator('[data-testid="stBaseButton-primary"]', has_text="Screen").click()
    await page.get_by_text(f"of {POOL_SIZE} candidates from {POOL_NAME}").or_(page.locator(EXCEPTION)).or_(
        page.locator(ERROR_BOX)).first.wait_for()
    await outcome(page, TABLE)
    seconds = time.perf_counter() - start
    await watch.settle()
    return seconds


async def session(browser: Browser, index: int, url: str, pool: Path, stats: dict[str, Stats],
                  deadline: float, timeout_s: float, monitor: Monitor) -> None:
    """One browser context looping Predict (a formula from FORMULAS, in turn) and Candidates until the deadline."""
    context = await browser.new_context()
    context.set_default_timeout(timeout_s * 1000)
    watch = Watch(await context.new_page(), stats)
    try:
        step = index
        while time.monotonic() < deadline and monitor.alive:
            watch.task = "predict"
            await run_task(predict(watch, url, FORMULAS[step % len(FORMULAS)]), stats["predict"], timeout_s, monitor)
            watch.task = "screen"
            await run_task(screen(watch, url, pool), stats["screen"], timeout_s, monitor)
            step += 1
    finally:
        await context.close()


async def run_task(task, stats: Stats, timeout_s: float, monitor: Monitor) -> None:
    """Run one task, bounded by TASK_WAITS waits of timeout_s; record its latency or the cause of its failure."""
    try:
        stats.latencies_s.append(await asyncio.wait_for(task, TASK_WAITS * timeout_s))
    except TaskFailed as exc:
        stats.failures[str(exc)] += 1
    except Exception as exc:  # a Playwright or asyncio timeout, a closed page, a refused connection
        if not monitor.alive:
            cause = "server down"
        elif isinstance(exc, TimeoutError):
            cause = "timeout (whole task)"
        elif isinstance(exc, PlaywrightTimeout):
            cause = f"timeout {waited_for(exc)}"
        else:
            cause = type(exc).__name__
        stats.failures[cause] += 1


async def open_home(browser: Browser, url: str) -> None:
    """Open the home page once, so that the timed sessions find the server started and the default model loaded."""
    page = await browser.new_page()
    try:
        await page.goto(url)
        await page.get_by_role("heading", name="Superconductor discovery").wait_for(timeout=STARTUP_S * 1000)
    finally:
        await page.close()


def waited_for(exc: PlaywrightTimeout) -> str:
    """What a Playwright timeout was waiting for, from its call log, cut to 50 characters."""
    lines = [line.strip(" -") for line in str(exc).splitlines() if "waiting for" in line]
    return (lines[0] if lines else str(exc).splitlines()[0])[:50]


async def drive(url: str, sessions: int, seconds: float, timeout_s: float, chromium: str,
                monitor: Monitor) -> dict[str, Stats]:
    """Run the sessions concurrently in one headless Chromium; always close the browser."""
    stats = {"predict": Stats(), "screen": Stats()}
    with tempfile.TemporaryDirectory() as folder:
        pool = write_pool(folder)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium)
            try:
                await open_home(browser, url)
                deadline = time.monotonic() + seconds
                jobs = [session(browser, i, url, pool, stats, deadline, timeout_s, monitor) for i in range(sessions)]
                await asyncio.wait_for(asyncio.gather(*jobs), seconds + 2 * TASK_WAITS * timeout_s + STARTUP_S)
            finally:
                await asyncio.wait_for(browser.close(), STOP_S)
    return stats


# --- the report ---------------------------------------------------------------------------------------------

def report(stats: dict[str, Stats], monitor: Monitor, wall_s: float) -> int:
    """Print the table and summary; the number of failed runs and failed requests."""
    print(f"\n{'task':<8} {'runs':>5} {'failed':>6} {'p50 s':>7} {'p90 s':>7} {'p99 s':>7} {'max s':>7}  "
          "failures; failed requests")
    bad = 0
    for name, task in stats.items():
        if task.latencies_s:
            p50, p90, p99 = np.percentile(task.latencies_s, [50, 90, 99])
            figures = f"{p50:7.2f} {p90:7.2f} {p99:7.2f} {max(task.latencies_s):7.2f}"
        else:
            figures = f"{'-':>7} {'-':>7} {'-':>7} {'-':>7}"
        failed = sum(task.failures.values())
        causes = ", ".join(f"{cause} {n}" for cause, n in task.failures.items()) or "none"
        requests = ", ".join(f"{cause} {n}" for cause, n in task.network.items()) or "none"
        print(f"{name:<8} {task.runs:>5} {failed:>6} {figures}  {causes}; {requests}")
        bad += failed + sum(task.network.values())
    print(f"\nlatency percentiles over the successful runs; {wall_s:.0f} s of load")
    print(f"peak server RSS (children included): {monitor.peak_bytes / 2**20:,.0f} MiB "
          f"over {monitor.samples} samples every {RSS_EVERY_S} s")
    print(f"server alive at the end: {'yes' if monitor.alive else 'NO'}")
    return bad + (not monitor.alive)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/load_test.py")
    parser.add_argument("--sessions", type=int, default=8, help="concurrent browser sessions (default 8)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the sessions loop (default 60)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help=f"limit of one wait in the page, s (default 60; a task: {TASK_WAITS} times that)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium executable")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    port = free_port()
    url = f"http://{HOST}:{port}"
    with tempfile.TemporaryFile("w+") as log:
        server = start_server(port, log)
        monitor = Monitor(server)
        try:
            wait_until_up(url, server)
            monitor.start()
            print(f"server up at {url}; {args.sessions} sessions for {args.seconds:.0f} s "
                  f"(Predict: {', '.join(FORMULAS)}; Candidates: {POOL_NAME}, {POOL_SIZE} formulas, {MODEL})")
            start = time.monotonic()
            stats = asyncio.run(drive(url, args.sessions, args.seconds, args.timeout, args.chromium, monitor))
            bad = report(stats, monitor, time.monotonic() - start)
        except Exception:
            log.seek(0)
            print("server log (last lines):\n" + "".join(log.readlines()[-20:]), file=sys.stderr)
            raise
        finally:
            monitor.stopped.set()
            stop_server(server)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
