"""Pool tables in chunks, so that a pool of any size is never held whole: CSV or Parquet files and standard input
(CSV) read chunk by chunk, and CSV or Parquet files and standard output (CSV) written chunk by chunk."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
import pandas as pd

from sc_core.io import InputError, excerpt, quote, table_pool

STDIO = "-"  # the path that means standard input (reading) or standard output (writing)
TABLE_SUFFIXES = (".csv", ".parquet")
CHUNK_ROWS = 20_000  # rows read, screened or written at a time (Model.predict's batch size)
_COUNT_BLOCK = 1 << 20


def is_table(path: str) -> bool:
    """Whether `path` names a table read or written in chunks: standard input or output, a .csv or .parquet file."""
    return path == STDIO or path.lower().endswith(TABLE_SUFFIXES)


def _label(path: str) -> str:
    return "standard input" if path == STDIO else quote(Path(path).name)


def _pyarrow() -> Any:
    """The pyarrow package with its Parquet module, or InputError saying how to install it."""
    try:
        import pyarrow.parquet
    except ImportError:
        raise InputError("Parquet files need pyarrow: pip install pyarrow (or use a .csv file).") from None
    return pyarrow


def _parquet_file(path: str) -> Any:
    """The Parquet file at `path`, opened; InputError if it is not one."""
    try:
        return _pyarrow().parquet.ParquetFile(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError, ArrowIOError an OSError
        raise InputError(f"Could not read {_label(path)} as a Parquet table ({excerpt(exc, 150)}).") from exc


def count_rows(path: str) -> int | None:
    """The rows of the table at `path` (a CSV's lines after the header, so only an estimate if quoted cells hold
    line breaks); None for standard input, which cannot be read twice."""
    if path == STDIO:
        return None
    if path.lower().endswith(".parquet"):
        return _parquet_file(path).metadata.num_rows
    lines, last = 0, b"\n"
    with open(path, "rb") as stream:
        while block := stream.read(_COUNT_BLOCK):
            lines, last = lines + block.count(b"\n"), block[-1:]
    return max(lines + (last != b"\n") - 1, 0)


def read_chunks(path: str, rows: int = CHUNK_ROWS, shard: tuple[int, int] | None = None) -> Iterator[pd.DataFrame]:
    """Pool rows (as :func:`sc_core.io.read_pool` reads a CSV, without its row limit) of the table at `path`,
    `rows` at a time, numbered across chunks; InputError for a file that is not such a table.

    ``shard=(i, N)`` reads only shard i of N contiguous shards of a file (together they partition its rows in
    order; an empty shard gives no chunk): a Parquet file's rows split evenly, a CSV file's bytes split evenly
    at line starts, so each reader seeks to its own part and never reads the rest (one row per line)."""
    if shard is not None:
        check_shard(*shard)
        if path == STDIO:
            raise InputError("Standard input cannot be split into shards: give a CSV or Parquet file.")
    label, start = _label(path), 0
    for table in _raw_chunks(path, rows, label, shard):
        yield table_pool(table.set_axis(pd.RangeIndex(start, start + len(table))), label)
        start += len(table)


def check_shard(index: int, count: int) -> None:
    """InputError unless shard `index` of `count` exists (0 ≤ index < count)."""
    if count < 1 or not 0 <= index < count:
        raise InputError(f"A shard is i/N with 0 ≤ i < N; got {index}/{count}.")


def _raw_chunks(path: str, rows: int, label: str, shard: tuple[int, int] | None) -> Iterator[pd.DataFrame]:
    """The table at `path` (or its shard) as read, `rows` at a time (ids and formulas as text); a table without
    rows is one empty chunk, an empty shard none."""
    if path.lower().endswith(".parquet"):
        yield from _parquet_chunks(path, rows, label, shard)
        return
    source: Any = sys.stdin.buffer if path == STDIO else path
    if shard is not None:
        part = _CsvShard(path, *shard)
        if part.empty:
            part.close()
            return
        source = io.BufferedReader(part)
    try:
        with pd.read_csv(source, dtype={"id": str, "formula": str}, chunksize=rows) as reader:
            yield from reader
    except ValueError as exc:  # pandas' parser, empty-input and decoding errors are all ValueErrors
        raise InputError(f"Could not read {label} as a CSV table ({excerpt(exc, 150)}).") from exc
    finally:
        if shard is not None:
            source.close()


def _parquet_chunks(path: str, rows: int, label: str, shard: tuple[int, int] | None) -> Iterator[pd.DataFrame]:
    file = _parquet_file(path)
    n = file.metadata.num_rows
    first, stop = (0, n) if shard is None else (shard[0] * n // shard[1], (shard[0] + 1) * n // shard[1])
    if shard is not None and first == stop:
        return
    try:
        if not n:
            batches: Iterable[Any] = [file.schema_arrow.empty_table()]
        else:  # the row groups that hold rows first..stop, cut to them
            sizes = np.array([file.metadata.row_group(g).num_rows for g in range(file.num_row_groups)])
            starts = np.cumsum(sizes) - sizes
            groups = np.flatnonzero((starts + sizes > first) & (starts < stop)).tolist()
            offset = int(starts[groups[0]])
            batches = _cut(file.iter_batches(batch_size=rows, row_groups=groups), first - offset, stop - offset)
        for batch in batches:
            table = batch.to_pandas()
            for column in {"id", "formula"} & set(table.columns):
                table[column] = table[column].map(lambda v: v if v is None else str(v))
            yield table
    except (OSError, ValueError) as exc:  # as in _parquet_file, from a damaged row group
        raise InputError(f"Could not read {label} as a Parquet table ({excerpt(exc, 150)}).") from exc


def _cut(batches: Iterable[Any], first: int, stop: int) -> Iterator[Any]:
    """Rows first..stop (counted from the first batch's first row) of a stream of record batches."""
    at = 0
    for batch in batches:
        low, high = max(first - at, 0), min(stop - at, len(batch))
        if high > low:
            yield batch.slice(low, high - low)
        at += len(batch)
        if at >= stop:
            return


class _CsvShard(io.RawIOBase):
    """Shard i of N of a CSV file as a readable stream: its header line, then the lines that start in the i-th
    N-th of the bytes after it (a line belongs to the shard where its first byte lies)."""

    def __init__(self, path: str, index: int, count: int) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 (closed with the stream)
        self._header = self._file.readline()
        body, size = self._file.tell(), os.fstat(self._file.fileno()).st_size
        start, self._stop = (self._line_start(body + (size - body) * k // count, body) for k in (index, index + 1))
        self.empty = start >= self._stop
        self._file.seek(start)

    def _line_start(self, at: int, body: int) -> int:
        """The first line start at or after byte `at`."""
        if at <= body:
            return body
        self._file.seek(at - 1)
        self._file.readline()
        return self._file.tell()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._header:
            n = min(len(buffer), len(self._header))
            buffer[:n], self._header = self._header[:n], self._header[n:]
            return n
        n = min(len(buffer), self._stop - self._file.tell())
        if n <= 0:
            return 0
        data = self._file.read(n)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()


class TableWriter:
    """Writes a table chunk by chunk to a .csv or .parquet file, or as CSV to standard output (``-``)."""

    def __init__(self, path: str) -> None:
        if not is_table(path):
            raise InputError(f"The output must be a .csv or .parquet file, or - for standard output; "
                             f"not {quote(path)}.")
        self.path, self.rows = path, 0
        self._parquet: Any = None
        self._stream: IO[str] | None = None

    def write(self, chunk: pd.DataFrame) -> None:
        """Append `chunk` (the same columns every time)."""
        if self.path.lower().endswith(".parquet"):
            table = _pyarrow().Table.from_pandas(chunk, preserve_index=False)
            if self._parquet is None:
                self._parquet = _pyarrow().parquet.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table)
        else:
            first = self._stream is None
            if self._stream is None:
                self._stream = sys.stdout if self.path == STDIO else open(self.path, "w", newline="")  # noqa: SIM115
            chunk.to_csv(self._stream, index=False, header=first)
        self.rows += len(chunk)

    def close(self) -> None:
        """Finish the file (a Parquet footer); standard output is flushed, not closed."""
        if self._parquet is not None:
            self._parquet.close()
        if self._stream is not None:
            self._stream.flush()
            if self._stream is not sys.stdout:
                self._stream.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
