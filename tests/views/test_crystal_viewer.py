"""views/crystal_viewer.py: bundled and uploaded structures, the 3D view and the site table."""

import json
import re

from page_helpers import FakeStructureModel, app
from test_viewer import payload

from sc_core import data, domain, viewer


def iframes(at):
    return at.get("iframe")


def test_default_bundled_structure_renders():
    at = app("views/crystal_viewer.py").run()
    assert not at.exception
    assert not at.error
    frames = iframes(at)
    assert len(frames) == 1
    assert "$3Dmol" in frames[0].proto.srcdoc
    sites = at.dataframe[0].value
    assert len(sites) == 7  # La2CuO4, mp-19735
    assert sorted(sites["species"]) == ["Cu", "La", "La", "O", "O", "O", "O"]
    assert at.download_button[0].label == "Download as CIF"


def test_without_structure_models_atoms_take_element_colours(only_composition_models):
    at = app("views/crystal_viewer.py").run()
    assert not at.exception
    assert any("trained" in c.value for c in at.caption)
    assert 'class="legend"' not in iframes(at)[0].proto.srcdoc
    assert "contribution" not in at.dataframe[0].value


def test_element_colours_have_a_key(only_composition_models):
    at = app("views/crystal_viewer.py").run()
    key = next(m.value for m in at.markdown if m.value.startswith("Element colours"))
    colors = viewer.element_colors(data.find_mp_id("mp-19735")[0])
    assert list(colors) == ["La", "Cu", "O"]
    for symbol, color in colors.items():
        assert f"background:{color}\"></span>&nbsp;{symbol}" in key
    atoms = payload(iframes(at)[0].proto.srcdoc)["atoms"]
    assert {(a["elem"], a["color"]) for a in atoms} == set(colors.items())  # the 3D view's colours


def test_formulas_are_reduced_and_written_without_ones():
    at = app("views/crystal_viewer.py").run()
    picker = next(s for s in at.selectbox if s.label.startswith("3DSC structure"))
    assert picker.options[picker.index].startswith("La2CuO4 · mp-19735")  # 3DSC's La2Cu1O4
    assert any(m.value.startswith("**La2CuO4** · La2CuO4 (mp-19735") for m in at.markdown)
    at.radio[0].set_value("S2S crystal").run()
    picker = next(s for s in at.selectbox if s.label.startswith("S2S crystal"))
    assert "KSn2 · non-superconductor · s2s-0000" in picker.options  # the cell's K4Sn8
    picker.set_value("s2s-0000").run()
    assert any(m.value.startswith("**KSn2**") for m in at.markdown)
    assert "Cell contents K4Sn8." in [c.value for c in at.caption]  # the site table keeps the cell's


def test_bundled_structures_are_searched():
    at = app("views/crystal_viewer.py").run()
    picker = next(s for s in at.selectbox if s.label.startswith("3DSC structure"))
    assert picker.label == "3DSC structure (the first 200 of 10,904 matches)" and len(picker.options) == 200
    at.text_input(key="viewer_3dsc_query").input("MgB2").run()
    picker = next(s for s in at.selectbox if s.label.startswith("3DSC structure"))
    assert picker.options[0].startswith("Mg0.33B0.67 · mp-763")  # 3DSC's MgB2 (as fractions), then doped variants
    assert all({"Mg", "B"} <= set(re.findall(r"[A-Z][a-z]?", o.split(" ")[0])) for o in picker.options)
    assert len(iframes(at)) == 1 and any("Mg0.33B0.67 (mp-763" in m.value for m in at.markdown)  # the first is drawn
    at.text_input(key="viewer_3dsc_query").input("mp-19735").run()
    options = next(s for s in at.selectbox if s.label.startswith("3DSC")).options
    assert options and {o.split(" · ")[1] for o in options} == {"mp-19735"}  # its doped variants share the id
    at.text_input(key="viewer_3dsc_query").input("no such thing").run()
    assert not at.exception and "No 3DSC structure matches" in at.info[0].value and not iframes(at)


def test_paper_example_is_one_click():
    at = app("views/crystal_viewer.py").run()
    next(b for b in at.button if b.label == "H3S").click().run()
    assert not at.exception
    sites = at.dataframe[0].value
    assert sorted(sites["element"]) == ["H"] * 6 + ["S"] * 2  # Im-3m conventional cell
    assert any("Im-3m" in m.value for m in at.markdown)


def test_supercell_labels_and_s2s():
    at = app("views/crystal_viewer.py").run()
    at.slider[0].set_value(3).run()
    at.toggle[0].set_value(True).run()
    assert not at.exception
    assert len(iframes(at)) == 1
    at.radio[0].set_value("S2S crystal").run()
    assert not at.exception
    assert len(iframes(at)) == 1
    assert len(at.dataframe[0].value) > 0


def test_bad_upload_shows_an_error():
    at = app("views/crystal_viewer.py").run()
    at.radio[0].set_value("Upload a file").run()
    assert not iframes(at)
    at.file_uploader[0].upload("broken.cif", b"data_broken\n_cell_length_a 4.0\n").run()
    assert not at.exception
    assert "CIF" in at.error[0].value


def test_structure_model_contributions_colour_the_atoms(with_structure_model):
    at = app("views/crystal_viewer.py").run()
    colour = next(s for s in at.selectbox if s.label.startswith("Colour by"))
    colour.set_value(with_structure_model).run()
    assert not at.exception
    html = iframes(at)[0].proto.srcdoc
    assert 'class="legend"' in html and "contribution to the logit" in html
    assert all(end in html for end in viewer.CONTRIBUTION_ENDS)  # the colour bar says which end is which
    assert any(viewer.CONTRIBUTION_COLOURS in c.value for c in at.caption)  # red: towards, as on Predict
    assert not any(m.value.startswith("Element colours") for m in at.markdown)
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert bars["layout"]["coloraxis"]["colorscale"][-1][1].startswith("rgb(103")  # the highest total red
    assert viewer.CONTRIBUTION_COLOURS in bars["layout"]["title"]["text"]
    sites = at.dataframe[0].value
    assert sites["contribution"].tolist() == [(-1.0) ** i * 0.1 * (i + 1) for i in range(len(sites))]
    assert any("P(superconductor) = 0.25" in m.value for m in at.markdown)
    assert sites["wyckoff"].str.len().gt(0).all() and sites["equivalent_set"].nunique() < len(sites)
    assert any("equivalent" in w.value for w in at.warning)  # the stand-in model ignores symmetry


def test_s2snet_cam_and_gradient_contributions():
    at = app("views/crystal_viewer.py").run()
    next(b for b in at.button if b.label == "Sr2CuClO2").click().run()
    next(s for s in at.selectbox if s.label.startswith("Colour by")).set_value("s2snet").run()
    assert not at.exception
    method = next(r for r in at.radio if r.label == "Method")
    cam = at.dataframe[0].value["contribution"].to_numpy()
    method.set_value("grad_x_input").run()
    assert not at.exception
    gradient = at.dataframe[0].value["contribution"].to_numpy()
    assert len(cam) == len(gradient) == 18 and (cam != gradient).any()
    assert any("P(superconductor)" in m.value for m in at.markdown)


def test_an_uploaded_crystal_unlike_the_training_data_is_flagged():
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.cif import CifWriter

    mgo = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.21), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    at = app("views/crystal_viewer.py").run()
    assert not any("Outside what the models have seen" in w.value for w in at.warning)  # La2CuO4, inside
    at.radio[0].set_value("Upload a file").run()
    at.file_uploader[0].upload("MgO.cif", str(CifWriter(mgo)).encode(), "chemical/x-cif").run()
    assert not at.exception and any("Outside what the models have seen" in w.value for w in at.warning)


def test_a_new_session_reuses_the_models_outputs(with_structure_model, monkeypatch):
    calls = []
    for name in ("atom_contributions", "_predict_valid"):
        real = getattr(FakeStructureModel, name)
        monkeypatch.setattr(FakeStructureModel, name, lambda self, *args, real=real, name=name, **kw: calls.append(
            name) or real(self, *args, **kw))
    describe = domain.describe
    monkeypatch.setattr(domain, "describe", lambda comp: calls.append("domain") or describe(comp))

    def visit():
        at = app("views/crystal_viewer.py").run()
        next(s for s in at.selectbox if s.label.startswith("Colour by")).set_value(with_structure_model).run()
        assert not at.exception and at.get("plotly_chart")
        return at

    first = visit()
    calls.clear()
    second = visit()  # a second visit (a new session) to the same structure: nothing is computed again
    assert calls == []
    assert second.dataframe[0].value.equals(first.dataframe[0].value)
