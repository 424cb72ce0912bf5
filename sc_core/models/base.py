"""The one model interface: ``predict(inputs) -> DataFrame``, whatever the model family.

Inputs may be formula strings, pymatgen Compositions or Structures, or a DataFrame with a
``formula`` column (and optionally ``id``). A bad row never stops a batch: it gets a message in the
``error`` column and NaN predictions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Structure

from sc_core.featurize.composition import MAX_Z
from sc_core.io import InputError, check_composition, check_structure, parse_formula

PREDICTION_COLUMNS = ["id", "formula", "p_sc", "p_sc_std", "tc_K", "tc_std_K", "error"]
Input = str | Composition | Structure
Progress = Callable[[int, int], None]


def as_records(inputs: Input | Sequence[Input] | pd.DataFrame) -> pd.DataFrame:
    """Normalise inputs to rows of (id, formula, composition, structure, error); formula text is kept as typed.

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
    comps, structures, errors, formulas = [None] * n, [None] * n, [""] * n, [""] * n
    for i, item in enumerate(items):
        try:
            if isinstance(item, Structure):
                check_structure(item)
                structures[i], comps[i] = item, item.composition
            elif isinstance(item, Composition):
                check_composition(item)
                comps[i] = item
            else:  # typed text: keep it as written (cheaper than re-formatting, and what the user knows)
                formulas[i] = "" if item is None or item != item else str(item).strip()
                comps[i] = parse_formula(formulas[i])
                continue
        except InputError as exc:
            errors[i] = str(exc)
            continue
        formulas[i] = comps[i].formula.replace(" ", "")
    return pd.DataFrame({"id": ids or [str(i) for i in range(n)], "formula": formulas, "composition": comps,
                         "structure": structures, "error": errors})


class Model(ABC):
    """Base of every model family. Subclasses set ``name``/``kind`` and implement ``_predict_valid``."""

    name: ClassVar[str]
    kind: str  # "composition" (uses the composition of any input) or "structure" (needs a Structure)
    datasets: ClassVar[tuple[str, ...]] = ("supercon", "hosono2018")  # evaluation protocols that apply
    protocol_params: ClassVar[dict[str, dict]] = {}  # parameters a protocol overrides, by dataset
    attribution_methods: ClassVar[tuple[str, ...]] = ()  # per-site contributions offered (atom_contributions)
    embedding_stages: tuple[str, ...] = ()  # training stages element_vectors(stage) can show, if more than one
    version: str = "untrained"
    card: dict

    def predict(self, inputs: Input | Sequence[Input] | pd.DataFrame, batch_size: int = 20_000,
                progress: Progress | None = None) -> pd.DataFrame:
        """P(superconductor), Tc in K and their uncertainties, one row per input."""
        records = as_records(inputs)
        if self.kind == "structure":
            missing = records["structure"].isna() & (records["error"] == "")
            records.loc[missing, "error"] = f"The {self.name} model needs a crystal structure (CIF or POSCAR)."
        out = records[["id", "formula", "error"]].copy()
        for col in ["p_sc", "p_sc_std", "tc_K", "tc_std_K"]:
            out[col] = np.nan
        valid = np.flatnonzero((records["error"] == "").to_numpy())
        for start in range(0, len(valid), batch_size):
            rows = valid[start : start + batch_size]
            try:
                preds = self._predict_valid(records.iloc[rows])
                out.loc[out.index[rows], preds.columns] = preds.to_numpy()
            except (InputError, ValueError) as exc:
                out.loc[out.index[rows], "error"] = str(exc)
            if progress:
                progress(min(start + batch_size, len(valid)), len(valid))
        out["model"] = self.name
        return out[PREDICTION_COLUMNS + ["model"]]

    @abstractmethod
    def _predict_valid(self, records: pd.DataFrame) -> pd.DataFrame:
        """Predictions (columns among p_sc, p_sc_std, tc_K, tc_std_K) for rows that parsed."""

    def element_vectors(self) -> pd.DataFrame | None:
        """Per-element vectors the model uses or learned (index: element symbol), if any."""
        return None


class FeatureModel(Model):
    """A model that maps an input array (``featurize``) to predictions (``predict_features``).

    Rows with elements beyond Lr get an error message; the others are featurised and predicted together.
    """

    input_column = "composition"  # the records column that ``featurize`` reads

    @abstractmethod
    def featurize(self, inputs: list) -> np.ndarray:
        """The model's input array for compositions (or structures)."""

    @abstractmethod
    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        """Columns p_sc, p_sc_std, tc_K, tc_std_K for an input array."""

    def _predict_valid(self, records: pd.DataFrame) -> pd.DataFrame:
        supported = np.array([all(el.Z <= MAX_Z for el in c) for c in records["composition"]], dtype=bool)
        out = pd.DataFrame(index=range(len(records)), columns=["p_sc", "p_sc_std", "tc_K", "tc_std_K"], dtype=float)
        if supported.any():
            X = self.featurize(records[self.input_column][supported].tolist())
            out.loc[supported] = self.predict_features(X).to_numpy()
        out["error"] = np.where(supported, "", f"Elements beyond Lr (Z > {MAX_Z}) are not covered by this model.")
        return out
