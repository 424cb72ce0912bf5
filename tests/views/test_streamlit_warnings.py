"""Every page runs without Streamlit's deprecation warnings or its warning for a widget given both a default
and a Session State value (Streamlit logs both, on loggers that do not propagate to pytest's caplog)."""

from __future__ import annotations

import logging

import pytest
from page_helpers import app
from streamlit.elements.lib import policies

LOGGERS = ("streamlit.deprecation_util", "streamlit.elements.lib.policies")
CLICKS = {"views/predict.py": "MgB2", "views/crystal_viewer.py": "H3S"}  # example buttons that set widget state


class Recorder(logging.Handler):
    """Keeps the messages of the records it is given."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def streamlit_warnings(monkeypatch):
    """The warnings Streamlit logs during one test; the default-and-state warning is re-armed (it is logged
    once per process)."""
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    recorder = Recorder()
    for name in LOGGERS:
        logging.getLogger(name).addHandler(recorder)
    yield recorder.messages
    for name in LOGGERS:
        logging.getLogger(name).removeHandler(recorder)


@pytest.mark.parametrize("page", ["app.py", "views/predict.py", "views/crystal_viewer.py", "views/candidates.py",
                                  "views/model_performance.py", "views/element_embeddings.py"])
def test_page_runs_without_streamlit_warnings(page, streamlit_warnings):
    at = app(page).run()
    if page in CLICKS:
        next(b for b in at.button if b.label == CLICKS[page]).click().run()
    assert not at.exception
    assert streamlit_warnings == []


def test_a_screened_shortlist_runs_without_streamlit_warnings(streamlit_warnings):
    """Beyond the first run: a screened and re-sorted shortlist."""
    at = app("views/candidates.py").run()
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].upload("pool.csv", b"id,formula\na,MgB2\nb,NaCl\n", "text/csv").run()
    at.button[0].click().run()
    next(s for s in at.selectbox if s.label == "Sort by").set_value("formula").run()
    assert not at.exception and at.dataframe and streamlit_warnings == []


@pytest.mark.parametrize("tab", ["Against the Tc threshold", "Confusion matrix", "Calibration", "Tc parity"])
def test_every_plot_tab_runs_without_streamlit_warnings(tab, streamlit_warnings):
    at = app("views/model_performance.py")
    at.session_state["plot"] = tab  # the tab open on arrival (as from its URL)
    at.run()
    assert not at.exception and len(at.get("plotly_chart")) == 1  # that tab's chart, not ROC and PR
    assert streamlit_warnings == []
