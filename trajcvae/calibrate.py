"""Samples -> calibrated samples: plain draws widened or narrowed by how the model has done on this scene.

A model trained on other scenes is seldom calibrated on a new one (docs/results.md): on hotel's test scene
the truth falls in the 50% region of plain draws 85% of the time, on eth's 43%, and no change to the model
or its training fixed both. But each scene says how the model errs there: for a window whose future was
observed by t0, the truth's level (`metrics.hpd_levels` at the endpoint: the share of the model's draws
denser than the truth) is uniform on [0, 1] for an honest model, bunched near 0 where it is too wide, near 1
where it is too narrow. `--calibrate scene` fits the spread of each window's draws to its scene's past:

    the draws      c + s (y - c), every step of every plain draw y, about the most likely future c (z at the
                   prior's mean), for one scale s per window
    past levels    for each window of the scene whose future ended by t0, and each s of SCALES, its truth's
                   level among its draws scaled by s: the level of c + (truth - c) / s among the unscaled
                   draws, as a Gaussian KDE scales with its draws (`metrics.region_levels`)
    the scale      the s of SCALES whose past levels are nearest to uniform (the calibration error over
                   `metrics.CALIBRATION_LEVELS`), once the scene has MIN_PAST finished windows; 1 before

Nothing observed after t0 is read. A scale below 1 pulls the draws toward the most likely future, so it
sharpens a spread of directions (a standing agent's) well and would pull two branches of a fork toward each
other; an honest model gets s = 1 and keeps its draws.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .metrics import CALIBRATION_LEVELS

SCALES = np.exp(np.linspace(np.log(0.4), np.log(2.5), 15))  # spread scales tried, 1 among them
MIN_PAST = 10  # finished windows a scene needs before its draws are rescaled


@dataclass
class ScenePast:
    """Windows whose futures are known (`TrajCVAE.scene_past`): their scene, the time their future ended
    (t0 + P steps, in the input's time base) and their truth's level at the endpoint under each of SCALES."""
    scene: np.ndarray  # (N,)
    done: np.ndarray  # (N,)
    levels: np.ndarray  # (N, len(SCALES))

    def scales(self, scene: np.ndarray, t0: np.ndarray) -> np.ndarray:
        """The scale of each window (its scene, its t0): see the module's docstring.  -> (Q,)"""
        return past_scales(self.scene, self.done, self.levels, np.asarray(scene), np.asarray(t0, np.float64))

    def finished(self, scene: np.ndarray, t0: np.ndarray) -> np.ndarray:
        """Per window (its scene, its t0): how many windows of its scene had finished by t0.  -> (Q,)"""
        scene = np.asarray(scene)
        out = np.zeros(len(scene), np.int64)
        for query, _, seen in _past_by_scene(self.scene, self.done, scene, np.asarray(t0, np.float64)):
            out[query] = seen
        return out


def unfitted(past: ScenePast | None, scene: np.ndarray, t0: np.ndarray) -> np.ndarray:
    """Per window (its scene, its t0): whether its scene had fewer than MIN_PAST finished windows by t0, so
    that its draws stay the model's own (all of them without any past).  -> (Q,) bool"""
    if past is None:
        return np.ones(len(scene), bool)
    return past.finished(scene, t0) < MIN_PAST


def too_little_past(unfitted: int, n: int, obs_len: int, pred_len: int) -> str:
    """The warning of a command whose `unfitted` of `n` windows kept the model's own draws."""
    return (f"warning: --calibrate scene: {unfitted} of {n} windows had fewer than {MIN_PAST} finished windows "
            f"({obs_len} + {pred_len} steps of one agent) in their scene before t0; their draws are the model's own")


def past_scales(scene: np.ndarray, done: np.ndarray, levels: np.ndarray, at_scene: np.ndarray,
                at_time: np.ndarray) -> np.ndarray:
    """For each query (its scene, its time t0), the scale of SCALES under which the levels of that scene's
    windows whose futures ended (`done`) by t0 are nearest to uniform; 1 with fewer than MIN_PAST of them.
    Ties go to the scale nearest 1.  (N,), (N,), (N, G), (Q,), (Q,) -> (Q,)"""
    out = np.ones(len(at_scene))
    ps = np.asarray(CALIBRATION_LEVELS)
    tie = 1e-9 * np.abs(np.log(SCALES))  # the smallest change wins a tie
    for query, order, seen in _past_by_scene(scene, done, at_scene, at_time):
        ok = seen >= MIN_PAST
        if not ok.any():
            continue
        inside = np.cumsum(levels[order][:, :, None] <= ps, axis=0)  # (n, G, L) truths in each region so far
        coverage = inside[seen[ok] - 1] / seen[ok][:, None, None]  # (q, G, L)
        error = np.abs(coverage - ps).mean(-1) + tie  # (q, G)
        out[query[ok]] = SCALES[error.argmin(-1)]
    return out


def _past_by_scene(scene: np.ndarray, done: np.ndarray, at_scene: np.ndarray, at_time: np.ndarray):
    """Per scene of the queries: the queries (indices), that scene's windows in the order their futures
    ended (indices), and how many of them had ended by each query's time."""
    for s in np.unique(at_scene):
        past, query = np.flatnonzero(scene == s), np.flatnonzero(at_scene == s)
        order = past[np.argsort(done[past], kind="stable")]
        yield query, order, np.searchsorted(done[order], at_time[query], side="right")
