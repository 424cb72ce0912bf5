"""sc_core.screening.cache: stored predictions on the bundled pools, read only while they fit the model and data."""

import logging

import numpy as np
import pandas as pd
import pytest
from fakes import toy_models  # noqa: F401  (fixture)

from sc_core import checkpoints, data, models, screening
from sc_core.io import read_pool
from sc_core.screening import cache, chunks, pools

ROWS = 40


@pytest.fixture
def small_pools(monkeypatch):
    """The bundled pools cut to their first ROWS rows, as the stored predictions see them; returns that loader."""
    monkeypatch.setattr(cache, "load_pool", lambda name: pools.load_pool(name).head(ROWS))
    return cache.load_pool


@pytest.fixture
def live_rows(monkeypatch) -> list[int]:
    """The row count of every live prediction (a call of cache.compute) made during the test."""
    calls, compute = [], cache.compute

    def spy(model, pool, progress=None):
        calls.append(len(pool))
        return compute(model, pool, progress)

    monkeypatch.setattr(cache, "compute", spy)
    return calls


def assert_same_table(stored: pd.DataFrame, live: pd.DataFrame) -> None:
    """Equal columns and values, the floats up to float32 rounding."""
    floats = [c for c in live if live[c].dtype.kind == "f"]
    pd.testing.assert_frame_equal(stored.drop(columns=floats), live.drop(columns=floats))
    for col in floats:
        np.testing.assert_allclose(stored[col], live[col], rtol=1e-6, atol=1e-6, err_msg=col)


def store_quarters(name: str, pool: str, version: str) -> None:
    """Store P = 0.25 for every row of `pool`, so that a screening shows whether it read the store."""
    cache.save(name, pool, version, cache.compute(models.load(name), cache.load_pool(pool)).assign(p_sc=0.25))


def screened_p(pool: pd.DataFrame) -> pd.Series:
    return screening.screen(pool, ["toy"])["p_sc"]


@pytest.mark.usefixtures("toy_models")
@pytest.mark.parametrize("pool_name", ["s2s", "cod"])
def test_stored_predictions_screen_as_live(small_pools, live_rows, pool_name, caplog):
    caplog.set_level(logging.INFO, logger=cache.__name__)
    pool, names = small_pools(pool_name), models.available()
    live = screening.screen(pool, names)
    assert live_rows == [ROWS, ROWS] and f"no stored predictions of toy on the {pool_name} pool" in caplog.text
    stored = [name for name in names if cache.applies(name, pool_name)]
    assert stored == (names if pool_name == "s2s" else ["toy"])  # structure models: pools with structures
    for name in stored:
        cache.build(name, pool_name)
    live_rows.clear()
    assert_same_table(screening.screen(pool, names), live)
    part = pool.iloc[::-3]  # any rows of the pool, in any order (a shard, a Ray task's part)
    assert_same_table(screening.screen(part, names), live.iloc[::-3].reset_index(drop=True))
    assert live_rows == ([] if pool_name == "s2s" else [ROWS, len(part)])  # toy_structure on COD: live, unscored


@pytest.mark.usefixtures("toy_models")
def test_stale_predictions_are_ignored_and_predicted_live(small_pools, monkeypatch, caplog):
    pool = small_pools("cod")
    store_quarters("toy", "cod", "toy-1")  # the toy's version
    assert (screened_p(pool) == 0.25).all()  # read
    live = models.load("toy").predict(list(pool["formula"]))["p_sc"]
    store_quarters("toy", "cod", "toy-0")  # an earlier version's
    np.testing.assert_allclose(screened_p(pool), live)
    assert "made for version 'toy-0', not 'toy-1'; predicting live (rebuild them with `sc pools`)" in caplog.text
    store_quarters("toy", "cod", "toy-1")
    manifest = data.manifest()
    monkeypatch.setattr(data, "manifest", lambda: {**manifest, "data_hash": "rebuilt"})  # other bundled data
    np.testing.assert_allclose(screened_p(pool), live)
    assert f"data_hash '{manifest['data_hash']}', not 'rebuilt'" in caplog.text


@pytest.mark.usefixtures("toy_models")
def test_predictions_of_other_rows_or_damaged_are_refused(small_pools, monkeypatch, caplog):
    pool, name = small_pools("cod"), cache.stored_name("toy", "cod")
    store_quarters("toy", "cod", "toy-1")
    monkeypatch.setattr(cache, "load_pool", lambda name: pools.load_pool(name).head(ROWS + 1))  # the pool grew
    assert (screened_p(pool) != 0.25).all() and f"rows {ROWS}, not {ROWS + 1}" in caplog.text
    monkeypatch.setattr(cache, "load_pool", lambda name: pools.load_pool(name).head(ROWS))
    arrays, card = checkpoints.load(name)
    checkpoints.save(name, {**arrays, "tc_K": arrays["tc_K"][:-1]}, card)  # a card that lies about its arrays
    assert (screened_p(pool) != 0.25).all() and f"not one value per row of the {ROWS} in the pool" in caplog.text
    checkpoints.save(name, {**arrays, "error_rows": np.array([ROWS]), "errors": np.array(["past the end"])}, card)
    assert (screened_p(pool) != 0.25).all() and "error messages are not listed by row" in caplog.text
    (checkpoints.CHECKPOINT_DIR / name / checkpoints.WEIGHTS).write_bytes(b"damaged")
    assert screened_p(pool).notna().all() and "does not match the sha256 in its card" in caplog.text


@pytest.mark.usefixtures("toy_models")
def test_uploads_are_never_read_from_or_written_to_the_store(small_pools):
    pool = small_pools("s2s")
    store_quarters("toy", "s2s", "toy-1")
    files = sorted(checkpoints.CHECKPOINT_DIR.rglob("*"))
    upload = read_pool("pool.csv", pool[["id", "formula", "source", "structure_ref"]].to_csv(index=False).encode())
    assert (screened_p(upload) != 0.25).all()  # the same rows, uploaded: predicted
    assert (screened_p(pool) == 0.25).all()
    screening.screen(upload, models.available())
    assert sorted(checkpoints.CHECKPOINT_DIR.rglob("*")) == files  # screening stores nothing


@pytest.mark.usefixtures("toy_models")
def test_live_work_reports_progress_after_each_chunk(small_pools, monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK_SECONDS", 0.0)  # as if every row were slow: chunks of one row after the first
    one_by_one = [*range(chunks.FIRST_CHUNK, ROWS + 1)]
    reports = []
    cache.compute(models.load("toy"), small_pools("cod"), lambda *report: reports.append(report))
    assert reports == [(n, ROWS) for n in one_by_one]
    reports.clear()  # a screening: rows are described (chemistry, space groups), then predicted by each model
    screening.screen(small_pools("cod"), ["toy"], progress=lambda *report: reports.append(report))
    assert reports == [(n, 2 * ROWS) for n in [*one_by_one, *(ROWS + n for n in one_by_one)]]
    reports.clear()
    cache.build("toy", "cod")
    screening.screen(small_pools("cod"), ["toy"], progress=lambda *report: reports.append(report))
    assert reports == [(n, 2 * ROWS) for n in [*one_by_one, 2 * ROWS]]  # the stored predictions at once
