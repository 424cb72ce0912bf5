"""Tests for the `sc` command line, run in-process through ``sc_core.cli.main``."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fakes import toy_models  # noqa: F401  (fixture)
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter
from test_pools import hostile_zip

from sc_core import checkpoints, data, models, screening
from sc_core.cli import main, pool_from_argument
from sc_core.generate import compositions
from sc_core.substitute import substitutions

NACL = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
ROOT = Path(__file__).resolve().parents[1]
# imported only by the commands and models that use them (#18: start-up); sklearn and scipy by training and evaluation
HEAVY = ("torch", "lightgbm", "ray", "plotly", "streamlit", "sklearn", "scipy", "pymatgen.io.cif", "pymatgen.io.vasp",
         "pymatgen.symmetry.analyzer")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_predict_formula_prints_probability(capsys):
    code, out, _ = run(capsys, "predict", "La1.85Sr0.15CuO4")
    assert code == 0
    row = out.splitlines()[1].split()
    assert row[0] == "La1.85Sr0.15CuO4"
    assert 0 <= float(row[2]) <= 1


def test_predict_json_records(capsys):
    code, out, _ = run(capsys, "predict", "MgB2", "Nb3Sn", "--json")
    records = json.loads(out)
    assert code == 0 and len(records) == 2
    for record in records:
        assert {"id", "formula", "p_sc", "tc_K", "error"} <= record.keys()
        assert 0 <= record["p_sc"] <= 1 and record["error"] == ""
        assert record["predicted_sc"] == (record["p_sc"] >= record["decision_threshold"])  # the card's threshold


def test_predict_csv_keeps_bad_rows_and_extra_columns(capsys, tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"id": ["a", "b", "c", "d"], "formula": ["MgB2", "Xx2", "YBa2Cu3O7", "NaCl"],
                  "note": ["w", "x", "y", "z"]}).to_csv(source, index=False)
    target = tmp_path / "out.csv"
    code, out, _ = run(capsys, "predict", str(source), "-o", str(target))
    result = pd.read_csv(target, keep_default_na=False, na_values=[""])
    assert code == 0 and "4 rows (1 with errors)" in out
    assert result["id"].tolist() == ["a", "b", "c", "d"] and result["note"].tolist() == ["w", "x", "y", "z"]
    bad = result.iloc[1]
    assert "Xx" in bad["error"] and np.isnan(bad["p_sc"])
    good = result.drop(index=1)
    assert good["error"].isna().all() and good["p_sc"].between(0, 1).all()


def test_predict_zip_with_a_bad_cif(capsys, tmp_path):
    archive = tmp_path / "cifs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("NaCl.cif", str(CifWriter(NACL)))
        zf.writestr("garbage.cif", "this is not a CIF\n")
    code, out, _ = run(capsys, "predict", str(archive), "--json")
    records = {r["id"]: r for r in json.loads(out)}
    assert code == 0 and set(records) == {"NaCl.cif", "garbage.cif"}
    assert records["NaCl.cif"]["error"] == "" and 0 <= records["NaCl.cif"]["p_sc"] <= 1
    assert "CIF" in records["garbage.cif"]["error"] and records["garbage.cif"]["p_sc"] is None


def test_csv_without_formula_column_is_a_usage_error(capsys, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("name\nMgB2\n")
    code, out, err = run(capsys, "predict", str(source))
    assert code == 2 and out == "" and "'formula' column" in err and len(err.strip().splitlines()) == 1


def test_unknown_model_is_a_usage_error(capsys):
    code, _, err = run(capsys, "predict", "MgB2", "--model", "no-such-model")
    assert code == 2 and "no-such-model" in err and "baseline" in err and "Traceback" not in err


def test_missing_path_is_a_usage_error(capsys):
    code, _, err = run(capsys, "predict", "nope/missing.cif")
    assert code == 2 and "nope/missing.cif" in err


def test_bare_token_is_a_formula(capsys, tmp_path):
    (tmp_path / "cifs").mkdir()
    (tmp_path / "cifs" / "NaCl.cif").write_text(str(CifWriter(NACL)))
    code, out, _ = run(capsys, "predict", "missing", str(tmp_path / "cifs"), "--json")
    records = json.loads(out)
    assert code == 0 and [r["id"] for r in records] == ["missing", "NaCl.cif"]
    assert "not a chemical formula" in records[0]["error"] and records[1]["formula"] == "Na1Cl1"


@pytest.mark.usefixtures("toy_models")
def test_predict_bundled_mp_id_as_in_the_app(capsys):
    structure = data.find_mp_id("mp-19735")[0]
    for name in ("toy_structure", "toy"):  # a structure model reads the crystal, a composition model its composition
        code, out, _ = run(capsys, "predict", "mp-19735", "mp-999999999", "--model", name, "--json")
        known, unknown = json.loads(out)
        expected = models.load(name).predict([structure]).iloc[0]
        assert code == 0 and known["id"] == "mp-19735" and known["formula"] == "La2Cu1O4"
        assert known["error"] == "" and np.isclose(known["p_sc"], expected["p_sc"])
        assert "'mp-999999999' is not among the bundled 3DSC structures" in unknown["error"]
        assert unknown["p_sc"] is None


def test_predict_exits_2_when_no_input_could_be_predicted(capsys):
    code, out, _ = run(capsys, "predict", "Xy2O3")
    assert code == 2 and "Unknown element 'Xy' in 'Xy2O3'" in out  # the error row is still printed
    code, out, _ = run(capsys, "predict", "Xy2O3", "mp-999999999", "--json")
    assert code == 2 and [r["p_sc"] for r in json.loads(out)] == [None, None]


def test_long_bad_input_is_quoted_as_an_excerpt(capsys, tmp_path):
    formula = "Xy2O3" * 1000
    code, out, _ = run(capsys, "predict", formula)
    assert code == 2 and "Unknown element 'Xy'" in out and "(5,000 characters)" in out
    assert max(len(line) for line in out.splitlines()) < 300
    code, out, _ = run(capsys, "predict", formula, "--json")
    assert len(json.loads(out)[0]["error"]) < 300
    for argv in (["predict", "nope/" + "x" * 5000 + ".cif"], ["screen", "z" * 5000, "-o", str(tmp_path / "x.csv")],
                 ["predict", "MgB2", "--model", "m" * 5000]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and "characters)" in err and len(err) < 300


def test_models_lists_baseline(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0 and "baseline" in out


def test_evaluate_writes_results(capsys, tmp_path):
    code, out, _ = run(capsys, "evaluate", "--model", "baseline", "--datasets", "s2s", "--seeds", "0",
                       "--limit", "300", "--out-dir", str(tmp_path))
    assert code == 0 and str(tmp_path / "baseline.json") in out
    result = json.loads((tmp_path / "baseline.json").read_text())
    assert {"model", "version", "results"} <= result.keys() and result["model"] == "baseline"
    assert {(r["dataset"], r["protocol"]) for r in result["results"]} == {("s2s", "random"), ("s2s", "grouped"),
                                                                           ("s2s", "random_unseen_formula")}
    for entry in result["results"]:
        assert {"dataset", "protocol", "task", "threshold_K", "n_test", "seeds", "metrics"} <= entry.keys()
        assert entry["seeds"] == [0] and entry["n_test"] > 0
        assert all({"mean", "std"} <= value.keys() for value in entry["metrics"].values())


def test_screen_writes_a_filtered_annotated_shortlist(capsys, tmp_path):
    pool = tmp_path / "pool.csv"
    pool.write_text("id,formula\na,MgB2\nb,La1.85Sr0.15CuO4\nc,Xx2\nd,NaCl\ne,FeSe\n")
    out = tmp_path / "short.csv"
    code, text, _ = run(capsys, "screen", str(pool), "-o", str(out), "--models", "baseline", "--min-p", "0.3",
                        "--exclude-family", "cuprate,iron")
    table = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert code == 0 and "1 could not be scored, written after the shortlist" in text
    assert table["id"].tolist() == ["a", "c"]  # cuprate, NaCl and iron left out; the bad row follows
    assert table["error"].isna().tolist() == [True, False] and "Xx" in table.loc[1, "error"]
    assert np.isnan(table.loc[1, "p_sc"]) and 0.3 <= table.loc[0, "p_sc"] <= 1
    assert {"nearest_sc", "space_group", "models", "exported"} <= set(table.columns)
    code, text, _ = run(capsys, "screen", str(pool), "-o", str(out), "--models", "baseline", "--min-p", "0.3",
                        "--exclude-family", "cuprate,iron", "--hide-errors")
    assert code == 0 and "1 could not be scored, left out" in text and pd.read_csv(out)["id"].tolist() == ["a"]
    code, text, _ = run(capsys, "screen", str(pool), "-o", str(out), "--models", "baseline", "--hide-errors")
    table = pd.read_csv(out)  # without --min-p: the rows whose P reaches the model's decision threshold
    assert code == 0 and len(table) >= 1 and table["predicted_sc"].all()
    assert (table["p_sc"] >= table["decision_threshold"]).all()


def test_screen_pool_names_in_any_case_and_unknown_tokens(capsys, tmp_path):
    for token, source in (("S2S", "s2s"), ("COD", "cod"), ("3dsc", "3dsc")):
        pool = pool_from_argument(token)
        assert len(pool) > 1000 and (pool["source"] == source).all()  # not sulfur, nor C-O-D
    for token in ("nosuchpool", "MgB2"):
        code, out, err = run(capsys, "screen", token, "-o", str(tmp_path / "x.csv"), "--models", "baseline")
        assert code == 2 and out == "" and f"'{token}' is neither a bundled pool" in err and "sc predict" in err
        assert not (tmp_path / "x.csv").exists()


def test_predict_zip_with_hostile_members_reports_each(capsys, tmp_path):
    archive = tmp_path / "hostile.zip"
    archive.write_bytes(hostile_zip())
    code, out, err = run(capsys, "predict", str(archive), "--json")
    records = {r["id"]: r for r in json.loads(out)}
    assert code == 0 and "Traceback" not in err
    assert records["NaCl.cif"]["error"] == "" and 0 <= records["NaCl.cif"]["p_sc"] <= 1
    for name, reason in (("locked", "encrypted"), ("imploded", "implode"), ("corrupt", "damaged"), ("bomb", "MB")):
        assert reason in records[f"{name}.cif"]["error"] and records[f"{name}.cif"]["p_sc"] is None


def test_screen_shards_cover_the_pool(capsys, tmp_path):
    pool = tmp_path / "pool.csv"
    formulas = ["MgB2", "NaCl", "Nb3Sn", "FeSe", "YBa2Cu3O7", "KCl", "NbTi"]
    pool.write_text("id,formula\n" + "".join(f"m{i},{f}\n" for i, f in enumerate(formulas)))
    ids = []
    for i in range(3):
        out = tmp_path / f"shard{i}.json"
        code, text, _ = run(capsys, "screen", str(pool), "-o", str(out), "--models", "baseline", "--min-p", "0",
                            "--shard", f"{i}/3")
        assert code == 0 and f"(shard {i}/3)" in text
        ids += [row["id"] for row in json.loads(out.read_text())["candidates"]]
    assert sorted(ids) == [f"m{i}" for i in range(len(formulas))]


def test_screen_rejects_bad_arguments(capsys, tmp_path):
    code, _, err = run(capsys, "screen", "s2s", "-o", str(tmp_path / "x.txt"))
    assert code == 2 and ".xlsx" in err
    for bad in (["--shard", "2/2"], ["--exclude-family", "organic"]):
        try:
            main(["screen", "s2s", "-o", str(tmp_path / "x.csv"), *bad])
        except SystemExit as exc:  # argparse usage errors exit with 2
            assert exc.code == 2
        else:
            raise AssertionError(f"{bad} was accepted")


def heavy_imports(code: str) -> list[str]:
    """The HEAVY modules imported once `code` has run in a fresh interpreter."""
    check = f"import json, sys\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_cli_imports_no_heavy_library():
    assert heavy_imports("import sc_core.cli") == []


def test_predict_with_the_default_model_imports_no_heavy_library():
    """Listing the trained models imports none of their classes, and the baseline predicts without scikit-learn."""
    code = ("import contextlib, io, sc_core.cli\nwith contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert sc_core.cli.main(['predict', 'MgB2']) == 0")
    assert heavy_imports(code) == []


@pytest.mark.usefixtures("toy_models")
def test_pools_stores_the_predictions_screening_reads(capsys, monkeypatch):
    from sc_core.screening import cache

    monkeypatch.setattr(cache, "load_pool", lambda name: screening.load_pool(name).head(30))  # quick
    code, out, err = run(capsys, "pools", "--pools", "cod,s2s")
    assert code == 0 and "stored the predictions of 3 model-pool pairs" in out and "toy on cod: 100%" in err
    root = checkpoints.CHECKPOINT_DIR
    stored = sorted(path.relative_to(root).as_posix() for path in root.glob("*/pools/*"))
    assert stored == ["toy/pools/cod", "toy/pools/s2s", "toy_structure/pools/s2s"]  # no structure model on COD
    assert cache.stored("toy", "cod") is not None
    code, _, err = run(capsys, "pools", "--models", "nope")
    assert code == 2 and "Unknown model 'nope'" in err


def test_predict_with_domain_says_which_rows_are_near_the_training_data(capsys):
    code, out, _ = run(capsys, "predict", "MgB2", "H2O", "Xx2", "--json", "--domain")
    rows = json.loads(out)
    assert code == 0 and [r["in_domain"] for r in rows] == [True, False, None]
    assert rows[0]["domain_distance"] < rows[1]["domain_distance"] and rows[2]["domain_distance"] is None


def test_generate_then_screen_a_pool_file(capsys, tmp_path):
    pool, short, whole = tmp_path / "pool.csv", tmp_path / "short.csv", tmp_path / "whole.csv"
    code, out, err = run(capsys, "generate", "--elements", "Nb,Sn,Ge,Mg,B", "--arity", "2,3", "--max-atoms", "5",
                         "-o", str(pool))
    generated = pd.read_csv(pool)["formula"].tolist()
    assert code == 0 and out == "" and f"{len(generated):,} compositions written to {pool}" in err
    assert generated == list(compositions(["Nb", "Sn", "Ge", "Mg", "B"], (2, 3), 5)) and len(generated) > 50
    screen = ["screen", str(pool), "--models", "baseline", "--min-p", "0.2", "--top", "10"]
    code, out, _ = run(capsys, *screen, "-o", str(short))
    table = pd.read_csv(short)
    assert code == 0 and f"10 of {len(generated):,} materials from {pool} pass the filters" in out
    assert len(table) == 10 and set(table["formula"]) <= set(generated) and table["p_sc"].is_monotonic_decreasing
    assert (table["p_sc"] >= 0.2).all() and {"nearest_sc", "in_domain", "models"} <= set(table.columns)
    code, out, _ = run(capsys, *screen, "-o", str(whole), "--shard", "0/1")  # one shard: the whole file
    assert code == 0 and "(shard 0/1)" in out
    pd.testing.assert_frame_equal(table, pd.read_csv(whole), rtol=1e-12)


def test_generate_to_stdout_and_parquet_screen_alike(capsys, monkeypatch, tmp_path):
    code, text, _ = run(capsys, "generate", "--elements", "Nb,Ge,N,C", "--arity", "2", "--max-atoms", "6")
    assert code == 0 and text.splitlines()[0] == "formula" and len(text.splitlines()) > 10
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code, out, _ = run(capsys, "screen", "-", "-o", str(tmp_path / "from_stdin.csv"), "--models", "baseline",
                       "--min-p", "0")
    n = len(text.splitlines()) - 1
    assert code == 0 and f"{n} of {n} materials from standard input pass" in out
    parquet = tmp_path / "pool.parquet"
    code, _, err = run(capsys, "generate", "--elements", "Nb,Ge,N,C", "--arity", "2", "--max-atoms", "6",
                       "--limit", "5", "-o", str(parquet))
    assert code == 0 and "5 compositions written" in err
    assert pd.read_parquet(parquet)["formula"].tolist() == text.splitlines()[1:6]
    code, out, _ = run(capsys, "screen", str(parquet), "-o", str(tmp_path / "from_parquet.csv"), "--models",
                       "baseline", "--min-p", "0")
    assert code == 0 and "5 of 5 materials" in out
    from_stdin = pd.read_csv(tmp_path / "from_stdin.csv").set_index("formula")
    from_parquet = pd.read_csv(tmp_path / "from_parquet.csv").set_index("formula")
    assert len(from_stdin) == n and set(from_parquet.index) <= set(from_stdin.index)
    assert np.allclose(from_parquet["p_sc"], from_stdin.loc[from_parquet.index, "p_sc"])


def test_generate_piped_into_screen(tmp_path):
    """`sc generate ... | sc screen -` in two processes, as a user runs it."""
    sc = f"{sys.executable} -m sc_core.cli"
    short = tmp_path / "short.csv"
    done = subprocess.run(f"{sc} generate --elements Nb,Sn,Ge --arity 2 --max-atoms 4 | {sc} screen - -o {short} "
                          "--models baseline --min-p 0", shell=True, cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    expected = list(compositions(["Nb", "Sn", "Ge"], (2,), 4))
    assert done.returncode == 0 and f"{len(expected)} compositions written to standard output" in done.stderr
    assert f"{len(expected)} of {len(expected)} materials from standard input" in done.stdout
    assert sorted(pd.read_csv(short)["formula"]) == sorted(expected)


@pytest.mark.parametrize("argv, message", [
    (["generate", "--elements", "Nb,Xx"], "Unknown element 'Xx'"),
    (["generate", "--elements", "Nb,Sn", "--arity", "2,3"], "2 elements cannot make ternaries"),
    (["generate", "--elements", "Nb,Sn,Ge,B", "--arity", "4", "--max-atoms", "99"], "to 30, not 99"),
    (["generate", "--elements", "He,Ne", "--arity", "2", "-o", "x.csv"], "No composition of these elements"),
    (["generate", "--elements", "Nb,Sn", "--arity", "2", "-o", "x.xlsx"], "a .csv or .parquet file"),
    (["screen", "-", "-o", "x.csv", "--shard", "0/2"], "Standard input cannot be split into shards"),
    (["screen", "-", "-o", "x.csv", "--backend", "ray"], "give it a CSV or Parquet file"),
    (["screen", "bad.parquet", "-o", "x.csv", "--models", "baseline"], "Could not read 'bad.parquet' as a Parquet"),
])
def test_generate_and_streamed_screen_usage_errors(capsys, monkeypatch, tmp_path, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.parquet").write_text("formula\nMgB2\n")
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_generate_substitutions_into_known_superconductors(capsys):
    code, text, err = run(capsys, "generate", "--substitute", "--elements", "Si,Ta", "--arity", "2")
    formulas = text.splitlines()[1:]
    assert code == 0 and formulas == list(substitutions(["Si", "Ta"], (2,), 8)) and {"Nb3Si", "Ta3Sn"} <= set(formulas)
    assert f"{len(formulas):,} compositions written to standard output" in err
