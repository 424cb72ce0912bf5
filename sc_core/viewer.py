"""Offline 3D crystal viewer: an HTML document built with py3Dmol on the vendored 3Dmol.js.

The HTML loads ``sc_core/static/3Dmol-min.js`` from a URL the caller serves it at (the dashboard:
``/app/static/3Dmol-min.js``) or inlines it, so it renders with no network access
(e.g. ``st.iframe(structure_html(s), height=520)``). Atoms are added from Cartesian
coordinates, not parsed from a CIF, so partially occupied sites are handled here: the majority
species sets the element and colour, and the full occupancy (e.g. "Ba0.6 K0.4") is shown on hover.
Atoms take their element's Jmol colour (:func:`element_colors`, keyed by :func:`element_key`) or a
colour for their value on :data:`CONTRIBUTION_SCALE`.
"""

from __future__ import annotations

import base64
import functools
import html
import itertools
import math
from collections.abc import Sequence
from importlib import resources

import numpy as np
import py3Dmol
from monty.serialization import loadfn
from pymatgen.core import Structure

from sc_core.chemistry import display_formula, majority_element

__all__ = ["structure_html", "diverging_colors", "element_colors", "element_key", "CONTRIBUTION_SCALE",
           "CONTRIBUTION_COLOURS"]

MAX_SUPERCELL = 3
SPHERE_SCALE = 0.3  # fraction of the van der Waals radius used for atom spheres
LEGEND_STOPS = 11  # colour stops in the legend gradient
# The one colour convention for contributions, on every page: plotly's RdBu reversed, negative blue, positive red
CONTRIBUTION_SCALE = "RdBu_r"
CONTRIBUTION_COLOURS = "red: pushes towards a superconductor, blue: away from one"
CONTRIBUTION_ENDS = ("red: towards a superconductor", "blue: away from a superconductor")  # the ends of a colour bar
UNKNOWN_COLOR = "#ff1493"  # an element the Jmol table lacks (3Dmol.js's own default)


@functools.lru_cache(maxsize=1)
def _3dmol_js() -> str:
    """Return the vendored 3Dmol.js source, safe to inline inside a <script> element."""
    source = resources.files("sc_core").joinpath("static/3Dmol-min.js").read_text(encoding="utf-8")
    return source.replace("</script", "<\\/script")


@functools.lru_cache(maxsize=1)
def _jmol_colors() -> dict[str, str]:
    """Element → Jmol colour as "#rrggbb": pymatgen's table, the colours of 3Dmol.js's "Jmol" scheme."""
    table = loadfn(str(resources.files("pymatgen.core").joinpath("ElementColorSchemes.yaml")))["Jmol"]
    return {symbol: "#{:02x}{:02x}{:02x}".format(*rgb) for symbol, rgb in table.items()}


def element_colors(structure: Structure) -> dict[str, str]:
    """Majority element of each site → the colour the 3D view gives its atoms, in order of first site."""
    symbols = dict.fromkeys(majority_element(site.species) for site in structure)
    return {symbol: _jmol_colors().get(symbol, UNKNOWN_COLOR) for symbol in symbols}


def element_key(structure: Structure) -> str:
    """HTML colour key of :func:`element_colors`: a round swatch and the symbol of each element."""
    swatch = ('<span style="display:inline-block;width:0.85em;height:0.85em;border-radius:50%;'
              'border:1px solid #888;vertical-align:-0.1em;background:{}"></span>&nbsp;{}')
    return " &ensp; ".join(swatch.format(color, html.escape(symbol))
                           for symbol, color in element_colors(structure).items())


def _rgb_to_hex(rgb: str) -> str:
    """Convert plotly's ``"rgb(r, g, b)"`` (channels may be floats) to ``"#rrggbb"``."""
    channels = rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")
    r, g, b = (min(255, max(0, round(float(c)))) for c in channels[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _symmetric_positions(values: Sequence[float]) -> list[float]:
    """Map values to [0, 1] on a scale symmetric about 0 (0 -> 0.5, ±max|v| -> 1/0)."""
    vmax = max((abs(v) for v in values), default=0.0)
    if vmax == 0:
        return [0.5] * len(values)
    return [0.5 + 0.5 * v / vmax for v in values]


def diverging_colors(values: Sequence[float] | np.ndarray, cmap: str = CONTRIBUTION_SCALE) -> list[str]:
    """Hex colours for ``values`` on a diverging scale symmetric about 0.

    ``vmax = max |value|``; ``-vmax`` maps to the low end of ``cmap`` (blue for "RdBu_r"),
    0 to its midpoint (white-ish) and ``+vmax`` to the high end (red). ``cmap`` is any
    plotly named colour scale (append "_r" to reverse it).
    """
    from plotly.colors import sample_colorscale  # only needed when colouring by value

    vals = [float(v) for v in values]
    if not all(math.isfinite(v) for v in vals):
        raise ValueError("values must be finite numbers")
    if not vals:
        return []
    return [_rgb_to_hex(c) for c in sample_colorscale(cmap, _symmetric_positions(vals))]


def _occupancy_string(species) -> str:
    """Occupancy of one site, majority first, e.g. "Ba0.6 K0.4"; a fully occupied site gives "Na"."""
    items = sorted(species.items(), key=lambda kv: (-kv[1], str(kv[0])))
    if len(items) == 1 and math.isclose(items[0][1], 1.0):
        return str(items[0][0])
    return " ".join(f"{sp}{occ:.3g}" for sp, occ in items)


def _corners(matrix: np.ndarray, n: int) -> list[list[float]]:
    """The 8 corners of the box spanned by ``n`` times the lattice vectors."""
    shifts = np.array(list(itertools.product((0, n), repeat=3)), dtype=float)
    return (shifts @ np.asarray(matrix, dtype=float)).round(6).tolist()


def _cell_edges(matrix: np.ndarray, n: int) -> list[list[list[float]]]:
    """The 12 edges of the parallelepiped spanned by ``n`` times the lattice vectors."""
    a, b, c = (n * np.asarray(v, dtype=float) for v in matrix)
    corners: dict[tuple[int, ...], np.ndarray] = {
        (i, j, k): i * a + j * b + k * c for i, j, k in itertools.product((0, 1), repeat=3)}
    edges = []
    for key, start in corners.items():
        for axis in range(3):
            if key[axis] == 0:
                end_key = tuple(1 if ax == axis else key[ax] for ax in range(3))
                edges.append([start.round(6).tolist(), corners[end_key].round(6).tolist()])
    return edges


def _fmt(v: float) -> str:
    """Compact signed number for labels and legend ticks."""
    return f"{v:+.3g}"


def _payload(
    structure: Structure,
    values: Sequence[float] | None,
    supercell: int,
    labels: bool,
    cmap: str,
    value_label: str,
) -> dict:
    """Everything the JavaScript side needs, as plain JSON-serialisable data."""
    colors = diverging_colors(values, cmap) if values is not None else None
    by_element = element_colors(structure)
    frac = np.mod(structure.frac_coords, 1.0)
    frac[np.isclose(frac, 1.0)] = 0.0
    atoms = []
    for shift in itertools.product(range(supercell), repeat=3):
        cart = structure.lattice.get_cartesian_coords(frac + np.array(shift, dtype=float))
        for i, site in enumerate(structure):
            x, y, z = (round(float(t), 5) for t in cart[i])
            hover = _occupancy_string(site.species)
            elem = majority_element(site.species)
            atom = {"elem": elem, "x": x, "y": y, "z": z, "site": i,
                    "color": by_element[elem] if colors is None else colors[i]}
            if values is not None:
                hover += f" · {value_label} = {_fmt(float(values[i]))}"
            atom["hover"] = hover
            atoms.append(atom)
    return {
        "atoms": atoms,
        "cell": _cell_edges(structure.lattice.matrix, 1),
        "supercell_box": _cell_edges(structure.lattice.matrix, supercell) if supercell > 1 else [],
        "frame_corners": _corners(structure.lattice.matrix, supercell),
        "labels": bool(labels),
        "sphere_scale": SPHERE_SCALE,
    }


def _legend_html(values: Sequence[float], cmap: str, value_label: str, height: int,
                 ends: tuple[str, str] | None) -> str:
    """Vertical colour bar (HTML/CSS) for a diverging scale symmetric about 0; `ends` say what its top and
    bottom mean."""
    vals = [float(v) for v in values]
    vmax = max((abs(v) for v in vals), default=0.0)
    stops = diverging_colors(np.linspace(1.0, -1.0, LEGEND_STOPS), cmap)  # top = +vmax
    gradient = ", ".join(f"{c} {100 * k / (LEGEND_STOPS - 1):.0f}%" for k, c in enumerate(stops))
    bar_h = max(120, height - 120)
    data_range = f"data: {_fmt(min(vals))} … {_fmt(max(vals))}" if vals else ""
    top, bottom = (f'<div class="legend-end">{html.escape(text)}</div>' for text in ends or ("", ""))
    return f"""
<div class="legend" style="height:{height}px">
  <div class="legend-title">{html.escape(value_label)}</div>
  {top}
  <div class="legend-body">
    <div class="legend-bar" style="height:{bar_h}px;background:linear-gradient(to bottom, {gradient})"></div>
    <div class="legend-ticks" style="height:{bar_h}px">
      <span class="tick-max">{_fmt(vmax)}</span>
      <span class="tick-zero">0</span>
      <span class="tick-min">{_fmt(-vmax)}</span>
    </div>
  </div>
  {bottom}
  <div class="legend-range">{html.escape(data_range)}</div>
</div>"""


_STYLE = """
html, body { margin: 0; padding: 0; background: #ffffff; font-family: sans-serif; font-size: 12px; }
.wrap { display: flex; align-items: flex-start; gap: 12px; width: 100%; }
.viewer { position: relative; flex: 1 1 auto; min-width: 0; }
.legend { flex: none; display: flex; flex-direction: column; justify-content: center; gap: 6px; }
.legend-title { font-weight: bold; }
.legend-body { display: flex; gap: 6px; }
.legend-bar { width: 18px; border: 1px solid #888; }
.legend-ticks { display: flex; flex-direction: column; justify-content: space-between; }
.legend-range { color: #555; }
.legend-end { max-width: 9em; }
"""

# 3Dmol.js callbacks, given as text (py3Dmol passes every argument as JSON; 3Dmol.js turns text into functions)
_HOVER = """function (atom, viewer) {
  if (!atom.hoverLabel) {
    atom.hoverLabel = viewer.addLabel(atom.hover, {position: atom, alignment: "bottomLeft", inFront: true,
                                                   backgroundColor: "lightyellow", fontColor: "black", fontSize: 12});
  }
}"""
_UNHOVER = """function (atom, viewer) {
  if (atom.hoverLabel) { viewer.removeLabel(atom.hoverLabel); delete atom.hoverLabel; }
}"""


def _script_url(js: str | None) -> str:
    """Where the page loads 3Dmol.js from: `js`, or the vendored file as a data: URL (a standalone document)."""
    if js is not None:
        return js
    return "data:text/javascript;base64," + base64.b64encode(_3dmol_js().encode()).decode()


def _one_draw(script: str) -> str:
    """py3Dmol's `script` drawing the scene once, at its final render: 3Dmol.js draws the whole scene on every
    rotate, zoom and label call before it, frames nobody sees (the browser shows only the last), each one a full
    software-rendered frame on a machine without a GPU."""
    at = script.index(" = $3Dmol.createViewer(")
    viewer, created = script[script.rindex("\n", 0, at) + 1 : at], script.index("\n", at)
    render = script.rindex(f"{viewer}.render();")
    silent, drawing = f"\n{viewer}.show = function () {{}};", f"delete {viewer}.show;\n"  # the prototype's show again
    return f"{script[:created]}{silent}{script[created:render]}{drawing}{script[render:]}"


def _view_html(payload: dict, height: int, js: str | None) -> str:
    """The py3Dmol view of `payload` (atoms, cell box, labels, hover) as an HTML fragment, as wide as its box."""
    view = py3Dmol.view(width="100%", height=height, js=_script_url(js))
    view.addModel()
    view.getModel().addAtoms(payload["atoms"])
    view.getModel().setStyle({}, {"sphere": {"scale": payload["sphere_scale"]}})  # each atom's own colour
    for edges, radius, colour in ((payload["cell"], 0.04, "#222222"), (payload["supercell_box"], 0.02, "#999999")):
        for start, end in edges:
            view.addCylinder({"start": dict(zip("xyz", start)), "end": dict(zip("xyz", end)), "radius": radius,
                              "color": colour, "fromCap": 1, "toCap": 1})
    if payload["labels"]:
        for atom in payload["atoms"]:
            view.addLabel(atom["elem"], {"position": {k: atom[k] for k in "xyz"}, "fontSize": 11, "inFront": True,
                                         "fontColor": "black", "backgroundColor": "white", "backgroundOpacity": 0.6})
    # invisible atoms at the box corners, so zoomTo frames the whole cell rather than just the atoms
    view.addModel()
    view.getModel().addAtoms([{"elem": "X", "x": x, "y": y, "z": z} for x, y, z in payload["frame_corners"]])
    view.getModel().setStyle({}, {})
    view.setHoverDuration(100)
    view.setHoverable({"model": 0}, True, _HOVER, _UNHOVER)
    view.zoomTo({"model": 1})
    for angle, axis in ((15, "x"), (-25, "y"), (-90, "x")):  # composed in the model frame: c axis up, turn, tilt
        view.rotate(angle, axis)
    view.zoom(0.85)
    fragment = view.write_html()
    head, _, rest = fragment.partition("<script>")
    body, _, tail = rest.rpartition("</script>")
    body = _one_draw(body)
    # the arguments are JSON, whose strings may hold "</script>": written "<\/" (the same JavaScript string)
    return f"{head}<script>{body.replace('</', '<' + chr(92) + '/')}</script>{tail}"


def structure_html(
    structure: Structure,
    values: Sequence[float] | None = None,
    *,
    supercell: int = 1,
    labels: bool = False,
    width: int = 640,
    height: int = 480,
    cmap: str = CONTRIBUTION_SCALE,
    value_label: str = "contribution",
    ends: tuple[str, str] | None = None,
    js: str | None = None,
) -> str:
    """HTML document showing ``structure`` in 3D, built with py3Dmol. 3Dmol.js comes from the URL `js` (the
    dashboard serves the vendored file), or by default is inlined as a data: URL (a standalone file, offline).

    Draws atoms as spheres, the unit-cell box and an ``supercell``×``supercell``×``supercell``
    replication (1 to 3). With ``values`` (one float per site of ``structure``) atoms are coloured
    on a diverging scale symmetric about 0 and a colour bar titled ``value_label``, its top and bottom
    labelled ``ends``, is drawn beside the canvas; otherwise atoms take the Jmol colours of
    :func:`element_colors`. ``labels`` adds element labels. Hovering an atom shows its site occupancy (and value).
    """
    if isinstance(supercell, bool) or not isinstance(supercell, (int, np.integer)):
        raise ValueError(f"supercell must be an integer 1..{MAX_SUPERCELL}, got {supercell!r}")
    if not 1 <= supercell <= MAX_SUPERCELL:
        raise ValueError(f"supercell must be 1..{MAX_SUPERCELL}, got {supercell}")
    if width <= 0 or height <= 0:
        raise ValueError("width and height must be positive")
    if values is not None:
        values = [float(v) for v in values]
        if len(values) != len(structure):
            raise ValueError(f"values has {len(values)} entries but the structure has {len(structure)} sites")

    payload = _payload(structure, values, int(supercell), labels, cmap, value_label)
    legend = _legend_html(values, cmap, value_label, height, ends) if values is not None else ""
    title = html.escape(display_formula(structure.composition, reorder=True))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{_STYLE}</style>
</head>
<body>
<div class="wrap">
  <div class="viewer" style="max-width:{int(width)}px">{_view_html(payload, int(height), js)}</div>{legend}
</div>
</body>
</html>
"""
