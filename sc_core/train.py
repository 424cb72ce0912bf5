"""Training entry points, one per model family: ``python -m sc_core.train baseline``.

Each writes ``checkpoints/<name>/`` (weights + card), then runs the evaluation protocols and records
their summary on the card.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sc_core import checkpoints, data
from sc_core.evaluate import N_GARBAGE, evaluate
from sc_core.io import parse_formula
from sc_core.models.baseline import MagpieForest


def train_baseline(seed: int = 0) -> MagpieForest:
    """Forests on all SuperCon rows (minus overlaps with the Hosono 2018 list) plus COD garbage-in."""
    hosono_keys = set(data.load_hosono(2018)["comp_key"])
    table = data.load_supercon()
    table = table[~table["comp_key"].isin(hosono_keys)]
    garbage = data.garbage_in(N_GARBAGE, seed)
    comps = [parse_formula(f) for f in list(table["formula"]) + list(garbage["formula"])]
    tc = np.concatenate([table["tc"].to_numpy(), garbage["tc"].to_numpy()])
    model = MagpieForest(random_state=seed).fit(comps, tc=tc)
    model.save({
        "version": f"baseline-{time.strftime('%Y%m%d')}",
        "data_hash": data.manifest()["data_hash"],
        "training_data": {
            "supercon_rows": int(len(table)), "garbage_in_rows": int(len(garbage)), "seed": seed,
            "excluded": "SuperCon rows whose composition is on the Hosono 2018 list",
        },
        "split": "deployed weights use all training rows; metrics come from refits on the stored splits "
                 "(benchmarks/results/baseline_splits.json)",
        "features": "Magpie-style composition descriptors (138), sc_core.featurize.composition",
    })
    return model


TRAINERS = {"baseline": train_baseline}


def record_metrics(name: str, result: dict) -> None:
    """Copy the evaluation summary (means ± std per protocol) onto the checkpoint card."""
    checkpoints.update_card(name, metrics=[{k: r[k] for k in ("dataset", "protocol", "task", "threshold_K", "n_test")}
                       | {m: v["mean"] for m, v in r["metrics"].items()}
                       | {f"{m}_std": v["std"] for m, v in r["metrics"].items()} for r in result["results"]])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sc_core.train")
    parser.add_argument("model", choices=sorted(TRAINERS))
    parser.add_argument("--skip-evaluation", action="store_true", help="write the checkpoint only")
    args = parser.parse_args(argv)
    start = time.time()
    TRAINERS[args.model]()
    print(f"trained {args.model} in {time.time() - start:.0f} s → {checkpoints.CHECKPOINT_DIR / args.model}")
    if not args.skip_evaluation:
        record_metrics(args.model, evaluate(args.model))


if __name__ == "__main__":
    main()
