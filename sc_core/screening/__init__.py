"""Screening: pools → batch prediction → filters → shortlist export, with matching to known SuperCon entries.

Modules by responsibility: :mod:`.pools` (bundled pools, shards), :mod:`.batch` (predicting a pool),
:mod:`.cache` (the models' stored predictions of the bundled pools, and live ones), :mod:`.chunks` (work in
chunks between progress reports), :mod:`.backends` (local or Ray), :mod:`.symmetry` (space groups),
:mod:`.known` (SuperCon matches and nearest known superconductors), :mod:`.filters`, :mod:`.export`,
:mod:`.tables` (CSV and Parquet pools read and written in chunks, or one shard of them), :mod:`.stream` (a pool
screened chunk by chunk in bounded memory) and :mod:`.parts` (a pool file screened as Ray tasks, each reading its
own shard and writing its own part file). Uploaded and command-line pools are read by :func:`sc_core.io.read_pool`.
"""

from sc_core.screening.backends import screen
from sc_core.screening.batch import screen_batch
from sc_core.screening.export import SORTS, export, neutralise, scored_by, sort_shortlist
from sc_core.screening.filters import Filters, apply_filters, with_unscored
from sc_core.screening.known import (
    KNOWN_TOLERANCE,
    SuperconMatch,
    annotate,
    nearest_known,
    nearest_superconductors,
    supercon_match,
)
from sc_core.screening.pools import POOLS, has_structures, load_pool, pool_name, shard
from sc_core.screening.symmetry import crystal_system, space_group

__all__ = ["KNOWN_TOLERANCE", "POOLS", "SORTS", "Filters", "SuperconMatch", "annotate",
           "apply_filters", "crystal_system", "export", "has_structures", "load_pool", "nearest_known",
           "nearest_superconductors", "neutralise", "pool_name", "scored_by", "screen", "screen_batch", "shard",
           "sort_shortlist", "space_group", "supercon_match", "with_unscored"]
