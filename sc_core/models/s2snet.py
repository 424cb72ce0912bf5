"""S2SNet (Liu et al. 2022): attention over the atoms of a crystal, masked-atom pretraining, class activation maps.

A site is the occupancy-weighted sum of learned element embeddings (partial occupancy), plus its position:
the paper's distance to the centroid of the cell on Gaussians, and/or the lengths of its bonds to its k
nearest periodic neighbours as a bias inside the attention. Pre-norm attention layers let every site attend
to itself and its neighbours; Set2Set reads the cell out; the six lattice parameters are added; a
classification branch and a Tc branch follow. Beyond the paper, the composition's Magpie descriptors can be
embedded and added to the cell vector (``composition``), and neighbour lists can keep whole shells
(``whole_shells``) so that symmetry-equivalent sites see equal neighbourhoods. Pretraining predicts the element
of masked sites (15%, at least 2 per crystal). The model is a deep ensemble run as one network
(:mod:`sc_core.models.ensemble`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Structure
from torch import nn
from torch.nn import functional as F

from sc_core import checkpoints
from sc_core.data import load_elements
from sc_core.featurize.composition import MAX_Z
from sc_core.featurize.graph import CrystalGraph, crystal_graph, element_vectors
from sc_core.models.ensemble import TC_SCALE, DualHead, EnsembleLinear, train_members, validation_mask
from sc_core.models.graph_batch import (CompositionChannel, GraphBatch, GraphModel, collate, gaussians,
                                        segment_softmax)

N_GAUSSIANS = 64
MASK_FRACTION, MIN_MASKED = 0.15, 2
ARCHITECTURE = ("n_members", "width", "layers", "k_neighbors", "position", "lattice", "descriptors")
CELL_SCALE = torch.tensor([10.0, 10.0, 10.0, 90.0, 90.0, 90.0])  # Å and degrees to order one


class SiteEmbedding(nn.Module):
    """Occupancy-weighted element embeddings plus the centroid distance; masked sites get a learned vector.

    With `descriptors`, an element's embedding is a learned vector plus a learned projection of its
    descriptors (group, period, block, six properties), so elements rare in training start from chemistry.
    """

    def __init__(self, members: int, width: int, centroid: bool, descriptors: bool):
        super().__init__()
        self.elements = nn.Parameter(torch.randn(members, MAX_Z + 1, width) * width**-0.5)
        self.register_buffer("pretrained", torch.zeros(members, MAX_Z + 1, width))  # kept for the embeddings page
        self.register_buffer("descriptors", torch.tensor(element_vectors()) if descriptors else None)
        self.project = EnsembleLinear(members, element_vectors().shape[1], width) if descriptors else None
        self.mask = nn.Parameter(torch.zeros(members, 1, width))
        self.position = EnsembleLinear(members, N_GAUSSIANS, width) if centroid else None

    def table(self) -> torch.Tensor:
        """(members, MAX_Z + 1, width) embedding of every element."""
        if self.project is None:
            return self.elements
        return self.elements + self.project(self.descriptors.expand(len(self.elements), -1, -1))

    def forward(self, batch: GraphBatch, masked: torch.Tensor | None = None) -> torch.Tensor:
        occupancy, centroid = batch.nodes[:, : MAX_Z + 1], batch.nodes[:, MAX_Z + 1]
        h = torch.matmul(occupancy, self.table())  # (members, n_nodes, width)
        if masked is not None:
            h = torch.where(masked[:, None], self.mask, h)
        if self.position is not None:
            h = h + self.position(gaussians(centroid, N_GAUSSIANS))
        return h


class NeighbourAttention(nn.Module):
    """Each site attends to itself and its neighbours; bond lengths bias the scores (pre-norm, residual, MLP)."""

    def __init__(self, members: int, width: int, bonds: bool):
        super().__init__()
        self.qkv = EnsembleLinear(members, width, 3 * width)
        self.bond_bias = EnsembleLinear(members, N_GAUSSIANS, 1) if bonds else None
        self.proj = EnsembleLinear(members, width, width)
        self.mlp = nn.Sequential(EnsembleLinear(members, width, 2 * width), nn.GELU(),
                                 EnsembleLinear(members, 2 * width, width))

    def forward(self, h: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, bonds: torch.Tensor | None) -> torch.Tensor:
        q, k, v = self.qkv(F.layer_norm(h, h.shape[-1:])).chunk(3, dim=2)
        scores = (q[:, src] * k[:, dst]).sum(-1) / math.sqrt(q.shape[-1])  # (members, edges)
        if self.bond_bias is not None:
            scores = scores + self.bond_bias(bonds).squeeze(-1)
        weights = segment_softmax(scores, src, h.shape[1])
        h = h + self.proj(torch.zeros_like(h).index_add_(1, src, weights[..., None] * v[:, dst]))
        return h + self.mlp(F.layer_norm(h, h.shape[-1:]))


class Set2Set(nn.Module):
    """Vinyals et al.'s order-invariant readout, `steps` rounds of an LSTM query attending over each cell's sites."""

    def __init__(self, members: int, width: int, steps: int = 3):
        super().__init__()
        self.steps = steps
        self.gates = EnsembleLinear(members, 3 * width, 4 * width)  # input [q*, h] → i, f, g, o

    def forward(self, h: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        members, _, width = h.shape
        state = cell = h.new_zeros(members, batch.n, width)
        q_star = h.new_zeros(members, batch.n, 2 * width)
        for _ in range(self.steps):
            i, f, g, o = self.gates(torch.cat([q_star, state], dim=2)).chunk(4, dim=2)
            cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
            state = torch.sigmoid(o) * torch.tanh(cell)
            attention = segment_softmax((h * state[:, batch.crystal]).sum(-1), batch.crystal, batch.n)
            read = h.new_zeros(members, batch.n, width).index_add_(1, batch.crystal, attention[..., None] * h)
            q_star = torch.cat([state, read], dim=2)
        return q_star


class S2SBackbone(nn.Module):
    """Site embedding, neighbour attention layers, Set2Set readout plus lattice parameters: (members, n, 2·width)."""

    def __init__(self, members: int, width: int, layers: int, position: str, lattice: bool, descriptors: bool,
                 composition: bool = False):
        super().__init__()
        self.embed = SiteEmbedding(members, width, position in ("centroid", "both"), descriptors)
        self.bonds = position in ("bonds", "both")
        self.layers = nn.ModuleList(NeighbourAttention(members, width, self.bonds) for _ in range(layers))
        self.readout = Set2Set(members, width)
        self.lattice = EnsembleLinear(members, 6, 2 * width) if lattice else None
        self.composition = CompositionChannel(members, 2 * width) if composition else None

    def site_states(self, batch: GraphBatch, masked: torch.Tensor | None = None) -> torch.Tensor:
        """(members, n_nodes, width) site vectors after the attention layers."""
        bonds = gaussians(batch.distance, N_GAUSSIANS) if self.bonds else None
        h = self.embed(batch, masked)
        for layer in self.layers:
            h = layer(h, batch.src, batch.dst, bonds)
        return F.layer_norm(h, h.shape[-1:])

    def cell_vector(self, q_star: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        """The Set2Set output plus the projected lattice parameters and the embedded composition (when used)."""
        if self.lattice is not None:
            q_star = q_star + self.lattice(batch.cell / CELL_SCALE)
        return q_star + self.composition(batch) if self.composition is not None else q_star

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        return self.cell_vector(self.readout(self.site_states(batch), batch), batch)


def mask_sites(batch: GraphBatch, generator: torch.Generator) -> torch.Tensor:
    """Boolean (n_nodes,): 15% of each crystal's sites, at least 2 (all of a crystal with fewer), at random."""
    counts = torch.bincount(batch.crystal, minlength=batch.n)
    wanted = torch.minimum(counts, torch.clamp(torch.ceil(counts * MASK_FRACTION).long(), min=MIN_MASKED))
    order = torch.argsort(batch.crystal * 2.0 + torch.rand(len(batch.crystal), generator=generator))
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order)) - (torch.cumsum(counts, 0) - counts)[batch.crystal[order]]
    return rank < wanted[batch.crystal]


class S2SNet(GraphModel):
    """S2SNet ensemble: optional masked-atom pretraining, then classification and Tc branches."""

    name = "s2snet"
    datasets = ("s2s", "3dsc")
    # the pretraining corpus holds 3DSC structures, so on 3DSC the model trains from scratch
    protocol_params = {"3dsc": {"pretrained": None}}
    attribution_methods = ("cam", "grad_x_input")

    def __init__(self, n_members: int = 3, width: int = 64, layers: int = 3, k_neighbors: int = 12,
                 position: str = "both", lattice: bool = True, descriptors: bool = False, composition: bool = False,
                 whole_shells: bool = False, pretrain_epochs: int = 0, pretrained: str | None = None,
                 freeze: bool = False, epochs: int = 60, batch_size: int = 64, lr: float = 2e-3,
                 weight_decay: float = 1e-2, random_state: int = 0):
        self.params = {"n_members": n_members, "width": width, "layers": layers, "k_neighbors": k_neighbors,
                       "position": position, "lattice": lattice, "descriptors": descriptors, "composition": composition,
                       "whole_shells": whole_shells, "pretrain_epochs": pretrain_epochs, "pretrained": pretrained, "freeze": freeze, "epochs": epochs,
                       "batch_size": batch_size, "lr": lr, "weight_decay": weight_decay, "random_state": random_state}
        self.net: DualHead | None = None
        self.element_head: EnsembleLinear | None = None
        self.temperature = 1.0
        self.card: dict = {}
        self.history: list[torch.Tensor] = []
        self.pretrain_history: list[torch.Tensor] = []
        self.masked_val_accuracy = float("nan")
        self.is_pretrained = False

    def network(self) -> DualHead:
        p = self.params
        backbone = S2SBackbone(p["n_members"], p["width"], p["layers"], p["position"], p["lattice"], p["descriptors"],
                               p["composition"])
        return DualHead(backbone, p["n_members"], width=2 * p["width"])

    def graph(self, structure: Structure) -> CrystalGraph:
        p = self.params
        return crystal_graph(structure, k=p["k_neighbors"], nodes="occupancy", descriptors=p["composition"],
                             whole_shells=p["whole_shells"])

    # -- pretraining -----------------------------------------------------------------------------
    def pretrain(self, structures: list[Structure], progress: bool = False) -> S2SNet:
        """Masked-atom modelling on unlabelled structures: predict the majority element of masked sites."""
        p = self.params
        torch.manual_seed(p["random_state"])
        self.net = self.network()
        self.element_head = EnsembleLinear(p["n_members"], p["width"], MAX_Z + 1)
        graphs = [self.graph(s) for s in structures]
        val = validation_mask([s.composition for s in structures], p["random_state"])
        rng, generator = np.random.default_rng(p["random_state"]), torch.Generator().manual_seed(p["random_state"])
        val_batch = collate([graphs[i] for i in np.flatnonzero(val)])
        val_masked = mask_sites(val_batch, torch.Generator().manual_seed(0))

        def loss(item) -> torch.Tensor:
            batch, _ = item
            return self._masked_loss(batch, mask_sites(batch, generator))

        pretraining = self._pretraining()
        self.pretrain_history = train_members(
            pretraining, list(pretraining.parameters()), loss,
            lambda: self.batches(graphs, np.flatnonzero(~val), rng), -(-int((~val).sum()) // p["batch_size"]),
            lambda: self._masked_loss(val_batch, val_masked), p["pretrain_epochs"], p["lr"], p["weight_decay"],
            desc=f"{self.name} pretraining", progress=progress)
        self.net.backbone.embed.pretrained.copy_(self.net.backbone.embed.table().detach())
        self.masked_val_accuracy = self._masked_accuracy(val_batch, val_masked)
        self.is_pretrained = True
        return self

    def save_pretrained(self, card: dict, name: str) -> None:
        """Write the pretrained backbone and element head (before any fine-tuning) to ``checkpoints/<name>``."""
        arrays = {k: v.numpy() for k, v in self._pretraining().state_dict().items()}
        checkpoints.save(name, arrays, {**card, "params": self.params, "model": f"{self.name} (pretrained)",
                                        "masked_val_accuracy": self.masked_val_accuracy})

    def start_from(self, name: str) -> S2SNet:
        """Take the backbone and element head of pretrained checkpoint `name` (hash-checked); its architecture
        parameters must match this model's."""
        arrays, card = checkpoints.load(name)
        differ = [k for k in ARCHITECTURE if card["params"][k] != self.params[k]]
        if differ:
            raise ValueError(f"pretrained checkpoint {name} differs in {', '.join(differ)}")
        torch.manual_seed(self.params["random_state"])  # the fresh heads
        self.net = self.network()
        self.element_head = EnsembleLinear(self.params["n_members"], self.params["width"], MAX_Z + 1)
        module = self._pretraining()
        missing = [k for k in module.state_dict() if k not in arrays and ".composition." not in k]  # not pretrained
        if missing:
            raise ValueError(f"pretrained checkpoint {name} lacks {', '.join(missing)}")
        module.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=False)
        self.masked_val_accuracy, self.is_pretrained = card["masked_val_accuracy"], True
        return self

    def _pretraining(self) -> nn.Module:
        return _Pretraining(self.net.backbone, self.element_head, self.params["n_members"])

    def _masked_loss(self, batch: GraphBatch, masked: torch.Tensor) -> torch.Tensor:
        logits = self.element_head(self.net.backbone.site_states(batch, masked)[:, masked])
        target = batch.nodes[masked, : MAX_Z + 1].argmax(1)
        return F.cross_entropy(logits.transpose(1, 2), target.expand(len(logits), -1), reduction="none").mean(1)

    def masked_accuracy(self, structures: list[Structure], seed: int = 0) -> float:
        """Share of masked sites whose majority element the ensemble (mean logits) recovers."""
        batch = collate([self.graph(s) for s in structures])
        return self._masked_accuracy(batch, mask_sites(batch, torch.Generator().manual_seed(seed)))

    def _masked_accuracy(self, batch: GraphBatch, masked: torch.Tensor) -> float:
        self.net.eval()
        with torch.no_grad():
            logits = self.element_head(self.net.backbone.site_states(batch, masked)[:, masked]).mean(0)
        return float((logits.argmax(1) == batch.nodes[masked, : MAX_Z + 1].argmax(1)).float().mean())

    # -- fine-tuning -----------------------------------------------------------------------------
    def fit(self, structures: list[Structure], tc: np.ndarray | None = None, labels: np.ndarray | None = None,
            progress: bool = False, pretrain_on: list[Structure] | None = None) -> S2SNet:
        """Train on structures with Tc in K (0: not a superconductor; NaN: a superconductor of unknown Tc) and/or
        labels (1 = superconductor), which override the labels read from Tc.

        Starts from the ``pretrained`` checkpoint when one is named; otherwise, with ``pretrain_epochs`` > 0,
        first pretrains on `pretrain_on` (default: the same structures, whose labels are not used) unless
        :meth:`pretrain` ran already. With ``freeze``, pretrained embedding and attention layers stay fixed.
        """
        p = self.params
        torch.manual_seed(p["random_state"])
        if p["pretrained"] and not self.is_pretrained:
            self.start_from(p["pretrained"])
        if p["pretrain_epochs"] and not self.is_pretrained:
            self.pretrain(pretrain_on if pretrain_on is not None else structures, progress)
        if not self.is_pretrained:
            self.net = self.network()
        tc_values = np.full(len(structures), np.nan) if tc is None else np.asarray(tc, dtype=float)
        y = torch.as_tensor(np.asarray(labels if labels is not None else tc_values != 0, dtype=np.float32))
        t = torch.as_tensor(tc_values / TC_SCALE, dtype=torch.float32)
        graphs = [self.graph(s) for s in structures]
        val = validation_mask([s.composition for s in structures], p["random_state"])
        val_rows = torch.from_numpy(np.flatnonzero(val))
        val_batch = collate([graphs[i] for i in val_rows.numpy()])
        rng = np.random.default_rng(p["random_state"] + 1)
        if p["composition"]:
            self.net.backbone.composition.standardise_on([graphs[i] for i in np.flatnonzero(~val)])
        frozen = [self.net.backbone.embed, self.net.backbone.layers] if p["freeze"] and self.is_pretrained else []
        for module in frozen:
            module.requires_grad_(False)
        self.history = train_members(
            self.net, [q for q in self.net.parameters() if q.requires_grad],
            lambda item: self._loss(item[0], y[item[1]], t[item[1]]),
            lambda: self.batches(graphs, np.flatnonzero(~val), rng), -(-int((~val).sum()) // p["batch_size"]),
            lambda: self._loss(val_batch, y[val_rows], t[val_rows]), p["epochs"], p["lr"], p["weight_decay"],
            desc=self.name, progress=progress)
        self.net.requires_grad_(True)
        self.calibrate(val_batch, y[val_rows])
        return self

    def _loss(self, batch: GraphBatch, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Per-member BCE plus the squared error of scaled Tc on superconductors whose Tc is known."""
        logit, tc = self.net(batch)
        loss = F.binary_cross_entropy_with_logits(logit, y.expand_as(logit), reduction="none").mean(1)
        known = (y > 0) & ~torch.isnan(t)
        return loss + ((tc[:, known] - t[known]) ** 2).mean(1) if known.any() else loss

    # -- inference -------------------------------------------------------------------------------
    def atom_contributions(self, structure: Structure, method: str = "cam") -> np.ndarray:
        """Per-site contribution to the classification logit (ensemble mean); positive: towards a superconductor.

        ``cam``: the paper's class activation map at the readout. Set2Set reads a cell as an attention-weighted
        sum of its sites, so site i contributes a_i h_i · ∂logit/∂read (exact for a linear head, the paper's
        case; the head's first-order response otherwise). ``grad_x_input``: gradient × input of the final
        site vectors through the whole readout.
        """
        batch = collate([self.graph(structure)])
        backbone = self.net.backbone
        with torch.no_grad():
            h = backbone.site_states(batch)
        if method == "grad_x_input":
            h.requires_grad_(True)
            self.net.cls_branch(backbone.cell_vector(backbone.readout(h, batch), batch)).sum().backward()
            return (h.grad * h).sum(-1).mean(0).detach().numpy()
        if method != "cam":
            raise ValueError(f"unknown attribution method {method!r}")
        width = h.shape[2]
        with torch.no_grad():
            q_star = backbone.readout(h, batch)
        state, read = q_star[..., :width], q_star[..., width:].clone().requires_grad_(True)
        self.net.cls_branch(backbone.cell_vector(torch.cat([state, read], dim=2), batch)).sum().backward()
        attention = segment_softmax((h * state[:, batch.crystal]).sum(-1), batch.crystal, batch.n)
        return (attention[..., None] * h * read.grad[:, batch.crystal]).sum(-1).mean(0).numpy()

    @property
    def embedding_stages(self) -> tuple[str, ...]:
        return ("fine-tuned", "pretrained") if self.params["pretrain_epochs"] or self.params["pretrained"] else ()

    def element_vectors(self, stage: str = "fine-tuned") -> pd.DataFrame:
        """The learned element embeddings (Z = 1-103), averaged over the ensemble, after fine-tuning or (``stage=
        "pretrained"``) after masked-atom pretraining; ValueError if the model was not pretrained."""
        embed = self.net.backbone.embed
        if stage == "pretrained" and not self.embedding_stages:
            raise ValueError("this S2SNet was trained without pretraining")
        symbols = load_elements().set_index("Z").loc[1:MAX_Z, "symbol"]
        h = (embed.pretrained if stage == "pretrained" else embed.table()).detach()[:, 1:].mean(0).numpy()
        return pd.DataFrame(h, index=symbols.to_numpy(), columns=[f"h{i}" for i in range(h.shape[1])])


class _Pretraining(nn.Module):
    """The backbone and the element head, trained together by masked-atom modelling."""

    def __init__(self, backbone: S2SBackbone, head: EnsembleLinear, members: int):
        super().__init__()
        self.backbone, self.head, self.members = backbone, head, members
