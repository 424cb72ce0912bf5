"""S2SNet ablations on the S2S benchmark: ``python benchmarks/s2snet_ablation.py [--variants a,b] [--seeds 0,1,2,3,4]``.

For each variant and seed: a stratified 80/20 split and (unless ``--splits stratified``) a split grouped by
reduced formula; accuracy and ROC-AUC on the test crystals, and on the test crystals whose reduced formula
never occurs in training. Pretrained variants fine-tune from ``checkpoints/s2snet_pretrained`` (masked
atoms on the 3DSC structures whose reduced formula is not in S2S, so no test crystal was seen, even
without its label) and report the masked-atom accuracy on the test crystals before fine-tuning. Adds its
rows to ``benchmarks/results/s2snet_ablation.json`` (per-seed metrics and test ids; a rerun replaces the rows
of the same variant, split and seed) and prints mean ± std (ddof = 0, as `sc evaluate`) over every stored row.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, roc_auc_score

from sc_core import data
from sc_core.evaluate import RESULTS_DIR
from sc_core.models.s2snet import DEPLOYED, PRETRAINED, S2SNet
from sc_core.splits import group_split, stratified_split, unseen_in_training

VARIANTS = {  # changes to the deployed recipe (DEPLOYED), trained from scratch unless pretrained
    "base": {},
    "no_composition": {"composition": False, "whole_shells": False},  # the paper's inputs only
    "pretrained": {"pretrained": PRETRAINED},
    "pretrained_frozen": {"pretrained": PRETRAINED, "freeze": True},
    "descriptors": {"descriptors": True},
    "no_lattice": {"lattice": False},
    "centroid_only": {"position": "centroid"},
    "bonds_only": {"position": "bonds"},
    "invariant": {"position": "bonds", "lattice_inputs": "invariants"},  # every input fixed by the crystal
    "layers_2": {"layers": 2},
    "layers_4": {"layers": 4},
}


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    both = len(np.unique(y)) == 2
    return {"accuracy": accuracy_score(y, p >= 0.5), "roc_auc": roc_auc_score(y, p) if both else float("nan"),
            "n": int(len(y))}


def run(variants: list[str], splits: list[str], seeds: list[int], limit: int | None) -> list[dict]:
    table = data.load_s2s()
    if limit:
        table = table.sample(n=min(limit, len(table)), random_state=0).reset_index(drop=True)
    structures = [data.s2s_structures()[i] for i in table["id"]]
    labels = table["label"].to_numpy().astype(int)
    formulas = table["reduced_formula"].to_numpy()
    rows = []
    for variant in variants:
        for split in splits:
            for seed in seeds:
                test = stratified_split(labels, seed) if split == "stratified" else group_split(formulas, seed)
                train = [s for s, t in zip(structures, test) if not t]
                params = {**DEPLOYED, **VARIANTS[variant], "random_state": seed}
                start = time.time()
                model = S2SNet(**params)
                masked = {}
                if params.get("pretrained"):  # masked-atom accuracy on the test crystals, before fine-tuning
                    model.start_from(params["pretrained"])
                    masked["masked_accuracy"] = model.masked_accuracy([s for s, t in zip(structures, test) if t])
                model.fit(train, labels=labels[~test])
                p = model.predict([s for s, t in zip(structures, test) if t])["p_sc"].to_numpy()
                novel = unseen_in_training(formulas, test)
                row = {"variant": variant, "params": model.params, "split": split, "seed": seed,
                       "fit_s": round(time.time() - start, 1),
                       **{f"test_{k}": v for k, v in _scores(labels[test], p).items()},
                       **{f"unseen_formula_{k}": v for k, v in _scores(labels[test][novel], p[novel]).items()},
                       **masked, "test_ids": table.loc[test, "id"].tolist()}
                rows.append(row)
                print({k: v for k, v in row.items() if k != "test_ids"}, flush=True)
    return rows


def population_std(values: pd.Series) -> float:
    """The std over seeds as `sc evaluate` reports it (ddof = 0)."""
    return values.std(ddof=0)


def merge_stored(rows: list[dict], path: Path, argv: list[str]) -> list[dict]:
    """Write `rows` with the stored rows of other (variant, split, seed) triples; return all of them."""
    stored = json.loads(path.read_text()) if path.exists() else {"rows": [], "runs": []}
    new = {(r["variant"], r["split"], r["seed"]) for r in rows}
    kept = [r for r in stored["rows"] if (r["variant"], r["split"], r["seed"]) not in new]
    runs = stored.get("runs", [stored["argv"]] if "argv" in stored else []) + [argv]
    path.write_text(json.dumps({"rows": kept + rows, "runs": runs}, indent=1) + "\n")
    return kept + rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/s2snet_ablation.py")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated among {', '.join(VARIANTS)}")
    parser.add_argument("--splits", default="stratified,grouped", help="stratified and/or grouped")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--limit", type=int, help="subsample S2S and 3DSC (quick checks only)")
    args = parser.parse_args()
    rows = run(args.variants.split(","), args.splits.split(","), [int(s) for s in args.seeds.split(",")], args.limit)
    if not args.limit:
        rows = merge_stored(rows, RESULTS_DIR / "s2snet_ablation.json", sys.argv[1:])
    frame = pd.DataFrame(rows).drop(columns=["test_ids", "params"], errors="ignore")
    metrics = [c for c in frame if c.endswith(("accuracy", "roc_auc"))]
    summary = frame.groupby(["variant", "split"])[metrics].agg(["mean", population_std])
    print(summary.round(4).to_string())


if __name__ == "__main__":
    main()
