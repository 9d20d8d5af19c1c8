"""Files -> tracks: read trajectory files into one validated table (`read_tracks`).

The track table has one row per observation: `scene, frame, agent_id, x, y`, sorted by scene, agent and
frame, plus `_file` and `_line`, where each row came from (for error messages; see `where`). Every problem
with a file is a `DataError` naming the file, the line and what is wrong. Two repairs are made and counted
(see `summarize`): rows repeated exactly (same scene, frame, agent and position) are dropped, and rows out
of frame order are sorted. Blank lines are skipped.

Modules: `formats` reads one file, `values` checks its values, `units` converts positions to metres, and
`checks` judges the result (time steps, rates, speeds); `table` names the columns.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import DataError, as_number_hint, not_found_hint, plural, shown, warn
from .formats import TARS, class_names_file, mot_detections, mot_split, notes_file, read_file, refuse_futures
from .resample import EPS, GRID_OFF, GRID_SHARED, on_a_grid
from .table import (AGENT_COLUMNS, FRACTIONS, TRACK_COLUMNS, UNIT_NAMES, Shared, column_map, needed_among,
                    split_stamp, time_role, where)
from .config import finite_number, positive_number
from .units import (coarse_positions, coarsely_written, decimals_written, degrees_scaled, lonlat_units, placed,
                    scales_of_scenes, to_metres, unit_conversion)
from .values import canonical, to_numbers


SUFFIXES = (".csv", ".txt", ".tsv", ".parquet", ".ndjson")
PACKED = (".gz", ".bz2", ".xz", ".zst", ".zip")  # compressed files, named when a folder holds them


def _tree(folder: Path) -> list[Path]:
    """The files below `folder`, those of linked folders too (a dataset kept on another disk, linked in), each
    real folder walked once (a link back up is no loop)."""
    out, seen = [], set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        out.extend(Path(root) / name for name in names)
    return out


def list_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories (recursively) into the trajectory files they hold, sorted, but for hidden ones
    (a name or folder starting with '.': a notebook's .ipynb_checkpoints copy is no scene of its own; or with
    '~$': Excel's lock file of an open one); a file named twice (directly and through its folder) is read
    once."""
    if isinstance(paths, (str, os.PathLike)):  # one file or folder
        paths = [paths]
    values = isinstance(paths, pd.Series) and not all(isinstance(p, (str, os.PathLike)) for p in paths)
    if not isinstance(paths, Iterable) or isinstance(paths, (dict, bytes, bytearray, memoryview)) or values or \
            getattr(paths, "ndim", 1) == 0:  # (a Series of paths is paths; a 0-d array is no list)
        hint = ": give a path as text (str) or a Path" if isinstance(paths, (bytes, bytearray, memoryview)) else \
            ": give the DataFrame that holds it" if values else ": give paths as a list" if hasattr(paths, "ndim") \
            else ""
        raise DataError(f"expected file paths or a DataFrame as the data, got {type(paths).__name__}{hint}")
    paths = list(paths)
    odd = next((p for p in paths if not isinstance(p, (str, os.PathLike))), None)
    if odd is not None and hasattr(odd, "columns"):  # a table in a list: one table is given alone
        raise DataError("expected file paths or one DataFrame as the data, got a list holding a DataFrame: give "
                        "the DataFrame itself (several: pd.concat them, each with its own `scene` column)")
    if odd is not None:
        raise DataError(f"expected file paths or a DataFrame as the data, got a {type(odd).__name__} among them")
    if any(isinstance(p, str) and not p.strip() for p in paths):  # Path("") is ".": the current folder
        raise DataError("an empty path was given as data (an unset variable?); give a file or folder")
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            listed = [f for f in _tree(p) if not any(part.startswith((".", "~$")) for part in f.relative_to(p).parts)]
            broken = [f for f in listed if f.is_symlink() and not f.exists() and  # a linked disk not mounted?
                      (f.suffix.lower() in SUFFIXES or not f.suffix)]  # (a file read, or a folder)
            visible = [f for f in listed if f.is_file()]
            found = sorted(f for f in visible if f.suffix.lower() in SUFFIXES)
            _refuse_parquet_dataset(p, found)
            texts = Counter(f.parent for f in found if f.suffix.lower() == ".txt")
            found = [f for f in found if texts[f.parent] < 2 or not class_names_file(f)]
            detections = [f for f in found if mot_detections(f)]  # no tracks: a MOTChallenge sequence's det.txt
            halves = [f for f in found if mot_split(f)]  # gt.txt's tracks again, in parts
            notes = [f for f in found if notes_file(f)]  # README.txt, LICENSE.txt
            left = set(detections) | set(halves) | set(notes)
            empty = [f for f in found if f not in left and f.stat().st_size == 0]  # placeholders
            left |= set(empty)
            found = [f for f in found if f not in left]
            notes_line = notes and f"{plural(len(notes), 'file')} of notes ({_named(notes, p)}), read only when named"
            empty_line = empty and f"{plural(len(empty), 'empty file')} ({_named(empty, p)})"
            broken_line = broken and (f"{plural(len(broken), 'broken link')} ({broken[0].relative_to(p)} -> "
                                      f"{os.readlink(broken[0])}{', ...' if len(broken) > 1 else ''}): a linked "
                                      "disk not mounted?")
            archives = sorted(f for f in visible if f.name.lower().endswith((".zip", ".7z", ".rar") + TARS))
            others = "; ".join(line for line in (notes_line, empty_line, broken_line) if line)
            packed_line = _compressed_tracks(visible)
            jsons = [f for f in visible if f.suffix.lower() in (".json", ".jsonl")]
            if not found:
                raise DataError(f"{p}: directory holds no .csv/.txt/.tsv/.parquet/.ndjson files"
                                + (f", only {packed_line}" if packed_line else "")
                                + (f", only JSON files ({_named(jsons, p)}), "
                                   "which are read when named (a dataset's folders hold JSON of other kinds)"
                                   if jsons and not packed_line else "")
                                + (f", only MOTChallenge detections ({detections[0]}): track them first"
                                   if detections else "")
                                + (f", only {others}" if others and not (packed_line or jsons or detections) else "")
                                + (f"; {plural(len(archives), 'archive')} ({_named(archives, p)}): extract "
                                   f"{'them' if len(archives) > 1 else 'it'} first" if archives else ""))
            if packed_line:
                warn(f"warning: {p}: skipped {packed_line}")
            if jsons:  # read only when named: a dataset's folders hold JSON of other kinds
                warn(f"warning: {p}: skipped {plural(len(jsons), 'JSON file')} ({_named(jsons, p)}): a folder's "
                     "JSON is not read, as datasets keep maps and metadata in it; name a JSON file of tracks to read "
                     "it")
            if detections:
                warn(f"warning: {p}: skipped {plural(len(detections), 'MOTChallenge detection file')} ("
                     f"{_named(detections, p)}: detections, not tracks)")
            if halves:
                warn(f"warning: {p}: skipped {plural(len(halves), 'part')} of a MOTChallenge gt.txt ("
                     f"{_named(halves, p)}: its tracks again, split as ByteTrack splits them); name one to read it")
            if others:
                warn(f"warning: {p}: skipped {others}")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        elif p.exists():  # a pipe (`<(zcat x.gz)`), a device: read once, they cannot be read as the tracks are
            raise DataError(f"{p}: not a regular file (a pipe or a device); write the tracks to a file first")
        else:
            raise DataError(f"{p}: no such file or directory{not_found_hint(p)}")
    if not files:
        raise DataError("no input files given")
    odd = next((f for f in files if not str(f).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                == str(f)), None)
    if odd is not None:  # bytes of another encoding (Latin-1 from an old archive): no scene can be named after it
        shown = str(odd).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise DataError(f"{shown}: its name is not UTF-8 text (bytes of another encoding, shown as \ufffd); rename "
                        "it")
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def copies(files: list[Path]) -> dict[Path, Path]:
    """Each of `files` that holds the same bytes as one before it (or is it, by another path), with the first
    such: {copy: original}. Only files of one size are read."""
    by_size: dict[int, list[Path]] = {}
    for f in files:
        by_size.setdefault(f.stat().st_size, []).append(f)
    found = {}
    for same_size in (group for group in by_size.values() if len(group) > 1):
        first: dict[bytes, Path] = {}
        for f in same_size:
            digest = hash_bytes(f, hashlib.sha256()).digest()
            found.update({f: first[digest]} if digest in first else {})
            first.setdefault(digest, f)
    return found


def hash_bytes(path: Path, h):
    """`h` (a hashlib object) updated with the bytes of the file at `path`, read a MiB at a time."""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h


def _named(files: list[Path], folder: Path) -> str:
    """'a.csv' or 'a.csv, ...': the first of `files` below `folder`, for a message."""
    return f"{files[0].relative_to(folder)}{', ...' if len(files) > 1 else ''}"


def _refuse_parquet_dataset(folder: Path, found: list[Path]) -> None:
    """Refuse a Parquet dataset below `folder`: one table written in parts (Spark's, Dask's, pyarrow's
    `tracks.parquet/part-00000.parquet`, with `_SUCCESS` or `_metadata` beside them, or hive partitions
    `scene=plaza/`), whose parts would each be read as a scene of their own, its tracks cut at the parts'
    rows."""
    parquet = [f for f in found if f.suffix.lower() == ".parquet"]
    parts = Counter(f.parent for f in parquet if re.match(r"part[-.]\d", f.name))  # part-00000-..., part.0
    partitions = {d for f in parquet for d in f.relative_to(folder).parents if "=" in d.name}  # key=value folders
    keys = Counter((folder / d.parent, d.name.partition("=")[0]) for d in partitions)  # hive: two values of a key
    for f in parquet:
        below = f.relative_to(folder).parts[:-1]
        hive = next((i for i, part in enumerate(below) if "=" in part and
                     keys[(folder.joinpath(*below[:i]), part.partition("=")[0])] > 1), None)
        if hive is not None:
            root = folder.joinpath(*below[:hive])
        elif f.parent.name.lower().endswith(".parquet") or parts[f.parent] > 1 or \
                any((f.parent / marker).exists() for marker in ("_SUCCESS", "_metadata", "_common_metadata")):
            root = f.parent
        else:
            continue
        raise DataError(f"{root}: a Parquet dataset (one table written in parts, as Spark, Dask or pyarrow write "
                        f"it: {f.relative_to(root)}, ...), whose parts are no scenes: join them into one file first "
                        "(pandas.read_parquet(folder).to_parquet(file)), or give that table to the Python API; if its "
                        "files are tables of their own, give them by name")


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


def is_read(df) -> bool:
    """Whether `df` is a track table `read_tracks` made (its attributes name its time base and units), to be taken
    as it was read (`read_already`). A table made from one with a `time` column in place of its frame column is
    new: times in seconds and positions in metres, as its columns say (pandas keeps the attributes through the
    making: a frame column of seconds renamed, or times computed from frame ids)."""
    return isinstance(df, pd.DataFrame) and "time_base" in df.attrs and "units" in df.attrs and not (
        "frame" not in df.columns and "time" in df.columns)


def read_with(tracks: pd.DataFrame) -> dict:
    """The reading options a track table `read_tracks` made was read with, as its attributes keep them: a rate
    given for its frame ids (`fps`), a scale of metres per unit (`scale`), each scene's (`scales`) or a homography's
    matrix (`homography`). A format's own rate and degrees need none."""
    units = tracks.attrs.get("units") or {}
    return ({"fps": tracks.attrs["fps"]} if tracks.attrs.get("rate_from") == "fps" else {}) | \
        {key: units[key] for key in ("scale", "scales", "homography") if key in units}


def _read_so(tracks: pd.DataFrame, name: str, value) -> bool:
    """Whether the reading option `name` = `value` is one the table was read with (`read_with`): its rate given for
    its frame ids, or its scale of metres per unit."""
    given = read_with(tracks).get(name) if name in ("fps", "scale") else None
    return given is not None and finite_number(value) and float(value) == given


def read_already(tracks: pd.DataFrame, **options) -> pd.DataFrame:
    """A track table `read_tracks` (or `TrajCVAE.read`) made, as it is (`is_read`): its rate, units and agents were
    chosen when it was read, so options given again are refused rather than ignored or applied twice (but for the
    rate and scale it was read with, `_read_so`), and a table
    edited since into one no reading would make (a column dropped, a position made NaN) is refused rather than
    read as frame ids and positions of no known units."""
    given = next((name for name, value in options.items() if value is not None and not _read_so(tracks, name, value)),
                 None)
    if given is not None:
        raise DataError(f"{given}: the data is a track table read already (read_tracks), whose rate, units and "
                        f"agents were chosen then; give {given} with its files instead, or leave it out")
    missing = [c for c in TRACK_COLUMNS if c not in tracks]
    text = next((c for c in ("frame", "x", "y") if c not in missing and not pd.api.types.is_numeric_dtype(tracks[c])),
                None)
    bad = next((c for c in ("frame", "x", "y") if c not in missing and not np.isfinite(to_numbers(tracks[c])).all()),
               None) if text is None else None
    empty = next((c for c in ("agent_id", "scene") if c not in missing and tracks[c].isna().any()), None)
    if missing or text or bad or empty:
        what = f"no column '{missing[0]}'" if missing else f"a column '{text}' of {tracks[text].dtype}, not numbers" \
            if text else f"a missing or non-finite '{bad}'" if bad else f"a missing '{empty}'"
        plain = "its frame column, of seconds, renamed time makes it plain" if tracks.attrs.get("time_base") == \
            "seconds" else "df.attrs = {} makes it plain"
        tidied = set(missing) <= {"_file", "_line", "scene"}  # the reading's own columns dropped, the tracks whole
        plain = f" (a table made from it keeps its attributes: {plain})" if missing and tidied else ""
        raise DataError(f"the data is a track table read already (read_tracks) and edited since ({what}): give its "
                        f"files again, or a plain DataFrame of frame (or time), agent_id, x, y{plain}")
    # Windows read its rows by scene, agent and time, as reading orders them: a table sorted or sampled since
    # is put back in that order, and one with a row repeated (concatenated with a part of itself) refused.
    scene, agent = tracks["scene"], tracks["agent_id"]
    codes = scene.cat.codes.to_numpy() if isinstance(scene.dtype, pd.CategoricalDtype) else \
        pd.factorize(scene, sort=True)[0]
    key = agent.to_numpy() if pd.api.types.is_numeric_dtype(agent) else pd.factorize(agent, sort=True)[0]
    frame = to_numbers(tracks["frame"])
    same_scene, same_agent = codes[1:] == codes[:-1], key[1:] == key[:-1]
    if ((codes[1:] > codes[:-1]) | same_scene & ((key[1:] > key[:-1]) | same_agent & (frame[1:] > frame[:-1]))).all():
        return tracks  # in order, no row twice: as read (one pass, not a sort)
    order = np.lexsort((frame, key, codes))
    same = np.flatnonzero((np.diff(codes[order]) == 0) & (np.diff(key[order]) == 0) & (np.diff(frame[order]) == 0))
    if len(same):
        row = tracks.iloc[order[same[0]]]
        raise DataError(f"the data is a track table read already (read_tracks) and edited since (agent "
                        f"'{row['agent_id']}' twice at {row['frame']:.15g}, in scene '{row['scene']}'): give its files "
                        "again, or a plain DataFrame of frame (or time), agent_id, x, y")
    return tracks.iloc[order].reset_index(drop=True)


# A time column beside frame ids read at --fps that puts a frame id over RATE_OFF off 1 / fps (but within TIMES_OFF
# times it either way: a time column in other units says nothing of the rate) is warned of.
RATE_OFF, TIMES_OFF = 0.02, 20.0


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
    give). `classes` (one comma-separated string, or a list of them) keeps only agents of those labels. `columns`
    ('frame=timestep,agent_id=track_id,x=position_x,y=position_y', or a dict {role: column}) reads a CSV's or
    Parquet file's (or the DataFrame's) columns of other names as those roles (`COLUMN_ROLES`; any case),
    in place of the columns that would otherwise be: a time column as `time` (seconds) or in milli-, micro-
    or nanoseconds as `time_ms`, `time_us`, `time_ns`, in minutes, hours or days as `time_min`, `time_h`, `time_d`
    (Excel's date-time numbers are days).

    Frame ids are `fps` per second where given (a time column in seconds without frame ids is then read on a grid
    of that rate, `on_grid`: detections made evenly, stamped with jitter); else at a format's own rate (files
    of different own rates are each read at theirs, all timed in seconds: frame id / rate); else at
    `default_fps` (a model's training rate) where given; else of unknown rate. `df.attrs["rate_from"]` says
    which: "fps", "file", "files" (several own rates, timed in seconds), "model" or None.

    The table's time column is always called `frame`; `df.attrs["time_base"]` says what it holds:
    "seconds" (a time column), "frames" (frame ids at `fps` per second, `attrs["fps"]`), or "steps" (frame
    ids of unknown rate: each scene's most common difference is taken as one model step, as on ETH/UCY).
    Positions become metres: `scale` is metres per input unit (0.01 for centimetres), or each scene's (a
    file or a dict: `scene_scales`); `homography` a 3x3 matrix (or a text file of one) taking image pixels
    (u, v, 1) to metres, as ETH/UCY's H.txt files do.
    Columns `lon, lat` (or `lng`/`long`/`longitude`, `latitude`) in place of `x, y` are WGS84 degrees,
    projected to metres east and north of each scene's first position (`lonlat_units`).
    `df.attrs["units"]` keeps the conversion, so outputs can be given back in the input's units;
    `df.attrs["columns"]` the columns read under other names (`column_map`'s), or None; `df.attrs["clock"]`
    the time column's name (lower-cased, for messages), where the files all give it one name;
    `df.attrs["orient"]` which way the metres run, for pictures: "xy" (y up), "east_north" (from degrees), or
    "image" (SDD's and MOT's pixels, scaled or not: y down the image). `df.attrs` also records `files` (how
    many were read), `duplicates_dropped` and `rows_sorted` (rows read after a later row of their agent, put
    in time order). A table this made is taken as it was read (`read_already`: options given again refused).
    """
    if is_read(paths):
        return read_already(paths, fps=fps, scale=scale, homography=homography, classes=classes, columns=columns)
    units = unit_conversion(scale, homography)
    check_fps(fps)
    fps = None if fps is None else float(fps)  # (a Fraction or numpy number: messages write it as a float)
    columns = column_map(columns)
    if isinstance(paths, pd.DataFrame):
        refuse_futures("the table", list(paths.columns))
        try:
            tables, n_files = [canonical(paths, "dataframe", "input", first_line=0, row_word="iloc",
                                          frames=fps is not None, typed=True, columns=columns)], 0
        except DataError as e:  # set_index("time"), a groupby's keys: columns in the index, which is not read
            held = [str(n) for n in paths.index.names if n is not None and needed_among([n])]
            nested = isinstance(paths.columns, pd.MultiIndex)
            level = max(range(paths.columns.nlevels),
                        key=lambda i: len(needed_among(paths.columns.get_level_values(i))))
            if not ("missing column(s)" in str(e) or "no column '" in str(e)) or not (held or nested):
                raise
            said = str(e).split("; read a column of another name")[0].split("; add ")[0]
            fixes = ([f"the table's index holds {', '.join(held)}, which is not read: give df.reset_index()"]
                     if held else []) + ([f"its columns are nested (a MultiIndex): name each by one level, "
                                          f"df.columns = df.columns.get_level_values({level})"] if nested else [])
            raise DataError(f"{said}; {'; '.join(fixes)}") from None
        names = ["dataframe"]
    else:
        files = list_files(paths)
        for given in (homography, scale):  # ETH/UCY's folders hold their H.txt, SDD's its scales
            if isinstance(given, (str, os.PathLike)) and len(files) > 1:
                files = [f for f in files if not _same_path(f, given)]
        twins = copies(files)
        tables, n_files = [read_file(f, fps is not None, columns) for f in files], len(files)
        if twins:  # a browser's "tracks (1).csv", MOTChallenge's sequence under each detector's name
            copy, original = next(iter(twins.items()))
            more = f" (and {len(twins) - 1} more cop{'y' if len(twins) == 2 else 'ies'})" if len(twins) > 1 else ""
            read = "read twice, as scenes of their own" if tables[files.index(copy)].attrs.get("named_by_file") else \
                "in the same scenes (their scene column's), so the copy's rows are dropped as repeats"
            warn(f"warning: {original} and {copy} hold the same bytes{more}: the tracks are {read}; leave the copies "
                 "out")
        names = [str(f) for f in files]
        _distinct_scenes(tables, files)
        if units is not None and "scales" in units:
            _scenes_named_as_scaled(tables, files, units["scales"])
    if isinstance(classes, str):  # "Pedestrian,Biker", as --classes and data.classes give it
        classes = classes.split(",")
    elif isinstance(classes, Iterable) and getattr(classes, "ndim", 1):  # (not a 0-d array: no iterable)
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
            if t.attrs.get("scene_records") is not None:  # TrajNet++'s: their frames as the rows' times
                t.attrs["scene_records"] = Shared(t.attrs["scene_records"],
                                                  frame=t.attrs["scene_records"]["frame"] / rate,
                                                  step=t.attrs["scene_records"]["step"] / rate)
        own, rate_from = [None] * len(tables), "files"
    else:
        rate_from = "fps" if fps is not None else None
    seconds = [bool(t.attrs.get("seconds")) for t in tables]
    # Read in seconds with --fps (no frame column): detections made at that rate, their stamps read on its grid.
    grid = fps if fps is not None and seconds and all(seconds) else None
    if any(seconds) and not all(seconds) and fps is not None:
        raise DataError(f"--fps {fps:g}: {names[seconds.index(True)]} has a time column in seconds but "
                        f"{names[seconds.index(False)]} frame ids, which --fps is for: give files of one kind at a "
                        "time")
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
    for t, name in zip(tables, names) if rate_from == "fps" else ():
        clock, per_frame = t.attrs.get("seconds_per_frame_id") or (None, 0.0)
        if 1 / TIMES_OFF < fps * per_frame < TIMES_OFF and abs(fps * per_frame - 1) > RATE_OFF:
            warn(f"warning: {name}: --fps {fps:g} reads its frame ids {1 / fps:.4g} s apart, but its {clock} column "
                 f"puts them {per_frame:.4g} s apart ({1 / per_frame:.4g} a second): give --fps {1 / per_frame:.4g}, "
                 f"or leave --fps out to read its {clock} column")
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
    clocks = {t.attrs.get("clock") for t in tables}  # the time column's name, where every file gives it one
    records = _scene_records(tables)
    if classes is not None:
        unlabelled = next((name for t, name in zip(tables, names) if not any(c in t.columns for c in AGENT_COLUMNS)),
                          None)
        if unlabelled is not None:
            raise DataError(f"--classes: {unlabelled} has no label column (SDD annotations, MOT ground truth, or "
                            "a CSV `label`, `type`, `class` or `category` column; --columns label=<column> reads "
                            "another)")
    image = all(t.attrs.get("image") for t in tables) and (units is None or "homography" not in units)
    try:
        df = _combine(tables, n_files)
    except DataError as e:  # ROS 2's sec without its nanosec: every agent several times a second
        whole = "time" in (columns or {}) and not split_stamp(columns) and \
            all(np.array_equal(t["frame"], np.floor(t["frame"])) for t in tables)  # (a clock of whole seconds)
        if not (whole and "duplicate (scene, time, agent_id)" in str(e)):
            raise
        said = str(e).split("; its times are written")[0]  # (this cause in its place)
        raise DataError(f"{said}; its times are whole seconds (--columns time={columns['time']}): if they are a "
                        f"stamp's seconds, give its part under a second too, --columns time={columns['time']},"
                        "time_ns=<nanoseconds column>") from None
    del tables
    role = time_role(columns)
    if role in FRACTIONS and not split_stamp(columns) and df.attrs["rows_sorted"] and df["frame"].min() >= 0 \
            and df["frame"].max() < 1:  # a time that starts again every second: a stamp's part under a second
        raise DataError(f"--columns {role}={columns[role]}: its times lie within one second and go back within "
                        f"tracks ({plural(df.attrs['rows_sorted'], 'row')} out of order), as the {UNIT_NAMES[role]} "
                        f"of a stamp split in two columns do: give its whole seconds too, --columns "
                        f"time=<seconds column>,{role}={columns[role]}")
    if classes is not None:  # on all files together: an agent's rows may come from several
        df = _only_classes(df, list(classes), names[0] if len(names) == 1 else f"the {len(names)} files")
    if grid is not None:
        df = on_grid(df, grid, names[0] if len(names) == 1 else f"the {len(names)} files",
                     _clock_said(columns))
        rate_from = None
    df.attrs.update(orient="east_north" if all(lonlat) else "image" if image else "xy",
                    time_base="seconds" if all(seconds) else "frames" if fps is not None else "steps",
                    fps=None if all(seconds) else fps, rate_from=rate_from, units=units, coarse=coarse,
                    overrode=bool(other) and grid is None, columns=columns,  # --fps against files' own rates
                    clock=next(iter(clocks)) if len(clocks) == 1 and all(seconds) else None, scene_records=records)
    uv = df[["x", "y"]].to_numpy(dtype=np.float64)
    if all(lonlat):
        units = df.attrs["units"] = lonlat_units(df)
    if units is not None and "scales" in units:
        units = df.attrs["units"] = scales_of_scenes(units, df["scene"])
    xy, side = placed(uv, units, df["scene"], lambda i: where(df, i))
    if (degrees := degrees_scaled(uv, units, df["scene"])) is not None:
        warn(degrees)
    if side:
        units["side"] = side  # where the ground is: futures past it have no pixel (`from_metres`)
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
        df.attrs["coarse"] = coarse_positions(float32_positions, units)
    if not df.attrs["coarse"]:
        df.attrs["coarse"] = written_coarsely(df, uv, xy)
    if units is not None:
        df["x"], df["y"] = xy[:, 0], xy[:, 1]
    return df


def _clock_said(columns: dict | None) -> str:
    """How messages name a table's time column: as --columns gave it, or as a time column in seconds."""
    role = time_role(columns)
    return f"the times (--columns {role}={columns[role]})" if role in (columns or {}) else "the times"


def on_grid(df: pd.DataFrame, fps: float, name: str, clock: str = "the times") -> pd.DataFrame:
    """The table (sorted by scene, agent, time; times in seconds) with each track's times rounded to a grid
    of `fps` per second (`resample.on_a_grid`: each agent at its own phase, loggers out of step keeping theirs,
    or at its scene's where the scene keeps one, so a tracker's agents of one frame keep one time): detections
    made at that rate but stamped with jitter, as a receiver's clock stamps them on arrival. A detection on a
    grid point its agent has already, nearer to it, is dropped. Refused, naming `name` (the file; its scene
    where it holds others) and `clock`, where a scene's times keep to no such grid (`GRID_OFF`) or more than
    `GRID_SHARED` of the detections share a point (they come faster than `fps`). `attrs["grid"]` keeps the rate,
    the most a time moved and the detections dropped, for the summary line."""
    period = 1.0 / fps
    t = df["frame"].to_numpy(dtype=np.float64)
    scene, scenes = pd.factorize(df["scene"])
    on, keep, rms = on_a_grid(t, scene, pd.factorize(df["agent_id"])[0], period)
    rate = f"{fps:g} Hz"
    worst = int(np.argmax(rms)) if len(rms) else 0
    if len(rms) and rms[worst] > GRID_OFF * period:
        what = name if len(scenes) == 1 else f"scene '{scenes[worst]}' of {name}"
        fix = "give the rate the detections are made at, or drop --fps" if len(scenes) == 1 else \
            "give its rows apart (with their own rate), or drop --fps"
        raise DataError(f"--fps {fps:g}: {clock} of {what} keep to no {rate} grid (each {rms[worst]:.2g} s off the "
                        f"nearest, root mean square; stamps with jitter would be under {GRID_OFF * period:.2g} s): "
                        f"{fix}")
    dropped = len(t) - len(keep)  # detections on a grid point of their agent's nearer one
    if dropped > GRID_SHARED * len(t):
        raise DataError(f"--fps {fps:g}: {plural(dropped, 'detection')} of {plural(len(t), 'row')} in {name} share "
                        f"a {rate} grid point with another of their agent's, so they come faster: give the rate "
                        "they are made at, or drop --fps")
    attrs = dict(df.attrs)
    df = df.iloc[keep].reset_index(drop=True) if dropped else df.copy()
    df["frame"] = on[keep]
    moved = float(np.abs(t - on).max(initial=0.0))
    df.attrs.update(attrs, grid={"fps": float(fps), "moved": moved if moved > EPS * period else 0.0,
                                 "dropped": dropped})
    return df


def _scene_records(tables: list[pd.DataFrame]) -> dict[str, np.ndarray] | None:
    """The TrajNet++ scene records of all files (`formats._read_trajnet`'s): each primary pedestrian's
    `scene`, `agent_id` and `t0` (its scene's last observed frame, in the table's time) with its `scene_id`,
    the `step` from one of its samples to the next (in the table's time), the `record` as read (a dict) and
    its `_file`; None where no file has any."""
    parts = [(t.attrs["scene_records"], str(t["scene"].iloc[0]), str(t["_file"].iloc[0])) for t in tables
             if t.attrs.get("scene_records") is not None and len(t)]
    if not parts:
        return None
    return Shared(scene=np.concatenate([np.full(len(r["frame"]), scene, dtype=object) for r, scene, _ in parts]),
                  agent_id=np.concatenate([r["agent_id"] for r, _, _ in parts]),
                  t0=np.concatenate([r["frame"] for r, _, _ in parts]),
                  scene_id=np.concatenate([r["scene_id"] for r, _, _ in parts]),
                  step=np.concatenate([r["step"] for r, _, _ in parts]),
                  record=np.concatenate([r["record"] for r, _, _ in parts]),
                  _file=np.concatenate([np.full(len(r["frame"]), f, dtype=object) for r, _, f in parts]))


def written_coarsely(df: pd.DataFrame, uv: np.ndarray, xy: np.ndarray) -> tuple[str, str] | None:
    """`units.coarsely_written` for a track table (sorted by scene, agent and time): its positions `uv` as
    written, `xy` the same in metres."""
    track = df["scene"].cat.codes.to_numpy(), df["agent_id"].to_numpy()
    same = (track[0][1:] == track[0][:-1]) & (track[1][1:] == track[1][:-1])  # rows i and i + 1: one track
    return coarsely_written(uv, xy, same, df["_file"])


def _only_classes(t: pd.DataFrame, classes: list[str], name: str) -> pd.DataFrame:
    """The rows whose agent's label (a row's first non-empty one of the `AGENT_COLUMNS`: files may name it
    differently) is one of `classes` (any case) as known at that row: the agent's latest non-empty label at or
    before it, so a label given later (a person who takes a bike) never decides what was kept before it, nor
    what a window made then reads. Rows before an agent's first label are of no known class, and left out.
    `t`: the table of all files (`_combine`'s, sorted by scene, agent and frame: an agent's rows may come
    from several files; `name` says what it was read from)."""
    labels = [t[c].to_numpy(dtype=str) for c in AGENT_COLUMNS if c in t.columns]
    label = labels[0]
    for more in labels[1:]:
        label = np.where(label != "", label, more)
    given = sorted(set(label[label != ""].tolist()))
    have = {g.lower() for g in given}
    # Each item a label, or comma-separated labels as --classes gives them ("Pedestrian,Biker" in a list), but for
    # a label that holds a comma ("Car, parked").
    classes = [part for c in classes for part in ([c] if c.strip().lower() in have else c.split(","))]
    wanted = {c.strip().lower() for c in classes if c.strip()}
    rows = np.arange(len(t))
    scene, agent = t["scene"].to_numpy(), t["agent_id"].to_numpy()
    first = np.maximum.accumulate(np.where(np.r_[True, (scene[1:] != scene[:-1]) | (agent[1:] != agent[:-1])],
                                           rows, 0))  # (N,) the row its agent's track starts at
    latest = np.maximum.accumulate(np.where(label != "", rows, -1))  # (N,) the latest labelled row by then
    known = np.where(latest >= first, label[np.maximum(latest, 0)], "")
    keep = pd.Series(known).str.lower().isin(wanted).to_numpy()
    kept = t[keep].reset_index(drop=True)
    kept.attrs.update(t.attrs, classes_left_out=int(len(t) - len(kept)))
    found = ", ".join(map(repr, given[:8])) if any("," in g for g in given[:8]) else ", ".join(given[:8])
    if not len(kept):
        raise DataError(f"--classes {','.join(classes)}: no agent of those classes in {name} (it has: {found})")
    absent = [c.strip() for c in classes if c.strip() and c.strip().lower() not in have]
    if absent and not keep.all():  # a misspelt class, whose agents were left out
        warn(f"warning: --classes: no agent of class {', '.join(absent)} in {name}, and agents of other classes "
             f"are left out (it has: {found})")
    return kept


def check_fps(fps: float | None) -> None:
    """--fps: None (no rate given) or a positive, finite number of frame ids per second."""
    if fps is not None and not positive_number(fps):
        raise DataError(f"--fps must be a positive number of frames per second (got {shown(fps)})"
                        + as_number_hint(fps, "fps", positive=True))


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
    timed = all(t.attrs.get("seconds") for t in tables)  # a time column in seconds: named so in messages
    del tables
    scene_codes = scene.codes
    agent_key = col["agent_id"] if all(numeric) else pd.factorize(col["agent_id"], sort=True)[0]
    order = np.lexsort((col["frame"], agent_key, scene_codes))
    # Rows with the same key are now adjacent, in file order.
    agent_next = _equal_next(scene_codes, order) & _equal_next(agent_key, order)
    set_back = not (order[1:] > order[:-1]).all() and _clock_set_back(  # (said before a clash of rows it causes)
        col["frame"], scene_codes, agent_key, pd.DataFrame({"_file": files, "_line": col["_line"]}, copy=False), timed)
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
            apart = (f"; two files name scene '{scene[i]}': if they are different recordings, give their scenes "
                     "different names (their scene column)") if files[i] != files[j] else ""
            written = decimals_written(col["frame"]) if timed and not apart and files[i] != "dataframe" else None
            if set_back:
                apart = "; the clock set back (warned of above) puts two of its rows at one time"
            elif written is not None and written <= 2:  # (a 25 Hz tracker's times written to tenths of a second)
                how = f"to {plural(written, 'decimal')} of a second" if written else "as whole seconds"
                apart = f"; its times are written {how}: if the detections come faster than that, write more decimals"
            raise DataError(f"{where(src, i)}: duplicate (scene, {'time' if timed else 'frame'}, agent_id) = "
                            f"({scene[i]}, {col['frame'][i]:.15g}, {col['agent_id'][i]}) at another position; first "
                            f"seen at {where(src, j)}{apart}")
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
    for c in col:  # a column of one table in its order is a read-only view of it (pandas' copy on write): the
        col[c] = col[c] if col[c].flags.writeable else col[c].copy()  # caller's table to edit is its own
    del agent_key
    df = pd.DataFrame({"scene": scene, **{c: col[c] for c in ("frame", "agent_id", "x", "y")}, "_file": files,
                       "_line": col["_line"], **{c: col[c] for c in extras}}, copy=False)
    df.attrs.update(files=n_files, duplicates_dropped=dropped, rows_sorted=unsorted)
    if len(files.categories) > 1 and len(df) > 1:
        _files_in_turn(df, agent_next)
    return df


TURNS_SHARE = 0.25  # of a track's moves from one file to another, at least, for its files to be taking turns
# A clock set back: agents' times that go back, in the files' order, by over SET_BACK times the tracks' median
# interval, in at most SET_BACK_SHARE of their moves (more: rows shuffled, which sorting repairs), and then come again
# where the track was seen before, SET_BACK_ROWS rows or more within half an interval of its earlier rows' times.
SET_BACK, SET_BACK_SHARE, SET_BACK_ROWS = 1.0, 0.01, 2
SET_BACK_AT = 2.0  # intervals: moves back that leave from times this close are one clock's step


def _clock_set_back(t: np.ndarray, scene: np.ndarray, agent: np.ndarray, src: pd.DataFrame, timed: bool) -> bool:
    """Warn (-> True) where the times (`t`, in the files' order) of agents (`agent` codes within `scene` codes) go back
    far, a few times in files otherwise in time order: a clock set back (local times without their offset over
    a daylight-saving change, an NTP step, two recordings whose clocks both start at 0), whose rows sorting puts
    among the earlier ones, two stretches of a track read as one. `src`: each row's file and line."""
    order = np.lexsort((np.arange(len(t)), agent, scene))  # each agent's rows in the files' order
    ts = t[order]
    file = src["_file"].cat.codes.to_numpy()[order]  # (a later file may hold an earlier stretch of the scene)
    mine = (scene[order][1:] == scene[order][:-1]) & (agent[order][1:] == agent[order][:-1]) & (file[1:] == file[:-1])
    moves = np.diff(ts)
    forward = moves[mine & (moves > 0)]
    if not len(forward):
        return False
    interval = float(np.median(forward))
    back = np.flatnonzero(mine & (moves < -SET_BACK * interval))
    if not len(back) or np.count_nonzero(mine & (moves < 0)) > SET_BACK_SHARE * np.count_nonzero(mine):
        return False
    starts = np.flatnonzero(np.append(True, ~mine))  # each agent's first row (of a file) in `ts`
    ends = np.append(starts[1:], len(ts))
    whose = np.searchsorted(starts, back, "right") - 1  # the agent (its rows' run) of each move back
    back = back[[_seen_again(ts, starts[w], b + 1, ends[w], interval) for b, w in zip(back, whose)]]
    # A clock is set back at one moment, for every track that spans it: most moves back leave from about one time
    # (a tracker that writes each track's first rows once it is sure of it moves back at every track's start).
    left, reach = np.sort(ts[back]), SET_BACK_AT * interval  # (B,) the times they leave from
    together = np.searchsorted(left, left + reach, "right") - np.searchsorted(left, left - reach)  # (B,) each's near
    if not len(back) or together.max() < len(back) / 2:  # rows written late: sorted, they fill their gaps
        return False
    first = back[np.argmin(order[back + 1])]  # the first in the files
    i, j = order[first + 1], order[first]
    unit = "s" if timed else "frame ids"
    more = f", and {plural(len(back) - 1, 'more time')} for other agents" if len(back) > 1 else ""
    warn(f"warning: {where(src, i)}: the times go back {-moves[first]:.6g} {unit}, from {ts[first]:.15g} to "
         f"{ts[first + 1]:.15g} after {where(src, j)}{more}: a clock set back (local times over a daylight-saving "
         "change, a clock's step, two recordings from 0)? Sorted, the rows after it go among those before, two "
         "stretches of a track read as one: write the times in UTC (or with their offset), or give each recording "
         "a scene of its own")
    return True


def _seen_again(t: np.ndarray, start: int, jump: int, end: int, interval: float) -> bool:
    """Whether a track's times `t[start:end]` (in the files' order), going back at `jump`, come again where they
    were or before them: SET_BACK_ROWS rows from `jump` on, up to its earlier rows' latest time, lie within half an
    `interval` of one of them or before the first (a clock set back, or a second recording from 0), rather than in
    their gaps (rows written late)."""
    before, after = np.sort(t[start:jump]), t[jump:end]
    after = after[after <= before[-1]]
    i = np.searchsorted(before, after)
    below, above = before[np.maximum(i - 1, 0)], before[np.minimum(i, len(before) - 1)]  # its neighbours in time
    gap = np.minimum(np.abs(after - below), np.abs(above - after))
    again = (gap <= interval / 2) | (after < before[0] - interval / 2)
    return int(np.count_nonzero(again)) >= SET_BACK_ROWS


def _files_in_turn(df: pd.DataFrame, agent_next: np.ndarray) -> None:
    """Warns of agents whose detections (sorted by time) take turns between files of one scene, a quarter of their
    moves or more going from one file to another, where such a move is longer than two moves within a file: two
    files that name one scene and number their agents alike (two cameras' CSVs, each scene column 'plaza') make
    one track of two agents, hopping between them, which the speed and jitter lines would read as fast or noisy
    agents. A scene split by time into files (hour1.csv, hour2.csv, or alternating blocks) switches rarely, and
    cameras of global ids in one frame of metres place an agent alike from either file."""
    codes = df["_file"].cat.codes.to_numpy().astype(np.int64)  # (N,) in scene, agent, time order
    track = np.cumsum(np.r_[0, ~agent_next])  # (N,) each row's track
    switch = agent_next & (codes[1:] != codes[:-1])  # (N - 1,) a move from one file to another
    switches = np.bincount(track[1:][switch], minlength=track[-1] + 1)  # (tracks,)
    moves = np.bincount(track[1:][agent_next], minlength=track[-1] + 1)
    taking_turns = (switches >= 2) & (switches >= TURNS_SHARE * moves)  # (tracks,)
    if not taking_turns.any():
        return
    xy = df[["x", "y"]].to_numpy(dtype=np.float64)
    across = switch & taking_turns[track[1:]]  # moves between the files, of those tracks
    hop = np.hypot(*(xy[1:] - xy[:-1])[across].T)
    two = agent_next[1:] & agent_next[:-1] & (codes[2:] == codes[:-2]) & taking_turns[track[2:]]
    within = np.hypot(*(xy[2:] - xy[:-2])[two].T)  # two moves apart, in one file
    if not len(within):  # (blocks of two rows: A A B B) a single move within a file
        one = agent_next & (codes[1:] == codes[:-1]) & taking_turns[track[1:]]
        within = 2 * np.hypot(*(xy[1:] - xy[:-1])[one].T)
    if not len(within) or not np.median(hop) > 2 * np.median(within):  # one agent, seen by both (or no telling)
        return
    back = np.flatnonzero(taking_turns)
    first = np.searchsorted(track, back[0])  # the first row of the first such track
    row = first + int(np.argmax(codes[first:] != codes[first]))
    scene, agent = df["scene"].iloc[first], df["agent_id"].iloc[first]
    others = f" (and {plural(len(back) - 1, 'other agent')})" if len(back) > 1 else ""
    warn(f"warning: agent {agent} of scene '{scene}'{others} takes its detections from {df['_file'].iloc[first]} and "
         f"{df['_file'].iloc[row]} in turn: if the files are different recordings, give their scenes different names "
         "(their scene column); as read, each such track hops between two agents")


def _equal_next(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """values[order][1:] == values[order][:-1], one temporary copy at a time."""
    v = values[order]
    return v[1:] == v[:-1]


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


def _scenes_named_as_scaled(tables: list[pd.DataFrame], files: list[Path], scales: dict) -> None:
    """A scene named after its file (test/cam1/tracks.csv read alone is scene 'tracks'), where one of the scales'
    scenes is the end of its file's path (cam1/tracks, as the camera's file is named when read beside
    cam2/tracks.csv), takes that name, the longest such where several are (a scale of 'tracks' beside one of
    'cam1/tracks' is another file's): the same file is the same scene whichever others are read with it."""
    taken = {str(c) for t in tables for c in t["scene"].cat.categories}
    for t, f in zip(tables, files):
        named = list(map(str, t["scene"].cat.categories))
        if not t.attrs.get("named_by_file") or len(named) != 1:
            continue
        name, path = named[0], f.resolve().with_suffix("").parts
        ends = [key for key in map(str, scales) if key not in taken and key.endswith(f"/{name}")
                and tuple(key.split("/")) == path[-len(key.split("/")):]]
        if ends:
            longest = max(ends, key=lambda key: len(key.split("/")))
            t["scene"] = pd.Categorical.from_codes(np.zeros(len(t), np.int8), categories=[longest])
            taken.add(longest)


def _shortest_distinct(paths: list[Path], least: list[int], taken: set[str]) -> list[str]:
    """The fewest trailing parts of each path (at least `least` of its own; without its suffix where that is
    enough) that tell them apart and are none of the names `taken`: cam1/tracks, cam2/tracks."""
    for parts in ([p.with_suffix("").parts for p in paths], [p.parts for p in paths]):
        for k in range(1, max(map(len, parts)) + 1):
            names = ["/".join(q[-max(k, m):]) for q, m in zip(parts, least)]
            if len(set(names)) == len(names) and not taken & set(names):
                return names
    return [str(p) for p in paths]  # distinct files always differ in full
