"""views/candidates.py: screen an uploaded CSV, filter, download."""

import io
import json

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from page_helpers import app
from pymatgen.core import Composition
from scipy.spatial.distance import cdist
from streamlit.delta_generator import DeltaGenerator

from sc_core import data, models, screening
from sc_core.featurize.composition import to_batch
from sc_core.io import parse_formula
from views._common import ROW_PX

POOL = b"id,formula\na,MgB2\nb,La1.85Sr0.15CuO4\nc,NaCl\nd,Xx2O3\ne,YBa2Cu3O7\n"


def screened():
    at = app("views/candidates.py").run()
    assert not at.exception
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].upload("pool.csv", POOL, "text/csv").run()
    at.button[0].click().run()
    assert not at.exception
    assert not at.error
    return at


def test_loads_with_bundled_pools():
    at = app("views/candidates.py").run()
    assert not at.exception
    assert len(at.radio[0].options) == len(screening.POOLS) + 1  # bundled pools + upload
    assert at.radio[0].value == next(iter(screening.POOLS))
    assert at.multiselect[0].value == models.available()  # every model by default: 3DSC has structures
    assert not at.dataframe


def show_all(at) -> None:
    """Every scored row: the predicted-superconductor toggle off, P ≥ 0."""
    next(t for t in at.sidebar.toggle if t.label == "Predicted superconductors only").set_value(False)
    at.sidebar.slider[0].set_value(0.0).run()


def test_only_predicted_superconductors_are_shown_at_first():
    at = screened()
    table = at.dataframe[0].value
    assert len(table) and (table["p_sc"] >= table["decision_threshold"]).all()
    show_all(at)
    everything = at.dataframe[0].value
    assert len(everything) == 4 and (everything["p_sc"] < everything["decision_threshold"]).any()  # NaCl


def test_screen_upload_filter_and_download():
    at = screened()
    table = at.dataframe[0].value
    assert set(table["id"]) <= {"a", "b", "c", "e"}
    assert table["p_sc"].between(0, 1).all()
    assert table["p_sc"].is_monotonic_decreasing
    assert [b.label for b in at.download_button] == ["Download CSV", "Download JSON", "Download XLSX"]
    failed = at.dataframe[1].value  # the row that could not be parsed
    assert list(failed["id"]) == ["d"] and "Xx" in failed["error"].iloc[0]

    show_all(at)
    assert len(at.dataframe[0].value) == 4
    at.sidebar.multiselect[0].set_value(["Cu"]).run()  # must contain Cu
    assert set(at.dataframe[0].value["id"]) == {"b", "e"}
    at.sidebar.multiselect[2].set_value(["cuprate"]).run()  # exclude cuprates
    assert not at.exception
    assert len(at.dataframe[0].value) == 0


def test_rows_say_whether_they_are_inside_the_domain_and_can_be_kept_to_it():
    at = screened()
    show_all(at)
    table = at.dataframe[0].value.set_index("id")
    assert table.loc["a", "in_domain"] and not table.loc["c", "in_domain"]  # MgB2 inside, NaCl outside
    next(t for t in at.sidebar.toggle if t.label.startswith("Inside the models' domain")).set_value(True).run()
    assert not at.exception and "c" not in set(at.dataframe[0].value["id"]) and "a" in set(at.dataframe[0].value["id"])


def test_bad_upload_is_explained():
    at = app("views/candidates.py").run()
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].upload("pool.csv", b"name,tc\nMgB2,39\n", "text/csv").run()
    at.button[0].click().run()
    assert not at.exception
    assert "formula" in at.error[0].value


def test_every_row_shows_its_nearest_known_superconductor():
    at = screened()
    show_all(at)
    assert not at.exception and not [t for t in at.toggle if "nearest" in t.label.lower()]  # no opt-in needed
    table = at.dataframe[0].value
    assert table["nearest_sc"].ne("").all() and table["nearest_sc_tc_K"].notna().all()
    mgb2 = table.set_index("id").loc["a"]
    assert "Mg" in mgb2["nearest_sc"] and mgb2["nearest_sc_tc_K"] > 20


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """The file each download button of the latest run would give on a click, by file name."""
    files = {}
    button = DeltaGenerator.download_button

    def eager(self, label, data, file_name=None, *args, **kwargs):
        files[file_name] = data() if callable(data) else data
        return button(self, label, files[file_name], file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", eager)
    return files


def test_the_consensus_columns_come_before_the_per_model_ones(downloads):
    at = screened()  # every composition model: a P and a Tc column each, on demand
    order = list(at.dataframe[0].proto.column_order)
    assert order[:6] == ["formula", "p_sc", "decision_threshold", "tc_gated_K", "in_domain", "in_supercon"]  # 1280 px
    assert not any(c.startswith(("p_sc_", "tc_K_")) for c in order)
    exported = pd.read_csv(io.BytesIO(downloads["candidates.csv"]))
    assert {f"p_sc_{n}" for n in at.session_state["candidates"]["models"]} <= set(exported.columns)  # hidden, kept
    at.toggle(key="per_model_columns").set_value(True).run()
    order = list(at.dataframe[0].proto.column_order)
    per_model = [i for i, c in enumerate(order) if c.startswith(("p_sc_", "tc_K_"))]
    assert len(per_model) == 2 * len(at.session_state["candidates"]["models"]) > 2
    assert min(per_model) > order.index("tc_std_K")


def test_downloads_end_with_the_rows_that_could_not_be_scored(downloads):
    at = screened()
    shown = at.dataframe[0].value
    csv = pd.read_csv(io.BytesIO(downloads["candidates.csv"]), keep_default_na=False, na_values=[""])
    assert csv["id"].tolist() == [*shown["id"], "d"]  # Xx2O3 last
    assert "Xx" in csv["error"].iloc[-1] and np.isnan(csv["p_sc"].iloc[-1]) and csv["error"][:-1].isna().all()
    records = json.loads(downloads["candidates.json"])["candidates"]
    assert records[-1]["id"] == "d" and records[-1]["p_sc"] is None
    assert len(pd.read_excel(io.BytesIO(downloads["candidates.xlsx"]))) == len(csv)
    assert any("then the rows that could not be scored, with their problem" in c.value for c in at.caption)


@pytest.mark.usefixtures("toy_models")
def test_every_exported_row_carries_its_nearest_known_superconductor(downloads):
    supercon = data.load_supercon()
    formulas = [*supercon["formula"].sample(1_200, random_state=0), "NaCl", "Kr"]  # known ones skip themselves
    pool = "id,formula\n" + "".join(f"m{i},{f}\n" for i, f in enumerate(formulas))
    at = app("views/candidates.py").run()
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].upload("pool.csv", pool.encode(), "text/csv").run()
    at.button[0].click().run()
    show_all(at)
    assert not at.exception and len(at.dataframe[0].value) == len(formulas)
    exported = pd.read_csv(io.BytesIO(downloads["candidates.csv"]), keep_default_na=False, na_values=[""])
    assert len(exported) == len(formulas) and exported["nearest_sc"].ne("").all()

    superconductors = supercon[supercon["tc"] > 0].reset_index(drop=True)
    fractions = to_batch([Composition(f) for f in superconductors["formula"]]).fraction_matrix()
    query = to_batch([parse_formula(f) for f in exported["formula"]]).fraction_matrix()
    distance = 0.5 * cdist(query, fractions, metric="cityblock")  # the per-row definition, by brute force
    distance[distance < 1e-9] = np.inf  # not the material itself
    closest = distance.min(axis=1)
    np.testing.assert_allclose(exported["nearest_sc_distance"], closest, atol=1e-9)
    for row, near, tc in zip(distance, exported["nearest_sc"], exported["nearest_sc_tc_K"], strict=True):
        at_min = superconductors[row <= row.min() + 1e-9]
        assert ((at_min["formula"] == near) & (at_min["tc"] == tc)).any()


def test_space_group_filter_on_a_bundled_pool(monkeypatch):
    bundled = screening.load_pool
    monkeypatch.setattr(screening, "load_pool", lambda name: bundled(name).head(40))  # 40 S2S crystals, 8 groups
    st.cache_data.clear()  # the page caches the pools it loaded
    at = app("views/candidates.py").run()
    at.radio[0].set_value("s2s").run()
    at.multiselect[0].set_value(["baseline"]).run()
    at.button[0].click().run()
    assert not at.exception
    show_all(at)
    assert len(at.dataframe[0].value) == 40
    at.sidebar.multiselect(key="space_groups_1").set_value(["Fm-3m"]).run()
    table = at.dataframe[0].value
    assert len(table) > 0 and (table["space_group"] == "Fm-3m").all()
    at.sidebar.multiselect(key="space_groups_1").set_value([]).run()
    at.sidebar.multiselect(key="systems_1").set_value(["hexagonal"]).run()
    table = at.dataframe[0].value
    assert len(table) > 0 and (table["crystal_system"] == "hexagonal").all()


@pytest.mark.usefixtures("toy_models")
def test_known_rows_name_their_supercon_entry_as_predict_does():
    at = screened()
    show_all(at)
    table = at.dataframe[0].value.set_index("id")
    match = screening.supercon_match(parse_formula("MgB2"))
    mgb2 = table.loc["a"]
    assert mgb2["in_supercon"] and mgb2["supercon_formula"] == match.formula == "Mg0.33B0.67"
    assert mgb2["supercon_distance"] == match.distance and mgb2["supercon_tc_K"] == match.tc
    assert (mgb2["supercon_entries"], mgb2["supercon_tc_min_K"], mgb2["supercon_tc_max_K"]) == (2, 6.1, 38.4)
    assert table.loc["c", "supercon_formula"] == ""  # NaCl


@pytest.mark.usefixtures("toy_models")
def test_structure_models_are_chosen_only_for_pools_with_structures():
    at = app("views/candidates.py").run()
    assert at.radio[0].value == "3dsc" and at.multiselect[0].value == ["toy", "toy_structure"]
    assert not any("read" in c.value and "crystal structures" in c.value for c in at.caption)
    at.radio[0].set_value("cod").run()
    assert at.multiselect[0].options == at.multiselect[0].value == ["toy"]  # only the models that can score it
    assert any(c.value.startswith("toy_structure reads crystal structures, which this pool lacks") for c in at.caption)
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].upload("pool.csv", POOL, "text/csv").run()
    assert at.multiselect[0].options == ["toy"]


@pytest.mark.usefixtures("toy_models")
def test_sort_by_orders_the_table():
    at = screened()
    show_all(at)
    sort = next(s for s in at.selectbox if s.label == "Sort by")
    assert sort.value == "p_sc" and at.dataframe[0].value["p_sc"].is_monotonic_decreasing
    sort.set_value("formula").run()
    assert at.dataframe[0].value["formula"].tolist() == sorted(["MgB2", "La1.85Sr0.15CuO4", "NaCl", "YBa2Cu3O7"])
    assert any("in the order of “Sort by” (Formula, A to Z)" in c.value for c in at.caption)


@pytest.mark.usefixtures("toy_models")
def test_downloads_keep_the_order_of_sort_by(downloads):
    at = screened()
    show_all(at)
    orders = {}
    for order in ("formula", "p_sc"):
        next(s for s in at.selectbox if s.label == "Sort by").set_value(order).run()
        shown = orders[order] = at.dataframe[0].value["formula"].tolist()
        csv = pd.read_csv(io.BytesIO(downloads["candidates.csv"]), keep_default_na=False, na_values=[""])
        records = json.loads(downloads["candidates.json"])["candidates"]
        assert csv["formula"].tolist()[:len(shown)] == [r["formula"] for r in records][:len(shown)] == shown
    assert orders["formula"] == sorted(orders["formula"]) != orders["p_sc"]  # the two orders differ


def test_table_height_follows_its_rows(monkeypatch):
    heights = []
    real = st.dataframe

    def spy(data, *args, **kwargs):
        heights.append((len(data), kwargs.get("height")))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(st, "dataframe", spy)
    at = screened()
    show_all(at)
    assert heights[-2:] == [(4, ROW_PX * 5 + 3), (1, None)]  # 4 rows and the header, no empty rows; the failed row


@pytest.mark.usefixtures("toy_models")
def test_formulas_are_shown_reduced_and_kept_for_the_downloads():
    at = app("views/candidates.py").run()
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].upload("pool.csv", b"id,formula\na,Nb6Sn2\nb,Mg1B2\nc,La1.85Sr0.15CuO4\nd,K3C60\n",
                               "text/csv").run()
    at.button[0].click().run()
    show_all(at)
    assert not at.exception
    table = at.dataframe[0].value.set_index("id")
    assert table["formula"].to_dict() == {"a": "Nb6Sn2", "b": "MgB2", "c": "La1.85Sr0.15CuO4",
                                          "d": "K3C60"}  # as written, in the user's order: K3C60 is not KC20
    assert table.loc["a", "supercon_formula"] == "Nb3Sn"  # SuperCon's Nb3Sn1
    assert at.session_state["candidates"]["table"]["formula"].tolist() == ["Nb6Sn2", "Mg1B2", "La1.85Sr0.15CuO4",
                                                                            "K3C60"]
