"""Shortlist export (CSV, JSON, XLSX), stamped with the model versions and the date, safe to open in a spreadsheet."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pandas as pd

from sc_core import models

SORTS = {  # orders of a shortlist: column → (description, ascending)
    "p_sc": ("P(superconductor), highest first", False),
    "tc_gated_K": ("Tc where P(sc) reaches the models' decision threshold, highest first", False),
    "tc_K": ("Tc if superconducting, highest first", False),
    "formula": ("Formula, A to Z", True),
    "id": ("Id, A to Z", True),
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet may run a text cell starting so as a formula
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: object) -> object:
    """`value` with a leading apostrophe if it is text a spreadsheet could run as a formula; numbers as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with every text cell and column name passed through :func:`neutralise`."""
    text = table.columns[table.dtypes.map(lambda d: not pd.api.types.is_numeric_dtype(d))]
    safe = table.assign(**{c: table[c].map(neutralise) for c in text})
    return safe.set_axis([neutralise(str(c)) for c in safe.columns], axis=1)


def sort_shortlist(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """`table` ordered by the :data:`SORTS` column `by`; blanks last, ties in their order."""
    return table.sort_values(by, ascending=SORTS[by][1], kind="stable", na_position="last")


def scored_by(table: pd.DataFrame, model_names: list[str]) -> list[str]:
    """The models of `model_names` that scored a row of `table`: all but those whose p_sc_<name> is all blank
    (a structure model on formulas)."""
    return [n for n in model_names if f"p_sc_{n}" not in table.columns or table[f"p_sc_{n}"].notna().any()]


def export(table: pd.DataFrame, fmt: str, model_names: list[str]) -> bytes:
    """The shortlist as CSV, JSON or XLSX; every row carries the versions of the models that scored a row
    (:func:`scored_by`) and the export date.

    Text that a spreadsheet would read as a formula (see :data:`FORMULA_STARTS`) gets a leading
    apostrophe in CSV and XLSX; JSON keeps it as it is.
    """
    model_names = scored_by(table, model_names)
    versions = ";".join(f"{n}={models.load(n).version}" for n in model_names)
    stamped = table.assign(models=versions, exported=dt.date.today().isoformat())
    if fmt == "csv":
        # CRLF line ends (RFC 4180) make the writer quote any cell that holds a carriage return
        return _spreadsheet_safe(stamped).to_csv(index=False, lineterminator="\r\n").encode()
    if fmt == "json":
        payload = {"models": {n: models.load(n).version for n in model_names}, "exported": dt.date.today().isoformat(),
                   "candidates": json.loads(stamped.to_json(orient="records"))}
        return json.dumps(payload, indent=1).encode()
    if fmt == "xlsx":
        buffer = io.BytesIO()
        _spreadsheet_safe(stamped).to_excel(buffer, index=False, sheet_name="candidates")
        return buffer.getvalue()
    raise ValueError(f"unknown export format {fmt!r}")
