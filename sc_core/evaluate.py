"""Evaluation protocols, metrics and curves → ``benchmarks/results/<model>.json``.

Protocols (each refits the model family with its checkpoint's hyperparameters, seed by seed):

* ``supercon/random``: 80/20 over unique compositions (exact duplicates never straddle), 5 seeds, trained
  on SuperCon alone (the protocol of Stanev et al. and Kaplan et al.);
* ``supercon/grouped``: 80/20 by chemical system (element set), 5 seeds;
* ``supercon/leave_family_out``: for each family of :data:`~sc_core.chemistry.DISCOVERY_FAMILIES` with at
  least 10 superconductors, train on SuperCon and COD garbage-in without that family and test on the family
  (its SuperCon rows, its garbage-in rows as further negatives): recall at P ≥ 0.5, ROC-AUC, Tc MAE per
  family, and their mean over families (discovery of a family the model has never seen);
* ``hosono2018/external``: train on SuperCon minus its overlaps with the list, test on the list,
  at 0 K and 10 K thresholds, with bootstrap 95% intervals;
* ``s2s/random`` (stratified) and ``s2s/grouped`` (by reduced formula), for structure-aware models;
  ``s2s/random_unseen_formula`` rescores the random split on its test crystals whose reduced formula
  never occurs in training.

With ``conformal=True`` (``sc evaluate --conformal``) only the ``tc_interval`` rows of the SuperCon and
3DSC protocols are computed: each seed's training part gives up a calibration tenth (grouped as the
protocol groups), the model is refitted on the rest, the split-conformal multiplier of its Tc spread is
read on the calibration superconductors (:mod:`sc_core.intervals`) and the coverage of the 90% interval is
measured on the test superconductors. The calibration ids are stored beside the test ids.

For the external test the training set adds COD "garbage-in" compositions as Tc = 0 (Konno et al.'s
protocol, and the recipe of the deployed checkpoints); test sets never contain garbage rows. The test
ids of every split are stored in ``<model>_splits.json``.

scipy.stats and sklearn.metrics are imported by the functions that use them: importing this module (as the
command line does for its options) stays cheap.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from sc_core import checkpoints, data, paths, thresholds
from sc_core.calibration import expected_calibration_error
from sc_core.chemistry import DISCOVERY_FAMILIES, discovery_family, display_formula
from sc_core.intervals import conformal_scale, interval_metrics
from sc_core.io import parse_formula
from sc_core.models import model_class
from sc_core.models.base import Model
from sc_core.splits import group_split, stratified_split, unseen_in_training

RESULTS_DIR = paths.folder("SC_RESULTS_DIR", "benchmarks/results")
SEEDS = (0, 1, 2, 3, 4)
INTERVAL_TASK = "tc_interval"  # conformal rows: coverage and width of the 90% Tc interval
CALIBRATION_FRACTION, CALIBRATION_SEED = 0.1, 1000  # the calibration tenth of a training part; its split's seed offset
CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "ece")
REGRESSION_METRICS = ("mae_K", "rmse_K", "r2", "mae_all_K")
Log = Callable[[str], None]


# -- metrics -------------------------------------------------------------------------------------
def classification_metrics(y: np.ndarray, score: np.ndarray, cut: float = 0.5,
                           probabilities: bool = True) -> dict[str, float]:
    """Accuracy, precision, recall, F1 at `cut`; ROC-AUC, PR-AUC (average precision) and, for probabilities,
    the expected calibration error."""
    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    y, pred = np.asarray(y, dtype=bool), np.asarray(score) >= cut
    both = len(np.unique(y)) == 2
    metrics = {
        "accuracy": accuracy_score(y, pred),
        "precision": precision_score(y, pred, zero_division=0),
        "recall": recall_score(y, pred, zero_division=0),
        "f1": f1_score(y, pred, zero_division=0),
        "roc_auc": roc_auc_score(y, score) if both else float("nan"),
        "pr_auc": average_precision_score(y, score) if both else float("nan"),
    }
    return metrics | ({"ece": expected_calibration_error(y, score)} if probabilities else {})


def at_threshold(y: np.ndarray, score: np.ndarray, cut: float) -> dict[str, float]:
    """Accuracy, precision, recall, F1 and false-positive rate at the decision threshold `cut` (keys
    ``<metric>_at_threshold``), and the cut itself."""
    y = np.asarray(y, dtype=bool)
    at = classification_metrics(y, score, cut, probabilities=False)
    fpr = float((np.asarray(score)[~y] >= cut).mean()) if (~y).any() else float("nan")
    return ({"threshold": cut} | {f"{k}_at_threshold": at[k] for k in ("accuracy", "precision", "recall", "f1")}
            | {"fpr_at_threshold": fpr})


def regression_metrics(tc: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE (K) and R² of Tc predictions."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {"mae_K": mean_absolute_error(tc, pred), "rmse_K": float(np.sqrt(mean_squared_error(tc, pred))),
            "r2": r2_score(tc, pred)}


def score_above(pred: pd.DataFrame, threshold_K: float) -> np.ndarray:
    """P(Tc > threshold): P(superconductor) × P(Tc > threshold | superconductor), Gaussian in Tc."""
    p = pred["p_sc"].to_numpy(dtype=float)
    if threshold_K <= 0:
        return p
    from scipy.stats import norm

    tc, std = pred["tc_K"].to_numpy(dtype=float), pred["tc_std_K"].to_numpy(dtype=float)
    return p * norm.cdf((tc - threshold_K) / np.maximum(std, 1e-3))


def tc_any_row(pred: pd.DataFrame) -> np.ndarray:
    """Tc for any material: the predicted Tc where P(superconductor) ≥ 0.5, else 0 K (Kaplan's all-row MAE)."""
    return np.where(pred["p_sc"].to_numpy(dtype=float) >= 0.5, pred["tc_K"].to_numpy(dtype=float), 0.0)


def bootstrap_ci(y: np.ndarray, score: np.ndarray, n: int = 1000, seed: int = 0) -> dict[str, list[float]]:
    """95% percentile intervals of the classification metrics over bootstrap resamples of the test set."""
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) == 2:
            draws.append(classification_metrics(y[idx], score[idx]))
    frame = pd.DataFrame(draws)
    return {k: [float(frame[k].quantile(0.025)), float(frame[k].quantile(0.975))] for k in frame}


def confusion(y: np.ndarray, score: np.ndarray, cut: float) -> np.ndarray:
    """2×2 confusion matrix [[TN, FP], [FN, TP]] at probability `cut`."""
    y, pred = np.asarray(y, dtype=bool), np.asarray(score) >= cut
    return np.array([[np.sum(~y & ~pred), np.sum(~y & pred)], [np.sum(y & ~pred), np.sum(y & pred)]])


def _summary(per_seed: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    frame = pd.DataFrame(per_seed)
    return {k: {"mean": float(frame[k].mean()), "std": float(frame[k].std(ddof=0))} for k in frame}


# -- protocols -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One fit of a protocol: training inputs and targets, the seed, and the inputs to predict."""

    train: list
    seed: int
    test: list
    tc: np.ndarray | None = None
    labels: np.ndarray | None = None
    key: str = ""  # <dataset>_<protocol>_<seed>, the name of its saved fit


def fit_name(model: str, key: str) -> str:
    """Checkpoint name of a split's fit: ``<model>/fits/<dataset>_<protocol>_<seed>``."""
    return f"{model}/fits/{key}"


def load_fit(name: str, key: str) -> Model:
    """The saved fit of split `key` (``<dataset>_<protocol>_<seed>``) of model `name` (``--save-fits``)."""
    if not checkpoints.exists(fit_name(name, key)):
        raise checkpoints.CheckpointError(f"no saved fit {fit_name(name, key)}: run "
                                          f"`sc evaluate --model {name} --save-fits` (same options) first")
    return model_class(name).load(fit_name(name, key))


def _fit_predict(name: str, params: dict, task: Task, fits: str | None = None) -> pd.DataFrame:
    """Fit one task's model and predict its test inputs; ``fits="save"`` also writes the fit as a checkpoint,
    ``fits="load"`` reads that checkpoint instead of fitting (after checking its data and parameters)."""
    cls = model_class(name)
    if fits == "load":
        model = load_fit(name, task.key)
        if model.card.get("data_hash") != data.manifest()["data_hash"] or model.config != cls(**params).config:
            raise checkpoints.CheckpointError(
                f"the saved fit {fit_name(name, task.key)} was made on other data or with other parameters; "
                f"rerun `sc evaluate --model {name} --save-fits`")
        return model.predict(task.test)
    model = cls(**params).fit(task.train, tc=task.tc, labels=task.labels)
    if fits == "save":
        model.save({"version": f"{name}-{task.key}", "data_hash": data.manifest()["data_hash"],
                    "training": f"the training part of split {task.key} (see {name}_splits.json)"},
                   name=fit_name(name, task.key))
    return model.predict(task.test)


G = TypeVar("G")  # what a protocol groups rows by


def _one_thread() -> None:
    """A worker's numerical libraries use one thread each (read when torch or BLAS first loads, so a forest's
    worker never imports torch)."""
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"


class _Run:
    """Collects results, curves and splits of one model's evaluation."""

    def __init__(self, name: str, params: dict, log: Log, jobs: int = 1, protocols: tuple[str, ...] | None = None,
                 fits: str | None = None, conformal: bool = False):
        self.name, self.params, self.log, self.jobs = name, params, log, jobs
        self.protocols, self.fits, self.conformal = protocols, fits, conformal
        self.threshold = thresholds.DEFAULT  # the decision threshold: the card's, or the one chosen in this run
        self.results: list[dict] = []
        self.curves: list[dict] = []
        self.splits: dict[str, dict[str, list[str]]] = {}

    def chosen(self, dataset: str, protocols: tuple[tuple[str, G], ...], seed: int) -> list[tuple[str, G]]:
        """The (protocol, grouping) pairs of `dataset` to run: those named in `self.protocols`, else all; when
        predicting from saved fits with none named, only those with a saved fit (the rest keep their results)."""
        if self.protocols is not None:
            return [p for p in protocols if p[0] in self.protocols]
        if self.fits != "load":
            return list(protocols)
        saved = [p for p in protocols if checkpoints.exists(fit_name(self.name, f"{dataset}_{p[0]}_{seed}"))]
        for protocol in sorted({p[0] for p in protocols} - {p[0] for p in saved}):
            self.log(f"{dataset}/{protocol}: no saved fits, its stored results are kept")
        return saved

    def fit_predict(self, tasks: list[Task]) -> list[pd.DataFrame]:
        """Predictions of each task's model (fitted with `self.params` and the task's seed), `self.jobs` fits
        at a time in worker processes (a single-threaded torch each)."""
        work = [(self.name, {**self.params, "random_state": t.seed}, t, self.fits) for t in tasks]
        if self.jobs <= 1 or len(tasks) <= 1:
            return [_fit_predict(*w) for w in work]
        context = multiprocessing.get_context("spawn")  # no torch state is inherited through fork
        with ProcessPoolExecutor(min(self.jobs, len(tasks)), mp_context=context, initializer=_one_thread) as pool:
            return list(pool.map(_fit_predict, *zip(*work)))

    def add(self, dataset: str, protocol: str, task: str, threshold: float, seeds: Sequence[int],
            per_seed: list[dict], n_test: int, training: str, extra: dict | None = None) -> None:
        metrics = _summary(per_seed)
        for key, interval in (extra or {}).items():
            metrics[key]["ci95"] = interval
        self.results.append({"dataset": dataset, "protocol": protocol, "task": task, "threshold_K": threshold,
                             "n_test": int(n_test), "seeds": list(seeds), "training": training, "metrics": metrics})
        shown = ", ".join(f"{k} {v['mean']:.3f}±{v['std']:.3f}" for k, v in metrics.items())
        self.log(f"{dataset}/{protocol} {task} @{threshold:g} K (n={n_test}, trained on {training}): {shown}")

    def curve(self, dataset: str, protocol: str, task: str, threshold: float, seed: int, y, score) -> None:
        entry = {"dataset": dataset, "protocol": protocol, "task": task, "threshold_K": threshold, "seed": seed}
        if task == "classification":
            from sklearn.metrics import precision_recall_curve, roc_curve

            fpr, tpr, _ = roc_curve(y, score)
            prec, rec, _ = precision_recall_curve(y, score)
            entry |= {"roc": {"fpr": _r(fpr), "tpr": _r(tpr)}, "pr": {"precision": _r(prec), "recall": _r(rec)},
                      "y_true": np.asarray(y, dtype=int).tolist(), "y_score": _r(score)}
        else:
            entry |= {"tc_true": _r(y), "tc_pred": _r(score)}
        self.curves.append(entry)


def _pick(items: list, mask: np.ndarray) -> list:
    return [item for item, keep in zip(items, mask) if keep]


def _r(values) -> list[float]:
    return [round(float(v), 4) for v in values]


def _supercon(run: _Run, seeds: tuple[int, ...], limit: int | None) -> None:
    from sklearn.metrics import mean_absolute_error

    table = data.load_supercon()
    if limit:
        table = table.sample(n=min(limit, len(table)), random_state=0).reset_index(drop=True)
    comps = [parse_formula(f) for f in table["formula"]]
    tc = table["tc"].to_numpy()
    pairs = (("random", table["comp_key"]), ("grouped", table["chemsys"]))
    for protocol, groups in run.chosen("supercon", pairs, seeds[0]):
        cls_scores, reg_scores = [], []
        tests = [group_split(groups.to_numpy(), seed) for seed in seeds]
        if run.conformal:
            _tc_intervals(run, "supercon", protocol, comps, tc, groups.to_numpy(), tests, seeds, table["id"])
            continue
        run.splits[f"supercon/{protocol}"] = {str(seed): table.loc[test, "id"].tolist()
                                              for seed, test in zip(seeds, tests)}
        preds = run.fit_predict([Task(_pick(comps, ~test), seed, _pick(comps, test), tc=tc[~test],
                                      key=f"supercon_{protocol}_{seed}")
                                 for seed, test in zip(seeds, tests)])
        for seed, test, pred in zip(seeds, tests, preds):
            y, p = tc[test] > 0, pred["p_sc"].to_numpy()
            cls_scores.append(classification_metrics(y, p))
            sc = y
            reg_scores.append(regression_metrics(tc[test][sc], pred["tc_K"].to_numpy()[sc])
                              | {"mae_all_K": mean_absolute_error(tc[test], tc_any_row(pred))})
            if seed == seeds[0]:
                run.curve("supercon", protocol, "classification", 0.0, seed, y, p)
                run.curve("supercon", protocol, "tc_regression", 0.0, seed, tc[test][sc], pred["tc_K"].to_numpy()[sc])
        run.add("supercon", protocol, "classification", 0.0, seeds, cls_scores, test.sum(), training="supercon")
        run.add("supercon", protocol, "tc_regression", 0.0, seeds, reg_scores, sc.sum(), training="supercon")
    if run.conformal:
        return
    for protocol, labeller in run.chosen("supercon", ((FAMILY_OUT, _families), (CLUSTER_OUT, _clusters)), seeds[0]):
        _held_out_groups(run, protocol, labeller, table, comps, seeds, limit)


FAMILY_OUT = "leave_family_out"
CLUSTER_OUT = "leave_cluster_out"
THRESHOLD_TASK = "decision_threshold"  # the family-out row of the chosen cut (sc_core.thresholds)
MIN_FAMILY_SUPERCONDUCTORS = 10  # a family (or cluster) with fewer SuperCon superconductors is not held out alone
N_CLUSTERS = 5  # k-means clusters of leave_cluster_out
Labeller = Callable[[list], Callable[[list], np.ndarray]]  # training compositions → (compositions → group names)


def _families(_: list) -> Callable[[list], np.ndarray]:
    """Discovery families by composition rules (:func:`~sc_core.chemistry.discovery_family`)."""
    return lambda comps: np.array([discovery_family(c) for c in comps])


def _clusters(comps: list) -> Callable[[list], np.ndarray]:
    """k-means clusters (N_CLUSTERS, seed 0) of the standardised Magpie features of `comps` (Meredig et al. 2018);
    other compositions join their nearest centre."""
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    from sc_core.featurize.composition import magpie_features, to_batch

    scaler = StandardScaler().fit(magpie_features(to_batch(comps)))
    kmeans = KMeans(N_CLUSTERS, random_state=0, n_init=10).fit(scaler.transform(magpie_features(to_batch(comps))))
    return lambda other: np.array([f"cluster {k}" for k in kmeans.predict(scaler.transform(
        magpie_features(to_batch(other))))])


def _held_out_groups(run: _Run, protocol: str, labeller: Labeller, table: pd.DataFrame, comps: list,
                     seeds: tuple[int, ...], limit: int | None) -> None:
    """Each group (a discovery family, or a cluster) held out of SuperCon and garbage-in training in turn, then
    scored on its own rows: its SuperCon rows, and its garbage-in rows as further negatives.

    The training data are the deployed recipe's (SuperCon minus the Hosono 2018 list, plus garbage-in). Each
    group's ``*_at_threshold`` metrics use the cut chosen on the other groups (cross-fitted); for families, the
    cut of the pooled groups is the model's decision threshold (:mod:`sc_core.thresholds`, best J per seed),
    chosen inside the deployed model's training data.
    """
    kept = ~table["comp_key"].isin(set(data.load_hosono(2018)["comp_key"])).to_numpy()
    table, comps = table[kept].reset_index(drop=True), _pick(comps, kept)
    label = labeller(comps)
    groups = label(comps)
    tc = table["tc"].to_numpy()
    held = [g for g in (DISCOVERY_FAMILIES if protocol == FAMILY_OUT else sorted(set(groups)))
            if ((groups == g) & (tc > 0)).sum() >= MIN_FAMILY_SUPERCONDUCTORS]
    tasks, truths = [], []
    for seed in seeds:
        garbage = data.garbage_in(limit or data.N_GARBAGE, seed)
        garbage_comps = [parse_formula(f) for f in garbage["formula"]]
        garbage_groups = label(garbage_comps)
        for group in held:
            out, garbage_out = groups == group, garbage_groups == group
            tasks.append(Task(_pick(comps, ~out) + _pick(garbage_comps, ~garbage_out), seed,
                              _pick(comps, out) + _pick(garbage_comps, garbage_out),
                              tc=np.concatenate([tc[~out], np.zeros((~garbage_out).sum())]),
                              key=f"supercon_{protocol}_{group.replace(' ', '')}_{seed}"))
            truths.append(np.concatenate([tc[out], np.zeros(garbage_out.sum())]))
    run.splits[f"supercon/{protocol}"] = {g: table.loc[groups == g, "id"].tolist() for g in held}
    cls_scores: dict[str, list[dict]] = {g: [] for g in held}
    reg_scores: dict[str, list[dict]] = {g: [] for g in held}
    chosen: list[dict] = []
    preds = run.fit_predict(tasks)
    for k in range(len(seeds)):  # tasks and predictions run seed by seed, each over the held groups
        part = slice(k * len(held), (k + 1) * len(held))
        ys, ps = [t > 0 for t in truths[part]], [pred["p_sc"].to_numpy() for pred in preds[part]]
        cuts = thresholds.cross_fitted(ys, ps)
        for group, y, p, cut, truth, pred in zip(held, ys, ps, cuts, truths[part], preds[part]):
            cls_scores[group].append(classification_metrics(y, p) | at_threshold(y, p, cut))
            reg_scores[group].append(regression_metrics(truth[y], pred["tc_K"].to_numpy()[y]))
        if protocol == FAMILY_OUT:  # the pooled cut of the families: the model's decision threshold
            y_all, p_all = np.concatenate(ys), np.concatenate(ps)
            pooled = at_threshold(y_all, p_all, thresholds.best_cut(y_all, p_all))
            chosen.append({key: v for key, v in pooled.items() if key != "accuracy_at_threshold"})
    training = f"supercon+cod_garbage without the {'family' if protocol == FAMILY_OUT else 'cluster'}"
    n_test = {g: round(np.mean([len(t) for t in truths[j :: len(held)]])) for j, g in enumerate(held)}
    n_sc = {g: int((truths[j] > 0).sum()) for j, g in enumerate(held)}  # the same SuperCon rows every seed
    for group in held:
        run.add("supercon", protocol, f"classification_{group}", 0.0, seeds, cls_scores[group], n_test[group],
                training)
        run.add("supercon", protocol, f"tc_regression_{group}", 0.0, seeds, reg_scores[group], n_sc[group], training)
    for task, scores, counts in (("classification", cls_scores, n_test), ("tc_regression", reg_scores, n_sc)):
        per_seed = [pd.DataFrame([scores[g][k] for g in held]).mean().to_dict() for k in range(len(seeds))]
        run.add("supercon", protocol, task, 0.0, seeds, per_seed, sum(counts.values()),  # the mean over groups
                training)
    if protocol == FAMILY_OUT:
        run.add("supercon", protocol, THRESHOLD_TASK, 0.0, seeds, chosen, sum(n_test.values()),
                "supercon+cod_garbage, each family held out in turn; pooled")
        run.threshold = float(np.mean([c["threshold"] for c in chosen]))


def _hosono(run: _Run, seeds: tuple[int, ...], limit: int | None) -> None:
    if not run.chosen("hosono2018", (("external", None),), seeds[0]):
        return
    test = data.load_hosono(2018)
    table = data.load_supercon()
    table = table[~table["comp_key"].isin(set(test["comp_key"]))]
    if limit:
        table = table.sample(n=min(limit, len(table)), random_state=0)
    run.splits["hosono2018/external"] = {"train_excluded_overlaps": sorted(set(test["comp_key"]) & set(
        data.load_supercon()["comp_key"])), "test": test["id"].tolist()}
    test_comps = [parse_formula(f) for f in test["formula_used"]]
    scores: dict[float, list] = {0.0: [], 10.0: []}
    seed_scores: dict[float, list] = {0.0: [], 10.0: []}
    comps = [parse_formula(f) for f in table["formula"]]
    tasks = []
    for seed in seeds:
        garbage = data.garbage_in(limit or data.N_GARBAGE, seed)
        tc = np.concatenate([table["tc"].to_numpy(), garbage["tc"].to_numpy()])
        tasks.append(Task(comps + [parse_formula(f) for f in garbage["formula"]], seed, test_comps, tc=tc,
                          key=f"hosono2018_external_{seed}"))
    for pred in run.fit_predict(tasks):
        for threshold in scores:
            s = score_above(pred, threshold)
            y = test["tc"].to_numpy() > threshold
            scores[threshold].append(classification_metrics(y, s)
                                     | (at_threshold(y, s, run.threshold) if threshold == 0 else {}))
            seed_scores[threshold].append(s)
    for threshold, per_seed in scores.items():
        y = test["tc"].to_numpy() > threshold
        mean_score = np.mean(seed_scores[threshold], axis=0)
        run.add("hosono2018", "external", "classification", threshold, seeds, per_seed, len(test),
                training="supercon+cod_garbage", extra=bootstrap_ci(y, mean_score))
        run.curve("hosono2018", "external", "classification", threshold, seeds[0], y, mean_score)


UNSEEN_FORMULA = "random_unseen_formula"  # S2S protocol row: random-split test crystals of formulas not in training


def _s2s(run: _Run, seeds: tuple[int, ...], limit: int | None) -> None:
    table = data.load_s2s()
    if limit:
        table = table.sample(n=min(limit, len(table)), random_state=0).reset_index(drop=True)
    structures = data.s2s_structures()
    inputs = [structures[i] for i in table["id"]]
    labels = table["label"].to_numpy().astype(bool)
    formulas = table["reduced_formula"].to_numpy()
    for protocol, _ in run.chosen("s2s", (("random", None), ("grouped", None)), seeds[0]):
        per_seed, unseen_scores, unseen_counts = [], [], []
        tests = [stratified_split(labels, seed) if protocol == "random"
                 else group_split(formulas, seed) for seed in seeds]
        run.splits[f"s2s/{protocol}"] = {str(seed): table.loc[test, "id"].tolist() for seed, test in zip(seeds, tests)}
        preds = run.fit_predict([Task(_pick(inputs, ~test), seed, _pick(inputs, test), labels=labels[~test],
                                      key=f"s2s_{protocol}_{seed}")
                                 for seed, test in zip(seeds, tests)])
        for seed, test, pred in zip(seeds, tests, preds):
            p = pred["p_sc"].to_numpy()
            per_seed.append(classification_metrics(labels[test], p))
            if protocol == "random":  # in a grouped split every test formula is unseen
                unseen = unseen_in_training(formulas, test)
                unseen_scores.append(classification_metrics(labels[test][unseen], p[unseen]))
                unseen_counts.append(int(unseen.sum()))
            if seed == seeds[0]:
                run.curve("s2s", protocol, "classification", 0.0, seed, labels[test], p)
        run.add("s2s", protocol, "classification", 0.0, seeds, per_seed, test.sum(), training="s2s")
        if unseen_scores:  # the random split's test crystals whose reduced formula is absent from training
            run.add("s2s", UNSEEN_FORMULA, "classification", 0.0, seeds, unseen_scores,
                    round(np.mean(unseen_counts)), training="s2s")


T_THRESHOLDS = (0, 5, 10, 15, 20, 25, 30, 40, 50)  # K, Quinn & McQueen's Fig. 1B
MIN_CLASS_SUPERCONDUCTORS = 10  # a class with fewer in a test fifth gets no Tc row (R² on 2 hydrides is noise)


def scored(test: np.ndarray, pred: pd.DataFrame) -> np.ndarray:
    """The test mask without the rows the model gave no prediction for (its error rows), in test order."""
    kept = test.copy()
    kept[np.flatnonzero(test)[pred["p_sc"].isna().to_numpy()]] = False
    return kept


def _3dsc(run: _Run, seeds: tuple[int, ...], limit: int | None) -> None:
    """3DSC structures, split by SuperCon formula (doped variants together) and at random over structures.

    Classification at every T_THRESHOLDS value, scored by P(Tc > T) and, as in Quinn & McQueen's Fig. 6,
    by the regressed Tc alone ("tc_as_classifier"); Tc regression on superconductors, overall and by family.
    """
    table = data.load_3dsc()
    if limit:
        table = table.sample(n=min(limit, len(table)), random_state=0).reset_index(drop=True)
    structures = data.structures_3dsc(table["cif_name"])
    tc, families = table["tc"].to_numpy(), table["family"].to_numpy()
    pairs = (("grouped", table["group"].to_numpy()), ("random", table["id"].to_numpy()))
    for protocol, groups in run.chosen("3dsc", pairs, seeds[0]):
        cls_scores: dict[int, list[dict]] = {t: [] for t in T_THRESHOLDS}
        tc_scores: dict[int, list[dict]] = {t: [] for t in T_THRESHOLDS}
        reg_scores: dict[str, list] = {}
        reg_counts: dict[str, list] = {}
        tests = [group_split(groups, seed) for seed in seeds]
        if run.conformal:
            _tc_intervals(run, "3dsc", protocol, structures, tc, groups, tests, seeds, table["id"])
            continue
        run.splits[f"3dsc/{protocol}"] = {str(seed): table.loc[test, "id"].tolist() for seed, test in zip(seeds, tests)}
        preds = run.fit_predict([Task(_pick(structures, ~test), seed, _pick(structures, test), tc=tc[~test],
                                      key=f"3dsc_{protocol}_{seed}")
                                 for seed, test in zip(seeds, tests)])
        n_scored = []
        for seed, test, pred in zip(seeds, tests, preds):
            test = scored(test, pred)  # rows the model could not read (e.g. chgnet beyond Pu) are not scored
            pred = pred[pred["p_sc"].notna()].reset_index(drop=True)
            n_scored.append(int(test.sum()))
            for threshold in T_THRESHOLDS:
                y = tc[test] > threshold
                score = score_above(pred, threshold)
                cls_scores[threshold].append(classification_metrics(y, score))
                tc_scores[threshold].append(classification_metrics(  # predicted Tc > T (1 K for T = 0)
                    y, pred["tc_K"].to_numpy(), cut=max(threshold, 1.0), probabilities=False))
                if seed == seeds[0] and threshold in (0, 10, 30):
                    run.curve("3dsc", protocol, "classification", threshold, seed, y, score)
            sc = tc[test] > 0
            for fam in ("all", *sorted(set(families[test][sc]))):
                rows = sc & ((families[test] == fam) | (fam == "all"))
                if rows.sum() >= (2 if fam == "all" else MIN_CLASS_SUPERCONDUCTORS):
                    scores = regression_metrics(tc[test][rows], pred["tc_K"].to_numpy()[rows])
                    reg_scores.setdefault(fam, []).append(scores)
                    reg_counts.setdefault(fam, []).append(int(rows.sum()))
            if seed == seeds[0]:
                run.curve("3dsc", protocol, "tc_regression", 0.0, seed, tc[test][sc], pred["tc_K"].to_numpy()[sc])
        n_test = round(np.mean(n_scored))
        for threshold in T_THRESHOLDS:
            run.add("3dsc", protocol, "classification", threshold, seeds, cls_scores[threshold], n_test, "3dsc")
            run.add("3dsc", protocol, "tc_as_classifier", threshold, seeds, tc_scores[threshold], n_test, "3dsc")
        for fam, per_seed in reg_scores.items():
            task = "tc_regression" if fam == "all" else f"tc_regression_{fam}"
            run.add("3dsc", protocol, task, 0.0, seeds, per_seed, round(np.mean(reg_counts[fam])), "3dsc")


def _tc_intervals(run: _Run, dataset: str, protocol: str, inputs: list, tc: np.ndarray, groups: np.ndarray,
                  tests: list[np.ndarray], seeds: tuple[int, ...], ids: pd.Series) -> None:
    """Split-conformal Tc intervals of one protocol: per seed, fit without a calibration tenth of the training
    part (whole groups), calibrate the spread's multiplier on its superconductors, score the test ones."""
    tasks, calibrations = [], []
    for seed, test in zip(seeds, tests):
        train = np.flatnonzero(~test)
        cal = train[group_split(groups[train], seed + CALIBRATION_SEED, CALIBRATION_FRACTION)]
        fit = np.setdiff1d(train, cal)
        calibrations.append(cal)
        scored = np.concatenate([cal, np.flatnonzero(test)])  # calibration rows first, then the test rows
        tasks.append(Task([inputs[i] for i in fit], seed, [inputs[i] for i in scored], tc=tc[fit],
                          key=f"{dataset}_{protocol}_{seed}_calibration"))
    run.splits[f"{dataset}/{protocol}/calibration"] = {str(seed): ids.iloc[cal].tolist()
                                                       for seed, cal in zip(seeds, calibrations)}
    per_seed = []
    for test, cal, pred in zip(tests, calibrations, run.fit_predict(tasks)):
        tc_pred, spread = pred["tc_K"].to_numpy(dtype=float), pred["tc_std_K"].to_numpy(dtype=float)
        on_cal, on_test = np.arange(len(pred)) < len(cal), np.arange(len(pred)) >= len(cal)
        truth = np.concatenate([tc[cal], tc[test]])
        cal_sc, test_sc = on_cal & (truth > 0), on_test & (truth > 0)
        scale = conformal_scale(truth[cal_sc], tc_pred[cal_sc], spread[cal_sc])
        per_seed.append(interval_metrics(truth[test_sc], tc_pred[test_sc], spread[test_sc], scale)
                        | {"n_calibration": float(cal_sc.sum())})
    run.add(dataset, protocol, INTERVAL_TASK, 0.0, seeds, per_seed, round(np.mean([(tc[t] > 0).sum() for t in tests])),
            training=dataset)


PROTOCOLS = {"supercon": _supercon, "hosono2018": _hosono, "s2s": _s2s, "3dsc": _3dsc}
PROTOCOL_NAMES = ("random", "grouped", FAMILY_OUT, CLUSTER_OUT, "external")
TC_DATASETS = ("supercon", "3dsc")  # the datasets with Tc values, where conformal Tc intervals are measured


def evaluate(name: str, datasets: tuple[str, ...] | None = None, seeds: tuple[int, ...] = SEEDS,
             limit: int | None = None, out_dir: Path = RESULTS_DIR, log: Log = print, jobs: int = 1,
             protocols: tuple[str, ...] | None = None, fits: str | None = None, conformal: bool = False) -> dict:
    """Run the protocols for model `name` and write ``<name>.json``, ``<name>_curves.json``, ``<name>_splits.json``.

    `datasets` defaults to the model family's own list; `limit` subsamples every dataset (for quick
    checks); published results use ``limit=None``. `jobs` > 1 fits that many seeds at once in worker
    processes (the results do not depend on it). `protocols` (among PROTOCOL_NAMES) runs only those.
    `fits`: "save" writes every split's fit under ``checkpoints/<name>/fits/``; "load" predicts with those
    saved fits instead of fitting (minutes of training become seconds; the metrics are the same).
    `conformal` computes only the conformal Tc-interval rows (see the module docstring) and keeps the rest.
    """
    if fits and limit:
        raise ValueError("saved fits are for the full data only (no limit)")
    card = checkpoints.read_card(name)
    cls = model_class(name)
    run = _Run(name, card["params"], log, jobs, protocols, fits, conformal)
    run.threshold = thresholds.of(card)
    for dataset in datasets or cls.datasets:
        if conformal and dataset not in TC_DATASETS:
            continue
        run.params = {**card["params"], **cls.protocol_params.get(dataset, {})}
        PROTOCOLS[dataset](run, seeds, limit)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"model": name, "version": card.get("version", card["created"]), "data_hash": data.manifest()["data_hash"],
              "limit": limit, "results": run.results}
    if datasets or protocols or fits == "load" or conformal:
        _keep_other_datasets(run, result, out_dir, log)
    (out_dir / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (out_dir / f"{name}_curves.json").write_text(json.dumps({"model": name, "curves": run.curves}) + "\n")
    (out_dir / f"{name}_splits.json").write_text(json.dumps({"model": name, "splits": run.splits}) + "\n")
    return result


def _keep_other_datasets(run: _Run, result: dict, out_dir: Path, log: Log) -> None:
    """Carry over the stored results, curves and splits of the (dataset, protocol) pairs not recomputed now,
    when they come from the same checkpoint version, data and subsample."""
    stored = load_results(run.name, out_dir)
    if not stored or any(stored.get(k) != result[k] for k in ("version", "data_hash", "limit")):
        return
    def key(entry: dict) -> tuple[str, bool]:  # conformal rows and the others are recomputed separately
        return f"{entry['dataset']}/{entry['protocol']}", entry.get("task") == INTERVAL_TASK

    done = {key(r) for r in run.results}
    kept = [r for r in stored["results"] if key(r) not in done]
    result["results"] = kept + run.results
    run.curves[:0] = [c for c in load_curves(run.name, out_dir) if key(c) not in done]
    splits = json.loads((out_dir / f"{run.name}_splits.json").read_text())["splits"]
    run.splits = {k: v for k, v in splits.items() if k not in run.splits} | run.splits
    if kept:
        log(f"kept the stored results of {', '.join(sorted({key(r)[0] for r in kept}))}")


# -- reading results (for the app) ---------------------------------------------------------------
def load_results(name: str, results_dir: Path = RESULTS_DIR) -> dict | None:
    """The stored results of model `name`, or None if it was never evaluated."""
    path = Path(results_dir) / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def load_curves(name: str, results_dir: Path = RESULTS_DIR) -> list[dict]:
    """Stored ROC/PR curves, scores and parity points of model `name` (empty if none)."""
    path = Path(results_dir) / f"{name}_curves.json"
    return json.loads(path.read_text())["curves"] if path.exists() else []


def load_splits(name: str, results_dir: Path = RESULTS_DIR) -> dict:
    """Stored test ids of model `name`: split ("<dataset>/<protocol>") → seed → ids (empty if none)."""
    path = Path(results_dir) / f"{name}_splits.json"
    return json.loads(path.read_text())["splits"] if path.exists() else {}


def parity_formulas(curve: dict, splits: dict) -> list[str] | None:
    """The formulas of a stored Tc-parity curve's points, from the test ids stored beside it (the test rows that
    superconduct, in order); None when they do not match the curve's measured Tc (or the split is not stored)."""
    ids = splits.get(f"{curve['dataset']}/{curve['protocol']}", {}).get(str(curve["seed"]))
    loader = {"supercon": data.load_supercon, "3dsc": data.load_3dsc}.get(curve["dataset"])
    if not ids or loader is None:
        return None
    rows = loader().drop_duplicates("id").set_index("id").reindex(ids)
    rows = rows[rows["tc"] > 0]
    if len(rows) != len(curve["tc_true"]) or not np.allclose(rows["tc"], curve["tc_true"], rtol=0, atol=1e-3):
        return None
    return [display_formula(f) for f in rows["formula"]]


def results_table(names: list[str], results_dir: Path = RESULTS_DIR) -> pd.DataFrame:
    """Long table: model, dataset, protocol, task, threshold_K, n_test, metric, mean, std."""
    rows = []
    for name in names:
        result = load_results(name, results_dir)
        for entry in (result or {}).get("results", []):
            for metric, value in entry["metrics"].items():
                rows.append({"model": name, **{k: entry[k] for k in ("dataset", "protocol", "task", "threshold_K",
                                                                     "n_test")},
                             "metric": metric, "mean": value["mean"], "std": value["std"]})
    return pd.DataFrame(rows, columns=["model", "dataset", "protocol", "task", "threshold_K", "n_test", "metric",
                                       "mean", "std"])
