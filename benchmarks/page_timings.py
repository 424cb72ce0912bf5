"""Seconds to settled for every page in Debian's Chromium, cold (first visit) and warm (second visit), plus a
formula prediction, the screening of each bundled pool, a CIF upload to the coloured 3D view, and the command line
(start-up, one prediction).

    python benchmarks/page_timings.py            # goals (#18): < 2 s warm per page, < 1.5 s CIF → view,
                                                 # < 0.5 s for sc predict after start-up, start-up < 2 s
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))
from driver import LAUNCH, PAGES, serve, settle  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from pymatgen.core import Lattice, Structure  # noqa: E402
from pymatgen.io.cif import CifWriter  # noqa: E402


def visit(page, url: str) -> float:
    start = time.perf_counter()
    page.goto(url)
    settle(page)
    return time.perf_counter() - start


def cif_to_view(page, url: str, cif: Path) -> float:
    visit(page, f"{url}/crystal_viewer")
    page.get_by_text("Upload a file", exact=True).click()
    settle(page)
    start = time.perf_counter()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(cif))
    settle(page)
    page.frame_locator('[data-testid="stIFrame"]').first.locator("canvas").first.wait_for(state="visible")
    return time.perf_counter() - start


def formula(page, url: str, text: str) -> float:
    visit(page, f"{url}/predict")
    box = page.get_by_label("Formula, CIF/POSCAR text or MP id")
    box.fill(text)
    start = time.perf_counter()
    box.press("Control+Enter")
    settle(page)
    return time.perf_counter() - start


def plot_tab(page, url: str, tab: str) -> float:
    """Model performance with the plot tab `tab` open on arrival (its URL)."""
    seconds = visit(page, f"{url}/model_performance?plot={urllib.parse.quote_plus(tab)}")
    if page.get_by_role("tab", name=tab, selected=True).count() != 1:
        raise SystemExit(f"the Model performance page has no tab {tab!r} open: are its results stored?")
    return seconds


def screen_pool(page, url: str, pool: str) -> float:
    """Candidates: the bundled `pool` screened with the default models, from the click to the drawn shortlist."""
    visit(page, f"{url}/candidates")
    page.locator('[data-testid="stRadio"] label').filter(has_text=f"{pool}:").click()
    settle(page)
    start = time.perf_counter()
    page.get_by_role("button", name="Screen").click()
    settle(page)
    page.get_by_text(re.compile(r"^\d[\d,]* of \d[\d,]* candidates")).first.wait_for()
    return time.perf_counter() - start


def cli_seconds(*argv: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sc_core.cli", *argv], check=True, capture_output=True)
    return time.perf_counter() - start


# the Model performance plot tabs run lazily, one at a time: each is a page of its own (its tab kept in the URL)
PLOT_TABS = ("Against the Tc threshold", "Confusion matrix", "Calibration", "Tc parity")


def main() -> None:
    cif = Path(tempfile.mkdtemp()) / "MgB2.cif"
    cif.write_text(str(CifWriter(Structure.from_spacegroup("P6/mmm", Lattice.hexagonal(3.086, 3.524), ["Mg", "B"],
                                                           [[0, 0, 0], [1 / 3, 2 / 3, 0.5]]))))
    rows = []
    with serve() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(**LAUNCH)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name, path in PAGES.items():
            cold = visit(page, f"{url}/{path}")
            warm = [visit(page, f"{url}/{path}") for _ in range(3)]
            rows.append((f"page {name}", cold, statistics.median(warm)))
        for tab in PLOT_TABS:
            rows.append((f"  · {tab}", plot_tab(page, url, tab), statistics.median(plot_tab(page, url, tab)
                                                                                    for _ in range(3))))
        rows.append(("predict a formula (MgB2)", formula(page, url, "MgB2"), formula(page, url, "Nb3Sn")))
        for pool in ("3DSC", "S2S", "COD"):
            rows.append((f"screen the bundled {pool} pool", screen_pool(page, url, pool), screen_pool(page, url, pool)))
        rows.append(("CIF upload → coloured 3D view", cif_to_view(page, url, cif), cif_to_view(page, url, cif)))
        browser.close()
    start_up = [cli_seconds("--help") for _ in range(3)]
    predict = [cli_seconds("predict", "MgB2") for _ in range(3)]
    rows.append(("sc --help (start-up)", start_up[0], statistics.median(start_up)))
    rows.append(("sc predict MgB2 (whole process)", predict[0], statistics.median(predict)))
    print(f"{'what':40s} {'first (s)':>10s} {'warm (s)':>10s}")
    for what, first, warm in rows:
        print(f"{what:40s} {first:10.2f} {warm:10.2f}")


if __name__ == "__main__":
    main()
