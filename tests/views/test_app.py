"""app.py: navigation, the home page and its quick lookup."""

from page_helpers import app, shown_metrics, shown_prediction


def test_home_loads_with_links():
    at = app("app.py").run()
    assert not at.exception
    assert at.title[0].value == "Superconductor discovery"
    assert len(at.page_link) == 5


def test_quick_lookup_formula():
    at = app("app.py").run()
    at.text_area(key="home_text").input("MgB2").run()
    assert not at.exception
    assert not at.error
    assert shown_metrics(at) == shown_prediction("MgB2")  # values with their ± spread apart, so none is cut short
    assert any(m.value == "Read as **MgB2**" for m in at.markdown)  # not "Mg1 B2"


def test_quick_lookup_bad_formula():
    at = app("app.py").run()
    at.text_area(key="home_text").input("Xx2O3").run()
    assert not at.exception
    assert "Xx" in at.error[0].value
    assert not at.metric


def test_quick_lookup_flags_a_material_unlike_the_training_data():
    at = app("app.py").run()
    at.text_area(key="home_text").input("K3C60").run()
    assert any(m.value == "Read as **K3C60**" for m in at.markdown)  # as typed, not reduced to KC20
    at.text_area(key="home_text").input("CsCl").run()
    assert any("Outside what the models have seen" in w.value for w in at.warning)
    at.text_area(key="home_text").input("MgB2").run()
    assert not at.warning
