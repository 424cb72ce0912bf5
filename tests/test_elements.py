"""sc_core.elements: the Z range, symbols and per-element tables shared by every layer."""

import numpy as np

from sc_core import elements


def test_symbols_cover_hydrogen_to_lawrencium_in_z_order():
    symbols = elements.symbols()
    assert len(symbols) == elements.MAX_Z == 103
    assert symbols[:3] == ("H", "He", "Li") and symbols[25] == "Fe" and symbols[-1] == "Lr"


def test_vectors_table_is_indexed_by_symbol():
    table = elements.vectors_table(np.arange(2 * 103).reshape(103, 2))
    assert list(table.columns) == ["h0", "h1"] and table.loc["Fe"].tolist() == [50, 51]
