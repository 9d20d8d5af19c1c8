"""Files -> tracks: read trajectory CSVs and ETH/UCY text files into one validated table.

The table has one row per observation: `scene, frame, agent_id, x, y`, sorted by scene, agent and frame,
plus `_file` and `_line`, where each row came from (for error messages; see `where`).
Every problem with a file is a `DataError` naming the file, the line and what is wrong. Two repairs are
made and counted (see `tracks.summarize`): rows repeated exactly (same scene, frame, agent and position) are
dropped, and blank lines are skipped. Rows out of frame order are sorted.

Big files: text files are parsed straight into numeric columns by pandas' C parser (never held as text or
as one Python string per value); only a file that fails that fast parse is re-read, in chunks, as text,
to name the line at fault (both in `parse`). The table takes about 40 bytes a row (about 140 at the peak
while reading).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .errors import DataError
from .parse import COLUMNS, REQUIRED  # noqa: F401  (the table's columns: part of this module's API)
from .parse import _canonical, _read_fast, _read_parquet, _read_slow, _sniff

SUFFIXES = (".csv", ".txt", ".tsv", ".parquet")


def list_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories (recursively) into the trajectory files they hold, sorted; a file named twice
    (directly and through its folder) is read once."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
            if not found:
                raise DataError(f"{p}: directory holds no .csv/.txt/.tsv/.parquet files")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise DataError(f"{p}: no such file or directory")
    if not files:
        raise DataError("no input files given")
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def read_tracks(paths: Iterable[str | Path] | pd.DataFrame) -> pd.DataFrame:
    """Read files (or check a DataFrame) into the canonical track table.

    CSV files need a header holding at least `frame, agent_id, x, y` (any order or case; an optional
    `scene` column; other columns are ignored). Headerless files are read as ETH/UCY: `frame agent_id x y`,
    whitespace or comma separated. The scene is the `scene` column, or else the file's stem.
    `df.attrs` records `files` (how many were read) and `duplicates_dropped`.
    """
    if isinstance(paths, pd.DataFrame):
        tables, n_files = [_canonical(paths, "dataframe", "input", first_line=1, row_word="row")], 0
    else:
        files = list_files(paths)
        tables, n_files = [_read_one(f) for f in files], len(files)
    return _combine(tables, n_files)


def where(df: pd.DataFrame, i: int) -> str:
    """Where row `i` (by position) of a track table came from, e.g. 'data/a.csv line 12'."""
    name = str(df["_file"].iloc[i])
    word = "row" if name == "dataframe" or name.lower().endswith(".parquet") else "line"
    return f"{name} {word} {int(df['_line'].iloc[i])}"


# --- one file ------------------------------------------------------------------------------------------

def _read_one(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path)
    fmt = _sniff(path)
    table = _read_fast(path, fmt)
    if table is None:  # something is wrong: find the first bad line, slowly, chunk by chunk
        table = _read_slow(path, fmt)
    return table


# --- all files -----------------------------------------------------------------------------------------

def _combine(tables: list[pd.DataFrame], n_files: int) -> pd.DataFrame:
    """One table from all files: sorted by scene, agent, frame (stable: ties keep file order); exact
    repeats of a row dropped (and counted in `attrs`); the same (scene, frame, agent) at two different
    positions an error naming both lines. Works on whole columns: about one copy of the table at a time."""
    numeric = [pd.api.types.is_numeric_dtype(t["agent_id"]) for t in tables]
    if any(numeric) and not all(numeric):
        for t in tables:  # a mix of numeric and string ids across files: all become strings
            t["agent_id"] = t["agent_id"].astype(str).to_numpy(dtype=object)
    scene = pd.api.types.union_categoricals([t["scene"].array for t in tables], sort_categories=True)
    files = pd.api.types.union_categoricals([t["_file"].array for t in tables])
    col = {c: (np.concatenate([t[c].to_numpy() for t in tables]) if len(tables) > 1 else tables[0][c].to_numpy())
           for c in ("frame", "agent_id", "x", "y", "_line")}
    del tables
    scene_codes = scene.codes
    agent_key = col["agent_id"] if all(numeric) else pd.factorize(col["agent_id"], sort=True)[0]
    order = np.lexsort((col["frame"], agent_key, scene_codes))
    # Rows with the same key are now adjacent, in file order.
    same = _equal_next(scene_codes, order) & _equal_next(agent_key, order) & _equal_next(col["frame"], order)
    del agent_key
    dropped = 0
    if same.any():
        moved = _equal_next(col["x"], order) & _equal_next(col["y"], order)
        clash = np.flatnonzero(same & ~moved)
        if len(clash):
            c = clash[np.argmin(order[clash + 1])]  # the clash seen first in the files
            first = c
            while first > 0 and same[first - 1]:
                first -= 1
            i, j = order[c + 1], order[first]
            src = pd.DataFrame({"_file": files, "_line": col["_line"]}, copy=False)
            raise DataError(f"{where(src, i)}: duplicate (scene, frame, agent_id) = ({scene[i]}, "
                            f"{col['frame'][i]:g}, {col['agent_id'][i]}) at another position; first seen at "
                            f"{where(src, j)}")
        keep = np.ones(len(order), bool)
        keep[1:] = ~same
        order = order[keep]
        dropped = int(len(keep) - len(order))
    if dropped or not (order[1:] > order[:-1]).all():
        for c in list(col):  # one column at a time, each old one freed as soon as it is replaced
            col[c] = col[c][order]
        scene = pd.Categorical.from_codes(scene_codes[order], dtype=scene.dtype)
        files = pd.Categorical.from_codes(files.codes[order], dtype=files.dtype)
    df = pd.DataFrame({"scene": scene, **{c: col[c] for c in ("frame", "agent_id", "x", "y")}, "_file": files,
                       "_line": col["_line"]}, copy=False)
    df.attrs.update(files=n_files, duplicates_dropped=dropped)
    return df


def _equal_next(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """values[order][1:] == values[order][:-1], one temporary copy at a time."""
    v = values[order]
    return v[1:] == v[:-1]
