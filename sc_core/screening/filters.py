"""Shortlist criteria and the rows that meet them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Filters:
    """Shortlist criteria; None or empty means no constraint."""

    min_p: float = 0.0
    predicted_only: bool = False  # keep only rows whose P reaches their decision threshold (predicted_sc)
    tc_min: float | None = None  # on tc_gated_K: a row must read as a superconductor to pass a Tc bound
    tc_max: float | None = None
    include_elements: tuple[str, ...] = ()
    exclude_elements: tuple[str, ...] = ()
    n_elements: tuple[int, int] | None = None
    exclude_families: tuple[str, ...] = ()
    known: str = "any"  # "any" | "known" | "unknown" (in SuperCon or not)
    space_groups: tuple[str, ...] = ()  # keep only these (rows with a structure)
    crystal_systems: tuple[str, ...] = ()  # keep only these (rows with a structure)
    in_domain_only: bool = False  # keep only rows inside the models' domain (sc_core.domain)


def apply_filters(table: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Rows meeting every criterion, most likely superconductors first."""
    keep = table["p_sc"].fillna(-1) >= filters.min_p
    if filters.predicted_only:
        keep &= table["predicted_sc"]
    if filters.tc_min is not None:
        keep &= table["tc_gated_K"] >= filters.tc_min
    if filters.tc_max is not None:
        keep &= table["tc_gated_K"] <= filters.tc_max
    element_sets = table["elements"].str.split()
    for symbol in filters.include_elements:
        keep &= element_sets.map(lambda s, x=symbol: x in s)
    for symbol in filters.exclude_elements:
        keep &= ~element_sets.map(lambda s, x=symbol: x in s)
    if filters.n_elements is not None:
        keep &= table["n_elements"].between(*filters.n_elements)
    if filters.exclude_families:
        keep &= ~table["family"].isin(filters.exclude_families)
    if filters.known != "any":
        keep &= table["in_supercon"] == (filters.known == "known")
    if filters.space_groups:
        keep &= table["space_group"].isin(filters.space_groups)
    if filters.crystal_systems:
        keep &= table["crystal_system"].isin(filters.crystal_systems)
    if filters.in_domain_only:
        keep &= table["in_domain"].fillna(False).astype(bool)
    return table[keep].sort_values("p_sc", ascending=False, kind="stable")


def with_unscored(shortlist: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The shortlist followed by every row of the screened `table` that no model could score, with its error."""
    unscored = table[table["p_sc"].isna() & ~table.index.isin(shortlist.index)]
    return pd.concat([shortlist, unscored.reindex(columns=shortlist.columns)])
