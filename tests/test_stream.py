"""Screening in chunks (sc_core.screening.stream) and pool tables read and written in chunks (.tables)."""

import io
import sys

import pandas as pd
import pytest

from sc_core import InputError, screening
from sc_core.generate import compositions
from sc_core.io import read_pool
from sc_core.screening import stream, tables

FILTERS = screening.Filters(min_p=0.2, exclude_families=("cuprate",), known="unknown")


@pytest.fixture(scope="module")
def pool_csv(tmp_path_factory) -> bytes:
    """A generated pool of a few hundred compositions, with an unreadable row and repeated formulas (exact ties
    in P) far apart, so that chunks must keep the pool's order among ties."""
    formulas = list(compositions(["Nb", "Sn", "Ge", "Mg", "B", "N", "La", "O"], (2, 3), 4))
    formulas[7:7] = ["Xx2"]
    formulas += ["MgB2", "Nb3Ge", "MgB2"]
    ids = [f"g{i}" for i in range(len(formulas))]
    return pd.DataFrame({"id": ids, "formula": formulas, "note": range(len(formulas))}).to_csv(index=False).encode()


def shortlist_file(screened: stream.Screened) -> pd.DataFrame:
    """What ``sc screen`` writes for a screening (the shortlist, then the unscored rows, annotated), read back."""
    rows = screening.annotate(screening.with_unscored(screened.shortlist, screened.unscored))
    return pd.read_csv(io.BytesIO(screening.export(rows, "csv", ["baseline"])), keep_default_na=False,
                       na_values=[""])


def in_memory(content: bytes, top: int | None) -> stream.Screened:
    table = screening.screen(read_pool("pool.csv", content), ["baseline"])
    return stream.Screened(screening.apply_filters(table, FILTERS).head(top), table[table["p_sc"].isna()], len(table))


@pytest.mark.parametrize("top", [None, 25])
def test_streamed_screening_is_the_in_memory_one(pool_csv, tmp_path, top):
    path = tmp_path / "pool.csv"
    path.write_bytes(pool_csv)
    done = []
    streamed = stream.screen_chunks(tables.read_chunks(str(path), rows=64), ["baseline"], FILTERS, top, done.append)
    whole = in_memory(pool_csv, top)
    assert streamed.rows == whole.rows == 311 and done[-1] == streamed.rows and done == sorted(done)
    assert len(streamed.unscored) == 1 and streamed.unscored["formula"].tolist() == ["Xx2"]
    passed = screening.apply_filters(screening.screen(read_pool("pool.csv", pool_csv), ["baseline"]), FILTERS)
    assert 25 < len(passed) < 300 and len(streamed.shortlist) == (top or len(passed))
    pd.testing.assert_frame_equal(streamed.shortlist, whole.shortlist)
    pd.testing.assert_frame_equal(streamed.unscored, whole.unscored)
    written, expected = shortlist_file(streamed), shortlist_file(whole)
    # the domain distance's last bits depend on how annotate's time-sized batches fall, in any two runs
    pd.testing.assert_frame_equal(written.drop(columns="domain_distance"), expected.drop(columns="domain_distance"))
    pd.testing.assert_series_equal(written["domain_distance"], expected["domain_distance"], rtol=1e-12)
    ties = streamed.shortlist[streamed.shortlist["formula"] == "MgB2"]["id"].tolist()
    assert ties == sorted(ties, key=lambda i: int(i[1:]))  # repeated formulas in pool order


def test_chunks_are_read_one_at_a_time(pool_csv, tmp_path):
    """The chunk iterator is drawn lazily: when a chunk is drawn, the earlier ones have been screened."""
    path = tmp_path / "pool.csv"
    path.write_bytes(pool_csv)
    screened_so_far: list[int] = []

    def chunks():
        for chunk in tables.read_chunks(str(path), rows=100):
            screened_so_far.append(progress[-1] if progress else 0)
            yield chunk

    progress: list[int] = []
    result = stream.screen_chunks(chunks(), ["baseline"], FILTERS, 5, progress.append)
    assert screened_so_far == [0, 100, 200, 300] and result.rows == 311 and len(result.shortlist) == 5


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_written_tables_read_back_as_read_pool_reads_them(tmp_path, suffix):
    frame = pd.DataFrame({"id": ["a", "b", "c", "d", "e"], "formula": ["MgB2", "Nb3Sn", "", "NaCl", "FeSe"],
                          "note": [1, 2, 3, 4, 5]})
    path = str(tmp_path / f"pool{suffix}")
    with tables.TableWriter(path) as writer:
        writer.write(frame.iloc[:3])
        writer.write(frame.iloc[3:])
    assert writer.rows == 5 and tables.count_rows(path) == 5
    chunks = list(tables.read_chunks(path, rows=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    expected = read_pool("pool.csv", frame.to_csv(index=False).encode())
    pd.testing.assert_frame_equal(pd.concat(chunks), expected, check_dtype=False)


def test_standard_input_and_output(monkeypatch, capsys):
    with tables.TableWriter(tables.STDIO) as writer:
        writer.write(pd.DataFrame({"formula": pd.Series([], dtype=str)}))  # the header, once
        writer.write(pd.DataFrame({"formula": ["MgB2", "NbN"]}))
        writer.write(pd.DataFrame({"formula": ["Nb3Ge"]}))
    written = capsys.readouterr().out
    assert written.splitlines() == ["formula", "MgB2", "NbN", "Nb3Ge"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(written.encode())))
    assert tables.count_rows(tables.STDIO) is None
    assert pd.concat(tables.read_chunks(tables.STDIO))["id"].tolist() == ["MgB2", "NbN", "Nb3Ge"]


@pytest.mark.parametrize("name, content, message", [
    ("x.csv", b"name\nMgB2\n", "'x.csv' needs a 'formula' column"),
    ("x.csv", b"", "Could not read 'x.csv' as a CSV table"),
    ("x.csv", b"formula\n", "'x.csv' has no rows"),
    ("x.csv", b"formula\n\xff\xfe\n", "Could not read 'x.csv' as a CSV table"),
    ("x.parquet", b"formula\nMgB2\n", "Could not read 'x.parquet' as a Parquet table"),
])
def test_unreadable_tables_are_explained(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        list(tables.read_chunks(str(path)))


def test_a_table_without_rows_is_explained(tmp_path):
    path = str(tmp_path / "empty.parquet")
    with tables.TableWriter(path) as writer:
        writer.write(pd.DataFrame({"formula": pd.Series([], dtype=str)}))
    with pytest.raises(InputError, match="'empty.parquet' has no rows"):
        list(tables.read_chunks(path))
    with pytest.raises(InputError, match="The pool has no rows"):
        stream.screen_chunks([], ["baseline"], FILTERS)


def test_a_writer_refuses_other_files():
    with pytest.raises(InputError, match=r"\.csv or \.parquet file, or - for standard output; not 'x.xlsx'"):
        tables.TableWriter("x.xlsx")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_shards_of_a_file_partition_its_rows_in_order(pool_csv, tmp_path, suffix):
    table = pd.read_csv(io.BytesIO(pool_csv), dtype={"id": str})
    path = str(tmp_path / f"pool{suffix}")
    if suffix == ".csv":
        table.to_csv(path, index=False)
    else:
        table.to_parquet(path, row_group_size=37)  # shards cut across row groups
    whole = pd.concat(tables.read_chunks(path, rows=50))
    for count in (1, 2, 3, 7, len(table) + 5):  # more shards than rows: some are empty
        shards = [list(tables.read_chunks(path, rows=50, shard=(i, count))) for i in range(count)]
        joined = pd.concat([chunk for chunks in shards for chunk in chunks])
        assert joined["id"].tolist() == whole["id"].tolist() and joined["formula"].tolist() == whole["formula"].tolist()
        sizes = [sum(map(len, chunks)) for chunks in shards]
        if suffix == ".parquet":
            assert max(sizes) - min(sizes) <= 1  # rows split evenly
        elif count <= 7:
            assert min(sizes) > len(table) / count / 2  # bytes split evenly: rows roughly so
    with pytest.raises(InputError, match="0 ≤ i < N"):
        next(tables.read_chunks(path, shard=(3, 3)))


def test_standard_input_has_no_shards():
    with pytest.raises(InputError, match="Standard input cannot be split"):
        next(tables.read_chunks(tables.STDIO, shard=(0, 2)))


@pytest.mark.parametrize("top", [None, 25])
def test_shards_screened_apart_and_merged_are_the_whole_screening(pool_csv, tmp_path, top):
    """What each Ray task of `sc screen --backend ray` does (parts.screen_shard), run here in turn."""
    from sc_core.screening import parts

    path = tmp_path / "pool.csv"
    path.write_bytes(pool_csv)
    rows = [parts.screen_shard(str(path), i, 4, ["baseline"], FILTERS, top, str(tmp_path)) for i in range(4)]
    merged, whole = parts.merge(str(tmp_path), rows, FILTERS, top), in_memory(pool_csv, top)
    assert sum(rows) == merged.rows == whole.rows and min(rows) > 0
    pd.testing.assert_frame_equal(merged.shortlist, whole.shortlist, check_dtype=False)
    pd.testing.assert_frame_equal(merged.unscored, whole.unscored, check_dtype=False)
    with pytest.raises(InputError, match="The pool has no rows"):
        parts.merge(str(tmp_path), [0, 0], FILTERS, top)
