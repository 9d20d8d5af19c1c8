"""Positions in a file's units <-> metres: one scale, a scale per scene, a homography, or longitude and
latitude projected per scene; the decimals predictions are written with; positions written too coarsely for
their units.
"""
from __future__ import annotations

import csv
import math
import numbers
import os
import re
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from .config import positive_number
from .errors import DataError, as_number_hint, first_line, home_path, plural, shown, small_text, warn
from .table import rows_by_code, where
from .values import foreign_digits, parses_as_number


WGS84_A, WGS84_F = 6378137.0, 1 / 298.257223563  # the GPS ellipsoid: equatorial radius (m), flattening
MAX_COORD = 1e9  # larger positions are no coordinates in metres (UTM northings stay below 1e7)
MIN_SCALE = 1e-9  # metres per input unit: smaller is no tracker's unit (its futures, in it, would overflow a file)
NO_UNIT = "no tracker's unit (millimetres are 0.001, pixels 0.01-0.1)"
MAX_DISTORTION = 0.005  # the largest scale error of a scene's local projection of longitude and latitude
METRES_PER_DEGREE = 111_200.0  # a degree of latitude (110.6-111.7 km), or of longitude at the equator


def is_number(value) -> bool:
    """A real number given as one (not text, a list or a bool), as the Python API's rates and scales are."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def unit_conversion(scale: float | str | Path | Mapping | None, homography) -> dict | None:
    """The conversion of input positions to metres, checked: None (already metres), a scale, scales per
    scene (`scene_scales`: a file's, or a dict {scene: metres per unit}) or a matrix."""
    if scale is not None and homography is not None:
        raise DataError("--scale and --homography exclude each other: give one")
    if isinstance(scale, (str, os.PathLike, Mapping)) and not (isinstance(scale, str) and parses_as_number(scale)):
        return scene_scales(scale)
    if scale is not None:
        if isinstance(scale, str):  # the Python API's numbers are numbers, as its rates are
            raise DataError(f"--scale must be a positive number of metres per input unit, given as a number, not "
                            f"as text (got {scale!r}; give {scale.strip()})")
        if not positive_number(scale):
            raise DataError(f"--scale must be a positive number of metres per input unit (got {shown(scale)})"
                            + as_number_hint(scale, "scale", positive=True))
        if scale < MIN_SCALE:
            raise DataError(f"--scale {scale:g}: under {MIN_SCALE:g} metres per input unit, {NO_UNIT}")
        return {"scale": float(scale)}
    if homography is None:
        return None
    if isinstance(homography, (str, Path)):
        where_ = f"--homography {homography}"
        text = _file_text(home_path(homography, "--homography"), where_)
        # Numbers separated by blanks, commas or semicolons; '#' starts a comment, as in numpy's text files.
        tokens = [t for line in text.splitlines() for t in re.split(r"[\s,;]+", line.split("#")[0]) if t]
        bad = next((t for t in tokens if not parses_as_number(t)), None)
        if bad is not None:
            raise DataError(f"{where_}: {bad!r} is not a number{foreign_digits(bad) or ' (expected a 3x3 matrix)'}")
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
    if _singular(H):
        raise DataError(f"{where_}: the matrix is singular (it cannot map pixels to metres and back)")
    return {"homography": H.tolist()}


MAX_CONDITION = 1e12  # a homography's condition number beyond which metres do not map back to its pixels


def _singular(H: np.ndarray) -> bool:
    """Whether a 3x3 matrix cannot map pixels to metres and back: its condition number (the ratio of its largest
    to its smallest singular value) over `MAX_CONDITION`, blind to the matrix's own factor (H and H x 1e-6 map
    alike), judged with the metres' origin moved to where pixel (0, 0) lands. A georeferenced matrix (pixels to
    UTM metres) adds millions of metres to a camera's matrix, which change neither how well it inverts nor its
    determinant, but would dwarf every other entry."""
    M = H.copy()
    if abs(H[2, 2]) > 1e-12 * np.abs(H).max():  # pixel (0, 0) lands at finite metres t: translate them to 0
        M[:2] -= np.outer(H[:2, 2] / H[2, 2], H[2])
    with np.errstate(all="ignore"):
        condition = np.linalg.cond(M)  # (scale-free: a homography is one up to a factor)
    return bool(not np.isfinite(condition) or condition > MAX_CONDITION)


CERTAIN = 0.9  # a scale the file gives with a lower certainty (OpenTraj's SDD guesses: 0) is warned of


def _file_text(path: Path, source: str) -> str:
    """The text of a --homography or --scale file (`errors.small_text`); one that cannot be read is a DataError
    naming `source`, with what it holds and the fix, or why the system refused it."""
    try:
        return small_text(path)
    except UnicodeError as e:  # (`small_text`'s: what the file holds, and the fix)
        raise DataError(f"{source}: {e}") from None
    except OSError as e:
        raise DataError(f"{source}: cannot read it ({e.strerror or type(e).__name__})") from None


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
        path, source = home_path(given, "--scale"), f"--scale {given}"
        if not str(given).strip() or not path.is_file():
            raise DataError(f"{source}: neither a number of metres per unit nor a file of scales per scene "
                            f"({'a folder' if str(given).strip() and path.is_dir() else 'no such file'})")
        text = _file_text(path, source)
        raw = _scale_table(text, source) if path.suffix.lower() in (".csv", ".tsv", ".txt") else \
            _scale_mapping(text, source)
    scales, estimated = {}, []
    for name, value in raw.items():
        nested = isinstance(value, Mapping) and "scale" not in value and any(isinstance(v, Mapping) or (
            not isinstance(v, bool) and is_number(v)) for v in value.values()) and "certainty" not in value
        for scene, v in (value.items() if nested else [(None, value)]):
            scene = str(name) if scene is None else f"{name}_{scene}"  # SDD: deathCircle_video0
            certainty = v.get("certainty") if isinstance(v, Mapping) else None
            if isinstance(v, Mapping) and "scale" not in v:  # an entry of other keys alone
                keys = ", ".join(map(str, v))[:60] or "nothing"
                raise DataError(f"{source}: scene '{scene}': no 'scale' key (it has: {keys})")
            v = v.get("scale") if isinstance(v, Mapping) else v
            if isinstance(v, str) and parses_as_number(v):
                v = float(v)
            if not positive_number(v):
                raise DataError(f"{source}: scene '{scene}': scale {v!r} is not a positive number of metres per unit"
                                f"{foreign_digits(v) if isinstance(v, str) else ''}")
            if v < MIN_SCALE:
                raise DataError(f"{source}: scene '{scene}': scale {v:g} is under {MIN_SCALE:g} metres per unit, "
                                f"{NO_UNIT}")
            if scene in scales:  # SDD's zara: {video0: ...} beside a zara_video0 of its own
                raise DataError(f"{source}: scene '{scene}' is given twice")
            scales[scene] = float(v)
            if is_number(certainty) and certainty < CERTAIN:
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
                if not isinstance(key_node, yaml.ScalarNode):  # a list or a mapping as a key
                    raise DataError(f"{source} line {key_node.start_mark.line + 1}: a key that is no scene name")
                key = key_node.value
                if key in out:
                    raise DataError(f"{source} line {key_node.start_mark.line + 1}: '{key}' is given twice")
                out[key] = self.construct_object(value_node, deep=True)
                if isinstance(out[key], (int, float)) and "_" in str(value_node.value):  # YAML 1.1 reads 0_05 as 5
                    raise DataError(f"{source} line {value_node.start_mark.line + 1}: '{key}': {value_node.value!r} "
                                    "is not a number (no '_' in numbers)")
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
    ("cam 1") kept whole; with a `video` column (SDD's), each row's scene is `scene_video` (video 0 or video0:
    deathCircle_video0); a row without its scale, or a scene given twice, is refused by its line."""
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
    v = names.index("video") if "video" in names else None  # SDD's: a scene's videos, each its own scene
    out = {}
    for n, line in lines[1:]:
        row = split(line)
        if len(row) <= max(i, j) or not row[j]:
            raise DataError(f"{source} line {n}: no scale for scene '{row[i] if len(row) > i else ''}'")
        if v is not None and (len(row) <= v or not row[v]):
            raise DataError(f"{source} line {n}: no video for scene '{row[i]}' (the table has a video column)")
        scene = row[i] if v is None else f"{row[i]}_{'video' * row[v].isdigit()}{row[v]}"  # deathCircle_video0
        if scene in out:
            raise DataError(f"{source} line {n}: scene '{scene}' is given twice")
        out[scene] = row[j]
    return out


def scales_of_scenes(units: dict, scenes: pd.Series) -> dict:
    """`scene_scales`' units for the scenes read (each must have its scale), warning of those whose scale is
    an estimate."""
    read = [str(s) for s in pd.unique(scenes.astype(str))]
    missing = [s for s in read if s not in units["scales"]]
    if missing:
        raise no_scale(units, missing)
    estimates = estimate_warning(units, read)
    if estimates:
        warn(estimates)
    return {"scales": {s: units["scales"][s] for s in read}}


def estimate_warning(units: dict, scenes: list[str]) -> str | None:
    """The warning for those of `scenes` whose scale in `scene_scales`' units is an estimate, or None."""
    guessed = [s for s in scenes if s in units.get("estimated", ())]
    if len(guessed) == 1:
        return (f"warning: {units['source']}: the scale of scene {guessed[0]} is an estimate (its certainty is below "
                f"{CERTAIN:g}), so its metres are as rough")
    if guessed:
        return (f"warning: {units['source']}: the scales of {len(guessed)} scenes read are estimates (their certainty "
                f"is below {CERTAIN:g}), so their metres are as rough: {', '.join(guessed[:4])}"
                f"{' ...' if len(guessed) > 4 else ''}")
    return None


def no_scale(units: dict, missing: list[str]) -> DataError:
    """The error for scenes that scales per scene (`scene_scales`) leave without one."""
    given = list(units["scales"])
    more = f" (nor for {plural(len(missing) - 1, 'more scene')})" if len(missing) > 1 else ""
    return DataError(f"scene '{missing[0]}': no scale for it{more} in {units['source']}; it gives the scales of "
                     f"{', '.join(given[:4])}{' ...' if len(given) > 4 else ''}")


def _scene_factors(units: dict, scenes, ndim: int) -> np.ndarray:
    """Metres per unit of positions (N, ..., 2) whose scenes are `scenes` (N,), shaped to broadcast against
    them: (N, 1, ..., 1)."""
    if scenes is None:
        raise ValueError("positions of scenes of their own scales need their scenes")
    codes, uniques = pd.factorize(np.asarray(scenes, dtype=object).astype(str))
    table = units["scales"]
    missing = [s for s in uniques if s not in table]
    if missing:
        raise no_scale(units, missing)
    f = np.array([table[s] for s in uniques], dtype=np.float64)[codes]
    return f.reshape((len(f),) + (1,) * (ndim - 1))


def scene_units(units: dict | None, scene: str) -> dict | None:
    """The conversion of one scene's positions: with scales per scene, its own scale; else `units`."""
    return {"scale": units["scales"][str(scene)]} if units is not None and "scales" in units else units


def lonlat_units(df: pd.DataFrame) -> dict:
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
    first = np.empty(len(names), np.int64)
    first[codes[starts]] = starts
    check_lonlat(lon, lat, _origins(units, df["scene"], 2)[:, 1], lambda i: where(df, i),
                 lambda i: str(df["scene"].iloc[i]), agent=df["agent_id"].to_numpy(), origin=first[codes])
    return units


FEW_FAR = 0.001  # rows too far for the projection, at most this share of a table (or 2): bad fixes


def check_lonlat(lon: np.ndarray, lat: np.ndarray, lat0: np.ndarray, where: Callable[[int], str],
                 scene: Callable[[int], str], fix: str = "split the scene (a `scene` column, or one file per area)",
                 agent: np.ndarray | None = None, origin: np.ndarray | None = None) -> None:
    """Refuse, naming the first row at fault (`where(i)`, its scene `scene(i)`): longitudes and latitudes that
    are no degrees, an origin (latitude `lat0`, per row) near a pole, and a row so far north or south of its
    scene's origin that the local projection's scale there is off by more than MAX_DISTORTION (`fix` says
    what to do; with each row's `agent`, a few such rows of agents seen near too are told as bad fixes; with
    each row's `origin` row, a stray origin (`_stray_origin`) is told as the bad fix)."""
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
    far = error > MAX_DISTORTION
    if far.any():
        i = int(np.flatnonzero(far)[0])
        j = _stray_origin(lon, lat, far, origin, i, cos0[i]) if origin is not None and cos0[i] >= 0.01 else None
        if j is not None:
            km = abs(np.radians(np.median(lat[origin == j]) - lat0[i])) * M0[i] / 1000
            raise DataError(f"{where(j)}: the first position of scene '{scene(j)}' ({lon[j]:g}, {lat[j]:g}) is "
                            f"{km:.3g} km north or south of most of its positions: a bad fix (a missed one written "
                            "as 0, a typo)? Correct or drop that row")
        if agent is not None and far.sum() <= max(2, FEW_FAR * len(far)) and \
                np.isin(agent[far], agent[~far]).all():  # a few rows of agents seen near: bad fixes, no wide scene
            fix = "a bad fix (a missed one written as 0, a typo)? Correct or drop that row"
        if cos0[i] < 0.01:
            raise DataError(f"{where(i)}: scene '{scene(i)}' starts at latitude {lat0[i]:g}, too near a pole to "
                            "project longitude and latitude to metres: give positions in metres (x, y)")
        km = abs(np.radians(lat[i] - lat0[i])) * M0[i] / 1000
        raise DataError(f"{where(i)}: latitude {lat[i]:g} is {km:.3g} km north or south of the first position of "
                        f"scene '{scene(i)}' ({lat0[i]:g}): too far for one local projection to metres (its scale "
                        f"would be off by {error[i]:.1%}); {fix}")


def _stray_origin(lon: np.ndarray, lat: np.ndarray, far: np.ndarray, origin: np.ndarray, i: int,
                  cos0: float) -> int | None:
    """Row `i`'s scene's first row (`origin[i]`) where that row is a bad fix, not the scene wide: `far` from
    (almost) all of the scene's other rows, and four times as far from the nearest of them as they lie apart
    (a flight north, a fix every 75 km, is a wide scene); else None."""
    j = int(origin[i])
    rest = (origin == j) & (np.arange(len(far)) != j)  # the scene's other rows
    if not rest.any() or (~far[rest]).sum() > max(2, FEW_FAR * rest.sum()):
        return None
    span = np.hypot(np.ptp(lat[rest]), np.ptp(lon[rest]) * cos0)  # degrees, roughly as the crow flies
    gap = np.hypot(lat[rest] - lat[j], (lon[rest] - lon[j]) * cos0).min()
    return j if gap > 4 * span else None


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
    (`lonlat_units`)."""
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
    for d in range(4, 10):
        # Written with d decimals, each reads back as the same float: numpy's rounding (off by an ulp at times)
        # is checked by Python's exact one where it differs, so a nanosecond stamp since 1970 keeps its float.
        near = np.round(v, d) == v
        if near.all() or all(float(f"{x:.{d}f}") == x for x in v[~near]):
            return d
    # No decimals write them exactly (times computed as k * 0.4, 13.600000000000001): the fewest within the
    # float's own rounding.
    tol = 4 * np.spacing(np.abs(v))
    return next((d for d in range(4, 9) if np.all(np.abs(v - np.round(v, d)) <= tol)), 9)


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


def placed(uv: np.ndarray, units: dict | None, scenes, at: Callable[[int], str]) -> tuple[np.ndarray, float | None]:
    """(N, 2) input positions in metres (`to_metres`), and the sign of w on the ground's side of a homography's
    horizon (`beyond_horizon`). A position with no place in metres (not finite, beyond `MAX_COORD`, or past the
    horizon) is a DataError at `at(i)` (its file and line) for the reason that holds."""
    xy = to_metres(uv, units, scenes)
    past, side = beyond_horizon(uv, units)
    bad = ~np.isfinite(xy).all(1) | (np.abs(xy) > MAX_COORD).any(1) | past
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _misplaced_error(at(i), uv[i], xy[i], bool(past[i]), units)
    return xy, side


def _misplaced_error(at: str, uv: np.ndarray, xy: np.ndarray, past: bool, units: dict | None) -> DataError:
    """The error for one input position `uv` (2,) (`xy` in metres) that `placed` refuses."""
    u, v = (f"{c:g}" for c in uv)
    if units is None:
        return DataError(f"{at}: position ({u}, {v}) is beyond {MAX_COORD:.0e} in magnitude: not a position in "
                         "metres (give --scale or --homography)")
    if past:
        return DataError(f"{at}: position ({u}, {v}) is past the homography's horizon, where no pixel is on the "
                         "ground (check --homography)")
    metres = f"{xy[0]:g}, {xy[1]:g} in metres"
    why = f"beyond {MAX_COORD:.0e} in magnitude" if np.isfinite(xy).all() else "not finite"
    return DataError(f"{at}: position ({u}, {v}) is {metres}: {why} (check --scale or --homography)")


def looks_like_degrees(xy: np.ndarray) -> bool:
    """Whether positions `xy` (N, 2) as written crawl as longitudes and latitudes do: within 360 and 90 of zero,
    all within a degree of each other, away from (0, 0) (metres move tens of units; kilometres about a local
    origin crawl too, but in the Gulf of Guinea)."""
    return bool(len(xy) and np.abs(xy[:, 0]).max() <= 360 and np.abs(xy[:, 1]).max() <= 90
                and (xy.max(0) - xy.min(0)).max() < 1 and np.abs(np.median(xy, axis=0)).max() > 1)


def degrees_scaled(uv: np.ndarray, units: dict | None, scenes=None) -> str | None:
    """The warning for positions `uv` (N, 2) as written that look like longitudes and latitudes (`looks_like_degrees`),
    x the longitudes or the latitudes, read with a --scale (or a scene's, `scenes` (N,) naming each row's) within a
    tenth of a degree's metres, of latitude or of longitude there: one scale makes a degree of longitude as long as
    one of latitude, which it is near the equator alone (at latitude 60, half as long); None where that is not so
    either way. (Degrees near the equator whose x could be latitudes far from it are warned of too: lon, lat
    columns read them right either way.)"""
    units = units or {}
    if "scales" in units:  # each scene's rows, from one sort (not a pass over the table per scene)
        codes, names = pd.factorize(np.asarray(scenes).astype(str))
        rows_of, code_of = rows_by_code(codes, len(names)), {name: c for c, name in enumerate(names)}
        scales = {scene: (scale, uv[rows_of(code_of[scene])] if scene in code_of else uv[:0])
                  for scene, scale in units["scales"].items()}
    else:
        scales = {None: (units["scale"], uv)} if "scale" in units else {}
    for scene, (scale, rows) in scales.items():
        readings = []  # (a degree of longitude's length against one of latitude's, the latitude), each way
        for lonlat in (rows, rows[:, ::-1]):  # x the longitudes, or the latitudes
            if len(lonlat) and looks_like_degrees(lonlat):
                lat = float(np.median(lonlat[:, 1]))
                shrink = float(np.cos(np.radians(lat)))
                if shrink <= 0.99 and any(abs(scale / d - 1) <= 0.1 for d in (METRES_PER_DEGREE,
                                                                              METRES_PER_DEGREE * shrink)):
                    readings.append((shrink, lat))
        if readings:
            shrink, lat = min(readings)  # (the farther from the equator, where both ways are degrees)
            given = f"--scale {scale:g}" if scene is None else f"the scale of scene '{scene}', {scale:g},"
            x, y = np.median(rows, axis=0)
            return (f"warning: positions x, y read with {given} look like longitudes and latitudes (about {x:.5g}, "
                    f"{y:.5g}), where a degree of longitude is {shrink:.2g} of a degree of latitude (at latitude "
                    f"{lat:.3g}), which no one scale gives: name the columns lon, lat (--columns lon=x,lat=y, or "
                    "lat=x,lon=y where x holds the latitudes) and drop --scale")
    return None


def past_horizon(uv: np.ndarray) -> int:
    """How many of the (..., 2) positions `from_metres` gave have no pixel (past the homography's horizon)."""
    return int(np.isnan(uv[..., 0]).sum())


def _project(xy: np.ndarray, H: np.ndarray) -> np.ndarray:
    """(..., 2) points through a 3x3 homography (homogeneous coordinates, then divided by w)."""
    p = xy @ H[:, :2].T + H[:, 2]  # (..., 3)
    with np.errstate(divide="ignore", invalid="ignore"):  # a point on the horizon: inf, refused by the caller
        return p[..., :2] / p[..., 2:3]


def coarse_positions(float32_positions: list, units: dict | None) -> str | None:
    """The first table whose positions came as float32 or float16 (its name, largest value and type, per
    table, or None) spaced over a centimetre where they lie, in metres (float32's UTM metres: half a metre;
    millimetres of a 200 m scene: fine)."""
    per_unit = _metres_per_unit(units)
    for given in float32_positions:
        if given:
            shown, v, kind = given
            spacing = float(np.spacing(np.dtype(kind).type(v))) * per_unit
            if spacing > 0.01:
                return f"{shown} holds positions as {kind}, which near {v:.6g} resolve only {spacing:.3g} m"
    return None


COARSE_WRITTEN = 0.05  # metres: positions written more coarsely than this are warned of (TrajNet++: 0.01 m)
ROUNDED_TURN = 10  # grids: a turn (second difference) of rounded walkers' positions, at most; a jump's is larger


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


def coarsely_written(uv: np.ndarray, xy: np.ndarray, same: np.ndarray, files: pd.Series) -> str | None:
    """The first file (`files`: each row's, a categorical) whose positions `uv` were written to so few
    decimals that they resolve over `COARSE_WRITTEN` metres where they lie (GPS degrees to 5 decimals: a
    metre; UTM metres as whole numbers), or None. The metres per input unit are measured between consecutive
    rows of a track (`same`: rows i and i + 1 are one track's), a scale's (each file's own, where scenes have
    theirs), a homography's or degrees', for each axis on its own (a degree of latitude is longer than one of
    longitude, and each column may be written to its own decimals), judged by their root mean square; the coarser
    axis is said. Rounding shows in
    a file's own tracks' turns: positions a script wrote on straight lines lie on a grid of decimals without
    being rounded, and are not warned of (under a tenth of their turns on that axis between half the grid and
    `ROUNDED_TURN` grids)."""
    step, metres = np.diff(uv, axis=0), np.diff(xy, axis=0)  # (N - 1, 2) each
    moved = np.linalg.norm(step, axis=1)
    ok = same & np.isfinite(moved) & np.isfinite(metres).all(1) & (moved > 0)
    if not ok.any():
        return None
    code = files.cat.codes.to_numpy()
    mover = code[:-1][ok]
    inner = same[1:] & same[:-1]  # rows i .. i + 2 of one track
    turns, turned = np.abs(np.diff(uv, n=2, axis=0))[inner], code[1:-1][inner]  # (M, 2) second differences
    step, metres = step[ok], metres[ok]  # the moves measured
    rows_of, moves_of, turns_of = (rows_by_code(c, len(files.cat.categories)) for c in (code, mover, turned))
    for c, name in enumerate(files.cat.categories):
        own = moves_of(c) if len(moves_of(c)) else slice(None)
        per_axis = _metres_per_axis(step[own], metres[own])  # (2,)
        rows = uv[rows_of(c)]
        resolves = []  # (metres, decimals) of each axis whose turns show its grid
        for axis in (0, 1):
            d = decimals_written(rows[:, axis])
            spread = turns[turns_of(c), axis]
            grid = 10.0 ** -d if d is not None else 0.0
            shows = (spread > 0.5 * grid) & (spread <= ROUNDED_TURN * grid)  # (a jump's turn shows no grid)
            if d is not None and np.count_nonzero(shows) >= 0.1 * max(len(spread), 1):
                resolves.append((grid * per_axis[axis], d))
        # Judged by the two axes' root mean square: a tilted camera's whole pixels of 3 and 6 cm (4.7) are fine,
        # as SDD's whole pixels of 4 cm are.
        if resolves and np.sqrt(sum(r * r for r, _ in resolves) / 2) > COARSE_WRITTEN:
            most, d = max(resolves)
            what = f"{d} decimal{'s' if d != 1 else ''}" if d else "whole numbers"
            shown = "the table" if name == "dataframe" else name
            return (f"{shown} holds positions written as {what}, which resolve only {most:.3g} m",
                    "write them with more decimals")
    return None


def _metres_per_axis(step: np.ndarray, metres: np.ndarray) -> np.ndarray:
    """Metres per input unit along each axis (2,), from moves `step` (M, 2) as written and the same `metres`
    (M, 2): the lengths of the rows of the linear map that fits them best (degrees: about R cos(lat) and R; a
    homography's where the moves lie). Moves along one axis alone tell the other nothing: then both take the
    median of metres over units moved, move by move."""
    fit, _, rank, _ = np.linalg.lstsq(step, metres, rcond=None)  # metres ~ step @ fit
    if rank == 2 and np.isfinite(fit).all():
        return np.linalg.norm(fit, axis=1)
    return np.full(2, float(np.median(np.linalg.norm(metres, axis=1) / np.linalg.norm(step, axis=1))))
