"""Attention over the elements of a formula (after CrabNet, Wang et al., npj Comput. Mater. 7, 77, 2021).

Each element present is a token: its mat2vec vector (:mod:`sc_core.featurize.mat2vec`, fixed) projected to the
model width, plus a fixed sinusoidal encoding of its atomic fraction and of the fraction's logarithm, projected
the same way. A small pre-norm transformer encoder lets the tokens attend to one another (padding masked), and
the fraction-weighted mean of the tokens is the composition's vector, read by the classification and Tc heads of
every composition network (:class:`~sc_core.models.composition_nets.CompositionNet`: garbage-in negatives,
held-out tenth, temperature, deep ensemble run as one network). Tokens are unordered, so the output does not
depend on how the formula is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from sc_core.elements import MAX_Z
from sc_core.featurize.mat2vec import DIMENSION, mat2vec
from sc_core.models.composition_nets import CompositionNet, CompositionNetConfig
from sc_core.models.ensemble import EnsembleLinear

N_FREQUENCIES = 8  # sinusoid frequencies per fraction encoding (fraction and log fraction)


@dataclass(frozen=True)
class ElementAttentionConfig(CompositionNetConfig):
    """Token width, attention heads and layers; `width` is the composition vector the heads read."""

    n_members: int = 5
    d_model: int = 64
    heads: int = 4
    layers: int = 2
    width: int = 128
    dropout: float = 0.1
    epochs: int = 60
    lr: float = 1e-3


def fraction_encoding(f: torch.Tensor) -> torch.Tensor:
    """(…,) atomic fractions in (0, 1] → (…, 4 · N_FREQUENCIES) sines and cosines of π 2^k f and of 2^k log f / 4."""
    k = 2.0 ** torch.arange(N_FREQUENCIES, dtype=f.dtype)
    angles = torch.cat([math.pi * f[..., None] * k, torch.log(f.clamp(min=1e-6))[..., None] * k / 4], dim=-1)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class EncoderLayer(nn.Module):
    """Pre-norm self-attention and feed-forward with residuals, per member: (members, n, T, d) → same."""

    def __init__(self, members: int, d: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.qkv = EnsembleLinear(members, d, 3 * d)
        self.out = EnsembleLinear(members, d, d)
        self.ff1, self.ff2 = EnsembleLinear(members, d, 2 * d), EnsembleLinear(members, 2 * d, d)
        self.dropout = nn.Dropout(dropout)

    def _per_member(self, layer: EnsembleLinear, h: torch.Tensor) -> torch.Tensor:
        m, n, t, _ = h.shape
        return layer(h.reshape(m, n * t, -1)).view(m, n, t, -1)

    def forward(self, h: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        m, n, t, d = h.shape
        q, k, v = self._per_member(self.qkv, F.layer_norm(h, (d,))).view(m, n, t, 3, self.heads, -1).unbind(3)
        scores = torch.einsum("mnqhc,mnkhc->mnhqk", q, k) / math.sqrt(d // self.heads)
        weights = scores.masked_fill(pad[None, :, None, None, :], -torch.inf).softmax(-1)
        attended = torch.einsum("mnhqk,mnkhc->mnqhc", self.dropout(weights), v).reshape(m, n, t, d)
        h = h + self.dropout(self._per_member(self.out, attended))
        hidden = F.gelu(self._per_member(self.ff1, F.layer_norm(h, (d,))))
        return h + self.dropout(self._per_member(self.ff2, hidden))


class ElementAttentionBackbone(nn.Module):
    """Fraction vectors (n, ≥ MAX_Z) → composition vectors (members, n, width)."""

    table: torch.Tensor

    def __init__(self, members: int, c: ElementAttentionConfig):
        super().__init__()
        self.register_buffer("table", torch.from_numpy(mat2vec()), persistent=False)  # data, not weights
        self.embed = EnsembleLinear(members, DIMENSION, c.d_model)
        self.encode_fraction = EnsembleLinear(members, 4 * N_FREQUENCIES, c.d_model)
        self.layers = nn.ModuleList(EncoderLayer(members, c.d_model, c.heads, c.dropout) for _ in range(c.layers))
        self.readout = EnsembleLinear(members, c.d_model, c.width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :MAX_Z]
        n_tokens = max(int((x > 0).sum(1).max()), 1) if len(x) else 1
        fraction, z = x.topk(n_tokens, dim=1)  # the elements present, largest fraction first, zeros padding
        pad = fraction <= 0
        pad[:, 0] = False  # a row keeps one token even if empty, so no attention row is all masked
        tokens = self.embed(self.table[z].flatten(0, 1)) + self.encode_fraction(
            fraction_encoding(fraction.masked_fill(pad, 1.0)).flatten(0, 1))
        h = tokens.view(len(tokens), len(x), n_tokens, -1)
        for layer in self.layers:
            h = layer(h, pad)
        weights = fraction / fraction.sum(1, keepdim=True).clamp(min=1e-12)  # padding weighs 0
        pooled = torch.einsum("mntd,nt->mnd", h, weights)
        return F.relu(self.readout(pooled))


class ElementAttention(CompositionNet):
    """A transformer over the elements of the formula, with mat2vec token embeddings; dual head, jointly trained."""

    name = "element_attention"
    config_class = ElementAttentionConfig
    features = ("the elements of the composition as tokens: mat2vec vectors (Tshitoyan et al. 2019, via CBFV) plus "
                "a sinusoidal encoding of each atomic fraction (sc_core.models.element_attention)")

    @staticmethod
    def backbone(members: int, c: CompositionNetConfig) -> nn.Module:
        assert isinstance(c, ElementAttentionConfig)
        return ElementAttentionBackbone(members, c)
