"""One file -> its table (`read_file`), whatever its format: CSV/text, Parquet, JSON, SDD annotations, MOTChallenge
results or ground truth, TrajNet++ ndjson.

Reading one file: `_sniff` looks at the first MiB only (text or binary, UTF-8 with or without a byte-order
mark, separator `,` `;` or whitespace, a header naming `frame, agent_id, x, y` in any order or case, or
none: a headerless ETH/UCY file; SDD, MOTChallenge and TrajNet++ files by their first row). Then
`_read_fast` parses the whole file straight into numeric columns with pandas' C parser (never held as text
or as one Python string per value); only a file that fails it is re-read by `_read_slow`, in chunks of
`SLOW_CHUNK` rows, as text, to name the line at fault. The table takes about 40 bytes a row (about 140 at
the peak while reading).

`class_names_file`, `mot_detections` and `side_files` name the files beside a dataset's tracks that are no
tracks themselves, or that a reading depends on.
"""
from __future__ import annotations

import codecs
import csv
import json
import math
import os
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError, first_line, gathered_warnings, warn
from .table import (AGENT_COLUMNS, PER_SECOND, REQUIRED, STAMP_PART, TIME_NAMES, TRACK_COLUMNS, Shared, box_corner,
                    column_aliases, counted_from_one, in_any_case, is_column_number, missing_columns, needed_among,
                    split_stamp, time_role)
from .values import (MAX_RAW, ROUGH_PARSER, agent_ids, as_text, canonical, missing_marks, numeric_column,
                     parses_as_number, seconds_per_frame_id, to_numbers, unresolved_time)


SDD_FIELDS = ("agent_id", "xmin", "ymin", "xmax", "ymax", "frame", "lost", "occluded", "generated", "label")
SDD_FPS = 30.0  # the Stanford Drone Dataset's videos
MOT_FIELDS = ("frame", "id", "bb_left", "bb_top", "bb_width", "bb_height", "conf", "x", "y", "z")  # results
MOT_GT_FIELDS = MOT_FIELDS[:6] + ("consider", "class", "visibility")  # MOT16/17/20 ground truth (gt.txt)
# MOT's names as a header over its rows: its results', its ground truth's (column 7 named consider, or conf
# as the MOT16 paper names it)
MOT_HEADERS = [list(MOT_FIELDS), list(MOT_GT_FIELDS), list(MOT_FIELDS[:7] + MOT_GT_FIELDS[7:])]
MOT_CLASSES = ("Pedestrian", "Person on vehicle", "Car", "Bicycle", "Motorbike", "Non motorized vehicle",
               "Static person", "Distractor", "Occluder", "Occluder on the ground", "Occluder full", "Reflection",
               "Crowd")  # gt.txt's class ids 1..13
ODD_FLAGS = 0.01  # ground truth's 0/1 flags with at most 2 or this share of others: rows written wrong, refused
MOT_AGENTS = 7  # classes 1..7 are people and vehicles; the rest (distractors, occluders, ...) are dropped
SNIFF_BYTES = 1 << 20  # the header (or first row) must lie within the first MiB
DEEP_JSON = "JSON nested too deeply to read (hundreds of levels; a table of tracks needs three at most)"
SLOW_CHUNK = 200_000  # rows per chunk when re-reading a bad file as text to find the line at fault


def class_names_file(path: Path) -> bool:
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


NOTES = ("readme", "read_me", "read-me", "license", "licence")  # a name starting so: a dataset's notes, not tracks
NOTE_NAMES = ("copying", "notice", "authors", "changelog", "citation", "contributing", "requirements")


def notes_file(path: Path) -> bool:
    """A dataset's notes beside its tracks (README.txt, LICENSE-CC-BY.txt, CITATION.txt, requirements.txt): a
    file of such a name that does not read as tracks (a notice.txt of tracks is read), skipped in a folder,
    where datasets ship them."""
    stem = path.stem.lower()
    if path.suffix.lower() != ".txt" or not (stem.startswith(NOTES) or stem in NOTE_NAMES):
        return False
    try:
        with gathered_warnings():  # (said when it is read; this thread's alone)
            read_file(path)
    except DataError:
        return True
    except OSError:
        pass
    return False


def mot_detections(path: Path) -> bool:
    """A MOTChallenge sequence's detections, det/det.txt beside its seqinfo.ini (MOT16 on) or its gt/ or img1/
    folder (MOT15 has no seqinfo.ini): boxes no tracker has linked."""
    sequence = path.parent.parent
    return path.name == "det.txt" and path.parent.name == "det" and (
        (sequence / "seqinfo.ini").is_file() or (sequence / "gt").is_dir() or (sequence / "img1").is_dir())


def mot_split(path: Path) -> bool:
    """A part of a MOTChallenge sequence's ground truth written beside it (gt/gt_train_half.txt and
    gt/gt_val_half.txt, as ByteTrack's converter splits gt/gt.txt): the same tracks again."""
    return path.parent.name == "gt" and path.name.startswith("gt_") and path.suffix.lower() == ".txt" and \
        (path.parent / "gt.txt").is_file()


COMPRESSED = {rb"\x1f\x8b": ("gzip", "gunzip"), rb"BZh[1-9]1AY&SY": ("bzip2", "bunzip2"),
              rb"\xfd7zXZ\x00": ("xz", "unxz"), rb"\x28\xb5\x2f\xfd": ("zstd", "unzstd")}  # how each starts
ARCHIVES = {rb"PK\x03\x04": ("a ZIP archive", "unzip"), rb"7z\xbc\xaf\x27\x1c": ("a 7-Zip archive", "7z x"),
            rb"Rar!\x1a\x07": ("a RAR archive", "unrar x"), rb"(?s:.{257})ustar": ("a tar archive", "tar -xf")}
TARS = (".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst")
LFS = b"version https://git-lfs.github.com/spec/"  # how a Git LFS pointer file starts


def packed(path: Path, head: bytes) -> str | None:
    """What a file that starts with `head` (its first 512 bytes) is, when it is compressed or an archive (never
    read), or a Git LFS pointer in place of its data, with the fix: "...: a ZIP archive; extract it first ..."."""
    if head.startswith(LFS):
        return (f"{path}: a Git LFS pointer, not the data (the repository was cloned without Git LFS): fetch the "
                "data with git lfs pull")
    archive = next((v for magic, v in ARCHIVES.items() if re.match(magic, head)), None)
    compressed = next((v for magic, v in COMPRESSED.items() if re.match(magic, head)), None)
    if archive is None and compressed and path.name.lower().endswith(TARS):  # x.tar.gz: a tar inside
        archive = ("a compressed tar archive", "tar -xf")
    if archive and archive[1] == "unzip" and path.suffix.lower() in (".xlsx", ".xlsm", ".ods", ".numbers"):
        return f"{path}: a spreadsheet workbook, not a CSV/text table; save its sheet of tracks as CSV (UTF-8)"
    if archive and archive[1] == "unzip" and path.suffix.lower() == ".npz":
        return f"{path}: NumPy arrays (.npz), not a table; write the tracks as CSV or Parquet"
    if archive:
        return f"{path}: {archive[0]}; extract it first ({archive[1]} {path.name}), then give the files it holds"
    if compressed:
        return f"{path}: {compressed[0]}-compressed; decompress it first ({compressed[1]}), then give the text file"
    return None


TRAJNET_RECORD = re.compile(rb'\{\s*"(scene|track)"\s*:\s*\{')  # a JSON object of a scene or a track: TrajNet++


def _first_line(head: bytes) -> bytes:
    """The first line of a file's first bytes `head` that is not blank, stripped (past a byte-order mark)."""
    return next((line for line in head.lstrip(codecs.BOM_UTF8).splitlines() if line.strip()), b"").strip()


def _trajnet_first(path: Path) -> bool:
    """Whether a .json file's first line is a TrajNet++ record: an object of one scene or track (a table's
    columns as JSON, {"scene": {"0": ...}, "frame": ...}, start alike)."""
    import json

    with open(path, "rb") as f:
        first = _first_line(f.read(SNIFF_BYTES))
    if not TRAJNET_RECORD.match(first):
        return False
    try:
        record = json.loads(first)
    except (ValueError, RecursionError):
        return False
    return len(record) == 1


def read_file(path: Path, frames: bool = False, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """One file's table; `attrs["named_by_file"]`: its scene is named after the file (no scene column);
    `attrs["clock"]`: the name of a time column read as the clock (in seconds), lower-cased; `attrs["image"]`:
    its positions are an image's pixels, v growing downwards (SDD's, MOT's). `frames`: frame
    ids are the clock where there is a frame column; `columns`: see `column_aliases`."""
    with open(path, "rb") as f:
        said = packed(path, f.read(512))
    if said:
        raise DataError(said)
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path, frames, columns)
    trajnet = path.suffix.lower() == ".ndjson" or (path.suffix.lower() == ".json" and _trajnet_first(path))
    if path.suffix.lower() == ".json" and not trajnet:
        return _read_json(path, frames, columns)
    fmt = None if trajnet else _sniff(path, frames, columns)
    if fmt is not None and fmt.json:
        return _read_json(path, frames, columns)
    if columns and (fmt is None or not fmt.header):
        kind = ("TrajNet++ records" if fmt is None or fmt.trajnet else "Stanford Drone Dataset annotations"
                if fmt.sdd else "MOTChallenge rows")  # (other rows of numbers are read by number: `_numbered`)
        raise DataError(f"{path}: --columns names a header's columns (or a table's by number), but this file is "
                        f"{kind}, read as their dataset writes them; give it without --columns")
    if fmt is None or fmt.trajnet:
        table = _read_trajnet(path)
        table.attrs["named_by_file"] = True
        return table
    refuse_futures(str(path), fmt.names or [])
    if fmt.sdd:
        table = _read_sdd(path, fmt)
    else:
        cut = _cut_short(path, fmt)  # said first: a row cut short may be what the reading refuses
        if cut:
            warn(cut)
        if fmt.mot:
            table = _read_mot(path, fmt, frames)
        else:
            table = _read_fast(path, fmt)
            if table is None:  # something is wrong: find the first bad line, slowly, chunk by chunk
                table = _read_slow(path, fmt)
            if corner := box_corner(fmt.header or [], columns, str(path)):
                warn(corner)
            clock = fmt.header[fmt.names.index("frame")] if fmt.seconds and fmt.header and fmt.names else None
            table.attrs.update(seconds=fmt.seconds, lonlat=fmt.lonlat, clock=clock,
                               seconds_per_frame_id=_time_beside(path, fmt))
    table.attrs["named_by_file"] = not fmt.names or "scene" not in fmt.names
    return table


def _time_beside(path: Path, fmt: _Format) -> tuple[str, float] | None:
    """For a file read by its frame ids (--fps) with a time column beside them: that column's name and the
    seconds it gives a frame id (`seconds_per_frame_id`); else None."""
    names = fmt.names or []
    times = [n for n in names if n in TIME_NAMES]
    if not fmt.frames or fmt.numbered or len(times) != 1 or "frame" not in names or "agent_id" not in names:
        return None
    used = [names.index(c) for c in ("frame", "agent_id", times[0])]
    raw = _read_csv(path, fmt, fmt.skip + 1, usecols=used, dtype=str)
    return seconds_per_frame_id(raw[used].set_axis(["frame", "agent_id", times[0]], axis=1))


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
    if (ids == -1).any():
        i = int(np.argmax(ids == -1))
        raise DataError(f"{path} line {lines[i]}: MOT id -1 (a detection no tracker has linked into a track, as "
                        "in MOTChallenge's det.txt: track the detections first)")
    ids = _track_ids(ids, lines, path, "MOT")
    _check_frame_ids(num["frame"], lines.to_numpy(), path)
    bad = (num["bb_width"] <= 0) | (num["bb_height"] <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{path} line {lines[i]}: MOT box of width {num['bb_width'][i]:g} and height "
                        f"{num['bb_height'][i]:g} (both must be above 0)")
    keep, label = np.ones(len(raw), bool), None
    if fields is MOT_GT_FIELDS:
        keep, label = _mot_labels(path, *(to_numbers(raw[i]) for i in (6, 7, 8)), lines.to_numpy())
    table = pd.DataFrame({
        "frame": num["frame"][keep], "agent_id": ids[keep],
        "x": num["bb_left"][keep] + num["bb_width"][keep] / 2, "y": num["bb_top"][keep] + num["bb_height"][keep],
        "_line": lines.to_numpy()[keep],
    })
    if label is not None:
        table["label"] = label[keep]
    table["scene"] = pd.Categorical.from_codes(np.zeros(len(table), np.int8), categories=[_scene_of(path)])
    table["_file"] = pd.Categorical.from_codes(np.zeros(len(table), np.int8), categories=[str(path)])
    table = table[TRACK_COLUMNS + ([] if label is None else ["label"])]
    table.attrs.update(seconds=False, fps=_seqinfo_rate(path, given_rate),
                       needs_rate="a MOTChallenge file's frame ids", image=True)
    return table


def _check_frame_ids(frame: np.ndarray, lines: np.ndarray, path: Path) -> None:
    """A dataset's frame ids too large to keep their steps apart (a 64-bit counter, read as float64) are refused
    at the first such line, as a CSV's are, before they read as repeated frames."""
    vague = unresolved_time(frame, "frame", False)
    if vague:  # named at the frame it quotes, the largest
        i = int(np.argmax(np.abs(frame)))
        raise DataError(f"{path} line {lines[i]}: {vague}")


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
    if whole.any() and not whole.all():  # one row's class missing or no class: which boxes to keep is in doubt
        i = int(np.flatnonzero(~whole)[0])
        raise DataError(f"{path} line {lines[i]}: no class id in column 8 ('class'), where other rows have one: "
                        "give each row its class (-1 in every row for none)")
    odd = ~np.isin(flag, (0, 1))
    if (vis >= 0).any() and 0 < odd.sum() <= max(2, ODD_FLAGS * len(odd)):  # ground truth's 0/1 flag, a few rows aside
        i = int(np.flatnonzero(odd)[0])
        raise DataError(f"{path} line {lines[i]}: '{flag[i]:g}' in column 7 ('consider'), where ground truth has 0 "
                        "or 1 (as its other rows do): a row written wrong, or cut short?")
    if not whole.all() or (cls == -1).all():
        return keep, None
    ids = cls.astype(np.int64)
    names = _labels_file(path)
    if names.is_file() and class_names_file(names):
        try:
            given = [line.strip() for line in names.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError):
            raise DataError(f"{names}: not a UTF-8 text file of class names, one a line") from None
        by_id = np.asarray([""] + given, dtype=object)
        named = (ids >= 1) & (ids <= len(given))
        if not named.all():
            i = int(np.flatnonzero(~named)[0])
            warn(f"warning: {path} line {lines[i]}: class {ids[i]}, beyond the {len(given)} names of {names}: "
                 "labelled by its class id")
        return keep, np.where(named, by_id[np.clip(ids, 0, len(given))], ids.astype(str).astype(object))
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
        if problem is None and not (parses_as_number(rate) and 0 < float(rate) < math.inf):
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


def refuse_futures(name: str, columns: list) -> None:
    """Refuse a table of futures (`trajcvae predict`'s output, e.g. written into the data's own folder) given
    as tracks: its future positions would be read as observations; and a training run's metrics.csv, whose
    missing columns would be all its refusal said."""
    names = {str(c).strip().lower() for c in columns}
    if {"t0", "sample", "step"} <= names:
        raise DataError(f"{name}: a table of predicted futures (columns t0, sample, step, as `trajcvae predict` "
                        "writes), not tracks; leave it out of the data (e.g. write predictions outside the data's "
                        "folder)")
    if {"epoch", "train_loss", "val_min_ade"} <= names:  # a run saved beside its data
        raise DataError(f"{name}: a training run's log (metrics.csv: columns epoch, train_loss, val_min_ade, as "
                        "`trajcvae train` writes), not tracks; leave it out of the data (e.g. keep runs outside "
                        "the data's folder)")


def _read_parquet(path: Path, frames: bool = False, columns: dict[str, str] | None = None) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
    except Exception as e:  # pyarrow raises many types for a non-Parquet file
        raise DataError(f"{path}: cannot read as Parquet ({type(e).__name__})") from None
    lower = counted_from_one([str(c).strip().lower() for c in names], columns)
    refuse_futures(str(path), lower)
    usable = column_aliases(lower, frames, columns, str(path))[0]
    missing = [c for c in REQUIRED if c not in usable]
    if missing:  # named among all the file's columns, not only those read
        raise missing_columns(str(path), missing, lower, [str(c) for c in names], columns)
    if corner := box_corner(lower, columns, str(path)):
        warn(corner)
    beside = TIME_NAMES if frames and "frame" in usable else ()  # a time column, to check --fps by
    wanted = [c for c, u in zip(names, usable) if u in REQUIRED + ("scene", STAMP_PART) + AGENT_COLUMNS + beside]
    try:
        raw = pd.read_parquet(path, columns=wanted)
    except Exception as e:
        raise DataError(f"{path}: cannot read as Parquet ({type(e).__name__})") from None
    if any(n in wanted for n in raw.index.names):  # columns pandas wrote as the index (set_index, then to_parquet)
        raw = raw.reset_index()[wanted]
    for c in raw.columns:  # a binary column: text, where it is UTF-8
        if raw[c].dtype == object and raw[c].map(lambda v: isinstance(v, bytes)).any():
            text = []
            for i, v in enumerate(raw[c]):
                try:
                    text.append(v.decode("utf-8") if isinstance(v, bytes) else v)
                except UnicodeDecodeError:
                    raise DataError(f"{path} row {i + 1}: column '{c}' holds bytes that are not UTF-8 text") from None
            raw[c] = pd.Series(text, index=raw.index, dtype=object)
    if lower != [str(c).strip().lower() for c in names]:  # pandas' labels 0, 1, ...: counted from 1, as read
        counted = dict(zip(names, lower))
        raw.columns = [counted[str(c)] for c in raw.columns]  # (pandas may restore them as numbers)
    table = canonical(raw, str(path), path.stem, first_line=1, row_word="row", frames=frames, columns=columns)
    table.attrs["named_by_file"] = "scene" not in usable
    return table


def _read_json(path: Path, frames: bool = False, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """A JSON file of records, `[{"time": 0.4, "agent_id": 7, "x": 1.5, "y": 2.0}, ...]` (pandas'
    `to_json(orient="records")`, or one record a line: JSON Lines), or of columns, `{"time": [...], ...}`,
    or any other layout pandas' `to_json` writes with column names (its default, "split", "index", "table"),
    or records under one key (`{"tracks": [...]}`), read as a table (`_json_table`): its rows are numbered
    from 1 in messages, and its values keep their JSON types (agent ids as written). The whole file is held
    in memory while it is read."""
    def pairs(items: list) -> dict:  # a record's keys, each once (json keeps the last of a repeated one)
        keys = [k for k, _ in items]
        twice = next((k for k in keys if keys.count(k) > 1), None)
        if twice is not None:
            raise DataError(f"{path}: a record gives '{twice}' twice; keep one")
        return dict(items)

    def parse(text: str, line: int | None = None):  # NaN and Infinity kept as written, to be refused as a CSV's are
        try:
            return json.loads(text, object_pairs_hook=pairs, parse_constant=_Constant)
        except RecursionError:
            raise DataError(f"{path}{f' line {line}' if line else ''}: {DEEP_JSON}") from None

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    try:
        data = parse(text)
    except json.JSONDecodeError as e:
        if e.msg != "Extra data":
            raise DataError(f"{path} line {e.lineno}: not JSON ({e.msg})") from None
        data = []  # JSON Lines: a record a line
        for n, line in enumerate(text.splitlines(), 1):
            try:
                data += [parse(line, n)] if line.strip() else []
            except json.JSONDecodeError as e:
                raise DataError(f"{path} line {n}: not JSON ({e.msg})") from None
    raw = _json_table(data, path)
    if not len(raw):
        raise DataError(f"{path}: empty file (no rows)")
    raw = raw.reset_index(drop=True)
    refuse_futures(str(path), list(raw.columns))
    lower = [str(c).strip().lower() for c in raw.columns]
    usable = column_aliases(lower, frames, columns, str(path))[0]
    if all(c in usable for c in REQUIRED):  # (else `canonical` names the missing ones among all)
        read = [(c, u) for c, u in zip(raw.columns, usable) if u in REQUIRED + ("scene", STAMP_PART) + AGENT_COLUMNS]
        raw = raw[[c for c, _ in read]]
        for c, u in read:
            odd = raw[c].map(lambda v: isinstance(v, (dict, list)) or (isinstance(v, bool) and u not in AGENT_COLUMNS))
            if odd.any():
                i = int(np.flatnonzero(odd.to_numpy())[0])
                raise DataError(f"{path} row {i + 1}: column '{c}' holds {JSON_TYPES[type(raw[c].iloc[i])]}, not a "
                                "value")
            constant = raw[c].map(lambda v: isinstance(v, _Constant))
            if constant.any() and u in ("agent_id", "scene"):  # Python's json.dumps writes a float NaN so
                i = int(np.flatnonzero(constant.to_numpy())[0])
                raise DataError(f"{path} row {i + 1}: column '{c}' holds {raw[c].iloc[i]}, not an id (every row "
                                f"needs its {'agent' if u == 'agent_id' else 'scene'}'s id)")
            raw[c] = raw[c].mask(constant & (u in AGENT_COLUMNS), None)  # a NaN label: none
            if u not in AGENT_COLUMNS:  # numbers as numbers (ids too); a label stays as given (1 beside a null)
                raw[c] = raw[c].infer_objects()
    table = canonical(raw, str(path), path.stem, first_line=1, row_word="row", frames=frames, typed=True,
                      columns=columns)
    table.attrs["named_by_file"] = "scene" not in usable
    return table


class _Constant(str):
    """JSON's non-standard NaN, Infinity or -Infinity (as Python's json.dumps writes float ones), kept as its
    text: a number column refuses it as a CSV's text "NaN" is, an id column refuses it as no id."""


JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "true or false", type(None): "null"}


def _json_table(data, path: Path) -> pd.DataFrame:
    """A JSON document as a table of its values (dtype object: ints stay ints beside a null): records, or
    one of the layouts `_read_json` names; any other is refused, naming the records layout."""
    fix = 'write records, [{"time": 0.4, "agent_id": 7, "x": 1.5, "y": 2.0}, ...] (pandas: to_json(orient="records"))'
    if isinstance(data, dict) and isinstance(data.get("data"), list) and isinstance(data.get("columns"), list):
        # to_json(orient="split"): rows of values, each as long as its columns
        odd = next((i for i, row in enumerate(data["data"]) if not isinstance(row, list)
                    or len(row) != len(data["columns"])), None)
        if odd is not None or not data["columns"]:
            raise DataError(f"{path}" + (f" row {odd + 1}: not a row of {len(data['columns'])} values, one for each "
                            "of its columns" if odd is not None else ": its 'columns' names no column") + f"; {fix}")
        return pd.DataFrame(data["data"], columns=data["columns"], dtype=object)
    if isinstance(data, dict) and isinstance(data.get("data"), list) and isinstance(data.get("schema"), dict):
        data = data["data"]  # to_json(orient="table"): records, beside their schema
    if isinstance(data, dict) and len(data) == 1 and isinstance(records := next(iter(data.values())), list) \
            and records and all(isinstance(r, dict) for r in records):
        data = records  # records under one key: {"tracks": [...]}
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        number = lambda k: str(k).strip().lstrip("-").isdigit()  # noqa: E731  an index label
        inner = next(iter(data.values()))
        if all(map(number, data)) and inner and not all(map(number, inner)):
            data = list(data.values())  # to_json(orient="index"): a record under each row's index
    if isinstance(data, list):
        odd = next((i for i, record in enumerate(data) if not isinstance(record, dict)), None)
        if odd is not None and all(isinstance(r, list) for r in data):
            raise DataError(f"{path}: an array of arrays, whose values have no column names; {fix}")
        if odd is not None:
            raise DataError(f"{path} row {odd + 1}: {JSON_TYPES.get(type(data[odd]), 'a number')}, not a record; "
                            f"{fix}")
        return pd.DataFrame(data, dtype=object) if data else pd.DataFrame()
    if isinstance(data, dict) and data:
        scalar = next((k for k, v in data.items() if not isinstance(v, (list, dict))), None)
        if scalar is None:
            try:
                return pd.DataFrame(data, dtype=object)  # columns: to_json()'s default, or lists
            except ValueError:
                raise DataError(f"{path}: its columns are of different lengths; {fix}") from None
        raise DataError(f"{path}: its key '{scalar}' holds {JSON_TYPES.get(type(data[scalar]), 'a number')}, not a "
                        f"column of values; {fix}")
    raise DataError(f"{path}: expected a JSON array of records, or an object of columns; it holds "
                    f"{'an empty object' if isinstance(data, dict) else JSON_TYPES.get(type(data), 'a number')}")


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
    frames: bool = False  # frame ids are the clock where there is a frame column (`column_aliases`)
    trajnet: bool = False  # TrajNet++ records under another name than .ndjson (x.jsonl)
    json: bool = False  # JSON Lines of other records (x.jsonl), read as a .json file is
    mot: int = 0  # a MOTChallenge file's fields a row (10: a tracker's results; 9: ground truth, gt.txt), else 0
    columns: dict[str, str] | None = None  # --columns (`column_aliases`)
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
    if b"\x00" in head:
        raise DataError(f"{path}: not a text file (it holds NUL bytes: binary data, or UTF-16 text); expected "
                        "UTF-8 CSV or ETH/UCY text")
    first = _first_line(head)
    if TRAJNET_RECORD.match(first):
        return _Format("utf-8-sig", "", 0, None, 0, trajnet=True)
    if re.match(rb'[\[{]\s*$|\[\s*[\[{]|\{\s*"[^"]*"\s*:', first):  # JSON: records, columns, JSON Lines
        if path.suffix.lower() == ".jsonl":
            return _Format("utf-8-sig", "", 0, None, 0, json=True)
        raise DataError(f"{path}: JSON, not a CSV/text table; name it {path.stem}.json to read it as JSON")
    if re.match(rb"<(!doctype\s+html\b|html\b|head\b|body\b|!--|\?xml\b)", first, re.IGNORECASE):  # a page, an export
        raise DataError(f"{path}: HTML or XML, not a CSV/text table (a web page saved in place of the data, or an "
                        "XML export: export the tracks as CSV or MOT)")
    encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=not more)
    except UnicodeDecodeError:
        raise not_utf8(path) from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # as the C parser splits lines
    skip = _row_from(lines, 0)
    if skip == len(lines):
        raise DataError(f"{path}: empty file (no rows)")
    first = lines[skip]
    if more and skip == len(lines) - 1:
        raise DataError(f"{path}: first row is longer than 1 MiB; not a CSV/text table")
    said = re.fullmatch(r"\s*sep=(.)\s*", first, re.IGNORECASE)  # Excel's line naming the separator
    if said:
        if said[1] not in ",;\t":
            raise DataError(f"{path}: line {skip + 1} names the separator '{said[1]}'; trajcvae reads commas, "
                            "semicolons, tabs or blanks: save the file with one of those")
        skip = _row_from(lines, skip + 1)
        if skip == len(lines):
            raise DataError(f"{path}: empty file (no rows after its 'sep=' line)")
        first = lines[skip]
    marked = re.match(r"\s*(#|%|//)\s*", first)  # a comment's mark
    if marked and _header(first, lines[skip + 1:], frames, columns):
        pass  # a header whose first name starts with it: ROS's %time (rostopic echo -p), a column named #
    elif marked and _header(first[marked.end():], lines[skip + 1:], frames, columns):
        first = first[marked.end():]  # numpy's savetxt(header=...) writes "# " before its header
    elif marked:  # an exporter's note above the header
        note = first.strip()
        raise DataError(f"{path}: line {skip + 1} is a comment ({note[:40]}{' ...' if len(note) > 40 else ''}), "
                        "not a header or a row: delete the comment lines above the first row")
    # A tab-separated header keeps a leading tab: pandas writes its index column's name empty.
    first = first.strip(" \r\n") if "\t" in first.strip(" \r\n") else first.strip()
    sep = {"\t": r"\s+"}.get(said[1], said[1]) if said else _separator(first)
    fields = _fields(first, sep)
    sdd = re.findall(r'"[^"]*"|\S+', first)  # as SDD's reader splits a line: a quoted label ("Golf Cart") whole
    if sep == r"\s+" and len(sdd) == len(SDD_FIELDS) and all(parses_as_number(f) for f in sdd[:9]) \
            and not parses_as_number(sdd[9]):  # track, box, frame, lost, occluded, generated, "label"
        return _Format(encoding, sep, skip, list(SDD_FIELDS), len(SDD_FIELDS), sdd=True)
    if sep == r"\s+" and len(sdd) > len(SDD_FIELDS) and all(parses_as_number(f) for f in sdd[:9]) \
            and not any(map(parses_as_number, sdd[9:])):  # a label of words, unquoted
        raise DataError(f"{path} line {skip + 1}: an SDD annotation whose label ({' '.join(sdd[9:])[:40]}) is not "
                        f"quoted: write it \"{' '.join(sdd[9:])[:40]}\", as SDD's files write labels")
    if sep == r"\s+" and len(sdd) == len(SDD_FIELDS) and [f.lower() for f in sdd[1:9]] == list(SDD_FIELDS[1:9]):
        return _Format(encoding, sep, skip + 1, list(SDD_FIELDS), len(SDD_FIELDS), sdd=True)  # under a header row
    by_number = bool(columns) and all(c.isdigit() for c in columns.values())  # (any digits: ² is refused there)
    if columns and (all(parses_as_number(f) for f in fields) or by_number):  # no header: columns named by number
        return _numbered(path, fields, encoding, sep, skip, frames, columns)
    trimmed = _trimmed(fields)
    mot = _mot_row(trimmed)
    if mot:
        return _Format(encoding, sep, skip, None, len(fields), mot=mot)
    if [f.lower() for f in trimmed] in MOT_HEADERS:  # MOT's own names as a header ...
        row = next((ln for ln in lines[skip + 1:] if ln.strip()), "")
        mot = _mot_row(_trimmed(_fields(row.strip(), sep)))
        if mot:  # ... over MOT rows (x, y, z unused: -1); over x, y of their own, it is a CSV like any other
            return _Format(encoding, sep, skip + 1, None, len(fields), mot=mot)
    numbers = [parses_as_number(f.replace("_", "")) for f in fields]  # (1_000: no number, refused in its row)
    if len(trimmed) < len(fields) and all(numbers[:-1]):  # 0,1,1.5,2.0, (a spreadsheet's export)
        raise DataError(f"{path}: line {skip + 1} ends with a separator and there is no header: add a header row "
                        f"({','.join(REQUIRED)},), or remove the separator that ends each row")
    if all(numbers):  # numbers only: a headerless ETH/UCY-style file
        if len(fields) != 4:
            plain = len(trimmed) in (len(MOT_FIELDS), len(MOT_GT_FIELDS)) and all(map(parses_as_number, trimmed))
            whole = [f"{round(float(f)):d}" if i < 2 and math.isfinite(float(f)) else f
                     for i, f in enumerate(trimmed)] if plain else []
            if plain and _mot_row(whole):  # a MOT row but for its frame or id (a tracker's ids written as fractions)
                role, value = next((r, f) for r, f in zip(("frame", "id"), trimmed) if float(f) != round(float(f)))
                raise DataError(f"{path}: line {skip + 1} reads as MOTChallenge rows "
                                f"('frame,id,bb_left,bb_top,bb_width,bb_height,...') but for its {role}, {value}, "
                                f"which is no whole number: write each {role} as one")
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
    pointed = re.split(r"[;\s]+", first.replace(",", "."))
    if sep != "\t" and re.search(r"\d,\d", first) and len(pointed) >= 3 and all(map(parses_as_number, pointed)):
        raise DataError(f"{path}: line {skip + 1} holds numbers with decimal commas ({first[:40]}) and no header; "
                        "write decimal points (1.5, not 1,5), as a spreadsheet's export in English does")
    _check_first_row(path, lines, skip, sep, len(fields), complete=not more)
    names, seconds, lonlat = column_aliases([f.lower() for f in fields], frames, columns, str(path))
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        refuse_futures(str(path), fields)  # (a futures table has them all; a run's log has none)
        raise missing_columns(str(path), missing, names, fields, columns)
    for c in REQUIRED + ("scene",) + AGENT_COLUMNS:
        if names.count(c) > 1:
            given = [f for f, n in zip(fields, names) if n == c]
            raise DataError(f"{path}: column '{c}' appears {names.count(c)} times in the header (any case)"
                            + (f": {', '.join(given)}" if columns and c in columns else "")
                            + in_any_case(given, " in the file"))
    return _Format(encoding, sep, skip, names, len(fields), seconds, lonlat=lonlat,
                   header=[f.lower() for f in fields], frames=frames, columns=columns)


def _row_from(lines: list[str], i: int) -> int:
    """The first line at or after `i` that is not blank (as bytes.strip() sees it); len(lines) if none."""
    while i < len(lines) and not lines[i].strip(" \t\x0b\x0c"):
        i += 1
    return i


def not_utf8(path: Path) -> DataError:
    """The error of a text file that is not UTF-8, naming the line of its first byte that is not (read a MiB
    at a time) and how to convert it: a Windows-1252 or Latin-1 file (Excel's CSV on Windows) most often."""
    decoder, line = codecs.getincrementaldecoder("utf-8")(), 1
    with open(path, "rb") as f:
        while block := f.read(SNIFF_BYTES):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as e:
                line += block[:max(e.start, 0)].count(b"\n")
                bad = block[e.start] if 0 <= e.start < len(block) else None
                return DataError(f"{path} line {line}: not UTF-8 text"
                                 + (f" (byte 0x{bad:02X})" if bad is not None else "")
                                 + "; a file saved as Windows-1252 or Latin-1? Save it as UTF-8 (iconv -f cp1252 -t "
                                 f"utf-8 {path.name} > {path.stem}-utf8{path.suffix}; on Windows, Save As in Excel "
                                 "or Notepad with the encoding UTF-8)")
            line += block.count(b"\n")
    return DataError(f"{path}: not UTF-8 text (it ends inside a character); save it as UTF-8")


def _header(line: str, rest: list[str], frames: bool, columns: dict[str, str] | None) -> bool:
    """Whether `line` (a line that starts with a comment's mark, with or without the mark) is a header: it
    names the columns tracks need (as --columns reads them), and as many as the next row has, a trailing
    separator aside ("# columns: frame id x y" is a note about them)."""
    names = _fields(line.strip(), _separator(line))
    row = _fields(next((r for r in rest if r.strip()), "").strip(), _separator(line))
    return len(names) in (len(row), len(_trimmed(row))) and set(REQUIRED) <= needed_among(names, frames, columns)


def _separator(first: str) -> str:
    """The separator of a header (or first row) `first`: a comma, a semicolon, else blanks."""
    return "," if "," in first else ";" if ";" in first else r"\s+"


def _numbered(path: Path, fields: list[str], encoding: str, sep: str, skip: int, frames: bool,
              columns: dict[str, str]) -> _Format:
    """A file of numbers without a header (ETH's obsmat.txt: frame, id, x, z, y, ...; a 3-D tracker's rows),
    read by the columns `--columns` names by number, 1 for the first: frame=1,agent_id=2,x=3,y=5. A first row
    that numbers the columns, 0, 1, ... (as pandas writes a table it read without a header, after an empty name
    where it writes its index) or 1, 2, ..., is their header, not a row."""
    n = len(fields)
    numbering = [f.strip() for f in fields] in ([str(i) for i in range(n)], [str(i + 1) for i in range(n)],
                                                 [""] + [str(i) for i in range(n - 1)])  # (to_csv's, with its index)
    words = [f"{role}={c}" for role, c in columns.items() if not is_column_number(c)]
    if words:
        raise DataError(f"{path}: no header, so --columns names its columns by number (1 for the first of its {n}): "
                        f"{words[0]} names none")
    beyond = next((f"{role}={c}" for role, c in columns.items() if not 1 <= int(c) <= n), None)
    if beyond and numbering and fields[0].strip() == "0":
        raise DataError(f"{path}: --columns {beyond}: its header numbers the columns from 0 (as pandas writes a "
                        f"table read without one), and --columns counts them from 1: give each number plus 1")
    if beyond:
        raise DataError(f"{path}: --columns {beyond}: the file has {n} columns (line {skip + 1}); if it holds "
                        "no tracks (ETH's H.txt or groups.txt beside obsmat.txt), give the track files by name")
    named = None if numbering else next(((role, c) for role, c in columns.items() if role not in
                                         ("agent_id", "scene", "label") and not parses_as_number(fields[int(c) - 1])),
                                        None)
    if named:  # a header, whose names --columns does not give: they are no numbers
        role, c = named
        raise DataError(f"{path}: --columns {role}={c}: line {skip + 1} holds '{fields[int(c) - 1]}' there, a "
                        "header's name: --columns names columns by number only in a file without a header; name "
                        f"this file's ({', '.join(fields[:6])}{' ...' if n > 6 else ''})")
    header = [str(i + 1) for i in range(n)]
    names, seconds, lonlat = column_aliases(header, frames, columns, str(path))
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise missing_columns(str(path), missing, names, header, columns)
    return _Format(encoding, sep, skip + numbering, names, n, seconds, lonlat=lonlat, header=header, frames=frames,
                   columns=columns, numbered=True)


def _trimmed(fields: list[str]) -> list[str]:
    """A row's fields without the empty one a trailing separator leaves."""
    return fields[:-1] if len(fields) > 1 and fields[-1] == "" else fields


def _mot_row(fields: list[str]) -> int:
    """10 or 9 where a headerless first row is a MOTChallenge one, else 0: frame and id whole numbers, a box of
    no negative size, then a tracker's `conf, -1, -1, -1` (MOT's unused world coordinates), or 9 columns with a
    0/1 flag or a confidence, a whole class id and a visibility (0-1) or -1 (ground truth, or a tracker that
    writes classes). Other rows of 9 or 10 numbers (a 3-D tracker's x, y, z, ...) are not boxes to guess at."""
    if len(fields) not in (len(MOT_FIELDS), len(MOT_GT_FIELDS)) or not all(parses_as_number(f) for f in fields):
        return 0
    v = [x if math.isfinite(x) else 0.0 for x in map(float, fields)]  # nan, inf: refused when the row is read
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
    """The warning for a file that ends without a line end, its last row with fewer fields than each row
    before it, or its last value written with fewer decimals than the last value of each row before it: most
    likely cut mid-number (a copy, or a writer, still at work), which would read as a position in silence
    (3.4 of 3.4512; a box's height 5 of 50); None otherwise (a pipe, too few rows, rows of varying lengths or
    values of varying decimals, a last value complete)."""
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
    if len(rows) < 4 or not rows[-1] or any(len(r) != len(rows[0]) for r in rows[:-1]):
        return None
    if fmt.mot and len(rows[-1]) < len(rows[0]):  # (a CSV's last row may leave out a trailing label)
        return (f"warning: {path} ends mid-line, its last row with {len(rows[-1])} of the {len(rows[0])} fields of "
                "every row before it: was it cut short (a copy or a writer still at work)? Read it again once it is "
                "whole")
    if len(rows[-1]) != len(rows[0]):
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
    """Numeric parse of the whole file; None when any value fails (the slow path then names it), or for a stamp
    in two columns (`split_stamp`: the slow path joins them)."""
    if split_stamp(fmt.columns):
        return None
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
    broken = _line_break_in(raw, ["agent_id", "scene", *extras])
    if broken is not None:  # the rows after it ran into that value: they would be lost in silence
        raise _line_break_error(path, lines[broken[1]], broken[0])
    if fmt.columns:
        out["frame"] = out["frame"] / PER_SECOND[time_role(fmt.columns)]  # seconds
    if not all(np.isfinite(v).all() for v in out.values()) or raw["agent_id"].isna().any() \
            or (np.abs(out["x"]) > MAX_RAW).any() or (np.abs(out["y"]) > MAX_RAW).any() \
            or unresolved_time(out["frame"], "", True):  # the slow path names the row at fault
        return None
    codes, uniques = pd.factorize(raw["agent_id"])
    if (pd.Index(uniques.astype(str)).str.strip() == "").any() or missing_marks(uniques).any():
        return None  # a blank id, or "nan": the slow path names it
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
        out[c] = as_text(raw[c])
    return pd.DataFrame(out, copy=False)


def _line_break_in(raw: pd.DataFrame, columns: list[str]) -> tuple[str, int] | None:
    """The first of `columns` (text) holding a value with a line break, and its row, or None: a quote opened
    and never closed runs the value on over the lines after it."""
    for c in columns:
        if c not in raw:
            continue
        values = raw[c]
        kinds = values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype) else pd.Index(values.unique())
        if pd.Index(kinds.astype(str)).str.contains(r"[\r\n]").any():
            return c, int(np.argmax(values.astype(str).str.contains(r"[\r\n]").to_numpy(dtype=bool)))
    return None


def _line_break_error(path: Path, line: int, column) -> DataError:
    return DataError(f"{path} line {line}: column '{column}' value runs over a line break (a quote (\") not closed?)")


def _read_sdd(path: Path, fmt: _Format) -> pd.DataFrame:
    """Stanford Drone Dataset annotations -> box centres (pixels) of the boxes not lost, with their label."""
    try:
        with _parse_errors(path), warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            raw = pd.read_csv(path, sep=r"\s+", header=None, names=list(SDD_FIELDS), skiprows=fmt.skip, dtype=str,
                              encoding=fmt.encoding, skip_blank_lines=False, quotechar='"', engine="c")
    except DataError as e:  # a row of more fields: a label of words unquoted, as SDD's files never write one
        if " fields where the first row has " not in str(e):
            raise
        raise DataError(f"{e} (an SDD label of words not quoted? write it as \"Golf Cart\")") from None
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
    label = raw["label"]
    bad = label.isna().to_numpy() | label.str.contains("\n", regex=False).fillna(False).to_numpy()
    if bad.any():  # no label, or one whose closing quote is lost (it runs on over the lines after it)
        i = int(np.argmax(bad))
        raise DataError(f"{path} line {lines[i]}: " + (f"SDD column 'label' is empty (an SDD line has "
                        f"{len(SDD_FIELDS)} fields, the last a label such as \"Pedestrian\")"
                        if pd.isna(label.iloc[i]) else
                        f"SDD label '\"{label.iloc[i].partition(chr(10))[0]}' opens a quote not closed on its line"))
    keep = num["lost"] == 0
    if not keep.any():
        raise DataError(f"{path}: every box is marked lost (no positions)")
    ids = _track_ids(num["agent_id"], lines, path, "SDD")
    _check_frame_ids(num["frame"], lines, path)
    table = pd.DataFrame({
        "frame": num["frame"][keep], "agent_id": ids[keep],
        "x": (num["xmin"][keep] + num["xmax"][keep]) / 2, "y": (num["ymin"][keep] + num["ymax"][keep]) / 2,
        "_line": lines[keep], "label": as_text(raw["label"][keep].str.strip('"')),
    })
    table["scene"] = pd.Categorical.from_codes(np.zeros(len(table), np.int8), categories=[_scene_of(path)])
    table["_file"] = pd.Categorical.from_codes(np.zeros(len(table), np.int8), categories=[str(path)])
    table = table[TRACK_COLUMNS + ["label"]]
    table.attrs.update(seconds=False, fps=SDD_FPS, image=True)
    return table


def _track_ids(ids: np.ndarray, lines, path: Path, what: str) -> np.ndarray:
    """A format's numeric track ids as integers, each a whole number from 0 to 2**53 (beyond it, float64
    holds two ids as one); another is refused by its line."""
    bad = (ids != np.round(ids)) | (ids < 0) | (ids >= 2 ** 53)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{path} line {np.asarray(lines)[i]}: {what} id {ids[i]:g}: not a track id (a whole "
                        "number from 0 to 2**53)")
    return ids.astype(np.int64)


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

    rows, rates, scenes = [], {}, []  # rate -> the line of its first scene record; (id, primary, start, record)
    others = 0  # JSON objects of neither kind (a table's records as JSON Lines)
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
        except RecursionError:
            raise DataError(f"{path} line {n}: {DEEP_JSON}") from None
        if not isinstance(rec, dict):
            table = f"; a JSON table's array: name it {path.stem}.json" if isinstance(rec, list) and not rows + scenes \
                else ""
            raise DataError(f"{path} line {n}: not a TrajNet++ record (a JSON object with 'scene' or 'track'){table}")
        others += not isinstance(rec.get("track"), dict) and not isinstance(rec.get("scene"), dict)
        if isinstance(rec.get("track"), dict):
            rows.append(_trajnet_track(rec["track"], path, n))
        elif isinstance(rec.get("scene"), dict):
            scenes += [s for s in [_trajnet_scene(rec["scene"], path, n)] if s is not None]
            rate = rec["scene"].get("fps")
            if rate is None:  # null: no rate given
                continue
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not (math.isfinite(rate) and
                                                                                     rate > 0):
                raise DataError(f"{path} line {n}: scene 'fps' {rate!r} is no frame rate (a positive number)")
            rates.setdefault(float(rate), n)
    if not rows:
        raise DataError(f"{path}: no TrajNet++ track records" + (
            f" (its records are a table's: a {path.suffix} file is read as TrajNet++; name it {path.stem}.jsonl to "
            "read JSON Lines of a table)" if others and not scenes else ""))
    if len(rates) > 1:
        (r1, n1), (r2, n2) = list(rates.items())[:2]
        raise DataError(f"{path}: its scene records give two rates ({r1:g} fps at line {n1}, {r2:g} at line {n2}), "
                        "but its frame ids have one: give one file per rate")
    frame, agent, x, y, lines = (np.array(v) for v in zip(*rows))
    table = pd.DataFrame({"frame": frame, "agent_id": agent, "x": x.astype(np.float64),
                          "y": y.astype(np.float64), "_line": lines})
    table = canonical(table, str(path), path.stem, line_numbers=lines)  # the ndjson lines, not the table's rows
    o = np.lexsort((frame, agent))  # frame ids step by `step` between samples (taken `rate` times a second)
    diffs = np.diff(frame[o])[agent[o][1:] == agent[o][:-1]]
    diffs = diffs[diffs > 0]
    step = None
    if len(diffs):
        vals, counts = np.unique(diffs, return_counts=True)
        step = float(vals[np.argmax(counts)])
    fps = next(iter(rates)) * step if rates and step is not None else None
    records = None
    if scenes and step is not None:  # each primary's last observed frame: TrajNet++ observes 9 samples of 21
        ids, primary, start, recs = zip(*scenes)
        records = Shared(scene_id=np.array(ids, dtype=object), agent_id=np.array(primary, dtype=object),
                         frame=np.array(start, dtype=np.float64) + TRAJNET_OBSERVED * step,
                         step=np.full(len(ids), step),  # frame ids from one sample to the next
                         record=np.array(recs + (None,), dtype=object)[:-1])  # the records as read: dicts
    table.attrs.update(seconds=False, fps=fps, scene_records=records)
    return table


TRAJNET_OBSERVED = 8  # samples from a TrajNet++ scene's start to its last observed one (it observes 9, predicts 12)
TRAJNET_PREDICTED = 12  # samples after it that TrajNet++ scores


def trajnet_predictions(records, frames: np.ndarray, futures: np.ndarray, decimals: int = 4) -> str:
    """Forecasts as TrajNet++ prediction records, the lines its evaluators read: for each scene record (a dict
    as read; its end `e` moved up to the last forecast frame where it falls short, so that a reader of the
    scene's frames finds them), the record, then its primary pedestrian's K futures, `prediction_number` 0
    to K - 1, each P `track` records with the record's `scene_id`.
    records: N scene records; frames (N, P) the forecast steps' frame ids (whole numbers); futures (N, K, P, 2)
    positions, written with `decimals` decimals."""
    lines = []
    for record, f, paths in zip(records, frames.astype(np.int64).tolist(), np.round(futures, decimals).tolist()):
        end = record.get("e")
        if isinstance(end, bool) or not isinstance(end, (int, float)) or end < f[-1]:
            record = {**record, "e": f[-1]}
        lines.append(json.dumps({"scene": record}))
        who = f'"p": {json.dumps(record["p"])}'
        scene = f'"scene_id": {json.dumps(record["id"])}}}}}'
        lines += [f'{{"track": {{"f": {t}, {who}, "x": {x}, "y": {y}, "prediction_number": {m}, {scene}'
                  for m, path in enumerate(paths) for t, (x, y) in zip(f, path)]
    return "\n".join(lines) + "\n"


def _trajnet_scene(scene: dict, path: Path, n: int) -> tuple | None:
    """One TrajNet++ `scene` record (line `n`) as (id, primary pedestrian, start frame, the record), or None
    for one that names no primary or start (it gives the rate alone); a field of the wrong kind is refused,
    naming it."""
    if not all(key in scene for key in ("id", "p", "s")):
        return None
    if isinstance(scene["p"], bool) or not isinstance(scene["p"], (int, str)):
        raise DataError(f"{path} line {n}: scene 'p' {scene['p']!r} is no pedestrian id (a whole number or text)")
    if isinstance(scene["s"], bool) or not isinstance(scene["s"], (int, float)) or not math.isfinite(scene["s"]):
        raise DataError(f"{path} line {n}: scene 's' {scene['s']!r} is no frame id (a number)")
    return scene["id"], scene["p"], scene["s"], scene


def _trajnet_track(t: dict, path: Path, n: int) -> tuple:
    """One TrajNet++ `track` record (line `n`) as (frame, pedestrian, x, y, line); a predictor's record or a
    field missing or of the wrong kind is refused, naming it."""
    if given := [key for key in ("prediction_number", "scene_id") if key in t]:
        raise DataError(f"{path} line {n}: a TrajNet++ prediction record ({', '.join(given)}), not an observed "
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
    names = fmt.header or fmt.names or list(REQUIRED)  # `canonical` names a time column as the file does
    # Columns of one name (a spreadsheet's trailing empty ones; no role's: `_sniff` refuses those) each get a
    # name of their own, as pandas gives them: "", ".1".
    unique: list[str] = []
    for n in names:
        name, k = n, 0
        while name in unique or (name != n and name in names):
            k += 1
            name = f"{n}.{k}"
        unique.append(name)
    names = unique
    marks = _id_marks(path, fmt, header_lines)
    tables = []
    with _parse_errors(path), _read_csv(path, fmt, header_lines, dtype=str, chunksize=SLOW_CHUNK) as chunks:
        for chunk in chunks:
            chunk.columns = names
            first = header_lines + 1 + int(chunk.index[0]) if len(chunk) else header_lines + 1
            broken = _line_break_in(chunk, list(names))
            if broken is not None:  # as `_read_fast` refuses it
                raise _line_break_error(path, first + broken[1], broken[0])
            t = canonical(chunk, str(path), path.stem, first_line=first, allow_empty=True, frames=fmt.frames,
                           columns=fmt.columns, id_marks=marks)
            if len(t):
                tables.append(t)
    if not tables:
        raise DataError(f"{path}: empty file (no rows)")
    return pd.concat(tables, ignore_index=True)


def _id_marks(path: Path, fmt: _Format, header_lines: int) -> frozenset | None:
    """The agent ids of a whole file that are missing values' marks ("NA" among numbers, not among names),
    judged from all its ids as `_read_fast` judges them, for `_read_slow`'s chunks; None where the file cannot
    be parsed to its end (its chunks then judge their own ids, and the first bad line is named)."""
    names = fmt.names or list(REQUIRED)
    if "agent_id" not in names:
        return None
    ids: set = set()
    try:
        with _parse_errors(path), _read_csv(path, fmt, header_lines, dtype=str, usecols=[names.index("agent_id")],
                                            chunksize=SLOW_CHUNK) as chunks:
            for chunk in chunks:
                ids.update(chunk.iloc[:, 0].dropna().str.strip().unique())  # as `canonical` holds them
    except DataError:
        return None
    uniques = np.asarray(list(ids), dtype=object)
    return frozenset(uniques[missing_marks(uniques)])


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
        raise not_utf8(path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(e))
        if m:
            raise DataError(f"{path} line {m[2]}: {m[3]} fields where the first row has {m[1]}") from None
        m = re.search(r"EOF inside string starting at row (\d+)", str(e))  # (its row counts the file's lines from 0)
        if m:
            raise DataError(f"{path} line {int(m[1]) + 1}: a quote (\") opened there is never closed") from None
        raise DataError(f"{path}: not a readable CSV/text table ({first_line(e)})") from None
