"""The bundled data folder: integrity, counts from the source README, leakage guards."""

import hashlib

import pytest

from sc_core import data
from sc_core.chemistry import composition_key
from sc_core.io import parse_formula


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


def test_known_supercon_matches_scale_free():
    hits = data.known_supercon(parse_formula("Nb6Sn2"))
    assert not hits.empty and (hits["comp_key"] == composition_key(parse_formula("Nb3Sn"))).all()


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
