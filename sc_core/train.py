"""Training entry points, one per model family: ``python -m sc_core.train baseline``.

Each writes ``checkpoints/<name>/`` (weights + card), then runs the evaluation protocols and records
their summary on the card.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np

from sc_core import checkpoints, data
from sc_core.evaluate import N_GARBAGE, evaluate
from sc_core.io import parse_formula
from sc_core.models import model_class
from sc_core.models.baseline import MagpieForest
from sc_core.models.composition_nets import CompositionNet
from sc_core.models.crystal_graph import CrystalGraphNet
from sc_core.models.s2snet import S2SNet


def deployed_training_set(seed: int = 0) -> tuple[list, np.ndarray, dict]:
    """All SuperCon rows (minus overlaps with the Hosono 2018 list) plus COD garbage-in, with a description."""
    hosono_keys = set(data.load_hosono(2018)["comp_key"])
    table = data.load_supercon()
    table = table[~table["comp_key"].isin(hosono_keys)]
    garbage = data.garbage_in(N_GARBAGE, seed)
    comps = [parse_formula(f) for f in list(table["formula"]) + list(garbage["formula"])]
    tc = np.concatenate([table["tc"].to_numpy(), garbage["tc"].to_numpy()])
    described = {"supercon_rows": int(len(table)), "garbage_in_rows": int(len(garbage)), "seed": seed,
                 "excluded": "SuperCon rows whose composition is on the Hosono 2018 list"}
    return comps, tc, described


def _card(name: str, training_data: dict, features: str) -> dict:
    return {
        "version": f"{name}-{time.strftime('%Y%m%dT%H%M')}",  # a retrain is a new version
        "data_hash": data.manifest()["data_hash"],
        "training_data": training_data,
        "split": "deployed weights use all training rows; metrics come from refits on the stored splits "
                 f"(benchmarks/results/{name}_splits.json)",
        "features": features,
    }


def train_baseline(seed: int = 0) -> MagpieForest:
    """Magpie forests on the deployed training set."""
    comps, tc, described = deployed_training_set(seed)
    model = MagpieForest(random_state=seed).fit(comps, tc=tc)
    model.save(_card("baseline", described, "Magpie-style composition descriptors (138), "
                                            "sc_core.featurize.composition"))
    return model


def train_composition_net(name: str, seed: int = 0) -> CompositionNet:
    """One of the composition networks (ensemble) on the deployed training set."""
    comps, tc, described = deployed_training_set(seed)
    model = model_class(name)(random_state=seed).fit(comps, tc=tc, progress=True)
    model.save(_card(name, described, f"{model.reads} (sc_core.featurize.composition); "
                                      f"temperature {model.temperature:.3f} fitted on the held-out tenth"))
    return model


def train_crystal_graph(seed: int = 0) -> CrystalGraphNet:
    """The crystal-graph ensemble on every bundled 3DSC structure."""
    table = data.load_3dsc()
    structures = data.structures_3dsc(table["cif_name"])
    model = CrystalGraphNet(random_state=seed).fit(structures, tc=table["tc"].to_numpy(), progress=True)
    model.save(_card("crystal_graph", {"3dsc_structures": int(len(table)), "seed": seed},
                     "crystal graphs: 12 nearest neighbours within 8 Å, occupancy-weighted element vectors "
                     f"(sc_core.featurize.graph); temperature {model.temperature:.3f} fitted on the held-out tenth"))
    return model


S2SNET_PRETRAINED = "s2snet_pretrained"
# chosen on S2S validation data (benchmarks/validation.py); the pretrained layers were trained on 12-neighbour
# graphs and fine-tune well on whole shells
S2SNET_RECIPE = {"composition": True, "whole_shells": True}


def pretraining_corpus() -> list[str]:
    """CIF names of the 3DSC structures whose reduced formula is not among the S2S crystals: S2S evaluations
    that start from the pretrained checkpoint never saw a test crystal, even unlabelled."""
    s2s, dsc = data.load_s2s(), data.load_3dsc()
    return dsc.loc[~dsc["reduced_formula"].isin(set(s2s["reduced_formula"])), "cif_name"].tolist()


def pretrain_s2snet(seed: int = 0, epochs: int = 30) -> S2SNet:
    """Masked-atom pretraining of S2SNet's embeddings and attention layers → ``checkpoints/s2snet_pretrained``."""
    corpus = data.structures_3dsc(pretraining_corpus())
    model = S2SNet(pretrain_epochs=epochs, random_state=seed).pretrain(corpus, progress=True)
    model.save_pretrained({"version": f"{S2SNET_PRETRAINED}-{time.strftime('%Y%m%d')}",
                           "data_hash": data.manifest()["data_hash"],
                           "training_data": {"3dsc_structures": len(corpus), "seed": seed,
                                             "excluded": "3DSC structures whose reduced formula is in S2S"},
                           "split": "a tenth of the compositions held out for early stopping and the masked-atom "
                                    "accuracy"}, S2SNET_PRETRAINED)
    return model


def train_s2snet(seed: int = 0) -> S2SNet:
    """S2SNet: pretraining (:func:`pretrain_s2snet`), then :func:`finetune_s2snet`."""
    pretrain_s2snet(seed)
    return finetune_s2snet(seed)


def finetune_s2snet(seed: int = 0) -> S2SNet:
    """Classification on the S2S labels and Tc on 3DSC, trained jointly from the pretrained layers."""
    s2s, dsc = data.load_s2s(), data.load_3dsc()
    structures = [data.s2s_structures()[i] for i in s2s["id"]] + data.structures_3dsc(dsc["cif_name"])
    # S2S superconductors have no Tc: NaN marks "superconductor, Tc unknown"
    tc = np.concatenate([np.where(s2s["label"].to_numpy() == 1, np.nan, 0.0), dsc["tc"].to_numpy()])
    model = S2SNet(pretrained=S2SNET_PRETRAINED, random_state=seed, **S2SNET_RECIPE).fit(structures, tc=tc,
                                                                                         progress=True)
    model.save(_card("s2snet", {"s2s_crystals": int(len(s2s)), "3dsc_structures": int(len(dsc)), "seed": seed,
                                "pretraining": f"checkpoints/{S2SNET_PRETRAINED}: masked-atom accuracy "
                                               f"{model.masked_val_accuracy:.3f} on its held-out tenth"},
                     f"sites: occupancy-weighted element embeddings, {model.params['k_neighbors']} nearest neighbours "
                     "and their whole shells (sc_core.featurize.graph); cell: Set2Set, lattice parameters and the "
                     f"embedded Magpie descriptors; temperature {model.temperature:.3f} fitted on the held-out tenth"))
    return model


TRAINERS = {"baseline": train_baseline, "crystal_graph": train_crystal_graph, "s2snet": train_s2snet} | {
    name: partial(train_composition_net, name) for name in ("konno_cnn", "kaplan_fcnn", "kaplan_cnn")}


def record_metrics(name: str, result: dict) -> None:
    """Copy the evaluation summary (means ± std per protocol) onto the checkpoint card."""
    checkpoints.update_card(name, metrics=[{k: r[k] for k in ("dataset", "protocol", "task", "threshold_K", "n_test")}
                       | {m: v["mean"] for m, v in r["metrics"].items()}
                       | {f"{m}_std": v["std"] for m, v in r["metrics"].items()} for r in result["results"]])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sc_core.train")
    parser.add_argument("model", choices=sorted(TRAINERS) + ["all"],
                        help="a model, or all: every model with a committed checkpoint, in turn")
    parser.add_argument("--skip-evaluation", action="store_true", help="write the checkpoint only")
    args = parser.parse_args(argv)
    for name in [n for n in sorted(TRAINERS) if checkpoints.exists(n)] if args.model == "all" else [args.model]:
        start = time.time()
        TRAINERS[name]()
        print(f"trained {name} in {time.time() - start:.0f} s → {checkpoints.CHECKPOINT_DIR / name}")
        if not args.skip_evaluation:
            record_metrics(name, evaluate(name))


if __name__ == "__main__":
    main()
