"""The bundled data folder: integrity, counts from the source README, leakage guards."""

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sc_core import data
from sc_core.data.build import build

SOURCE = Path(__file__).parent / "fixtures" / "shared_data"  # a tiny tree shaped like ../shared/data


def test_manifest_hashes_match_files():
    manifest = data.manifest()
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((data.DATA_DIR / name).read_bytes()).hexdigest() == entry["sha256"], name


def test_altered_file_is_refused(tmp_path, monkeypatch):
    for name in ("MANIFEST.json", "elements.csv"):
        (tmp_path / name).write_bytes((data.DATA_DIR / name).read_bytes())
    with open(tmp_path / "elements.csv", "a") as fh:
        fh.write("999,Xx\n")
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    data.manifest.cache_clear()
    data.data_path.cache_clear()
    try:
        with pytest.raises(data.DataIntegrityError, match="sha256"):
            data.data_path("elements.csv")
    finally:
        data.manifest.cache_clear()
        data.data_path.cache_clear()


def test_supercon_counts_and_rejections():
    table = data.load_supercon()
    rejected = data._table("supercon_rejected.csv")
    assert len(table) + len(rejected) == 16_414
    assert len(rejected) == 8
    assert (table["tc"] == 0).sum() == 3_966 - rejected["tc"].eq(0).sum()
    assert table["id"].is_unique


def test_3dsc_groups_and_doping_flags():
    table = data.load_3dsc()
    assert len(table) == 10_904
    assert table["synth_doped"].sum() == 6_638
    assert table["group"].nunique() == 5_824
    assert (table["tc"] == 0).sum() == 3_567


def test_s2s_has_no_leaky_source_id():
    table = data.load_s2s()
    assert "mol_index" not in table.columns
    assert table["label"].sum() == 421 and len(table) == 1_685
    first = data.s2s_structures()[table["id"][0]]
    assert len(first) == table["n_sites"][0]


def test_hosono_2018_corrections_and_overlaps():
    h = data.load_hosono(2018)
    assert len(h) == 212 and (h["tc"] > 0).sum() == 42
    assert h["in_supercon"].sum() == 4
    assert "Ca0.85La0.15FeAs1.98Sb0.02" in set(h["formula_used"])


def test_garbage_in_excludes_known_and_organic():
    garbage = data.garbage_in(500, seed=1)
    assert len(garbage) == 500 and (garbage["tc"] == 0).all()
    assert not garbage["organic"].any() and not garbage["in_supercon"].any() and not garbage["in_hosono"].any()
    supercon_keys = set(data.load_supercon()["comp_key"])
    assert not set(garbage["comp_key"]) & supercon_keys


def test_structure_lookup_by_mp_id():
    structure, row = data.find_mp_id("mp-19735")
    assert structure.composition.reduced_formula == "La2CuO4"
    assert not row["synth_doped"]


def test_many_3dsc_structures_come_from_a_parsed_cache(tmp_path, monkeypatch):
    names = data.load_3dsc()["cif_name"].head(5).tolist()
    subset = {name: data._3dsc_cifs()[name] for name in names}
    monkeypatch.setattr(data, "_3dsc_cifs", lambda: subset)
    monkeypatch.setattr(data, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(data, "PARSED_CACHE_MIN", 2)
    parsed = [data.structure_3dsc(name) for name in names]
    assert data.structures_3dsc(names[:2]) == parsed[:2] and not list(tmp_path.iterdir())  # few: parsed directly
    assert data.structures_3dsc(names) == parsed and len(list(tmp_path.glob("3dsc-*.jsonl.gz"))) == 1
    monkeypatch.setattr(data, "read_structure", lambda *a, **k: pytest.fail("a cached structure was parsed again"))
    cached = data.structures_3dsc(reversed(names))
    assert cached == parsed[::-1]
    assert [s.lattice.abc for s in cached] == [s.lattice.abc for s in parsed[::-1]]  # exact, not within tolerance
    assert [s.frac_coords.tolist() for s in cached] == [s.frac_coords.tolist() for s in parsed[::-1]]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("data")
    return out, build(SOURCE, out)


def test_build_is_byte_for_byte_reproducible_and_its_manifest_hashes_every_file(built, tmp_path):
    out, manifest = built
    again = build(SOURCE, tmp_path)
    assert again == manifest
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted([*manifest["files"], "MANIFEST.json"])
    for name, entry in manifest["files"].items():
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"], name
    assert json.loads((out / "MANIFEST.json").read_text()) == manifest
    assert all(gz.read_bytes()[4:8] == bytes(4) for gz in out.glob("*.gz"))  # no gzip timestamps
    assert manifest["data_hash"] == hashlib.sha256(json.dumps(
        {k: v["sha256"] for k, v in manifest["files"].items()}, sort_keys=True).encode()).hexdigest()
    rows = {name: entry["rows"] for name, entry in manifest["files"].items()}
    assert rows == {"supercon.csv": 6, "supercon_rejected.csv": 1, "3dsc.csv": 2, "3dsc_cifs.tar.gz": 2,
                    "hosono.csv": 6, "cod.csv.gz": 4, "elements.csv": 83, "s2s.csv": 2, "s2s.jsonl.gz": 2}


def test_build_reads_lenient_names_and_rejects_unknown_elements(built):
    out, _ = built
    supercon = pd.read_csv(out / "supercon.csv", keep_default_na=False).set_index("name")
    assert supercon.loc["La2Sr0CuO4", "note"] == "read as La2CuO4"  # an element written with amount 0
    assert supercon.loc["Ga1Sr2Ca3Cu4O11.", "note"] == "read as Ga1Sr2Ca3Cu4O11"  # a trailing full stop
    assert supercon.loc["MgB2", "note"] == "" and supercon.loc["MgB2", "chemsys"] == "B-Mg"
    assert supercon["id"].tolist() == ["sc-00000", "sc-00001", "sc-00002", "sc-00003", "sc-00005", "sc-00006"]
    rejected = pd.read_csv(out / "supercon_rejected.csv")
    assert rejected[["source_row", "name"]].values.tolist() == [[4, "Xx2O3"]] and "Xx" in rejected["reason"][0]


def test_build_corrects_hosono_typos_and_flags_overlaps(built):
    out, _ = built
    hosono = pd.read_csv(out / "hosono.csv", keep_default_na=False).set_index("matter")
    assert hosono.loc["Ca0.85La0.15FeAs21.98Sb0.02", "formula_used"] == "Ca0.85La0.15FeAs1.98Sb0.02"
    assert hosono.loc["1T-TaS2", "formula_used"] == "TaS2"
    assert not hosono.loc["Qq3", "usable"] and "Qq" in hosono.loc["Qq3", "reason"]
    assert hosono.loc[["SmFeAsO0.8H0.2", "MgB2"], "in_supercon"].tolist() == ["True", "True"]
    assert hosono.loc["KCl", "in_supercon"] == "False" and hosono.loc["KCl", "list"] == 2009


def test_build_flags_cod_rows_and_drops_duplicates_and_the_s2s_source_id(built):
    out, _ = built
    cod = pd.read_csv(out / "cod.csv.gz").set_index("formula")
    assert cod.index.tolist() == ["NaCl", "KCl", "C2H6O", "Fe2O3"]  # Fe4O6 repeats Fe2O3; Zz9 does not parse
    assert cod["in_supercon"].tolist() == [True, False, False, False]
    assert cod["in_hosono"].tolist() == [False, True, False, False] and cod["organic"].tolist() == [
        False, False, True, False]
    assert "mol_index" not in pd.read_csv(out / "s2s.csv").columns
    with gzip.open(out / "s2s.jsonl.gz", "rt") as fh:
        records = [json.loads(line) for line in fh]
    assert [r["id"] for r in records] == ["s2s-0000", "s2s-0001"] and not any("mol_index" in r for r in records)


def test_build_refuses_a_folder_that_is_not_the_source(tmp_path):
    shutil.copytree(SOURCE, tmp_path / "source")
    (tmp_path / "source" / "SHA256SUMS").unlink()
    with pytest.raises(FileNotFoundError, match="SHA256SUMS"):
        build(tmp_path / "source", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_periodic_table_grid():
    grid = data.periodic_table_grid()
    assert list(grid.columns) == ["symbol", "Z", "row", "col"]
    assert len(grid) == 103 and grid["Z"].tolist() == list(range(1, 104))
    assert not grid.duplicated(["row", "col"]).any()
    cell = grid.set_index("symbol")[["row", "col"]]
    assert tuple(cell.loc["Fe"]) == (4, 8)
    assert tuple(cell.loc["La"]) == (6, 3) and tuple(cell.loc["Hf"]) == (6, 4)
    assert tuple(cell.loc["Ce"]) == (9, 4) and tuple(cell.loc["Lr"]) == (10, 17)
    assert 8 not in set(grid["row"]) and grid["col"].between(1, 18).all()


def test_element_properties_fill_each_gap_with_the_property_median():
    table = data.load_elements().set_index("symbol")
    props = data.element_properties(("cohesive_energy", "electronegativity"))
    assert props.shape == (104, 2) and not np.isnan(props).any() and (props[0] == 0).all()
    assert np.isnan(table.loc["He", "cohesive_energy"]) and np.isnan(table.loc["Lr", "electronegativity"])
    medians = table[["cohesive_energy", "electronegativity"]].iloc[:103].median()
    assert props[2, 0] == medians["cohesive_energy"] and props[103, 1] == medians["electronegativity"]  # He, Lr
    assert props[26, 1] == table.loc["Fe", "electronegativity"]  # tabulated values are kept
