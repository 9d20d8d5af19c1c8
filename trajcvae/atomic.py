"""Everything the project writes goes through here: a temp file beside the target, renamed onto it only
once complete. A crash, a kill or an error at any moment leaves the target as it was (absent, or the
previous complete file), never a half-written one; temp files a killed writer left behind are removed by
a later write to the same target, once untouched for 10 minutes (each temp file names its writer's process
and when it started, so a writer still at work keeps its own). A target that exists keeps its permissions;
a symbolic link is followed, so the file it points to is the one replaced.

`atomic_path` is the one helper; `write_bytes`/`write_text` write small files through it, `TableWriter`
writes a big table piece by piece (never all of it in memory), and checkpoints use `write_bytes`.
"""
from __future__ import annotations

import csv
import glob
import io
import os
import re
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from .errors import TrajCVAEError

WINDOWS = os.name == "nt"  # processes are looked up by their own calls there (`process_alive`)
UNSAFE = (",", '"', "\n", "\r")  # text holding any of these needs CSV quoting


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """`with atomic_path(out) as tmp: write to tmp` -> `out` appears complete, or not at all.

    The temp file `.NAME.PID-START.RANDOM{suffix}` lies in `out`'s folder (so the rename is atomic); on
    success it is flushed to disk and renamed onto `out`, and the rename itself is made durable; on any
    exception it is deleted, with the folders this call made for it. `suffix` ends in the real extension
    for writers that pick a format from the name."""
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    made = [f for f in [path.parent, *path.parent.parents] if not f.exists()]  # deepest first
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=suffix, dir=path.parent)
    except OSError as e:
        _remove_folders(made)
        raise _cannot_write(path, e) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        _permissions(tmp, path)
        os.replace(tmp, path)
    except BaseException as e:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # (a folder that takes new files but lets none go): the write's own error is the news
            left = f" (its temp file {tmp} is left: remove it)"
        else:
            left = ""
        _remove_folders(made)
        # A write that fails (a full disk, a quota) names the target, not its temp file; a writer whose own
        # error hides the system's (matplotlib's PDF: an AttributeError while handling it) too.
        failed = _system_error(e)
        if failed is not None and failed.filename in (None, str(tmp), name):
            raise TrajCVAEError(f"{_cannot_write(path, failed)}{left}") from None
        raise
    remove_stale(path, suffix)
    _fsync_dir(path.parent)


def _permissions(tmp: Path, path: Path) -> None:
    """A file replaced keeps its permissions and, where allowed, its group; a new one gets what a plain
    open() would give it (mkstemp makes it private)."""
    try:
        kept = path.stat()
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return
    os.chmod(tmp, stat.S_IMODE(kept.st_mode))
    if hasattr(os, "chown"):  # (not on Windows, whose files have no group to keep)
        try:
            os.chown(tmp, -1, kept.st_gid)
        except OSError:
            pass


def _temp_prefix(path: Path) -> str:
    """`.NAME.PID-START.`: the writer's process and when it started (`process_started`); NAME cut to 180
    bytes, so that any name the file system takes leaves room for the rest."""
    return f"{_temp_stem(path)}{os.getpid()}-{process_started(os.getpid()) or 0}."


def _temp_stem(path: Path) -> str:
    return "." + os.fsencode(path.name)[:180].decode(errors="ignore") + "."


def _remove_folders(made: list[Path]) -> None:
    """Remove the folders an unfinished write made (deepest first), where nothing else was put in them."""
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            return


def _system_error(e: BaseException) -> OSError | None:
    """`e` where it is the system's refusal (an OSError), else the one it was raised from or while handling, if
    any, but for one its raiser set aside (`raise ... from None`: its own line is the news)."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, OSError):
            return e
        seen.add(id(e))
        e = e.__cause__ if e.__cause__ is not None else None if e.__suppress_context__ else e.__context__
    return None


def _cannot_write(path: Path, e: OSError) -> TrajCVAEError:
    return TrajCVAEError(f"{path}: cannot write it: {e.strerror or e}")


def write_bytes(path: str | Path, write: Callable[[io.BufferedWriter], object]) -> None:
    """Call `write(f)` on a binary file that becomes `path` only once it returns."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)


def write_text(path: str | Path, text: str) -> None:
    """Write a small text file (config, metrics, JSON) atomically."""
    write_bytes(path, lambda f: f.write(text.encode("utf-8")))


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write a whole table as CSV (or Parquet when the name ends in .parquet) atomically."""
    with TableWriter(path) as writer:
        writer.write(df)


def remove_stale_of(folder: Path, names: str, suffix: str = ".tmp", quiet: float = 600.0) -> None:
    """`remove_stale` for each target in `folder` whose name matches the glob `names` and that has temp files
    there: for targets whose writer may never come back to them (a cache entry of a key not asked again)."""
    pattern = re.compile(r"\.(.+)\.\d+-\d+\.[a-z0-9_]{8}" + re.escape(suffix))
    for name in {m[1] for t in folder.glob(f".{names}.*{suffix}") if (m := pattern.fullmatch(t.name))}:
        remove_stale(folder / name, suffix, quiet)


def remove_stale(path: Path, suffix: str = ".tmp", quiet: float = 600.0) -> None:
    """Temp files of `path` (and of no other target) whose writer is gone (killed), as their names say, and
    untouched for `quiet` seconds (a writer whose process this one cannot see, in another container or on
    another host sharing the folder, is still writing to its file)."""
    stem = _temp_stem(path)
    pattern = re.compile(re.escape(stem) + r"(\d+)-(\d+)\.[a-z0-9_]{8}" + re.escape(suffix))
    for stale in path.parent.glob(f"{glob.escape(stem)}*{glob.escape(suffix)}"):
        m = pattern.fullmatch(stale.name)
        if m is None or process_alive(int(m[1]), "" if m[2] == "0" else m[2]):
            continue
        try:
            if stale.stat().st_mtime < time.time() - quiet:
                stale.unlink()
        except OSError:
            pass


def process_started(pid: int) -> str:
    """When process `pid` started, in the system's clock ticks since boot (Linux's /proc); "" elsewhere."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def process_alive(pid: int, started: str = "") -> bool:
    """Whether process `pid` runs, and is the one that started at `started` (when known on both sides)."""
    if WINDOWS:  # os.kill(pid, 0) there sends Ctrl+C to a console, or fails for a pid that is gone
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        pass
    except (OverflowError, ValueError):
        return False
    now = process_started(pid)
    return not (started and now and now != started)


def _windows_process_alive(pid: int) -> bool:
    """Whether process `pid` runs, by Windows' own calls: a handle to it whose exit code is still STILL_ACTIVE
    (259); a process denied to us exists."""
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED
    try:
        code = ctypes.c_ulong()
        return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259
    finally:
        kernel32.CloseHandle(handle)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class TableWriter:
    """`with TableWriter(path) as w: w.write(df1); w.write(df2)` -> one CSV (or Parquet for *.parquet).

    Every piece must have the same columns and dtypes (a categorical column: the same categories). CSV
    floats are written with `decimals` decimals (4: a tenth of a millimetre in metres), or as many as
    `column_decimals` gives their column (positions in other units), those of the `exact` columns (shares,
    which must sum to 1) as the shortest text that reads back the same. The pieces go to a
    temp file (`atomic_path`): leaving the block normally renames it onto `path`; leaving it by an exception
    deletes it.
    """

    def __init__(self, path: str | Path, decimals: int = 4, exact: tuple[str, ...] = (),
                 column_decimals: dict[str, int] | None = None):
        self.path = Path(path)
        self.decimals, self.exact, self.column_decimals = decimals, exact, column_decimals or {}
        self.parquet = self.path.suffix.lower() == ".parquet"
        self.rows = 0
        self.written = False
        self._file = None
        self._pq = None
        self._schema = None

    def __enter__(self) -> "TableWriter":
        self._target = atomic_path(self.path)
        self.tmp = self._target.__enter__()
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
            table = _arrow_csv_table(df, self.decimals, self.exact, self.column_decimals)
            if table is None:  # values that need quoting, or floats too big for the fast path
                shown = df.assign(**{c: _exact_text(df[c]) for c in self.exact if c in df},
                                  **{c: df[c].map(lambda v, d=d: "" if pd.isna(v) else f"{v:.{d}f}")
                                     for c, d in self.column_decimals.items() if c in df})
                # Python's csv quotes a value holding the line terminator (\n) but not a lone \r, which readers
                # take for a line break: a piece holding one is quoted whole.
                cr = any(_holds_cr(shown[c]) for c in shown)
                self._file.write(shown.to_csv(None, index=False, header=False, float_format=f"%.{self.decimals}f",
                                              lineterminator="\n", quoting=csv.QUOTE_ALL if cr else csv.QUOTE_MINIMAL
                                              ).encode("utf-8"))
            elif len(df):
                import pyarrow.csv as pc

                pc.write_csv(table, self._file, pc.WriteOptions(include_header=False, quoting_style="none"))
        self.written = True
        self.rows += len(df)

    def write_lines(self, text: str, rows: int) -> None:
        """Lines of a format of their own (TrajNet++ records), in place of a table's: `rows` of them."""
        if self._file is None:
            self._file = open(self.tmp, "wb")
        self._file.write(text.encode("utf-8"))
        self.written = True
        self.rows += rows

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._close()
            if exc_type is None and not self.written:
                raise ValueError("TableWriter: nothing was written")
        except BaseException as e:
            self._target.__exit__(type(e), e, e.__traceback__)
            raise
        self._target.__exit__(exc_type, exc, tb)

    def _close(self) -> None:
        if self._pq is not None:
            self._pq.close()
            self._pq = None
        if self._file is not None:
            self._file.close()
            self._file = None


def _holds_cr(column: pd.Series) -> bool:
    """Whether a column holds text with a carriage return (a category's: among its categories)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = pd.Series(column.cat.categories)
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    return bool(column.dropna().astype(str).str.contains("\r", regex=False).any())


def _arrow_csv_table(df: pd.DataFrame, decimals: int = 4, exact: tuple[str, ...] = (),
                     column_decimals: dict[str, int] | None = None):
    """The piece as an Arrow table that pyarrow's (fast) CSV writer turns into exactly what
    `df.to_csv(float_format=f"%.{decimals}f")` writes (but "0.0000" for tiny negatives; the `exact` columns
    as written by Python's repr); None where it cannot."""
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
            if name in exact:
                cols[name] = pa.array(_exact_text(v), pa.string())
                continue
            d = (column_decimals or {}).get(name, decimals)
            cols[name] = pac.cast(pa.array(v), pa.decimal128(13 + d, d), safe=False)  # rounds
        elif pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col):
            cols[name] = pa.array(col.to_numpy())
        else:
            values = pd.unique(col.to_numpy(dtype=object))
            if any(not isinstance(v, str) or any(u in v for u in UNSAFE) for v in values):
                return None
            cols[name] = pa.array(col.to_numpy(dtype=object), pa.string())
    return pa.table(cols)


def _exact_text(values) -> list[str]:
    """Floats as the shortest text that reads back the same (0.05, not 0.0500 or 0.05000000000000000277)."""
    return [repr(float(v)) for v in values]
