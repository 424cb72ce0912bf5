"""views/model_performance.py: results are read from $SC_RESULTS_DIR (default benchmarks/results/).

The results are real evaluation output of the toy models (tests/fakes.py), which fit in milliseconds.
"""

import json

import plotly.graph_objects as go
import pytest
from fakes import install_toys
from page_helpers import app

from sc_core import data, evaluate, models, report
from sc_core.chemistry import display_formula

QUIET = {"seeds": (0,), "log": lambda _: None}


@pytest.fixture(scope="module")
def toys(tmp_path_factory):
    """The toy models, the only trained ones while this module's tests run."""
    with pytest.MonkeyPatch.context() as patch:
        yield install_toys(patch, tmp_path_factory.mktemp("checkpoints"))
    models.load.cache_clear()


def evaluated(name: str, dataset: str, limit: int, tmp_path_factory):
    """A folder with the evaluation output of toy `name` on `dataset`: one seed, `limit` rows."""
    out = tmp_path_factory.mktemp(f"results_{dataset}")
    evaluate.evaluate(name, datasets=(dataset,), limit=limit, out_dir=out, **QUIET)
    return out


@pytest.fixture(scope="module")
def results_dir(toys, tmp_path_factory):
    return evaluated("toy", "supercon", 200, tmp_path_factory)


def page(results, monkeypatch, plot: str | None = None):
    """The page run on the results in the folder `results`, with the plot tab `plot` open (default: the first)."""
    monkeypatch.setenv("SC_RESULTS_DIR", str(results))
    at = app("views/model_performance.py")
    if plot:
        at.session_state["plot"] = plot
    return at.run()


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_only_the_open_plot_tab_is_drawn(results_dir, monkeypatch):
    at = page(results_dir, monkeypatch)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["ROC and precision–recall", "Confusion matrix", "Calibration",
                                          "Tc parity"]  # no Tc-threshold sweep in SuperCon's results
    assert [c["layout"]["title"]["text"] for c in charts(at)] == ["ROC", "Precision–recall"]
    for label, kind in (("Confusion matrix", "heatmap"), ("Tc parity", "scattergl")):
        drawn = charts(page(results_dir, monkeypatch, plot=label))
        assert len(drawn) == 1 and any(t.get("type") == kind for t in drawn[0]["data"])


def test_tables_roc_and_parity(results_dir, monkeypatch):
    at = page(results_dir, monkeypatch)
    assert not at.exception
    assert not at.info
    classification, regression, at_threshold, chosen = (d.value for d in at.dataframe)
    assert set(at_threshold["Class"]) >= {"all", "cuprate"} and at_threshold["Threshold"].str.contains("±").all()
    assert chosen["Protocol"].tolist() == [evaluate.FAMILY_OUT] and {"Threshold", "F1"} <= set(chosen.columns)
    for table in (classification, regression):  # random, grouped, and per held-out family with their mean
        protocols = table["Protocol"].tolist()
        assert protocols.count("random") == protocols.count("grouped") == 1
        families = table.loc[table["Protocol"] == evaluate.FAMILY_OUT, "Class"]
        assert "all" in set(families) and "cuprate" in set(families)
    assert "±" in classification["ROC-AUC"].iloc[0]
    assert not regression.isna().any().any()  # no "None" cells: unmeasured ones read as a dash, explained below
    assert report.NOT_MEASURED in set(regression["MAE all rows (K)"])
    assert any(report.NOT_MEASURED in c.value and report.FEW_TEXT in c.value for c in at.caption)
    pinned = json.loads(at.dataframe[0].proto.columns)  # the row's names stay in view as the metrics scroll
    assert {c for c, config in pinned.items() if config.get("pinned")} == {"Model", "Test set", "Protocol"}
    roc = charts(at)[0]
    assert any("AUC" in trace["name"] for trace in roc["data"])
    assert any(trace["name"] == "chance" for trace in roc["data"])
    parity = next(t for t in charts(page(results_dir, monkeypatch, plot="Tc parity"))[0]["data"]
                  if t.get("type") == "scattergl")
    curve = next(c for c in evaluate.load_curves("toy", results_dir) if c["task"] == "tc_regression"
                 and parity["name"] == f"toy · {report.test_set_label(c['dataset'], c['protocol'], c['threshold_K'])}")
    ids = evaluate.load_splits("toy", results_dir)[f"supercon/{curve['protocol']}"][str(curve["seed"])]
    rows = data.load_supercon().set_index("id").loc[ids].query("tc > 0")  # the test split's superconductors
    assert parity["customdata"] == [display_formula(f) for f in rows["formula"]]  # each point hovers its formula
    assert parity["hovertemplate"].startswith("%{customdata}")
    assert any("grouped" in c.value and "random" in c.value for c in at.caption)
    chosen = at.selectbox(key="roc_dataset")  # ROC/PR curves of one test set at a time
    assert chosen.options == ["SuperCon"] and chosen.value == "supercon"
    assert sum(trace["name"].startswith("toy · ") for trace in roc["data"]) == len(
        [c for c in evaluate.load_curves("toy", results_dir) if c["task"] == "classification"
         and c["dataset"] == "supercon"])  # that set's curves only


def test_parity_series_are_chosen_a_few_at_a_time(results_dir, monkeypatch):
    at = page(results_dir, monkeypatch, plot="Tc parity")
    series = at.multiselect(key="parity_series")
    assert len(series.options) > len(series.value) == 1 and series.value == ["toy · SuperCon · grouped"]

    def drawn():
        return [t["name"] for chart in charts(at) for t in chart["data"] if t.get("type") == "scattergl"]

    assert drawn() == series.value
    series.set_value(series.options).run()  # every series at once, as before the selector
    assert not at.exception and sorted(drawn()) == sorted(at.multiselect(key="parity_series").options)
    at.multiselect(key="parity_series").set_value([]).run()
    assert not at.exception and drawn() == []


def test_confusion_matrix_shows_precision_recall_f1_at_the_threshold(results_dir, monkeypatch):
    at = page(results_dir, monkeypatch, plot="Confusion matrix")
    curve = next(c for c in evaluate.load_curves("toy", results_dir) if c["task"] == "classification")
    for cut in (0.5, 0.9):
        at.slider[0].set_value(cut).run()
        assert not at.exception
        expected = evaluate.classification_metrics(curve["y_true"], curve["y_score"], cut)
        shown = {m.label: m.value for m in at.metric}
        assert shown == {name: f"{expected[key]:.3f}" for name, key in
                         (("Precision", "precision"), ("Recall", "recall"), ("F1", "f1"))}


def test_no_model_chosen_asks_for_one(results_dir, monkeypatch):
    at = page(results_dir, monkeypatch)
    at.multiselect[0].set_value([]).run()
    assert not at.exception
    assert "Pick at least one model" in at.info[0].value
    assert not at.dataframe and not at.get("plotly_chart")


def test_no_results_is_an_info_message(tmp_path, monkeypatch):
    at = page(tmp_path, monkeypatch)
    assert not at.exception
    assert "make evaluate" in at.info[0].value


def test_calibration_section(results_dir, monkeypatch):
    at = page(results_dir, monkeypatch, plot="Calibration")
    assert not at.exception
    reliability = next(c for c in charts(at) if any(t.get("name") == "perfect calibration" for t in c["data"]))
    assert any(t["name"].startswith("toy (ECE ") for t in reliability["data"][1:])
    at.selectbox(key="calibration_test_set").select_index(1).run()
    assert not at.exception


@pytest.fixture(scope="module")
def structure_results_dir(toys, tmp_path_factory):
    return evaluated("toy_structure", "3dsc", 120, tmp_path_factory)


def test_3dsc_thresholds_tc_classifier_and_classes(structure_results_dir, monkeypatch):
    at = page(structure_results_dir, monkeypatch)
    assert not at.exception
    classification, tc_classifier, regression = (d.value for d in at.dataframe)
    assert len(classification) == len(tc_classifier) == 2 * len(evaluate.T_THRESHOLDS)  # two splits
    assert "grouped · Tc > 50 K" in set(classification["Protocol"])
    assert "all" in set(regression["Class"]) and len(set(regression["Class"])) > 1
    assert "Against the Tc threshold" in [t.label for t in at.tabs]
    at = page(structure_results_dir, monkeypatch, plot="Against the Tc threshold")
    sweep = next(c for c in charts(at) if "Threshold T (K)" in json.dumps(c["layout"]))
    assert {t["name"].split(",")[0] for t in sweep["data"]} >= {"toy_structure · P(Tc > T)",
                                                                "toy_structure · regressed Tc > T"}
    assert sweep["layout"]["legend"]["title"]["text"] == "model · score, split"
    at.segmented_control(key="threshold_metric").set_value("roc_auc").run()
    assert not at.exception


def test_a_new_session_reuses_the_figures(results_dir, monkeypatch):
    calls = []
    for module, name in ((report, "thinned"), (report, "metric_tables"), (go, "Scattergl")):  # ROC, tables, parity
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, real=real, name=name, **kw: calls.append(name) or real(
            *args, **kw))
    for plot in (None, "Tc parity"):
        first = page(results_dir, monkeypatch, plot=plot)
        calls.clear()
        second = page(results_dir, monkeypatch, plot=plot)  # a new session: the figures were built for the first
        assert calls == [] and not second.exception
        assert [c.proto.spec for c in second.get("plotly_chart")] == [c.proto.spec for c in first.get("plotly_chart")]
