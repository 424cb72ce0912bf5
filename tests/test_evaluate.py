"""Metrics and the results schema."""

import functools
import json

import numpy as np
import pandas as pd
import pytest
from fakes import toy_models  # noqa: F401  (fixture)

from sc_core import checkpoints, data, evaluate, thresholds
from sc_core.chemistry import composition_key, discovery_family, display_formula
from sc_core.io import parse_formula

QUIET = {"log": lambda _: None}


def test_classification_metrics_on_known_case():
    y = np.array([0, 0, 1, 1])
    m = evaluate.classification_metrics(y, np.array([0.1, 0.6, 0.4, 0.9]))
    assert m["accuracy"] == 0.5 and m["precision"] == 0.5 and m["recall"] == 0.5
    assert m["roc_auc"] == pytest.approx(0.75)
    perfect = evaluate.classification_metrics(y, np.array([0.0, 0.1, 0.8, 0.9]))
    assert perfect["accuracy"] == 1.0 and perfect["roc_auc"] == 1.0


def test_regression_metrics():
    m = evaluate.regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    assert m["mae_K"] == pytest.approx(2 / 3) and m["rmse_K"] == pytest.approx(np.sqrt(4 / 3))


def test_confusion_counts():
    cm = evaluate.confusion(np.array([0, 0, 1, 1, 1]), np.array([0.2, 0.7, 0.9, 0.1, 0.6]), cut=0.5)
    np.testing.assert_array_equal(cm, [[1, 1], [1, 2]])


def test_score_above_threshold_is_a_probability_product():
    pred = pd.DataFrame({"p_sc": [0.8, 0.8], "tc_K": [30.0, 2.0], "tc_std_K": [1.0, 1.0]})
    s = evaluate.score_above(pred, 10.0)
    assert s[0] == pytest.approx(0.8, abs=1e-6) and s[1] < 1e-6
    np.testing.assert_array_equal(evaluate.score_above(pred, 0.0), [0.8, 0.8])


def test_bootstrap_interval_matches_the_binomial_spread_of_accuracy():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    score = np.where(rng.uniform(size=400) < 0.8, y, 1 - y).astype(float)  # right 80% of the time
    accuracy = evaluate.classification_metrics(y, score)["accuracy"]
    half = 1.96 * np.sqrt(accuracy * (1 - accuracy) / len(y))  # normal approximation, about 0.04
    low, high = evaluate.bootstrap_ci(y, score, n=100)["accuracy"]
    assert low == pytest.approx(accuracy - half, abs=0.015) and high == pytest.approx(accuracy + half, abs=0.015)


def test_bootstrap_skips_resamples_with_one_class():
    y = np.array([1] + [0] * 9)  # a third of the resamples of ten rows miss the positive
    ci = evaluate.bootstrap_ci(y, np.linspace(0.9, 0.0, 10), n=50)
    assert ci["recall"] == [1.0, 1.0]  # a resample without the positive would score recall 0


@pytest.mark.usefixtures("toy_models")
def test_quick_evaluation_writes_schema(tmp_path):
    name = "toy"
    result = evaluate.evaluate(name, datasets=("supercon", "s2s"), seeds=(0, 1), limit=400, out_dir=tmp_path, **QUIET)
    stored = json.loads((tmp_path / f"{name}.json").read_text())
    assert stored == json.loads(json.dumps(result))
    assert stored["model"] == name and stored["version"] == f"{name}-1"
    kinds = {(r["dataset"], r["protocol"], r["task"]) for r in stored["results"]}
    assert ("supercon", "grouped", "tc_regression") in kinds and ("s2s", "random", "classification") in kinds
    assert ("s2s", evaluate.UNSEEN_FORMULA, "classification") in kinds
    for r in stored["results"]:
        assert r["seeds"] == [0, 1] and r["n_test"] > 0
        for value in r["metrics"].values():
            assert set(value) >= {"mean", "std"} and np.isfinite(value["mean"])
    splits = json.loads((tmp_path / f"{name}_splits.json").read_text())["splits"]
    assert set(splits["supercon/random"]) == {"0", "1"}
    curves = evaluate.load_curves(name, tmp_path)
    roc = next(c for c in curves if c["task"] == "classification")
    assert len(roc["y_true"]) == len(roc["y_score"]) and roc["roc"]["fpr"][0] == 0.0
    table = evaluate.results_table([name], tmp_path)
    assert {"accuracy", "mae_K"} <= set(table["metric"])
    # the unseen-formula row counts the random split's test crystals whose formula is absent from training
    s2s = data.load_s2s().sample(n=400, random_state=0)
    formula = dict(zip(s2s["id"], s2s["reduced_formula"]))
    counts = []
    for ids in splits["s2s/random"].values():
        train = {formula[i] for i in set(formula) - set(ids)}
        counts.append(sum(formula[i] not in train for i in ids))
    unseen = next(r for r in stored["results"] if r["protocol"] == evaluate.UNSEEN_FORMULA)
    assert unseen["n_test"] == round(np.mean(counts))
    assert sum(counts) < sum(map(len, splits["s2s/random"].values()))  # some test formulas were seen in training


@pytest.mark.usefixtures("toy_models")
def test_hosono_external_protocol_trains_without_the_list_and_tests_on_it_alone(tmp_path, monkeypatch):
    hosono = data.load_hosono(2018)
    supercon = data.load_supercon()
    overlaps = supercon[supercon["comp_key"].isin(set(hosono["comp_key"]))]
    small = pd.concat([overlaps, supercon.sample(n=60, random_state=0)]).drop_duplicates("id")
    monkeypatch.setattr(data, "load_supercon", lambda: small)  # every overlap row would be drawn for training
    monkeypatch.setattr(evaluate, "bootstrap_ci", functools.partial(evaluate.bootstrap_ci, n=10))
    tasks = []
    fit_predict = evaluate._fit_predict
    monkeypatch.setattr(evaluate, "_fit_predict", lambda *args: tasks.append(args[2]) or fit_predict(*args))
    result = evaluate.evaluate("toy", datasets=("hosono2018",), seeds=(0, 1), limit=len(small),
                               out_dir=tmp_path, **QUIET)

    assert len(overlaps) >= 4 and len(tasks) == 2
    kept = len(small) - len(overlaps)
    for task in tasks:
        train_keys = [composition_key(c) for c in task.train]
        assert not set(train_keys) & set(hosono["comp_key"])  # the overlaps are left out of training
        assert len(train_keys) == kept + len(small) and (task.tc[kept:] == 0).all()  # SuperCon rest + garbage-in
        assert [composition_key(c) for c in task.test] == hosono["comp_key"].tolist()  # the list and nothing else
    assert [c.formula for c in tasks[0].train[kept:]] != [c.formula for c in tasks[1].train[kept:]]  # per seed
    rows = {r["threshold_K"]: r for r in result["results"]}
    assert set(rows) == {0.0, 10.0}
    for row in rows.values():
        assert (row["dataset"], row["protocol"], row["n_test"]) == ("hosono2018", "external", len(hosono))
        assert row["training"] == "supercon+cod_garbage" and row["seeds"] == [0, 1]
        low, high = row["metrics"]["roc_auc"]["ci95"]
        assert 0 <= low <= high <= 1
    curves = {c["threshold_K"]: c for c in evaluate.load_curves("toy", tmp_path)}
    assert sum(curves[0.0]["y_true"]) == (hosono["tc"] > 0).sum() > sum(curves[10.0]["y_true"]) == (
        hosono["tc"] > 10).sum()
    split = json.loads((tmp_path / "toy_splits.json").read_text())["splits"]["hosono2018/external"]
    assert split["test"] == hosono["id"].tolist()
    assert split["train_excluded_overlaps"] == sorted(set(overlaps["comp_key"]))


@pytest.mark.usefixtures("toy_models")
def test_3dsc_protocol_scores_thresholds_families_and_tc_as_classifier():
    run = evaluate._Run("toy_structure", {}, **QUIET)
    evaluate._3dsc(run, seeds=(0,), limit=80)
    kinds = {(r["protocol"], r["task"], r["threshold_K"]) for r in run.results}
    for protocol in ("grouped", "random"):
        assert {(protocol, "classification", t) for t in evaluate.T_THRESHOLDS} <= kinds
        assert {(protocol, "tc_as_classifier", t) for t in evaluate.T_THRESHOLDS} <= kinds
        assert (protocol, "tc_regression", 0.0) in kinds
    as_classifier = next(r for r in run.results if r["task"] == "tc_as_classifier")
    assert "ece" not in as_classifier["metrics"] and "roc_auc" in as_classifier["metrics"]
    sample = evaluate.data.load_3dsc().sample(n=80, random_state=0)  # the rows the protocol drew
    test = sample["id"].isin(run.splits["3dsc/grouped"]["0"])
    assert test.any() and (~test).any()
    assert not set(sample[test]["group"]) & set(sample[~test]["group"])  # doped variants stay on one side
    by_class = {r["task"]: r["n_test"] for r in run.results if r["protocol"] == "grouped"
                and r["task"].startswith("tc_regression")}
    assert by_class["tc_regression"] == int((sample[test]["tc"] > 0).sum())  # superconductors of the test fifth
    assert sum(n for task, n in by_class.items() if task != "tc_regression") <= by_class["tc_regression"]


@pytest.mark.usefixtures("toy_models")
def test_recomputing_some_datasets_keeps_the_others(tmp_path):
    name, quiet = "toy", {"seeds": (0,), "limit": 120, "out_dir": tmp_path, **QUIET}
    evaluate.evaluate(name, datasets=("supercon",), **quiet)
    first = evaluate.load_results(name, tmp_path)["results"]
    evaluate.evaluate(name, datasets=("s2s",), **quiet)
    both = evaluate.load_results(name, tmp_path)["results"]
    assert {r["dataset"] for r in both} == {"supercon", "s2s"}
    assert [r for r in both if r["dataset"] == "supercon"] == first
    assert {c["dataset"] for c in evaluate.load_curves(name, tmp_path)} == {"supercon", "s2s"}
    splits = json.loads((tmp_path / f"{name}_splits.json").read_text())["splits"]
    assert {"supercon/random", "s2s/random"} <= set(splits)
    evaluate.evaluate(name, datasets=("s2s",), **(quiet | {"limit": 100}))  # another subsample: start over
    assert {r["dataset"] for r in evaluate.load_results(name, tmp_path)["results"]} == {"s2s"}


def test_parallel_fits_give_the_same_results(tmp_path):
    quiet = {"datasets": ("supercon",), "protocols": ("random",), "seeds": (0, 1), "limit": 150,
             "log": lambda _: None}
    serial = evaluate.evaluate("baseline", out_dir=tmp_path / "serial", **quiet)
    parallel = evaluate.evaluate("baseline", out_dir=tmp_path / "parallel", jobs=2, **quiet)
    assert parallel["results"] == serial["results"]
    assert (tmp_path / "parallel" / "baseline_splits.json").read_text() == (
        tmp_path / "serial" / "baseline_splits.json").read_text()


def test_one_protocol_recomputed_keeps_the_other(tmp_path):
    quiet = {"datasets": ("s2s",), "seeds": (0,), "limit": 150, "out_dir": tmp_path, "log": lambda _: None}
    evaluate.evaluate("baseline", **quiet)
    before = evaluate.load_results("baseline", tmp_path)["results"]
    only = evaluate.evaluate("baseline", protocols=("grouped",), **(quiet | {"seeds": (1,)}))
    after = evaluate.load_results("baseline", tmp_path)["results"]
    assert after == only["results"]
    assert [r for r in after if r["protocol"] == "random"] == [r for r in before if r["protocol"] == "random"]
    assert [r["seeds"] for r in after if r["protocol"] == "grouped"] == [[1]]
    splits = json.loads((tmp_path / "baseline_splits.json").read_text())["splits"]
    assert set(splits["s2s/random"]) == {"0"} and set(splits["s2s/grouped"]) == {"1"}
    curves = evaluate.load_curves("baseline", tmp_path)
    assert {(c["protocol"], c["seed"]) for c in curves} == {("random", 0), ("grouped", 1)}


@pytest.mark.usefixtures("toy_models")
def test_saved_fits_reproduce_the_metrics_without_refitting(tmp_path, monkeypatch):
    from fakes import ToyStructureModel

    table = evaluate.data.load_3dsc().sample(n=60, random_state=0).reset_index(drop=True)
    monkeypatch.setattr(evaluate.data, "load_3dsc", lambda: table)
    quiet = {"datasets": ("3dsc",), "protocols": ("grouped",), "seeds": (0,), "log": lambda _: None}
    saved = evaluate.evaluate("toy_structure", out_dir=tmp_path / "a", fits="save", **quiet)
    assert checkpoints.exists("toy_structure/fits/3dsc_grouped_0")
    monkeypatch.setattr(ToyStructureModel, "fit", lambda *a, **k: pytest.fail("a saved fit was refitted"))
    loaded = evaluate.evaluate("toy_structure", out_dir=tmp_path / "b", fits="load", **quiet)
    assert json.dumps(loaded["results"]) == json.dumps(saved["results"])  # NaN where a threshold has no positives
    unnamed = evaluate.evaluate("toy_structure", out_dir=tmp_path / "a", fits="load",
                                **(quiet | {"protocols": None}))  # 3dsc/random has no saved fits: kept, not refitted
    assert json.dumps(unnamed["results"]) == json.dumps(saved["results"])
    checkpoints.update_card("toy_structure", params={"smoothing": 2.0})  # the recipe changed since
    with pytest.raises(checkpoints.CheckpointError, match="other parameters"):
        evaluate.evaluate("toy_structure", out_dir=tmp_path / "c", fits="load", **quiet)
    with pytest.raises(checkpoints.CheckpointError, match="no saved fit"):
        evaluate.evaluate("toy_structure", out_dir=tmp_path / "c", fits="load", **(quiet | {"seeds": (1,)}))
    with pytest.raises(ValueError, match="full data"):
        evaluate.evaluate("toy_structure", out_dir=tmp_path / "c", fits="save", limit=10, **quiet)


@pytest.mark.usefixtures("toy_models")
def test_conformal_rows_calibrate_on_a_held_out_tenth_and_keep_the_other_results(tmp_path, monkeypatch):
    quiet = {"seeds": (0, 1), "limit": 400, "out_dir": tmp_path, **QUIET}
    before = evaluate.evaluate("toy", datasets=("supercon",), **quiet)["results"]
    tasks = []
    fit_predict = evaluate._fit_predict
    monkeypatch.setattr(evaluate, "_fit_predict", lambda *args: tasks.append(args[2]) or fit_predict(*args))
    evaluate.evaluate("toy", conformal=True, **quiet)
    stored = evaluate.load_results("toy", tmp_path)["results"]
    assert [r for r in stored if r["task"] != evaluate.INTERVAL_TASK] == before  # the other rows are kept
    rows = [r for r in stored if r["task"] == evaluate.INTERVAL_TASK]
    assert {r["protocol"] for r in rows} == {"random", "grouped"} and len(tasks) == 4
    for row in rows:
        assert 0.75 <= row["metrics"]["coverage"]["mean"] <= 1.0 and row["metrics"]["scale"]["mean"] > 0
    table = data.load_supercon().sample(n=400, random_state=0).reset_index(drop=True)
    splits = json.loads((tmp_path / "toy_splits.json").read_text())["splits"]
    assert set(splits) >= {"supercon/random", "supercon/grouped/calibration"}
    for seed, task in zip(("0", "1"), tasks[2:]):  # the grouped protocol
        test, cal = set(splits["supercon/grouped"][seed]), set(splits["supercon/grouped/calibration"][seed])
        assert cal and not cal & test and 0.05 < len(cal) / (len(table) - len(test)) < 0.2
        rest = table[~table["id"].isin(cal | test)]["formula"]  # the fit sees neither calibration nor test rows
        assert sorted(c.formula for c in task.train) == sorted(parse_formula(f).formula for f in rest)
        assert not set(table[table["id"].isin(cal)]["chemsys"]) & set(table[~table["id"].isin(cal | test)]["chemsys"])


@pytest.mark.usefixtures("toy_models")
def test_leave_family_out_trains_without_the_family_and_tests_on_it_alone(tmp_path, monkeypatch):
    tasks = []
    fit_predict = evaluate._fit_predict
    monkeypatch.setattr(evaluate, "_fit_predict", lambda *args: tasks.append(args[2]) or fit_predict(*args))
    result = evaluate.evaluate("toy", protocols=(evaluate.FAMILY_OUT,), seeds=(0, 1), limit=600, out_dir=tmp_path,
                               **QUIET)
    rows = {r["task"]: r for r in result["results"]}
    held = [t.removeprefix("classification_") for t in rows if t.startswith("classification_")]
    assert {"cuprate", "iron-based", "boride-carbide"} <= set(held) and "hydride" not in held  # < 10 superconductors
    assert len(tasks) == 2 * len(held) and {r["protocol"] for r in result["results"]} == {evaluate.FAMILY_OUT}
    for i, task in enumerate(tasks):
        fam = held[i % len(held)]
        assert all(discovery_family(c) != fam for c in task.train)
        assert task.test and all(discovery_family(c) == fam for c in task.test)
    recalls = [rows[f"classification_{f}"]["metrics"]["recall"]["mean"] for f in held]
    assert rows["classification"]["metrics"]["recall"]["mean"] == pytest.approx(np.mean(recalls))
    cuprates = rows["classification_cuprate"]
    assert cuprates["n_test"] > rows["tc_regression_cuprate"]["n_test"] > 0  # garbage-in cuprates are negatives too


@pytest.mark.usefixtures("toy_models")
def test_leave_cluster_out_holds_out_each_magpie_cluster(tmp_path, monkeypatch):
    from sc_core.featurize.composition import magpie_features, to_batch

    tasks = []
    fit_predict = evaluate._fit_predict
    monkeypatch.setattr(evaluate, "_fit_predict", lambda *args: tasks.append(args[2]) or fit_predict(*args))
    result = evaluate.evaluate("toy", protocols=(evaluate.CLUSTER_OUT,), seeds=(0,), limit=600, out_dir=tmp_path,
                               **QUIET)
    rows = {r["task"]: r for r in result["results"]}
    held = [t.removeprefix("classification_") for t in rows if t.startswith("classification_")]
    assert 2 <= len(held) <= evaluate.N_CLUSTERS and len(tasks) == len(held)
    assert evaluate.THRESHOLD_TASK not in rows  # the card's threshold comes from the families only

    def centre_of(comps):  # each test set is one tight region of Magpie space, far from its training rows
        return magpie_features(to_batch(comps)).mean(axis=0)

    splits = evaluate.load_splits("toy", tmp_path)[f"supercon/{evaluate.CLUSTER_OUT}"]
    assert sorted(splits) == sorted(held)
    for task in tasks:
        held_keys = {composition_key(c) for c in task.test}
        assert not held_keys & {composition_key(c) for c in task.train}  # no test composition is trained on
        spread_test = np.linalg.norm(magpie_features(to_batch(task.test)) - centre_of(task.test), axis=1).mean()
        spread_train = np.linalg.norm(magpie_features(to_batch(task.train)) - centre_of(task.test), axis=1).mean()
        assert spread_test < spread_train
    assert {"threshold", "recall_at_threshold"} <= rows["classification"]["metrics"].keys()


@pytest.mark.usefixtures("toy_models")
def test_decision_threshold_is_chosen_on_the_family_out_folds_and_used_on_hosono(tmp_path, monkeypatch):
    fits = []
    fit_predict = evaluate._fit_predict
    monkeypatch.setattr(evaluate, "_fit_predict", lambda *args: fits.append(fit_predict(*args)) or fits[-1])
    result = evaluate.evaluate("toy", datasets=("supercon", "hosono2018"), protocols=(evaluate.FAMILY_OUT, "external"),
                               seeds=(0,), limit=600, out_dir=tmp_path, **QUIET)
    rows = {(r["protocol"], r["task"], r["threshold_K"]): r["metrics"] for r in result["results"]}
    held = [t.removeprefix("classification_") for (protocol, t, _) in rows
            if protocol == evaluate.FAMILY_OUT and t.startswith("classification_")]
    family_rows = [rows[(evaluate.FAMILY_OUT, f"classification_{f}", 0.0)] for f in held]
    # the family-out fits come first, then the Hosono one; their labels are the held-out SuperCon rows' Tc > 0
    table = data.load_supercon().sample(n=600, random_state=0)
    table = table[~table["comp_key"].isin(set(data.load_hosono(2018)["comp_key"]))]
    families = np.array([discovery_family(parse_formula(f)) for f in table["formula"]])
    garbage = data.garbage_in(600, 0)
    garbage_families = np.array([discovery_family(parse_formula(f)) for f in garbage["formula"]])
    ys = [np.r_[table["tc"].to_numpy()[families == f] > 0, np.zeros((garbage_families == f).sum(), bool)]
          for f in held]
    ps = [fit["p_sc"].to_numpy() for fit in fits[: len(held)]]
    assert [len(y) for y in ys] == [len(p) for p in ps]
    chosen = rows[(evaluate.FAMILY_OUT, evaluate.THRESHOLD_TASK, 0.0)]
    cut = thresholds.best_cut(np.concatenate(ys), np.concatenate(ps))
    assert chosen["threshold"]["mean"] == pytest.approx(cut)
    for row, y, p, own in zip(family_rows, ys, ps, thresholds.cross_fitted(ys, ps)):
        assert row["threshold"]["mean"] == pytest.approx(own)
        assert row["recall_at_threshold"]["mean"] == pytest.approx(((p >= own) & y).sum() / y.sum())
    hosono = rows[("external", "classification", 0.0)]
    y = data.load_hosono(2018)["tc"].to_numpy() > 0
    assert hosono["threshold"]["mean"] == pytest.approx(cut)
    assert hosono["recall_at_threshold"]["mean"] == pytest.approx(((fits[-1]["p_sc"].to_numpy() >= cut) & y).sum()
                                                                 / y.sum())
    assert "threshold" not in rows[("external", "classification", 10.0)]  # P(Tc > 10 K) is another score


def test_parity_formulas_come_from_the_stored_split_only_when_they_match():
    table = data.load_supercon()
    rows = table.head(6)
    superconductors = rows[rows["tc"] > 0]
    curve = {"dataset": "supercon", "protocol": "random", "seed": 0, "tc_true": superconductors["tc"].tolist()}
    splits = {"supercon/random": {"0": rows["id"].tolist()}}
    assert evaluate.parity_formulas(curve, splits) == [display_formula(f) for f in superconductors["formula"]]
    assert evaluate.parity_formulas(curve | {"tc_true": curve["tc_true"][::-1] + [1.0]}, splits) is None
    assert evaluate.parity_formulas(curve | {"seed": 1}, splits) is None  # no stored split for that seed


def test_rows_without_a_prediction_leave_the_scored_test_set():
    test = np.array([True, False, True, True, False])
    pred = pd.DataFrame({"p_sc": [0.2, np.nan, 0.9]})  # the test rows in order; the second was unreadable
    np.testing.assert_array_equal(evaluate.scored(test, pred), [True, False, False, True, False])
