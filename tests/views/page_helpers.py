"""Helpers for the Streamlit page tests (AppTest runs each page script in this test process).

A plain module, not conftest.py, so the tests can import it by a name no other test folder uses.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sc_core import models
from sc_core.models.base import Model

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def app(relative: str) -> AppTest:
    """An AppTest for a script of the repository, e.g. ``app("views/predict.py")``."""
    return AppTest.from_file(str(ROOT / relative), default_timeout=TIMEOUT)


def leading_number(text: str) -> float:
    """The first number in a metric value such as '0.97' or '33.3 K'."""
    match = re.match(r"\s*(-?\d+(?:\.\d+)?)", text)
    assert match, f"no number in {text!r}"
    return float(match.group(1))


def metric(at: AppTest, label: str):
    hits = [m for m in at.metric if m.label == label]
    assert hits, f"no metric {label!r}; metrics: {[m.label for m in at.metric]}"
    return hits[0]


def shown_prediction(item) -> tuple[tuple[str, str], tuple[str, str]]:
    """The (value, delta) texts of the P(superconductor) and Tc metrics for `item` (formula or structure) from the
    default model, the first available one: the value alone, its ± spread as the delta."""
    row = models.load(models.available()[0]).predict([item]).iloc[0]
    return (f"{row['p_sc']:.2f}", f"± {row['p_sc_std']:.2f}"), (f"{row['tc_K']:.1f} K", f"± {row['tc_std_K']:.1f} K")


def shown_metrics(at: AppTest) -> tuple[tuple[str, str], tuple[str, str]]:
    """The (value, delta) texts of the P(superconductor) and Tc metrics a page shows."""
    return tuple((m.value, m.delta) for m in (metric(at, "P(superconductor)"), metric(at, "Tc if superconducting")))


class FakeStructureModel(Model):
    """A structure-only model with per-atom contributions, to exercise the structure-model code paths."""

    name = "fake_structure"
    kind = "structure"
    version = "fake-1"
    card: dict = {}
    attribution_methods = ("grad_x_input",)

    def _predict_valid(self, records: pd.DataFrame) -> pd.DataFrame:
        n = len(records)
        return pd.DataFrame({"p_sc": np.full(n, 0.25), "p_sc_std": np.full(n, 0.05),
                             "tc_K": np.full(n, 12.0), "tc_std_K": np.full(n, 3.0)})

    def atom_contributions(self, structure, method: str | None = None) -> list[float]:
        return [(-1.0) ** i * 0.1 * (i + 1) for i in range(len(structure))]

    def fit(self, inputs, tc=None, labels=None, progress=False):
        raise NotImplementedError("a fake: it predicts constants")

    save = load = train_deployed = fit


@pytest.fixture
def with_structure_model(monkeypatch):
    """Register FakeStructureModel next to the real models for the duration of one test."""
    real_available, real_load = models.available, models.load
    monkeypatch.setattr(models, "available", lambda kind=None: [*real_available(kind)] + (
        ["fake_structure"] if kind in (None, "structure") else []))
    monkeypatch.setattr(models, "load", lambda name: FakeStructureModel() if name == "fake_structure"
                        else real_load(name))
    yield "fake_structure"


@pytest.fixture
def only_composition_models(monkeypatch):
    """Hide the structure models (trained or not) for the duration of one test."""
    real_available = models.available
    monkeypatch.setattr(models, "available", lambda kind=None: [] if kind == "structure" else real_available(
        "composition"))
