"""pages/model_performance.py: results are read from $SC_RESULTS_DIR (default benchmarks/results/)."""

import json

import pytest

from page_helpers import app
from sc_core import evaluate


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    """Real (quick) evaluation output of the baseline: SuperCon protocols, one seed, 200 rows."""
    out = tmp_path_factory.mktemp("results")
    evaluate.evaluate("baseline", datasets=("supercon",), seeds=(0,), limit=200, out_dir=out, log=lambda _: None)
    return out


def test_tables_curves_confusion_parity(results_dir, monkeypatch):
    monkeypatch.setenv("SC_RESULTS_DIR", str(results_dir))
    at = app("pages/model_performance.py").run()
    assert not at.exception
    assert not at.info
    classification, regression = (d.value for d in at.dataframe)
    assert len(classification) == 2 and len(regression) == 2  # random and grouped
    assert set(classification["Protocol"]) == {"random", "grouped"}
    assert "±" in classification["ROC-AUC"].iloc[0]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    roc = charts[0]
    assert any("AUC" in trace["name"] for trace in roc["data"])
    assert any(trace["name"] == "chance" for trace in roc["data"])
    assert any(trace.get("type") == "heatmap" for chart in charts for trace in chart["data"])  # confusion
    assert any(trace.get("name") == "y = x" for chart in charts for trace in chart["data"])  # parity
    assert any("grouped" in c.value and "random" in c.value for c in at.caption)
    at.slider[0].set_value(0.9).run()
    assert not at.exception


def test_no_results_is_an_info_message(tmp_path, monkeypatch):
    monkeypatch.setenv("SC_RESULTS_DIR", str(tmp_path))
    at = app("pages/model_performance.py").run()
    assert not at.exception
    assert "make evaluate" in at.info[0].value


def test_calibration_section(results_dir, monkeypatch):
    monkeypatch.setenv("SC_RESULTS_DIR", str(results_dir))
    at = app("pages/model_performance.py").run()
    assert not at.exception
    assert any(s.value == "Calibration" for s in at.subheader)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    reliability = next(c for c in charts if any(t.get("name") == "perfect calibration" for t in c["data"]))
    assert any(t["name"].startswith("baseline (ECE ") for t in reliability["data"][1:])
    at.selectbox(key="calibration_test_set").select_index(1).run()
    assert not at.exception
