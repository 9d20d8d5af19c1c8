"""Samples -> tables: best-of-K errors per scene and overall, beside the two straight-line baselines."""
from __future__ import annotations

import time as clock
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from ._version import made_by
from .calibrate import ScenePast, too_little_past, unfitted
from .config import check_calibration, check_flags, check_log, check_sampling
from .errors import DataError, NoWindowsError, TrajCVAEError, names_its_data, plural, warn
from .metrics import (ade_fde, brier_fde, calibration, constant_velocity, hpd_levels, line_turns, min_ade_fde,
                      top_n_ade_fde, turned_lines)
from .checks import cut_warning, smoothed, unbridged_warning, window_noise
from .predict import (SAMPLE_BLOCK, SAMPLE_ROW_BYTES, TrajCVAE, beside_samples, check_fits, cut_windows, free_memory,
                      over_half, sample_pieces, unwindowed_scene, window_names)
from .table import where
from .windows import Windows

TOTAL = "overall"  # the key of the mean over all windows, beside the scenes' own

FIELDS = {  # column -> what it means (also the table's headings)
    "windows": "windows",
    "min_ade": "minADE@K", "min_fde": "minFDE@K", "brier_fde": "Brier-minFDE@K (K-sets)",
    "ml_ade": "ADE (z=prior mean)", "ml_fde": "FDE (z=prior mean)",
    "cv_ade": "const-vel ADE", "cv_fde": "const-vel FDE",
    "ncv_min_ade": "noisy line minADE@K", "ncv_min_fde": "noisy line minFDE@K",
    # TrajNet++'s scores (evaluate --primary), of the futures as a prediction file writes them: a K-set's
    # heaviest first, plain draws as drawn
    "first_ade": "prediction 0 ADE", "first_fde": "prediction 0 FDE",
    "top3_ade": "top-3 ADE", "top3_fde": "top-3 FDE (of the top-3 ADE's future)",
}


def window_errors(predictor: TrajCVAE, data: pd.DataFrame | Iterable[str | Path] | Windows, k: int = 20,
                  seed: int = 0, kset: str = "none", draws: int = 1000, past: ScenePast | None = None,
                  log: Callable[[str], None] | None = None, trajnet: bool = False,
                  futures: str = "mean") -> pd.DataFrame:
    """One row per evaluation window: the model's and the baselines' errors (world units; the baselines read
    the histories as the model does, smoothed where it is told of noise, `data.noise`).
    `data` may be windows already built in evaluation mode (`predictor.make_windows(..., every_window=True)`).
    With a K-set mode (`kset`, `draws`: see `TrajCVAE.sample_kset`) the model's K futures are its K-set,
    and `brier_fde` scores their weights; with `past` (`TrajCVAE.scene_past`), plain draws are fitted to
    their scene's past (`calibrate.py`); `futures`: plain futures' kind (`TrajCVAE.predict`). `log` gets a
    line when the rest looks like taking a minute or more (timed on the first windows). `trajnet`: also
    TrajNet++'s prediction 0 and top-3 errors (`FIELDS`)."""
    w = data if isinstance(data, Windows) else predictor.make_windows(data, every_window=True)
    dc = predictor.config.data
    P = dc.pred_len
    # A piece of windows at a time (whole blocks of `sample`'s passes: the draws are those of one call, to the
    # last bit), the noisy line's draws taken for all at once (windows x K): only the errors are kept.
    noise = predictor.stats.get("cv_noise", {"heading_std": 0.35, "log_speed_std": 0.4})
    pieces = list(sample_pieces(len(w), k, kset, draws, past is not None))
    piece = max(hi - lo for lo, hi in pieces)
    # Before any is drawn: a piece's futures (as `sample` holds them) and the line's two float64 (windows, K) arrays.
    check_fits(piece * k * P * SAMPLE_ROW_BYTES + 16 * len(w) * k, f"-k {k}: {k} futures for each of {piece:,} "
               f"windows at a time, and the noisy straight line's for all {len(w):,}, need", "use a smaller -k")
    turns = line_turns(len(w), k, noise["heading_std"], noise["log_speed_std"], seed=seed)
    errors: dict[str, list[np.ndarray]] = {}
    timed = log is None
    for lo, hi in pieces:
        part = w.subset(np.arange(lo, hi))
        t = clock.perf_counter()
        samples, weights = predictor.sample_kset(part, k=k, seed=seed, kset=kset, draws=draws, past=past,
                                                 futures=futures)
        got = dict(zip(("min_ade", "min_fde"), min_ade_fde(samples, part.fut)))
        if weights is not None:
            got["brier_fde"] = brier_fde(samples, weights, part.fut)
        if trajnet:  # in the order of a prediction file (a K-set's heaviest first, as drawn)
            got["first_ade"], got["first_fde"] = top_n_ade_fde(samples, part.fut, 1)
            got["top3_ade"], got["top3_fde"] = top_n_ade_fde(samples, part.fut, 3)
        got["ml_ade"], got["ml_fde"] = (e[:, 0] for e in ade_fde(predictor.sample(part, most_likely=True), part.fut))
        sigma = window_noise(part.obs, part.nbr, dc.noise, part.noise)  # (B,) or (B, T)
        seen = smoothed(part.obs, sigma, dc.dt, predictor.top_step) if sigma.any() else part.obs
        got["cv_ade"], got["cv_fde"] = (e[:, 0] for e in ade_fde(constant_velocity(seen, P), part.fut))
        ncv = turned_lines(seen, P, (turns[0][lo:hi], turns[1][lo:hi]))
        got["ncv_min_ade"], got["ncv_min_fde"] = min_ade_fde(ncv, part.fut)
        for key, value in got.items():
            errors.setdefault(key, []).append(value)
        left = (clock.perf_counter() - t) * (len(w) - hi) / max(hi - lo, 1)
        if not timed and left >= 60:
            log(f"evaluate: {k} futures for each of {len(w):,} windows, about {left / 60:.0f} min more")
        timed = True
    columns = {key: np.concatenate(parts) for key, parts in errors.items()}
    return pd.DataFrame({"scene": w.scene, "agent_id": w.agent_id, "t0": w.t0,
                         **{c: columns[c] for c in FIELDS if c in columns}})


def scene_means(errors: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Mean of each error per scene and over all windows ("overall"; a scene of that name is refused)."""
    check_scene_names(errors["scene"])
    cols = [c for c in FIELDS if c != "windows" and c in errors]

    def row(g: pd.DataFrame) -> dict[str, float]:
        return {"windows": int(len(g)), **{c: float(g[c].mean()) for c in cols}}

    table = {str(scene): row(g) for scene, g in errors.groupby("scene", sort=True, observed=True)}
    table[TOTAL] = row(errors)
    return table


BEHIND_K = 10  # futures per window, at least, for the model's best of them to be judged against the noisy line's
BEHIND_WINDOWS = 50  # ... over this many windows at least


def behind_the_line(total: dict[str, float], k: int, units: dict | None = None) -> str | None:
    """The warning for a model whose best of `k` futures (`total`: the mean errors over all windows, `scene_means`)
    does worse than the noisy straight line's best of as many: on tracks like its training's it does better by far
    (zara1's test file: 0.192/0.339 against 0.365/0.667), so the tracks are likely read in the wrong units or at
    the wrong rate (zara1 in feet read as metres: 1.80/3.18 against 1.20/2.19), or unlike any it learned; None
    where it does better, or where too few futures or windows tell. `units`: the tracks' (`read_tracks`); degrees
    take no --scale, but their columns may be swapped (at 70 S: 1.30/2.52 against 0.192/0.339)."""
    if k < BEHIND_K or total["windows"] < BEHIND_WINDOWS:
        return None
    model, line = total["min_ade"] + total["min_fde"], total["ncv_min_ade"] + total["ncv_min_fde"]
    if not model > line:
        return None
    units_and_rate = "that the lon and lat columns hold longitudes and latitudes in degrees, not swapped, and --fps" \
        if "lonlat" in (units or {}) else "--scale or --homography and --fps"
    return (f"warning: the model's best of {k} futures ({total['min_ade']:.3g}/{total['min_fde']:.3g} m, "
            f"minADE/minFDE) does worse than the noisy straight line's ({total['ncv_min_ade']:.3g}/"
            f"{total['ncv_min_fde']:.3g} m), which a model beats by far on tracks like those it was trained on, "
            f"trained long enough: check {units_and_rate} (the units and the rate), or train a model on tracks like "
            "these (or train it longer)")


def check_scene_names(scenes, tracks: pd.DataFrame | None = None) -> None:
    """Refuse a scene named "overall", the key of the mean over all scenes (it would hide that scene);
    `tracks`: the track table `scenes` is the column of, to name the first row of that scene."""
    codes, names = pd.factorize(pd.Series(scenes))
    clash = np.flatnonzero(pd.Index(names).astype(str) == TOTAL)
    if len(clash):
        at = "" if tracks is None else f"{where(tracks, int(np.argmax(codes == clash[0])))}: "
        raise DataError(f"{at}scene '{TOTAL}': evaluate's tables name the mean over all scenes '{TOTAL}'; give "
                        "the scene another name (its `scene` column, or its file's name)")


def calibration_of(predictor: TrajCVAE, w: Windows, draws: int = 200, seed: int = 0,
                   past: ScenePast | None = None, log: Callable[[str], None] | None = None) -> dict:
    """How honest plain sampling is: `draws` futures per window from the whole predictive distribution
    (z ~ p(z|x), y ~ p(y|x,z); with `past`, fitted to the scene's past), and the coverage of the truth by
    their p highest-density regions (see `metrics.hpd_levels`) at the endpoint and over all steps, with the
    calibration errors. `log` gets a line when the rest looks like taking a minute or more (timed on the
    first windows: the density estimate's cost grows with draws squared)."""
    # Whole blocks of `sample`'s noise at a time (so the draws are those of one call), about SAMPLE_BLOCK
    # windows: only the levels are kept, and a file of any size fits in memory.
    levels, timed = [], log is None
    for lo, hi in sample_pieces(len(w), draws, fit=past is not None):
        part = w.subset(np.arange(lo, hi))
        drawn = clock.perf_counter()
        samples = predictor.sample(part, k=draws, seed=seed, full=True, past=past, batch_size=SAMPLE_BLOCK)
        drawn = clock.perf_counter() - drawn
        for a in range(0, len(part), TIMED_WINDOWS):
            t = clock.perf_counter()
            levels.append(hpd_levels(samples[a:a + TIMED_WINDOWS], part.fut[a:a + TIMED_WINDOWS]))  # (n, P)
            if not timed:  # the rest: the draws of each chunk, the levels of each window
                timed, n = True, len(levels[-1])
                left = drawn * (len(w) - len(part)) / len(part) + (clock.perf_counter() - t) / n * (len(w) - n)
                if left >= 60:
                    log(f"calibration: {draws} full draws for each of {len(w):,} windows, about "
                        f"{left / 60:.0f} min (--calibration 0 skips it, a smaller --calibration is faster)")
    levels = np.concatenate(levels)  # (N, P)
    return {"draws": draws, "of": "full draws of p(y|x)" + ("" if past is None else " fitted to the scene's past"),
            "final": calibration(levels[:, -1]), "all_steps": calibration(levels)}


TIMED_WINDOWS = 256  # windows whose levels are estimated at once, the first of them timed


def calibration_fits(draws: int) -> None:
    """Refuses, before any work, --calibration draws whose density estimate for one window (an S x S kernel
    block of float64 and its copies, `metrics.region_levels`) does not fit in memory."""
    free, need = free_memory(), 24 * draws ** 2
    if free is not None and need > free / 2:
        raise TrajCVAEError(f"--calibration {draws}: the density estimate over that many draws for a window needs "
                            f"{over_half(need, free)}; use a smaller --calibration (default 200)")


@names_its_data
def evaluate(predictor: TrajCVAE, data: pd.DataFrame | Iterable[str | Path], k: int = 20,
             seed: int = 0, kset: str = "none", draws: int = 1000, calibration_draws: int = 200,
             calibrate: str = "none", fps: float | None = None, scale: float | str | Path | dict | None = None,
             homography: str | Path | None = None, classes: Iterable[str] | None = None,
             log: Callable[[str], None] | None = None, columns: str | dict | None = None,
             primary: bool = False, futures: str = "mean") -> dict:
    """minADE/minFDE@K per scene and overall (with a K-set mode, of its K-set, and its Brier-minFDE), the
    most-likely prediction, both baselines and, with `calibration_draws` > 0, the calibration of plain
    sampling (`calibration_of`); calibrate="scene": of plain draws fitted to each window's scene's past
    (`calibrate.py`), with `unfitted`, how many windows had too little of it; `futures`: the kind of plain
    futures scored (`TrajCVAE.predict`; each kind fitted to its own levels; the calibration is always of full
    draws); `seed`: the draws' (`TrajCVAE.sample`). Errors are in metres; `scenes_without_windows` names the
    scenes read that gave none. `fps`, `scale`, `homography`, `classes`, `columns`: the input's rate, units,
    classes and column names (`TrajCVAE.read`). primary: TrajNet++'s protocol: only each scene record's primary
    pedestrian, from its scene's last observed frame (`TrajCVAE.primary_windows`), with `unscored`, the records
    whose primary has no full window there. `cut`: how many windows' histories the model read in part
    (`checks.readable`). The warnings about windows cut, left unfitted or unscored go to `log`, or without one come
    as a `TrajCVAEWarning`."""
    if not isinstance(predictor, TrajCVAE):
        load = f" (TrajCVAE.load({str(predictor)!r}))" if isinstance(predictor, (str, Path)) else ""
        raise TrajCVAEError(f"evaluate takes a loaded model{load}, not a {type(predictor).__name__}")
    k, seed, draws = check_sampling(k, seed, kset, draws, calibrate, futures)
    check_log(log)
    check_calibration(calibration_draws)
    calibration_draws = int(calibration_draws)  # (a numpy integer: results stay what JSON writes)
    calibration_fits(calibration_draws)
    predictor.check_draws_fit(k, kset, draws)  # one window's futures: refused before the data is read here
    check_flags(primary=primary)
    if isinstance(data, Windows) and primary:
        raise TrajCVAEError("primary picks the windows of a TrajNet++ file's scene records: give the data itself, not "
                            "windows")
    if isinstance(data, Windows):
        if data.fut is None:
            raise TrajCVAEError("evaluate scores windows against their true futures: give model.make_windows(data, "
                                "every_window=True), or the data itself")
        if not len(data):
            raise NoWindowsError("evaluate: no windows given (a subset that picked none?)")
        w = data
        check_scene_names(w.scene)
    else:  # the names of all scenes read, those without windows too
        tracks = predictor.read(data, fps, scale, homography, classes, columns)
        check_scene_names(tracks["scene"], tracks)
        w, of = predictor.primary_windows(tracks, full=True) if primary else \
            (predictor.make_windows(tracks, every_window=True), None)
    # A scene's past: every finished window of the input (as predict measures it), not only those scored,
    # its levels among draws of the kind scored; the calibration's full draws need their own (below).
    past = predictor.scene_past(tracks if primary else w, seed, futures=futures) if calibrate == "scene" else None
    dc = predictor.config.data  # the model's step and horizon, which its ADE and FDE are over
    scored = window_errors(predictor, w, k, seed, kset, draws, past, log, trajnet=primary, futures=futures)
    result = {"k": k, "seed": seed, "kset": kset, "draws": draws if kset != "none" else None, "calibrate": calibrate,
              "futures": futures, "dt": dc.dt, "obs_len": dc.obs_len, "pred_len": dc.pred_len,
              "code": made_by(), "scenes": scene_means(scored)}  # (one version spans many commits)
    units = None if isinstance(data, Windows) else tracks.attrs.get("units")
    if (behind := behind_the_line(result["scenes"][TOTAL], k, units)) is not None:
        (log or warn)(behind)
    # Windows whose histories the model reads only in part (`checks.readable`), as predict names them.
    result["cut"] = int((short := cut_windows(w, predictor)).sum())
    if result["cut"]:
        (log or warn)(cut_warning(result["cut"], len(w), window_names(w, short), noise=dc.noise))
    if not isinstance(data, Windows) and (unbridged := unbridged_warning(tracks, dc.max_gap)):
        (log or warn)(unbridged)  # agents none of whose detections make a window, scored nowhere
    # Scenes read that gave no window are in no table: named, rather than left out in silence.
    result["scenes_without_windows"] = [] if isinstance(data, Windows) else \
        sorted(set(map(str, tracks["scene"].unique())) - set(result["scenes"]))
    if primary:  # records whose primary has no full window at its scene's last observed frame: not scored
        result["unscored"] = w.skipped
        ids = tracks.attrs["scene_records"]["scene_id"]
        beside = beside_samples(predictor, tracks, w, of)  # TrajNet++ would score the samples, at another horizon
        if w.skipped:
            first = unwindowed_scene(tracks, of)
            why = ("the model's steps reach past the scene's samples (below)" if beside else
                   "a TrajNet++ test file holds no futures: score its test_private file" if 2 * w.skipped >= len(ids)
                   else "a primary not tracked there, or a gap")  # most records: a test file, given by mistake
            (log or warn)(f"warning: --primary: {w.skipped} of the {len(ids)} scene records' primary pedestrians "
                          f"{'have' if w.skipped != 1 else 'has'} no {dc.obs_len} observed and {dc.pred_len} future "
                          f"samples from the scene's last observed frame (the first: scene {first}), and "
                          f"{'are' if w.skipped != 1 else 'is'} not scored; {why}")
        if beside:
            (log or warn)(f"warning: --primary: {beside}, so each primary is scored over the model's "
                          f"{plural(dc.pred_len, 'step')} ({dc.pred_len * dc.dt:g} s), not over the samples TrajNet++ "
                          "scores")
    if calibrate == "scene":  # windows whose scene had too little past: their draws stay the model's own
        result["unfitted"] = int(unfitted(past, w.scene, w.t0).sum())
        if result["unfitted"]:
            dc = predictor.config.data
            (log or warn)(too_little_past(result["unfitted"], len(w), dc.obs_len, dc.pred_len))
    if calibration_draws > 0:
        if past is not None and past.futures != "full":
            past = predictor.scene_past(tracks if primary else w, seed, futures="full")
        result["calibration"] = calibration_of(predictor, w, calibration_draws, seed, past, log)
    return result
