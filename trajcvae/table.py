"""The track table's columns: the names a file's columns go by (`REQUIRED`, `TIME_NAMES`, ...), the roles
`--columns` may give them (`column_map`, `column_aliases`), the error for a table without the columns it needs,
and where a row of the table came from (`where`).
"""
from __future__ import annotations

import re
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from .errors import DataError


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
PER_SECOND = {"time": 1.0, "time_ms": 1e3, "time_us": 1e6, "time_ns": 1e9, "time_min": 1 / 60, "time_h": 1 / 3600,
              "time_d": 1 / 86400}  # time_d: days, as Excel's date-time numbers (days since 1899-12-30)
UNIT_NAMES = {"time": "seconds", "time_ms": "milliseconds", "time_us": "microseconds", "time_ns": "nanoseconds",
              "time_min": "minutes", "time_h": "hours", "time_d": "days"}
STAMP_ROLES = ("time", "time_ms", "time_us", "time_ns")  # the units of trackers' and loggers' stamps
FRACTIONS = STAMP_ROLES[1:]  # ... that may hold a stamp's part under a second, beside its whole seconds (`time`)
STAMP_PART = "stamp part"  # what `column_aliases` calls that part's column: read, but not a track's column
COLUMN_ROLES = ("frame", *PER_SECOND, "agent_id", "x", "y", "lon", "lat", "scene", "label")


def column_map(columns: str | Mapping[str, str] | None) -> dict[str, str] | None:
    """`--columns` ('x=position_x,y=position_y', or a dict {role: column}) checked, as {role: the column's
    name lower-cased}: each named column is read as its role (`COLUMN_ROLES`) in place of any column that
    would otherwise be (`column_aliases`). One clock at most (frame, or a time role); x with y, lon with lat."""
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
    if len(clocks) > 1 and not (len(clocks) == 2 and split_stamp(out)):
        raise DataError(f"--columns: {' and '.join(clocks)}: give one clock (frame ids, or a time; or a stamp in "
                        "two columns, its whole seconds as time and the rest as time_ms, time_us or time_ns)")
    for a, b in (("x", "y"), ("lon", "lat")):
        if (a in out) != (b in out):
            raise DataError(f"--columns: {a if a in out else b} without {b if a in out else a}: name both")
    if "x" in out and "lon" in out:
        raise DataError("--columns: x, y and lon, lat exclude each other: name one pair")
    return out


def split_stamp(columns: Mapping[str, str] | None) -> str | None:
    """The role of the column holding a stamp's part under a second (`FRACTIONS`: ROS 2's `nanosec` as time_ns)
    where --columns gives the stamp in two columns, its whole seconds as `time`; None otherwise."""
    return next((r for r in FRACTIONS if r in columns), None) if columns and "time" in columns else None


def seconds_per_unit(df: pd.DataFrame) -> float | None:
    """Seconds per unit of a track table's `frame` column; None when the rate is unknown ("steps")."""
    base = df.attrs.get("time_base", "steps")
    return 1.0 if base == "seconds" else 1.0 / df.attrs["fps"] if base == "frames" else None


def where(df: pd.DataFrame, i: int) -> str:
    """Where row `i` (by position) of a track table came from, e.g. 'data/a.csv line 12'."""
    name = str(df["_file"].iloc[i])
    word = "iloc" if name == "dataframe" else "row" if name.lower().endswith((".parquet", ".json")) else "line"
    return row_at(name, word, int(df["_line"].iloc[i]))


def row_at(name: str, word: str, line: int) -> str:
    """A row as messages name it: 'a.csv line 12', 'a.parquet row 3', a DataFrame's row by position, as
    pandas counts them ('dataframe.iloc[2]': `word` "iloc"), or a list's item ('detections[2]': `word` "[]")."""
    if word in ("iloc", "[]"):
        return f"{name}{'.iloc' if word == 'iloc' else ''}[{line}]"
    return f"{name} {word} {line}"


SHOWN_HEADER = 200  # characters of a table's header that an error message quotes


def missing_columns(name: str, missing: list[str], names: list[str], shown: list[str],
             columns: dict[str, str] | None = None) -> DataError:
    """The error for a table without the columns it needs (`shown`: its header as written; `columns`: the
    --columns it was read with)."""
    times = [n for n in names if n in TIME_NAMES]
    if "frame" in missing and len(times) > 1:
        frames = ", or give --fps to read its frame ids" if "frame ids" in names or "frame" in names else ""
        return DataError(f"{name}: {len(times)} time columns ({', '.join(times)}): keep one, in seconds{frames}, "
                         f"or name the clock with --columns time={times[0]}")
    ids = [n for n in names if n in ID_NAMES]
    if missing == ["agent_id"] and len(ids) > 1:
        return DataError(f"{name}: {len(ids)} id columns ({', '.join(ids)}): keep one, or say which with "
                         f"--columns agent_id={ids[-1]}")
    taken = next(((role, c) for role, c in (columns or {}).items() if c in missing and role not in missing), None)
    if taken:  # --columns label=agent_id: the column is the label's now
        return DataError(f"{name}: --columns {taken[0]}={taken[1]} reads the column {taken[1]} as the {taken[0]}, "
                         f"so no column is the {taken[1]}: give --columns {taken[1]}=<another column>, or read "
                         f"another as the {taken[0]}")
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
    unit = next((n for n in names if n in PER_SECOND and n != "time"), None)  # a column named time_ms
    written = shown if len(shown) == len(names) else names  # (as the header writes them, where it is whole)
    metric = {"m", "metres", "meters", "km", "ft", "px", "mm", "cm"}  # lon_m: a longitudinal distance, not degrees
    tokens = [set(re.split(r"[^a-z0-9]+", n)) for n in names]
    degrees = [next((w for have, w in zip(tokens, written) if have & words and not have & metric), None)
               for words in ({"lon", "lng", "long", "longitude"}, {"lat", "latitude"})]  # gps_lon, lat_deg
    if pair == ("x", "y") and all(degrees) and degrees[0] != degrees[1]:
        pair = (f"lon={degrees[0]}", f"lat={degrees[1]}")
    role = f"{unit}={unit}" if missing[0] == "frame" and unit else \
        "frame=<column> (frame ids) or time=<column> (seconds)" if missing[0] == "frame" else \
        ",".join(pair) if pair and "=" in pair[0] else f"{pair[0]}=<column>,{pair[1]}=<column>" if pair else \
        f"{missing[0]}=<column>"
    hint = "" if boxes else f"; add {role} to --columns" if columns else \
        f"; read a column of another name as it with --columns {role}"
    have = ", ".join(shown)
    if len(have) > SHOWN_HEADER:  # a line that is no header (a JSON array on one line): its start
        have = have[:SHOWN_HEADER].rstrip() + " ..."
    return DataError(f"{name}: missing column(s) {', '.join(what)} (have: {have}){boxes}{hint}")


BOX_SIZES = (("w", "h"), ("width", "height"))  # a box's size, beside x, y (MOT's x, y beside bb_*: its 3-D ones)


def box_corner(names: list[str], columns: dict[str, str] | None, name: str) -> str | None:
    """A one-line warning when a table's columns `x, y` (lower-cased `names` as written, not given by
    --columns) stand beside a box's width and height: a tracker's export (frame,id,x,y,w,h,score) whose x, y
    is each box's top-left corner, whose futures would be the corner's."""
    if (columns and ("x" in columns or "y" in columns)) or not {"x", "y"} <= set(names):
        return None
    size = next((pair for pair in BOX_SIZES if set(pair) <= set(names)), None)
    if size is None:
        return None
    w, h = size
    return (f"warning: {name} has x, y beside {w}, {h}, as a tracker writes each box's top-left corner: if x, y are "
            f"corners, the futures are the corner's (half a box off, and moving as it resizes); add each box's "
            f"centre (x + {w} / 2, y + {h} / 2) or foot point (x + {w} / 2, y + {h}) as x, y")


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


def column_aliases(names: list[str], frames: bool = False, columns: dict[str, str] | None = None,
             name: str = "the table") -> tuple[list[str], bool, bool]:
    """Lower-cased column names with a time column in seconds renamed `frame`, longitude and latitude
    columns renamed `x, y` (where there are no x, y columns) and an id column (`ID_NAMES`) renamed `agent_id`
    (where there is none); and whether the first two happened. A frame column
    beside a time column is not read (the time in seconds is the clock, as in a tracker's log with a frame
    counter; beside two time columns there is none, and `missing_columns` asks to keep one), unless `frames` (a
    rate given for frame ids: --fps) says the frame ids are the clock. `columns` (`column_map`'s) first
    renames the columns it names to their roles, and puts out of reach the columns they displace; a column
    it names that `name` (the file or table) lacks is a DataError."""
    if columns:
        absent = [f"{role}={c}" for role, c in columns.items() if c not in names]
        if absent:
            counted = names == [str(i + 1) for i in range(len(names))]  # (`counted_from_one`'s, or a file's)
            raise DataError(f"{name}: no column {absent[0].split('=', 1)[1]!r} (--columns {absent[0]}); it has: "
                            f"{', '.join(names)}" + (" (numbered from 1)" if counted else ""))
        displaced = {d for role in columns for d in _DISPLACED.get(role, ())}
        part = split_stamp(columns)  # (its values are added to the whole seconds' where they are read)
        roles = {c: STAMP_PART if role == part else "time" if role in PER_SECOND else role
                 for role, c in columns.items()}
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


def needed_among(names, frames: bool = False, columns: dict[str, str] | None = None) -> set[str]:
    """The columns tracks need (frame, agent_id, x, y) among `names`, as a table's columns are read
    (`column_aliases`: time as the frame, track_id as the agent's id, --columns' names); none where they cannot
    be read (two time columns, a --columns name they lack: said when the table itself is read)."""
    try:
        return set(column_aliases([str(n).strip().lower() for n in names], frames, columns)[0]) & set(REQUIRED)
    except DataError:
        return set()


def in_any_case(given: list[str], where: str = "") -> str:
    """The hint for a role's columns `given` (a header's names, as written) that differ only in case, "x" beside "X":
    --columns matches names in any case too, so one must be renamed (`where`: in what); "" where they differ."""
    return f"; --columns matches names in any case too: rename one of them{where}" \
        if len({g.strip().lower() for g in given}) < len(given) else ""


def counted_from_one(names: list[str], columns: dict[str, str] | None) -> list[str]:
    """A table's column labels as --columns numbers them: pandas' own labels of a table read without a header
    (0, 1, ...) become 1, 2, ..., so frame=1 is its first column, as in a file."""
    if columns and names == [str(i) for i in range(len(names))]:
        return [str(i + 1) for i in range(len(names))]
    return names


def is_column_number(name: str) -> bool:
    """Whether a --columns source is a column's number (1, 2, ...: ASCII digits)."""
    return name.isascii() and name.isdigit()


def time_role(columns: dict[str, str] | None) -> str:
    """The time role `--columns` gave (time_ms, ...), else "time" (seconds, as a stamp in two columns is read)."""
    return "time" if split_stamp(columns) else next((r for r in columns or {} if r in PER_SECOND), "time")


class Shared(dict):
    """A dict that never changes, which pandas' copies of a table share rather than copy (it copies a table's
    `attrs` at every operation: thousands of TrajNet++ scene records made a column's read 400 times slower)."""

    def __deepcopy__(self, memo):
        return self


def rows_by_code(codes: np.ndarray, n: int) -> Callable[[int], np.ndarray]:
    """The indices of `codes` (each 0 .. n - 1: a table's scenes, files, ...) equal to c, as a function of c: one
    sort for all, not a pass over the table per code (a folder of 3,000 files)."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n + 1))
    return lambda c: order[bounds[c]:bounds[c + 1]]
