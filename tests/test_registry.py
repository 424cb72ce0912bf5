"""Adding a model is one file plus a registry line: a toy family shows up in training, the CLI, evaluation
and the pages without edits to any of them."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sc_core import checkpoints, cli, models, thresholds, train
from sc_core.models.base import ModelOutputError

PREDICT_PAGE = str(Path(__file__).resolve().parents[1] / "views" / "predict.py")


@pytest.fixture
def toy(monkeypatch, tmp_path):
    """The toy model registered, with an empty checkpoint folder of its own."""
    monkeypatch.setitem(models.REGISTRY, "toy", "toy_model:ToyModel")
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path / "checkpoints")
    models.load.cache_clear()
    yield tmp_path
    models.load.cache_clear()


def test_toy_model_trains_predicts_and_evaluates_through_the_cli(toy, capsys):
    assert "toy" in models.registered() and "toy" not in models.available()  # registered, not yet trained
    assert cli.main(["train", "toy", "--skip-evaluation"]) == 0
    card = checkpoints.read_card("toy")
    assert card["params"] == {"random_state": 0, "smoothing": 1.0}  # the whole config
    assert card["training_data"] == {"supercon_rows": 500, "seed": 0} and card["data_hash"]
    assert models.available() == ["toy"] and models.available("structure") == []
    capsys.readouterr()
    assert cli.main(["models"]) == 0 and "toy" in capsys.readouterr().out
    assert cli.main(["predict", "MgB2", "NaCl", "--model", "toy", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in rows] == ["toy", "toy"] and rows[0]["p_sc"] > rows[1]["p_sc"]
    out = toy / "results"
    assert cli.main(["evaluate", "--model", "all", "--seeds", "0", "--limit", "300", "--out-dir", str(out)]) == 0
    result = json.loads((out / "toy.json").read_text())
    assert {(r["protocol"], r["task"]) for r in result["results"] if not r["protocol"].startswith("leave_")} == {
        ("random", "classification"), ("random", "tc_regression"), ("grouped", "classification"),
        ("grouped", "tc_regression")}
    assert ("leave_family_out", "classification") in {(r["protocol"], r["task"]) for r in result["results"]}
    train.record_metrics("toy", result)  # what sc evaluate does for published results
    card = checkpoints.read_card("toy")
    by_task = {(m["protocol"], m["task"]): m for m in card["metrics"]}
    random_cls = next(r for r in result["results"] if (r["protocol"], r["task"]) == ("random", "classification"))
    assert by_task["random", "classification"]["roc_auc"] == random_cls["metrics"]["roc_auc"]["mean"]
    assert by_task["random", "classification"]["roc_auc_std"] == random_cls["metrics"]["roc_auc"]["std"]
    assert by_task["random", "classification"]["seeds"] == [0]  # the card says how many seeds a figure rests on
    chosen = next(r for r in result["results"] if r["task"] == "decision_threshold")["metrics"]["threshold"]["mean"]
    assert card["decision_threshold"]["value"] == pytest.approx(chosen, abs=1e-4)
    assert card["decision_threshold"]["seeds"] == [0]
    assert thresholds.of(card) == card["decision_threshold"]["value"]


def test_toy_model_is_offered_on_the_predict_page(toy):
    models.model_class("toy").train_deployed()[0].save({"version": "toy-1"})
    at = AppTest.from_file(PREDICT_PAGE, default_timeout=60).run()
    assert at.selectbox[0].options == ["toy"]
    at.text_area(key="predict_text").input("MgB2").run()
    assert not at.exception and not at.error


def test_outputs_out_of_range_raise_instead_of_being_returned(toy):
    model = models.model_class("toy").train_deployed()[0]
    model.log_odds = model.log_odds * float("nan")
    with pytest.raises(ModelOutputError):
        model.predict(["MgB2"])
    assert model.predict(["Xx2"])["error"].iloc[0]  # a bad row still gets its message, no exception
