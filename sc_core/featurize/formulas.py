"""Formula text → a :class:`~sc_core.featurize.composition.CompositionBatch`, vectorised over the characters of a
whole batch of formulas.

Formulas in the common grammar (element symbols H-Lr, each with an optional integer or decimal amount:
``YBa2Cu3O6.95``) are read by array operations over all of them at once. Every other formula (brackets, spaces,
D and T, a polytype prefix, anything malformed) and every one the fast pass refuses (an element named twice, a zero
amount, an amount outside :data:`~sc_core.io.MIN_AMOUNT`-:data:`~sc_core.io.MAX_AMOUNT`, more than 15 digits in a
number) goes to :func:`sc_core.io.parse_formula`, which reads it or says why not. Row for row, the result is
``to_batch`` of ``parse_formula``'s compositions: the same elements in the same order with the same amounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from pymatgen.core import Composition

from sc_core.elements import symbols
from sc_core.featurize.composition import CompositionBatch, assemble, compositions_batch, from_amounts
from sc_core.io import MAX_AMOUNT, MIN_AMOUNT, InputError, parse_formula

MAX_DIGITS = 15  # digits of a number read as mantissa / 10**decimals: both exact in float64, so the quotient is
# correctly rounded, as float() rounds the text
_CODES = 128 * 128  # a symbol's code: 128 * its first character + its second (0 for a one-letter symbol)


@lru_cache(maxsize=1)
def _atomic_numbers() -> np.ndarray:
    """Z of each symbol code (H-Lr); 0 for every other code, D and T included (they are left to parse_formula)."""
    table = np.zeros(_CODES, dtype=np.int64)
    for z, symbol in enumerate(symbols(), start=1):
        table[128 * ord(symbol[0]) + (ord(symbol[1]) if len(symbol) > 1 else 0)] = z
    return table


def parse_formulas(texts: Sequence[str]) -> tuple[CompositionBatch, np.ndarray]:
    """The composition of each formula in `texts` and the message of each that does not parse ('' for the others,
    whose batch rows are empty): what ``to_batch`` and ``str(InputError)`` of :func:`~sc_core.io.parse_formula`
    would give row by row."""
    fast, z, amounts = _fast_pass(texts)
    slow = np.flatnonzero(~fast)
    errors = np.full(len(texts), "", dtype=object)
    comps: list[Composition | None] = []
    for i in slow.tolist():
        try:
            comps.append(parse_formula(texts[i]))
        except InputError as exc:
            comps.append(None)
            errors[i] = str(exc)
    batch = assemble(len(texts), [(np.flatnonzero(fast), from_amounts(z, amounts)), (slow, compositions_batch(comps))])
    return batch, errors


def _fast_pass(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(which formulas the fast pass read, their padded atomic numbers, their amounts), elements in the order
    they come."""
    n = len(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    joined = "".join(texts)
    ascii_only = joined.isascii()  # then one byte a character, else four (any other character sends its row away)
    chars: np.ndarray = np.frombuffer(joined.encode("ascii") if ascii_only
                                      else joined.encode("utf-32-le", "surrogatepass"),
                                      dtype=np.uint8 if ascii_only else np.uint32)
    row = np.repeat(np.arange(n), lengths)
    first = np.zeros(len(chars) + 1, dtype=bool)  # one past the end: the start of the next (absent) formula
    first[np.cumsum(lengths) - lengths] = True
    first[-1] = True
    upper, lower = (chars >= 65) & (chars <= 90), (chars >= 97) & (chars <= 122)
    digit, dot = (chars >= 48) & (chars <= 57), chars == 46
    numeric = digit | dot
    starts, ends = first[:-1], first[1:]  # a character opens / is the last of its formula
    after_letter = np.zeros(len(chars), dtype=bool)
    after_letter[1:] = upper[:-1] | lower[:-1]
    after_letter &= ~starts
    after_lower = np.zeros(len(chars), dtype=bool)
    after_lower[1:] = lower[:-1]
    after_lower &= ~starts
    next_numeric = np.zeros(len(chars), dtype=bool)
    next_numeric[:-1] = numeric[1:]
    next_numeric &= ~ends
    next_lower = np.zeros(len(chars), dtype=bool)
    next_lower[:-1] = lower[1:]
    next_lower &= ~ends

    # numbers: maximal runs of digits and dots (each follows a letter: a formula must open with one)
    run_start = numeric & ~(np.concatenate([[False], numeric[:-1]]) & ~starts)
    run = np.cumsum(run_start) - 1  # run of each numeric character (meaningless elsewhere)
    in_run, n_runs = np.flatnonzero(numeric), int(run_start.sum())
    run_of = run[in_run]
    dots = np.bincount(run_of, weights=dot[in_run], minlength=n_runs)
    digits_in = np.flatnonzero(digit)
    run_of_digit = run[digits_in]
    n_digits = np.bincount(run_of_digit, minlength=n_runs)
    dots_so_far, opened = np.cumsum(dot), np.flatnonzero(run_start)
    after_dot = dots_so_far[digits_in] > (dots_so_far[opened] - dot[opened])[run_of_digit]  # a dot earlier in its run
    decimals = np.bincount(run_of_digit, weights=after_dot, minlength=n_runs)
    first_digit = np.cumsum(n_digits) - n_digits
    place = n_digits[run_of_digit] - 1 - (np.arange(len(digits_in)) - first_digit[run_of_digit])
    mantissa = np.bincount(run_of_digit, weights=(chars[digits_in] - 48) * 10.0 ** np.minimum(place, MAX_DIGITS),
                           minlength=n_runs)
    value = mantissa / 10.0 ** decimals

    bad = ~(upper | numeric | lower) | (lower & ~after_letter) | (lower & after_lower) | (starts & ~upper)
    bad |= dot & (run_start | ~next_numeric)
    refused = np.zeros(n, dtype=bool)
    refused[row[bad]] = True
    refused[lengths == 0] = True
    bad_run = (dots > 1) | (n_digits > MAX_DIGITS) | (value == 0)
    refused[row[opened[bad_run]]] = True

    # symbols and the amount after each
    at = np.flatnonzero(upper)
    second = chars[np.minimum(at + 1, len(chars) - 1)].astype(np.int64)
    code = 128 * chars[at].astype(np.int64) + np.where(next_lower[at], second, 0)
    z_symbol = _atomic_numbers()[code]
    refused[row[at[z_symbol == 0]]] = True
    amount_at = at + 1 + next_lower[at]  # where the symbol's number would start
    has_number = np.zeros(len(at), dtype=bool)
    inside = amount_at < len(chars)
    has_number[inside] = numeric[amount_at[inside]] & ~starts[amount_at[inside]]
    amount = np.ones(len(at))
    amount[has_number] = value[run[amount_at[has_number]]]

    # a formula naming an element twice (CH3COOH) is left to parse_formula, which adds its amounts up
    symbol_row = row[at]
    refused[symbol_row[(amount < MIN_AMOUNT) | (amount > MAX_AMOUNT)]] = True
    segment = np.flatnonzero(np.r_[True, symbol_row[1:] != symbol_row[:-1]])[: len(at)]  # each formula's first
    bits = np.left_shift(np.uint64(1), (z_symbol % 64).astype(np.uint64))
    distinct = sum(np.bitwise_count(np.bitwise_or.reduceat(np.where(z_symbol // 64 == half, bits, np.uint64(0)),
                                                           segment)).astype(np.int64) for half in (0, 1))
    refused[symbol_row[segment[distinct < np.diff(np.append(segment, len(at)))]]] = True
    fast = ~refused
    kept = fast[symbol_row]
    entry_row, entry_z, entry_amount = symbol_row[kept], z_symbol[kept], amount[kept]
    rank = np.cumsum(fast) - 1  # row of each fast formula in the fast batch
    counts = np.bincount(entry_row, minlength=n)
    column = np.arange(len(entry_row)) - (np.cumsum(counts) - counts)[entry_row]
    k = max(int(counts.max(initial=0)), 1)
    z, amounts = np.zeros((int(fast.sum()), k), dtype=np.int64), np.zeros((int(fast.sum()), k))
    z[rank[entry_row], column], amounts[rank[entry_row], column] = entry_z, entry_amount
    return fast, z, amounts
