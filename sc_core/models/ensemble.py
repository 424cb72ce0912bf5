"""Deep ensembles run as one network, and their training loop (shared by every network family).

The members of an ensemble are held side by side: convolutions as channel groups (n, members × channels,
h, w), everything else on a leading member axis (members, n, features). Every parameter is member-major
along its first axis, so ``p.view(members, -1)[i]`` is member i's part, and no operation mixes members:
training them together is training them independently, in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import pairwise

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Composition
from torch import nn
from tqdm import tqdm

from sc_core import checkpoints
from sc_core.calibration import apply_temperature
from sc_core.chemistry import composition_key
from sc_core.splits import group_split

TC_SCALE = 30.0  # K; networks regress Tc / TC_SCALE
VALIDATION_FRACTION = 0.1


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


def ensemble_mlp(members: int, *widths: int) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for a, b in pairwise(widths):
        layers += [EnsembleLinear(members, a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class DualHead(nn.Module):
    """A backbone producing (members, n, width) features, a Tc branch and a classification branch."""

    def __init__(self, backbone: nn.Module, members: int, width: int = 128):
        super().__init__()
        self.members = members
        self.backbone = backbone
        self.tc_branch = ensemble_mlp(members, width, 64, 1)
        self.cls_branch = ensemble_mlp(members, width, 64, 1)

    def forward(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        """(members, n) classification logits and scaled Tc."""
        h = self.backbone(x)
        return self.cls_branch(h).squeeze(-1), self.tc_branch(h).squeeze(-1)


def validation_mask(compositions: list[Composition], seed: int) -> np.ndarray:
    """Boolean mask of the tenth of the training rows held out for early stopping and calibration.

    Whole compositions go one way (duplicates and polymorphs never straddle).
    """
    return group_split(np.array([composition_key(c) for c in compositions]), seed, VALIDATION_FRACTION)


def train_members(net: nn.Module, params: list[nn.Parameter], loss: Callable[[object], torch.Tensor],
                  batches: Callable[[], Iterable], n_batches: int, val_loss: Callable[[], torch.Tensor],
                  epochs: int, lr: float, weight_decay: float, frozen: nn.Module | None = None,
                  desc: str = "", progress: bool = False) -> list[torch.Tensor]:
    """AdamW with one-cycle decay on `params`; each member keeps the parameters of its best validation epoch.

    `net` has a ``members`` count; it is put in train mode for each epoch and in eval mode to validate.

    `loss(batch)` and `val_loss()` return one loss per member; `batches()` yields one epoch's shuffled
    batches (`n_batches` of them). `frozen`, if given, stays in eval mode (no dropout) while the rest
    trains. Returns the validation losses of every epoch.
    """
    members = net.members
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * n_batches)
    best = torch.full((members,), torch.inf)
    kept = [q.detach().clone() for q in params]
    history = []
    for _ in tqdm(range(epochs), desc=desc, leave=False, disable=not progress):
        net.train()
        if frozen is not None:
            frozen.eval()
        for batch in batches():
            opt.zero_grad()
            loss(batch).sum().backward()  # members share no parameter: their gradients stay apart
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            losses = val_loss()
            better = losses < best
            best = torch.where(better, losses, best)
            for q, k in zip(params, kept):
                k.view(members, -1)[better] = q.detach().view(members, -1)[better]
        history.append(losses)
    with torch.no_grad():
        for q, k in zip(params, kept):
            q.copy_(k)
    return history


def summarise(logits: np.ndarray, tc_scaled: np.ndarray, temperature: float) -> pd.DataFrame:
    """Ensemble mean and spread of calibrated P(superconductor) and of Tc in K (clipped at 0) from (members, n) outputs."""
    probs = apply_temperature(logits, temperature)
    tc_K = np.maximum(tc_scaled * TC_SCALE, 0.0)
    return pd.DataFrame({"p_sc": probs.mean(0), "p_sc_std": probs.std(0), "tc_K": tc_K.mean(0),
                         "tc_std_K": tc_K.std(0)})


class NetworkCheckpoint:
    """Persistence of an ensemble network model: weights as plain arrays, the temperature, params on the card."""

    name: str
    params: dict
    net: DualHead | None
    temperature: float
    card: dict
    version: str

    def network(self) -> DualHead:
        raise NotImplementedError

    def save(self, card: dict, name: str | None = None) -> None:
        """Write the ensemble's weights as arrays plus a card to ``checkpoints/<name>``."""
        arrays = {k: v.numpy() for k, v in self.net.state_dict().items()}
        arrays["temperature"] = np.array(self.temperature)
        checkpoints.save(name or self.name, arrays, {**card, "params": self.params, "model": self.name})

    @classmethod
    def load(cls, name: str | None = None):
        """Rebuild from a checkpoint after checking its hash."""
        arrays, card = checkpoints.load(name or cls.name)
        model = cls(**card["params"])
        model.net = model.network()
        model.net.load_state_dict({k: torch.from_numpy(arrays[k]) for k in model.net.state_dict()})
        model.net.eval()
        model.temperature = float(arrays["temperature"])
        model.card, model.version = card, card.get("version", card["created"])
        return model
