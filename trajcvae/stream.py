"""Chunked, atomic table output: write a big prediction table piece by piece, never all of it in memory,
and never leave a half-written file behind.

Pieces go to a temp file beside the target (`.NAME.PID.tmp`); only `commit()` renames it onto the target,
so a crash, a kill or an error mid-way leaves the target as it was (absent, or the previous complete file).
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

UNSAFE = (",", '"', "\n", "\r")  # text holding any of these needs CSV quoting


class TableWriter:
    """`with TableWriter(path) as w: w.write(df1); w.write(df2)` -> one CSV (or Parquet for *.parquet).

    Every piece must have the same columns and dtypes (a categorical column: the same categories). CSV
    floats are written with 4 decimals, as `predict.write_table` does. Leaving the block normally commits
    (renames the temp file onto `path`); leaving it by an exception deletes the temp file.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.parquet = self.path.suffix.lower() == ".parquet"
        self.rows = 0
        self.written = False
        self._file = None
        self._pq = None
        self._schema = None

    def __enter__(self) -> "TableWriter":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, df: pd.DataFrame) -> None:
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df, preserve_index=False)
            if self._pq is None:
                self._schema = table.schema
                self._pq = pq.ParquetWriter(self.tmp, self._schema)
            self._pq.write_table(table.cast(self._schema))
        else:
            if self._file is None:
                self._file = open(self.tmp, "wb")
                head = io.StringIO()
                csv.writer(head, lineterminator="\n").writerow([str(c) for c in df.columns])
                self._file.write(head.getvalue().encode("utf-8"))
            table = _arrow_csv_table(df)
            if table is None:  # values that need quoting, or floats too big for the fast path
                self._file.write(df.to_csv(None, index=False, header=False, float_format="%.4f",
                                           lineterminator="\n").encode("utf-8"))
            elif len(df):
                import pyarrow.csv as pc

                pc.write_csv(table, self._file, pc.WriteOptions(include_header=False, quoting_style="none"))
        self.written = True
        self.rows += len(df)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._close()
            if exc_type is None:
                if not self.written:
                    raise ValueError("TableWriter: nothing was written")
                os.replace(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._pq is not None:
            self._pq.close()
            self._pq = None
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


def _arrow_csv_table(df: pd.DataFrame):
    """The piece as an Arrow table that pyarrow's (fast) CSV writer turns into exactly what
    `df.to_csv(float_format="%.4f")` writes (but "0.0000" for tiny negatives); None where it cannot."""
    import pyarrow as pa
    import pyarrow.compute as pac

    cols = {}
    for name, col in df.items():
        if isinstance(col.dtype, pd.CategoricalDtype):
            values = col.cat.categories.astype(str)
            if any(u in v for v in values for u in UNSAFE):
                return None
            codes = col.cat.codes.to_numpy()
            if (codes < 0).any():
                return None
            cols[name] = pac.take(pa.array(np.asarray(values, dtype=object), pa.string()), pa.array(codes))
        elif pd.api.types.is_float_dtype(col):
            v = col.to_numpy(dtype=np.float64)
            if len(v) and not (np.isfinite(v).all() and np.abs(v).max() < 1e13):
                return None
            cols[name] = pac.cast(pa.array(v), pa.decimal128(18, 4), safe=False)  # rounds to 4 decimals
        elif pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col):
            cols[name] = pa.array(col.to_numpy())
        else:
            values = pd.unique(col.to_numpy(dtype=object))
            if any(not isinstance(v, str) or any(u in v for u in UNSAFE) for v in values):
                return None
            cols[name] = pa.array(col.to_numpy(dtype=object), pa.string())
    return pa.table(cols)
