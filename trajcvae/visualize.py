"""Pictures as files, and what they show: `visualize` (one agent, a grid, a crowd frame or an animation),
`plot_training`, and the figures `train` leaves in its run folder. Each writes atomically and returns the
path written. Drawing itself is in `plots` (pure functions); this module chooses what to draw.

Futures come from a model (`ModelFutures`, sampled on demand) or from a table written by `trajcvae predict`
(`TableFutures`, only the windows it holds). `SceneTracks` finds windows at any (scene, frame), causally: a
window at frame F is built from frames up to F only, as `predict` does for an agent's latest frame. Grid
candidates are handled as keys (scene, agent, t0) and only the windows actually drawn are built, so
ranking thousands of windows of a predictions table stays cheap. Every unknown scene, agent or frame is a
`TrajCVAEError` naming the valid range.
"""
from __future__ import annotations

import csv
import os
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

import matplotlib
import numpy as np
import pandas as pd

from . import checkpoint
from .atomic import atomic_path
from .calibrate import ScenePast, too_little_past, unfitted
from .config import (DataConfig, _whole, check_flags, check_max_gap, check_named, check_noise, check_output,
                     check_sampling, check_log, check_seed, check_time, load_config, read_paths, resolve_device)
from .errors import (OWN_GAP_AND_NOISE, DataError, NoWindowsError, TrajCVAEError, first_line, keyword_names,
                     names_its_data, not_found_hint, plural, shown, warn)
from .metrics import known_min_ade_fde
from .plots import (CURVE_COLUMNS, DPI, SceneView, animate_scene, best_row, image_figsize, plot_curves,
                    plot_scene, plot_windows)
from .checks import bridging_gap, cut_warning, gap_without_rate, plausibility, sampling_interval, time_steps
from .predict import OUTPUT_COLUMNS, TrajCVAE, check_fits, cut_windows, sample_pieces, window_names
from .resample import EPS, bridges, resample_rows
from .table import column_map, seconds_per_unit
from .tracks import read_tracks
from .units import from_metres, scene_units, to_metres
from .values import agent_ids
from .windows import (Windows, build_windows, concat_windows, history_reach, in_view_for, no_windows_error,
                      window_key)

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
DENSITY_STEPS = ("all", "final")
MAX_GRID = 60  # windows in a --grid: 20 rows of 3 panels
FRAMES = 40  # frames of an --animate GIF
MODEL_K = 20  # futures drawn per window from a model when -k is not given (a table's are all drawn)


def parse_size(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """'1200x900' (or the pair (1200, 900)) -> (1200, 900) pixels (at 100 dpi for SVG/PDF)."""
    if text is None:
        return None
    try:
        pair = text if isinstance(text, (tuple, list)) else text.lower().split("x")
        if len(pair) != 2 or any(isinstance(v, (bool, float)) for v in pair):
            raise ValueError(text)
        w, h = (int(v) for v in pair)
    except (AttributeError, TypeError, ValueError):
        raise TrajCVAEError(f"--size '{text}': expected WIDTHxHEIGHT in pixels, e.g. 1200x900") from None
    if not (50 <= w <= 8000 and 50 <= h <= 8000):
        raise TrajCVAEError(f"--size '{text}': width and height must be 50..8000 pixels")
    return w, h


def _image_format(out: Path, option: str = "--out") -> str:
    check_named(Path(out), option, tuple(FORMATS))
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise TrajCVAEError(f"{option} {out}: unsupported image format '{out.suffix}' (use .png, .svg or .pdf)")
    return fmt


def save_figure(fig, out: str | Path, size: tuple[int, int] | None = None) -> Path:
    """Write `fig` to `out` (format from the extension; `size` in pixels)."""
    out = Path(out)
    fmt = _image_format(out)
    if size is not None:
        fig.set_size_inches(size[0] / DPI, size[1] / DPI)
    # No date (an SVG's Date, a PDF's CreationDate) and a fixed salt for an SVG's ids (random by default): the
    # same picture, the same bytes.
    with atomic_path(out) as tmp, matplotlib.rc_context({"svg.hashsalt": "trajcvae"}):
        # No bbox_inches="tight": the image is exactly the requested size (layout="constrained" fits it).
        fig.savefig(tmp, format=fmt, dpi=DPI, metadata={"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt))
    return out


def _label(scene, agent, t0) -> str:
    return f"{scene} · agent {agent} · t0 {_time(t0)}"


def window_titles(w: Windows) -> list[str]:
    """Each window's title in a picture: its scene, agent and t0."""
    return [_label(*r) for r in zip(w.scene, w.agent_id, w.t0)]


def _time(value) -> str:
    """A frame or time as it reads in the data: 1700000013.2, not 1.7e+09 (one beyond any clock, 1e+300, in
    short)."""
    if abs(float(value)) >= 1e19:
        return f"{float(value):g}"
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- visualize ----------------------------------------------------------------------------------
@names_its_data
@keyword_names(OWN_GAP_AND_NOISE)
def visualize(model: str | Path | TrajCVAE, data: Iterable[str | Path], out: str | Path | None = None, *,
              scene: str | None = None, agent: str | None = None, t0: float | None = None, k: int | None = None,
              seed: int | None = None, density: str | bool | None = None, grid: int | None = None,
              worst: bool = False, best: bool = False, scene_frame: float | None = None,
              animate: str | Path | None = None, frames: int | None = None, size: str | None = None,
              device: str = "cpu", fps: float | None = None, scale: float | str | Path | dict | None = None,
              homography: str | Path | None = None, classes: Iterable[str] | None = None, kset: str = "none",
              draws: int = 1000, calibrate: str = "none", log: Callable[[str], None] | None = None,
              max_gap: float | None = None, background: str | Path | None = None,
              columns: str | dict | None = None, futures: str = "mean", noise: float | str | None = None) -> Path:
    """Draw predicted futures over the tracks of `data` and write the picture to `out` (default fig.png; an
    `animate` GIF to that path instead); returns its path.

    model: a checkpoint / built-in name or a loaded `TrajCVAE` (futures are sampled), or a predictions table
    (.csv/.parquet from `trajcvae predict`; its futures are drawn). One of four pictures: one agent's window
    (default), a `grid` of windows (`worst`/`best` by minADE, random with `seed`, else spread over the data), every
    agent seen at `scene_frame` (`scene_view`), or an `animate`d GIF of the scene (of `frames` frames, default 40).
    `k`: futures per window (default 20); of a predictions table, its first k samples (default all; all of a
    K-set's). `density` ("all" or "final"; True is "all") shades a KDE of the predicted positions of all steps or of
    the final step. `fps`, `scale`,
    `homography`, `classes`, `columns`: the input's rate, units, agents and column names, as for `predict`
    (frame ids of unknown rate
    under a table predicted at a rate: see `_at_table_step`); pictures are in metres. `kset`, `draws`: a K-set
    mode, as for `predict`, whose futures are drawn wider the more weight they carry (as are those of a
    predictions table with a `weight` column). `calibrate`: "scene" fits sampled draws to the scene's past, as
    for `predict` (a predictions table is drawn as it was written), and `futures` ("mean" or "full") the kind of
    futures sampled, as for `predict`; `log` gets a warning line when the tracks'
    speeds are not the model's (`TrajCVAE.check_speeds`; a table's: no walker's), when some drawn windows had
    too little of their scene's past to be fitted and when some were read in part; without `log`, each comes as
    a `TrajCVAEWarning`. `max_gap`, `noise`: see `TrajCVAE.load` (the tracks are drawn
    as recorded). `background`: an image
    (a video frame) under a `scene_frame` picture or every frame of an `animate` GIF, or a folder of a video's
    frames named by frame id (`FrameImages`: each moment over its own), drawn in the input's pixels (tracks
    given with `homography` or `scale`; pixel (0, 0) the image's top-left one) instead of metres."""
    check_sampling(MODEL_K if k is None else k, 0 if seed is None else seed, kset, draws, calibrate, futures)
    check_seed(seed)
    check_noise(noise)
    check_log(log)
    if scene is not None and (not isinstance(scene, (str, int, np.integer)) or isinstance(scene, bool)):
        raise TrajCVAEError(f"--scene must be a scene's name (got {type(scene).__name__})")
    scene = None if scene is None else str(scene)  # (a camera's number names its scene as text, as a file's)
    if animate is not None and out is not None:
        raise TrajCVAEError(f"--out {out}: an --animate GIF is written to {animate} alone; give --out or --animate, "
                            "not both")
    out = Path("fig.png") if out is None and animate is None else out
    check_output(animate if animate is not None else out, "--animate" if animate is not None else "--out",
                 inputs=read_paths(model, data, homography, background, scale))
    px = parse_size(size)
    density = "all" if density is True else None if density is False else density  # (as the CLI's --density alone)
    _check_options(out, agent, t0, grid, worst, best, scene_frame, animate, frames, density, background)
    column_map(columns)
    resolve_device(device)  # a table's futures are drawn, not sampled, but cuda on a machine without it is wrong
    image = None if background is None else read_background(background)
    if is_predictions(model):
        name = PREDICTIONS_FRAME if isinstance(model, pd.DataFrame) else model  # after MODEL, in messages
        shown = "the predictions DataFrame" if isinstance(model, pd.DataFrame) else model
        for option, value, default in (("--calibrate", calibrate, "none"), ("--futures", futures, "mean"),
                                       ("--noise", noise or None, None)):  # (--noise 0: read as recorded)
            if value != default:
                raise TrajCVAEError(f"{option} {value}: {shown} holds futures already; give it to `trajcvae "
                                    f"predict {option}` instead, or visualize a model")
        if kset != "none":
            raise TrajCVAEError(f"--kset {kset}: {shown} holds futures already (a K-set's weights too, where "
                                "`predict --kset` wrote them); visualize a model for a new K-set")
        table = read_predictions(model)
        df = read_tracks(data, fps=fps, scale=scale, homography=homography, classes=classes, columns=columns)
        units = df.attrs.get("units")
        degrees = "lonlat" in (units or {})
        if table.attrs["lonlat"] != degrees:
            kind = {True: "degrees", False: "x, y"}
            raise TrajCVAEError(f"MODEL {name}: its futures are in {kind[table.attrs['lonlat']]} but the tracks' "
                                f"positions are in {kind[degrees]}: give the tracks the futures were predicted from")
        if table.attrs["seconds"] and df.attrs.get("time_base") != "seconds":  # t0 of one read as the other's
            raise TrajCVAEError(f"MODEL {name}: its futures are timed in seconds (a time column) but the tracks "
                                "are read by their frame ids: give the tracks the futures were predicted from, "
                                "without --fps if they have a time column")
        if not table.attrs["seconds"] and df.attrs.get("time_base") == "seconds":
            raise TrajCVAEError(f"MODEL {name}: its futures are timed in frame ids but the tracks are read by their "
                                "time column in seconds: give --fps as `predict` had it (a file with both is read "
                                "by its frame ids then), or the tracks the futures were predicted from")
        per_scene = units.get("lonlat", units.get("scales")) if units else None
        if per_scene is not None:  # each scene's origin (or scale) is its tracks': scenes they lack are left out
            table = table[table["scene"].astype(str).isin(per_scene)]
            if not len(table):
                raise TrajCVAEError(f"MODEL {name}: none of its scenes is in the tracks given")
        xy = to_metres(table[["x", "y"]].to_numpy(dtype=np.float64), units, table["scene"].astype(str).to_numpy())
        source = TableFutures(table.assign(x=xy[:, 0], y=xy[:, 1]), str(name), k)
        if seconds_per_unit(df) is None:
            df = _at_table_step(df, table, source.cfg.dt, name)
        spu = seconds_per_unit(df)
        if spu is not None:  # the model's step, as the table's futures are spaced (a model's dt need not be 0.4 s)
            source.cfg.dt = float(np.median((table["frame"] - table["t0"]) / table["step"])) * spu
            if max_gap is None:  # and the gaps it bridged, at the defaults' ratio (0.8 s for 0.4 s)
                source.cfg.max_gap = max(source.cfg.max_gap, 2 * source.cfg.dt)
        if max_gap is not None:  # the tracks drawn beside the futures bridge the gaps predict's did
            source.cfg.max_gap = check_max_gap(max_gap)
            if spu is None:
                raise gap_without_rate(max_gap)
    else:
        k = MODEL_K if k is None else k
        predictor = TrajCVAE.given(model, device, max_gap, noise)
        df = predictor.read(data, fps, scale, homography, classes, columns)
        predictor.check_kset(k, kset)
        past = predictor.scene_past(df, 0 if seed is None else seed, futures=futures) if calibrate == "scene" else None
        source = ModelFutures(predictor, k, 0 if seed is None else seed, kset, draws, past, calibrate, futures)
    if isinstance(source, ModelFutures):
        source.predictor.check_speeds(df, log)
    elif warning := plausibility(df, source.cfg.dt, max_gap=source.cfg.max_gap, time_step=source.cfg.time_step):
        for line in warning.splitlines():  # (a coarse table's warning, then its speeds')
            (log or warn)(line)
    units = df.attrs.get("units")
    if image is not None and (units is None or "lonlat" in units):
        raise TrajCVAEError(f"--background {background}: the tracks are in "
                            f"{'longitudes and latitudes' if units else 'metres'}, not in the image's pixels; give "
                            "tracks in pixels with --homography (or --scale) to draw them over it")
    tracks = SceneTracks(df, source.cfg.time_step, source.cfg.dt, source.cfg.max_gap)
    if isinstance(source, TableFutures):
        _check_table_start(tracks, source)
    path = _picture(tracks, source, out, scene, agent, t0, seed, density, grid, worst, best, scene_frame, animate,
                    frames, px, orient=df.attrs.get("orient", "xy"),
                    image=None if image is None else (image, units, background))
    if isinstance(source, ModelFutures) and source.unfitted:
        cfg = source.cfg
        (log or warn)(too_little_past(len(source.unfitted), len(source.drawn), cfg.obs_len, cfg.pred_len))
    if isinstance(source, ModelFutures) and source.cut:  # drawn whole, read in part
        (log or warn)(cut_warning(len(source.cut), len(source.seen), source.cut_names, noise=source.cfg.noise))
    return path


def _picture(tracks, futures, out, scene, agent, t0, seed, density, grid, worst, best, scene_frame, animate,
             frames, px, orient: str = "xy", image: tuple | None = None) -> Path:
    """`visualize`'s picture, written; returns its path. orient: which way the tracks' metres run (the tracks'
    `attrs["orient"]`: y up, east and north of each scene's first position for longitudes and latitudes, or
    down the image for SDD's and MOT's pixels), as the picture draws them. image: (a `Background` or
    `FrameImages`, the tracks' units, its path), under a scene-frame picture or an animation drawn in those
    units."""

    if animate is not None:
        return _animation(tracks, futures, Path(animate), scene, scene_frame, frames, px, density, image, orient)
    if scene_frame is not None:
        view, title = scene_view(tracks, futures, tracks.scene(scene), float(scene_frame), strict=True)
        if image is not None:
            source, units, path = image
            background = source.at(float(scene_frame), tracks, tracks.scene(scene)) \
                if isinstance(source, FrameImages) else source
            view = in_units(view, scene_units(units, tracks.scene(scene)))
            _outside(view, background, path)
            return save_figure(plot_scene(view, title, density=density, background=background.image,
                                          background_size=background.size), out, px)
        return save_figure(plot_scene(view, title, density=density, orient=orient), out, px)
    if grid is not None:
        w, samples, weights, heading = grid_windows(tracks, futures, scene, grid, seed, worst, best)
        _density_of(samples, density)
        fig = plot_windows(w.obs, samples, w.fut, w.nbr, titles=window_titles(w), density=density, suptitle=heading,
                           weights=weights, orient=orient)
        return save_figure(fig, out, px)
    w = one_window(tracks, futures, scene, agent, t0, seed)
    samples, weights = futures.draw(w)
    _density_of(samples, density)
    fig = plot_windows(w.obs, samples, w.fut, w.nbr, titles=[f"{_label(w.scene[0], w.agent_id[0], w.t0[0])}: "
                       f"{plural(samples.shape[1], 'future')}"], cols=1, size=6.0, density=density, weights=weights,
                       orient=orient)
    return save_figure(fig, out, px)


def _density_of(samples: np.ndarray, density: str | None) -> None:
    """A window's density of final positions (samples (N, K, P, 2)) is a KDE of its K endpoints, none below 3:
    refused rather than drawn without it. (A scene's view pools every agent's.)"""
    if density == "final" and samples.shape[1] < 3:
        raise TrajCVAEError(f"--density-steps final: a window's density of final positions needs 3 futures or more, "
                            f"and it has {samples.shape[1]}: draw more (-k), or shade all steps (--density-steps all)")


def _check_options(out, agent, t0, grid, worst, best, scene_frame, animate, frames, density,
                   background=None) -> None:
    """Contradictory or out-of-range options fail before any work is done."""
    check_flags(worst=worst, best=best)
    for value, option in ((t0, "--t0"), (scene_frame, "--scene-frame")):
        if value is not None:
            check_time(value, option)
    if background is not None and scene_frame is None and animate is None:
        raise TrajCVAEError(f"--background {background}: an image goes under a --scene-frame picture (the "
                            "video's frame at that time) or an --animate GIF: add one of them")
    if frames is not None:
        _whole(frames, "--frames")
    if grid is not None:
        _whole(grid, "--grid")
    if animate is not None:
        if Path(animate).suffix.lower() != ".gif":
            raise TrajCVAEError(f"--animate {animate}: the animation is written as a GIF; name it *.gif")
        if frames is not None and frames < 1:
            raise TrajCVAEError(f"--frames must be >= 1 (got {shown(frames)})")
    else:
        _image_format(Path(out))
        if frames is not None:
            raise TrajCVAEError(f"--frames {frames} counts the frames of an animation: add --animate OUT.gif")
    if density is not None and density not in DENSITY_STEPS:
        raise TrajCVAEError(f"--density-steps '{density}': expected one of {', '.join(DENSITY_STEPS)}")
    if worst and best:
        raise TrajCVAEError("--worst and --best exclude each other")
    if (worst or best) and grid is None:
        raise TrajCVAEError(f"--{'worst' if worst else 'best'} picks windows for a grid: add --grid N")
    if grid is not None and not 1 <= grid <= MAX_GRID:
        raise TrajCVAEError(f"--grid must be 1..{MAX_GRID} windows (got {shown(grid)}); a grid of {MAX_GRID} is "
                            "already about 7000 pixels tall")
    views = [name for name, on in (("--grid", grid is not None), ("--scene-frame", scene_frame is not None and
             animate is None), ("--animate", animate is not None)) if on]
    if len(views) > 1:
        raise TrajCVAEError(f"{' and '.join(views)} exclude each other (one picture per command)")
    if views and (agent is not None or t0 is not None):
        raise TrajCVAEError(f"--agent/--t0 pick one window; they do not combine with {views[0]}")
    written = Path(animate if animate is not None else out)
    if background is not None and Path(background).is_dir() and \
            Path(os.path.realpath(background)) in Path(os.path.realpath(written)).parents:
        raise TrajCVAEError(f"--{'animate' if animate is not None else 'out'} {written}: is in the --background "
                            "folder of the video's frames (it would replace one, or be taken for one); give another "
                            "folder")


@dataclass
class Background:
    """An image under a scene picture: its pixels (uint8, (h, w, 3 or 4), or (h, w) grey), reduced where the
    file is large, and the file's own size (W, H), which the picture's axes span."""

    image: np.ndarray
    size: tuple[int, int]


BACKGROUND_SIDE = 4096  # an image is drawn reduced to at most this many pixels a side (a picture has ~700)
BACKGROUND_PIXELS = 250_000_000  # Pillow's decompression-bomb limit while reading one: refused above twice it


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")
ANIMATION_SIDE = 1400  # pixels a side of each frame drawn under an animation (its GIF is about 700 wide)


class FrameImages:
    """A folder of a video's frames, one image a frame id, named by it (MOTChallenge's img1/000300.jpg, or
    frame_300.png): each read when it is drawn, all of one size."""

    def __init__(self, folder: Path):
        self.folder, self.paths, self.size = folder, {}, None
        for f in sorted(folder.iterdir()):
            m = re.search(r"(\d+)$", f.stem)
            if m and f.suffix.lower() in IMAGE_SUFFIXES and f.is_file() and not f.name.startswith("."):
                if int(m[1]) in self.paths:  # two cameras' frames, or a picture written among them
                    raise TrajCVAEError(f"--background {folder}: two images of frame {int(m[1])} "
                                        f"({self.paths[int(m[1])].name}, {f.name}); give a folder of one video's "
                                        "frames")
                self.paths[int(m[1])] = f
        if not self.paths:
            raise TrajCVAEError(f"--background {folder}: a folder without images named by frame number "
                                f"(000300.jpg); give one image, or the folder of a video's frames")
        self.frames = np.array(sorted(self.paths), dtype=np.float64)

    def at(self, frame: float, tracks: "SceneTracks", scene: str, side: int | None = None) -> Background:
        """The image of the video's latest frame at or before `frame` (within a model step: a moment need not
        be a whole frame id, and the agents drawn at it were observed in the step up to it), reduced to at most
        `side` pixels a side; or a one-line error."""
        if tracks.word == "time":
            raise TrajCVAEError(f"--background {self.folder}: a folder of frames is matched by frame id, and these "
                                "tracks are timed in seconds (a time column, or files of several frame rates); "
                                "give one image, or the tracks of one video by their frame ids")
        i = int(np.searchsorted(self.frames, frame + EPS, side="right")) - 1
        if i < 0 or frame - self.frames[i] >= tracks.step[scene] - EPS:
            raise TrajCVAEError(f"--background {self.folder}: no image of frame {_time(frame)} or of the step before "
                                f"it (it has frames {self.frames[0]:g}..{self.frames[-1]:g}, {len(self.frames)} "
                                "images)")
        image = read_background(self.paths[int(self.frames[i])], side)
        if self.size is not None and image.size != self.size:
            raise TrajCVAEError(f"--background {self.folder}: the image of frame {self.frames[i]:g} is "
                                f"{image.size[0]}x{image.size[1]} pixels, another {self.size[0]}x{self.size[1]}: one "
                                "video's frames are of one size")
        self.size = image.size
        return image


def read_background(path: str | Path, side: int | None = None) -> Background | FrameImages:
    """An image file (PNG, JPEG, TIFF, ...) for `--background`, or a folder of a video's frames
    (`FrameImages`), or a one-line error. 16-bit and float images are stretched from their darkest to their
    brightest value; an image is reduced to at most `side` (default `BACKGROUND_SIDE`) pixels a side."""
    from PIL import Image, UnidentifiedImageError

    if Path(path).is_dir():
        return FrameImages(Path(path))
    side = BACKGROUND_SIDE if side is None else side

    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, BACKGROUND_PIXELS
    try:
        with warnings.catch_warnings(), Image.open(path) as im:
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            size = im.size
            k = _factor(size, side)
            if k > 1 and im.format == "JPEG":
                im.draft(im.mode, (size[0] // k, size[1] // k))  # decoded at a fraction of its size
            if im.mode in ("I", "F") or im.mode.startswith("I;16"):
                v = np.asarray(im, dtype=np.float64)
                lo, hi = (float(np.nanmin(v)), float(np.nanmax(v))) if np.isfinite(v).any() else (0.0, 0.0)
                im = Image.fromarray((np.nan_to_num((v - lo) / (hi - lo or 1.0)) * 255).round().astype(np.uint8))
            if im.mode != "L":  # grey stays grey: a third of the memory
                im = im.convert("RGBA" if "A" in im.getbands() else "RGB")
            return reduced(Background(np.asarray(im), size), side)
    except FileNotFoundError:
        raise TrajCVAEError(f"--background {path}: no such file") from None
    except Image.DecompressionBombError:
        raise TrajCVAEError(f"--background {path}: more than {2 * BACKGROUND_PIXELS / 1e6:.0f} million pixels; give "
                            "a smaller image (the picture is drawn about 700 pixels wide)") from None
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise TrajCVAEError(f"--background {path}: not an image that can be read ({first_line(e)})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _factor(size: tuple[int, ...], side: int) -> int:
    """The whole factor that brings an image of `size` to at most `side` pixels a side."""
    return max(1, -(-max(size) // side))


def reduced(background: Background, side: int) -> Background:
    """`background` with its image reduced to at most `side` pixels a side (its span kept)."""
    from PIL import Image

    k = _factor(background.image.shape[:2], side)
    return background if k == 1 else Background(np.asarray(Image.fromarray(background.image).reduce(k)),
                                                background.size)


def _outside(view: SceneView, background: Background, path) -> None:
    """Warn where most agents drawn over `background` stand outside its pixels: a thumbnail, another camera's
    frame, or tracks in other units than its pixels."""
    if not view.tracks:
        return
    at = np.array([t[-1] for t in view.tracks])  # (N, 2) where each agent stands, in the image's pixels
    w, h = background.size
    out = int(np.count_nonzero(~((at[:, 0] >= 0) & (at[:, 0] <= w) & (at[:, 1] >= 0) & (at[:, 1] <= h))))
    if out > len(at) / 2:
        warn(f"warning: --background {path}: {out} of {len(at)} agents stand outside its {w}x{h} pixels: is it "
             "the video's frame at full size, and are the tracks in its pixels (--homography, --scale)?")


def in_units(view: SceneView, units: dict) -> SceneView:
    """A scene view in metres, in the input's units instead (pixels, through its homography or scale)."""
    back = (lambda a: None if a is None else from_metres(np.asarray(a, np.float64), units))  # noqa: E731
    return SceneView(view.frame, [back(t) for t in view.tracks], back(view.samples), back(view.fut),
                     None if view.others is None else [back(t) for t in view.others], view.weights)


# --- animation ------------------------------------------------------------------------------------
def _animation(tracks: SceneTracks, futures, out: Path, scene, start, asked: int | None, px, density,
               image: tuple | None = None, orient: str = "xy") -> Path:
    """A GIF of the scene of `asked` frames (default FRAMES; fewer where the scene has fewer, said where they
    were asked for): histories growing from the first animation frame, futures redrawn every frame.
    Frames step through the scene's frame ids (unknown rate) or by one model step (a known rate), each
    drawing the agents seen in it (`scene_view`): at a known rate, those observed in the step up to it.
    `image`, `orient`: as `_picture`'s, the image drawn under every frame (a folder: each frame's own image)."""

    s = tracks.scene(scene)
    step = tracks.step[s]
    n_frames = FRAMES if asked is None else asked
    # The step up to each frame, but for the observation a whole step before it (drawn in the frame before).
    within = step * (1 - 2 * EPS) if tracks.max_gap is not None else 0.0
    moments = tracks.moments(s, None if start is None or tracks.max_gap is None else float(start))
    if start is None:  # centred on the busiest moment of the scene
        i0 = int(np.searchsorted(moments, tracks.busiest_frame(s) - EPS * step)) - n_frames // 2
        i0 = max(0, min(i0, len(moments) - n_frames))
    elif tracks.max_gap is not None:
        i0 = 0
        if tracks.seen(s, float(start), within).empty:
            raise tracks.none_seen(s, float(start), step)
    else:
        hit = np.flatnonzero(tracks.at(s, moments, float(start)))
        if not len(hit):
            raise TrajCVAEError(f"--scene-frame {_time(start)}: no agent in scene '{s}' at that frame (the nearest: "
                                f"{tracks.nearest(s, float(start))}; {tracks.frame_range(s)})")
        i0 = int(hit[0])
    sel = moments[i0:i0 + n_frames]
    views = [scene_view(tracks, futures, s, f, since=sel[0] - within, within=within)[0] for f in sel]
    if not any(len(v.samples) for v in views):  # a GIF of tracks alone would pass for one of futures
        span = f"{tracks.when(sel[0])} to {tracks.when(sel[-1])} of scene '{s}'"
        if isinstance(futures, TableFutures):
            raise TrajCVAEError(f"--animate: the predictions file has no futures in the {len(sel)} frames from "
                                f"{span} ({futures.t0_range(s)} in the file); start it there with --scene-frame")
        raise TrajCVAEError(f"--animate: no agent has 2 consecutive positions in the {len(sel)} frames from "
                            f"{span} ({tracks.frame_range(s)}); start it elsewhere with --scene-frame")
    if asked is not None and len(sel) < asked:
        warn(f"warning: --frames {asked}: the animation has {len(sel)}, every frame of scene '{s}' from "
             f"{tracks.when(sel[0])} on")
    titles = [f"scene '{s}' · {tracks.when(f)} ({i + 1}/{len(sel)})" for i, f in enumerate(sel)]
    seconds = futures.cfg.dt if tracks.max_gap is not None else None  # of the scene a frame spans (None: unknown)
    if image is not None:  # in the image's pixels, the axes spanning it
        source, units, path = image
        backgrounds = [source.at(f, tracks, s, ANIMATION_SIDE) for f in sel] if isinstance(source, FrameImages) \
            else [reduced(source, ANIMATION_SIDE)] * len(sel)
        views = [in_units(v, scene_units(units, s)) for v in views]
        _outside(next((v for v in views if v.tracks), views[0]), backgrounds[0], path)
        w, h = backgrounds[0].size
        figsize = image_figsize(7.0, (w, h)) if px is None else (px[0] / DPI, px[1] / DPI)
        fig, draw = animate_scene(views, titles, ((-0.5, w - 0.5), (h - 0.5, -0.5)), size=figsize, density=density,
                                  backgrounds=[(b.image, b.size) for b in backgrounds])
        return _save_animation(fig, draw, len(views), out, seconds)
    pts = [np.concatenate([v.samples.reshape(-1, 2)] + v.tracks + (v.others or []) +
                          ([v.fut.reshape(-1, 2)] if v.fut is not None else [])) for v in views]
    pts = np.concatenate(pts)
    lo, hi = np.nanmin(pts, 0) - 1.0, np.nanmax(pts, 0) + 1.0
    if px is None:  # 7 inches wide, as tall as the scene's extent needs (within reason)
        figsize = (7.0, float(np.clip(7.0 * (hi[1] - lo[1]) / (hi[0] - lo[0]) + 0.6, 3.0, 9.0)))
    else:
        figsize = (px[0] / DPI, px[1] / DPI)
    fig, draw = animate_scene(views, titles, ((lo[0], hi[0]), (lo[1], hi[1])), size=figsize, density=density,
                              orient=orient)
    return _save_animation(fig, draw, len(views), out, seconds)


GIF_FRAME_BYTES = 5.5  # memory a GIF frame holds per pixel until it is written (measured: 84 MB at 4000x4000)


GIF_PACE = 1.6  # times real time a GIF plays at: 4 frames a second of 0.4 s steps, 16 of 0.1 s steps
GIF_FPS = 50  # at most: a GIF's delays are whole hundredths of a second, and browsers slow those under 0.02 s


def _save_animation(fig, draw: Callable[[int], None], frames: int, out: Path, seconds: float | None = None) -> Path:
    """`animate_scene`'s frames, each drawn and grabbed, as a GIF that plays the scene at GIF_PACE times real
    time, each frame spanning `seconds` of it, at most GIF_FPS frames a second (steps under 0.032 s play
    slower; None, frame ids of unknown rate: 4 frames a second). Written only once every frame is grabbed: a
    failure part-way (no memory, Ctrl-C) is its own error, and leaves no file."""
    from matplotlib.animation import PillowWriter

    w, h = fig.get_size_inches() * DPI
    check_fits(int(frames * w * h * GIF_FRAME_BYTES), f"--animate: {frames} frames of {w:.0f}x{h:.0f} pixels, "
               "held until the GIF is written, need", "give a smaller --size or fewer --frames")
    writer = PillowWriter(fps=4 if seconds is None else min(GIF_PACE / seconds, GIF_FPS))
    with atomic_path(out, suffix=".tmp.gif") as tmp, matplotlib.rc_context({"savefig.bbox": None}):
        writer.setup(fig, tmp, dpi=DPI)  # Pillow picks the format from the name
        for i in range(frames):
            draw(i)
            # Constrained layout settles over two passes: one here, one as the frame is grabbed (the frames
            # FuncAnimation.save made, drawn twice, to the byte).
            fig.draw_without_rendering()
            writer.grab_frame()
        writer.finish()
    return out


# --- training curves ------------------------------------------------------------------------------
def plot_training(run: str | Path, out: str | Path | None = None, size: str | None = None) -> Path:
    """Curves of a run folder's metrics.csv (or of that file) -> `out` (default: RUN/curves.png)."""
    run = Path(run)
    path = run if run.is_file() else run / "metrics.csv"
    if not run.exists():
        raise TrajCVAEError(f"{run}: no such run folder or metrics.csv{not_found_hint(run)}")
    if not path.is_file():
        runs = sorted(run.glob("*/*/metrics.csv")) + sorted(run.glob("*/metrics.csv")) if run.is_dir() else []
        below = f"; runs below it: {', '.join(str(r.parent) for r in runs[:2])}{' ...' if len(runs) > 2 else ''}" \
            if runs else ""  # (a benchmark's folder: one run per split and seed)
        raise TrajCVAEError(f"{run}: no metrics.csv here (plot-training takes a run folder written by "
                            f"`trajcvae train`){below}")
    out = Path(out) if out is not None else path.parent / "curves.png"
    check_output(out, inputs=[path])  # (a folder named as such, before its name's format)
    _image_format(out)
    px = parse_size(size)
    try:
        metrics = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        raise TrajCVAEError(f"{path}: not a readable metrics CSV") from None
    missing = [c for c in CURVE_COLUMNS if c not in metrics.columns]
    if missing:
        raise TrajCVAEError(f"{path}: missing column(s) {', '.join(missing)} (not a metrics.csv from `train`)")
    if len(metrics) == 0:
        raise TrajCVAEError(f"{path}: no epochs recorded yet")
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        fields = [len(r) for r in csv.reader(f) if r]
    short = next((i for i, n in enumerate(fields[1:], 1) if n != fields[0]), None)
    if short is not None:  # (`train` writes each row whole: a row cut short by a copy broken off, or by hand)
        raise TrajCVAEError(f"{path}: row {short} has {fields[short]} of its {fields[0]} fields (cut short?): not a "
                            "whole metrics CSV")
    for column in [c for c in (*CURVE_COLUMNS, "beta") if c in metrics.columns]:
        values = pd.to_numeric(metrics[column], errors="coerce")
        bad = values.isna() & metrics[column].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise TrajCVAEError(f"{path}: not a readable metrics CSV (row {i + 1}, column {column}: "
                                f"{metrics[column].iloc[i]!r} is not a number)")
        metrics[column] = values
    if metrics["epoch"].isna().any():
        i = int(np.flatnonzero(metrics["epoch"].isna().to_numpy())[0])
        raise TrajCVAEError(f"{path}: not a readable metrics CSV (row {i + 1}, column epoch: empty)")
    twice = metrics["epoch"].duplicated()
    if twice.any():
        i = int(np.flatnonzero(twice.to_numpy())[0])
        first = int(np.flatnonzero((metrics["epoch"] == metrics["epoch"].iloc[i]).to_numpy())[0])
        raise TrajCVAEError(f"{path}: epoch {metrics['epoch'].iloc[i]:g} is in rows {first + 1} and {i + 1}: not one "
                            "run's metrics (two runs' files joined?)")
    epochs = f"{len(metrics)} epoch{'' if len(metrics) == 1 else 's'}"
    held = _held_epoch(path.parent / "best.pt", metrics)
    if isinstance(held, int):  # the epoch the run's best.pt holds, as it says
        best = metrics[metrics["epoch"] == held].iloc[0]
        said = f", best.pt: val minADE {best.val_min_ade:.3f} m at epoch {held}"
    else:  # none (yet): the epoch it would hold, from the metrics and the run's full KL weight (its config.toml)
        record, beta = path.parent / "config.toml", None
        if record.is_file():
            try:
                beta = load_config(record, run_record=True).train.beta
            except TrajCVAEError:
                pass
        best = best_row(metrics, beta)
        if best is not None:
            said = (f", best val minADE {best.val_min_ade:.3f} m at epoch {int(best.epoch)} "
                    f"({held or 'no best.pt beside it'})")
        else:
            said = f", {held}" if held else ", no best.pt yet (the KL weight is not full)"
    return save_figure(plot_curves(metrics, f"training run {path.parent.name}: {epochs}{said}",
                                   best=None if best is None else int(best.epoch)), out, px)


def _held_epoch(path: Path, metrics: pd.DataFrame) -> int | str | None:
    """The epoch a run's best.pt holds, where it is there, readable and one of the metrics' epochs; else why
    not, where it is there; None where it is not."""
    if not path.exists():
        return None
    try:
        epoch = checkpoint.load(path).get("epoch")
    except TrajCVAEError as e:
        return f"best.pt unreadable: {first_line(e).removeprefix(str(path) + ': ')}"
    if isinstance(epoch, int) and (metrics["epoch"] == epoch).any():
        return int(epoch)
    return "best.pt records no epoch" if epoch is None else f"best.pt holds epoch {epoch}, not one of these metrics'"


def write_run_figures(run_dir: str | Path, val: Windows, k: int = 20, n: int = 6) -> list[Path]:
    """What `train` leaves in its run folder at the end: curves.png and val_predictions.png (n validation
    windows spread over the validation set, predicted by best.pt)."""
    run_dir = Path(run_dir)
    paths = [plot_training(run_dir)]
    if (run_dir / "best.pt").exists() and len(val):
        predictor = TrajCVAE.load(run_dir / "best.pt")
        pick = np.unique(np.linspace(0, len(val) - 1, min(n, len(val))).round().astype(int))
        w = val.subset(pick)
        samples = predictor.sample(w, k=k, seed=0)  # (n, K, P, 2)
        fig = plot_windows(w.obs, samples, w.fut, w.nbr, titles=window_titles(w), orient=w.orient,
                           suptitle=f"validation windows predicted by best.pt ({k} futures each)")
        paths.append(save_figure(fig, run_dir / "val_predictions.png"))
    return paths


# --- sources of windows and futures ---------------------------------------------------------------
PREDICTION_SUFFIXES = (".csv", ".parquet")
PREDICTIONS_FRAME = "(a DataFrame)"  # a predictions table given as `TrajCVAE.predict` returns it, in messages


def _key(scene, agent, t0) -> tuple[str, str, float]:
    """A window's identity across a predictions table and the tracks (ids may be ints in one, str in other)."""
    return str(scene), str(agent), round(float(t0), 6)


def id_range(ids) -> str:
    """'1..148' for numeric ids, else (text ids, "007" among them) the first few as written."""
    ids = list(ids)
    try:
        if any(isinstance(i, str) for i in ids):
            raise TypeError  # ids kept as written: named as written, "001" not 1
        if all(isinstance(i, (int, np.integer)) for i in ids):  # as the integers they are (beyond 2**53 too)
            nums = sorted(int(i) for i in ids)
            return f"{nums[0]}..{nums[-1]}"
        nums = sorted(float(i) for i in ids)
        return f"{_time(nums[0])}..{_time(nums[-1])}"
    except (TypeError, ValueError):
        names = sorted(map(str, ids))
        return ", ".join(names[:8]) + (f", ... ({len(names)} in all)" if len(names) > 8 else "")


def is_predictions(model) -> bool:
    """Whether visualize's `model` is a predictions table (a DataFrame, or a .csv/.parquet file's path)."""
    return isinstance(model, pd.DataFrame) or (isinstance(model, (str, os.PathLike))
                                               and Path(model).suffix.lower() in PREDICTION_SUFFIXES)


def _at_table_step(df: pd.DataFrame, table: pd.DataFrame, dt: float, name) -> pd.DataFrame:
    """Tracks of frame ids of unknown rate under a predictions table, whose futures are (frame - t0) / step
    frame ids apart: as they are where each of the table's scenes moves by that step; where the step is a
    whole number of a scene's own (`predict` read the frame ids at a rate, --fps or its model's), at the rate
    that puts one step of the table `dt` seconds apart, so they are resampled onto it as `predict` did. Any
    other step is an error naming --fps."""
    step = float(np.median((table["frame"] - table["t0"]) / table["step"]))
    scenes = {str(s) for s in pd.unique(table["scene"])}  # (12 M rows as text: seconds)
    own = {s: v for s, v in time_steps(df).step.items() if s in scenes}
    if all(np.isclose(v, step) for v in own.values()):
        return df
    for scene, v in own.items():
        if step / v < 1 - EPS or abs(step / v - round(step / v)) > EPS:
            raise TrajCVAEError(f"MODEL {name}: its futures are {step:g} frame ids apart, but scene '{scene}' of "
                                f"the data moves {v:g} frame ids at a time: give --fps, the frame ids' rate `predict` "
                                "read them at")
    df.attrs.update(time_base="frames", fps=step / dt)
    return df


def read_predictions(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """A predictions table (CSV or Parquet with the columns `predict` writes, or `TrajCVAE.predict`'s
    DataFrame), with `lon, lat` read as `x, y` (`attrs["lonlat"]`: they were) and `time` as `frame`
    (`attrs["seconds"]`: it was); scenes as text and agent ids as `read_tracks` reads them ("007" stays "007",
    "7" is 7)."""
    if isinstance(source, pd.DataFrame):
        df, path = source.copy(), PREDICTIONS_FRAME
        if "scene" in df.columns:
            df["scene"] = df["scene"].astype(str)
    else:
        path = Path(source)
        if not path.is_file():
            raise TrajCVAEError(f"MODEL {path}: no such predictions file")
        try:
            df = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else \
                pd.read_csv(path, dtype={"scene": str, "agent_id": str}, keep_default_na=False,
                            na_values={"x": [""], "y": [""], "lon": [""], "lat": [""]})
        except Exception as e:  # pandas/pyarrow raise many types for an unreadable file
            raise TrajCVAEError(f"MODEL {path}: cannot read it as a predictions table ({type(e).__name__})") from None
    seconds = "time" in df.columns and "frame" not in df.columns
    if seconds:  # futures of an input with a time column
        df = df.rename(columns={"time": "frame"})
    lonlat = {"lon", "lat"} <= set(df.columns) and not {"x", "y"} & set(df.columns)
    if lonlat:  # futures of an input in degrees
        df = df.rename(columns={"lon": "x", "lat": "y"})
    missing = [c for c in OUTPUT_COLUMNS if c not in df.columns]
    if missing:
        raise TrajCVAEError(f"MODEL {path}: not a predictions file from `trajcvae predict` (missing column(s) "
                            f"{', '.join(missing)})")
    if len(df) == 0:
        raise TrajCVAEError(f"MODEL {path}: the predictions table is empty")
    codes, uniques = pd.factorize(df["agent_id"].astype(str))
    df["agent_id"] = agent_ids(pd.Index(uniques), codes)
    df.attrs.update(lonlat=lonlat, seconds=seconds)
    return df


class ModelFutures:
    """K futures sampled from a model (or its K-set, with weights), for any window."""

    def __init__(self, predictor: TrajCVAE, k: int, seed: int, kset: str = "none", draws: int = 1000,
                 past: ScenePast | None = None, calibrate: str = "none", futures: str = "mean"):
        # `past` fits the draws to it; calibrate="scene" with no past (nothing in the input had finished)
        # draws the model's own, and says so.
        self.calibrate = "scene" if past is not None else calibrate
        check_sampling(k, seed, kset, draws, self.calibrate, futures)
        self.predictor, self.k, self.seed, self.kset, self.draws = predictor, k, seed, kset, draws
        self.future_kind = futures  # mean paths or full draws (`TrajCVAE.sample_kset`), as `OnlinePredictor`'s
        self.past = past  # `TrajCVAE.scene_past` of the input: draws fitted to it (`--calibrate scene`)
        self.cfg: DataConfig = predictor.config.data
        # With `past`: the windows drawn, and those of them whose scene had too little past to be fitted.
        self.drawn: set = set()
        self.unfitted: set = set()
        # Every window drawn, those whose histories the model read in part (`checks.readable`), and a few names.
        self.seen: set = set()
        self.cut: set = set()
        self.cut_names: list[str] = []

    def available(self, w: Windows) -> np.ndarray:
        return np.ones(len(w), bool)

    def draw(self, w: Windows, drawn: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, K, P, 2) futures and (N, K) weights or None; `drawn`: the windows go into the picture (`note`),
        rather than only being scored to pick those that do."""
        if drawn:
            self.note(w)
        return self.predictor.sample_kset(replace(w, fut=None), k=self.k, seed=self.seed, kset=self.kset,
                                          draws=self.draws, past=self.past, futures=self.future_kind)


    def note(self, w: Windows) -> None:
        """Count windows in the picture: those read in part, and those whose scene had too little past."""
        keys = list(zip(w.scene, w.agent_id, w.t0))
        self.seen.update(keys)
        cut = cut_windows(w, self.predictor) & np.array([key not in self.cut for key in keys], bool)
        self.cut.update(key for key, c in zip(keys, cut) if c)
        self.cut_names += window_names(w, cut, 3 - len(self.cut_names))
        if self.calibrate != "none":
            short = unfitted(self.past, w.scene, w.t0)
            self.drawn.update(keys)
            self.unfitted.update(key for key, s in zip(keys, short) if s)


class TableFutures:
    """The futures of a predictions table, for the (scene, agent, t0) windows it holds."""

    def __init__(self, df: pd.DataFrame, name: str = "predictions", k: int | None = None):
        """`k`: only the first k samples of each window (None: all); a K-set (a `weight` column) is kept whole."""
        df = df.sort_values(["scene", "agent_id", "t0", "sample", "step"], kind="stable")
        if "scene_id" in df.columns:  # `predict --primary`: TrajNet++ records of one primary at one t0 each got
            # futures of their own; a window shows the first record's
            first = df.groupby(["scene", "agent_id", "t0"], sort=False, observed=True)["scene_id"].transform("first")
            df = df[df["scene_id"] == first]
        K, P = df["sample"].nunique(), df["step"].nunique()
        steps = np.sort(df["step"].unique())
        if len(df) and not np.array_equal(steps, np.arange(1, P + 1)):  # each future's truth is read at steps 1..P
            shown = ", ".join(f"{v:g}" for v in steps[:4]) + (f", ..., {steps[-1]:g}" if P > 4 else "")
            raise TrajCVAEError(f"MODEL {name}: its steps are {shown}; visualize reads futures of steps 1 to their "
                                "last, as predict writes them (keep every step of a table, or cut it at its end)")
        sizes = df.groupby(["scene", "agent_id", "t0"], sort=False, observed=True).size()
        bad = sizes[sizes != K * P]
        if len(bad):
            (s, a, t), n = bad.index[0], bad.iloc[0]
            raise TrajCVAEError(f"MODEL {name}: window (scene {s}, agent {a}, t0 {t}) has {n} rows; expected "
                                f"{K} samples x {P} steps = {K * P}")
        # Rows sorted by window, sample and step: each window's K futures hold steps 1..P once each.
        steps = df["step"].to_numpy().reshape(len(sizes), K, P)
        samples = df["sample"].to_numpy().reshape(len(sizes), K, P)
        odd = ~((steps == np.arange(1, P + 1)).all((1, 2)) & (samples == samples[:, :, :1]).all((1, 2))
                & (np.diff(samples[:, :, 0], axis=1) > 0).all(1))
        if odd.any():
            s, a, t = sizes.index[int(np.argmax(odd))]
            raise TrajCVAEError(f"MODEL {name}: window (scene {s}, agent {a}, t0 {t}) does not hold steps 1 to {P} "
                                f"once for each of its {K} samples (a step or sample given twice, another missing)")
        self.keys = sizes.index.to_frame(index=False)  # scene, agent_id, t0 in the table's order
        self.keys["scene"] = self.keys["scene"].astype(str)
        self.xy = df[["x", "y"]].to_numpy(dtype=np.float64).reshape(len(sizes), K, P, 2)  # (N, K, P, 2)
        # A K-set's weights (N, K): one per sample, repeated on its P rows.
        self.w = (df["weight"].to_numpy(dtype=np.float64).reshape(len(sizes), K, P)[..., 0]
                  if "weight" in df.columns else None)
        if k is not None and k != K and self.w is not None:
            raise TrajCVAEError(f"-k {k}: {name} holds a K-set of {K} weighted futures per window, drawn as a "
                                f"whole: give -k {K}, or leave -k out")
        if k is not None and k > K:
            raise TrajCVAEError(f"-k {k}: {name} holds {K} futures per window; give -k {K} or fewer, or leave -k out")
        if k is not None and k < K:
            self.xy, K = self.xy[:, :k], k
        self.index = {_key(*r): i for i, r in enumerate(self.keys.itertuples(index=False))}
        self.k, self.name = K, name
        self.cfg = DataConfig(pred_len=P)  # the history shown is the default obs_len; the table has no config

    def t0_range(self, scene: str, agent=None) -> str:
        """Where the table has futures, for error messages: 't0 60..3870' (or 'no futures')."""
        keys = self.keys[self.keys["scene"] == scene]
        if agent is not None:
            keys = keys[keys["agent_id"].astype(str) == str(agent)]
        t = keys["t0"].to_numpy(dtype=float)
        return f"t0 {_time(t.min())}..{_time(t.max())}" if len(t) else "no futures"

    def available(self, w: Windows) -> np.ndarray:
        return np.array([_key(*r) in self.index for r in zip(w.scene, w.agent_id, w.t0)], dtype=bool)

    def lookup(self, scene, agent_id, t0) -> tuple[np.ndarray, np.ndarray | None]:
        """The futures (N, K, P, 2) and weights (N, K, or None) of keys held by the table."""
        rows = [self.index[_key(*r)] for r in zip(scene, agent_id, t0)]
        return self.xy[rows], None if self.w is None else self.w[rows]

    def draw(self, w: Windows) -> tuple[np.ndarray, np.ndarray | None]:  # (N, K, P, 2), weights (N, K) or None
        return self.lookup(w.scene, w.agent_id, w.t0)


class SceneTracks:
    """The track table of DATA, with per-scene lookups and causal windows at any frame."""

    def __init__(self, df: pd.DataFrame, time_step: float | None = None, dt: float = 0.4, max_gap: float = 0.8):
        self.df = df
        spu = seconds_per_unit(df)
        self.step = time_steps(df, time_step).step  # scene -> one model step, in the input's time units
        self.max_gap = None  # frame ids of unknown rate: a track is cut where a step is missing
        if spu is not None:  # resampled onto the model's step (see resample.py): cut at gaps over max_gap
            self.step = {scene: dt / spu for scene in self.step}
            self.max_gap = max_gap / spu
        self.by_scene = {str(s): g for s, g in df.groupby("scene", sort=True, observed=True)}
        self.scenes = list(self.by_scene)
        self._tracks = None  # built when a resampled input's true futures are first asked for
        self.word = "time" if df.attrs.get("time_base") == "seconds" else "frame"  # what the input's times are
        self._ref = pd.DataFrame({"scene": df["scene"].astype(str), "agent_id": df["agent_id"].astype(str),
                                  "frame": df["frame"].round(6), "x": df["x"], "y": df["y"]})

    # --- names and ranges -----------------------------------------------------------------------
    def scene(self, scene: str | None) -> str:
        """The named scene, or the first one when none is named."""
        if scene is None:
            return self.scenes[0]
        if scene not in self.by_scene:
            raise TrajCVAEError(f"--scene '{scene}': no such scene in the data (scenes: {id_range(self.scenes)})")
        return scene

    def agent(self, scene: str | None, agent: str) -> tuple[str, object]:
        """(scene, agent id as stored) for `--agent`, read as a file's id is (`values.agent_ids`: 1.0 is the agent
        1, "007" stays "007"); without `--scene`, the first scene that has the agent."""
        read = str(agent_ids(pd.Index([agent]), np.zeros(1, np.int64))[0])
        for s in [self.scene(scene)] if scene is not None else self.scenes:
            ids = self.by_scene[s]["agent_id"].unique()
            match = [i for i in ids if str(i) == str(agent)] or [i for i in ids if str(i) == read]
            if match:
                return s, match[0]
        s = self.scene(scene)
        ids = id_range(self.by_scene[s]["agent_id"].unique())
        if scene is not None or len(self.scenes) == 1:
            raise TrajCVAEError(f"--agent {agent}: no such agent in scene '{s}' (agents {ids})")
        raise TrajCVAEError(f"--agent {agent}: no such agent in any scene (agents {ids} in scene '{s}'; pick "
                            "another with --scene)")

    def frames(self, scene: str, agent=None) -> np.ndarray:
        g = self.by_scene[scene]
        if agent is not None:
            g = g[g["agent_id"] == agent]
        return np.unique(g["frame"].to_numpy(dtype=float))

    def frame_range(self, scene: str, agent=None) -> str:
        f = self.frames(scene, agent)
        return f"{self.word}s {_time(f[0])}..{_time(f[-1])}, a model step {self.length(self.step[scene])}"

    def when(self, frame: float) -> str:
        """'frame 780', or 'time 12.4 s' for an input with a time column."""
        return f"time {_time(frame)} s" if self.word == "time" else f"frame {_time(frame)}"

    def length(self, span: float) -> str:
        """A span of the input's time: '0.2 s', or '6 frames'."""
        return f"{_time(span)} s" if self.word == "time" else f"{_time(span)} frames"

    def none_seen(self, scene: str, frame: float, within: float) -> TrajCVAEError:
        """The error for a --scene-frame at which no agent was observed in the `within` up to it."""
        return TrajCVAEError(f"--scene-frame {_time(frame)}: no agent in scene '{scene}' was observed in the "
                             f"{self.length(within)} up to {self.when(frame)}; the nearest observations are at "
                             f"{self.nearest(scene, frame)} ({self.frame_range(scene)})")

    def nearest(self, scene: str, frame: float, agent=None) -> str:
        """The observations (of `agent`, or of any) nearest `frame`, for error messages: the last one before
        it and the first one after it, where there are: 'times 4.96 and 5.31 s'."""
        f = self.frames(scene, agent)
        i = int(np.searchsorted(f, frame))
        near = f[max(i - 1, 0):i + 1]
        return f"{self.word}{'s' if len(near) > 1 else ''} {' and '.join(map(_time, near))}" + (
            " s" if self.word == "time" else "")

    def moments(self, scene: str, start: float | None = None) -> np.ndarray:
        """The times an animation of the scene steps through: its distinct frames (frame ids of unknown rate),
        or, at a known rate, one model step apart from `start` (default: its first observation) until the
        step that holds its last observation."""
        f = self.frames(scene)
        if self.max_gap is None:
            return f
        start, step = (f[0] if start is None else start), self.step[scene]
        return start + step * np.arange(max(int(np.ceil((f[-1] - start) / step - EPS)) + 1, 0))

    def busiest_frame(self, scene: str) -> float:
        """The moment with the most agents (the crowd view's default): of frame ids of unknown rate, the frame
        with the most rows; at a known rate, the step of `moments` in which the most agents were observed."""
        g = self.by_scene[scene]
        if self.max_gap is None:
            return float(g.groupby("frame").size().idxmax())
        f = g["frame"].to_numpy(dtype=float)
        moments = self.moments(scene)
        i = np.ceil((f - moments[0]) / self.step[scene] - EPS).astype(np.int64)  # the moment ending each row's step
        per_moment = pd.DataFrame({"i": i, "agent": g["agent_id"].to_numpy()}).drop_duplicates().groupby("i").size()
        return float(moments[per_moment.idxmax()])

    # --- windows --------------------------------------------------------------------------------
    def windows_at(self, cfg: DataConfig, scene: str, frame: float, within: float = 0.0) -> Windows | None:
        """Windows of every agent seen at `frame` (`seen`) with >= 2 consecutive positions up to it, each at
        its latest observation, as `predict` makes it there; None if none. Built from the frames up to `frame`
        only, as far back as such a window reads: nothing later can leak in."""
        step = self.step[scene]
        g = self.by_scene[scene]
        if self.max_gap is None:
            back = max(cfg.obs_len - 1, cfg.memory_horizon + 1 if cfg.memory > 0 else 0) * step  # + a path's step
        else:
            back = history_reach(cfg, step, self.max_gap) + within
        lo = frame - back - EPS * step
        sub = g[(g["frame"] >= lo) & (g["frame"] <= frame + EPS * step)]
        if sub.empty:
            return None
        sub.attrs.update(self.df.attrs)  # the time base and units: a resampled input stays one
        try:
            w = build_windows(sub, replace(cfg, time_step=step), mode="latest")
        except DataError:
            return None
        at = np.flatnonzero((w.t0 <= frame + EPS * step) & (w.t0 >= frame - within - EPS * step))
        return w.subset(at) if len(at) else None

    def truth(self, scene, agent_id, t0, step, pred_len: int) -> np.ndarray:
        """The known future of each window (N, P, 2), given its scene, agent, t0 and step: NaN where a frame
        after t0 is missing. On a resampled input, the agent's track at t0 + 1..P steps, interpolated between
        observations at most max_gap apart, as `evaluate` reads it."""
        t0, step = np.asarray(t0, dtype=float), np.asarray(step, dtype=float)
        if self.max_gap is not None:
            return self._resampled_truth(np.asarray(scene).astype(str), np.asarray(agent_id).astype(str), t0, step,
                                         pred_len)
        frames = np.round(t0[:, None] + step[:, None] * np.arange(1, pred_len + 1), 6)  # (N, P)
        # Ids are compared as text: a table's agent_id may be int where the tracks' is str, or the reverse.
        q = pd.DataFrame({"scene": np.repeat(np.asarray(scene).astype(str), pred_len),
                          "agent_id": np.repeat(np.asarray(agent_id).astype(str), pred_len), "frame": frames.ravel()})
        m = q.merge(self._ref, how="left", on=["scene", "agent_id", "frame"])  # a left merge keeps q's order
        return m[["x", "y"]].to_numpy(dtype=np.float64).reshape(len(t0), pred_len, 2)

    def _resampled_truth(self, scene: np.ndarray, agent: np.ndarray, t0: np.ndarray, step: np.ndarray,
                         pred_len: int) -> np.ndarray:
        if self._tracks is None:  # (scene, agent as text) -> its times and positions, in time order
            self._tracks = {(str(s), str(a)): (g["frame"].to_numpy(dtype=float), g["x"].to_numpy(dtype=float),
                                               g["y"].to_numpy(dtype=float))
                            for (s, a), g in self.df.groupby(["scene", "agent_id"], observed=True, sort=False)}
        fut = np.full((len(t0), pred_len, 2), np.nan)
        for i, key in enumerate(zip(scene, agent)):
            if key not in self._tracks:
                continue
            t, x, y = self._tracks[key]
            rows = (t >= t0[i] - self.max_gap - step[i]) & (t <= t0[i] + pred_len * step[i] + self.max_gap)
            _, j, xs, ys = resample_rows(t[rows], np.zeros(int(rows.sum())), x[rows], y[rows], t0[i], step[i],
                                         self.max_gap)
            ahead = (j >= 1) & (j <= pred_len)
            fut[i, j[ahead] - 1] = np.stack([xs[ahead], ys[ahead]], 1)
        return fut

    def steps_of(self, scenes) -> np.ndarray:
        """Each of `scenes`' model step, in the input's time units (NaN: a scene these tracks lack)."""
        return np.array([self.step.get(str(s), np.nan) for s in scenes])

    def history(self, scene: str, agent, frame: float, since: float) -> np.ndarray:
        """The agent's gap-free run of positions ending at `frame`, from `since` on: (T, 2). Times match to
        within 1e-4 of a step, as `seen` and `at` match them (a moment computed from Unix seconds may differ
        from the time read by an ulp, far more than a fixed 1e-9)."""
        g, tol = self.by_scene[scene], EPS * self.step[scene]
        g = g[(g["agent_id"] == agent) & (g["frame"] <= frame + tol) & (g["frame"] >= since - tol)]
        f = g["frame"].to_numpy(dtype=float)
        xy = g[["x", "y"]].to_numpy(dtype=np.float64)
        d = np.diff(f)
        gaps = np.flatnonzero(~np.isclose(d, self.step[scene]) if self.max_gap is None else d > self.max_gap)
        return xy[gaps[-1] + 1:] if len(gaps) else xy

    def seen(self, scene: str, frame: float, within: float = 0.0) -> pd.DataFrame:
        """The latest row of each agent observed at or before `frame`, at most `within` before it (0: at
        `frame`, as `at` matches it)."""
        g = self.by_scene[scene]
        f, tol = g["frame"].to_numpy(dtype=float), EPS * self.step[scene]
        rows = g[(f <= frame + tol) & (f >= frame - within - tol)]
        return rows.groupby("agent_id", observed=True, sort=False).tail(1)  # rows are by agent and time

    def in_view(self, scene: str, frame: float) -> pd.DataFrame:
        """The latest row of each agent in view at `frame`, at a known rate: observed at or before it, its next
        observation not yet due (`windows.in_view_for`: as a prediction at `frame` keeps its neighbours)."""
        g = self.by_scene[scene]
        step = self.step[scene]
        upto = g[g["frame"].to_numpy(dtype=float) <= frame + EPS * step]
        if upto.empty:
            return upto
        t = upto["frame"].to_numpy(dtype=float)
        span = in_view_for(t, pd.factorize(upto["agent_id"])[0], step, self.max_gap)  # (rows are by agent and time)
        last = np.r_[upto["agent_id"].to_numpy()[1:] != upto["agent_id"].to_numpy()[:-1], True]
        return upto[last & (frame - t <= span + EPS * step)]

    def at(self, scene: str, frames: np.ndarray, frame: float) -> np.ndarray:
        """Which of `frames` are `frame` (to within 1e-4 of a step: times of any magnitude, Unix seconds too,
        match only themselves).  -> bool"""
        return np.abs(np.asarray(frames, dtype=float) - frame) <= EPS * self.step[scene]


# --- which windows a picture shows -----------------------------------------------------------------
@dataclass
class Pool:
    """Candidate windows in data order: keys (scene, agent_id, t0), their true futures (N, P, 2; NaN where
    unknown) and, for a model, the built windows (a table's are built only when picked)."""

    keys: pd.DataFrame
    fut: np.ndarray
    windows: Windows | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def draw(self, futures, idx: np.ndarray, drawn: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Candidates `idx`' futures (n, K, P, 2) and weights (n, K) or None; `drawn`: see `ModelFutures.draw`."""
        if self.windows is not None:
            return futures.draw(self.windows.subset(idx), drawn)
        k = self.keys.iloc[idx]
        return futures.lookup(k["scene"], k["agent_id"], k["t0"])

    def build(self, tracks: SceneTracks, futures, idx: np.ndarray) -> Windows:
        """The windows of candidates `idx`, true futures attached."""
        if self.windows is not None:
            w = self.windows.subset(idx)
        else:
            parts = [_table_window(tracks, futures, *r) for r in self.keys.iloc[idx].itertuples(index=False)]
            w = concat_windows(parts, "latest")  # inputs only; the true futures are attached below
        w.fut = self.fut[idx]
        return w


def pool(tracks: SceneTracks, futures, scene: str | None, agent: str | None) -> Pool:
    """Candidates for the grid or the default window: a model's full windows (true future known; else each
    agent's latest window), or the windows a predictions table holds; limited to --scene / --agent."""
    P = futures.cfg.pred_len
    if isinstance(futures, TableFutures):
        keys = futures.keys
        if agent is not None:
            s, a = tracks.agent(scene, agent)
            keys = keys[(keys["scene"] == s) & (keys["agent_id"].astype(str) == str(a))]
        elif scene is not None:
            keys = keys[keys["scene"] == tracks.scene(scene)]
        if len(keys) == 0:
            raise TrajCVAEError("the predictions file has no futures for the chosen --scene/--agent")
        keys = keys.reset_index(drop=True)
        step = tracks.steps_of(keys["scene"])
        return Pool(keys, tracks.truth(keys["scene"], keys["agent_id"], keys["t0"], step, P))
    df, mine, only = tracks.df, None, None
    if agent is not None:  # the agent's windows among its scene's others: its neighbours and scene memory
        s, a = tracks.agent(scene, agent)
        df = df[df["scene"] == s]
        mine = df[df["agent_id"] == a]
        only = window_key(mine["scene"], mine["agent_id"], mine["frame"])  # (a resampled scene builds no others)
    elif scene is not None:
        df = df[df["scene"] == tracks.scene(scene)]

    def of_agent(w: Windows) -> Windows:
        return w if mine is None else w.subset(np.flatnonzero(w.agent_id.astype(str) == str(a)))

    try:
        w = of_agent(build_windows(df, futures.cfg, mode="windows", only=only))
        if not len(w):
            raise NoWindowsError("no full window of the agent")
    except TrajCVAEError:
        w = of_agent(build_windows(df, futures.cfg, mode="latest"))  # no full window: forecast past the data
        if not len(w) and mine is not None:
            raise TrajCVAEError(f"--agent {agent}: agent {a} in scene '{s}' has no window (it needs a position and "
                                f"one a model step before it); agent {a} has {tracks.frame_range(s, a)}") from None
        if not len(w):
            raise no_windows_error(futures.cfg, "latest", mine) from None
    keys = pd.DataFrame({"scene": w.scene.astype(str), "agent_id": w.agent_id, "t0": w.t0})
    fut = w.fut if w.fut is not None else tracks.truth(w.scene, w.agent_id, w.t0, w.step, P)
    return Pool(keys, fut, w)


FAR_START = 4.0  # a table's futures start this many steps of their agent's motion from it: other tracks'
SHIFTED = 2.0  # and half its windows' futures this many: tracks shifted in time (their own start about 1)
AHEAD = (0.4, 1.6)  # the median start of steady walkers' futures along their pace, in steps, for these tracks
MOVING = 20  # windows it takes to judge a median start (a few are noise: one full draw, one odd walker)
SPAN = 4  # steps before t0 over which a moving agent's pace and heading are read
WALKING = 0.25  # m/s: an agent slower than this over SPAN steps is not judged by its pace (jitter would be)
JUDGED = 5000  # windows of a table judged by `_check_table_start`, spread over it (a big one's all would be slow)


def _check_table_start(tracks: SceneTracks, futures: TableFutures) -> None:
    """A predictions table's futures start about a step from their agent's position at t0 in the tracks they
    were predicted from (1.0-1.2 steps, the median over a table; up to 2 for a window of one full draw), a
    step being the largest of the agent's last observed step, its futures' median step and the table's (all
    in metres), and steady walkers' futures start about one step of their pace ahead of them. Tracks of
    another recording (same names, ids and frames), or these shifted in time, start them elsewhere: refused
    where steady walkers' median start along their pace is outside `AHEAD` or the median window is `SHIFTED`
    steps off (each judged over `MOVING` windows or more), or most are `FAR_START` steps off; a few windows
    `FAR_START` steps off are warned of, since their minADE would be of other tracks. Up to `JUDGED` windows
    are judged."""
    keys = futures.keys
    if len(keys) > JUDGED:
        keys = keys.iloc[np.linspace(0, len(keys) - 1, JUDGED).round().astype(int)]
    scene, agent, t0 = keys["scene"], keys["agent_id"], keys["t0"].to_numpy(dtype=float)
    step = tracks.steps_of(scene)  # NaN: a scene the tracks lack, not judged
    # (N, SPAN + 1, 2): the agent's positions from SPAN steps before t0 to t0 (NaN where it was not seen)
    here = tracks.truth(scene, agent, t0 - (SPAN + 1) * step, step, SPAN + 1)
    xy = futures.lookup(scene, agent, t0)[0]  # (N, K, P, 2)
    with warnings.catch_warnings():  # all-NaN: no position at t0, or every future past a camera's horizon
        warnings.simplefilter("ignore", RuntimeWarning)
        first = xy[:, :, 0] - here[:, None, -1]  # (N, K, 2) where each future starts, from the agent at t0
        start = np.nanmedian(np.hypot(*first.transpose(2, 0, 1)), 1)  # (N,)
        moves = np.nanmedian(np.hypot(*np.diff(xy, axis=2).transpose(3, 0, 1, 2)), (1, 2))  # (N,)
        stepped = here[:, -1] - here[:, -2]  # (N, 2) the agent's last step
        last = np.hypot(*stepped.T)  # (N,)
        ratio = start / np.fmax(np.fmax(moves, last), np.nanmedian(moves))  # (N,) steps away; NaN: not judged
        # How far along its pace (its mean step over SPAN steps: noisy positions blur a single step's heading)
        # a walker's futures start: about one step (0.96-0.98, the median over ETH/UCY's test scenes);
        # tracks shifted a step earlier or later in time give 0 or 2.
        v = (here[:, -1] - here[:, 0]) / SPAN  # (N, 2)
        pace = np.hypot(*v.T)  # (N,)
        ahead = np.nanmedian((first * v[:, None]).sum(-1), 1) / pace ** 2  # (N,)
        # Judged on steady walkers alone: faster than WALKING m/s, their last step as long as their pace
        # (within a quarter) and along it. A crowd standing with jittered positions, braking or setting off
        # at t0 rightly starts its futures elsewhere along its mean pace.
        along = (stepped * v).sum(-1) / pace ** 2  # (N,) the last step along the pace
        moving = np.isfinite(ahead) & (pace > WALKING * futures.cfg.dt) & (np.abs(along - 1) <= 0.25) & \
            (np.abs(last / pace - 1) <= 0.25)
    if moving.sum() >= MOVING and not AHEAD[0] <= np.median(ahead[moving]) <= AHEAD[1]:
        raise TrajCVAEError(f"the futures in MODEL {futures.name} start {np.median(ahead[moving]):.1f} steps of "
                            f"their agent's pace ahead of its position at t0 in DATA (the median over "
                            f"{int(moving.sum())} windows of steady walkers), where futures predicted from these "
                            f"tracks start about one step ahead ({AHEAD[0]:g}-{AHEAD[1]:g}): they were predicted "
                            "from other tracks, or from these shifted in time; give the tracks the predictions were "
                            "made from")
    judged = np.flatnonzero(np.isfinite(ratio))
    if not len(judged):
        return
    r, i = ratio[judged], judged[np.argmax(ratio[judged])]
    off, median, n = int((r > FAR_START).sum()), float(np.median(r)), plural(len(judged), "window")
    example = (f"agent {agent.iloc[i]} in scene '{scene.iloc[i]}' at t0 {_time(t0[i])}: {start[i]:.3g} m away, "
               f"{ratio[i]:.2g} steps")
    if (median > SHIFTED and len(judged) >= MOVING) or 2 * off > len(judged):  # (a few windows' median is noise)
        raise TrajCVAEError(f"the futures in MODEL {futures.name} start a median {median:.2g} steps of their agents' "
                            f"motion from their positions at t0 in DATA, where futures predicted from these tracks "
                            f"start about one ({off} of the {n} judged over {FAR_START:g}; {example}): they were "
                            "predicted from other tracks, or from these shifted in time; give the tracks the "
                            "predictions were made from")
    if off:
        warn(f"warning: the futures of {off} of the {n} judged in MODEL {futures.name} start farther from their "
             f"agent's position at t0 in DATA than {FAR_START:g} steps of its motion ({example}): are these the "
             "tracks the predictions were made from? Those windows' scores are of other tracks")


def _table_window(tracks: SceneTracks, futures: TableFutures, scene, agent, t0) -> Windows:
    if str(scene) not in tracks.by_scene:
        shown = ", ".join(sorted(map(str, tracks.by_scene))[:5])
        raise TrajCVAEError(f"the predictions file has futures in scene '{scene}', which the data do not hold "
                            f"(its scenes: {shown}); give the tracks the predictions were made from")
    w = tracks.windows_at(futures.cfg, str(scene), float(t0))
    hit = [] if w is None else np.flatnonzero(w.agent_id.astype(str) == str(agent))
    if not len(hit):
        raise TrajCVAEError(f"the predictions file has futures for agent {agent} at t0 {_time(t0)} in scene "
                            f"'{scene}', but DATA has no track with 2 consecutive positions there"
                            f"{_sparse(tracks, futures)}")
    return w.subset(hit[:1])


def _sparse(tracks: SceneTracks, futures: TableFutures) -> str:
    """Why DATA holds no track under a table's futures where its samples are farther apart than the gap
    bridged here (': its samples are ...; give --max-gap ...'), else ''."""
    interval = sampling_interval(tracks.df)
    return (f": its samples are {interval:.3g} s apart (median), longer than the {futures.cfg.max_gap:g} s gap "
            f"bridged here; give --max-gap {bridging_gap(interval):g}, or the one `predict` had"
            if interval is not None and not bridges(interval, futures.cfg.max_gap) else "")


def _unscored(tracks: SceneTracks, p: Pool) -> str:
    """Why no window of a table's pool `p` has a known true future: ': its futures lie past the data's end ...'
    where each starts at its agent's last position in the data (forecasts past it), else the rate or gaps the
    futures were predicted at, which these tracks are not read at."""
    last = tracks.df.groupby(["scene", "agent_id"], observed=True)["frame"].max()
    last.index = [(str(s), str(a)) for s, a in last.index]
    end = np.array([last.get((str(s), str(a)), np.nan) for s, a in zip(p.keys["scene"], p.keys["agent_id"])])
    step = tracks.steps_of(p.keys["scene"])
    if (p.keys["t0"].to_numpy(dtype=float) >= end - EPS * step).all():
        return (": its futures lie past the data's end (`predict` without --every-window forecasts from each agent's "
                "latest position); predict with --every-window for futures the data can score")
    return ": its futures' times are not the tracks' as read here; give the --fps and --max-gap `predict` had"


def _known(fut: np.ndarray) -> np.ndarray:
    return np.isfinite(fut).all((1, 2))  # (N,) the whole true future is in the data


def _wanted(p: Pool, futures, fitted: bool) -> np.ndarray:
    """Candidates of `p` whose true future is known and, with `fitted` (draws fitted to the scene's past), whose
    scene had the past to fit their draws by their t0 (the others' draws are the model's own).  -> (n,) indices"""
    keep = _known(p.fut)
    if fitted:
        keep &= ~unfitted(futures.past, p.keys["scene"].to_numpy(), p.keys["t0"].to_numpy(np.float64))
    return np.flatnonzero(keep)


def one_window(tracks: SceneTracks, futures, scene: str | None, agent: str | None, t0: float | None,
               seed: int | None) -> Windows:
    """The window of --agent at --t0; without them the first (or, with --seed, a random) window, preferring
    one whose true future is known and, with draws fitted to the scene's past, one whose scene had that past
    by its t0."""
    fit = isinstance(futures, ModelFutures) and futures.past is not None
    if t0 is None and seed is None and scene is None and agent is None and not isinstance(futures, TableFutures):
        fallback = None  # with `fit`: the first known window, drawn where no scene has a fitted one
        for s in tracks.scenes:  # the whole pool's first such window is its first such scene's: build no more
            try:
                p = pool(tracks, futures, s, None)
            except TrajCVAEError:  # a scene of no window (each agent seen once)
                continue
            wanted = _wanted(p, futures, fit)
            if len(wanted):
                return p.build(tracks, futures, wanted[:1])
            known = _wanted(p, futures, False) if fit and fallback is None else ()
            if len(known):
                fallback = p, known[:1]
        if fallback is not None:
            return fallback[0].build(tracks, futures, fallback[1])
    if t0 is None:
        p = pool(tracks, futures, scene, agent)
        known = _wanted(p, futures, fit)
        known = known if len(known) or not fit else _wanted(p, futures, False)
        choice = known if len(known) else np.arange(len(p))
        i = choice[0] if seed is None else np.random.default_rng(seed).choice(choice)
        return p.build(tracks, futures, np.array([i]))
    s, a = tracks.agent(scene, agent) if agent is not None else (tracks.scene(scene), None)
    w = tracks.windows_at(futures.cfg, s, float(t0))
    if w is not None:
        w = w.subset(np.flatnonzero(futures.available(w)))
    if w is not None and a is not None:
        w = w.subset(np.flatnonzero(w.agent_id.astype(str) == str(a)))
    if w is None or len(w) == 0:
        f = _time(t0)
        table = isinstance(futures, TableFutures)
        who = f"agent {a} in scene '{s}'" if a is not None else f"no agent in scene '{s}'"
        observed = tracks.seen(s, float(t0))
        if a is not None:
            observed = observed[observed["agent_id"].astype(str) == str(a)]
        if table:
            anyone = who.replace("no agent", "any agent")
            what = f"the predictions file has no futures at {tracks.when(t0)} for {anyone}"
        elif observed.empty:  # no observation at t0: the nearest ones
            what = (f"{who} has no observation" if a is not None else f"{who} was observed") + \
                f" at {tracks.when(t0)} (the nearest: {tracks.nearest(s, float(t0), a)})"
        elif a is not None:
            what = (f"{who} has no window ending at {tracks.when(t0)} (it needs a position there and one a model "
                    "step before it)")
        else:
            what = f"{who} has a position at {tracks.when(t0)} and one a model step before it"
        whose = f"agent {a} has" if a is not None else "the scene has"
        have = f"{futures.t0_range(s, a)} in the file" if table else tracks.frame_range(s, a)
        raise TrajCVAEError(f"--t0 {f}: {what}; {whose} {have}")
    w.fut = tracks.truth(w.scene, w.agent_id, w.t0, w.step, futures.cfg.pred_len)
    known = np.flatnonzero(_known(w.fut))
    return w.subset(known[:1] if len(known) else np.arange(1))


def grid_windows(tracks: SceneTracks, futures, scene: str | None, n: int, seed: int | None = None, worst: bool = False,
                 best: bool = False) -> tuple[Windows, np.ndarray, np.ndarray | None, str]:
    """Pick n windows: worst/best by minADE, random with a seed, else evenly spread over the data.
    Returns the windows (true futures attached, NaN where unknown), their samples (n, K, P, 2), a K-set's
    weights (n, K) or None, and a heading."""
    p = pool(tracks, futures, scene, None)
    k = futures.k
    if worst or best:
        known = np.flatnonzero(_known(p.fut))
        if not len(known):
            why = "" if not isinstance(futures, TableFutures) else _sparse(tracks, futures) or _unscored(tracks, p)
            raise TrajCVAEError(f"--{'worst' if worst else 'best'}: no window of the data has a known true future "
                                f"to score{why}")
        ade, order, samples, weights, past = _ranked(p, futures, known, n, worst)
        scored = np.isfinite(ade)
        if not scored.any():
            raise TrajCVAEError(f"--{'worst' if worst else 'best'}: every future of the predictions file lies past "
                                "the camera's horizon (empty x, y): no point to score")
        heading = (f"{len(order)} {'worst' if worst else 'best'} of {scored.sum()} windows by minADE@{k} "
                   f"(mean over all {ade[scored].mean():.2f} m)")
        past = _past_horizon(past, ade)
        return p.build(tracks, futures, known[order]), samples, weights, f"{heading}\n{past}" if past else heading
    if seed is not None:
        pick = np.sort(np.random.default_rng(seed).choice(len(p), size=min(n, len(p)), replace=False))
        heading = f"{len(pick)} random windows of {len(p)} (seed {seed}), {k} futures each"
    else:
        pick = np.unique(np.linspace(0, len(p) - 1, min(n, len(p))).round().astype(int))
        heading = f"{len(pick)} windows spread over {len(p)}, {k} futures each"
    w = p.build(tracks, futures, pick)
    return (w, *futures.draw(w), heading)


def scene_view(tracks: SceneTracks, futures, scene: str, frame: float, since: float | None = None,
               strict: bool = False, within: float | None = None) -> tuple[SceneView, str]:
    """Every agent seen at `frame` with its futures (agents that cannot be predicted in grey), and a title.
    Seen: observed at `frame` (frame ids of unknown rate), or, at a known rate, last observed at most `within`
    before it (default: in view then, its next observation not yet due, as a prediction there keeps its
    neighbours: `SceneTracks.in_view`), drawn at and predicted from that latest observation. Histories start at
    `since` (default: the model's observed window). `strict`: no predicted agent at `frame` is an error (for
    --scene-frame)."""
    step = tracks.step[scene]
    if tracks.max_gap is None:
        within, present = 0.0, tracks.seen(scene, frame)
    elif within is None:
        present = tracks.in_view(scene, frame)
        within = float(frame - present["frame"].min()) if len(present) else step / 2
    else:
        present = tracks.seen(scene, frame, within)
    if strict and present.empty and not within:
        raise TrajCVAEError(f"--scene-frame {_time(frame)}: no agent in scene '{scene}' at {tracks.when(frame)} "
                            f"(the nearest: {tracks.nearest(scene, frame)}; {tracks.frame_range(scene)})")
    if strict and present.empty:
        raise tracks.none_seen(scene, frame, within)
    since = frame - (futures.cfg.obs_len - 1) * step if since is None else since
    w = tracks.windows_at(futures.cfg, scene, frame, within)
    if w is not None:  # (agents last observed in that span but gone since are not in view)
        seen = set(map(str, present["agent_id"]))
        w = w.subset(np.flatnonzero(futures.available(w) & np.isin(w.agent_id.astype(str), list(seen))))
    if strict and (w is None or len(w) == 0):
        table = isinstance(futures, TableFutures)
        have = "the predictions file has no futures" if table else "no agent has 2 consecutive positions"
        where = f"{futures.t0_range(scene)} in the file" if table else tracks.frame_range(scene)
        raise TrajCVAEError(f"--scene-frame {_time(frame)}: {have} at {tracks.when(frame)} in scene '{scene}' "
                            f"({where})")
    P, K = futures.cfg.pred_len, futures.k
    predicted = set() if w is None else {str(a) for a in w.agent_id}
    others = [tracks.history(scene, a, frame, since) for a in present["agent_id"] if str(a) not in predicted]
    if w is None or len(w) == 0:
        return SceneView(frame, [], np.zeros((0, K, P, 2)), None, others), f"scene '{scene}' · {tracks.when(frame)}"
    samples, weights = futures.draw(w)  # (N, K, P, 2), (N, K) or None
    fut = tracks.truth(w.scene, w.agent_id, w.t0, w.step, P)
    view = SceneView(frame, [tracks.history(scene, a, frame, since) for a in w.agent_id], samples, fut, others,
                     weights)
    title = f"scene '{scene}' · {tracks.when(frame)}: {plural(len(w), 'agent')} x {plural(samples.shape[1], 'future')}"
    known = _known(fut)
    ade, fde = known_min_ade_fde(samples[known], fut[known])
    scored = np.isfinite(ade)
    if scored.any():
        title += (f"\nmean minADE {ade[scored].mean():.2f} m, minFDE {fde[scored].mean():.2f} m over {scored.sum()} "
                  "with known futures")
        past = _past_horizon(int(np.isnan(samples[known]).any((1, 2, 3)).sum()), ade)
        title += f"\n{past}" if past else ""
    return view, title


def _ranked(p: Pool, futures, known: np.ndarray, n: int, worst: bool) -> tuple:
    """The minADE of every candidate of `known` (NaN: no point to score); the positions in `known` of the n
    worst (or best), ties in the order of `known`, with their samples (n, K, P, 2) and weights (n, K) or None;
    and how many windows have futures past a camera's horizon. A model's futures are drawn a piece at a time,
    as `evaluate` draws them (the draws of one call), and only the ranked windows' are kept: every window's K
    futures at once would not fit a big input's memory."""
    pieces = [(0, len(known))] if isinstance(futures, TableFutures) else \
        list(sample_pieces(len(known), futures.k, futures.kset, futures.draws, futures.past is not None))
    ade, samples, weights, past = np.full(len(known), np.nan), {}, {}, 0
    for lo, hi in pieces:
        s, w = p.draw(futures, known[lo:hi], drawn=False)  # (n, K, P, 2), (n, K) or None
        ade[lo:hi] = known_min_ade_fde(s, p.fut[known[lo:hi]])[0]
        past += int(np.isnan(s).any((1, 2, 3)).sum())
        samples |= {i: s[i - lo] for i in range(lo, hi)}
        weights |= {} if w is None else {i: w[i - lo] for i in range(lo, hi)}
        # Those ranked so far: the last piece's and the n kept before it, in the order of `known` (ties kept so).
        seen = np.array([i for i in sorted(samples) if np.isfinite(ade[i])], dtype=np.int64)
        keep = seen[np.argsort(-ade[seen] if worst else ade[seen], kind="stable")[:n]].tolist()
        samples, weights = {i: samples[i] for i in keep}, {i: weights[i] for i in keep if i in weights}
    if not keep:  # no point to score
        return ade, np.zeros(0, np.int64), None, None, past
    if p.windows is not None:  # a model's: the windows drawn are named where they need be
        futures.note(p.windows.subset(known[keep]))
    return (ade, np.array(keep), np.stack([samples[i] for i in keep]),
            np.stack([weights[i] for i in keep]) if weights else None, past)


def _past_horizon(past: int, ade: np.ndarray) -> str:
    """How the `past` windows whose futures have points past a camera's horizon (a predictions table leaves
    them empty) were scored, given every window's minADE (NaN: no point to score): '' for none."""
    left = int(np.isnan(ade).sum())
    if not past:
        return ""
    return (f"{past} of {len(ade)} windows have futures past the camera's horizon: scored on the steps all of "
            "a window's futures reach before it" + (f", {left} with none left out" if left else ""))
