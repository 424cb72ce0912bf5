"""Pool tables in chunks, so that a pool of any size is never held whole: CSV or Parquet files and standard input
(CSV) read chunk by chunk, and CSV or Parquet files and standard output (CSV) written chunk by chunk."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

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


def read_chunks(path: str, rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Pool rows (as :func:`sc_core.io.read_pool` reads a CSV, without its row limit) of the table at `path`,
    `rows` at a time, numbered across chunks; InputError for a file that is not such a table."""
    label, start = _label(path), 0
    for table in _raw_chunks(path, rows, label):
        yield table_pool(table.set_axis(pd.RangeIndex(start, start + len(table))), label)
        start += len(table)


def _raw_chunks(path: str, rows: int, label: str) -> Iterator[pd.DataFrame]:
    """The table at `path` as read, `rows` at a time (ids and formulas as text); a table without rows is one empty
    chunk."""
    if path.lower().endswith(".parquet"):
        file = _parquet_file(path)
        try:
            empty = [file.schema_arrow.empty_table()]
            batches = file.iter_batches(batch_size=rows) if file.metadata.num_rows else empty
            for batch in batches:
                table = batch.to_pandas()
                for column in {"id", "formula"} & set(table.columns):
                    table[column] = table[column].map(lambda v: v if v is None else str(v))
                yield table
        except (OSError, ValueError) as exc:  # as in _parquet_file, from a damaged row group
            raise InputError(f"Could not read {label} as a Parquet table ({excerpt(exc, 150)}).") from exc
        return
    source: Any = sys.stdin.buffer if path == STDIO else path
    try:
        with pd.read_csv(source, dtype={"id": str, "formula": str}, chunksize=rows) as reader:
            yield from reader
    except ValueError as exc:  # pandas' parser, empty-input and decoding errors are all ValueErrors
        raise InputError(f"Could not read {label} as a CSV table ({excerpt(exc, 150)}).") from exc


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
