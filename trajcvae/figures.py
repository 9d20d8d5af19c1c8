"""Pictures as files: `visualize` (one agent, a grid, a crowd frame or an animation), `plot_training`, and
the figures `train` leaves in its run folder. Each writes atomically (temp name, then rename) and returns
the path written. Drawing itself is in `viz` (pure); choosing what to draw is in `views`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .data import read_tracks
from .errors import TrajCVAEError
from .pick import grid_windows, one_window, scene_view
from .predict import TrajCVAE
from .views import ModelFutures, TableFutures, Tracks, is_predictions_path, read_predictions
from .viz import DPI, animate_scene, plot_curves, plot_scene, plot_windows, plt
from .windows import Windows

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
DENSITY_STEPS = ("all", "final")


def parse_size(text: str | None) -> tuple[int, int] | None:
    """'1200x900' -> (1200, 900) pixels (at 100 dpi for SVG/PDF)."""
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise TrajCVAEError(f"--size '{text}': expected WIDTHxHEIGHT in pixels, e.g. 1200x900") from None
    if not (50 <= w <= 8000 and 50 <= h <= 8000):
        raise TrajCVAEError(f"--size '{text}': width and height must be 50..8000 pixels")
    return w, h


def _image_format(out: Path, option: str = "--out") -> str:
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise TrajCVAEError(f"{option} {out}: unsupported image format '{out.suffix}' (use .png, .svg or .pdf)")
    return fmt


def save_figure(fig, out: str | Path, size: tuple[int, int] | None = None) -> Path:
    """Write `fig` to `out` (format from the extension; `size` in pixels), then close it."""
    out = Path(out)
    try:
        fmt = _image_format(out)
        if size is not None:
            fig.set_size_inches(size[0] / DPI, size[1] / DPI)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            # No bbox_inches="tight": the image is exactly the requested size (layout="constrained" fits it).
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata={"Date": None} if fmt in ("svg", "pdf") else None)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        plt.close(fig)
    return out


def _label(scene, agent, t0) -> str:
    return f"{scene} · agent {agent} · t0 {float(t0):g}"


# --- visualize ----------------------------------------------------------------------------------
def visualize(model: str | Path, data: Iterable[str | Path], out: str | Path = "fig.png", *,
              scene: str | None = None, agent: str | None = None, t0: float | None = None, k: int = 20,
              seed: int | None = None, density: str | None = None, grid: int | None = None, worst: bool = False,
              best: bool = False, scene_frame: float | None = None, animate: str | Path | None = None,
              frames: int = 40, size: str | None = None, device: str = "cpu") -> Path:
    """Draw predicted futures over the tracks of `data` and write the picture; returns its path.

    model: a checkpoint / built-in name (futures are sampled), or a predictions table (.csv/.parquet from
    `trajcvae predict`; its futures are drawn). One of four pictures: one agent's window (default), a
    `grid` of windows (`worst`/`best` by minADE, random with `seed`, else spread over the data), every
    agent at `scene_frame`, or an `animate`d GIF of the scene. `density` ("all" or "final") shades a KDE
    of the predicted positions of all steps or of the final step."""
    px = parse_size(size)
    _check_options(out, agent, t0, grid, worst, best, scene_frame, animate, frames, density)
    futures = (TableFutures(read_predictions(model), str(model)) if is_predictions_path(model)
               else ModelFutures(TrajCVAE.load(model, device=device), k, 0 if seed is None else seed))
    tracks = Tracks(read_tracks(data), futures.cfg.time_step)
    if animate is not None:
        return _animation(tracks, futures, Path(animate), scene, scene_frame, frames, px, density)
    if scene_frame is not None:
        view, title = scene_view(tracks, futures, tracks.scene(scene), float(scene_frame), strict=True)
        return save_figure(plot_scene(view, title, density=density), out, px)
    if grid is not None:
        w, samples, heading = grid_windows(tracks, futures, scene, grid, seed, worst, best)
        fig = plot_windows(w.obs, samples, w.fut, w.nbr, titles=[_label(*r) for r in zip(w.scene, w.agent_id, w.t0)],
                           density=density, suptitle=heading)
        return save_figure(fig, out, px)
    w = one_window(tracks, futures, scene, agent, t0, seed)
    samples = futures.samples(w)
    fig = plot_windows(w.obs, samples, w.fut, w.nbr, titles=[f"{_label(w.scene[0], w.agent_id[0], w.t0[0])}: "
                       f"{samples.shape[1]} futures"], cols=1, size=6.0, density=density)
    return save_figure(fig, out, px)


def _check_options(out, agent, t0, grid, worst, best, scene_frame, animate, frames, density) -> None:
    """Contradictory or out-of-range options fail before any work is done."""
    if animate is not None:
        if Path(animate).suffix.lower() != ".gif":
            raise TrajCVAEError(f"--animate {animate}: the animation is written as a GIF; name it *.gif")
        if frames < 1:
            raise TrajCVAEError(f"--frames must be >= 1 (got {frames})")
    else:
        _image_format(Path(out))
    if density is not None and density not in DENSITY_STEPS:
        raise TrajCVAEError(f"--density-steps '{density}': expected one of {', '.join(DENSITY_STEPS)}")
    if worst and best:
        raise TrajCVAEError("--worst and --best exclude each other")
    if (worst or best) and grid is None:
        raise TrajCVAEError(f"--{'worst' if worst else 'best'} picks windows for a grid: add --grid N")
    if grid is not None and grid < 1:
        raise TrajCVAEError(f"--grid must be >= 1 (got {grid})")
    views = [name for name, on in (("--grid", grid is not None), ("--scene-frame", scene_frame is not None and
             animate is None), ("--animate", animate is not None)) if on]
    if len(views) > 1:
        raise TrajCVAEError(f"{' and '.join(views)} exclude each other (one picture per command)")
    if views and (agent is not None or t0 is not None):
        raise TrajCVAEError(f"--agent/--t0 pick one window; they do not combine with {views[0]}")


# --- animation ------------------------------------------------------------------------------------
def _animation(tracks: Tracks, futures, out: Path, scene, start, n_frames: int, px, density) -> Path:
    """A GIF of the scene: histories growing from the first animation frame, futures redrawn every frame."""
    from matplotlib.animation import PillowWriter

    s = tracks.scene(scene)
    all_frames = tracks.frames(s)
    if start is None:  # centred on the busiest moment of the scene
        i0 = int(np.searchsorted(all_frames, tracks.busiest_frame(s))) - n_frames // 2
        i0 = max(0, min(i0, len(all_frames) - n_frames))
    else:
        hit = np.flatnonzero(np.isclose(all_frames, float(start)))
        if not len(hit):
            raise TrajCVAEError(f"--scene-frame {float(start):g}: no agent in scene '{s}' at that frame "
                                f"({tracks.frame_range(s)})")
        i0 = int(hit[0])
    sel = all_frames[i0:i0 + n_frames]
    views = [scene_view(tracks, futures, s, f, since=sel[0])[0] for f in sel]
    titles = [f"scene '{s}' · frame {f:g} ({i + 1}/{len(sel)})" for i, f in enumerate(sel)]
    pts = [np.concatenate([v.samples.reshape(-1, 2)] + v.tracks + (v.others or []) +
                          ([v.fut.reshape(-1, 2)] if v.fut is not None else [])) for v in views]
    pts = np.concatenate(pts)
    lo, hi = np.nanmin(pts, 0) - 1.0, np.nanmax(pts, 0) + 1.0
    if px is None:  # 7 inches wide, as tall as the scene's extent needs (within reason)
        figsize = (7.0, float(np.clip(7.0 * (hi[1] - lo[1]) / (hi[0] - lo[0]) + 0.6, 3.0, 9.0)))
    else:
        figsize = (px[0] / DPI, px[1] / DPI)
    fig, anim = animate_scene(views, titles, ((lo[0], hi[0]), (lo[1], hi[1])), size=figsize, density=density)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp.gif")  # Pillow picks the format from the suffix
    try:
        anim.save(tmp, writer=PillowWriter(fps=4), dpi=DPI)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        plt.close(fig)
    return out


# --- training curves ------------------------------------------------------------------------------
def plot_training(run: str | Path, out: str | Path | None = None, size: str | None = None) -> Path:
    """Curves of a run folder's metrics.csv (or of that file) -> `out` (default: RUN/curves.png)."""
    from .train import METRICS

    run = Path(run)
    path = run if run.is_file() else run / "metrics.csv"
    if not path.is_file():
        raise TrajCVAEError(f"{run}: no metrics.csv here (plot-training takes a run folder written by "
                            "`trajcvae train`)")
    out = Path(out) if out is not None else path.parent / "curves.png"
    _image_format(out)
    px = parse_size(size)
    try:
        metrics = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        raise TrajCVAEError(f"{path}: not a readable metrics CSV") from None
    missing = [c for c in METRICS if c not in metrics.columns]
    if missing:
        raise TrajCVAEError(f"{path}: missing column(s) {', '.join(missing)} (not a metrics.csv from `train`)")
    if len(metrics) == 0:
        raise TrajCVAEError(f"{path}: no epochs recorded yet")
    best = metrics.loc[metrics["val_min_ade"].idxmin()] if metrics["val_min_ade"].notna().any() else None
    title = f"training run {path.parent.name}: {len(metrics)} epochs" + (
        "" if best is None else f", best val minADE {best.val_min_ade:.3f} m at epoch {int(best.epoch)}")
    return save_figure(plot_curves(metrics, title), out, px)


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
        fig = plot_windows(w.obs, samples, w.fut, w.nbr, titles=[_label(*r) for r in zip(w.scene, w.agent_id, w.t0)],
                           suptitle=f"validation windows predicted by best.pt ({k} futures each)")
        paths.append(save_figure(fig, run_dir / "val_predictions.png"))
    return paths
