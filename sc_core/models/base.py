"""The one model protocol, whatever the family: ``fit``, ``predict(inputs) -> DataFrame``, ``save``, ``load``,
``element_vectors``, ``atom_contributions`` (structure models), and the deployed training recipe.

Inputs may be formula strings, pymatgen Compositions or Structures, or a DataFrame with a ``formula``
column (and optionally ``id``). A bad input row (an :class:`InputError`) never stops a batch: it gets a
message in the ``error`` column and NaN predictions. Anything else is a bug and raises, and so does a
model whose outputs leave their range (P outside [0, 1], a negative or non-finite Tc).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Self, cast

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Structure

from sc_core.elements import MAX_Z
from sc_core.featurize.composition import CompositionBatch, assemble, compositions_batch, to_batch
from sc_core.featurize.formulas import parse_formulas
from sc_core.io import InputError, check_composition, check_structure

PREDICTION_COLUMNS = ["id", "formula", "p_sc", "p_sc_std", "tc_K", "tc_std_K", "error"]
OUTPUT_COLUMNS = ["p_sc", "p_sc_std", "tc_K", "tc_std_K"]
Input = str | Composition | Structure
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Records:
    """Inputs normalised, one row per input: `table` (id, formula, structure, error; formula text kept as typed)
    and `batch`, the composition of every row (an empty row where the input has an error)."""

    table: pd.DataFrame
    batch: CompositionBatch

    def __len__(self) -> int:
        return len(self.table)

    def take(self, rows: np.ndarray) -> Records:
        """The records of `rows` (positions)."""
        return Records(self.table.iloc[rows], self.batch.take(rows))


def as_records(inputs: Input | Sequence[Input] | pd.DataFrame) -> Records:
    """Normalise inputs to :class:`Records`; formulas are read together (:func:`~sc_core.featurize.formulas.
    parse_formulas`).

    Structures and Compositions given directly pass the same checks as read ones (``io.check_structure``,
    ``io.check_composition``): a bad one becomes an error row.
    """
    if isinstance(inputs, pd.DataFrame):
        if "formula" not in inputs.columns and "structure" not in inputs.columns:
            raise InputError("The table needs a 'formula' column.")
        ids = inputs["id"].astype(str).tolist() if "id" in inputs.columns else None
        items = inputs["structure"].tolist() if "structure" in inputs.columns else inputs["formula"].tolist()
    else:
        items = [inputs] if isinstance(inputs, str | Composition | Structure) else list(inputs)
        ids = None
    n = len(items)
    formulas = [item.strip() if isinstance(item, str) else "" for item in items]  # typed text: kept as written
    comps: list[Composition | None] = []
    structures: list[Structure | None] = [None] * n
    errors = np.full(n, "", dtype=object)
    given = []  # rows of Compositions and Structures
    for i in [i for i, item in enumerate(items) if not isinstance(item, str)]:
        item, comp = items[i], None
        if not isinstance(item, Structure | Composition):
            formulas[i] = "" if item is None or item != item else str(item).strip()
            continue
        try:
            if isinstance(item, Structure):
                check_structure(item)
                structures[i], comp = item, item.composition
            else:
                check_composition(item)
                comp = item
        except InputError as exc:
            errors[i] = str(exc)
        else:
            formulas[i] = comp.formula.replace(" ", "")
        comps.append(comp)
        given.append(i)
    typed = np.setdiff1d(np.arange(n), given)
    parsed, errors[typed] = parse_formulas([formulas[i] for i in typed])
    batch = assemble(n, [(typed, parsed), (np.array(given, dtype=np.int64), compositions_batch(comps))])
    table = pd.DataFrame({"id": ids or [str(i) for i in range(n)], "formula": formulas, "structure": structures,
                          "error": errors})
    return Records(table, batch)


@dataclass(frozen=True)
class Config:
    """Every hyperparameter of a model family, fixed ones included; stored whole on the checkpoint card."""

    random_state: int = 0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # a card's JSON lists are the config's tuples
            if isinstance(getattr(self, field.name), list):
                object.__setattr__(self, field.name, tuple(getattr(self, field.name)))


class ModelOutputError(RuntimeError):
    """A model produced an output outside its range: a bug or damaged weights, never shown as a prediction."""


class Model(ABC):
    """Base of every model family.

    A family sets the class attributes, a frozen :class:`Config` subclass, and implements ``fit``,
    ``_predict_valid``, ``save``, ``load`` and :meth:`train_deployed` (its recipe for the committed checkpoint).
    """

    name: ClassVar[str]
    kind: ClassVar[str]  # "composition" (uses the composition of any input) or "structure" (needs a Structure)
    config_class: ClassVar[type[Config]] = Config
    features: ClassVar[str] = ""  # what the model reads, for the checkpoint card
    datasets: ClassVar[tuple[str, ...]] = ("supercon", "hosono2018")  # evaluation protocols that apply
    protocol_params: ClassVar[dict[str, dict]] = {}  # config fields a protocol overrides, by dataset
    attribution_methods: ClassVar[tuple[str, ...]] = ()  # per-site contributions offered (atom_contributions)

    def __init__(self, config: Config | None = None, **overrides):
        self.config = dataclasses.replace(config or self.config_class(), **overrides)
        self.card: dict = {}
        self.version = "untrained"

    @property
    def params(self) -> dict:
        """The config as a plain dict (what the card stores)."""
        return dataclasses.asdict(self.config)

    @property
    def embedding_stages(self) -> tuple[str, ...]:
        """The training stages ``element_vectors(stage)`` can show, if more than one."""
        return ()

    @property
    def input_column(self) -> str:
        """The records column the model reads: "composition" or "structure"."""
        return self.kind

    # -- the protocol ------------------------------------------------------------------------------
    @abstractmethod
    def fit(self, inputs: list, tc: np.ndarray | None = None, labels: np.ndarray | None = None,
            progress: bool = False) -> Self:
        """Train on inputs and Tc in K (0 = not a superconductor); `labels` override ``tc > 0`` as the class."""

    def predict(self, inputs: Input | Sequence[Input] | pd.DataFrame, batch_size: int = 20_000,
                progress: Progress | None = None) -> pd.DataFrame:
        """P(superconductor), Tc in K and their uncertainties, one row per input."""
        records = as_records(inputs)
        table = records.table
        if self.input_column == "structure":
            missing = table["structure"].isna() & (table["error"] == "")
            table.loc[missing, "error"] = f"The {self.name} model needs a crystal structure (CIF or POSCAR)."
        out = table[["id", "formula", "error"]].copy()
        for col in OUTPUT_COLUMNS:
            out[col] = np.nan
        valid = np.flatnonzero((table["error"] == "").to_numpy())
        for start in range(0, len(valid), batch_size):
            rows = valid[start : start + batch_size]
            preds = self._predict_valid(records.take(rows))
            _check_outputs(self.name, preds)
            out.loc[out.index[rows], preds.columns] = preds.to_numpy()
            if progress:
                progress(min(start + batch_size, len(valid)), len(valid))
        out["model"] = self.name
        return out[PREDICTION_COLUMNS + ["model"]]

    @abstractmethod
    def _predict_valid(self, records: Records) -> pd.DataFrame:
        """Columns among p_sc, p_sc_std, tc_K, tc_std_K and error for rows that parsed; a row that cannot be
        predicted gets NaN outputs and its message in ``error``."""

    @abstractmethod
    def save(self, card: dict, name: str | None = None) -> None:
        """Write the weights and `card` (plus the config) to ``checkpoints/<name or self.name>``."""

    @classmethod
    @abstractmethod
    def load(cls, name: str | None = None) -> Self:
        """The model stored in ``checkpoints/<name or cls.name>``, after checking hashes and shapes."""

    def element_vectors(self, stage: str | None = None) -> pd.DataFrame | None:
        """Per-element vectors the model uses or learned (index: element symbol), if any."""
        return None

    def atom_contributions(self, structure: Structure, method: str | None = None) -> np.ndarray:
        """Per-site contribution to the superconductor logit, for the methods in ``attribution_methods``."""
        raise NotImplementedError(f"{self.name} offers no per-site contributions")

    # -- the recipe for the committed checkpoint ---------------------------------------------------
    @classmethod
    @abstractmethod
    def train_deployed(cls, seed: int = 0, progress: bool = False) -> tuple[Self, dict]:
        """Fit the deployed model on its full training data; returns it with a description of that data."""

    def card_notes(self) -> str:
        """What the card says about this fit beyond the config (e.g. the fitted temperature)."""
        return ""


def _check_outputs(name: str, preds: pd.DataFrame) -> None:
    """ModelOutputError unless every predicted row has a finite P in [0, 1] and a Tc ≥ 0 (blank: no Tc head)."""
    predicted = preds[preds["error"] == ""] if "error" in preds.columns else preds
    p, tc = predicted["p_sc"].to_numpy(dtype=float), predicted["tc_K"].to_numpy(dtype=float)
    spreads = predicted[["p_sc_std", "tc_std_K"]].to_numpy(dtype=float)
    if (~np.isfinite(p) | (p < 0) | (p > 1) | (tc < 0) | np.isinf(tc) | np.isinf(spreads).any(axis=1)).any():
        raise ModelOutputError(f"The {name} model produced outputs outside their range (P in [0, 1], finite "
                               "Tc >= 0); its weights may be damaged: restore its checkpoint or retrain it.")


class FeatureModel(Model):
    """A model that maps an input array (``featurize_batch``) to predictions (``predict_features``).

    Rows with elements beyond Lr get an error message; the others are featurised and predicted together.
    """

    def featurize(self, inputs: Sequence[Composition | Structure]) -> np.ndarray:
        """The model's input array for compositions (or structures: their compositions, and the structures
        themselves for a model that reads them)."""
        comps = [s.composition if isinstance(s, Structure) else s for s in inputs]
        structures = cast(list[Structure], list(inputs)) if self.input_column == "structure" else None
        return self.featurize_batch(to_batch(comps), structures)

    @abstractmethod
    def featurize_batch(self, batch: CompositionBatch, structures: list[Structure] | None = None) -> np.ndarray:
        """The model's input array for a batch of compositions (and their structures, given to a model whose
        ``input_column`` is "structure")."""

    @abstractmethod
    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        """Columns p_sc, p_sc_std, tc_K, tc_std_K for an input array."""

    def _predict_valid(self, records: Records) -> pd.DataFrame:
        supported = np.asarray((records.batch.z <= MAX_Z).all(axis=1))
        out = pd.DataFrame(index=range(len(records)), columns=OUTPUT_COLUMNS, dtype=float)
        if supported.any():
            structures = (records.table["structure"][supported].tolist() if self.input_column == "structure"
                          else None)
            X = self.featurize_batch(records.batch.take(supported), structures)
            out.loc[supported] = self.predict_features(X).to_numpy()
        out["error"] = np.where(supported, "", f"Elements beyond Lr (Z > {MAX_Z}) are not covered by this model.")
        return out
