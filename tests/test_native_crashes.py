"""Hostile structure files never reach native code (spglib, neighbour search): clear message, exit 2, no crash.

A segfault cannot be caught, so each check runs in a subprocess; a crash fails the test instead of killing pytest.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Composition, Lattice, Structure

from sc_core.models.base import as_records

ROOT = Path(__file__).resolve().parents[1]
CELL = "_cell_length_a {a}\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\n"
HOSTILE = {  # the 298-byte CIF that took the dashboard down, and a zero cell
    "infinite": ("data_x\n" + CELL.format(a="inf") + "_cell_angle_gamma 90\n_symmetry_space_group_name_H-M 'P 1'\n"
                 "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n"
                 "_atom_site_fract_z\nFe1 Fe 0 0 0\n", "The cell length a is infinite"),
    "zero": ("data_x\n" + CELL.format(a="0") + "_cell_angle_gamma 90\nloop_\n_atom_site_label\n_atom_site_type_symbol\n"
             "_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nFe1 Fe 0 0 0\n", "The cell length a is 0"),
}
# One subprocess runs every hostile file through `sc predict`, `sc screen` and the Crystal viewer (AppTest), and
# prints one JSON line per run; importing sc_core and the page once keeps this fast.
SCRIPT = """
import contextlib, io, json, sys
from streamlit.testing.v1 import AppTest
from sc_core import cli
for path in sys.argv[1:]:
    for command in (["predict", path, "--model", "baseline"],
                    ["screen", path, "-o", path + ".csv", "--models", "baseline"]):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(command)
        print(json.dumps({"path": path, "run": command[0], "code": code, "output": out.getvalue() + err.getvalue()}))
    at = AppTest.from_file("views/crystal_viewer.py", default_timeout=60).run()
    at.radio[0].set_value("Upload a file").run()
    at.file_uploader[0].upload("hostile.cif", open(path, "rb").read()).run()
    print(json.dumps({"path": path, "run": "viewer", "code": len(at.exception),
                      "output": "\\n".join(e.value for e in at.error)}))
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[tuple[str, str], dict]:
    """(hostile case, run) → the run's exit code (the viewer's: its number of exceptions) and output."""
    folder = tmp_path_factory.mktemp("hostile")
    paths = {name: folder / f"{name}.cif" for name in HOSTILE}
    for name, path in paths.items():
        path.write_text(HOSTILE[name][0])
    done = subprocess.run([sys.executable, "-c", SCRIPT, *map(str, paths.values())], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, f"exit {done.returncode} (-11/139: segfault): {done.stderr[-2000:]}"
    names = {str(path): name for name, path in paths.items()}
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {(names[r["path"]], r["run"]): r for r in records}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_sc_predict_explains_and_exits_2(runs, case):
    run = runs[case, "predict"]
    assert run["code"] == 2 and HOSTILE[case][1] in run["output"]


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_sc_screen_does_not_crash(runs, case):
    run = runs[case, "screen"]  # the subprocess survived (no 139); the row is unscored
    assert run["code"] in (0, 2) and "1 could not be scored" in run["output"]


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_sc_screen_exits_2_when_nothing_is_scored(runs, case):
    assert runs[case, "screen"]["code"] == 2


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_crystal_viewer_upload_shows_the_message(runs, case):
    run = runs[case, "viewer"]
    assert run["code"] == 0 and HOSTILE[case][1] in run["output"]


# -- objects given to a model directly pass the same gate ------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (Composition({"Fe": float("inf"), "O": 1}), "amount of Fe in the composition is infinite"),  # OverflowError
        (Composition({"Fe": -1, "O": 1}, allow_negative=True), "Amounts must be positive"),  # predicted as O
        (Structure(Lattice([[np.inf, 0, 0], [0, 4, 0], [0, 0, 4]]), ["Fe"], [[0, 0, 0]]), "cell length a is infinite"),
        (Structure(Lattice.cubic(3.0), ["Cu", "Cu"], [[0, 0, 0], [0.05, 0, 0]]), "0.15 Å apart"),
    ],
)
def test_as_records_gives_hostile_objects_the_row_error(item, message):
    records = as_records([item, "MgB2"])
    assert message in records.table["error"][0]
    assert records.table["error"][1] == "" and records.table["structure"][0] is None
    assert (records.batch.z[0] == 0).all() and records.batch.z[1].tolist() == [12, 5]  # nothing of the bad row kept
