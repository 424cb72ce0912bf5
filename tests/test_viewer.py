"""Tests for the offline 3D crystal viewer (sc_core.viewer)."""

import base64
import json
import re
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from sc_core.viewer import _3dmol_js, diverging_colors, element_colors, element_key, structure_html

ATOMS_RE = re.compile(r"\.getModel\(\)\.addAtoms\((\[.*?\])\);\n")


@pytest.fixture(scope="module")
def nacl() -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture(scope="module")
def disordered() -> Structure:
    return Structure(Lattice.cubic(4.0), [{"Ba": 0.6, "K": 0.4}, "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def payload(html: str) -> dict:
    """What the py3Dmol commands in `html` draw: the structure's atoms, cell edges, labels."""
    models = ATOMS_RE.findall(html)
    assert len(models) == 2, "the atoms and the frame corners"
    cylinders = [json.loads(c) for c in re.findall(r"\.addCylinder\((\{.*?\})\);", html)]
    return {"atoms": json.loads(models[0].replace("<\\/", "</")), "corners": json.loads(models[1]),
            "cell": [c for c in cylinders if c["radius"] == 0.04],
            "supercell_box": [c for c in cylinders if c["radius"] == 0.02],
            "labels": ".addLabel(" in html.split("setHoverable")[0]}


def rgb(hex_color: str) -> tuple[int, int, int]:
    assert re.fullmatch(r"#[0-9a-f]{6}", hex_color), hex_color
    return tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))


def test_library_is_inlined_and_nothing_is_fetched(nacl):
    html = structure_html(nacl)
    assert html.startswith("<!DOCTYPE html>") and "createViewer" in html  # py3Dmol's viewer
    url = re.search(r"loadScriptAsync\('([^']*)'\)", html).group(1)
    assert base64.b64decode(url.removeprefix("data:text/javascript;base64,")).decode() == _3dmol_js()
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I) and not re.search(r"<link\b", html, re.I)
    own = html.replace(url, "")
    assert len(own) < 20_000 and "http://" not in own and "https://" not in own


def test_the_dashboard_serves_the_library(nacl):
    html = structure_html(nacl, js="/app/static/3Dmol-min.js")
    assert "loadScriptAsync('/app/static/3Dmol-min.js')" in html and "base64" not in html
    assert (Path(__file__).parents[1] / "static" / "3Dmol-min.js").read_text() == _3dmol_js().replace(
        "<\\/script", "</script")  # ./static, served at /app/static, is the package's file


@pytest.mark.parametrize("n", [1, 2, 3])
def test_atom_count_matches_supercell(nacl, n):
    data = payload(structure_html(nacl, supercell=n))
    assert len(data["atoms"]) == len(nacl) * n**3
    assert len(data["cell"]) == 12
    assert len(data["supercell_box"]) == (12 if n > 1 else 0)


def test_element_colours_without_values(nacl):
    html = structure_html(nacl)
    data = payload(html)
    colors = element_colors(nacl)
    assert colors == {"Na": "#ab5cf2", "Cl": "#1ff01f"}  # Jmol's
    assert all(a["color"] == colors[a["elem"]] for a in data["atoms"])  # the 3D view uses the key's table
    assert 'class="legend"' not in html


def test_element_key_lists_each_element_with_its_colour(disordered):
    key = element_key(disordered)
    assert re.findall(r"background:(#[0-9a-f]{6})\"></span>&nbsp;(\w+)", key) == [("#00c900", "Ba"), ("#ff0d0d", "O")]
    assert "K" not in re.sub(r"<[^>]*>", "", key)  # a minority species takes no colour of its own


def test_diverging_colours_blue_to_red():
    colors = diverging_colors([-2.0, 0.0, 1.0, 2.0])
    r, g, b = rgb(colors[0])
    assert b > r + 50  # most negative: blue
    r, g, b = rgb(colors[-1])
    assert r > b + 50  # most positive: red
    assert min(rgb(colors[1])) > 200  # zero: near white
    assert rgb(colors[2])[0] > rgb(colors[2])[2]  # half-way positive: still red side
    assert diverging_colors([0.0, 0.0]) == [diverging_colors([0.0])[0]] * 2
    with pytest.raises(ValueError):
        diverging_colors([1.0, float("nan")])


def test_values_colour_atoms_and_replicate(nacl):
    values = [-0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.45]
    html = structure_html(nacl, values, supercell=2, value_label="Tc contribution (K)")
    data = payload(html)
    colors = [a["color"] for a in data["atoms"]]
    assert colors == diverging_colors(values) * 8
    r, g, b = rgb(colors[0])
    assert b > r  # most negative site is blue
    assert 'class="legend"' in html and "Tc contribution (K)" in html
    assert "+0.9" in html and "-0.9" in html  # symmetric min/max ticks


def test_partial_occupancy(disordered):
    data = payload(structure_html(disordered, [0.5, -0.5]))
    site = data["atoms"][0]
    assert site["elem"] == "Ba"
    assert site["hover"].startswith("Ba0.6 K0.4")
    assert data["atoms"][1]["hover"].startswith("O")


def test_labels_toggle(nacl):
    off, on = structure_html(nacl), structure_html(nacl, labels=True)
    assert off != on
    assert payload(off)["labels"] is False and payload(on)["labels"] is True
    assert on.count(".addLabel(") == len(nacl) + 1  # one per atom, and the hover label


def test_injected_text_is_escaped(disordered):
    label = '</script><script>alert("x")</script>'
    html = structure_html(disordered, [1.0, -1.0], value_label=label, ends=(label, label))
    assert label not in html and html.count("</script>") == 1  # the py3Dmol script's own end tag only
    assert label in payload(html)["atoms"][0]["hover"]


def test_invalid_arguments(nacl):
    with pytest.raises(ValueError):
        structure_html(nacl, [1.0, 2.0])
    for bad in (0, 4, 1.5, True):
        with pytest.raises(ValueError):
            structure_html(nacl, supercell=bad)


def test_the_scene_is_drawn_once_at_the_end(nacl):
    script = structure_html(nacl, labels=True, js="/app/static/3Dmol-min.js").rpartition("<script>")[2]
    viewer = re.search(r"(viewer_\d+) = \$3Dmol\.createViewer", script).group(1)
    # every call that would draw a frame nobody sees (labels, rotations, zoom) runs while drawing is switched off
    drawing_off, drawing_on = script.index(f"{viewer}.show = function () {{}};"), script.index(f"delete {viewer}.show;")
    assert drawing_off < script.index(f"{viewer}.addLabel(") < script.rindex(f"{viewer}.zoom(") < drawing_on
    assert script.index(f"{viewer}.render();") > drawing_on
    assert re.findall(rf"{viewer}\.(\w+)\(", script)[-1] == "render"  # the one frame drawn
