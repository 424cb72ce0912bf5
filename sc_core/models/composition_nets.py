"""Composition networks: Konno's reading-periodic-table CNN and Kaplan's dual-head FCNN and CNN.

* ``konno_cnn`` (Konno et al., PRB 103, 014509, 2021): the composition written into a 4 × 7 × 32 periodic
  table split into s, p, d and f blocks, read by convolutions; one head for P(superconductor) and one
  for Tc, trained jointly.
* ``kaplan_fcnn`` / ``kaplan_cnn`` (Kaplan et al. 2024): the composition as a 120-slot fraction vector,
  read by a fully connected backbone or as a 10 × 12 image by convolutions, with a Tc branch and a
  classification branch trained in two stages: backbone + Tc branch on every row (Tc = 0 for
  non-superconductors), then the classification branch on the frozen backbone.

Every model is an ensemble of ``n_members`` independently initialised networks, run as one batched
network: the mean is the prediction, the spread ``p_sc_std`` / ``tc_std_K``. The first layer of the
convolutional backbones is evaluated element by element (:class:`ElementAffine`), exactly and without
building the mostly empty image. A tenth of the training compositions is held out for early
stopping and for a temperature that calibrates P(superconductor); test data never enter training.
Weights are saved as plain arrays (no pickles).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Composition, Structure
from torch import nn
from tqdm import tqdm

from sc_core import checkpoints
from sc_core.calibration import apply_temperature, fit_temperature
from sc_core.chemistry import composition_key
from sc_core.data import load_elements
from sc_core.featurize.composition import (
    MAX_Z,
    TABLE_SHAPE,
    VECTOR_LENGTH,
    CompositionBatch,
    fraction_vector,
    periodic_table_tensor,
    to_batch,
)
from sc_core.models.base import FeatureModel
from sc_core.splits import group_split

TC_SCALE = 30.0  # K; regression targets are Tc / TC_SCALE
VALIDATION_FRACTION = 0.1


# -- networks ----------------------------------------------------------------------------------
# The members of an ensemble run as one network: convolutions hold the members as channel groups
# (n, members × channels, h, w) and fully connected layers as a leading axis (members, n, features).
# Every parameter is member-major along its first axis, so ``p.view(members, -1)[i]`` is member i's part.
class EnsembleLinear(nn.Module):
    """`members` independent linear layers: (n, a) or (members, n, a) → (members, n, b)."""

    def __init__(self, members: int, a: int, b: int):
        super().__init__()
        bound = a**-0.5  # nn.Linear's default initialisation, member by member
        self.weight = nn.Parameter(torch.empty(members, a, b).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(members, 1, b).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(x, self.weight) + self.bias


class MemberFeatures(nn.Module):
    """Channel groups to the member axis: (n, members × c, h, w) → (members, n, c·h·w)."""

    def __init__(self, members: int):
        super().__init__()
        self.members = members

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), self.members, -1).transpose(0, 1)


class ElementAffine(nn.Module):
    """An affine layer over an image that is linear in the atomic fractions, evaluated element by element.

    ``layer(image(c)) = b + Σ_i x_i (layer(image(e_i)) − b)`` for the pure-element images ``e_i``: exact,
    and it costs one gathered row per element present instead of a pass over a mostly empty image.
    The input is the (n, ≥ MAX_Z) fraction vector, column Z − 1.
    """

    def __init__(self, layer: nn.Module, element_images: torch.Tensor):
        super().__init__()
        self.layer = layer
        empty = torch.zeros_like(element_images[:1])
        self.register_buffer("images", torch.cat([empty, element_images]), persistent=False)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        out = self.layer(self.images)  # row 0: the empty image, i.e. the bias
        bias, table = out[0], (out[1:] - out[0]).flatten(1)
        rows, cols = v[:, :MAX_Z].nonzero(as_tuple=True)  # row-major, so rows ascend
        offsets = torch.searchsorted(rows, torch.arange(len(v)))
        h = nn.functional.embedding_bag(cols, table, offsets, mode="sum", per_sample_weights=v[rows, cols])
        return h.view(len(v), *bias.shape) + bias


def _pure_elements(encode) -> torch.Tensor:
    """The input image of each pure element Z = 1..MAX_Z."""
    batch = CompositionBatch(z=np.arange(1, MAX_Z + 1)[:, None], x=np.ones((MAX_Z, 1)))
    return torch.from_numpy(encode(batch))


def _mlp(members: int, *widths: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in pairwise(widths):
        layers += [EnsembleLinear(members, a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])  # no activation after the last layer


class DualHead(nn.Module):
    """A backbone producing member feature vectors, a Tc branch and a classification branch."""

    def __init__(self, backbone: nn.Module, members: int, width: int = 128):
        super().__init__()
        self.members = members
        self.backbone = backbone
        self.tc_branch = _mlp(members, width, 64, 1)
        self.cls_branch = _mlp(members, width, 64, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(members, n) classification logits and Tc / TC_SCALE."""
        h = self.backbone(x)
        return self.cls_branch(h).squeeze(-1), self.tc_branch(h).squeeze(-1)


def konno_backbone(members: int) -> nn.Module:
    """Strided convolutions over the (4, 7, 32) block-split periodic table, sized for CPU inference."""
    first = nn.Conv2d(TABLE_SHAPE[0], members * 8, 3, stride=2, padding=1)  # → 8 × 4 × 16 per member
    return nn.Sequential(
        ElementAffine(first, _pure_elements(periodic_table_tensor)), nn.ReLU(),
        nn.Conv2d(members * 8, members * 16, 3, stride=2, padding=1, groups=members), nn.ReLU(),  # → 16 × 2 × 8
        MemberFeatures(members), nn.Dropout(0.2), EnsembleLinear(members, 256, 128), nn.ReLU(),
    )


def kaplan_fcnn_backbone(members: int) -> nn.Module:
    """Fully connected layers over the 120-slot fraction vector."""
    return nn.Sequential(EnsembleLinear(members, VECTOR_LENGTH, 256), nn.ReLU(), nn.Dropout(0.2),
                         EnsembleLinear(members, 256, 128), nn.ReLU())


def kaplan_cnn_backbone(members: int) -> nn.Module:
    """Convolutions over the fraction vector read as a 10 × 12 image."""
    first = nn.Sequential(nn.Unflatten(1, (1, 10, 12)), nn.Conv2d(1, members * 16, 3, stride=2, padding=1))
    return nn.Sequential(
        ElementAffine(first, _pure_elements(fraction_vector)), nn.ReLU(),  # → 16 × 5 × 6 per member
        nn.Conv2d(members * 16, members * 16, 3, padding=1, groups=members), nn.ReLU(),  # → 16 × 5 × 6
        MemberFeatures(members), nn.Dropout(0.2), EnsembleLinear(members, 480, 128), nn.ReLU(),
    )


# -- estimator ---------------------------------------------------------------------------------
class CompositionNet(FeatureModel):
    """An ensemble of dual-head networks on the fraction vector; subclasses choose the backbone."""

    kind = "composition"
    two_stage = False
    reads: str  # what the backbone reads, for the checkpoint card

    def __init__(self, n_members: int = 5, epochs: int = 150, batch_size: int = 256, lr: float = 4e-3,
                 weight_decay: float = 1e-2, random_state: int = 0):
        self.params = {"n_members": n_members, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                       "weight_decay": weight_decay, "random_state": random_state}
        self.net: DualHead | None = None
        self.temperature = 1.0
        self.card: dict = {}
        self.history: list[dict] = []

    @staticmethod
    def backbone(members: int) -> nn.Module:
        raise NotImplementedError

    def network(self) -> DualHead:
        members = self.params["n_members"]
        return DualHead(self.backbone(members), members)

    # -- training ------------------------------------------------------------------------------
    def fit(self, inputs: list[Composition | Structure], tc: np.ndarray | None = None,
            labels: np.ndarray | None = None, progress: bool = False) -> CompositionNet:
        """Train the ensemble on compositions and Tc in K (0 = not a superconductor).

        `labels` overrides ``tc > 0`` as the classification target; without `tc` only the
        classification branch learns (Kaplan's Tc stage is then skipped).
        """
        comps = [s.composition if isinstance(s, Structure) else s for s in inputs]
        X = torch.from_numpy(self.featurize(comps))
        y = torch.as_tensor(np.asarray(labels if labels is not None else np.asarray(tc) > 0, dtype=np.float32))
        t = torch.as_tensor(np.zeros(len(comps)) if tc is None else np.asarray(tc) / TC_SCALE, dtype=torch.float32)
        seed = self.params["random_state"]
        val = torch.from_numpy(group_split(np.array([composition_key(c) for c in comps]), seed, VALIDATION_FRACTION))
        torch.manual_seed(seed)
        self.net, self.history = self.network(), []
        stages = (("tc", "cls") if self.two_stage else ("joint",)) if tc is not None else ("cls",)
        for stage in stages:
            self._train(stage, X, y, t, val, progress)
        self.net.eval()
        logits = self._member_outputs(X[val])[0].mean(axis=0)
        self.temperature = fit_temperature(logits, y[val].numpy())
        return self

    def _train(self, stage: str, X, y, t, val, progress: bool) -> None:
        """One training stage with AdamW and one-cycle decay; each member keeps its best validation epoch."""
        net, p, members = self.net, self.params, self.params["n_members"]
        frozen = stage == "cls" and self.two_stage  # Kaplan stage 2: the backbone stays as it is
        net.backbone.requires_grad_(not frozen)
        params = [q for q in net.parameters() if q.requires_grad]
        opt = torch.optim.AdamW(params, lr=p["lr"], weight_decay=p["weight_decay"])
        train_idx = torch.nonzero(~val).squeeze(1)
        steps = p["epochs"] * -(-len(train_idx) // p["batch_size"])
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=p["lr"], total_steps=steps)
        best = torch.full((members,), torch.inf)
        best_state = [q.detach().clone() for q in params]
        for epoch in tqdm(range(p["epochs"]), desc=f"{self.name} {stage}", leave=False, disable=not progress):
            net.train()
            if frozen:
                net.backbone.eval()
            for batch in train_idx[torch.randperm(len(train_idx))].split(p["batch_size"]):
                loss = self._loss(stage, X[batch], y[batch], t[batch]).sum()  # members learn independently
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
            net.eval()
            with torch.no_grad():
                val_loss = self._loss(stage, X[val], y[val], t[val])
                better = val_loss < best
                best = torch.where(better, val_loss, best)
                for q, kept in zip(params, best_state):
                    kept.view(members, -1)[better] = q.detach().view(members, -1)[better]
            self.history += [{"member": m, "stage": stage, "epoch": epoch, "val_loss": float(v)}
                             for m, v in enumerate(val_loss)]
        with torch.no_grad():
            for q, kept in zip(params, best_state):
                q.copy_(kept)
        net.requires_grad_(True)

    def _loss(self, stage: str, X, y, t) -> torch.Tensor:
        """Per-member loss, shape (members,)."""
        logit, tc = self.net(X)
        bce = nn.functional.binary_cross_entropy_with_logits(logit, y.expand_as(logit), reduction="none").mean(1)
        if stage == "cls":
            return bce
        if stage == "tc":  # Kaplan: Tc on every row, 0 for non-superconductors
            return ((tc - t) ** 2).mean(1)
        sc = y > 0  # joint: Tc learned on superconductors only
        return bce + (((tc[:, sc] - t[sc]) ** 2).mean(1) if sc.any() else 0.0 * tc.sum(1))

    # -- inference -----------------------------------------------------------------------------
    def _member_outputs(self, X: torch.Tensor, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """(members, n) logits and Tc in K."""
        with torch.inference_mode():
            outs = [self.net(part) for part in X.split(chunk)]
        logits = torch.cat([o[0] for o in outs], dim=1).numpy()
        tcs = torch.cat([o[1] for o in outs], dim=1).numpy() * TC_SCALE
        return logits, np.maximum(tcs, 0.0)

    def featurize(self, inputs: list[Composition | Structure]) -> np.ndarray:
        """The fraction vector of compositions (of structures, if given); the backbone lays it out."""
        return fraction_vector(to_batch([s.composition if isinstance(s, Structure) else s for s in inputs]))

    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        """Ensemble mean and spread of calibrated P(superconductor) and of Tc for an input array."""
        logits, tcs = self._member_outputs(torch.from_numpy(X))
        probs = apply_temperature(logits, self.temperature)
        return pd.DataFrame({"p_sc": probs.mean(0), "p_sc_std": probs.std(0), "tc_K": tcs.mean(0),
                             "tc_std_K": tcs.std(0)})

    def element_vectors(self) -> pd.DataFrame:
        """Backbone features of each pure element (Z = 1-103), averaged over the ensemble."""
        symbols = load_elements().set_index("Z").loc[1:MAX_Z, "symbol"]
        X = torch.from_numpy(fraction_vector(CompositionBatch(z=np.arange(1, MAX_Z + 1)[:, None],
                                                              x=np.ones((MAX_Z, 1)))))
        with torch.inference_mode():
            h = self.net.backbone(X).mean(0).numpy()
        return pd.DataFrame(h, index=symbols.to_numpy(), columns=[f"h{i}" for i in range(h.shape[1])])

    # -- persistence ---------------------------------------------------------------------------
    def save(self, card: dict, name: str | None = None) -> None:
        """Write the ensemble's weights as arrays plus a card to ``checkpoints/<name>``."""
        arrays = {k: v.numpy() for k, v in self.net.state_dict().items()}
        arrays["temperature"] = np.array(self.temperature)
        checkpoints.save(name or self.name, arrays, {**card, "params": self.params, "model": self.name})

    @classmethod
    def load(cls, name: str | None = None) -> CompositionNet:
        """Rebuild from a checkpoint after checking its hash."""
        arrays, card = checkpoints.load(name or cls.name)
        model = cls(**card["params"])
        model.net = model.network()
        model.net.load_state_dict({k: torch.from_numpy(arrays[k]) for k in model.net.state_dict()})
        model.net.eval()
        model.temperature = float(arrays["temperature"])
        model.card, model.version = card, card.get("version", card["created"])
        return model


class KonnoCNN(CompositionNet):
    """Konno et al.'s reading-periodic-table CNN, classification and Tc heads trained jointly."""

    name = "konno_cnn"
    reads = "the block-split periodic table (4 × 7 × 32) of the composition"
    backbone = staticmethod(konno_backbone)


class KaplanFCNN(CompositionNet):
    """Kaplan et al.'s fully connected dual-head network, trained in two stages."""

    name = "kaplan_fcnn"
    two_stage = True
    reads = "the 120-slot fraction vector of the composition"
    backbone = staticmethod(kaplan_fcnn_backbone)


class KaplanCNN(CompositionNet):
    """Kaplan et al.'s convolutional dual-head network on the 10 × 12 fraction image, two stages."""

    name = "kaplan_cnn"
    two_stage = True
    reads = "the 120-slot fraction vector of the composition as a 10 × 12 image"
    backbone = staticmethod(kaplan_cnn_backbone)
