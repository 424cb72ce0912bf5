"""Deep ensembles run as one network, and their training loop (shared by every network family).

The members of an ensemble are held side by side: convolutions as channel groups (n, members × channels,
h, w), everything else on a leading member axis (members, n, features). Every parameter is member-major
along its first axis, so ``p.view(members, -1)[i]`` is member i's part, and no operation mixes members:
training them together is training them independently, in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Composition
from torch import nn
from tqdm import tqdm

from sc_core import checkpoints
from sc_core.calibration import apply_temperature
from sc_core.chemistry import composition_key
from sc_core.models.base import Config
from sc_core.splits import group_split


@dataclass(frozen=True)
class NetworkConfig(Config):
    """What every ensemble network shares: the ensemble, its schedule, the heads and the held-out tenth."""

    n_members: int = 5
    epochs: int = 150
    batch_size: int = 256
    lr: float = 4e-3
    weight_decay: float = 1e-2
    tc_scale: float = 30.0  # K; networks regress Tc / tc_scale
    head_width: int = 64  # hidden width of the Tc and classification branches
    validation_fraction: float = 0.1  # of the training compositions, for early stopping and the temperature


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


BackboneT = TypeVar("BackboneT", bound=nn.Module)


class DualHead(nn.Module, Generic[BackboneT]):
    """A backbone producing (members, n, width) features, a Tc branch and a classification branch."""

    def __init__(self, backbone: BackboneT, members: int, width: int, head_width: int):
        super().__init__()
        self.members = members
        self.backbone: BackboneT = backbone
        self.tc_branch = ensemble_mlp(members, width, head_width, 1)
        self.cls_branch = ensemble_mlp(members, width, head_width, 1)

    def forward(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        """(members, n) classification logits and scaled Tc."""
        h = self.backbone(x)
        return self.cls_branch(h).squeeze(-1), self.tc_branch(h).squeeze(-1)


def validation_mask(compositions: list[Composition], config: NetworkConfig) -> np.ndarray:
    """Boolean mask of the share of the training rows held out for early stopping and calibration.

    Whole compositions go one way (duplicates and polymorphs never straddle).
    """
    keys = np.array([composition_key(c) for c in compositions])
    return group_split(keys, config.random_state, config.validation_fraction)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a fit on torch's random stream seeded with `seed`, leaving the caller's stream as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield


class Objective(Protocol):
    """What :func:`train_members` needs from a model: an epoch of shuffled batches and per-member losses."""

    @property
    def n_batches(self) -> int:
        """Batches per epoch."""

    def batches(self) -> Iterable[Any]:
        """One epoch's batches, in a fresh random order."""

    def loss(self, batch: Any) -> torch.Tensor:
        """(members,) training loss of one batch."""

    def val_loss(self) -> torch.Tensor:
        """(members,) loss on the held-out rows."""


def train_members(net: nn.Module, params: list[nn.Parameter], objective: Objective, config: NetworkConfig,
                  epochs: int | None = None, frozen: nn.Module | None = None, desc: str = "",
                  progress: bool = False) -> list[torch.Tensor]:
    """AdamW with one-cycle decay on `params`; each member keeps the parameters of its best validation epoch.

    `net` has a ``members`` count; it is put in train mode for each epoch and in eval mode to validate.
    The schedule (``lr``, ``weight_decay``, ``epochs`` unless given) comes from `config`. `frozen`, if given,
    stays in eval mode (no dropout) while the rest trains. Returns the validation losses of every epoch.
    """
    members, epochs = cast(int, net.members), config.epochs if epochs is None else epochs
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=epochs * objective.n_batches)
    best = torch.full((members,), torch.inf)
    kept = [q.detach().clone() for q in params]
    history = []
    for _ in tqdm(range(epochs), desc=desc, leave=False, disable=not progress):
        net.train()
        if frozen is not None:
            frozen.eval()
        for batch in objective.batches():
            opt.zero_grad()
            objective.loss(batch).sum().backward()  # members share no parameter: their gradients stay apart
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            losses = objective.val_loss()
            better = losses < best
            best = torch.where(better, losses, best)
            for q, k in zip(params, kept):
                k.view(members, -1)[better] = q.detach().view(members, -1)[better]
        history.append(losses)
    with torch.no_grad():
        for q, k in zip(params, kept):
            q.copy_(k)
    return history


def summarise(logits: np.ndarray, tc_scaled: np.ndarray, temperature: float, tc_scale: float) -> pd.DataFrame:
    """Ensemble mean and spread of calibrated P(superconductor) and of Tc in K (clipped at 0), from (members, n)
    outputs."""
    probs = apply_temperature(logits, temperature)
    tc_K = np.maximum(tc_scaled * tc_scale, 0.0)
    return pd.DataFrame({"p_sc": probs.mean(0), "p_sc_std": probs.std(0), "tc_K": tc_K.mean(0),
                         "tc_std_K": tc_K.std(0)})


class NetworkModel:
    """Persistence of an ensemble network model: weights as plain arrays, the temperature, the config on the card.

    Mixed into a :class:`~sc_core.models.base.Model` whose ``network()`` builds the untrained :class:`DualHead`.
    """

    name: ClassVar[str]
    config: NetworkConfig
    params: dict
    net: DualHead[Any]
    temperature: float
    card: dict
    version: str

    def network(self) -> DualHead[Any]:
        raise NotImplementedError

    def card_notes(self) -> str:
        return f"temperature {self.temperature:.3f} fitted on the held-out tenth"

    def save(self, card: dict, name: str | None = None) -> None:
        """Write the ensemble's weights as arrays plus a card to ``checkpoints/<name>``."""
        arrays = {k: v.numpy() for k, v in self.net.state_dict().items()}
        arrays["temperature"] = np.array(self.temperature)
        checkpoints.save(name or self.name, arrays, {**card, "params": self.params, "model": self.name})

    @classmethod
    def load(cls, name: str | None = None):
        """Rebuild from a checkpoint after checking its hash and every array's shape."""
        model = cls(**checkpoints.read_card(name or cls.name)["params"])
        model.net = model.network()
        shapes = {k: tuple(v.shape) for k, v in model.net.state_dict().items()} | {"temperature": ()}
        arrays, card = checkpoints.load(name or cls.name, shapes=shapes)
        model.net.load_state_dict({k: torch.from_numpy(arrays[k]) for k in model.net.state_dict()})
        model.net.eval()
        model.temperature = float(arrays["temperature"])
        model.card, model.version = card, card.get("version", card["created"])
        return model
