"""End to end in Debian's Chromium: every page loads, a formula is predicted, a CIF is drawn in 3D, a screening
is filtered and exported, and no page shows an exception or sends a request off this machine."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from driver import PAGES, serve, settle
from PIL import Image
from playwright.sync_api import expect
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter


def open_page(app, name: str) -> None:
    app.goto(f"{app.app_url}/{PAGES[name]}")
    settle(app)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads(app, name):
    open_page(app, name)
    assert app.locator("h1").first.is_visible()
    assert app.locator('[data-testid="stSidebarNav"] a').count() == len(PAGES)  # no helper module listed as a page
    heading = app.locator("h1").first.inner_text()
    assert app.title() == (heading if name == "home" else f"{heading} · Superconductor discovery")  # the tab


def test_the_page_icon_is_served_by_the_app(app):
    """Every asset is local: the favicon too (Playwright leaves favicon requests out of the network log)."""
    open_page(app, "home")
    icons = app.evaluate("() => [...document.querySelectorAll('link[rel~=\"icon\"]')].map(link => link.href)")
    assert icons and all(href.startswith(app.app_url) for href in icons), icons
    for href in icons:
        response = app.request.get(href)
        assert response.ok and response.headers["content-type"].startswith("image/")


def cut_off(locator) -> list[str]:
    """The texts among `locator`'s elements and their descendants that their box cuts short (wider than shown)."""
    return locator.evaluate_all("""els => els.flatMap(e => [e, ...e.querySelectorAll('*')])
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")


def test_values_are_not_cut_at_1024_pixels(app):
    app.set_viewport_size({"width": 1024, "height": 800})
    open_page(app, "predict")
    box = app.get_by_label("Formula, CIF/POSCAR text or MP id")
    box.fill("MgB2")
    box.press("Control+Enter")
    settle(app)
    metrics = app.locator('[data-testid="stMetricValue"], [data-testid="stMetricDelta"], [data-testid="stMetricLabel"]')
    assert metrics.count() >= 6 and cut_off(metrics) == []
    version = app.locator('[data-testid="stCaptionContainer"]').filter(has_text="version")
    assert version.count() >= 1 and cut_off(version) == []


def metric_value(app, label: str) -> float:
    metric = app.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return float(re.match(r"\s*([-\d.]+)", metric.locator('[data-testid="stMetricValue"]').inner_text()).group(1))


def test_formula_is_predicted(app):
    open_page(app, "predict")
    box = app.get_by_label("Formula, CIF/POSCAR text or MP id")
    box.fill("MgB2")
    box.press("Control+Enter")
    settle(app)
    assert 0.0 <= metric_value(app, "P(superconductor)") <= 1.0
    assert metric_value(app, "Tc") >= 0.0
    bars = app.locator('[data-testid="stPlotlyChart"]').first  # the per-element contributions
    chart, title = bars.locator(".main-svg").first.bounding_box(), bars.locator(".xtitle").bounding_box()
    assert chart["y"] <= title["y"] and title["y"] + title["height"] <= chart["y"] + chart["height"]  # not cut off
    assert chart["x"] <= title["x"] and title["x"] + title["width"] <= chart["x"] + chart["width"]


def non_blank_fraction(png: bytes) -> float:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    return float((np.abs(pixels - pixels[0, 0]).sum(axis=2) > 30).mean())  # differs from the background corner


def test_uploaded_cif_is_drawn_in_3d(app, tmp_path):
    cif = tmp_path / "MgB2.cif"
    mgb2 = Structure.from_spacegroup("P6/mmm", Lattice.hexagonal(3.086, 3.524), ["Mg", "B"],
                                     [[0, 0, 0], [1 / 3, 2 / 3, 0.5]])
    cif.write_text(str(CifWriter(mgb2)))
    open_page(app, "crystal_viewer")
    app.get_by_text("Upload a file", exact=True).click()
    settle(app)
    app.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(cif))
    settle(app)
    canvas = app.frame_locator('[data-testid="stIFrame"]').first.locator("canvas").first
    canvas.wait_for(state="visible")
    app.wait_for_timeout(1500)  # WebGL draws after the frame loads
    assert non_blank_fraction(canvas.screenshot()) > 0.01


FORMULAS = ["MgB2", "Nb3Sn", "YBa2Cu3O7", "La1.85Sr0.15CuO4", "NaCl", "KBr", "Bi2Sr2CaCu2O8", "FeSe", "SiO2",
            "CaCuO2", "NbN", "MgO"]


def download(app, label: str) -> bytes:
    with app.expect_download() as info:
        app.get_by_role("button", name=label).click()
    return open(info.value.path(), "rb").read()


def test_model_performance_draws_the_open_plot_tab(app):
    open_page(app, "model_performance")
    charts = app.locator('[data-testid="stPlotlyChart"]')
    assert charts.count() == 2  # ROC and precision–recall: the other tabs are not run
    app.get_by_role("tab", name="Tc parity").click()
    expect(app).to_have_url(re.compile(r"[?&]plot=Tc"))  # the open tab is in the URL, to share or reload
    settle(app)
    assert charts.count() == 1 and charts.first.locator(".main-svg").first.is_visible()


def test_a_plot_tab_keeps_its_choice_while_another_is_open(app):
    open_page(app, "model_performance")
    app.get_by_role("tab", name="Confusion matrix").click()
    settle(app)
    slider = app.get_by_role("slider")
    slider.focus()
    for _ in range(5):
        app.keyboard.press("ArrowRight")
    settle(app)
    moved = slider.input_value()
    assert float(moved) == pytest.approx(0.55)
    app.get_by_role("tab", name="Calibration").click()
    settle(app)
    assert slider.count() == 0  # the confusion tab is not drawn meanwhile
    app.get_by_role("tab", name="Confusion matrix").click()
    settle(app)
    assert slider.input_value() == moved


def test_screening_is_filtered_and_exported(app, tmp_path):
    pool = tmp_path / "pool.csv"
    pd.DataFrame({"id": [f"c{i}" for i in range(len(FORMULAS))], "formula": FORMULAS}).to_csv(pool, index=False)
    open_page(app, "candidates")
    app.get_by_text("Upload: a CSV", exact=False).click()
    settle(app)
    app.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(pool))
    settle(app)
    app.get_by_role("button", name="Screen").click()
    settle(app)
    heading = app.get_by_text(re.compile(r"^\d+ of \d+ candidates"))
    before = heading.inner_text()
    exclude = app.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Must not contain")
    exclude.locator("input").click()
    app.get_by_role("option", name="Cu", exact=True).click()
    app.keyboard.press("Escape")
    settle(app)
    expect(heading).not_to_have_text(before)  # the rerun with the exclusion has drawn (settle alone can race it)
    heading = heading.inner_text()
    shown, total = map(int, re.match(r"(\d+) of (\d+)", heading).groups())
    assert total == len(FORMULAS) and shown < total
    csv = pd.read_csv(io.BytesIO(download(app, "Download CSV")))
    records = json.loads(download(app, "Download JSON"))
    xlsx = pd.read_excel(io.BytesIO(download(app, "Download XLSX")))
    assert len(csv) == len(records["candidates"]) == len(xlsx) == shown
    assert not csv["formula"].str.contains("Cu").any() and (csv["p_sc"] >= csv["decision_threshold"]).all()
    assert csv["nearest_sc"].notna().all()


def test_a_deep_link_on_a_fresh_server_gets_the_dashboard(page):
    with serve() as url:  # no session has run app.py yet
        page.goto(f"{url}/crystal_viewer")
        settle(page)
        links = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    assert [link.split("\n")[-1] for link in links] == ["Home", "Predict", "Crystal viewer", "Candidates",
                                                         "Model performance", "Element embeddings"]
