"""A file's raw values -> the track table's columns: positions, times (seconds, frame ids or ISO 8601
date-times), agent ids and per-agent labels, checked row by row (`canonical`). Every bad value is a `DataError`
naming its line and column.
"""
from __future__ import annotations

import decimal
import math
import re

import numpy as np
import pandas as pd

from .errors import DataError, odd_number_text, warn
from .resample import EPS
from .table import (AGENT_COLUMNS, FRACTIONS, PER_SECOND, REQUIRED, TIME_NAMES, TRACK_COLUMNS, UNIT_NAMES,
                    box_corner, column_aliases, counted_from_one, in_any_case, is_column_number, missing_columns,
                    row_at, split_stamp, time_role)


MAX_RAW = 1e15  # larger input values lose a tenth of a millimetre to float64 rounding in any units
# pandas before 3.1 parse text of 17 significant digits only to within 1 ulp (its C parser is not correctly
# rounded), so one number written two ways ("180.817907249555", "180.81790724955499") would read as two, and
# a file would read differently under pandas 3.0 and 3.1. Text numbers are read correctly rounded on all.
ROUGH_PARSER = tuple(int(part) for part in pd.__version__.split(".")[:2]) < (3, 1)


def whole_stamps(raw: pd.DataFrame, lower: list[str], columns: dict[str, str], part: str, name: str,
                 lines: pd.Series, row_word: str) -> None:
    """A stamp in two columns (`split_stamp`: --columns time=sec,time_ns=nanosec, as ROS 2 writes a header's
    stamp) made one time in seconds, in place of the whole seconds (`raw`'s columns named `lower`); each part
    checked, naming the row (`lines`) at fault: whole seconds, and under a second's worth of the rest."""
    if columns["time"] not in lower or columns[part] not in lower:
        return  # (`column_aliases` names the column missing)
    i, j = lower.index(columns["time"]), lower.index(columns[part])
    if (kind := narrow_float(raw.iloc[:, i])) is not None:  # Unix seconds in float32: 128 s apart
        raise DataError(f"{name}: column '{columns['time']}' holds the stamp's seconds as {kind.__name__}, which "
                        "cannot hold them whole; store them as integers or float64 (double)")
    whole, rest = (blank_as_missing(_numpy_backed(raw.iloc[:, k])) for k in (i, j))
    given = (whole.notna() | rest.notna()).to_numpy()  # (a blank row stays blank)
    at = lines[given]
    seconds = numeric_column(whole[given], at, name, columns["time"], row_word)
    below = numeric_column(rest[given], at, name, columns[part], row_word)
    per = PER_SECOND[part]
    bad = (seconds != np.floor(seconds)) | (below < 0) | (below >= per)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        what = (f"'{columns['time']}' holds {seconds[k]:.15g}, not whole seconds" if seconds[k] != np.floor(seconds[k])
                else f"'{columns[part]}' holds {below[k]:.15g}, not {UNIT_NAMES[part]} under a second")
        raise DataError(f"{row_at(name, row_word, at.iloc[k])}: {what}, as a stamp in two columns (--columns "
                        f"time={columns['time']},{part}={columns[part]}) has them")
    # A part that never reaches a thousandth of a second over many seconds is in a smaller unit (microseconds
    # read as nanoseconds would give a tracker of 10 kHz).
    finer = [r for r in FRACTIONS if PER_SECOND[r] < per and len(below) >= 50 and below.max() < PER_SECOND[r]]
    if finer and below.max() < per / 1000 and len(np.unique(seconds)) > 1:
        raise DataError(f"{name}: column '{columns[part]}' (--columns {part}=) never reaches a thousandth of a "
                        f"second over {len(below):,} rows: are its values in {UNIT_NAMES[finer[0]]}? give --columns "
                        f"{finer[0]}={columns[part]}")
    stamp = np.full(len(raw), np.nan)
    stamp[given] = seconds + below / per
    raw.isetitem(i, stamp)


def as_text(values: pd.Series) -> np.ndarray:
    """A per-agent column as stripped strings, "" where missing."""
    v = values.astype(object)
    return np.asarray(v.where(v.notna(), "").astype(str).str.strip(), dtype=object)


def canonical(raw: pd.DataFrame, name: str, scene: str, first_line: int = 1, row_word: str = "line",
               allow_empty: bool = False, line_numbers: np.ndarray | None = None,
               frames: bool = False, typed: bool = False, columns: dict[str, str] | None = None,
               id_marks: frozenset | None = None) -> pd.DataFrame:
    """Check a table of raw values (text or numbers) row by row; `first_line` numbers its first row, or
    `line_numbers` each row (rows read from lines not all kept); `frames`, `columns`: see `column_aliases`; `typed`:
    a DataFrame's values, whose agent ids keep their type (`agent_ids`); `id_marks`: the agent ids that are
    missing values' marks in the whole file (`missing_marks` of all its ids), for a table that holds a part of
    it; None: judged from the table's own ids."""
    raw = raw.copy()
    raw_names = list(raw.columns)
    lower = counted_from_one([str(c).strip().lower() for c in raw.columns], columns)
    if part := split_stamp(columns):
        numbered = pd.Series(np.arange(len(raw), dtype=np.int64) + first_line if line_numbers is None
                             else np.asarray(line_numbers, dtype=np.int64), index=raw.index)
        whole_stamps(raw, lower, columns, part, name, numbered, row_word)
    raw.columns, seconds, lonlat = column_aliases(lower, frames, columns, name)
    # Columns renamed are named in messages as the table names them.
    shown = {n: c for c, n in zip(lower, raw.columns) if c != n}
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise missing_columns(name, missing, lower, lower, columns)
    if corner := box_corner(lower, columns, name):
        warn(corner)
    for c in REQUIRED + ("scene",) + AGENT_COLUMNS:
        if list(raw.columns).count(c) > 1:
            given = [str(f) for f, n in zip(raw_names, raw.columns) if n == c]
            raise DataError(f"{name}: column '{c}' appears {len(given)} times (any case): {', '.join(given)}"
                            + in_any_case(given))
    per_frame = seconds_per_frame_id(raw) if frames else None  # (its time column, not read, checks --fps)
    wanted = [c for c in REQUIRED + ("scene",) if c in raw.columns]
    extras = [c for c in AGENT_COLUMNS if c in raw.columns]
    kept = {c: as_text(raw[c]) for c in extras}
    raw = raw[wanted]
    for c in wanted:
        raw[c] = blank_as_missing(_int_ids(_numpy_backed(raw[c])) if c == "agent_id" and typed else
                                  _numpy_backed(raw[c]))
    lines = pd.Series(np.arange(len(raw), dtype=np.int64) + first_line if line_numbers is None
                      else np.asarray(line_numbers, dtype=np.int64), index=raw.index)
    blank = raw[list(REQUIRED)].isna().all(axis=1)
    raw, lines = raw[~blank], lines[~blank]
    kept = {c: v[~blank.to_numpy()] for c, v in kept.items()}
    if len(raw) == 0:
        if allow_empty:
            return pd.DataFrame(columns=TRACK_COLUMNS)
        raise DataError("the DataFrame has no rows" if name == "dataframe" else f"{name}: empty file (no rows)")
    out = pd.DataFrame({"_line": lines.to_numpy()})
    coarse = coarse_columns(raw, lonlat, seconds, name)
    role = time_role(columns)
    if role != "time" and _dates(raw["frame"]):
        held = "durations" if pd.api.types.is_timedelta64_dtype(raw["frame"]) else "date-times"
        raise DataError(f"{name}: column '{columns[role]}' holds {held}, which say their own unit: give "
                        f"--columns time={columns[role]}, not {role}")
    raw["frame"] = _seconds_of_dates(raw["frame"], name, seconds, shown.get("frame", "frame"), lines, row_word)
    if (narrow := narrow_float(raw["frame"])) is not None:  # read as written: 7.4, not float16's 7.3984375
        raw["frame"] = float32_as_written(raw["frame"].to_numpy(dtype=narrow, na_value=np.nan))[0]
    for col in ("frame", "x", "y"):  # a time column is named as the file names it
        out[col] = numeric_column(raw[col], lines, name, shown.get(col, col), row_word)
    out["frame"] /= PER_SECOND[role]  # seconds
    vague = unresolved_time(out["frame"].to_numpy(), shown.get("frame", "frame"), seconds, role)
    if vague:  # named at the first row too large
        i = int(np.argmax(np.spacing(np.abs(out["frame"].to_numpy())) > TIME_RESOLUTION))
        raise DataError(f"{row_at(name, row_word, lines.iloc[i])}: {vague}")
    codes, uniques = pd.factorize(raw["agent_id"])
    missing = codes < 0  # empty
    said = missing_marks(uniques) if id_marks is None else np.isin(np.asarray(uniques, dtype=object), list(id_marks))
    if said.any():
        missing |= said[codes] & (codes >= 0)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        what = "empty" if codes[i] < 0 else f"{uniques[codes[i]]!r}, a missing value's mark, as"
        raise DataError(f"{row_at(name, row_word, lines.iloc[i])}: {what} '{shown.get('agent_id', 'agent_id')}' "
                        "(every row needs its agent's id)")
    out["agent_id"] = agent_ids(pd.Index(uniques), codes, typed)
    if "scene" in raw.columns:
        sc = raw["scene"]
        if sc.isna().any():
            i = int(np.flatnonzero(sc.isna().to_numpy())[0])
            raise DataError(f"{row_at(name, row_word, lines.iloc[i])}: empty '{shown.get('scene', 'scene')}'")
        out["scene"] = pd.Categorical(sc.astype(str).str.strip().to_numpy(dtype=object))
    else:
        out["scene"] = pd.Categorical.from_codes(np.zeros(len(out), np.int8), categories=[scene])
    out["_file"] = pd.Categorical.from_codes(np.zeros(len(out), np.int8), categories=[name])
    out = out[TRACK_COLUMNS]
    for c, v in kept.items():
        out[c] = v
    clock = shown.get("frame", "frame") if seconds else None
    shown = "the table" if name == "dataframe" else name
    out.attrs.update(seconds=seconds, clock=clock, lonlat=lonlat, seconds_per_frame_id=per_frame,
                     coarse=f"{shown} holds {coarse}" if coarse else None,
                     float32_positions=float32_position_range(raw, shown, lonlat))
    return out


def seconds_per_frame_id(raw: pd.DataFrame) -> tuple[str, float] | None:
    """Where a table read by its frame ids (--fps) has one time column beside them, left unread (a tracker's log
    of both): that column's name and the seconds it gives a frame id (the median over agents of the time their
    rows span over the frame ids they span; numbers, or ISO 8601 date-times), for --fps to be checked against;
    None where there is none, or it gives none."""
    times = [c for c in raw.columns if c in TIME_NAMES]
    if "frame" not in raw.columns or len(times) != 1 or "agent_id" not in raw.columns:
        return None
    column = raw[times[0]]
    try:  # (a column left unread: what it cannot give, it gives no check)
        if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
            t = _seconds_of_dates(column, "", True, "", pd.Series(dtype=np.int64), "line")  # (raises for text alone)
        elif pd.to_numeric(column, errors="coerce").isna().mean() > 0.5:  # ISO 8601 text
            t = iso_seconds(column)
        else:
            t = pd.to_numeric(column, errors="coerce")
    except (ValueError, TypeError, OverflowError):  # (pandas' OutOfBoundsDatetime is a ValueError)
        return None
    both = pd.DataFrame({"a": raw["agent_id"].astype(str).to_numpy(), "f": pd.to_numeric(raw["frame"], errors="coerce"),
                         "t": t.to_numpy(dtype=np.float64)}).dropna()
    # Over each agent's whole span (times rounded to 0.01 s make one frame's steps 0.03 and 0.04 s at 30 fps).
    span = both.groupby("a")[["f", "t"]].agg(["min", "max"])
    frames, seconds = span[("f", "max")] - span[("f", "min")], span[("t", "max")] - span[("t", "min")]
    ok = (frames > 0) & np.isfinite(seconds)
    ratio = float(np.median(seconds[ok] / frames[ok])) if ok.any() else math.nan
    return (times[0], ratio) if math.isfinite(ratio) and ratio > 0 else None


def narrow_float(column: pd.Series) -> type | None:
    """np.float32 or np.float16 where a column holds such numbers (numpy's, pandas' nullable Float32 or Arrow's
    float), else None."""
    kind = getattr(column.dtype, "numpy_dtype", column.dtype)
    return next((t for t in (np.float32, np.float16) if kind == t), None)


def coarse_columns(raw: pd.DataFrame, lonlat: bool, seconds: bool, name: str) -> str | None:
    """What float32 (or float16) columns (a Parquet file's; a CSV's text is read in full) hold too coarsely to
    predict from, or None: degrees (a float32 resolves about a metre of the Earth's surface), times of 2^17 s or more
    (seconds since 1970: minutes) or frame ids of 2^24 or more (no longer whole numbers), and seconds whose
    float32 spacing is over `FLOAT32_STEP_MARGIN` (from 256 s) where not every one is a short decimal
    (`float32_as_written`). Times that lose more than a tenth of a second (or frame ids that are no longer
    whole) are refused: the tracks themselves are gone. Positions in float32 are judged once their units are
    known (`read_tracks`)."""
    narrow = [narrow_float(raw[c]) for c in ("x", "y")] if lonlat else []
    if np.float16 in narrow:  # a tenth of a degree: kilometres
        raise DataError(f"{name}: longitude and latitude as float16, which resolve only about 10 km; store them as "
                        "float64 (double)")
    if np.float32 in narrow:
        return "longitude and latitude as float32, which resolve only about a metre"
    t, kind = raw["frame"], narrow_float(raw["frame"])
    if kind is None or not len(t):
        return None
    t = t.to_numpy(dtype=kind, na_value=np.nan)
    v = float(np.nanmax(np.abs(t), initial=0.0))
    spacing = float(np.spacing(kind(v)))
    text = f"times as {kind.__name__}, which near {v:.6g} resolve only {spacing:.3g} of their units"
    if spacing >= (2.0 ** -6 if seconds else 2.0):  # float32 from 2^17 s, or frame ids from 2^24
        if spacing > (0.1 if seconds else 1.0):  # a step's time is lost: no tracks
            raise DataError(f"{name}: {text}; store them as float64 (double)")
        return text
    if seconds and spacing > FLOAT32_STEP_MARGIN and not float32_as_written(t)[1][np.isfinite(t)].all():
        return (f"times as {kind.__name__}, which near {v:.6g} resolve only {spacing:.3g} s (an observation within "
                f"{STEP_MARGIN:g} s of a step is on it)")
    return None


STEP_MARGIN = EPS * 0.4  # seconds: a time this close to a 0.4 s step's grid point is on it
FLOAT32_STEP_MARGIN = STEP_MARGIN / 2  # a float32 time's spacing past which a time, an interval and t0 may miss it


def float32_as_written(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float32 (or float16) times `t` as float64, each as written where its shortest decimal has at most 7 significant
    digits (1012.84 for float32's 1012.8399658: a short decimal is what a writer wrote), else its float32
    value (1000.1428 of 1000 + 1/7 would be further from the time than float32's own); and which were
    short."""
    written = t.astype(str).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        digits = written / 10.0 ** (np.floor(np.log10(np.abs(written))) - 6)
        short = (written == 0) | (np.abs(digits - np.round(digits)) < 1e-6)
    return np.where(short, written, t.astype(np.float64)), short


TIME_RESOLUTION = 1e-3  # of a time's units (seconds or frame ids): coarser, and steps lose their length


def unresolved_time(t: np.ndarray, what: str, seconds: bool, role: str = "time", live: bool = False) -> str | None:
    """Why times `t` (float64, finite; seconds, read from `role`'s unit) are too large to keep their steps'
    lengths, or None: a float64 near 1e15 resolves only 0.125 of its units (microseconds since 1970 read as
    seconds). `live`: of an update's time, which no --columns reads in other units."""
    v = float(t[np.argmax(np.abs(t))]) if len(t) else 0.0  # the largest in magnitude, with its sign
    spacing = float(np.spacing(abs(v)))
    if spacing <= TIME_RESOLUTION:
        return None
    written = abs(v) * PER_SECOND[role]  # as the file writes them
    unit = "time_ns" if written >= 1e17 else "time_us" if written >= 1e14 else "time_ms"
    others = ", ".join(u for u in ("time_ms", "time_us", "time_ns") if u != unit)
    if not seconds:
        fix = "give frame ids counted from a start nearer 0"
    elif live:
        fix = "give times in seconds, since a start nearer 0"
    else:
        fix = (f"is it in {UNIT_NAMES[role]}? Times since 1970 in milli-, micro- or nanoseconds (about 1e12, 1e15 or "
               f"1e18) are read with --columns {unit}={what or 'time'} (or {others}); or give times since a start "
               "nearer 0")
    shown = f"column {what} value" if is_column_number(what) else what  # a headerless file's column, by number
    return f"{shown} {v:.6g} is too large to tell its steps apart (numbers near it are {spacing:.3g} apart): {fix}"


def float32_position_range(raw: pd.DataFrame, shown: str, lonlat: bool) -> tuple[str, float, str] | None:
    """(the table's name, the largest value of its float32 or float16 position column that resolves it most
    coarsely, that column's type) when x or y came as one (degrees: `coarse_columns`), for `coarse_positions`
    to judge in metres; else None."""
    kinds = {c: narrow_float(raw[c]) for c in ("x", "y")}
    narrow = [(float(np.nanmax(np.abs(raw[c].to_numpy(dtype=np.float64, na_value=np.nan)), initial=0.0)),
               kinds[c].__name__) for c in ("x", "y") if kinds[c] is not None]
    if lonlat or not narrow:
        return None
    v, kind = max(narrow, key=lambda vk: float(np.spacing(np.dtype(vk[1]).type(vk[0]))))
    return shown, v, kind


DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")  # the start of an ISO 8601 (RFC 3339) date-time
ZONED = r"\d(?:[Zz]|[+-]\d{2}(?::?\d{2})?)\s*$"  # ... and the end of one that names its zone


def _seconds_of_dates(col: pd.Series, name: str, seconds: bool, what: str, lines: pd.Series,
                      row_word: str) -> pd.Series:
    """A time column of date-times (Parquet, a DataFrame, or ISO 8601 text such as a CSV's
    2024-05-01T12:00:00.1Z, read as UTC where it names no zone) as seconds since 1970-01-01 UTC, and one of
    durations as seconds; a `frame` column of either is refused (frame ids are numbers). `what`: the column
    as the table names it; a text value that is no date-time, among date-times, is named by its row in
    `lines`."""
    if not _dates(col):
        return col
    text, spans = _date_text(col), pd.api.types.is_timedelta64_dtype(col)
    if not seconds:
        raise DataError(f"{name}: column '{what}' holds {'durations' if spans else 'date-times'}, not frame ids; "
                        f"name it `time` (or give --columns time={what}) to read them as seconds")
    if text:
        since = iso_seconds(col)
        bad = (since.isna() & col.notna()).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{row_at(name, row_word, lines.iloc[i])}: column '{what}' value '{col.iloc[i]}' is "
                            f"{_no_date(col.iloc[i])}")
        return since
    if not spans:
        col = col - pd.Timestamp(0, tz=getattr(col.dt, "tz", None)).as_unit("s")  # the column's unit stands
    return col.dt.total_seconds()


def iso_seconds(text: pd.Series) -> pd.Series:
    """ISO 8601 date-times as text (2024-05-01T12:00:00.1Z, RFC 3339's 2024-05-01t12:00:00.1z, a decimal comma)
    as seconds since 1970-01-01 UTC, read as UTC where they name no zone; NaN where a value is none."""
    since = pd.Series(np.nan, index=text.index)
    upper = text.astype(str).str.upper()  # RFC 3339 allows 2024-05-01t12:00:00z, which ISO 8601 writes upper
    upper = upper.str.replace(r"(:\d\d),(\d)", r"\1.\2", regex=True)  # ISO 8601's decimal comma: 12:00:00,5
    zoned = upper.str.contains(ZONED).to_numpy()
    for part in (zoned, ~zoned):  # parsed apart: pandas 2 read those without a zone in the others' zone
        if part.any():
            parsed = pd.to_datetime(upper[part], format="ISO8601", utc=True, errors="coerce")
            since[part] = (parsed - pd.Timestamp(0, tz="UTC").as_unit("s")).dt.total_seconds()
    return since


def _int_ids(col: pd.Series) -> pd.Series:
    """A DataFrame's ids held as Python integers in an object column (`pd.DataFrame(records)` of JSON, a
    column built row by row) as the integers they are, not as text; any other column as it is."""
    if col.dtype != object:
        return col
    given = [v for v in col if v is not None and v is not pd.NA and not (isinstance(v, float) and np.isnan(v))]
    if not len(given) or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in given):
        return col
    try:
        return col.astype("Int64")
    except (OverflowError, TypeError, ValueError):  # beyond int64: kept as written
        return col


def _numpy_backed(col: pd.Series) -> pd.Series:
    """A column of Arrow's date-times, dates, durations or half floats (pd.ArrowDtype: a Parquet file written
    from such a DataFrame reads back so) as numpy's, which the checks read: as seconds, refused as positions.
    A pandas categorical of date-times or durations is read as its values."""
    if isinstance(col.dtype, pd.CategoricalDtype) and (pd.api.types.is_datetime64_any_dtype(col.cat.categories) or
                                                       pd.api.types.is_timedelta64_dtype(col.cat.categories)):
        return col.astype(col.cat.categories.dtype)
    if not isinstance(col.dtype, pd.ArrowDtype):
        return col
    import pyarrow as pa

    kind, array = col.dtype.pyarrow_dtype, pa.array(col)
    if pa.types.is_dictionary(kind):  # (each distinct value stored once: the values' own type counts)
        kind, array = kind.value_type, array.dictionary_decode()
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_duration(kind)
            or pa.types.is_float16(kind)):
        return col
    values = array.to_pandas(date_as_object=False)  # (its zone kept)
    return pd.Series(values.to_numpy() if kind == pa.float16() else values.array, index=col.index, name=col.name)


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
    try:
        na = s.isna()
    except ArithmeticError:  # a signalling NaN, Decimal("sNaN"), which no comparison takes: missing, as NaN is
        s = pd.Series([np.nan if isinstance(v, decimal.Decimal) and v.is_nan() else v for v in s], index=s.index,
                      dtype=object)
        na = s.isna()
    try:
        text = s.astype(str).str.strip()
    except UnicodeEncodeError:  # a lone surrogate (a Python caller's text): no number, as `numeric_column` says
        text = pd.Series([str(v).strip() for v in s], index=s.index, dtype=object)
    s = s.where(na, text)
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


def _a_date(value) -> bool:
    """Whether `value` is a date-time as a time column of them is read (ISO 8601 text, 2024-05-01T12:00:00.4Z)."""
    return isinstance(value, str) and bool(DATE_TEXT.match(value.strip()))


def numeric_column(col: pd.Series, lines: pd.Series, name: str, what: str, row_word: str) -> np.ndarray:
    """A column of numbers as floats, or a one-line DataError naming the file (`name`), the row (its number
    in `lines`, counted in `row_word`s) and the column `what` of the first value that is empty, not a number
    or not finite (or, for x and y, beyond any position).  -> (n,) float64"""
    kind = next((k for test, k in ((pd.api.types.is_bool_dtype, "true/false values"),
                                   (pd.api.types.is_complex_dtype, "complex numbers"),
                                   (pd.api.types.is_datetime64_any_dtype, "date-times"),
                                   (pd.api.types.is_timedelta64_dtype, "durations"),
                                   (lambda c: isinstance(c.dtype, (pd.PeriodDtype, pd.IntervalDtype)), "periods"))
                 if test(col)), None)  # (pandas would read them as numbers: the real part, nanoseconds)
    if kind:
        raise DataError(f"{name}: column '{what}' holds {kind}, not plain numbers")
    values = to_numbers(col)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = col.iloc[i]
        kind = "missing" if pd.isna(shown) else ("not finite" if parses_as_number(shown) else "not a number")
        if kind == "not finite" and np.isinf(float(shown)) and "inf" not in str(shown).lower():
            kind = f"beyond {MAX_RAW:.0e} in magnitude (no position in any units)" if what in ("x", "y") else \
                "beyond any number a float holds"  # a number written with hundreds of digits
        if kind == "not a number" and (digits := foreign_digits(shown)):
            kind += digits
        elif kind == "not a number" and re.fullmatch(r"\s*[+-]?\d{1,3}(,\d{3})+\s*", str(shown)):
            kind += (" (a thousands separator, or a decimal comma: write plain numbers with decimal points, as a "
                     "spreadsheet's export in English without separators does)")
        elif kind == "not a number" and re.fullmatch(r"\s*[+-]?\d+,\d+\s*", str(shown)):
            kind += " (a decimal comma: write decimal points, as a spreadsheet's export in English does)"
        elif kind == "not a number" and what in TIME_NAMES and _a_date(shown):
            kind = ("a date-time among numbers of seconds: write every time one way, all as seconds or all as ISO "
                    "8601 date-times")
        elif kind == "not a number" and what in TIME_NAMES:
            kind += (" of seconds (write times as seconds, e.g. since the recording's start, or as ISO 8601 "
                     "date-times such as 2024-05-01T12:51:31.5Z)")
        if kind == "missing":
            raise DataError(f"{row_at(name, row_word, lines.iloc[i])}: column '{what}' is empty")
        raise DataError(f"{row_at(name, row_word, lines.iloc[i])}: column '{what}' value {_shown(shown)} is {kind}")
    if what in ("x", "y") and (np.abs(values) > MAX_RAW).any():
        i = int(np.flatnonzero(np.abs(values) > MAX_RAW)[0])
        raise DataError(f"{row_at(name, row_word, lines.iloc[i])}: column '{what}' value {_shown(col.iloc[i])} is "
                        f"beyond {MAX_RAW:.0e} in magnitude (no position in any units)")
    return values


def _shown(value) -> str:
    """A raw value as a message quotes it: as written (1e+16, not np.float64(1e+16)), cut past 40 characters."""
    value = value.item() if isinstance(value, np.generic) else value
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({len(str(value))} characters)"


def foreign_digits(value) -> str:
    """The hint for a value written with digits of another script or width (١٢, １２), which `parses_as_number`
    does not read as a number: ' (...)', or '' for any other value."""
    text = str(value)
    if not text.isascii() and any(c.isdigit() and not c.isascii() for c in text):
        return " (digits of another script or width: write ASCII digits, 0-9)"
    minus = next((c for c in text if c in "\u2212\u2010\u2011\u2012\u2013\u2014\ufe63\uff0d"), None)
    if minus and text.replace(minus, "-").isascii():  # a word processor's minus sign
        return f" (a typographic dash {minus} as its sign: write the ASCII minus, -)"
    return ""


def parses_as_number(text) -> bool:
    """Whether a value reads as a number, as pandas reads a file's numbers (ASCII digits only and no "_": Python's
    float() would also take other scripts' digits, and read 2_5 as 25)."""
    if text is None or odd_number_text(text):
        return False
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


MISSING_MARKS = frozenset({"nan", "-nan", "none", "null", "<na>", "na", "n/a", "#n/a"})  # as numpy, Python, R write it


def missing_marks(uniques) -> np.ndarray:
    """Which of an id column's distinct values are a writer's mark of a missing value ("nan" from numpy's
    savetxt, "None", R's "NA") among ids that are numbers otherwise: no agent's id, though the file holds
    them as text. Among text ids, "NA" may be an agent's name, and is kept."""
    marks = np.asarray([isinstance(u, str) and u.strip().lower() in MISSING_MARKS for u in uniques], dtype=bool)
    if not marks.any() or marks.all():
        return np.zeros(len(marks), dtype=bool)
    others = pd.Series(np.asarray(uniques, dtype=object)[~marks])
    return marks if np.isfinite(to_numbers(others.astype(str).str.strip())).all() else np.zeros(len(marks), bool)


def agent_ids(uniques: pd.Index, codes: np.ndarray, typed: bool = False) -> np.ndarray:
    """Agent ids from their distinct values and per-row codes: integers when every id is one (ETH/UCY
    writes 1.0) and none is written with a leading zero, else stripped strings as written (so "007" comes
    back as "007", and "01" and "1" stay two agents); ids of an integer type (a DataFrame's, Parquet's, JSON's)
    as those integers, however large. `typed`: the values come with their own type (a DataFrame's column, not a
    file's text): ids that are all strings stay strings, those integers as text ("1.0" is the agent "1", as in a
    file, and not the number 1)."""
    if pd.api.types.is_integer_dtype(uniques) and not pd.api.types.is_bool_dtype(uniques) and \
            (not len(uniques) or uniques.max() <= np.iinfo(np.int64).max):
        return np.asarray(uniques, dtype=np.int64)[codes]  # integers as they are (beyond 2**53 too)
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
