"""S2SNet ablations on the S2S benchmark: ``python benchmarks/s2snet_ablation.py [--variants a,b] [--seeds 0,1,2,3,4]``.

For each variant and seed: a stratified 80/20 split and a split grouped by reduced formula; accuracy and
ROC-AUC on the test crystals, and on the test crystals whose reduced formula never occurs in training.
Pretrained variants pretrain on the training crystals plus the bundled 3DSC structures whose reduced
formula is not among the test crystals' (no test crystal is seen, even without its label). Writes
``benchmarks/results/s2snet_ablation.json`` (per-seed metrics and test ids) and prints mean ± std.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, roc_auc_score

from sc_core import data
from sc_core.evaluate import RESULTS_DIR
from sc_core.models.s2snet import S2SNet
from sc_core.splits import group_split, stratified_split

PRETRAIN_EPOCHS = 30
VARIANTS = {
    "base": {},
    "pretrained": {"pretrain_epochs": PRETRAIN_EPOCHS},
    "pretrained_frozen": {"pretrain_epochs": PRETRAIN_EPOCHS, "freeze": True},
    "no_lattice": {"lattice": False},
    "centroid_only": {"position": "centroid"},
    "bonds_only": {"position": "bonds"},
    "layers_2": {"layers": 2},
    "layers_4": {"layers": 4},
}


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    both = len(np.unique(y)) == 2
    return {"accuracy": accuracy_score(y, p >= 0.5), "roc_auc": roc_auc_score(y, p) if both else float("nan"),
            "n": int(len(y))}


def run(variants: list[str], seeds: list[int], limit: int | None) -> list[dict]:
    table = data.load_s2s()
    if limit:
        table = table.sample(n=min(limit, len(table)), random_state=0).reset_index(drop=True)
    structures = [data.s2s_structures()[i] for i in table["id"]]
    labels = table["label"].to_numpy().astype(int)
    formulas = table["reduced_formula"].to_numpy()
    dsc = data.load_3dsc()
    if limit:
        dsc = dsc.sample(n=min(limit, len(dsc)), random_state=0)
    rows = []
    for variant in variants:
        for split in ("stratified", "grouped"):
            for seed in seeds:
                test = stratified_split(labels, seed) if split == "stratified" else group_split(formulas, seed)
                train = [s for s, t in zip(structures, test) if not t]
                params = {**VARIANTS[variant], "random_state": seed}
                corpus = None
                if params.get("pretrain_epochs"):
                    unseen = dsc[~dsc["reduced_formula"].isin(set(formulas[test]))]
                    corpus = train + [data.structure_3dsc(name) for name in unseen["cif_name"]]
                start = time.time()
                model = S2SNet(**params)
                masked = {}
                if corpus is not None:  # masked-atom accuracy on the test crystals, before fine-tuning moves the layers
                    model.pretrain(corpus)
                    masked["masked_accuracy"] = model.masked_accuracy([s for s, t in zip(structures, test) if t])
                model.fit(train, labels=labels[~test])
                p = model.predict([s for s, t in zip(structures, test) if t])["p_sc"].to_numpy()
                novel = ~np.isin(formulas[test], formulas[~test])
                row = {"variant": variant, "split": split, "seed": seed, "fit_s": round(time.time() - start, 1),
                       **{f"test_{k}": v for k, v in _scores(labels[test], p).items()},
                       **{f"unseen_formula_{k}": v for k, v in _scores(labels[test][novel], p[novel]).items()},
                       **masked, "test_ids": table.loc[test, "id"].tolist()}
                rows.append(row)
                print({k: v for k, v in row.items() if k != "test_ids"}, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/s2snet_ablation.py")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated among {', '.join(VARIANTS)}")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--limit", type=int, help="subsample S2S and 3DSC (quick checks only)")
    args = parser.parse_args()
    rows = run(args.variants.split(","), [int(s) for s in args.seeds.split(",")], args.limit)
    if not args.limit:
        (RESULTS_DIR / "s2snet_ablation.json").write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    frame = pd.DataFrame(rows).drop(columns="test_ids")
    metrics = [c for c in frame if c.endswith(("accuracy", "roc_auc"))]
    summary = frame.groupby(["variant", "split"])[metrics].agg(["mean", "std"])
    print(summary.round(4).to_string())


if __name__ == "__main__":
    main()
