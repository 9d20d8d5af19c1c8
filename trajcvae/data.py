"""Files -> tracks: read trajectory CSVs and ETH/UCY text files into one validated table.

The table has one row per observation: `scene, frame, agent_id, x, y`, sorted by scene, agent and frame.
Every problem with a file is a `DataError` naming the file, the line and what is wrong.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .errors import DataError

REQUIRED = ("frame", "agent_id", "x", "y")
SUFFIXES = (".csv", ".txt", ".tsv", ".parquet")


def list_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories (recursively) into the trajectory files they hold, sorted."""
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
    return files


def read_tracks(paths: Iterable[str | Path] | pd.DataFrame) -> pd.DataFrame:
    """Read files (or check a DataFrame) into the canonical track table.

    CSV files need a header holding at least `frame, agent_id, x, y` (any order or case; an optional
    `scene` column; other columns are ignored). Headerless files are read as ETH/UCY: `frame agent_id x y`,
    whitespace or comma separated. The scene is the `scene` column, or else the file's stem.
    """
    if isinstance(paths, pd.DataFrame):
        tables = [_canonical(paths.copy(), "dataframe", "input", header_lines=0)]
    else:
        tables = [_read_one(f) for f in list_files(paths)]
    df = pd.concat(tables, ignore_index=True)
    _check_duplicates(df)
    df = df.sort_values(["scene", "agent_id", "frame"], kind="stable").reset_index(drop=True)
    return df[["scene", "frame", "agent_id", "x", "y", "_src"]]


def _read_one(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".parquet":
        try:
            raw = pd.read_parquet(path)
        except Exception as e:  # pyarrow raises many types for a non-Parquet file
            raise DataError(f"{path}: cannot read as Parquet ({type(e).__name__})") from None
        return _canonical(raw, str(path), path.stem, header_lines=0, row_word="row")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (not UTF-8); expected CSV or ETH/UCY text") from None
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise DataError(f"{path}: empty file (no rows)")
    has_header = any(c.isalpha() for c in first.replace("nan", "").replace("inf", "").lower())
    sep = "," if "," in first else r"\s+"
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, header=0 if has_header else None, dtype=str,
                          skip_blank_lines=False, keep_default_na=False, na_values=[""],
                          engine="python" if sep != "," else "c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise DataError(f"{path}: not a readable CSV/text table ({str(e).splitlines()[0]})") from None
    if not has_header:
        if raw.shape[1] != 4:
            raise DataError(f"{path}: line 1 has {raw.shape[1]} columns and no header; headerless files "
                            "must be 'frame agent_id x y' (add a header row to a CSV)")
        raw.columns = list(REQUIRED)
    return _canonical(raw, str(path), path.stem, header_lines=1 if has_header else 0)


def _canonical(raw: pd.DataFrame, name: str, scene: str, header_lines: int,
               row_word: str = "line") -> pd.DataFrame:
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise DataError(f"{name}: missing column(s) {', '.join(missing)} (have: {', '.join(raw.columns)})")
    # 1-based line numbers in the file, for error messages; blank lines are not rows.
    raw = raw.copy()
    raw["_line"] = np.arange(len(raw)) + 1 + header_lines
    blank = raw[list(REQUIRED)].isna().all(axis=1)
    raw = raw[~blank]
    if len(raw) == 0:
        raise DataError(f"{name}: empty file (no rows)")
    out = pd.DataFrame({"_line": raw["_line"].to_numpy()})
    for col in ("frame", "x", "y"):
        out[col] = _numeric(raw[col], raw["_line"], name, col, row_word)
    out["agent_id"] = _agent_ids(raw["agent_id"], raw["_line"], name, row_word)
    if "scene" in raw.columns:
        sc = raw["scene"]
        bad = sc.isna() | (sc.astype(str).str.strip() == "")
        if bad.any():
            raise DataError(f"{name} {row_word} {raw['_line'].to_numpy()[bad.to_numpy()][0]}: empty 'scene'")
        out["scene"] = sc.astype(str).str.strip().to_numpy()
    else:
        out["scene"] = scene
    out["_src"] = name + " " + row_word + " " + out["_line"].astype(str)
    return out.drop(columns="_line")


def _numeric(col: pd.Series, lines: pd.Series, name: str, what: str, row_word: str) -> np.ndarray:
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = col.iloc[i]
        kind = "missing" if pd.isna(shown) else ("not finite" if _parses(shown) else "not a number")
        raise DataError(f"{name} {row_word} {lines.iloc[i]}: column '{what}' value {shown!r} is {kind}")
    return values


def _parses(text) -> bool:
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def _agent_ids(col: pd.Series, lines: pd.Series, name: str, row_word: str) -> np.ndarray:
    if col.isna().any():
        i = int(np.flatnonzero(col.isna().to_numpy())[0])
        raise DataError(f"{name} {row_word} {lines.iloc[i]}: column 'agent_id' is missing")
    num = pd.to_numeric(col, errors="coerce")
    if num.notna().all() and np.all(np.isfinite(num)) and np.all(num == np.round(num)):
        return num.to_numpy().astype(np.int64)  # ETH/UCY writes ids as 1.0: keep them as integers
    return col.astype(str).str.strip().to_numpy(dtype=object)


def _check_duplicates(df: pd.DataFrame) -> None:
    key = df[["scene", "frame", "agent_id"]].astype(str)
    dup = key.duplicated(keep=False)
    if dup.any():
        rows = df.loc[dup].copy()
        rows["_k"] = key[dup].agg("|".join, axis=1)
        first = rows.groupby("_k", sort=False)["_src"].apply(list).iloc[0]
        r = rows.iloc[0]
        raise DataError(f"{first[1]}: duplicate (scene, frame, agent_id) = ({r.scene}, {r.frame:g}, "
                        f"{r.agent_id}); first seen at {first[0]}")
    if df["agent_id"].map(type).nunique() > 1:  # a mix of numeric and string ids across files
        df["agent_id"] = df["agent_id"].astype(str)


@dataclass
class SceneSteps:
    """Time step (in frame-id units) of each scene, and how its tracks split into gap-free segments."""

    step: dict[str, float]
    segments: int
    gaps: int


def time_steps(df: pd.DataFrame, time_step: float | None = None) -> SceneSteps:
    """Infer each scene's step as the most common positive frame difference within agents' tracks."""
    steps: dict[str, float] = {}
    segments = gaps = 0
    for scene, g in df.groupby("scene", sort=True):
        same = g["agent_id"].to_numpy()[1:] == g["agent_id"].to_numpy()[:-1]
        diffs = np.diff(g["frame"].to_numpy())[same]
        if time_step is not None:
            step = float(time_step)
        elif (diffs > 0).any():
            vals, counts = np.unique(np.round(diffs[diffs > 0], 9), return_counts=True)
            step = float(vals[np.argmax(counts)])
        else:
            frames = np.unique(g["frame"].to_numpy())
            if len(frames) < 2:
                raise DataError(f"scene '{scene}': only one frame ({frames[0]:g}); cannot infer the time "
                                "step (pass --time-step)")
            step = float(np.min(np.diff(frames)))
        steps[str(scene)] = step
        n_gaps = int(np.sum(~np.isclose(diffs, step)))
        gaps += n_gaps
        segments += g["agent_id"].nunique() + n_gaps
    return SceneSteps(steps, segments, gaps)
