"""Files -> tracks: read trajectory files into one validated table, infer each scene's time step, and
summarise what was read in one line.

The track table has one row per observation: `scene, frame, agent_id, x, y`, sorted by scene, agent and
frame, plus `_file` and `_line`, where each row came from (for error messages; see `where`). Every problem
with a file is a `DataError` naming the file, the line and what is wrong. Two repairs are made and counted
(see `summarize`): rows repeated exactly (same scene, frame, agent and position) are dropped, and rows out
of frame order are sorted. Blank lines are skipped.

Reading one file: `_sniff` looks at the first MiB only (text or binary, UTF-8 with or without a byte-order
mark, separator `,` `;` or whitespace, a header naming `frame, agent_id, x, y` in any order or case, or
none: a headerless ETH/UCY file; SDD, MOTChallenge and TrajNet++ files by their first row). Then
`_read_fast` parses the whole file straight into numeric columns with pandas' C parser (never held as text
or as one Python string per value); only a file that fails it is re-read by `_read_slow`, in chunks of
`SLOW_CHUNK` rows, as text, to name the line at fault. The table takes about 40 bytes a row (about 140 at
the peak while reading).
"""
from __future__ import annotations

import codecs
import csv
import math
import numbers
import os
import re
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import DataError, warn
from .resample import EPS

REQUIRED = ("frame", "agent_id", "x", "y")
TIME_NAMES = ("time", "t", "timestamp")  # a column in seconds that may stand in for `frame`
ID_NAMES = ("id", "track_id", "object_id")  # an agent's id, where there is no `agent_id` column (MOT writes `id`)
# Columns of WGS84 degrees that stand in for `x, y` (GPS tracks): projected to metres per scene.
LON_NAMES, LAT_NAMES = ("lon", "lng", "long", "longitude"), ("lat", "latitude")
# Per-agent columns kept beside the positions and carried through to the predictions (e.g. SDD's label).
AGENT_COLUMNS = ("label", "type", "class", "category")
TRACK_COLUMNS = ["scene", "frame", "agent_id", "x", "y", "_file", "_line"]
# What a file's column may be read as (`--columns role=column`): a time role's suffix names its unit, the
# number of its units a second (time_ns: nanoseconds, as ROS and Argoverse stamps are written).
PER_SECOND = {"time": 1.0, "time_ms": 1e3, "time_us": 1e6, "time_ns": 1e9}
UNIT_NAMES = {"time": "seconds", "time_ms": "milliseconds", "time_us": "microseconds", "time_ns": "nanoseconds"}
COLUMN_ROLES = ("frame", *PER_SECOND, "agent_id", "x", "y", "lon", "lat", "scene", "label")
SUFFIXES = (".csv", ".txt", ".tsv", ".parquet", ".ndjson")
PACKED = (".gz", ".bz2", ".xz", ".zst", ".zip")  # compressed files, named when a folder holds them
SDD_FIELDS = ("agent_id", "xmin", "ymin", "xmax", "ymax", "frame", "lost", "occluded", "generated", "label")
SDD_FPS = 30.0  # the Stanford Drone Dataset's videos
MOT_FIELDS = ("frame", "id", "bb_left", "bb_top", "bb_width", "bb_height", "conf", "x", "y", "z")  # results
MOT_GT_FIELDS = MOT_FIELDS[:6] + ("consider", "class", "visibility")  # MOT16/17/20 ground truth (gt.txt)
MOT_CLASSES = ("Pedestrian", "Person on vehicle", "Car", "Bicycle", "Motorbike", "Non motorized vehicle",
               "Static person", "Distractor", "Occluder", "Occluder on the ground", "Occluder full", "Reflection",
               "Crowd")  # gt.txt's class ids 1..13
MOT_AGENTS = 7  # classes 1..7 are people and vehicles; the rest (distractors, occluders, ...) are dropped
SNIFF_BYTES = 1 << 20  # the header (or first row) must lie within the first MiB
SLOW_CHUNK = 200_000  # rows per chunk when re-reading a bad file as text to find the line at fault
MAX_COORD = 1e9  # larger positions are no coordinates in metres (UTM northings stay below 1e7)
MAX_RAW = 1e15  # larger input values lose a tenth of a millimetre to float64 rounding in any units
WGS84_A, WGS84_F = 6378137.0, 1 / 298.257223563  # the GPS ellipsoid: equatorial radius (m), flattening
MAX_DISTORTION = 0.005  # the largest scale error of a scene's local projection of longitude and latitude
# pandas before 3.1 parse text of 17 significant digits only to within 1 ulp (its C parser is not correctly
# rounded), so one number written two ways ("180.817907249555", "180.81790724955499") would read as two, and
# a file would read differently under pandas 3.0 and 3.1. Text numbers are read correctly rounded on all.
ROUGH_PARSER = tuple(int(part) for part in pd.__version__.split(".")[:2]) < (3, 1)


def list_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories (recursively) into the trajectory files they hold, sorted, but for hidden ones
    (a name or folder starting with '.': a notebook's .ipynb_checkpoints copy is no scene of its own); a
    file named twice (directly and through its folder) is read once."""
    if isinstance(paths, (str, os.PathLike)):  # one file or folder
        paths = [paths]
    if not isinstance(paths, Iterable) or isinstance(paths, dict):
        raise DataError(f"expected file paths or a DataFrame as the data, got {type(paths).__name__}")
    paths = list(paths)
    odd = next((p for p in paths if not isinstance(p, (str, os.PathLike))), None)
    if odd is not None:
        raise DataError(f"expected file paths or a DataFrame as the data, got a {type(odd).__name__} among them")
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            visible = [f for f in p.rglob("*") if f.is_file()
                       and not any(part.startswith(".") for part in f.relative_to(p).parts)]
            found = sorted(f for f in visible if f.suffix.lower() in SUFFIXES)
            texts = Counter(f.parent for f in found if f.suffix.lower() == ".txt")
            found = [f for f in found if texts[f.parent] < 2 or not _class_names(f)]
            detections = [f for f in found if _mot_detections(f)]  # no tracks: a MOTChallenge sequence's det.txt
            found = [f for f in found if f not in detections]
            packed_line = _compressed_tracks(visible)
            if not found:
                raise DataError(f"{p}: directory holds no .csv/.txt/.tsv/.parquet/.ndjson files"
                                + (f", only {packed_line}" if packed_line else "")
                                + (f", only MOTChallenge detections ({detections[0]}): track them first"
                                   if detections else ""))
            if packed_line:
                warn(f"warning: {p}: skipped {packed_line}")
            if detections:
                warn(f"warning: {p}: skipped {_n(len(detections), 'MOTChallenge detection file')} ("
                     f"{detections[0].relative_to(p)}{', ...' if len(detections) > 1 else ''}: detections, not tracks)")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        elif p.exists():  # a pipe (`<(zcat x.gz)`), a device: read once, they cannot be read as the tracks are
            raise DataError(f"{p}: not a regular file (a pipe or a device); write the tracks to a file first")
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


def _class_names(path: Path) -> bool:
    """A labels.txt of class names, one a line, as CVAT's MOT export writes beside its tracks: a file of that
    name that does not read as tracks (its first MiB; a class named "2" or "person, adult" included)."""
    if path.name != "labels.txt":
        return False
    try:
        _sniff(path)
    except DataError:
        return True
    except OSError:
        pass
    return False


def _mot_detections(path: Path) -> bool:
    """A MOTChallenge sequence's detections, det/det.txt beside its seqinfo.ini: boxes no tracker has linked."""
    return path.name == "det.txt" and path.parent.name == "det" and (path.parent.parent / "seqinfo.ini").is_file()


def _compressed_tracks(files: list[Path]) -> str | None:
    """What a folder's compressed track files (x.csv.gz) are, which are not read, so that a folder read in part
    says so: "2 compressed track files (a.csv.gz, ...); decompress them first"."""
    packed = sorted(f.name for f in files if f.suffix.lower() in PACKED and Path(f.stem).suffix.lower() in SUFFIXES)
    if not packed:
        return None
    many = len(packed) > 1
    return (f"{len(packed)} compressed track file{'s' if many else ''} ({packed[0]}{', ...' if many else ''}); "
            f"decompress {'them' if many else 'it'} first")


def _same_path(a: Path, b) -> bool:
    try:
        return a.resolve() == Path(b).resolve()
    except OSError:
        return False


def read_tracks(paths: Iterable[str | Path] | pd.DataFrame, fps: float | None = None,
                scale: float | str | Path | dict | None = None,
                homography: str | Path | np.ndarray | None = None,
                classes: str | Iterable[str] | None = None, default_fps: float | None = None,
                columns: str | Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read files (or check a DataFrame) into the canonical track table.

    CSV files need a header holding at least `frame, agent_id, x, y` (any order or case; an optional `scene` column;
    per-agent columns `AGENT_COLUMNS` such as `label` are kept, other columns ignored); a `time` (or `t`,
    `timestamp`) column in seconds may stand in for `frame` (and is read in place of a frame column beside it,
    unless `fps` is given for the frame ids). Headerless files are read as ETH/UCY: `frame agent_id x y`,
    whitespace or comma separated. The scene is the `scene` column, or else the file's stem. Three formats are
    recognised by their content: the Stanford Drone Dataset's `annotations.txt` (bounding boxes in pixels at
    30 fps: box centres, lost boxes dropped, the quoted class kept as `label`), MOTChallenge boxes (a
    tracker's results or `gt.txt`: foot points in pixels at the rate of the sequence's seqinfo.ini,
    `_read_mot`) and TrajNet++ `.ndjson` (its `track` records; frame ids at the rate its `scene` records
    give). `classes` (a list, or one comma-separated string) keeps only agents of those labels. `columns`
    ('frame=timestep,agent_id=track_id,x=position_x,y=position_y', or a dict {role: column}) reads a CSV's or
    Parquet file's (or the DataFrame's) columns of other names as those roles (`COLUMN_ROLES`; any case),
    in place of the columns that would otherwise be: a time column as `time` (seconds) or in milli-, micro-
    or nanoseconds as `time_ms`, `time_us`, `time_ns`.

    Frame ids are `fps` per second where given; else at a format's own rate (files of different own rates
    are each read at theirs, all timed in seconds: frame id / rate); else at `default_fps` (a model's
    training rate) where given; else of unknown rate. `df.attrs["rate_from"]` says which: "fps",
    "file", "files" (several own rates, timed in seconds), "model" or None.

    The table's time column is always called `frame`; `df.attrs["time_base"]` says what it holds:
    "seconds" (a time column), "frames" (frame ids at `fps` per second, `attrs["fps"]`), or "steps" (frame
    ids of unknown rate: each scene's most common difference is taken as one model step, as on ETH/UCY).
    Positions become metres: `scale` is metres per input unit (0.01 for centimetres), or each scene's (a
    file or a dict: `scene_scales`); `homography` a 3x3 matrix (or a text file of one) taking image pixels
    (u, v, 1) to metres, as ETH/UCY's H.txt files do.
    Columns `lon, lat` (or `lng`/`long`/`longitude`, `latitude`) in place of `x, y` are WGS84 degrees,
    projected to metres east and north of each scene's first position (`_lonlat_units`).
    `df.attrs["units"]` keeps the conversion, so outputs can be given back in the input's units;
    `df.attrs["columns"]` the columns read under other names (`column_map`'s), or None.
    `df.attrs` also records `files` (how many were read), `duplicates_dropped` and `rows_sorted` (rows read
    after a later row of their agent, put in time order).
    """
    units = unit_conversion(scale, homography)
    check_fps(fps)
    columns = column_map(columns)
    if isinstance(paths, pd.DataFrame):
        _not_futures("the table", list(paths.columns))
        tables, n_files = [_canonical(paths, "dataframe", "input", first_line=1, row_word="row",
                                      frames=fps is not None, typed=True, columns=columns)], 0
        names = ["dataframe"]
    else:
        files = list_files(paths)
        for given in (homography, scale):  # ETH/UCY's folders hold their H.txt, SDD's its scales
            if isinstance(given, (str, os.PathLike)) and len(files) > 1:
                files = [f for f in files if not _same_path(f, given)]
        tables, n_files = [_read_one(f, fps is not None, columns) for f in files], len(files)
        names = [str(f) for f in files]
        _distinct_scenes(tables, files)
    if isinstance(classes, str):  # "Pedestrian,Biker", as --classes and data.classes give it
        classes = classes.split(",")
    elif isinstance(classes, Iterable):
        classes = list(classes)
    if classes is not None and (not isinstance(classes, list) or not all(isinstance(c, str) for c in classes)):
        raise DataError(f"--classes: expected labels as text (e.g. 'Pedestrian,Biker' or a list of them), got "
                        f"{classes!r}")
    if classes is not None and not any(c.strip() for c in classes):
        raise DataError("--classes names no label: give labels, e.g. Pedestrian,Biker")
    own = [t.attrs.get("fps") for t in tables]  # a format's own rate of frame ids (SDD's 30 fps), else None
    if fps is None and len(set(own)) > 1 and None not in own:  # each file at its own rate: all timed in seconds
        for t, rate in zip(tables, own):
            t["frame"] = t["frame"].to_numpy() / rate
            t.attrs.update(seconds=True, fps=None)
        own, rate_from = [None] * len(tables), "files"
    else:
        rate_from = "fps" if fps is not None else None
    seconds = [bool(t.attrs.get("seconds")) for t in tables]
    if any(seconds) and fps is not None:  # read in seconds with --fps: the file has no frame column
        role = _unit_role(columns)
        what = "a time column in seconds" if role not in (columns or {}) else \
            f"its time column as its clock (--columns {role}={columns[role]})"
        raise DataError(f"--fps {fps:g}: {names[seconds.index(True)]} has {what}, not frame ids; drop --fps")
    if any(seconds) and not all(seconds):
        raise DataError(f"{names[seconds.index(True)]} has a time column in seconds but "
                        f"{names[seconds.index(False)]} has frame ids: give files of one kind at a time")
    if fps is None and len(set(own)) > 1:  # files of their own rates beside one of frame ids of unknown rate
        unknown, rated = own.index(None), next(i for i, r in enumerate(own) if r is not None)
        fix = (f"give --fps {own[rated]:g} if it is at that rate too, or give it apart" if len(set(own)) == 2 else
               "give it apart (with --fps for its rate)")
        raise DataError(f"{names[unknown]} has frame ids of unknown rate but {names[rated]} has {own[rated]:g} frame "
                        f"ids a second: {fix}")
    other = [i for i, r in enumerate(own) if fps is not None and r is not None and abs(r - fps) > EPS * r]
    if other:
        shown = ", ".join(f"{names[i]} ({own[i]:g} a second)" for i in other[:3]) + (", ..." if len(other) > 3 else "")
        warn(f"warning: --fps {fps:g} overrides the own frame rate (a format's, or a seqinfo.ini's) of {shown}; drop "
             "--fps to read each file at its own rate")
    lonlat = [bool(t.attrs.get("lonlat")) for t in tables]
    if any(lonlat) and not all(lonlat):
        raise DataError(f"{names[lonlat.index(True)]} has longitude and latitude columns but "
                        f"{names[lonlat.index(False)]} has x, y: give files of one kind at a time")
    if all(lonlat) and units is not None:
        raise DataError(f"--{'scale' if scale is not None else 'homography'}: {names[0]} holds longitude and "
                        "latitude in degrees, which are projected to metres as they are: drop it")
    if fps is None and not all(seconds):
        if own[0] is not None:  # the rate the format itself gives (SDD, TrajNet++)
            fps, rate_from = own[0], "file"
        elif default_fps is not None:
            check_fps(default_fps)
            fps, rate_from = default_fps, "model"
    video = next((i for i, t in enumerate(tables) if t.attrs.get("needs_rate")), None)
    if fps is None and video is not None and not all(seconds):
        raise DataError(f"{names[video]}: {tables[video].attrs['needs_rate']} are a video's frames, at a rate "
                        "no seqinfo.ini beside it gives: give --fps (the video's frame rate, e.g. 30)")
    coarse = next((t.attrs["coarse"] for t in tables if t.attrs.get("coarse")), None)
    float32_positions = [t.attrs.get("float32_positions") for t in tables]
    if classes is not None:
        unlabelled = next((name for t, name in zip(tables, names) if not any(c in t.columns for c in AGENT_COLUMNS)),
                          None)
        if unlabelled is not None:
            raise DataError(f"--classes: {unlabelled} has no label column (SDD annotations, MOT ground truth, or "
                            "a CSV `label`, `type`, `class` or `category` column; --columns label=<column> reads "
                            "another)")
    df = _combine(tables, n_files)
    del tables
    if classes is not None:  # on all files together: an agent's rows may come from several
        df = _only_classes(df, list(classes), names[0] if len(names) == 1 else f"the {len(names)} files")
    df.attrs.update(time_base="seconds" if all(seconds) else "frames" if fps is not None else "steps",
                    fps=None if all(seconds) else fps, rate_from=rate_from, units=units, coarse=coarse,
                    overrode=bool(other), columns=columns)  # --fps against files' own rates
    uv = df[["x", "y"]].to_numpy(dtype=np.float64)
    if all(lonlat):
        units = df.attrs["units"] = _lonlat_units(df)
    if units is not None and "scales" in units:
        units = df.attrs["units"] = scales_of_scenes(units, df["scene"])
    xy = to_metres(uv, units, df["scene"])
    past, side = beyond_horizon(uv, units)
    bad = ~np.isfinite(xy).all(1) | (np.abs(xy) > MAX_COORD).any(1) | past
    if side:
        units["side"] = side  # where the ground is: futures past it have no pixel (`from_metres`)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        if units is None:
            raise DataError(f"{where(df, i)}: position ({xy[i, 0]:g}, {xy[i, 1]:g}) is beyond {MAX_COORD:.0e} "
                            "in magnitude: not a position in metres (give --scale or --homography)")
        raise DataError(f"{where(df, i)}: position ({df['x'].iloc[i]:g}, {df['y'].iloc[i]:g}) is "
                        f"{xy[i, 0]:g}, {xy[i, 1]:g} in metres: beyond {MAX_COORD:.0e}, not finite or past the "
                        "homography's horizon (check --scale/--homography)")
    if units is not None and "homography" in units:  # the most metres a pixel spans where the data lies
        every = max(1, len(uv) // 10_000)
        with np.errstate(all="ignore"):  # a probe past the horizon is no number: left out
            spans = [np.abs(to_metres(uv[::every] + d, units) - xy[::every]).sum(1) / 1e-3
                     for d in ((1e-3, 0.0), (0.0, 1e-3))]
        spans = np.concatenate(spans)
        spans = spans[np.isfinite(spans)]
        if len(spans):
            units["metres_per_unit"] = float(spans.max())
    if not df.attrs["coarse"]:
        df.attrs["coarse"] = _coarse_positions(float32_positions, units)
    if not df.attrs["coarse"]:
        track = df["scene"].cat.codes.to_numpy(), df["agent_id"].to_numpy()
        same = (track[0][1:] == track[0][:-1]) & (track[1][1:] == track[1][:-1])  # rows i and i + 1: one track
        df.attrs["coarse"] = _coarsely_written(uv, xy, same, df["_file"])
    if units is not None:
        df["x"], df["y"] = xy[:, 0], xy[:, 1]
    return df


def _only_classes(t: pd.DataFrame, classes: list[str], name: str) -> pd.DataFrame:
    """The rows of the agents whose label (a row's first non-empty one of the `AGENT_COLUMNS`: files may
    name it differently) is one of `classes` (any case): whole tracks, each agent judged by its latest
    non-empty label, as the predictions write it (a tracker's label may flicker along a track). `t`: the
    table of all files (`_combine`'s, sorted by scene, agent and frame; `name` says what it was read from)."""
    wanted = {c.strip().lower() for c in classes if c.strip()}
    key = pd.MultiIndex.from_arrays([t["scene"].astype(str), t["agent_id"]])
    labels = [t[c].to_numpy(dtype=str) for c in AGENT_COLUMNS if c in t.columns]
    label = pd.Series(labels[0], index=key)
    for more in labels[1:]:
        label = label.where(label != "", more)
    # Rows are in time order: the latest label of each agent.
    latest = label[label != ""].groupby(level=[0, 1], sort=False, observed=True).last()
    chosen = latest.str.lower().isin(wanted)
    kept = t[key.isin(latest.index[chosen])].reset_index(drop=True)
    kept.attrs.update(t.attrs)
    found = ", ".join(sorted(set(latest))[:8])
    if not len(kept):
        raise DataError(f"--classes {','.join(classes)}: no agent of those classes in {name} (it has: {found})")
    have = set(latest.str.lower())
    absent = [c.strip() for c in classes if c.strip() and c.strip().lower() not in have]
    if absent and not chosen.all():  # a misspelt class, whose agents were left out
        warn(f"warning: --classes: no agent of class {', '.join(absent)} in {name}, and agents of other classes "
             f"are left out (it has: {found})")
    return kept


def column_map(columns: str | Mapping[str, str] | None) -> dict[str, str] | None:
    """`--columns` ('x=position_x,y=position_y', or a dict {role: column}) checked, as {role: the column's
    name lower-cased}: each named column is read as its role (`COLUMN_ROLES`) in place of any column that
    would otherwise be (`_aliases`). One clock at most (frame, or a time role); x with y, lon with lat."""
    if columns is None:
        return None
    if isinstance(columns, str):
        pairs = []
        for item in (part.strip() for part in columns.split(",")):
            role, eq, column = item.partition("=")
            if not eq or not role.strip() or not column.strip():
                raise DataError(f"--columns {item!r}: expected role=column pairs, comma-separated, e.g. "
                                "frame=timestep,agent_id=track_id,x=position_x,y=position_y")
            pairs.append((role.strip().lower(), column.strip()))
    elif isinstance(columns, Mapping) and all(isinstance(c, str) and c.strip() for c in columns.values()):
        pairs = [(str(role).strip().lower(), column.strip()) for role, column in columns.items()]
    else:
        raise DataError(f"--columns: expected 'role=column,...' text or a dict of column names, got {columns!r}")
    if not pairs:
        raise DataError("--columns names no column: give role=column pairs, e.g. x=position_x,y=position_y")
    out: dict[str, str] = {}
    for role, column in pairs:
        if role not in COLUMN_ROLES:
            raise DataError(f"--columns {role}={column}: no role {role!r}; the roles are {', '.join(COLUMN_ROLES)}")
        if role in out:
            raise DataError(f"--columns: {role} is given twice")
        if column.lower() in out.values():
            raise DataError(f"--columns: column '{column}' is given for two roles")
        out[role] = column.lower()
    clocks = [r for r in out if r == "frame" or r in PER_SECOND]
    if len(clocks) > 1:
        raise DataError(f"--columns: {' and '.join(clocks)}: give one clock (frame ids, or a time)")
    for a, b in (("x", "y"), ("lon", "lat")):
        if (a in out) != (b in out):
            raise DataError(f"--columns: {a if a in out else b} without {b if a in out else a}: name both")
    if "x" in out and "lon" in out:
        raise DataError("--columns: x, y and lon, lat exclude each other: name one pair")
    return out


def check_fps(fps: float | None) -> None:
    """--fps: None (no rate given) or a positive, finite number of frame ids per second."""
    if fps is not None and not (_is_number(fps) and np.isfinite(fps) and fps > 0):
        raise DataError(f"--fps must be a positive number of frames per second (got {fps!r})")


def _is_number(value) -> bool:
    """A real number given as one (not text, a list or a bool), as the Python API's rates and scales are."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def unit_conversion(scale: float | str | Path | Mapping | None, homography) -> dict | None:
    """The conversion of input positions to metres, checked: None (already metres), a scale, scales per
    scene (`scene_scales`: a file's, or a dict {scene: metres per unit}) or a matrix."""
    if scale is not None and homography is not None:
        raise DataError("--scale and --homography exclude each other: give one")
    if isinstance(scale, (str, os.PathLike, Mapping)) and not (isinstance(scale, str) and _parses(scale)):
        return scene_scales(scale)
    if scale is not None:
        if not (_is_number(scale) and np.isfinite(scale) and scale > 0):
            raise DataError(f"--scale must be a positive number of metres per input unit (got {scale!r})")
        return {"scale": float(scale)}
    if homography is None:
        return None
    if isinstance(homography, (str, Path)):
        where_ = f"--homography {homography}"
        try:
            text = Path(homography).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise DataError(f"{where_}: cannot read it ({getattr(e, 'strerror', None) or type(e).__name__})") from None
        # Numbers separated by blanks, commas or semicolons; '#' starts a comment, as in numpy's text files.
        tokens = [t for line in text.splitlines() for t in re.split(r"[\s,;]+", line.split("#")[0]) if t]
        bad = next((t for t in tokens if not _parses(t)), None)
        if bad is not None:
            raise DataError(f"{where_}: {bad!r} is not a number (expected a 3x3 matrix)")
        H = np.array([float(t) for t in tokens], dtype=np.float64)
    else:
        try:
            H, where_ = np.asarray(homography, dtype=np.float64), "homography"
        except (TypeError, ValueError):
            raise DataError(f"homography: expected a 3x3 matrix or the path of a text file holding one, got "
                            f"{type(homography).__name__}") from None
    if H.size != 9:
        raise DataError(f"{where_}: expected a 3x3 matrix of 9 numbers (got {H.size})")
    if not np.isfinite(H).all():
        raise DataError(f"{where_}: the matrix holds a value that is not finite (nan or inf)")
    H = H.reshape(3, 3)
    if abs(np.linalg.det(H)) < 1e-12 * max(1.0, np.abs(H).max() ** 3):
        raise DataError(f"{where_}: the matrix is singular (it cannot map pixels to metres and back)")
    return {"homography": H.tolist()}


CERTAIN = 0.9  # a scale the file gives with a lower certainty (OpenTraj's SDD guesses: 0) is warned of


def scene_scales(given: str | os.PathLike | Mapping) -> dict:
    """Scales per scene, checked, as `units` {"scales": {scene: metres per unit}, "estimated": [scenes whose
    scale the file gives with a certainty under `CERTAIN`], "source": how messages name them}. `given`: a
    dict, or a file: YAML or JSON {scene: scale}, or the Stanford Drone Dataset's layout as OpenTraj's
    estimated_scales.yaml has it, {scene: {video: {scale: s, certainty: c}}} (the scene deathCircle_video0,
    as `_scene_of` names an annotations.txt); or a table of `scene, scale` columns (comma-, tab- or
    blank-separated). Scene names are kept as written (a YAML key 01 is the scene '01'); a scene given twice
    is refused."""
    if isinstance(given, Mapping):
        raw, source = {str(k): v for k, v in given.items()}, "the scales given"
    else:
        path, source = Path(given).expanduser(), f"--scale {given}"
        if not str(given).strip() or not path.is_file():
            raise DataError(f"{source}: neither a number of metres per unit nor a file of scales per scene "
                            f"({'a folder' if str(given).strip() and path.is_dir() else 'no such file'})")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise DataError(f"{source}: cannot read it ({getattr(e, 'strerror', None) or type(e).__name__})") from None
        raw = _scale_table(text, source) if path.suffix.lower() in (".csv", ".tsv", ".txt") else \
            _scale_mapping(text, source)
    scales, estimated = {}, []
    for name, value in raw.items():
        nested = isinstance(value, Mapping) and "scale" not in value
        for scene, v in (value.items() if nested else [(None, value)]):
            scene = str(name) if scene is None else f"{name}_{scene}"  # SDD: deathCircle_video0
            certainty = v.get("certainty") if isinstance(v, Mapping) else None
            v = v.get("scale") if isinstance(v, Mapping) else v
            if isinstance(v, str) and _parses(v):
                v = float(v)
            if not (_is_number(v) and np.isfinite(v) and v > 0):
                raise DataError(f"{source}: scene '{scene}': scale {v!r} is not a positive number of metres per unit")
            if scene in scales:  # SDD's zara: {video0: ...} beside a zara_video0 of its own
                raise DataError(f"{source}: scene '{scene}' is given twice")
            scales[scene] = float(v)
            if _is_number(certainty) and certainty < CERTAIN:
                estimated.append(scene)
    if not scales:
        raise DataError(f"{source}: it gives no scale")
    return {"scales": scales, "estimated": estimated, "source": source}


def _scale_mapping(text: str, source: str) -> dict:
    """A YAML (or JSON) file's mapping, its keys kept as written (YAML would read 01 as 1 and 010 as 8) and
    none given twice (YAML would keep the last)."""
    import yaml

    class Keys(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            out = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else self.construct_object(key_node)
                if key in out:
                    raise DataError(f"{source} line {key_node.start_mark.line + 1}: '{key}' is given twice")
                out[key] = self.construct_object(value_node, deep=True)
            return out

    Keys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, Keys.construct_mapping)
    try:
        raw = yaml.load(text, Loader=Keys)  # noqa: S506 (a SafeLoader's subclass)
    except yaml.YAMLError as e:
        raise DataError(f"{source}: not YAML or JSON ({first_line(e)})") from None
    if not isinstance(raw, dict):
        raise DataError(f"{source}: expected scenes and their scales ({{scene: metres per unit}}, or SDD's "
                        "{scene: {video: {scale: s}}}), got " + type(raw).__name__)
    return raw


def _scale_table(text: str, source: str) -> dict:
    """A table's `scene, scale` columns as {scene: scale text}: comma-, tab- or blank-separated, quoted names
    ("cam 1") kept whole; a row without its scale, or a scene given twice, is refused by its line."""
    import shlex

    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    head = lines[0][1] if lines else ""
    sep = "," if "," in head else "\t" if "\t" in head else None

    def split(line: str) -> list[str]:
        try:
            parts = next(csv.reader([line], delimiter=sep)) if sep else shlex.split(line)
        except ValueError:  # an unclosed quote
            parts = line.split()
        return [p.strip() for p in parts]

    names = [f.lower() for f in split(head)] if lines else []
    if "scene" not in names or "scale" not in names:
        raise DataError(f"{source}: a table of scales needs a header with columns scene, scale (have: "
                        f"{', '.join(names) or 'nothing'})")
    i, j = names.index("scene"), names.index("scale")
    out = {}
    for n, line in lines[1:]:
        row = split(line)
        if len(row) <= max(i, j) or not row[j]:
            raise DataError(f"{source} line {n}: no scale for scene '{row[i] if len(row) > i else ''}'")
        if row[i] in out:
            raise DataError(f"{source} line {n}: scene '{row[i]}' is given twice")
        out[row[i]] = row[j]
    return out


def scales_of_scenes(units: dict, scenes: pd.Series) -> dict:
    """`scene_scales`' units for the scenes read (each must have its scale), warning of those whose scale is
    an estimate."""
    read = [str(s) for s in pd.unique(scenes.astype(str))]
    missing = [s for s in read if s not in units["scales"]]
    if missing:
        given = list(units["scales"])
        raise DataError(f"{units['source']}: no scale for scene '{missing[0]}'"
                        + (f" (nor for {len(missing) - 1} more)" if len(missing) > 1 else "")
                        + f"; it gives the scales of {', '.join(given[:4])}{' ...' if len(given) > 4 else ''}")
    guessed = [s for s in read if s in units["estimated"]]
    if len(guessed) == 1:
        warn(f"warning: {units['source']}: the scale of scene {guessed[0]} is an estimate (its certainty is below "
             f"{CERTAIN:g}), so its metres are as rough")
    elif guessed:
        warn(f"warning: {units['source']}: the scales of {len(guessed)} scenes read are estimates (their certainty is "
             f"below {CERTAIN:g}), so their metres are as rough: {', '.join(guessed[:4])}"
             f"{' ...' if len(guessed) > 4 else ''}")
    return {"scales": {s: units["scales"][s] for s in read}}


def _scene_factors(units: dict, scenes, ndim: int) -> np.ndarray:
    """Metres per unit of positions (N, ..., 2) whose scenes are `scenes` (N,), shaped to broadcast against
    them: (N, 1, ..., 1)."""
    if scenes is None:
        raise ValueError("positions of scenes of their own scales need their scenes")
    codes, uniques = pd.factorize(np.asarray(scenes, dtype=object).astype(str))
    table = units["scales"]
    missing = next((s for s in uniques if s not in table), None)
    if missing is not None:
        raise DataError(f"scene '{missing}': no scale for it (--scale)")
    f = np.array([table[s] for s in uniques], dtype=np.float64)[codes]
    return f.reshape((len(f),) + (1,) * (ndim - 1))


def scene_units(units: dict | None, scene: str) -> dict | None:
    """The conversion of one scene's positions: with scales per scene, its own scale; else `units`."""
    return {"scale": units["scales"][str(scene)]} if units is not None and "scales" in units else units


def _lonlat_units(df: pd.DataFrame) -> dict:
    """The conversion of a table's longitudes and latitudes (its `x, y`, degrees) to metres: per scene, the
    origin of a local projection (east, north), the scene's earliest position, so every row keeps the
    conversion whatever is observed later; checked by `check_lonlat`."""
    lon, lat = df["x"].to_numpy(dtype=np.float64), df["y"].to_numpy(dtype=np.float64)
    codes, names = df["scene"].cat.codes.to_numpy(), df["scene"].cat.categories
    order = np.lexsort((df["frame"].to_numpy(), codes))  # per scene, earliest first
    starts = order[np.r_[True, codes[order][1:] != codes[order][:-1]]]  # each scene's earliest row
    # A scene whose longitudes go past 180 is written 0-360: its origin's longitude is kept over 180 (plus
    # 360 where it is not), which `from_metres` reads as that convention (the projection is 360-periodic).
    east360 = np.zeros(len(names), bool)
    np.logical_or.at(east360, codes, lon > 180)
    units = {"lonlat": {str(names[codes[i]]): [float(lon[i]) + (360.0 if east360[codes[i]] and lon[i] <= 180 else 0.0),
                                               float(lat[i])] for i in starts}}
    check_lonlat(lon, lat, _origins(units, df["scene"], 2)[:, 1], lambda i: where(df, i),
                 lambda i: str(df["scene"].iloc[i]))
    return units


def check_lonlat(lon: np.ndarray, lat: np.ndarray, lat0: np.ndarray, where: Callable[[int], str],
                 scene: Callable[[int], str], fix: str = "split the scene (a `scene` column, or one file per area)"
                 ) -> None:
    """Refuse, naming the first row at fault (`where(i)`, its scene `scene(i)`): longitudes and latitudes that
    are no degrees, an origin (latitude `lat0`, per row) near a pole, and a row so far north or south of its
    scene's origin that the local projection's scale there is off by more than MAX_DISTORTION (`fix` says
    what to do)."""
    bad = ~((np.abs(lat) <= 90) & (lon >= -180) & (lon <= 360))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        # Most rows wrong and every row right the other way round: the columns are likely swapped.
        swapped = bool(bad.mean() > 0.5 and np.all(np.abs(lon) <= 90) and np.all((lat >= -180) & (lat <= 360)))
        raise DataError(f"{where(i)}: ({lon[i]:g}, {lat[i]:g}) is no longitude, latitude in degrees "
                        "(longitude -180 to 360, latitude -90 to 90)"
                        + ("; are the longitude and latitude columns swapped?" if swapped else ""))
    M0, N0 = _radii(lat0)
    M, N = _radii(lat)
    cos0, cos = np.cos(np.radians(lat0)), np.cos(np.radians(lat))
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.maximum(np.abs(N0 * cos0 / (N * cos) - 1), np.abs(M0 / M - 1))
    error[cos0 < 0.01] = np.inf  # an origin within 0.6 degrees of a pole
    if (error > MAX_DISTORTION).any():
        i = int(np.flatnonzero(error > MAX_DISTORTION)[0])
        if cos0[i] < 0.01:
            raise DataError(f"{where(i)}: scene '{scene(i)}' starts at latitude {lat0[i]:g}, too near a pole to "
                            "project longitude and latitude to metres: give positions in metres (x, y)")
        km = abs(np.radians(lat[i] - lat0[i])) * M0[i] / 1000
        raise DataError(f"{where(i)}: latitude {lat[i]:g} is {km:.3g} km north or south of the first position of "
                        f"scene '{scene(i)}' ({lat0[i]:g}): too far for one local projection to metres (its scale "
                        f"would be off by {error[i]:.1%}); {fix}")


def _radii(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The WGS84 ellipsoid's radii of curvature (metres) at latitudes `lat` (degrees): along the meridian
    (metres north per radian of latitude) and across it (east, per radian of longitude, times cos(lat))."""
    e2 = WGS84_F * (2 - WGS84_F)
    w = np.sqrt(1 - e2 * np.sin(np.radians(lat)) ** 2)
    return WGS84_A * (1 - e2) / w ** 3, WGS84_A / w


def _origins(units: dict, scenes, ndim: int) -> np.ndarray:
    """The projection origins (lon, lat) of positions (N, ..., 2) whose scenes are `scenes` (N,), shaped to
    broadcast against them: (N, 1, ..., 1, 2)."""
    if scenes is None:
        raise ValueError("positions in longitude and latitude need their scenes")
    codes, uniques = pd.factorize(scenes)
    table = units["lonlat"]
    missing = next((str(s) for s in uniques if str(s) not in table), None)
    if missing is not None:
        raise DataError(f"scene '{missing}': none of its positions was read, so its longitude and latitude "
                        "cannot be converted")
    o = np.array([table[str(s)] for s in uniques], dtype=np.float64).reshape(-1, 2)[codes]
    return o.reshape((len(o),) + (1,) * (ndim - 2) + (2,))


def to_metres(xy: np.ndarray, units: dict | None, scenes=None) -> np.ndarray:
    """(..., 2) input positions -> metres. Longitudes and latitudes need the scene of each position
    (`scenes`, along the first axis): each is projected to metres east and north of its scene's origin
    (`_lonlat_units`)."""
    if units is None:
        return xy
    if "scale" in units:
        return xy * units["scale"]
    if "scales" in units:
        return xy * _scene_factors(units, scenes, xy.ndim)
    if "lonlat" in units:
        o = _origins(units, scenes, xy.ndim)
        M, N = _radii(o[..., 1])
        east = np.radians((xy[..., 0] - o[..., 0] + 180) % 360 - 180) * N * np.cos(np.radians(o[..., 1]))
        return np.stack([east, np.radians(xy[..., 1] - o[..., 1]) * M], axis=-1)
    return _project(xy, np.asarray(units["homography"]))


def output_decimals(units: dict | None) -> int:
    """Decimals that keep positions written in the input's units to a tenth of a millimetre: 4 in metres
    (and centimetres, pixels of a few centimetres), 7 in kilometres, 5 in pixels of 5 m (an aerial image),
    9 in degrees of longitude and latitude."""
    if units is not None and "lonlat" in units:
        return 9
    return 4 + max(0, math.ceil(math.log10(_metres_per_unit(units)) - 1e-9))


def _metres_per_unit(units: dict | None) -> float:
    """Metres per input unit: a scale's (the largest of scales per scene), the most a homography's pixel spans
    where the data lies (`read_tracks` measures it), else 1."""
    if units is not None and "scales" in units:
        return max(units["scales"].values())
    return 1.0 if units is None else units.get("scale", units.get("metres_per_unit", 1.0))


def time_decimals(times: np.ndarray, steps: np.ndarray) -> int:
    """Decimals that write the input's times, and so its futures' times (t0 + k steps), as they are: at
    least 4, at most 9. A time written shorter than it was read would name no observation (4.388919
    written 4.3889 falls before the agent's position at t0)."""
    v = np.unique(np.concatenate([np.asarray(times, np.float64).ravel(), np.asarray(steps, np.float64).ravel()]))
    v = v[np.isfinite(v)]
    tol = 4 * np.spacing(np.abs(v))  # the float's own rounding, whatever the magnitude (Unix seconds too)
    for d in range(4, 9):
        if np.all(np.abs(v - np.round(v, d)) <= tol):
            return d
    return 9


def position_columns(units: dict | None) -> tuple[str, str]:
    """The names of the output's position columns: `lon, lat` for an input in degrees, else `x, y`."""
    return ("lon", "lat") if units is not None and "lonlat" in units else ("x", "y")


def from_metres(xy: np.ndarray, units: dict | None, scenes=None) -> np.ndarray:
    """(..., 2) metres -> the input's units (the inverse of `to_metres`; longitudes and latitudes need each
    position's scene, along the first axis). Through a homography, a point past the camera's horizon
    (beyond where the input's pixels lie) has no pixel: it becomes NaN, never a position wrapped to the
    other side of the image (`past_horizon` counts them)."""
    if units is None:
        return xy
    if "scale" in units:
        return xy / units["scale"]
    if "scales" in units:
        return xy / _scene_factors(units, scenes, xy.ndim)
    if "lonlat" in units:
        o = _origins(units, scenes, xy.ndim)
        M, N = _radii(o[..., 1])
        lon = o[..., 0] + np.degrees(xy[..., 0] / (N * np.cos(np.radians(o[..., 1]))))
        base = np.where(o[..., 0] > 180, 0.0, -180.0)  # longitudes as the origin writes them: 0-360 or +-180
        lon = np.where((lon < base) | (lon >= base + 360), (lon - base) % 360 + base, lon)
        return np.stack([lon, o[..., 1] + np.degrees(xy[..., 1] / M)], axis=-1)
    G = np.linalg.inv(np.asarray(units["homography"]))
    uv = _project(xy, G)
    side = units.get("side")
    if side:
        w = xy @ G[2, :2] + G[2, 2]  # the input's pixels have w' of the sign of their own w
        uv[np.sign(w) != side] = np.nan
    return uv


def beyond_horizon(uv: np.ndarray, units: dict | None) -> tuple[np.ndarray, float | None]:
    """(N, 2) input pixels -> which of them lie on or past a homography's horizon (w of the other sign: no
    place on the ground), and the sign of w on the ground's side: `units["side"]` where set, else the side
    most of `uv` lie on. Without a homography: none, and None."""
    if units is None or "homography" not in units or not len(uv):
        return np.zeros(len(uv), bool), None
    H = np.asarray(units["homography"])
    w = uv @ H[2, :2] + H[2, 2]
    side = units.get("side") or float(np.sign(np.median(w)))
    return np.sign(w) != side, side


def past_horizon(uv: np.ndarray) -> int:
    """How many of the (..., 2) positions `from_metres` gave have no pixel (past the homography's horizon)."""
    return int(np.isnan(uv[..., 0]).sum())


def _project(xy: np.ndarray, H: np.ndarray) -> np.ndarray:
    """(..., 2) points through a 3x3 homography (homogeneous coordinates, then divided by w)."""
    p = xy @ H[:, :2].T + H[:, 2]  # (..., 3)
    with np.errstate(divide="ignore", invalid="ignore"):  # a point on the horizon: inf, refused by the caller
        return p[..., :2] / p[..., 2:3]


def seconds_per_unit(df: pd.DataFrame) -> float | None:
    """Seconds per unit of a track table's `frame` column; None when the rate is unknown ("steps")."""
    base = df.attrs.get("time_base", "steps")
    return 1.0 if base == "seconds" else 1.0 / df.attrs["fps"] if base == "frames" else None


def where(df: pd.DataFrame, i: int) -> str:
    """Where row `i` (by position) of a track table came from, e.g. 'data/a.csv line 12'."""
    name = str(df["_file"].iloc[i])
    word = "row" if name == "dataframe" or name.lower().endswith(".parquet") else "line"
    return f"{name} {word} {int(df['_line'].iloc[i])}"


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
    extras = [c for c in AGENT_COLUMNS if any(c in t.columns for t in tables)]
    for t in tables:
        for c in extras:
            if c not in t.columns:
                t[c] = ""
    col = {c: (np.concatenate([t[c].to_numpy() for t in tables]) if len(tables) > 1 else tables[0][c].to_numpy())
           for c in ("frame", "agent_id", "x", "y", "_line", *extras)}
    del tables
    scene_codes = scene.codes
    agent_key = col["agent_id"] if all(numeric) else pd.factorize(col["agent_id"], sort=True)[0]
    order = np.lexsort((col["frame"], agent_key, scene_codes))
    # Rows with the same key are now adjacent, in file order.
    agent_next = _equal_next(scene_codes, order) & _equal_next(agent_key, order)
    del agent_key
    same = agent_next & _equal_next(col["frame"], order)
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
                            f"{col['frame'][i]:.15g}, {col['agent_id'][i]}) at another position; first seen at "
                            f"{where(src, j)}")
        keep = np.ones(len(order), bool)
        keep[1:] = ~same
        agent_next = agent_next[keep[1:]]
        order = order[keep]
        dropped = int(len(keep) - len(order))
    # A row read after a later row of its agent (in the files' order) was out of time order: its file index
    # is above the smallest of the later rows' (in time) of the same agent.
    run = np.cumsum(np.append(True, ~agent_next))  # (n,) each row's agent, in sorted order, increasing
    span = np.int64(len(order) + 1)  # offsets keep each agent's running minimum within its own rows
    later_min = np.minimum.accumulate((order + run * span)[::-1])[::-1] - run * span  # min over rows i.. of its agent
    unsorted = int(np.count_nonzero(agent_next & (order[:-1] > later_min[1:])))
    if dropped or not (order[1:] > order[:-1]).all():
        for c in list(col):  # one column at a time, each old one freed as soon as it is replaced
            col[c] = col[c][order]
        scene = pd.Categorical.from_codes(scene_codes[order], dtype=scene.dtype)
        files = pd.Categorical.from_codes(files.codes[order], dtype=files.dtype)
    df = pd.DataFrame({"scene": scene, **{c: col[c] for c in ("frame", "agent_id", "x", "y")}, "_file": files,
                       "_line": col["_line"], **{c: col[c] for c in extras}}, copy=False)
    df.attrs.update(files=n_files, duplicates_dropped=dropped, rows_sorted=unsorted)
    return df


def _equal_next(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """values[order][1:] == values[order][:-1], one temporary copy at a time."""
    v = values[order]
    return v[1:] == v[:-1]


# --- time steps and the summary line ---------------------------------------------------------------------

@dataclass
class SceneSteps:
    """Time step (in frame-id units) of each scene, and how its tracks split into gap-free segments."""

    step: dict[str, float]
    segments: int
    gaps: int


def time_steps(df: pd.DataFrame, time_step: float | None = None, max_gap: float = 0.8) -> SceneSteps:
    """Infer each scene's step as the most common positive frame difference within agents' tracks (or take
    `time_step`, for frame ids of unknown rate), and count the gaps: for frame ids of unknown rate, every
    difference other than the step; for tracks of a known rate, which are resampled, only differences over
    `max_gap` seconds (shorter ones are bridged).

    A scene with a single frame holds no motion at all (no window can come from it); its step is 1.
    """
    spu = seconds_per_unit(df)
    steps: dict[str, float] = {}
    segments = gaps = 0
    for scene, g in df.groupby("scene", sort=True, observed=True):
        agent = g["agent_id"].to_numpy()
        frame = g["frame"].to_numpy()
        same = agent[1:] == agent[:-1]
        diffs = np.diff(frame)[same]
        if time_step is not None and spu is None:  # a step of frame ids of unknown rate (a known rate's is measured)
            step = float(time_step)
        elif (diffs > 0).any() and spu is not None:  # a known rate, maybe irregular: the typical interval
            step = float(np.median(diffs[diffs > 0]))
        elif (diffs > 0).any():
            vals, counts = np.unique(np.round(diffs[diffs > 0], 9), return_counts=True)
            step = float(vals[np.argmax(counts)])
        else:
            frames = np.unique(frame)
            step = float(np.min(np.diff(frames))) if len(frames) > 1 else 1.0
        steps[str(scene)] = step
        n_gaps = int(np.sum(~np.isclose(diffs, step) if spu is None else diffs * spu > max_gap * (1 + EPS)))
        gaps += n_gaps
        segments += int(np.sum(~same)) + 1 + n_gaps
    return SceneSteps(steps, segments, gaps)


FAR_APART = 10.0  # seconds between an agent's samples (median) that no tracker takes: times in other units?
FAR_STEPS = 4  # ... unless the model's own steps are as long: samples this many steps apart are far apart too
STEPS_DT = 0.4  # the step that frame ids of unknown rate stand for by convention (ETH/UCY's 10 ids at 25 fps)


def far_apart(interval: float, dt: float) -> bool:
    """Whether samples `interval` seconds apart are further apart than a tracker samples for a model of `dt`
    second steps: more than FAR_APART seconds and FAR_STEPS steps (times in milliseconds read as seconds?)."""
    return interval > max(FAR_APART, FAR_STEPS * dt)


def sampling_interval(df: pd.DataFrame) -> float | None:
    """The median time (seconds) between an agent's consecutive samples, for tracks of a known rate; None
    for frame ids of unknown rate or tracks without two samples of one agent."""
    gaps = _sample_gaps(df)
    return float(np.median(gaps)) if gaps is not None and len(gaps) else None


def bridges_any(df: pd.DataFrame, max_gap: float) -> bool:
    """Whether any agent has two consecutive samples at most `max_gap` seconds apart (tracks of a known
    rate; True for frame ids of unknown rate, whose gaps are told by their steps)."""
    gaps = _sample_gaps(df)
    return gaps is None or bool((gaps <= max_gap * (1 + EPS)).any())


def _sample_gaps(df: pd.DataFrame) -> np.ndarray | None:
    """Seconds between each agent's consecutive samples, all agents together; None for frame ids of unknown rate."""
    spu = seconds_per_unit(df)
    if spu is None or len(df) < 2:
        return None
    agent, scene = df["agent_id"].to_numpy(), df["scene"].to_numpy()
    same = (agent[1:] == agent[:-1]) & (scene[1:] == scene[:-1])  # the same agent of the same scene
    return np.diff(df["frame"].to_numpy(dtype=np.float64))[same] * spu


def bridging_gap(interval: float) -> float:
    """The --max-gap to suggest for samples `interval` seconds apart: half an interval more, rounded up to
    0.1 s (so jittered samples are bridged too)."""
    return math.ceil(interval * 15 - 1e-9) / 10


@dataclass
class TrackSummary:
    """What `read_tracks` found, in counts: see `line()`."""

    files: int
    rows: int
    agents: int  # distinct (scene, agent_id)
    scenes: int
    gaps: int  # missing frames (or off-step jumps) inside an agent's track
    segments: int  # gap-free pieces of track (agents + gaps)
    single_frame_agents: int  # agents seen at one frame only: no motion, never predicted
    duplicates_dropped: int  # exact repeats of a row
    rows_sorted: int  # rows read after a later row of their agent, put in time order
    rates: dict[str, float] | None = None  # samples per second of each scene, where the time base is known
    steps: dict[str, float] | None = None  # else each scene's step in frame ids, taken as one model step

    def line(self) -> str:
        where = f"read {_n(self.files, 'file')}" if self.files else "read a table"
        text = (f"{where}: {_n(self.rows, 'row')}, {_n(self.agents, 'agent')}, {_n(self.scenes, 'scene')}; "
                + (f"{_n(self.gaps, 'gap')} split tracks into {_n(self.segments, 'segment')}" if self.gaps
                   else "no gaps"))
        if self.single_frame_agents:
            text += f"; {_n(self.single_frame_agents, 'single-frame agent')}"
        if self.duplicates_dropped:
            text += f"; {_n(self.duplicates_dropped, 'repeated row')} dropped"
        if self.rows_sorted:
            text += f"; {_n(self.rows_sorted, 'row')} out of time order sorted"
        if self.rates:
            shown = [f"{scene}: {_rate(hz)} Hz" for scene, hz in list(self.rates.items())[:3]]
            more = f" and {len(self.rates) - 3} more" if len(self.rates) > 3 else ""
            text += "; " + ", ".join(shown) + more
        elif self.steps:
            distinct = sorted(set(self.steps.values()))
            text += (f"; a step is {distinct[0]:g} frame id{'' if distinct[0] == 1 else 's'}" if len(distinct) == 1 else
                     f"; steps of {', '.join(f'{v:g}' for v in distinct[:3])} frame ids")
            text += " (no --fps: one model step)"
        return text


def _rate(hz: float) -> str:
    """A rate as given (29.97, 12.5) when it has up to 4 significant digits, else to 3 (one measured from
    jittered timestamps: 10, not 10.0398)."""
    exact = f"{hz:.4g}"
    return exact if abs(float(exact) - hz) <= 1e-9 * hz else f"{hz:.3g}"


def summarize(df: pd.DataFrame, time_step: float | None = None, max_gap: float = 0.8) -> TrackSummary:
    """Counts for a table from `read_tracks` (gaps as `time_steps` counts them)."""
    s = time_steps(df, time_step, max_gap)
    scene = df["scene"].cat.codes.to_numpy() if isinstance(df["scene"].dtype, pd.CategoricalDtype) \
        else pd.factorize(df["scene"])[0]
    agent = df["agent_id"].to_numpy()
    new = np.ones(len(df), bool)
    new[1:] = (scene[1:] != scene[:-1]) | (agent[1:] != agent[:-1])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(df)))
    spu = seconds_per_unit(df)
    return TrackSummary(files=int(df.attrs.get("files", 0)), rows=len(df), agents=len(starts),
                        scenes=len(s.step), gaps=s.gaps, segments=s.segments,
                        single_frame_agents=int(np.sum(sizes == 1)),
                        duplicates_dropped=int(df.attrs.get("duplicates_dropped", 0)),
                        rows_sorted=int(df.attrs.get("rows_sorted", 0)),
                        rates=None if spu is None else {k: 1.0 / (v * spu) for k, v in s.step.items()},
                        steps=s.step if spu is None else None)


PACE = 8  # model steps that a "too slow" speed is measured over: 3.2 s for walkers, where noise of a few
# centimetres is no speed even at 60 samples a second, nor does it make 30 frame ids a second read as steps
# look like walking


@dataclass
class _Spans:
    """One scene's moves over one model step `dt`, one from each row whose agent it outlives by a step: to
    the agent's first row at least `dt` seconds on (the next one where samples are sparser). Over a step,
    noise averages out (between samples 1/60 s apart it swamps the motion), and a model's recorded speeds
    are over its steps (`speed_record`). Rows are positions in the table (sorted by scene, agent, time)."""
    scene: str
    start: np.ndarray  # (S,) each span's first row
    end: np.ndarray  # (S,) its last row
    speed: np.ndarray  # (S,) m/s
    track: np.ndarray  # (S,) the track its first row is in (tracks: split by agent and by gaps not bridged)
    joined: np.ndarray  # (S,) bool: its last row is in that track too
    around: np.ndarray  # (S,) m/s: the faster of its track's spans just before and just after it; NaN: none
    paced: np.ndarray  # (Q,) m/s over PACE steps from each row, or a step at least, if its track ends sooner


def _spans(df: pd.DataFrame, dt: float, max_gap: float = 0.8, time_step: float | None = None) -> list[_Spans]:
    """`_Spans` per scene, all scenes in one pass. A track bridges gaps up to `max_gap` seconds; of frame
    ids of unknown rate (whose frame step, `time_step` or each scene's own as `time_steps` infers it,
    counts as `dt` seconds), only one frame step, as `time_steps` counts gaps."""
    n = len(df)
    if not n:
        return []
    scene, names = pd.factorize(df["scene"], sort=False)
    ids = df["agent_id"].to_numpy()
    spu = seconds_per_unit(df)
    if spu is None:
        step = time_steps(df, time_step).step
        per = (dt / np.array([step[str(name)] for name in names]))[scene]  # (N,) seconds per frame id
    else:
        per = spu
    t = df["frame"].to_numpy(dtype=np.float64) * per  # (N,) seconds
    x, y = df["x"].to_numpy(dtype=np.float64), df["y"].to_numpy(dtype=np.float64)
    metres = lambda i, j: np.hypot(x[j] - x[i], y[j] - y[i])  # noqa: E731  rows i to rows j
    new = np.r_[True, (scene[1:] != scene[:-1]) | (ids[1:] != ids[:-1])]  # (N,) an agent's first row
    agent = np.cumsum(new) - 1  # (N,) 0, 1, ... agent after agent
    gap = np.diff(t)
    bridged = gap <= max_gap * (1 + EPS) if spu is not None else np.isclose(gap, dt)
    track = np.cumsum(np.r_[True, new[1:] | ~bridged]) - 1  # (N,)
    # One sorted key, agent after agent (each offset past the last one's end): one search finds every
    # row's span end, and the row a step before it.
    first = np.flatnonzero(new)
    last = np.r_[first[1:], n] - 1
    life = t[last] - t[first] + 2 * dt + 1
    key = t - t[first][agent] + np.r_[0.0, np.cumsum(life)[:-1]][agent]
    reach, rows = dt * (1 - EPS), np.arange(n)
    step_end = np.searchsorted(key, key + reach, side="left")  # (N,)
    ok = step_end <= last[agent]
    start, end = rows[ok], step_end[ok]
    speed = metres(start, end) / (t[end] - t[start])
    joined = track[end] == track[start]
    # The span just after one starts where it ends; the one just before ends where it starts.
    span_of = np.full(n, -1)
    span_of[start] = np.arange(len(start))
    nxt = span_of[end]
    after = np.where((nxt >= 0) & joined[nxt] & joined, speed[nxt], np.nan)
    prior = np.searchsorted(key, key[start] - reach, side="right") - 1
    prior_ok = (prior >= 0) & (track[np.maximum(prior, 0)] == track[start])
    prior = np.maximum(prior, 0)
    back = metres(prior, start) / np.maximum(t[start] - t[prior], reach)
    around = np.fmax(np.where(prior_ok, back, np.nan), after)
    # Paced: within the track, past its gaps only as far as a step goes (where every sample is a track of
    # its own, times in milliseconds, that is the next one).
    track_last = np.r_[np.flatnonzero(np.diff(track)), n - 1]  # (tracks,) each track's last row
    paced_end = np.minimum(np.searchsorted(key, key + reach * PACE, side="left"), track_last[track])
    paced_end = np.where(ok, np.maximum(paced_end, step_end), paced_end)
    moved = paced_end > rows
    paced = metres(rows[moved], paced_end[moved]) / (t[paced_end[moved]] - t[moved])
    # Per scene, in the order scenes first appear.
    out = []
    by, paced_by = np.argsort(scene[start], kind="stable"), np.argsort(scene[moved], kind="stable")
    cut = np.searchsorted(scene[start][by], np.arange(len(names) + 1))
    paced_cut = np.searchsorted(scene[moved][paced_by], np.arange(len(names) + 1))
    for c, name in enumerate(names):
        i, q = by[cut[c]:cut[c + 1]], paced_by[paced_cut[c]:paced_cut[c + 1]]
        out.append(_Spans(str(name), start[i], end[i], speed[i], track[start[i]], joined[i], around[i], paced[q]))
    return out


WALKERS = (0.3, 5.0)  # m/s: the speeds of people walking, for tracks with no model's record to go by
WALKING = "people walking"
BAND = 4.0  # a model knows speeds within this factor of its training tracks' 90th-percentile speed
SEEN_SLOW = 0.1  # a model whose training moves were this often under its band knows agents that slow
JUMP = 4.0  # a track's step this many times as fast as its steps around it (and over the band) is a jump


def speed_record(speeds: np.ndarray) -> dict[str, float]:
    """What a checkpoint keeps of its training tracks' speeds `speeds` (m/s): their 90th percentile, from
    which `speed_band` judges other tracks, and the share of them under that band (standing or queueing
    agents the model has seen, which a too-slow warning names)."""
    p90 = float(np.percentile(speeds, 90))
    return {"p90": p90, "slow": float(np.mean(speeds < p90 / BAND))}


def speed_band(record: dict | None = None) -> tuple[float, float, str]:
    """(low, high, whose): the speeds (m/s) tracks may move at. With a model's `speed_record`: within
    `BAND` times under or over its training tracks' 90th-percentile speed (for ETH/UCY's walkers, 1.2 m/s,
    about 0.3-5 m/s), so a model trained on vehicles knows vehicles; without one: people walking."""
    p90 = record.get("p90") if isinstance(record, dict) else None
    if isinstance(p90, numbers.Real) and not isinstance(p90, bool) and math.isfinite(p90) and p90 > 0:
        return p90 / BAND, p90 * BAND, f"the model's training tracks (90th percentile {_two_digits(p90)} m/s)"
    return (*WALKERS, WALKING)


def _two_digits(v: float) -> str:
    """`v` to two significant digits, without an exponent where it needs none (120, not 1.2e+02)."""
    return f"{float(f'{v:.2g}'):g}"


def time_text(time: float) -> str:
    """A time (seconds or a frame id) in full, to the microsecond: 1700000000.35, not 1.7e+09."""
    return f"{round(float(time), 6):.15g}"


def track_jumps(df: pd.DataFrame, dt: float, max_gap: float, high: float, after: float = -math.inf,
                until: float = math.inf, spans: list[_Spans] | None = None) -> tuple[str | None, list]:
    """(a one-line warning naming the fastest jump, or None; the agent ids of the tracks that jump) when
    tracks jump: a span (`_spans`, within a track, gaps up to `max_gap` bridged) faster than `high` m/s
    (the band's top) and `JUMP` times the faster of its track's spans just before and after: a tracker's id
    that went to another agent, not an agent speeding up (it goes on as fast) or noise. A span with no span
    before or after it (a track of two rows) is not judged: a jump or a fast agent, it cannot tell. Only
    spans that end after `after` and by `until` (in the `frame` column's units) are judged. `spans`:
    `_spans(df, dt, max_gap)`, where the caller has them."""
    count, fastest, agents = 0, None, []
    frame, ids = df["frame"].to_numpy(), df["agent_id"].to_numpy()
    for s in _spans(df, dt, max_gap) if spans is None else spans:
        bad = (s.joined & (frame[s.end] > after) & (frame[s.end] <= until) & (s.speed > high)
               & (s.speed > JUMP * s.around))  # NaN around: False
        if not bad.any():
            continue
        count += len(np.unique(s.track[bad]))
        agents += pd.unique(ids[s.start[bad]]).tolist()
        i = np.flatnonzero(bad)[np.argmax(s.speed[bad])]
        if fastest is None or s.speed[i] > fastest[0].speed[fastest[1]]:
            fastest = (s, i)
    if fastest is None:
        return None, agents
    s, i = fastest
    xy = df[["x", "y"]].to_numpy(dtype=np.float64)[s.start[i]:s.end[i] + 1]
    at = frame[s.start[i] + 1 + int(np.argmax(np.hypot(*np.diff(xy, axis=0).T)))]  # the span's longest move
    when = "time" if df.attrs.get("time_base") == "seconds" else "frame"
    how = "" if seconds_per_unit(df) is not None else f", if one frame step is {dt:g} s"
    metres = float(np.hypot(*(xy[-1] - xy[0])))
    return (f"warning: {count} track{'s jump' if count != 1 else ' jumps'}{'' if count == 1 else '; the fastest'}: "
            f"agent '{ids[s.start[i]]}' in scene '{s.scene}' moves {metres:.3g} m in {metres / s.speed[i]:.3g} s "
            f"at {when} {time_text(at)} ({s.speed[i]:.3g} m/s, against {s.around[i]:.2g} m/s just "
            f"before and after{how}): a tracker's id that went to another agent joins two paths into one "
            "track, whose futures are wrong; give each agent an id of its own"), agents


def _speed_outside(sp: np.ndarray, paced: np.ndarray, low: float, high: float) -> tuple[float, str, str] | None:
    """(speed, what it is, over which moves) when moves at speeds `sp` (m/s, over a step; `paced`: over
    `PACE` steps) are outside [low, high]: the median of `sp` over `high`, or that of the moves faster than
    `low` (cars driving past parked ones), or the 90th percentile of `paced` under `low` (agents standing
    among moving ones are no units error, so too slow means that nine in ten moves are); None when they are
    within it."""
    median = float(np.median(sp))
    if median > high:
        return median, "median speed", ""
    moving = sp[sp >= low]
    if len(moving) and (median := float(np.median(moving))) > high:
        return median, "median speed", f", over the moves faster than {_two_digits(low)} m/s (the others stand still),"
    fast = float(np.percentile(paced, 90)) if len(paced) else high
    if fast < low:
        return fast, "90th-percentile speed", ""
    return None


def plausibility(df: pd.DataFrame, dt: float, record: dict | None = None, min_moves: int = 20,
                 max_gap: float = 0.8, jumps: bool = True, time_step: float | None = None) -> str | None:
    """A one-line warning when the tracks' speeds, or those of one scene (of at least `min_moves` moves), are
    outside `speed_band(record)` (`_speed_outside`; `record`: the model's `speed_record`, None for people
    walking), naming the option that would fix the likely cause (for one scene among others: its file, to
    be given on its own); or, before that, when frame ids move at two rates (`_mixed_steps`; `time_step`:
    one step of frame ids of unknown rate, where given, as `time_steps` takes it); or, after it, when a
    track jumps
    (`track_jumps`, unless `jumps` is False: a step within a track over the band's top and `JUMP` times as
    fast as its track's steps around it; for one scene outside the band, the other scenes' jumps follow on a
    second line); None when all is well. Float32 positions or times too coarse to predict from
    (`attrs["coarse"]`) are warned on a line of their own, before the others; positions written to too few
    decimals only where no other line is said."""
    rest = _rates_speeds_jumps(df, dt, record, min_moves, max_gap, jumps, time_step)
    # Positions written coarsely are judged in metres, which units or a rate in doubt put in doubt too.
    coarse = None if rest and isinstance(df.attrs.get("coarse"), tuple) else coarse_warning(df.attrs)
    return "\n".join(line for line in (coarse, rest) if line) or None


def _frame_rate_hint(df: pd.DataFrame, dt: float, paced: np.ndarray, low: float, time_step: float | None) -> str | None:
    """The warning for frame ids 1 apart, of unknown rate, whose moves are slow though within the band (under
    twice its bottom, nine in ten of them): most likely a video's or a tracker's frames (10 Hz read as 2.5 Hz
    makes walkers 0.35 m/s), each read as one model step; None otherwise. ETH/UCY's slowest scene's 90th
    percentile is 1.1 m/s, and its frame ids are 10 apart."""
    if seconds_per_unit(df) is not None or time_step is not None or not len(paced):
        return None
    fast = float(np.percentile(paced, 90))
    if fast >= 2 * low or any(step != 1 for step in time_steps(df).step.values()):  # (the steps only if slow)
        return None
    return (f"warning: the tracks' frame ids are 1 apart, each read as one {dt:g} s step (no --fps), which "
            f"makes nine in ten of their moves slower than {fast:.2g} m/s: if they count a video's frames or a "
            "tracker's updates, give --fps (their rate)")


def _steps_of_another_length(df: pd.DataFrame, dt: float, time_step: float | None) -> str | None:
    """The warning for frame ids of unknown rate read by a model whose step is not ETH/UCY's 0.4 s: each
    scene's most common difference is taken as one of its steps, a guess only a rate makes real time (cars'
    frame ids at 2.5 Hz read as 10 Hz steps are 4 times too fast, and still inside a car model's speeds)."""
    if seconds_per_unit(df) is not None or time_step is not None or math.isclose(dt, STEPS_DT):
        return None
    return (f"warning: the tracks' frame ids have no known rate, so each scene's most common difference is read as "
            f"one {dt:g} s model step (a convention for 0.4 s steps): give --fps (their rate), or a time column in "
            "seconds, for real speeds and times")


def coarse_warning(attrs: dict) -> str | None:
    """The warning line for a track table's positions or times stored too coarsely (`attrs["coarse"]`: what,
    or what and its fix)."""
    coarse = attrs.get("coarse")
    if not coarse:
        return None
    what, fix = coarse if isinstance(coarse, tuple) else (coarse, "store them as float64 (double)")
    return f"warning: {what}: the futures are that coarse too; {fix}"


def _rates_speeds_jumps(df: pd.DataFrame, dt: float, record: dict | None, min_moves: int, max_gap: float,
                        jumps: bool, time_step: float | None) -> str | None:
    """`plausibility`'s lines after the float32 one: two rates of frame ids, else the speeds, then jumps."""
    mixed = _mixed_steps(df, time_step)
    if mixed:
        return mixed
    guessed = _steps_of_another_length(df, dt, time_step)  # said first, the speeds judged at the guess after it
    rest = _speeds_jumps(df, dt, record, min_moves, max_gap, jumps, time_step)
    return "\n".join(line for line in (guessed, rest) if line) or None


def _speeds_jumps(df: pd.DataFrame, dt: float, record: dict | None, min_moves: int, max_gap: float,
                  jumps: bool, time_step: float | None) -> str | None:
    """`_rates_speeds_jumps`' lines after the rates: the speeds outside the band, then jumps."""
    low, high, whose = speed_band(record)
    steps = _spans(df, dt, max_gap, time_step)
    speeds, paced = {s.scene: s.speed for s in steps}, {s.scene: s.paced for s in steps}
    every = np.concatenate(list(speeds.values())) if speeds else np.zeros(0)
    if not len(every):
        return None
    what, odd = "the tracks", None
    pooled = np.concatenate(list(paced.values()))
    outside = _speed_outside(every, pooled, low, high)
    judged = {scene: _speed_outside(sp, paced[scene], low, high) for scene, sp in speeds.items()
              if len(sp) >= min_moves}
    odds = [scene for scene, said in judged.items() if said is not None]
    # One scene outside among others within (a file in millimetres beside files in metres) is named, whether
    # or not it takes all the tracks' median with it.
    if outside is None or (odds and len(odds) < len(judged)):
        odd = odds[0] if odds else None
        if odd is None:
            lines = [_frame_rate_hint(df, dt, pooled, low, time_step),
                     track_jumps(df, dt, max_gap, high, spans=steps)[0] if jumps else None]
            return "\n".join(line for line in lines if line) or None
        rest = float(np.median(np.concatenate([sp for scene, sp in speeds.items() if scene != odd])))
        outside = judged[odd]
        files = df.loc[df["scene"] == odd, "_file"].astype(str)
        what = f"scene '{odd}'" + (f" ({files.iloc[0]})" if files.nunique() == 1 and files.iloc[0] != "dataframe"
                                   else "")
    known = seconds_per_unit(df) is not None
    how = "" if known else f" if one frame step is {dt:g} s"
    units = df.attrs.get("units") or {}
    v, measure, over = outside
    # Degrees in x, y: a crawl of values within a degree of each other (metres move tens of units), away
    # from (0, 0) (kilometres about a local origin crawl too, in the Gulf of Guinea).
    xy = df[["x", "y"]].to_numpy(dtype=np.float64)
    degrees = (not units and v < low / 100 and np.abs(xy[:, 0]).max() <= 360 and np.abs(xy[:, 1]).max() <= 90
               and (xy.max(0) - xy.min(0)).max() < 1 and np.abs(np.median(xy, axis=0)).max() > 1)
    fixes = ["that the lon and lat columns hold degrees" if "lonlat" in units else
             "--scale or --homography (positions in metres?" + (" Longitudes and latitudes in degrees: name the "
                                                                "columns lon, lat)" if degrees else ")")]
    if df.attrs.get("time_base") == "frames" and df.attrs.get("rate_from") == "file":
        fixes.append(f"the file's own rate ({df.attrs['fps']:g} frame ids a second; --fps overrides it)")
    elif df.attrs.get("time_base") == "frames" and df.attrs.get("rate_from") == "model":
        fixes.append(f"the model's training rate ({df.attrs['fps']:g} frame ids a second; --fps overrides it)")
    elif df.attrs.get("time_base") == "frames":
        fixes.append(f"--fps {df.attrs['fps']:g} (frame ids per second?)")
    elif df.attrs.get("time_base") == "seconds" and df.attrs.get("rate_from") == "files":
        fixes.append("the files' own frame rates (their formats' or seqinfo.ini's; --fps overrides them)")
    elif df.attrs.get("time_base") == "seconds":
        wrong = "" if v < low else ", not minutes"  # minutes read as seconds are too fast, never too slow
        fixes.append(f"the time column ({time_unit_question(df, otherwise=wrong, lead='')})")
    elif not known:
        fixes.append("--fps or a time column in seconds (time between steps?)")
    if odd is not None:  # its file on its own, or, where its file holds other scenes too, its rows
        alone = what != f"scene '{odd}'" and df.loc[df["_file"] == files.iloc[0], "scene"].nunique() == 1
        own = "its file on its own" if alone else "its rows as a file of their own"
    others = "" if odd is None else f"; the other scenes' median is {rest:.3g} m/s, so give {own} with the fix"
    slow = record.get("slow") if isinstance(record, dict) and v < low else None
    if whose == WALKING:
        agents = "; tracks of vehicles or cyclists are expected to get this warning"
    elif isinstance(slow, float) and slow >= SEEN_SLOW:
        agents = (f"; if they are right, they stand or queue, as {slow:.0%} of the model's training moves did "
                  "(it knows agents that slow)")
    else:
        agents = (f"; if they are right, the model knows no agents that {'fast' if v > high else 'slow'}: train one "
                  "on tracks like these (`trajcvae train`)")
    band = f"{_two_digits(low)}-{_two_digits(high)} m/s of {whose}"
    said = (f"warning: the {measure} of {what}{over} is {v:.3g} m/s{how}, outside the {band}: check "
            f"{' and '.join(fixes)}{others}{agents}")
    # The other scenes are within the band, so their jumps are judged as if the odd one were not there.
    jump = track_jumps(df, dt, max_gap, high, spans=[s for s in steps if s.scene != odd])[0] \
        if odd is not None and jumps else None
    return said + (f"\n{jump}" if jump else "")


def _mixed_steps(df: pd.DataFrame, time_step: float | None = None, share: float = 0.25) -> str | None:
    """For frame ids of unknown rate, a one-line warning when a scene steps by another difference than its
    step (`time_step`, else its most common difference) in at least `share` of its moves: frame ids of two
    rates, where every move of the other rate splits a track (missed frames are rarer than that)."""
    if df.attrs.get("time_base", "steps") != "steps":
        return None
    for scene, g in df.groupby("scene", sort=True, observed=True):
        same = g["agent_id"].to_numpy()[1:] == g["agent_id"].to_numpy()[:-1]
        diffs = np.round(np.diff(g["frame"].to_numpy(dtype=np.float64))[same], 9)
        diffs = diffs[diffs > 0]
        if len(diffs) < 20:
            continue
        vals, counts = np.unique(diffs, return_counts=True)
        step = vals[np.argmax(counts)] if time_step is None else round(float(time_step), 9)
        other = diffs[diffs != step]
        if len(other) >= share * len(diffs):
            v, n = np.unique(other, return_counts=True)
            moves = f"warning: scene '{scene}' moves {v[np.argmax(n)]:g} frame ids at a time in " \
                f"{len(other) / len(diffs):.0%} of its moves"
            if time_step is not None:
                return (f"{moves}, not the model's step of {step:g} frame ids (data.time_step): those moves split "
                        "its tracks; give --fps (its frame ids' rate)")
            return (f"{moves}, not its step of {step:g}: frame ids of two rates split its tracks there; give "
                    "--fps, or the rows of each rate as their own file")
    return None


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# --- one file ------------------------------------------------------------------------------------------

def _read_one(path: Path, frames: bool = False, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """One file's table; `attrs["named_by_file"]`: its scene is named after the file (no scene column).
    `frames`: frame ids are the clock where there is a frame column; `columns`: see `_aliases`."""
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path, frames, columns)
    fmt = None if path.suffix.lower() == ".ndjson" else _sniff(path, frames, columns)
    if columns and (fmt is None or not fmt.header):
        kind = ("TrajNet++ records" if fmt is None or fmt.trajnet else "Stanford Drone Dataset annotations"
                if fmt.sdd else "MOTChallenge rows")  # (other rows of numbers are read by number: `_numbered`)
        raise DataError(f"{path}: --columns names a header's columns (or a table's by number), but this file is "
                        f"{kind}, read as their dataset writes them; give it without --columns")
    if fmt is None or fmt.trajnet:
        table = _read_trajnet(path)
        table.attrs["named_by_file"] = True
        return table
    _not_futures(str(path), fmt.names or [])
    if fmt.sdd:
        table = _read_sdd(path, fmt)
    else:
        if fmt.mot:
            table = _read_mot(path, fmt, frames)
        else:
            table = _read_fast(path, fmt)
            if table is None:  # something is wrong: find the first bad line, slowly, chunk by chunk
                table = _read_slow(path, fmt)
            table.attrs.update(seconds=fmt.seconds, lonlat=fmt.lonlat)
        cut = _cut_short(path, fmt)
        if cut:
            warn(cut)
    table.attrs["named_by_file"] = not fmt.names or "scene" not in fmt.names
    return table


def _read_mot(path: Path, fmt: _Format, given_rate: bool = False) -> pd.DataFrame:
    """A MOTChallenge file -> each box's foot point (the middle of its bottom edge, in pixels: the point on
    the ground that a homography maps) per frame id. Frame ids are at the rate of the sequence's seqinfo.ini
    (`frameRate`) where one lies beside the file or a folder up, else `--fps` (or a model's training rate) must
    give it: they are a video's frames, never one model step each (`given_rate`: --fps is given, so a
    seqinfo.ini that cannot be read is not needed). Classes (9 columns: `_mot_labels`) become the `label`."""
    fields = MOT_FIELDS if fmt.mot == len(MOT_FIELDS) else MOT_GT_FIELDS
    used = 6 if fields is MOT_FIELDS else 9  # frame, id, box (and ground truth's flag, class and visibility)
    try:  # numbers straight away; the rest as categories (a confidence, -1s), cheap
        raw = _read_csv(path, fmt, fmt.skip, dtype={i: "float64" if i < used else "category"
                                                    for i in range(fmt.n_fields)})
    except ValueError:  # a value that is no number: read as text, so that `numeric_column` names it
        raw = _read_csv(path, fmt, fmt.skip, dtype=str)
    lines = pd.Series(np.arange(len(raw), dtype=np.int64) + fmt.skip + 1)
    blank = raw.isna().all(axis=1).to_numpy()
    if blank.any():
        raw, lines = raw[~blank].reset_index(drop=True), lines[~blank].reset_index(drop=True)
    if not len(raw):
        raise DataError(f"{path}: empty file (no rows)")
    num = {c: numeric_column(raw[i], lines, str(path), c, "line") for i, c in enumerate(fields[:6])}
    ids = num["id"]
    bad = (ids != np.round(ids)) | (ids < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        kind = (" (a detection no tracker has linked into a track, as in MOTChallenge's det.txt: track the "
                "detections first)" if ids[i] == -1 else ": not a track id")
        raise DataError(f"{path} line {lines[i]}: MOT id {ids[i]:g}{kind}")
    bad = (num["bb_width"] <= 0) | (num["bb_height"] <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{path} line {lines[i]}: MOT box of width {num['bb_width'][i]:g} and height "
                        f"{num['bb_height'][i]:g} (both must be above 0)")
    keep, label = np.ones(len(raw), bool), None
    if fields is MOT_GT_FIELDS:
        keep, label = _mot_labels(path, *(to_numbers(raw[i]) for i in (6, 7, 8)), lines.to_numpy())
    table = pd.DataFrame({
        "frame": num["frame"][keep], "agent_id": ids[keep].astype(np.int64),
        "x": num["bb_left"][keep] + num["bb_width"][keep] / 2, "y": num["bb_top"][keep] + num["bb_height"][keep],
        "_line": lines.to_numpy()[keep],
    })
    if label is not None:
        table["label"] = label[keep]
    table["scene"] = pd.Categorical.from_codes(np.zeros(len(table), np.int8), categories=[_scene_of(path)])
    table["_file"] = pd.Categorical.from_codes(np.zeros(len(table), np.int8), categories=[str(path)])
    table = table[TRACK_COLUMNS + ([] if label is None else ["label"])]
    table.attrs.update(seconds=False, fps=_seqinfo_rate(path, given_rate),
                       needs_rate="a MOTChallenge file's frame ids")
    return table


def _mot_labels(path: Path, flag: np.ndarray, cls: np.ndarray, vis: np.ndarray,
                lines: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Which boxes of a 9-column MOT file to keep, and their labels. Class ids are named by a labels.txt beside
    the file (CVAT's MOT export: line k names class k); else, in MOT16/17/20 ground truth (a 0/1 flag, classes
    1-13, a visibility), by MOT's names, keeping people and vehicles (1-7, flagged 0 or not: a static person
    or a car is still someone's neighbour); else (a tracker's 9 columns: confidence, class id, -1; ground
    truth with classes beyond MOT's, warned of) each id is its label as written ("2"). No class ids (-1, or
    none written): every box, no label."""
    keep = np.ones(len(cls), bool)
    whole = np.isfinite(cls) & (cls == np.round(cls))
    if not whole.all() or (cls == -1).all():
        return keep, None
    ids = cls.astype(np.int64)
    names = _labels_file(path)
    if names.is_file() and _class_names(names):
        try:
            given = [line.strip() for line in names.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError):
            raise DataError(f"{names}: not a UTF-8 text file of class names, one a line") from None
        by_id = np.asarray([""] + given, dtype=object)
        return keep, np.where((ids >= 1) & (ids <= len(given)), by_id[np.clip(ids, 0, len(given))],
                              ids.astype(str).astype(object))
    mot = (ids >= 1) & (ids <= len(MOT_CLASSES))
    truth = np.isin(flag, (0, 1)).all() and (vis >= 0).any()  # a tracker writes -1 in place of a visibility
    if truth and mot.all():
        keep = ids <= MOT_AGENTS
        if not keep.any():
            raise DataError(f"{path}: every box is of a class that is no agent ({', '.join(MOT_CLASSES[7:])})")
        return keep, np.asarray(MOT_CLASSES, dtype=object)[ids - 1]
    if truth:
        i = int(np.flatnonzero(~mot)[0])
        warn(f"warning: {path} line {lines[i]}: class {ids[i]}, beyond MOT's 1-{len(MOT_CLASSES)}: every box is "
             "kept, labelled by its class id (none dropped as a distractor or occluder); a labels.txt beside it "
             "names the classes")
    return keep, ids.astype(str).astype(object)


def _seqinfo_rate(path: Path, given_rate: bool = False) -> float | None:
    """The `frameRate` of the MOTChallenge seqinfo.ini beside `path` or a folder up (MOT17-02/gt/gt.txt beside
    MOT17-02/seqinfo.ini), else None. One that cannot be read is an error unless `given_rate` (--fps gives it)."""
    import configparser

    for ini in _seqinfo_files(path):
        if not ini.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(ini.read_bytes().decode("utf-8-sig"))
            section = next((s for s in parser.sections() if s.lower() == "sequence"), None)
            rate = parser.get(section, "frameRate", fallback=None) if section else None
            problem = None if rate is not None else "no frameRate in a [Sequence] section"
        except UnicodeDecodeError:
            problem = "not UTF-8 text"
        except configparser.Error as e:
            problem = f"not a readable seqinfo.ini ({first_line(e)})"
        if problem is None and not (_parses(rate) and 0 < float(rate) < math.inf):
            problem = f"frameRate {rate!r} is not a rate in frames per second"
        if problem is None:
            return float(rate)
        if given_rate:
            return None
        raise DataError(f"{ini}: {problem}, the rate of {path}'s frame ids (or give --fps)")
    return None


def _seqinfo_files(path: Path) -> tuple[Path, Path]:
    """Where a MOTChallenge file's seqinfo.ini may lie: beside it, or a folder up (a relative path's folders
    too)."""
    folder = Path(os.path.abspath(path)).parent
    return folder / "seqinfo.ini", folder.parent / "seqinfo.ini"


def _labels_file(path: Path) -> Path:
    """Where a MOT file's class names may lie: a labels.txt beside it (CVAT's MOT export)."""
    return Path(os.path.abspath(path)).parent / "labels.txt"


def side_files(path: Path) -> list[Path]:
    """The files beside a track file that its reading may consult, where they exist: a MOTChallenge
    sequence's seqinfo.ini (its rate, `_seqinfo_rate`) and a labels.txt (its class names, `_mot_labels`)."""
    return [f for f in (*_seqinfo_files(path), _labels_file(path)) if f.is_file()]


def _distinct_scenes(tables: list[pd.DataFrame], files: list[Path]) -> None:
    """Files without a scene column are scenes named after the file; where two such files share a name
    (cam1/tracks.csv, cam2/tracks.csv) each becomes its own scene, named by as much of its path as tells
    them apart from each other and from every other scene, so agents of one recording never become
    neighbours of another's. A scene its folders name (SDD's, MOT's gt/gt.txt) keeps them in its new name."""
    by_name: dict[str, list[int]] = {}
    for i, t in enumerate(tables):
        if t.attrs.get("named_by_file") and len(t["scene"].cat.categories) == 1:
            by_name.setdefault(str(t["scene"].cat.categories[0]), []).append(i)
    taken = {str(c) for t in tables for c in t["scene"].cat.categories}
    for name, clash in by_name.items():
        if len(clash) < 2:
            continue
        least = [1 if name == files[i].stem else 3 for i in clash]  # path parts its name came from (SDD's, MOT's: 3)
        names = _shortest_distinct([files[i].resolve() for i in clash], least, taken - {name})
        taken |= set(names)
        for i, new in zip(clash, names):
            tables[i]["scene"] = pd.Categorical.from_codes(np.zeros(len(tables[i]), np.int8), categories=[new])


def _shortest_distinct(paths: list[Path], least: list[int], taken: set[str]) -> list[str]:
    """The fewest trailing parts of each path (at least `least` of its own; without its suffix where that is
    enough) that tell them apart and are none of the names `taken`: cam1/tracks, cam2/tracks."""
    for parts in ([p.with_suffix("").parts for p in paths], [p.parts for p in paths]):
        for k in range(1, max(map(len, parts)) + 1):
            names = ["/".join(q[-max(k, m):]) for q, m in zip(parts, least)]
            if len(set(names)) == len(names) and not taken & set(names):
                return names
    return [str(p) for p in paths]  # distinct files always differ in full


def _missing(name: str, missing: list[str], names: list[str], shown: list[str],
             columns: dict[str, str] | None = None) -> DataError:
    """The error for a table without the columns it needs (`shown`: its header as written; `columns`: the
    --columns it was read with)."""
    times = [n for n in names if n in TIME_NAMES]
    if "frame" in missing and len(times) > 1:
        frames = ", or give --fps to read its frame ids" if "frame ids" in names or "frame" in names else ""
        return DataError(f"{name}: {len(times)} time columns ({', '.join(times)}): keep one, in seconds{frames}, "
                         f"or name the clock with --columns time={times[0]}")
    if "x" in missing:
        lonlat_names(names, name)  # two longitude (or latitude) columns are named as such
    what = ["frame (or time in seconds)" if c == "frame" else c for c in missing]
    if "x" in missing and "y" in missing:
        what[what.index("y")] = "y (or lon, lat in degrees)"
    boxes = ""
    if "x" in missing and ({"xmin", "xmax", "ymin", "ymax"} <= set(names) or {"bb_left", "bb_width"} <= set(names)):
        boxes = ("; for boxes, add a point of each as x and y: its centre for a camera above (x = (xmin + xmax) / "
                 "2), its foot point for one at an angle (x = bb_left + bb_width / 2, y = bb_top + bb_height); SDD "
                 "annotations and MOTChallenge files are read as their datasets write them, without a header")
    pair = next((p for p in (("x", "y"), ("lon", "lat")) if missing[0] in p), None)  # named together
    role = "frame=<column> (frame ids) or time=<column> (seconds)" if missing[0] == "frame" else \
        f"{pair[0]}=<column>,{pair[1]}=<column>" if pair else f"{missing[0]}=<column>"
    hint = "" if boxes else f"; add {role} to --columns" if columns else \
        f"; read a column of another name as it with --columns {role}"
    return DataError(f"{name}: missing column(s) {', '.join(what)} (have: {', '.join(shown)}){boxes}{hint}")


def lonlat_names(names: list[str], name: str) -> tuple[str | None, str | None]:
    """The longitude and latitude columns among lower-cased `names` (any of `LON_NAMES`, `LAT_NAMES`), None
    for one that is not there; two of one kind are a DataError naming them (`name`: the file or table)."""
    found = []
    for kind, aliases in (("longitude", LON_NAMES), ("latitude", LAT_NAMES)):
        hits = [n for n in names if n in aliases]
        if len(hits) > 1:
            raise DataError(f"{name}: {len(hits)} {kind} columns ({', '.join(hits)}): keep one")
        found.append(hits[0] if hits else None)
    return found[0], found[1]


# The columns each role takes the place of, when `--columns` names another column for it.
_DISPLACED = {"frame": ("frame", *TIME_NAMES), **{r: ("frame", *TIME_NAMES) for r in PER_SECOND},
              "agent_id": ("agent_id", *ID_NAMES), "x": ("x", "y", *LON_NAMES, *LAT_NAMES),
              "lon": ("x", "y", *LON_NAMES, *LAT_NAMES), "scene": ("scene",), "label": AGENT_COLUMNS}


def _aliases(names: list[str], frames: bool = False, columns: dict[str, str] | None = None,
             name: str = "the table") -> tuple[list[str], bool, bool]:
    """Lower-cased column names with a time column in seconds renamed `frame`, longitude and latitude
    columns renamed `x, y` (where there are no x, y columns) and an id column (`ID_NAMES`) renamed `agent_id`
    (where there is none); and whether the first two happened. A frame column
    beside a time column is not read (the time in seconds is the clock, as in a tracker's log with a frame
    counter; beside two time columns there is none, and `_missing` asks to keep one), unless `frames` (a
    rate given for frame ids: --fps) says the frame ids are the clock. `columns` (`column_map`'s) first
    renames the columns it names to their roles, and puts out of reach the columns they displace; a column
    it names that `name` (the file or table) lacks is a DataError."""
    if columns:
        absent = [f"{role}={c}" for role, c in columns.items() if c not in names]
        if absent:
            raise DataError(f"{name}: no column {absent[0].split('=', 1)[1]!r} (--columns {absent[0]}); it has: "
                            f"{', '.join(names)}")
        displaced = {d for role in columns for d in _DISPLACED.get(role, ())}
        roles = {c: ("time" if role in PER_SECOND else role) for role, c in columns.items()}
        names = [roles[n] if n in roles else f"{n} (not read)" if n in displaced else n for n in names]
    seconds = lonlat = False
    times = [n for n in names if n in TIME_NAMES]
    if times and not (frames and "frame" in names):
        aliases = {"frame": "frame ids", **({times[0]: "frame"} if len(times) == 1 else {})}
        names, seconds = [aliases.get(n, n) for n in names], len(times) == 1
    lons, lats = [n for n in names if n in LON_NAMES], [n for n in names if n in LAT_NAMES]
    if "x" not in names and "y" not in names and len(lons) == 1 and len(lats) == 1:
        names, lonlat = [{lons[0]: "x", lats[0]: "y"}.get(n, n) for n in names], True
    ids = [n for n in names if n in ID_NAMES]
    if "agent_id" not in names and len(ids) == 1:
        names = ["agent_id" if n == ids[0] else n for n in names]
    return names, seconds, lonlat


def _not_futures(name: str, columns: list) -> None:
    """Refuse a table of futures (`trajcvae predict`'s output, e.g. written into the data's own folder) given
    as tracks: its future positions would be read as observations."""
    if {"t0", "sample", "step"} <= {str(c).strip().lower() for c in columns}:
        raise DataError(f"{name}: a table of predicted futures (columns t0, sample, step, as `trajcvae predict` "
                        "writes), not tracks; leave it out of the data (e.g. write predictions outside the data's "
                        "folder)")


def _read_parquet(path: Path, frames: bool = False, columns: dict[str, str] | None = None) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
    except Exception as e:  # pyarrow raises many types for a non-Parquet file
        raise DataError(f"{path}: cannot read as Parquet ({type(e).__name__})") from None
    lower = _counted_from_one([str(c).strip().lower() for c in names], columns)
    _not_futures(str(path), lower)
    usable = _aliases(lower, frames, columns, str(path))[0]
    missing = [c for c in REQUIRED if c not in usable]
    if missing:  # named among all the file's columns, not only those read
        raise _missing(str(path), missing, lower, [str(c) for c in names], columns)
    wanted = [c for c, u in zip(names, usable) if u in REQUIRED + ("scene",) + AGENT_COLUMNS]
    try:
        raw = pd.read_parquet(path, columns=wanted)
    except Exception as e:
        raise DataError(f"{path}: cannot read as Parquet ({type(e).__name__})") from None
    if lower != [str(c).strip().lower() for c in names]:  # pandas' labels 0, 1, ...: counted from 1, as read
        counted = dict(zip(names, lower))
        raw.columns = [counted[str(c)] for c in raw.columns]  # (pandas may restore them as numbers)
    table = _canonical(raw, str(path), path.stem, first_line=1, row_word="row", frames=frames, columns=columns)
    table.attrs["named_by_file"] = "scene" not in usable
    return table


@dataclass
class _Format:
    encoding: str
    sep: str
    skip: int  # blank lines before the header / first row
    names: list[str] | None  # lower-cased header names, None for a headerless file
    n_fields: int
    seconds: bool = False  # the time column is in seconds (`time`, `t` or `timestamp`), read as `frame`
    lonlat: bool = False  # positions are longitude and latitude in degrees, read as `x, y`
    sdd: bool = False  # a Stanford Drone Dataset annotations file
    header: list[str] | None = None  # the lower-cased header as written (a time column under its own name)
    frames: bool = False  # frame ids are the clock where there is a frame column (`_aliases`)
    trajnet: bool = False  # TrajNet++ records under another name than .ndjson (x.jsonl)
    mot: int = 0  # a MOTChallenge file's fields a row (10: a tracker's results; 9: ground truth, gt.txt), else 0
    columns: dict[str, str] | None = None  # --columns (`_aliases`)
    numbered: bool = False  # a file without a header, its columns named by --columns by number (1, 2, ...)


def _sniff(path: Path, frames: bool = False, columns: dict[str, str] | None = None) -> _Format:
    """Look at the first MiB only: text or binary, separator, header, leading blank lines."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        more = bool(f.read(1))
        if not head.strip():
            while more:  # a long run of blank space: keep looking for a first row
                block = f.read(SNIFF_BYTES)
                if block.strip():
                    raise DataError(f"{path}: more than 1 MiB of blank space before the first row")
                more = bool(block)
            raise DataError(f"{path}: empty file (no rows)")
    if head.startswith(b"\x1f\x8b"):
        raise DataError(f"{path}: gzip-compressed; decompress it first (gunzip), then give the text file")
    if b"\x00" in head:
        raise DataError(f"{path}: not a text file (it holds NUL bytes: binary data, or UTF-16 text); expected "
                        "UTF-8 CSV or ETH/UCY text")
    first = next((line for line in head.lstrip(codecs.BOM_UTF8).splitlines() if line.strip()), b"").strip()
    if re.match(rb'\{\s*"(scene|track)"\s*:', first):  # a JSON object with a scene or a track: TrajNet++
        return _Format("utf-8-sig", "", 0, None, 0, trajnet=True)
    encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=not more)
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (not UTF-8); expected CSV or ETH/UCY text") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # as the C parser splits lines
    skip = 0
    while skip < len(lines) and not lines[skip].strip(" \t\x0b\x0c"):  # blank as bytes.strip() sees it
        skip += 1
    if skip == len(lines):
        raise DataError(f"{path}: empty file (no rows)")
    first = lines[skip]
    if more and skip == len(lines) - 1:
        raise DataError(f"{path}: first row is longer than 1 MiB; not a CSV/text table")
    first = first.strip()
    sep = "," if "," in first else ";" if ";" in first else r"\s+"
    fields = _fields(first, sep)
    sdd = re.findall(r'"[^"]*"|\S+', first)  # as SDD's reader splits a line: a quoted label ("Golf Cart") whole
    if sep == r"\s+" and len(sdd) == len(SDD_FIELDS) and all(_parses(f) for f in sdd[:9]) \
            and not _parses(sdd[9]):  # track, box, frame, lost, occluded, generated, "label"
        return _Format(encoding, sep, skip, list(SDD_FIELDS), len(SDD_FIELDS), sdd=True)
    if sep == r"\s+" and len(sdd) == len(SDD_FIELDS) and [f.lower() for f in sdd[1:9]] == list(SDD_FIELDS[1:9]):
        return _Format(encoding, sep, skip + 1, list(SDD_FIELDS), len(SDD_FIELDS), sdd=True)  # under a header row
    by_number = bool(columns) and all(c.isdigit() for c in columns.values())  # (any digits: ² is refused there)
    if columns and (all(_parses(f) for f in fields) or by_number):  # no header: columns named by number
        return _numbered(path, fields, encoding, sep, skip, frames, columns)
    trimmed = _trimmed(fields)
    mot = _mot_row(trimmed)
    if mot:
        return _Format(encoding, sep, skip, None, len(fields), mot=mot)
    if [f.lower() for f in trimmed] in (list(MOT_FIELDS), list(MOT_GT_FIELDS)):  # MOT's own names as a header ...
        row = next((ln for ln in lines[skip + 1:] if ln.strip()), "")
        mot = _mot_row(_trimmed(_fields(row.strip(), sep)))
        if mot:  # ... over MOT rows (x, y, z unused: -1); over x, y of their own, it is a CSV like any other
            return _Format(encoding, sep, skip + 1, None, len(fields), mot=mot)
    if all(_parses(f) for f in fields):  # numbers only: a headerless ETH/UCY-style file
        if len(fields) != 4:
            matrix = len(fields) == 3 and len([ln for ln in lines if ln.strip()]) == 3  # ETH/UCY's H.txt
            raise DataError(f"{path}: line {skip + 1} has {len(fields)} columns and no header; headerless files "
                            "must be 'frame agent_id x y' (add a header row to a CSV of other columns) or "
                            "MOTChallenge rows 'frame,id,bb_left,bb_top,bb_width,bb_height,conf,-1,-1,-1' (or "
                            "ground truth's 9 columns), or be read by number with --columns (ETH's obsmat.txt: "
                            "frame=1,agent_id=2,x=3,y=5)"
                            + ("; a 3x3 matrix, a homography? Give it with --homography, and the track files as "
                               "the data" if matrix else ""))
        return _Format(encoding, sep, skip, None, 4)
    if sep == r"\s+" and "\t" in first:  # a tab-separated header: single tabs, so an empty field stays empty
        sep, fields = "\t", _fields(first, "\t")
    _check_first_row(path, lines, skip, sep, len(fields), complete=not more)
    names, seconds, lonlat = _aliases([f.lower() for f in fields], frames, columns, str(path))
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise _missing(str(path), missing, names, fields, columns)
    for c in REQUIRED + ("scene",):
        if names.count(c) > 1:
            given = [f for f, n in zip(fields, names) if n == c]
            raise DataError(f"{path}: column '{c}' appears {names.count(c)} times in the header (any case)"
                            + (f": {', '.join(given)}" if columns and c in columns else ""))
    return _Format(encoding, sep, skip, names, len(fields), seconds, lonlat=lonlat,
                   header=[f.lower() for f in fields], frames=frames, columns=columns)


def _numbered(path: Path, fields: list[str], encoding: str, sep: str, skip: int, frames: bool,
              columns: dict[str, str]) -> _Format:
    """A file of numbers without a header (ETH's obsmat.txt: frame, id, x, z, y, ...; a 3-D tracker's rows),
    read by the columns `--columns` names by number, 1 for the first: frame=1,agent_id=2,x=3,y=5."""
    n = len(fields)
    words = [f"{role}={c}" for role, c in columns.items() if not _column_number(c)]
    if words:
        raise DataError(f"{path}: no header, so --columns names its columns by number (1 for the first of its {n}): "
                        f"{words[0]} names none")
    beyond = next((f"{role}={c}" for role, c in columns.items() if not 1 <= int(c) <= n), None)
    if beyond:
        raise DataError(f"{path}: --columns {beyond}: the file has {n} columns (line {skip + 1})")
    named = next(((role, c) for role, c in columns.items() if role not in ("agent_id", "scene", "label")
                  and not _parses(fields[int(c) - 1])), None)
    if named:  # a header, whose names --columns does not give: they are no numbers
        role, c = named
        raise DataError(f"{path}: --columns {role}={c}: line {skip + 1} holds '{fields[int(c) - 1]}' there, a "
                        "header's name: --columns names columns by number only in a file without a header; name "
                        f"this file's ({', '.join(fields[:6])}{' ...' if n > 6 else ''})")
    header = [str(i + 1) for i in range(n)]
    names, seconds, lonlat = _aliases(header, frames, columns, str(path))
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise _missing(str(path), missing, names, header, columns)
    return _Format(encoding, sep, skip, names, n, seconds, lonlat=lonlat, header=header, frames=frames,
                   columns=columns, numbered=True)


def _counted_from_one(names: list[str], columns: dict[str, str] | None) -> list[str]:
    """A table's column labels as --columns numbers them: pandas' own labels of a table read without a header
    (0, 1, ...) become 1, 2, ..., so frame=1 is its first column, as in a file."""
    if columns and names == [str(i) for i in range(len(names))]:
        return [str(i + 1) for i in range(len(names))]
    return names


def _column_number(name: str) -> bool:
    """Whether a --columns source is a column's number (1, 2, ...: ASCII digits)."""
    return name.isascii() and name.isdigit()


def _trimmed(fields: list[str]) -> list[str]:
    """A row's fields without the empty one a trailing separator leaves."""
    return fields[:-1] if len(fields) > 1 and fields[-1] == "" else fields


def _mot_row(fields: list[str]) -> int:
    """10 or 9 where a headerless first row is a MOTChallenge one, else 0: frame and id whole numbers, a box of
    no negative size, then a tracker's `conf, -1, -1, -1` (MOT's unused world coordinates), or 9 columns with a
    0/1 flag or a confidence, a whole class id and a visibility (0-1) or -1 (ground truth, or a tracker that
    writes classes). Other rows of 9 or 10 numbers (a 3-D tracker's x, y, z, ...) are not boxes to guess at."""
    if len(fields) not in (len(MOT_FIELDS), len(MOT_GT_FIELDS)) or not all(_parses(f) for f in fields):
        return 0
    v = [float(f) for f in fields]
    if v[0] != round(v[0]) or v[1] != round(v[1]) or not (v[4] >= 0 and v[5] >= 0):  # a box of no size: named later
        return 0
    if len(v) == len(MOT_FIELDS):
        return len(v) if v[7:] == [-1.0, -1.0, -1.0] else 0
    return len(v) if 0 <= v[6] <= 1 and v[7] == round(v[7]) and (v[8] == -1 or 0 <= v[8] <= 1) else 0


def _check_first_row(path: Path, lines: list[str], skip: int, sep: str, n_header: int, complete: bool) -> None:
    """A first data row with more fields than the header would shift or drop columns silently (the parser
    fits every row to the first): refuse it, naming the line. Empty fields at the end of a row are fine."""
    n = next((i for i in range(skip + 1, len(lines)) if lines[i].strip()), None)
    if n is None or (not complete and n == len(lines) - 1):
        return  # no data row in the first MiB, or it may be cut off there
    fields = _fields(lines[n].strip(" \r\n") if sep == "\t" else lines[n].strip(), sep)
    while fields and not fields[-1]:
        fields.pop()
    if len(fields) > n_header:
        raise DataError(f"{path} line {n + 1}: {len(fields)} fields where the header has {n_header} (a value with "
                        "the separator in it, or a column without a name?)")


DECIMALS = re.compile(r"[+-]?\d+\.(\d+)")  # a number written with decimals, the decimals grouped
TAIL_BYTES = 1 << 14  # the end of a file that `_cut_short` looks at


def _cut_short(path: Path, fmt: _Format) -> str | None:
    """The warning for a file that ends without a line end, its last value written with fewer decimals than
    the last value of each row before it: most likely cut mid-number (a copy, or a writer, still at work),
    which would read as a position in silence (3.4 of 3.4512); None otherwise (a pipe, too few rows, values
    of varying decimals, a last value complete)."""
    try:
        size = path.stat().st_size
        if not path.is_file() or size == 0:
            return None
        with open(path, "rb") as f:
            f.seek(max(0, size - TAIL_BYTES))
            tail = f.read().decode(fmt.encoding, errors="replace")
    except OSError:
        return None
    if tail.endswith(("\n", "\r")):
        return None
    rows = [_fields(line, fmt.sep) for line in tail.splitlines()[1:] if line.strip()]  # the first may be partial
    if len(rows) < 4 or any(len(r) != len(rows[-1]) for r in rows) or not rows[-1]:
        return None
    decimals = [DECIMALS.fullmatch(r[-1]) for r in rows[:-1]]
    cut = re.fullmatch(r"[+-]?\d+(?:\.(\d*))?", rows[-1][-1])  # cut anywhere after its first digit
    if not (all(decimals) and cut) or len({len(d.group(1)) for d in decimals}) != 1:
        return None
    last, usual = rows[-1][-1], len(decimals[0].group(1))
    if len(cut.group(1) or "") >= usual:
        return None
    return (f"warning: {path} ends mid-line, its last value {last} with fewer decimals than the {usual} of every "
            "row before it: was it cut short (a copy or a writer still at work)? Read it again once it is whole")


def _fields(line: str, sep: str) -> list[str]:
    """One line's fields, stripped, as the parser splits it: on runs of blanks, single tabs, or `sep`
    (quoted fields kept whole)."""
    parts = (line.split() if sep == r"\s+" else line.split("\t") if sep == "\t"
             else next(csv.reader([line], delimiter=sep)))
    return [f.strip() for f in parts]


def _read_fast(path: Path, fmt: _Format) -> pd.DataFrame | None:
    """Numeric parse of the whole file; None when any value fails (the slow path then names it)."""
    cols = {c: (fmt.names.index(c) if fmt.names else i) for i, c in enumerate(REQUIRED)}
    if fmt.names and "scene" in fmt.names:
        cols["scene"] = fmt.names.index("scene")
    extras = [c for c in AGENT_COLUMNS if fmt.names and c in fmt.names]
    cols.update({c: fmt.names.index(c) for c in extras})
    header_lines = fmt.skip + (1 if fmt.names and not fmt.numbered else 0)
    # Every column is parsed (no usecols: with it pandas silently drops fields beyond the header's); the
    # ones not used are read as categories, cheap for the few repeated values such columns usually hold.
    dtypes = {i: "category" for i in range(fmt.n_fields)}
    dtypes.update({i: ("float64" if c in ("frame", "x", "y") else "category") for c, i in cols.items()})
    dtypes[cols["agent_id"]] = "str"  # as written: pandas would turn "007" into 7 in a category
    try:
        raw = _read_csv(path, fmt, header_lines, dtype=dtypes)
    except ValueError:  # a value that is not a number
        return None
    raw = raw[sorted(cols.values())].rename(columns={i: c for c, i in cols.items()})
    if "scene" in raw and not pd.api.types.is_string_dtype(raw["scene"].cat.categories):
        # pandas turned scene names that look like numbers ("01") into numbers (1.0): re-read them as text
        raw["scene"] = _read_csv(path, fmt, header_lines, usecols=[cols["scene"]],
                                 dtype={cols["scene"]: "str"})[cols["scene"]].to_numpy()
    out = {c: raw[c].to_numpy() for c in ("frame", "x", "y")}  # views, no copies
    lines = np.arange(len(raw), dtype=np.int64) + header_lines + 1
    blank = np.isnan(out["frame"]) & np.isnan(out["x"]) & np.isnan(out["y"]) & raw["agent_id"].isna().to_numpy()
    if "scene" in raw:
        blank &= raw["scene"].isna().to_numpy()
    if blank.any():
        keep = ~blank
        raw, lines = raw[keep], lines[keep]
        out = {c: raw[c].to_numpy() for c in ("frame", "x", "y")}
    del blank
    if len(raw) == 0:
        raise DataError(f"{path}: empty file (no rows)")
    if fmt.columns:
        out["frame"] = out["frame"] / PER_SECOND[_unit_role(fmt.columns)]  # seconds
    if not all(np.isfinite(v).all() for v in out.values()) or raw["agent_id"].isna().any() \
            or (np.abs(out["x"]) > MAX_RAW).any() or (np.abs(out["y"]) > MAX_RAW).any() \
            or unresolved_time(out["frame"], "", True):  # the slow path names the row at fault
        return None
    codes, uniques = pd.factorize(raw["agent_id"])
    if (pd.Index(uniques.astype(str)).str.strip() == "").any():  # a blank id: the slow path names it
        return None
    out["agent_id"] = agent_ids(pd.Index(uniques), codes)
    if "scene" in raw:
        codes, names = pd.factorize(raw["scene"])
        names = pd.Index(names.astype(str)).str.strip()
        if (codes < 0).any() or (names == "").any():
            return None
        out["scene"] = pd.Categorical.from_codes(codes, categories=names) if names.is_unique \
            else pd.Categorical(np.asarray(names, dtype=object)[codes])
    else:
        out["scene"] = pd.Categorical.from_codes(np.zeros(len(raw), np.int8), categories=[path.stem])
    out["_file"] = pd.Categorical.from_codes(np.zeros(len(raw), np.int8), categories=[str(path)])
    out["_line"] = lines
    for c in extras:
        out[c] = _text(raw[c])
    return pd.DataFrame(out, copy=False)


def _text(values: pd.Series) -> np.ndarray:
    """A per-agent column as stripped strings, "" where missing."""
    v = values.astype(object)
    return np.asarray(v.where(v.notna(), "").astype(str).str.strip(), dtype=object)


def _read_sdd(path: Path, fmt: _Format) -> pd.DataFrame:
    """Stanford Drone Dataset annotations -> box centres (pixels) of the boxes not lost, with their label."""
    with _parse_errors(path), warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        raw = pd.read_csv(path, sep=r"\s+", header=None, names=list(SDD_FIELDS), skiprows=fmt.skip, dtype=str,
                          encoding=fmt.encoding, skip_blank_lines=False, quotechar='"', engine="c")
    lines = np.arange(len(raw), dtype=np.int64) + fmt.skip + 1  # blank lines kept here, so they count
    blank = raw.isna().all(axis=1).to_numpy()
    raw, lines = raw[~blank], lines[~blank]
    num = {}
    for c in SDD_FIELDS[:9]:
        v = to_numbers(raw[c])
        if not np.isfinite(v).all():
            i = int(np.flatnonzero(~np.isfinite(v))[0])
            if pd.isna(raw[c].iloc[i]):  # a short line
                raise DataError(f"{path} line {lines[i]}: SDD column '{c}' is empty (an SDD line has "
                                f"{len(SDD_FIELDS)} fields)")
            raise DataError(f"{path} line {lines[i]}: SDD column '{c}' value {raw[c].iloc[i]!r} is not a number")
        num[c] = v
    keep = num["lost"] == 0
    if not keep.any():
        raise DataError(f"{path}: every box is marked lost (no positions)")
    table = pd.DataFrame({
        "frame": num["frame"][keep], "agent_id": num["agent_id"][keep].astype(np.int64),
        "x": (num["xmin"][keep] + num["xmax"][keep]) / 2, "y": (num["ymin"][keep] + num["ymax"][keep]) / 2,
        "_line": lines[keep], "label": _text(raw["label"][keep].str.strip('"')),
    })
    table["scene"] = pd.Categorical.from_codes(np.zeros(len(table), np.int8), categories=[_scene_of(path)])
    table["_file"] = pd.Categorical.from_codes(np.zeros(len(table), np.int8), categories=[str(path)])
    table = table[TRACK_COLUMNS + ["label"]]
    table.attrs.update(seconds=False, fps=SDD_FPS)
    return table


def _scene_of(path: Path) -> str:
    """SDD keeps every video's annotations in a file named annotations.txt, MOTChallenge every sequence's in
    gt/gt.txt: their folders name the scene (deathCircle_video0, MOT17-02-FRCNN)."""
    folder = Path(os.path.abspath(path)).parent  # a relative path's folders too
    if path.stem == "annotations" and folder.name:
        return f"{folder.parent.name}_{folder.name}" if folder.parent.name else folder.name
    if path.stem in ("gt", "det") and folder.name == path.stem and folder.parent.name:
        return folder.parent.name
    return path.stem


def _read_trajnet(path: Path) -> pd.DataFrame:
    """TrajNet++ ndjson: its `track` records (frame, pedestrian, x, y in metres). Frame ids are at the rate
    of its `scene` records (`fps` samples per second, one sample every `step` frame ids); scene records of
    different rates, and a predictor's records (`prediction_number`), are refused."""
    import json

    rows, rates = [], {}  # rate -> the line of its first scene record
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark is read past, as a CSV's is
    except UnicodeDecodeError as e:
        line = path.read_bytes()[:e.start].count(b"\n") + 1
        raise DataError(f"{path} line {line}: not UTF-8 text; TrajNet++ files are UTF-8 JSON") from None
    for n, line in enumerate(text.split("\n"), 1):  # JSON text may hold other line separators
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise DataError(f"{path} line {n}: not a TrajNet++ record (not JSON: {e})") from None
        if not isinstance(rec, dict):
            raise DataError(f"{path} line {n}: not a TrajNet++ record (a JSON object with 'scene' or 'track')")
        if isinstance(rec.get("track"), dict):
            rows.append(_trajnet_track(rec["track"], path, n))
        elif isinstance(rec.get("scene"), dict) and rec["scene"].get("fps") is not None:  # null: no rate given
            rate = rec["scene"]["fps"]
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not (math.isfinite(rate) and
                                                                                     rate > 0):
                raise DataError(f"{path} line {n}: scene 'fps' {rate!r} is no frame rate (a positive number)")
            rates.setdefault(float(rate), n)
    if not rows:
        raise DataError(f"{path}: no TrajNet++ track records")
    if len(rates) > 1:
        (r1, n1), (r2, n2) = list(rates.items())[:2]
        raise DataError(f"{path}: its scene records give two rates ({r1:g} fps at line {n1}, {r2:g} at line {n2}), "
                        "but its frame ids have one: give one file per rate")
    frame, agent, x, y, lines = (np.array(v) for v in zip(*rows))
    table = pd.DataFrame({"frame": frame, "agent_id": agent, "x": x.astype(np.float64),
                          "y": y.astype(np.float64), "_line": lines})
    table = _canonical(table, str(path), path.stem, line_numbers=lines)  # the ndjson lines, not the table's rows
    fps = None
    if rates:  # frame ids step by `step` between samples taken `rate` times a second
        o = np.lexsort((frame, agent))
        diffs = np.diff(frame[o])[agent[o][1:] == agent[o][:-1]]
        diffs = diffs[diffs > 0]
        if len(diffs):
            vals, counts = np.unique(diffs, return_counts=True)
            fps = next(iter(rates)) * float(vals[np.argmax(counts)])
    table.attrs.update(seconds=False, fps=fps)
    return table


def _trajnet_track(t: dict, path: Path, n: int) -> tuple:
    """One TrajNet++ `track` record (line `n`) as (frame, pedestrian, x, y, line); a predictor's record or a
    field missing or of the wrong kind is refused, naming it."""
    if "prediction_number" in t or "scene_id" in t:
        raise DataError(f"{path} line {n}: a TrajNet++ prediction record (prediction_number), not an observed "
                        "track: give the observations alone (predictions are not read as tracks)")
    for key in ("f", "p", "x", "y"):
        if key not in t:
            raise DataError(f"{path} line {n}: a TrajNet++ track record without '{key}'")
    if isinstance(t["p"], bool) or not isinstance(t["p"], (int, str)):
        raise DataError(f"{path} line {n}: track 'p' {t['p']!r} is no pedestrian id (a whole number or text)")
    for key in ("f", "x", "y"):
        if isinstance(t[key], bool) or not isinstance(t[key], (int, float)):
            raise DataError(f"{path} line {n}: track '{key}' {t[key]!r} is not a number")
    return float(t["f"]), t["p"], float(t["x"]), float(t["y"]), n


def _read_slow(path: Path, fmt: _Format) -> pd.DataFrame:
    """Read as text in chunks and check every value; raises on the first bad line."""
    header_lines = fmt.skip + (1 if fmt.names and not fmt.numbered else 0)
    names = fmt.header or fmt.names or list(REQUIRED)  # `_canonical` names a time column as the file does
    tables = []
    with _parse_errors(path), _read_csv(path, fmt, header_lines, dtype=str, chunksize=SLOW_CHUNK) as chunks:
        for chunk in chunks:
            chunk.columns = names
            first = header_lines + 1 + int(chunk.index[0]) if len(chunk) else header_lines + 1
            t = _canonical(chunk, str(path), path.stem, first_line=first, allow_empty=True, frames=fmt.frames,
                           columns=fmt.columns)
            if len(t):
                tables.append(t)
    if not tables:
        raise DataError(f"{path}: empty file (no rows)")
    return pd.concat(tables, ignore_index=True)


def _read_csv(path: Path, fmt: _Format, header_lines: int, **kwargs):
    """pd.read_csv for every row after the header, columns numbered 0..n_fields-1; a row with more fields
    than the first one is an error."""
    with _parse_errors(path), warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        return pd.read_csv(path, sep=fmt.sep, header=None, names=list(range(fmt.n_fields)),
                           skiprows=header_lines, encoding=fmt.encoding,
                           skip_blank_lines=False, keep_default_na=False, na_values=[""], index_col=False,
                           engine="c", **({"float_precision": "round_trip"} if ROUGH_PARSER else {}), **kwargs)


@contextmanager
def _parse_errors(path: Path):
    """pandas' parser errors -> one-line DataErrors naming the file (and line, where pandas says)."""
    try:
        yield
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (not UTF-8); expected CSV or ETH/UCY text") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(e))
        if m:
            raise DataError(f"{path} line {m[2]}: {m[3]} fields where the first row has {m[1]}") from None
        raise DataError(f"{path}: not a readable CSV/text table ({first_line(e)})") from None


def first_line(e: Exception) -> str:
    """An exception's message cut to its first line (200 characters at most), or its type's name."""
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__


# --- checking values -----------------------------------------------------------------------------------

def _canonical(raw: pd.DataFrame, name: str, scene: str, first_line: int = 1, row_word: str = "line",
               allow_empty: bool = False, line_numbers: np.ndarray | None = None,
               frames: bool = False, typed: bool = False, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """Check a table of raw values (text or numbers) row by row; `first_line` numbers its first row, or
    `line_numbers` each row (rows read from lines not all kept); `frames`, `columns`: see `_aliases`; `typed`:
    a DataFrame's values, whose agent ids keep their type (`agent_ids`)."""
    raw = raw.copy()
    lower = _counted_from_one([str(c).strip().lower() for c in raw.columns], columns)
    raw.columns, seconds, lonlat = _aliases(lower, frames, columns, name)
    # Columns renamed are named in messages as the table names them.
    shown = {n: c for c, n in zip(lower, raw.columns) if c != n}
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise _missing(name, missing, lower, lower, columns)
    for c in REQUIRED + ("scene",):
        if list(raw.columns).count(c) > 1:
            raise DataError(f"{name}: column '{c}' appears {list(raw.columns).count(c)} times (any case)")
    wanted = [c for c in REQUIRED + ("scene",) if c in raw.columns]
    extras = [c for c in AGENT_COLUMNS if c in raw.columns]
    kept = {c: _text(raw[c]) for c in extras}
    raw = raw[wanted]
    for c in wanted:
        raw[c] = blank_as_missing(raw[c])
    lines = pd.Series(np.arange(len(raw), dtype=np.int64) + first_line if line_numbers is None
                      else np.asarray(line_numbers, dtype=np.int64), index=raw.index)
    blank = raw[list(REQUIRED)].isna().all(axis=1)
    raw, lines = raw[~blank], lines[~blank]
    kept = {c: v[~blank.to_numpy()] for c, v in kept.items()}
    if len(raw) == 0:
        if allow_empty:
            return pd.DataFrame(columns=TRACK_COLUMNS)
        raise DataError(f"{name}: empty file (no rows)")
    out = pd.DataFrame({"_line": lines.to_numpy()})
    coarse = _coarse(raw, lonlat, seconds, name)
    role = _unit_role(columns)
    if role != "time" and _dates(raw["frame"]):
        raise DataError(f"{name}: column '{columns[role]}' holds date-times, which say their own unit: give "
                        f"--columns time={columns[role]}, not {role}")
    raw["frame"] = _seconds_of_dates(raw["frame"], name, seconds, shown.get("frame", "frame"), lines, row_word)
    for col in ("frame", "x", "y"):  # a time column is named as the file names it
        out[col] = numeric_column(raw[col], lines, name, shown.get(col, col), row_word)
    out["frame"] /= PER_SECOND[role]  # seconds
    vague = unresolved_time(out["frame"].to_numpy(), shown.get("frame", "frame"), seconds, role)
    if vague:  # named at the first row too large
        i = int(np.argmax(np.spacing(np.abs(out["frame"].to_numpy())) > TIME_RESOLUTION))
        raise DataError(f"{name} {row_word} {lines.iloc[i]}: {vague}")
    ids = raw["agent_id"]
    if ids.isna().any():
        i = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise DataError(f"{name} {row_word} {lines.iloc[i]}: empty '{shown.get('agent_id', 'agent_id')}' (every row "
                        "needs its agent's id)")
    codes, uniques = pd.factorize(ids)
    out["agent_id"] = agent_ids(pd.Index(uniques), codes, typed)
    if "scene" in raw.columns:
        sc = raw["scene"]
        if sc.isna().any():
            i = int(np.flatnonzero(sc.isna().to_numpy())[0])
            raise DataError(f"{name} {row_word} {lines.iloc[i]}: empty '{shown.get('scene', 'scene')}'")
        out["scene"] = pd.Categorical(sc.astype(str).str.strip().to_numpy(dtype=object))
    else:
        out["scene"] = pd.Categorical.from_codes(np.zeros(len(out), np.int8), categories=[scene])
    out["_file"] = pd.Categorical.from_codes(np.zeros(len(out), np.int8), categories=[name])
    out = out[TRACK_COLUMNS]
    for c, v in kept.items():
        out[c] = v
    shown = "the table" if name == "dataframe" else name
    out.attrs.update(seconds=seconds, lonlat=lonlat, coarse=f"{shown} holds {coarse}" if coarse else None,
                     float32_positions=_float32_positions(raw, shown, lonlat))
    return out


def _coarse(raw: pd.DataFrame, lonlat: bool, seconds: bool, name: str) -> str | None:
    """What float32 columns (a Parquet file's; a CSV's text is read in full) hold too coarsely to predict
    from, or None: degrees (a float32 resolves about a metre of the Earth's surface), or times of 2^17 s or
    more (seconds since 1970: minutes) or frame ids of 2^24 or more (no longer whole numbers). Times that
    lose more than a tenth of a second (or frame ids that are no longer whole) are refused: the tracks
    themselves are gone. Positions in float32 are judged once their units are known (`read_tracks`)."""
    if lonlat and any(raw[c].dtype == np.float32 for c in ("x", "y")):
        return "longitude and latitude as float32, which resolve only about a metre"
    t = raw["frame"]
    if t.dtype == np.float32 and len(t) and np.nanmax(np.abs(t.to_numpy())) >= (2.0 ** 17 if seconds else 2.0 ** 24):
        v = float(np.nanmax(np.abs(t.to_numpy(dtype=np.float64))))
        spacing = float(np.spacing(np.float32(v)))
        text = f"times as float32, which near {v:.6g} resolve only {spacing:.3g} of their units"
        if spacing > (0.1 if seconds else 1.0):  # a step's time is lost: no tracks
            raise DataError(f"{name}: {text}; store them as float64 (double)")
        return text
    return None


TIME_RESOLUTION = 1e-3  # of a time's units (seconds or frame ids): coarser, and steps lose their length


def unresolved_time(t: np.ndarray, what: str, seconds: bool, role: str = "time") -> str | None:
    """Why times `t` (float64, finite; seconds, read from `role`'s unit) are too large to keep their steps'
    lengths, or None: a float64 near 1e15 resolves only 0.125 of its units (microseconds since 1970 read as
    seconds)."""
    v = float(np.max(np.abs(t), initial=0.0))
    spacing = float(np.spacing(v))
    if spacing <= TIME_RESOLUTION:
        return None
    written = v * PER_SECOND[role]  # as the file writes them
    unit = "time_ns" if written >= 1e17 else "time_us" if written >= 1e14 else "time_ms"
    others = ", ".join(u for u in ("time_ms", "time_us", "time_ns") if u != unit)
    fix = (f"is it in {UNIT_NAMES[role]}? Times since 1970 in milli-, micro- or nanoseconds (about 1e12, 1e15 or "
           f"1e18) are read with --columns {unit}={what or 'time'} (or {others}); or give times since a start "
           "nearer 0") if seconds else "give frame ids counted from a start nearer 0"
    shown = f"column {what} value" if _column_number(what) else what  # a headerless file's column, by number
    return f"{shown} {v:.6g} is too large to tell its steps apart (numbers near it are {spacing:.3g} apart): {fix}"


def _unit_role(columns: dict[str, str] | None) -> str:
    """The time role `--columns` gave (time_ms, ...), else "time" (seconds)."""
    return next((r for r in columns or {} if r in PER_SECOND), "time")


def time_unit_question(df: pd.DataFrame, interval: float | None = None, otherwise: str = "",
                       lead: str = "is the time column ") -> str:
    """'is the time column in seconds?' for tracks whose times look wrong, naming the unit they were read in
    (--columns' role) and the role under which their samples (`interval` seconds apart, median) would come
    as a tracker's do, 0.01-2 s apart, where another would; else `otherwise` after the question."""
    columns = df.attrs.get("columns") or {}
    role = _unit_role(columns)
    column = columns.get(role, "<column>")
    asked = f"{lead}in {UNIT_NAMES[role]}" + (f" (--columns {role}={column})" if role in columns else "")
    interval = sampling_interval(df) if interval is None else interval
    fits = {} if not interval else {r: interval * PER_SECOND[role] / u for r, u in PER_SECOND.items()
                                    if 0.01 <= interval * PER_SECOND[role] / u <= 2}
    if not fits or role in fits:
        return f"{asked}{otherwise}?"
    better = min(fits, key=lambda r: abs(math.log10(fits[r] / 0.1)))
    return f"{asked}? Read with --columns {better}={column}, its samples would come {fits[better]:.3g} s apart"


def _float32_positions(raw: pd.DataFrame, shown: str, lonlat: bool) -> tuple[str, float] | None:
    """(the table's name, the largest of its float32 position columns' values) when x or y came as float32
    (degrees: `_coarse`), for `_coarse_positions` to judge in metres; else None."""
    f32 = [c for c in ("x", "y") if raw[c].dtype == np.float32]
    if lonlat or not f32:
        return None
    return shown, max(float(np.nanmax(np.abs(raw[c].to_numpy(dtype=np.float64)), initial=0.0)) for c in f32)


def _coarse_positions(float32_positions: list, units: dict | None) -> str | None:
    """The first table whose positions came as float32 (its name and largest value, per table, or None)
    spaced over a centimetre where they lie, in metres (UTM metres: half a metre; millimetres of a 200 m
    scene: fine)."""
    per_unit = _metres_per_unit(units)
    for given in float32_positions:
        if given:
            shown, v = given
            spacing = float(np.spacing(np.float32(v))) * per_unit
            if spacing > 0.01:
                return f"{shown} holds positions as float32, which near {v:.6g} resolve only {spacing:.3g} m"
    return None


COARSE_WRITTEN = 0.05  # metres: positions written more coarsely than this are warned of (TrajNet++: 0.01 m)


def decimals_written(v: np.ndarray, most: int = 6, sample: int = 200_000) -> int | None:
    """The fewest decimals that write every finite value of `v` as it is (0 for whole numbers), up to `most`;
    None where more are needed. Judged on at most `sample` values, evenly spread."""
    v = v[np.isfinite(v)]
    if len(v) > sample:
        v = v[np.linspace(0, len(v) - 1, sample).astype(np.int64)]
    if not len(v):
        return None
    for d in range(most + 1):
        x = v * 10.0 ** d
        if np.all(np.abs(x - np.round(x)) <= 1e-6 + 8 * np.spacing(np.abs(x))):
            return d
    return None


def _coarsely_written(uv: np.ndarray, xy: np.ndarray, same: np.ndarray, files: pd.Series) -> str | None:
    """The first file (`files`: each row's, a categorical) whose positions `uv` were written to so few
    decimals that they resolve over `COARSE_WRITTEN` metres where they lie (GPS degrees to 5 decimals: a
    metre; UTM metres as whole numbers), or None. The metres per input unit are measured between consecutive
    rows of a track (`same`: rows i and i + 1 are one track's), a scale's (each file's own, where scenes have
    theirs), a homography's or degrees'. Rounding shows in a file's own tracks' turns: positions a script
    wrote on straight lines lie on a grid of decimals without being rounded, and are not warned of (under a
    tenth of their turns as large as half the grid)."""
    moved = np.linalg.norm(np.diff(uv, axis=0), axis=1)
    ok = same & np.isfinite(moved) & (moved > 0)
    if not ok.any():
        return None
    ratio = np.linalg.norm(np.diff(xy, axis=0), axis=1)[ok] / moved[ok]  # metres per unit, move by move
    code = files.cat.codes.to_numpy()
    mover = code[:-1][ok]
    inner = same[1:] & same[:-1]  # rows i .. i + 2 of one track
    turns, turned = np.abs(np.diff(uv, n=2, axis=0)).max(axis=1)[inner], code[1:-1][inner]  # second differences
    for c, name in enumerate(files.cat.categories):
        d = decimals_written(uv[code == c])
        per_unit = float(np.median(ratio[mover == c] if (mover == c).any() else ratio))
        if d is None or 10.0 ** -d * per_unit <= COARSE_WRITTEN:
            continue
        own = turns[turned == c]
        if np.count_nonzero(own > 0.5 * 10.0 ** -d) < 0.1 * max(len(own), 1):
            continue
        what = f"{d} decimal{'s' if d != 1 else ''}" if d else "whole numbers"
        shown = "the table" if name == "dataframe" else name
        return (f"{shown} holds positions written as {what}, which resolve only {10.0 ** -d * per_unit:.3g} m",
                "write them with more decimals")
    return None


DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")  # the start of an ISO 8601 (RFC 3339) date-time
ZONED = r"\d(?:[Zz]|[+-]\d{2}(?::?\d{2})?)\s*$"  # ... and the end of one that names its zone


def _seconds_of_dates(col: pd.Series, name: str, seconds: bool, what: str, lines: pd.Series,
                      row_word: str) -> pd.Series:
    """A time column of date-times (Parquet, a DataFrame, or ISO 8601 text such as a CSV's
    2024-05-01T12:00:00.1Z, read as UTC where it names no zone) as seconds since 1970-01-01 UTC, and one of
    durations as seconds; a `frame` column of either is refused (frame ids are numbers). `what`: the column
    as the table names it; a text value that is no date-time, among date-times, is named by its row in
    `lines`."""
    text = _date_text(col)
    dates, spans = text or pd.api.types.is_datetime64_any_dtype(col), pd.api.types.is_timedelta64_dtype(col)
    if not (dates or spans):
        return col
    if not seconds:
        raise DataError(f"{name}: column '{what}' holds {'date-times' if dates else 'durations'}, not frame ids; "
                        f"name it `time` (or give --columns time={what}) to read them as seconds")
    if text:  # those with a zone and those without parsed apart: pandas 2 read the latter in the former's zone
        since = pd.Series(np.nan, index=col.index)
        upper = col.astype(str).str.upper()  # RFC 3339 allows 2024-05-01t12:00:00z, which ISO 8601 writes upper
        zoned = upper.str.contains(ZONED).to_numpy()
        for part in (zoned, ~zoned):
            if part.any():
                parsed = pd.to_datetime(upper[part], format="ISO8601", utc=True, errors="coerce")
                since[part] = (parsed - pd.Timestamp(0, tz="UTC").as_unit("s")).dt.total_seconds()
        bad = (since.isna() & col.notna()).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{name} {row_word} {lines.iloc[i]}: column '{what}' value '{col.iloc[i]}' is "
                            f"{_no_date(col.iloc[i])}")
        return since
    if dates:
        col = col - pd.Timestamp(0, tz=getattr(col.dt, "tz", None)).as_unit("s")  # the column's unit stands
    return col.dt.total_seconds()


def _date_text(col: pd.Series) -> bool:
    """Whether a column is ISO 8601 date-times as text (its first value is one)."""
    given = col.dropna()
    return col.dtype == object and len(given) > 0 and bool(DATE_TEXT.match(str(given.iloc[0])))


def _dates(col: pd.Series) -> bool:
    """Whether a time column holds date-times or durations, which carry their own unit."""
    return _date_text(col) or pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col)


def _no_date(value) -> str:
    """Why a text value among ISO 8601 date-times was not read as one."""
    try:
        pd.to_datetime(pd.Series([value]), format="ISO8601", utc=True)
    except pd.errors.OutOfBoundsDatetime:  # pandas before 3 hold only 1677-09-21 .. 2262-04-11
        return "a date-time out of the range pandas reads (1677 to 2262 before pandas 3)"
    except (ValueError, TypeError):
        pass
    return "not an ISO 8601 date-time (2024-05-01T12:00:00.1Z), as its first value is"


def blank_as_missing(col: pd.Series) -> pd.Series:
    """A column of raw values as `numeric_column` reads them: text (and any other object, such as a Python
    int beyond float64) as stripped text, blank text missing; a numeric column as it is."""
    if col.dtype != object and not pd.api.types.is_string_dtype(col):
        return col
    s = col.astype(object)
    na = s.isna()
    s = s.where(na, s.astype(str).str.strip())
    return s.mask(na | (s == ""), np.nan)


def to_numbers(values) -> np.ndarray:
    """`pd.to_numeric(values, errors="coerce")` as float64 (NaN where a value is no number), each text
    value correctly rounded whatever the pandas version.  -> (n,) float64"""
    num = pd.to_numeric(values, errors="coerce")
    # A nullable column (Float64, Int64) keeps its nulls as pd.NA, which pandas before 2.2 cannot turn into NaN.
    num = num.to_numpy(dtype=float, na_value=np.nan, copy=True) if hasattr(num, "to_numpy") else \
        np.array(num, dtype=float)
    if ROUGH_PARSER and not pd.api.types.is_numeric_dtype(getattr(values, "dtype", None)):  # text was parsed
        read = np.flatnonzero(np.isfinite(num))
        try:  # Python's own reading of each value, correctly rounded (numbers among the text stay as they are)
            num[read] = np.asarray(values, dtype=object)[read].astype(np.float64)
        except (ValueError, TypeError):  # a number pandas reads and Python does not: pandas' reading stands
            pass
    return num


def numeric_column(col: pd.Series, lines: pd.Series, name: str, what: str, row_word: str) -> np.ndarray:
    """A column of numbers as floats, or a one-line DataError naming the file (`name`), the row (its number
    in `lines`, counted in `row_word`s) and the column `what` of the first value that is empty, not a number
    or not finite (or, for x and y, beyond any position).  -> (n,) float64"""
    if pd.api.types.is_bool_dtype(col):
        raise DataError(f"{name}: column '{what}' holds true/false values, not numbers")
    values = to_numbers(col)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = col.iloc[i]
        kind = "missing" if pd.isna(shown) else ("not finite" if _parses(shown) else "not a number")
        if kind == "not finite" and np.isinf(float(shown)) and "inf" not in str(shown).lower():
            kind = f"beyond {MAX_RAW:.0e} in magnitude (no position in any units)" if what in ("x", "y") else \
                "beyond any number a float holds"  # a number written with hundreds of digits
        if kind == "not a number" and re.fullmatch(r"\s*[+-]?\d+,\d+\s*", str(shown)):
            kind += " (a decimal comma: write decimal points, as a spreadsheet's export in English does)"
        elif kind == "not a number" and what in TIME_NAMES:
            kind += " of seconds (write times as seconds, e.g. since the recording's start, or as ISO 8601 date-times)"
        if kind == "missing":
            raise DataError(f"{name} {row_word} {lines.iloc[i]}: column '{what}' is empty")
        raise DataError(f"{name} {row_word} {lines.iloc[i]}: column '{what}' value {_shown(shown)} is {kind}")
    if what in ("x", "y") and (np.abs(values) > MAX_RAW).any():
        i = int(np.flatnonzero(np.abs(values) > MAX_RAW)[0])
        raise DataError(f"{name} {row_word} {lines.iloc[i]}: column '{what}' value {_shown(col.iloc[i])} is beyond "
                        f"{MAX_RAW:.0e} in magnitude (no position in any units)")
    return values


def _shown(value) -> str:
    """A raw value as a message quotes it: as written (1e+16, not np.float64(1e+16)), cut past 40 characters."""
    value = value.item() if isinstance(value, np.generic) else value
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({len(str(value))} characters)"


def _parses(text) -> bool:
    if text is None:
        return False
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def agent_ids(uniques: pd.Index, codes: np.ndarray, typed: bool = False) -> np.ndarray:
    """Agent ids from their distinct values and per-row codes: integers when every id is one (ETH/UCY
    writes 1.0) and none is written with a leading zero, else stripped strings as written (so "007" comes
    back as "007", and "01" and "1" stay two agents). `typed`: the values come with their own type (a
    DataFrame's column, not a file's text): ids that are all strings stay strings, those integers as text
    ("1.0" is the agent "1", as in a file, and not the number 1)."""
    text = pd.Index(uniques.astype(str)).str.strip()
    strings = typed and len(uniques) and all(isinstance(u, str) for u in uniques)
    if len(uniques) and pd.api.types.is_numeric_dtype(uniques) and not pd.api.types.is_bool_dtype(uniques):
        num = np.asarray(uniques, dtype=float)
    else:
        num = to_numbers(pd.Series(np.asarray(text, dtype=object)))
    whole = len(num) and np.isfinite(num).all() and (num == np.round(num)).all() and (np.abs(num) < 2 ** 53).all()
    padded = text.str.match(r"[+-]?0\d").any()  # "007": kept as written
    if whole and not padded and strings:
        return np.asarray([str(i) for i in num.astype(np.int64)], dtype=object)[codes]
    if whole and not padded:
        return num.astype(np.int64)[codes]  # keep them as integers
    return np.asarray(text, dtype=object)[codes]
