"""Pools, screening, filters, export, nearest known entries."""

import io
import json
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from fakes import toy_models  # noqa: F401  (fixture)
from pymatgen.core import Composition, Lattice, Structure

from sc_core import InputError, data, models, screening
from sc_core.chemistry import chemical_system, family
from sc_core.featurize.formulas import parse_formulas
from sc_core.intervals import mixture
from sc_core.io import parse_formula, read_pool, structure_to_cif
from sc_core.screening import batch
from sc_core.screening.known import supercon_matches


@pytest.fixture(scope="module")
def screened():
    pool = read_pool("pool.csv", b"id,formula,note\na,MgB2,1\nb,La1.85Sr0.15CuO4,2\nc,Xx2,3\nd,NaCl,4\ne,Nb3Sn,5\n")
    return screening.screen(pool, ["baseline"])


def test_screen_table_columns_and_bad_rows(screened):
    assert list(screened["id"]) == list("abcde")
    assert screened["note"].tolist() == [1, 2, 3, 4, 5]  # the CSV's own columns are carried
    for col in ("p_sc", "p_sc_baseline", "tc_K", "tc_std_K", "family", "in_supercon", "supercon_tc_K", "elements"):
        assert col in screened.columns
    bad = screened.set_index("id").loc["c"]
    assert "Xx" in bad["error"] and pd.isna(bad["p_sc"])
    row = screened.set_index("id").loc["b"]
    assert row["family"] == "cuprate" and row["in_supercon"] and row["supercon_tc_K"] > 30


def test_filters(screened):
    only_new = screening.apply_filters(screened, screening.Filters(known="unknown"))
    assert not only_new["in_supercon"].any()
    no_cuprates = screening.apply_filters(screened, screening.Filters(exclude_families=("cuprate",)))
    assert "b" not in set(no_cuprates["id"])
    with_nb = screening.apply_filters(screened, screening.Filters(include_elements=("Nb",)))
    assert list(with_nb["id"]) == ["e"]
    ranked = screening.apply_filters(screened, screening.Filters(min_p=0.0))
    assert ranked["p_sc"].is_monotonic_decreasing
    binaries = screening.apply_filters(screened, screening.Filters(n_elements=(2, 2), exclude_elements=("Cl",)))
    assert set(binaries["id"]) == {"a", "e"}


def test_exports_carry_model_version_and_date(screened):
    csv = pd.read_csv(io.BytesIO(screening.export(screened, "csv", ["baseline"])))
    assert csv["models"].str.startswith("baseline=").all() and csv["exported"].notna().all()
    payload = json.loads(screening.export(screened, "json", ["baseline"]))
    assert "baseline" in payload["models"] and len(payload["candidates"]) == 5
    xlsx = pd.read_excel(io.BytesIO(screening.export(screened, "xlsx", ["baseline"])))
    assert len(xlsx) == 5


def test_exports_neutralise_spreadsheet_formulas(screened):
    hostile = ['=HYPERLINK("http://x.example","y")', "+1+2", "@SUM(A1)", "-2+3", "\t=1", "\r=1"]
    table = pd.DataFrame({"id": [*hostile, "-5", "MgB2"], "p_sc": [-0.5, *[0.5] * 7]}).assign(**{"=evil": "x"})
    csv = pd.read_csv(io.BytesIO(screening.export(table, "csv", ["baseline"])), dtype=str, keep_default_na=False)
    assert csv["id"].tolist() == [f"'{v}" for v in hostile] + ["-5", "MgB2"]  # numeric text stays as it is
    assert csv.columns[2] == "'=evil" and csv.loc[0, "p_sc"] == "-0.5"
    sheet = openpyxl.load_workbook(io.BytesIO(screening.export(table, "xlsx", ["baseline"]))).active
    ids = [cell for (cell,) in sheet.iter_rows(min_row=2, max_col=1)]
    assert [c.value for c in ids] == [f"'{v}" for v in hostile] + ["-5", "MgB2"]
    assert {c.data_type for c in ids} == {"s"}  # text, no live formula
    assert sheet["B2"].value == -0.5 and sheet["B2"].data_type == "n" and sheet["C1"].value == "'=evil"
    payload = json.loads(screening.export(table, "json", ["baseline"]))
    assert payload["candidates"][0]["id"] == hostile[0]  # JSON is not a spreadsheet: kept as it is


def test_unscored_rows_follow_the_shortlist(screened):
    shortlist = screening.annotate(screening.apply_filters(screened, screening.Filters(min_p=0.0)).head(2))
    out = screening.with_unscored(shortlist, screened)
    assert out["id"].tolist() == [*shortlist["id"], "c"] and "Xx" in out["error"].iloc[-1]
    assert list(out.columns) == list(shortlist.columns)
    everything = screening.apply_filters(screened, screening.Filters(min_p=-1.0))  # already holds row c
    assert screening.with_unscored(everything, screened)["id"].tolist().count("c") == 1


def test_pool_names_in_any_case():
    assert [screening.pool_name(t) for t in ("S2S", " Cod ", "3DSC", "MgB2", "s2s.csv")] == [
        "s2s", "cod", "3dsc", None, None]


def test_zip_of_cifs_pool():
    nacl = Structure(Lattice.cubic(5.6), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("nacl.cif", structure_to_cif(nacl))
        archive.writestr("broken.cif", "data_x\nnot a cif at all\n")
    pool = read_pool("set.zip", buffer.getvalue())
    assert len(pool) == 2 and pool.loc[0, "formula"] == "Na1Cl1" and pool.loc[1, "error"]
    table = screening.screen(pool, ["baseline"])
    assert table.loc[0, "p_sc"] == models.load("baseline").predict(["NaCl"]).loc[0, "p_sc"] and table.loc[1, "error"]


def test_bundled_pools_exist():
    for name in screening.POOLS:
        pool = screening.load_pool(name)
        assert len(pool) > 1000 and pool["id"].is_unique


def test_nearest_known_finds_the_same_compound():
    near = screening.nearest_known(parse_formula("Nb6Sn2"), k=3)
    assert near.loc[0, "distance"] == pytest.approx(0.0) and near.loc[0, "tc"] > 15
    assert near["distance"].is_monotonic_increasing


def test_shards_partition_the_pool_in_order():
    pool = screening.load_pool("s2s")
    parts = [screening.shard(pool, i, 3) for i in range(3)]
    assert pd.concat(parts)["id"].tolist() == pool["id"].tolist()
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    with pytest.raises(InputError, match="0 ≤ i < N"):
        screening.shard(pool, 3, 3)


def test_nearest_superconductor_skips_the_material_itself():
    near = screening.nearest_superconductors(["Nb3Sn", "MgB2", "Xx2"])
    nb3sn = near.iloc[0]
    assert nb3sn["nearest_sc"] and 0 < nb3sn["nearest_sc_distance"] < 0.1 and nb3sn["nearest_sc_tc_K"] > 10
    assert "B" in near.iloc[1]["nearest_sc"] and "Mg" in near.iloc[1]["nearest_sc"]  # a doped MgB2
    assert near.iloc[2]["nearest_sc"] == "" and np.isnan(near.iloc[2]["nearest_sc_tc_K"])


def test_nearest_superconductors_and_annotate_report_progress_after_each_chunk():
    reports = []
    screening.nearest_superconductors(["MgB2"] * 600, chunk=256, progress=lambda *report: reports.append(report))
    assert reports == [(256, 600), (512, 600), (600, 600)]
    reports.clear()
    screening.annotate(screening.screen(read_pool("pool.csv", b"id,formula\na,MgB2\nb,NaCl\n"), ["baseline"]),
                       progress=lambda *report: reports.append(report))
    assert reports == [(2, 4), (4, 4)]  # the nearest superconductors, then the domain


def test_space_groups_and_nearest_superconductor_columns():
    nacl = Structure(Lattice.cubic(5.6), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    pool = pd.DataFrame({"id": ["s", "f"], "formula": ["NaCl", "Nb3Sn"], "source": "test", "mp_id": "",
                         "structure_ref": "", "structure": [nacl, None], "error": ""})
    table = screening.annotate(screening.screen(pool, ["baseline"]))
    assert table["space_group"].tolist() == ["Pm-3m", ""]  # one Na and one Cl: the CsCl cell
    assert table["crystal_system"].tolist() == ["cubic", ""]
    assert table.columns[:5].tolist() == ["id", "formula", "mp_id", "space_group", "crystal_system"]
    assert table.columns[-1] == "error"
    assert table.loc[1, "nearest_sc_tc_K"] > 10
    pool = screening.load_pool("3dsc").sample(5, random_state=1)
    from_cif = screening.screen(pool, ["baseline"])["space_group"].tolist()  # as written in the bundled CIFs
    assert from_cif == [screening.space_group(data.structure_3dsc(ref)) for ref in pool["structure_ref"]]


def test_rows_scored_by_one_model_carry_no_error():
    nacl = Structure(Lattice.cubic(5.6), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    pool = pd.DataFrame({"id": ["s", "f"], "formula": ["NaCl", "Nb3Sn"], "source": "test", "mp_id": "",
                         "structure_ref": "", "structure": [nacl, None], "error": ""})
    table = screening.screen(pool, ["crystal_graph", "baseline"])
    assert table["p_sc_crystal_graph"].notna().tolist() == [True, False]  # Nb3Sn has no structure
    assert table["error"].tolist() == ["", ""] and table["p_sc"].notna().all()
    assert table.loc[1, "p_sc"] == table.loc[1, "p_sc_baseline"]  # the consensus of the models that scored it
    by_model = [models.load(m).predict([nacl]).loc[0] for m in ("crystal_graph", "baseline")]
    assert table.loc[0, "tc_K"] == pytest.approx(np.mean([r["tc_K"] for r in by_model]))  # the consensus Tc
    assert table.loc[0, "tc_std_K"] >= max(r["tc_std_K"] for r in by_model) / np.sqrt(2)  # mixture of both
    assert table.loc[1, "tc_K"] == table.loc[1, "tc_K_baseline"]  # Nb3Sn: the only model that scored it
    cubic = screening.apply_filters(table, screening.Filters(min_p=0.0, crystal_systems=("cubic",)))
    assert cubic["id"].tolist() == ["s"]


def test_known_in_supercon_tolerates_rounded_fractions():
    pool = read_pool("pool.csv", b"id,formula\na,MgB2\nb,B0.67Mg0.33\nc,NaCl\nd,La1.85Sr0.15CuO4\n")
    table = screening.screen(pool, ["baseline"]).set_index("id")
    assert table.loc["a", "in_supercon"] and table.loc["b", "in_supercon"]  # SuperCon lists B0.67Mg0.33
    assert table.loc["a", "supercon_tc_K"] == table.loc["b", "supercon_tc_K"]
    assert table.loc["a", "supercon_formula"] == table.loc["b", "supercon_formula"] == "Mg0.33B0.67"
    assert table.loc["a", "supercon_distance"] == pytest.approx(1 / 300) and table.loc["b", "supercon_distance"] == 0
    assert table.loc["c", "supercon_formula"] == "" and np.isnan(table.loc["c", "supercon_distance"])
    assert not table.loc["c", "in_supercon"]
    supercon = data.load_supercon()
    exact = supercon.loc[supercon["formula"] == "Sr0.15La1.85Cu1O4", "tc"]
    assert len(exact) and table.loc["d", "supercon_tc_K"] == pytest.approx(exact.mean())  # the exact entries


def test_supercon_match_counts_the_entries_and_names_the_closest():
    nb3sn = screening.supercon_match(parse_formula("Nb6Sn2"))  # scale-free: SuperCon writes Nb3Sn1
    assert nb3sn.formula == "Nb3Sn1" and nb3sn.distance == 0 and nb3sn.as_close == nb3sn.entries == 4
    assert nb3sn.tc_min < nb3sn.tc < nb3sn.tc_max  # the mean of the four exact entries
    mgb2 = screening.supercon_match(parse_formula("MgB2"))  # none exact: one odd 6.1 K entry, one at 38.4 K
    assert (mgb2.entries, mgb2.tc_min, mgb2.tc_max, mgb2.as_close) == (2, 6.1, 38.4, 1)
    assert mgb2.formula == "Mg0.33B0.67" and mgb2.distance == pytest.approx(1 / 300) and mgb2.tc == 6.1
    assert screening.supercon_match(parse_formula("NaCl")) is None


def test_screening_columns_are_the_supercon_match():
    table = screening.screen(read_pool("pool.csv", b"id,formula\na,MgB2\nb,NaCl\n"), ["baseline"]).set_index("id")
    match = screening.supercon_match(parse_formula("MgB2"))
    assert table.loc["a", ["supercon_entries", "supercon_tc_min_K", "supercon_tc_max_K", "supercon_formula",
                           "supercon_tc_K", "supercon_distance"]].tolist() == [
        match.entries, match.tc_min, match.tc_max, match.formula, match.tc, match.distance]
    assert table.loc["b", "supercon_entries"] == 0 and np.isnan(table.loc["b", "supercon_tc_max_K"])


def _supercon_match_one_by_one(comp: Composition) -> tuple[float, str, float]:
    """(Tc, formula, distance) of the matched SuperCon entry as screening found it one row at a time before the batch
    version (issue #19): the entries of the same element set, every atomic fraction within the tolerance, the mean Tc
    of those as close as the closest; (NaN, '', NaN) if none."""
    system = chemical_system(comp)
    part = data.load_supercon().query("chemsys == @system")
    elements = system.split("-")
    fractions = np.array([[Composition(f).fractional_composition[e] for e in elements] for f in part["formula"]])
    if part.empty:
        return np.nan, "", np.nan
    gap = np.abs(fractions - np.array([comp.fractional_composition[e] for e in elements]))
    close = gap.max(axis=1) <= screening.KNOWN_TOLERANCE
    distance = 0.5 * gap[close].sum(axis=1)
    order = np.argsort(distance, kind="stable")
    tc, formulas = part["tc"].to_numpy()[close][order], part["formula"].to_numpy()[close][order]
    distance = distance[order]
    if not len(distance):
        return np.nan, "", np.nan
    return float(tc[distance <= distance[0] + 1e-9].mean()), formulas[0], float(distance[0])


def test_batch_supercon_match_gives_the_one_by_one_answers():
    rng = np.random.default_rng(0)
    formulas = data.load_supercon()["formula"].sample(400, random_state=0).tolist()
    nudged = []  # amounts moved by up to 2%: some rows stay within the tolerance of an entry, some leave it
    for formula in formulas[:200]:
        comp = parse_formula(formula)
        nudged.append("".join(f"{el}{amount * rng.uniform(0.98, 1.02):.4f}" for el, amount in comp.items()))
    texts = formulas + nudged + ["NaCl", "Nb3Sn", "MgB2", "HDO", "Fe2+", ""]
    comps = [parse_formula(f) if f not in ("Fe2+", "") else None for f in texts]
    matched = supercon_matches(parse_formulas(texts)[0])
    expected = [_supercon_match_one_by_one(c) if c is not None else (np.nan, "", np.nan) for c in comps]
    np.testing.assert_array_equal(matched["supercon_tc_K"], [e[0] for e in expected])
    assert matched["supercon_formula"].tolist() == [e[1] for e in expected]
    np.testing.assert_allclose(matched["supercon_distance"], [e[2] for e in expected], rtol=0, atol=1e-12)
    assert 0 < matched["supercon_tc_K"].notna().sum() < len(texts)


def test_rows_are_described_as_one_by_one():
    texts = [*data.load_cod(inorganic_only=False)["formula"].sample(300, random_state=1), "YBa2Cu3O7", "LaFeAsO",
             "H3S", "CH4", "Og2", "Fe2+", ""]
    pool = pd.DataFrame({"formula": texts, "source": "", "structure_ref": ""})
    described = batch._describe_rows(pool)
    for text, row in zip(texts, described.itertuples(), strict=True):
        try:
            comp = parse_formula(text)
        except InputError:
            assert (row.family, row.n_elements, row.elements, row.contains_O, row.in_supercon) == ("", 0, "", False,
                                                                                                  False)
            continue
        symbols = sorted(el.symbol for el in comp)
        assert (row.family, row.n_elements, row.elements, row.contains_O) == (family(comp), len(symbols),
                                                                              " ".join(symbols), "O" in symbols)
        assert row.in_supercon == (not np.isnan(_supercon_match_one_by_one(comp)[0]))
        match = screening.supercon_match(comp)  # the Predict page's reading of the same row
        assert row.supercon_entries == (match.entries if match else 0)
        if match:
            assert (row.supercon_tc_min_K, row.supercon_tc_max_K, row.supercon_formula) == (
                match.tc_min, match.tc_max, match.formula) and row.supercon_tc_K == pytest.approx(match.tc)


@pytest.mark.usefixtures("toy_models")
def test_export_stamps_only_the_models_that_scored_a_row():
    table = screening.screen(read_pool("pool.csv", b"id,formula\na,MgB2\nb,NaCl\n"), ["toy", "toy_structure"])
    assert table["p_sc_toy_structure"].isna().all() and table["p_sc"].notna().all()  # formulas have no structure
    stamped = pd.read_csv(io.BytesIO(screening.export(table, "csv", ["toy", "toy_structure"])))
    assert set(stamped["models"]) == {"toy=toy-1"}
    assert list(json.loads(screening.export(table, "json", ["toy", "toy_structure"]))["models"]) == ["toy"]


def test_sort_orders_the_shortlist_and_its_export(screened):
    for by in screening.SORTS:
        ordered = screening.sort_shortlist(screened, by)
        exported = pd.read_csv(io.BytesIO(screening.export(ordered, "csv", ["baseline"])), keep_default_na=False)
        assert exported["id"].tolist() == ordered["id"].tolist()
        assert ordered[by].iloc[: ordered[by].notna().sum()].notna().all()  # blanks last
    assert screening.sort_shortlist(screened, "formula")["formula"].is_monotonic_increasing
    assert screening.sort_shortlist(screened, "p_sc")["p_sc"].dropna().is_monotonic_decreasing


def test_pools_with_structures():
    names = ("3dsc", "S2S", "cod", "pool.csv", "POOL.CSV", "set.zip", "NaCl.cif", None)
    assert [screening.has_structures(n) for n in names] == [True, True, False, False, False, True, True, False]


def test_crystal_system_of_symbols():
    assert [screening.crystal_system(g) for g in ("I4/mmm", "P6_3/mmc", "R-3m", "P2_1/m", "", "X9")] == [
        "tetragonal", "hexagonal", "trigonal", "monoclinic", "", ""]


def test_ray_backend_gives_the_local_results(tmp_path):
    """On a local Ray cluster of 2 workers: a pool in memory split into tasks, and a generated pool file whose
    shards each task reads itself, writing part files that are merged."""
    pytest.importorskip("ray")  # listed in requirements.txt; optional for users
    import ray

    from sc_core.generate import compositions
    from sc_core.screening import parts, stream, tables

    pool = read_pool("pool.csv", b"id,formula\na,MgB2\nb,NaCl\nc,Xx2\nd,Nb3Sn\ne,FeSe\n")
    path = tmp_path / "generated.csv"
    formulas = [*compositions(["Nb", "Sn", "Ge", "Mg", "B", "N"], (2, 3), 4), "Xx2"]
    pd.DataFrame({"formula": formulas}).to_csv(path, index=False)
    filters = screening.Filters(min_p=0.1)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        distributed = screening.screen(pool, ["baseline"], backend="ray", n_tasks=3)
        (tmp_path / "parts").mkdir()
        from_parts = parts.screen_parts(str(path), ["baseline"], filters, 20, str(tmp_path / "parts"), n_tasks=3)
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(distributed, screening.screen(pool, ["baseline"]))
    local = stream.screen_chunks(tables.read_chunks(str(path)), ["baseline"], filters, 20)
    assert from_parts.rows == local.rows == len(formulas) and len(from_parts.shortlist) == 20
    assert len(list((tmp_path / "parts").glob("part-*.shortlist.parquet"))) == 3
    pd.testing.assert_frame_equal(from_parts.shortlist, local.shortlist, check_dtype=False)
    pd.testing.assert_frame_equal(from_parts.unscored, local.unscored, check_dtype=False)


def test_consensus_tc_is_the_equal_mixture_and_the_gated_tc_needs_p():
    means = np.array([[10.0, 20.0, np.nan], [14.0, np.nan, np.nan]])
    variances = np.array([[1.0, 4.0, np.nan], [9.0, np.nan, np.nan]])
    mean, std = mixture(means, variances)
    assert mean[0] == 12.0 and std[0] == pytest.approx(np.sqrt((1 + 9) / 2 + 4))  # spreads plus disagreement
    assert mean[1] == 20.0 and std[1] == 2.0 and np.isnan(mean[2])
    table = pd.DataFrame({"p_sc": [0.9, 0.3, 0.6], "tc_gated_K": [30.0, np.nan, 5.0], "tc_K": [30.0, 80.0, 5.0],
                          "elements": ["Nb Sn", "Na Cl", "Mg B"]})
    assert screening.apply_filters(table, screening.Filters(tc_min=20)).index.tolist() == [0]  # not NaCl at 80 K


def test_rows_read_as_superconductors_against_the_mean_threshold_of_the_models_that_scored_them(monkeypatch):
    from sc_core import checkpoints

    cuts = {"crystal_graph": 0.2, "baseline": 0.4}
    read_card = checkpoints.read_card
    monkeypatch.setattr(checkpoints, "read_card",
                        lambda name, *a: read_card(name, *a) | {"decision_threshold": {"value": cuts[name]}})
    nacl = Structure(Lattice.cubic(5.6), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    pool = pd.DataFrame({"id": ["s", "f", "x"], "formula": ["NaCl", "Nb3Sn", "Xx2"], "source": "test", "mp_id": "",
                         "structure_ref": "", "structure": [nacl, None, None], "error": ""})
    table = screening.screen(pool, ["crystal_graph", "baseline"])
    assert table["decision_threshold"].iloc[:2].tolist() == pytest.approx([0.3, 0.4])  # Nb3Sn: baseline only
    assert np.isnan(table.loc[2, "decision_threshold"]) and not table.loc[2, "predicted_sc"]  # no model scored it
    assert (table["predicted_sc"] == (table["p_sc"] >= table["decision_threshold"])).all()
    assert (table["tc_gated_K"].notna() == table["predicted_sc"]).all()
    predicted = screening.apply_filters(table, screening.Filters(predicted_only=True))
    assert set(predicted["id"]) == set(table.loc[table["predicted_sc"], "id"])
