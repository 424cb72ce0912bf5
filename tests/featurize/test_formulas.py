"""The vectorised formula reader gives what io.parse_formula and to_batch give, row for row, messages included."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sc_core import data
from sc_core.featurize.composition import compositions_batch
from sc_core.featurize.formulas import parse_formulas
from sc_core.io import InputError, parse_formula

TRICKY = ["MgB2", "YBa2Cu3O6.95", "CH3COOH", "HDO", "AlD0.964H0.036O2", "T2O", "Og2", "Nb3Sn1", "NaN", "O", "",
          "   \t", " MgB2 ", "Xx2O3", "Hello", "hello", "La2Sr0Cu0.8Zn0.2O4", "Fe0.0", "Fe000", "(Fe2)0O", "O10=z",
          "Fe1e2", "Fe2+", "O2-", "CuSO4·5H2O", "NaCl.H2O", "CuSO4.5H2O", "2H2O", "()", "Fe()O", "(Fe2]O3", "Fe20000",
          "Fe5000Fe5001", "Fe0.000000001", "Fe0.00005Fe0.00005", "Zr0\uff19935", "Zn20 .3", "Nb3S n", "M\tgB2",
          "Fe.5", "Fe2.5.3", "Cu1.", "Cuo", "Fe12345678901234567", "Fe1.23456789012345678", "2H-NbSe2", "1T-TaS2",
          "Ca10(Ir4As8)(Fe2As2)5", "Fe(III)2O3", "Ba Fe2 As2", "Mg\ud800B2", "Ééé", "Uuo2", "Nb0.7Ti0.3"]


def reference(texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(z, x, messages) of parse_formula and to_batch, one formula at a time."""
    comps, messages = [], []
    for text in texts:
        try:
            comps.append(parse_formula(text))
            messages.append("")
        except InputError as exc:
            comps.append(None)
            messages.append(str(exc))
    batch = compositions_batch(comps)
    return batch.z, batch.x, messages


def assert_same(texts: list[str]) -> None:
    batch, errors = parse_formulas(texts)
    z, x, messages = reference(texts)
    assert errors.tolist() == messages
    width = max(batch.z.shape[1], z.shape[1])
    pad = lambda a: np.pad(a, ((0, 0), (0, width - a.shape[1])))  # noqa: E731
    np.testing.assert_array_equal(pad(batch.z), pad(z))  # the same elements in the same order
    np.testing.assert_allclose(pad(batch.x), pad(x), rtol=0, atol=1e-12)


def test_tricky_formulas_and_every_message_are_parse_formulas():
    assert_same(TRICKY)
    batch, errors = parse_formulas(["CH3COOH", "Fe2+"])
    assert batch.z[0].tolist() == [6, 1, 8] and batch.x[0].tolist() == pytest.approx([0.25, 0.5, 0.25])
    assert errors[0] == "" and "oxidation states" in errors[1] and (batch.z[1] == 0).all()


@pytest.mark.parametrize("table", ["supercon", "cod"])
def test_bundled_formulas_read_as_parse_formula_reads_them(table):
    formulas = (data.load_supercon() if table == "supercon" else data.load_cod(inorganic_only=False))["formula"]
    sample = formulas.sample(min(len(formulas), 30_000), random_state=0).tolist()
    assert_same(sample)


def test_no_formulas():
    batch, errors = parse_formulas([])
    assert len(batch) == 0 and len(errors) == 0


SYMBOLS = ["H", "D", "T", "B", "C", "N", "O", "Fe", "Cu", "Nb", "Sn", "La", "Og", "Xx", "Q", "b", "e"]
ODD_AMOUNTS = ["0", "0.0", "1.", ".5", "1.2.3", "0.00001", "00012", "1" * 18, "1e3", "9999.99995"]
AMOUNTS = st.one_of(st.just(""), st.integers(0, 20_000).map(str),
                    st.decimals(0, 200, places=4, allow_nan=False, allow_infinity=False).map(str),
                    st.sampled_from(ODD_AMOUNTS))
NOISE = st.sampled_from([" ", "(", ")", "[", "]", "+", "-", ".", "·", "2", "\uff19", "é", "\t"])


@st.composite
def formulas(draw) -> str:
    parts = [draw(st.sampled_from(SYMBOLS)) + draw(AMOUNTS) for _ in range(draw(st.integers(1, 6)))]
    if draw(st.booleans()):  # a mistake or an unusual character somewhere
        parts.insert(draw(st.integers(0, len(parts))), draw(NOISE))
    return "".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(formulas(), min_size=1, max_size=20))
def test_generated_formulas_read_as_parse_formula_reads_them(texts):
    assert_same(texts)
