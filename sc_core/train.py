"""Training from the registry: ``python -m sc_core.train NAME`` (or ``all``) runs the family's own recipe.

Each model class supplies its recipe (:meth:`~sc_core.models.base.Model.train_deployed`: data, splits,
stages such as pretraining); this module writes ``checkpoints/<name>/`` (weights + card), then runs the
evaluation protocols and records their summary on the card.
"""

from __future__ import annotations

import argparse
import time

from sc_core import checkpoints, data, models, thresholds
from sc_core.evaluate import THRESHOLD_TASK, evaluate
from sc_core.models.base import Model


def card(model: Model, training_data: dict) -> dict:
    """The card of a deployed fit: version, data hash, training data, split, what the model reads."""
    notes = model.card_notes()
    return {
        "version": f"{model.name}-{time.strftime('%Y%m%dT%H%M')}",  # a retrain is a new version
        "data_hash": data.manifest()["data_hash"],
        "training_data": training_data,
        "split": "deployed weights use all training rows; metrics come from refits on the stored splits "
                 f"(benchmarks/results/{model.name}_splits.json)",
        "features": model.features + (f"; {notes}" if notes else ""),
    }


def train(name: str, seed: int = 0, progress: bool = True) -> Model:
    """Fit model `name` with its family's deployed recipe and write its checkpoint."""
    model, training_data = models.model_class(name).train_deployed(seed, progress=progress)
    model.save(card(model, training_data))
    return model


def record_metrics(name: str, result: dict) -> None:
    """Copy the evaluation summary (means ± std per protocol) onto the checkpoint card, and the decision threshold
    chosen on the leave-family-out folds when they ran (:mod:`sc_core.thresholds`)."""
    fields: dict = {"metrics": [{k: r[k] for k in ("dataset", "protocol", "task", "threshold_K", "n_test", "seeds")}
                                | {m: v["mean"] for m, v in r["metrics"].items()}
                                | {f"{m}_std": v["std"] for m, v in r["metrics"].items()} for r in result["results"]]}
    for r in result["results"]:
        if r["task"] == THRESHOLD_TASK:
            fields[thresholds.CARD_FIELD] = {
                "value": round(r["metrics"]["threshold"]["mean"], 4), "std": r["metrics"]["threshold"]["std"],
                "seeds": r["seeds"], "chosen_on": "the leave-one-family-out folds of the training data (SuperCon "
                "minus the Hosono 2018 list, plus COD garbage-in): the P cut of best Youden's J over the held-out "
                "families pooled, mean over seeds (benchmarks/results/<model>.json, supercon/leave_family_out)"}
    checkpoints.update_card(name, **fields)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sc_core.train")
    parser.add_argument("model", choices=models.registered() + ["all"],
                        help="a model, or all: every model with a committed checkpoint, in turn")
    parser.add_argument("--skip-evaluation", action="store_true", help="write the checkpoint only")
    args = parser.parse_args(argv)
    for name in models.available() if args.model == "all" else [args.model]:
        start = time.time()
        train(name)
        print(f"trained {name} in {time.time() - start:.0f} s → {checkpoints.CHECKPOINT_DIR / name}")
        if not args.skip_evaluation:
            record_metrics(name, evaluate(name))


if __name__ == "__main__":
    main()
