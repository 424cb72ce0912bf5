"""views/predict.py: formulas, MP ids, uploads, errors, element contributions and structure-only models."""

import json

import pytest
from page_helpers import app, leading_number, metric, shown_metrics, shown_prediction
from pymatgen.core import Lattice, Structure

from sc_core import models, viewer
from sc_core.io import structure_to_cif

UPLOAD = "Upload CIF/POSCAR"  # the page's upload tab


def predict(text: str):
    at = app("views/predict.py").run()
    assert not at.exception
    at.text_area(key="predict_text").input(text).run()
    return at


def uploaded(name: str, content: bytes):
    """The page with `content` uploaded as `name` on the upload tab."""
    at = app("views/predict.py").run()
    at.session_state["predict_input"] = UPLOAD
    at.run()
    at.file_uploader[0].upload(name, content).run()
    return at


def test_loads_empty():
    at = app("views/predict.py").run()
    assert not at.exception
    assert not at.error
    assert not at.metric
    assert [b.label for b in at.button][1:] == ["La1.85Sr0.15CuO4", "MgB2", "Ba0.6K0.4Fe2As2", "YBa2Cu3O6.95"]


def test_formula_gives_probability_tc_and_nearest_entries():
    at = predict("MgB2")
    assert not at.exception
    assert not at.error
    assert shown_metrics(at) == shown_prediction("MgB2")
    nearest = at.dataframe[0].value
    assert list(nearest.columns) == ["formula", "tc", "distance"]
    assert len(nearest) == 5
    assert nearest["distance"].is_monotonic_increasing


def test_bad_formula_names_the_element():
    at = predict("Xx2O3")
    assert not at.exception
    assert len(at.error) == 1
    assert "Xx" in at.error[0].value
    assert not at.metric


def test_example_button_fills_the_box():
    at = app("views/predict.py").run()
    next(b for b in at.button if b.label == "Ba0.6K0.4Fe2As2").click().run()
    assert not at.exception
    assert at.text_area(key="predict_text").value == "Ba0.6K0.4Fe2As2"
    assert shown_metrics(at) == shown_prediction("Ba0.6K0.4Fe2As2")


def test_bundled_mp_id_is_a_structure():
    at = predict("mp-19735")
    assert not at.exception
    assert not at.error
    assert any("7 sites" in m.value for m in at.markdown)
    assert at.session_state["viewer_structure"]["structure"].composition.reduced_formula == "La2CuO4"


def test_unknown_mp_id_is_explained():
    at = predict("mp-999999999")
    assert not at.exception
    assert "mp-999999999" in at.error[0].value


def test_long_bad_input_is_quoted_as_an_excerpt():
    for text in ("Xy2O3" * 1000, "mp-" + "1" * 4997):  # a bad formula, an MP id not bundled
        at = predict(text)
        assert not at.exception
        assert len(at.error) == 1 and "(5,000 characters)" in at.error[0].value and len(at.error[0].value) < 300


def test_uploaded_poscar():
    poscar = Structure(Lattice.hexagonal(3.09, 3.52), ["Mg", "B", "B"],
                       [[0, 0, 0], [1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]]).to(fmt="poscar")
    at = uploaded("POSCAR", poscar.encode())
    assert not at.exception
    assert not at.error
    assert any("3 sites" in m.value and "uploaded file POSCAR" in m.value for m in at.markdown)
    assert shown_metrics(at) == shown_prediction("MgB2")  # a composition model reads the structure's formula


def test_bad_upload_is_an_error_not_a_traceback():
    at = uploaded("broken.cif", b"data_broken\n_cell_length_a 4.0\n")
    assert not at.exception
    assert "CIF" in at.error[0].value


def test_structure_model_with_a_formula_says_so(with_structure_model):
    at = app("views/predict.py").run()
    at.selectbox[0].set_value(with_structure_model)
    at.text_area(key="predict_text").input("MgB2").run()
    assert not at.exception
    assert "crystal structure" in at.warning[0].value
    assert not at.metric
    at.text_area(key="predict_text").input("mp-19735").run()
    assert not at.warning
    assert leading_number(metric(at, "P(superconductor)").value) == 0.25
    assert not any(s.value == "Which elements drive this prediction" for s in at.subheader)  # composition only


def test_pasted_cif_is_read_as_a_structure():
    cif = structure_to_cif(Structure(Lattice.hexagonal(3.09, 3.52), ["Mg", "B", "B"],
                                  [[0, 0, 0], [1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]]))
    at = predict(cif)
    assert not at.exception
    assert not at.error
    assert any("3 sites" in m.value and "pasted structure" in m.value for m in at.markdown)
    assert shown_metrics(at) == shown_prediction("MgB2")


def plotly_specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_formula_shows_element_contributions_and_intervals():
    at = predict("Ba0.6K0.4Fe2As2")
    assert not at.exception
    assert any(s.value == "Which elements drive this prediction" for s in at.subheader)
    labelled = [c.value for c in at.caption if c.value.startswith(("**Tc, 90% calibrated interval:**",
                                                                       "**Ensemble spread (± 2 σ):**"))]
    assert len(labelled) == 2 and "90%" not in labelled[1]  # two intervals, two labelled lines
    assert any("ambient pressure" in c.value for c in at.caption)
    bars, table = plotly_specs(at)
    assert bars["data"][0]["type"] == "bar"
    assert sorted(bars["data"][0]["y"]) == ["As", "Ba", "Fe", "K"]
    assert [trace["type"] for trace in table["data"]] == ["heatmap", "heatmap"]
    assert "Fe" in json.dumps(table["data"][1]["text"])


def test_one_element_formula_has_contributions():
    at = predict("Nb")
    assert not at.exception
    assert not at.error
    bars, _ = plotly_specs(at)
    assert bars["data"][0]["y"] == ["Nb"]


@pytest.mark.usefixtures("toy_models")
def test_known_entries_are_counted_with_their_tc_range_and_the_closest():
    at = predict("MgB2")  # no SuperCon entry is exactly MgB2: Mg0.33B0.67 (6.1 K) is the closest, then Mg0.98B2
    assert not at.exception
    info = at.info[0].value
    assert "matches **2 SuperCon entries**" in info and "Tc 6.1 to 38.4 K" in info
    assert "the closest is **Mg0.33B0.67** (composition distance 0.0033; Tc 6.1 K)" in info
    assert "Tc = 0" not in info  # none was measured non-superconducting
    at = predict("Nb6Sn2")  # SuperCon's Nb3Sn1 four times, as chemists write it
    assert "matches **4 SuperCon entries**" in at.info[0].value
    assert "the closest is **Nb3Sn** (exactly; mean Tc 16.7 K of 4 entries)" in at.info[0].value
    at = predict("LaPtBN")  # one entry
    assert "This composition is in SuperCon as **LaBPtN** (exactly; Tc 6.7 K)." in at.info[0].value


@pytest.mark.usefixtures("toy_models")
def test_only_the_open_tab_is_predicted_and_the_other_input_is_named():
    nb3sn = Structure(Lattice.cubic(5.29), ["Nb"] * 6 + ["Sn"] * 2,
                      [[0.25, 0, 0.5], [0.75, 0, 0.5], [0.5, 0.25, 0], [0.5, 0.75, 0], [0, 0.5, 0.25],
                       [0, 0.5, 0.75], [0, 0, 0], [0.5, 0.5, 0.5]])
    at = predict("MgB2")
    at.file_uploader[0].upload("Nb3Sn.cif", structure_to_cif(nb3sn).encode()).run()
    assert not at.exception
    assert any("Read as **MgB2**" in m.value and "(from the formula)" in m.value for m in at.markdown)
    assert shown_metrics(at) == shown_prediction("MgB2")
    assert any("'Nb3Sn.cif' is not used" in c.value for c in at.caption)
    at.session_state["predict_input"] = UPLOAD
    at.run()
    assert any("Read as **Nb3Sn**" in m.value and "uploaded file Nb3Sn.cif" in m.value for m in at.markdown)
    assert shown_metrics(at) == shown_prediction(nb3sn)
    assert any("The text box is not used" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "YBa2Cu3O6.95").click().run()  # an example opens the text tab
    assert at.session_state["predict_input"] != UPLOAD
    assert shown_metrics(at) == shown_prediction("YBa2Cu3O6.95")


def test_values_fit_and_the_version_is_a_caption():
    at = predict("MgB2")
    assert [m.label for m in at.metric] == ["P(superconductor)", "Tc if superconducting"]  # no truncated version
    assert all("±" not in m.value and m.delta.startswith("± ") for m in at.metric)  # the spread on its own line
    model = models.load(models.available()[0])
    assert any(f"version {model.version}" in c.value for c in at.caption)


def test_formulas_read_as_chemists_write_them():
    at = predict("La1.85Sr0.15CuO4")
    assert any("Read as **La1.85Sr0.15CuO4** (from the formula)" in m.value for m in at.markdown)  # as typed
    nearest = at.dataframe[0].value["formula"]
    assert nearest.iloc[0] == "Sr0.15La1.85CuO4"  # SuperCon's Sr0.15La1.85Cu1O4 without its '1'
    assert not nearest.str.contains(r"[A-Za-z]1(?![\d.])|\s").any()
    at = predict("mp-19735")
    assert any("Read as **La2CuO4** · 7 sites" in m.value and "(La2CuO4)" in m.value for m in at.markdown)
    at = predict("K3C60")
    assert any("Read as **K3C60** (from the formula)" in m.value for m in at.markdown)  # typed: not reduced to KC20


def test_red_pushes_towards_a_superconductor():
    at = predict("Ba0.6K0.4Fe2As2")
    bars, table = plotly_specs(at)
    for scale in (bars["data"][0]["marker"]["colorscale"], table["data"][1]["colorscale"]):
        (_, low), (_, high) = scale[0], scale[-1]
        assert high.startswith("rgb(103") and low.startswith("rgb(5")  # high ΔP red, low blue (RdBu reversed)
    assert any(viewer.CONTRIBUTION_COLOURS in c.value for c in at.caption)
    assert viewer.CONTRIBUTION_ENDS[0] in bars["layout"]["xaxis"]["title"]["text"]  # each legend says it too
    assert "red: towards a<br>superconductor" in table["data"][1]["colorbar"]["title"]["text"]


def test_a_material_unlike_the_training_data_is_flagged():
    at = predict("CsCl")
    assert any("Outside what the models have seen" in w.value and "unknown, not as no" in w.value for w in at.warning)
    at = predict("MgB2")
    assert not any("Outside what" in w.value for w in at.warning)
    assert any(c.value.startswith("Inside what the models were trained on") for c in at.caption)


def test_p_is_read_against_the_models_threshold():
    from sc_core import thresholds

    model = models.load("baseline")
    cut = thresholds.of(model.card)
    for formula, inside in (("MgB2", True), ("CsCl", False)):
        p = model.predict([formula]).loc[0, "p_sc"]
        at = predict(formula)
        reading = thresholds.reading(p, cut, inside)
        expected = reading[0].upper() + reading[1:]  # "Reads as ... (P 0.97 ≥ ...)": the P stays a capital
        assert f"P {p:.2f}" in expected
        assert any(expected in m.value for m in at.markdown), expected
    assert thresholds.reading(0.2, 0.3, inside=False).startswith("unknown")  # outside, a low P is not a no
    assert thresholds.reading(0.2, 0.3).startswith("reads as not")
    assert thresholds.reading(0.3, 0.3).startswith("reads as a")
