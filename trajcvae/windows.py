"""Tracks -> windows: one window per (agent, t0), holding only what was observed up to t0.

A window is the agent's last `obs_len` positions ending at its frame t0 (fewer, NaN-padded on the left,
when the track is shorter), its next `pred_len` positions when they are known, and the histories of the
agents near it at t0. Frame ids of unknown rate are cut at gaps: no window spans a missing frame, nothing
is interpolated. Tracks of a known rate (a time column, or frame ids with --fps) are first put on the
model's step by `resample.py`, which bridges short gaps. Nothing observed after t0 enters `obs` or `nbr`.

Building the windows of a large dataset takes longer than a short training run, so `load_windows` keeps
them in a cache (an `.npz`, no pickle) keyed by the files' content and the options that shape windows
(`CACHE_KEYS`, and the scene memory's when it is on): any change to either gives a new key, and a stale
cache is never used.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ._version import __version__, code_digest
from .atomic import atomic_path, remove_stale, remove_stale_of
from .checks import (STEP_FIX, bridging_gap, clock_question, detection_noise, far_apart, off_grid, plausibility,
                     sampling_interval, shorter_than_a_step, speed_band, summarize, time_steps, time_unit_question)
from .config import NOISE_AUTO, DataConfig
from .errors import (DataError, NoWindowsError, TrajCVAEError, gathered_warnings, home_path, in_cli, one_line, warn,
                     warning_text, worded)
from .formats import side_files
from .resample import EPS, FIT_DENSE, STAMP, bridges, line_spread, resample_rows, segment_starts
from .table import PER_SECOND, seconds_per_unit
from .tracks import copies, hash_bytes, list_files, read_tracks

CHUNK = 8192  # windows per piece from `iter_windows` (about 1.7 kB each with 12 neighbours)
CACHE_KEYS = ("obs_len", "pred_len", "time_step", "dt", "max_gap", "fps", "scale", "homography", "classes",
              "columns", "neighbor_radius", "max_neighbors")
MEMORY_KEYS = ("memory", "memory_radius", "memory_horizon")  # in the key only when memory is on
# What a window's arrays mean, whatever file and units they were read from: windows cut with other values are
# another model's (its step, horizon, neighbour slots or memory), and would be read as this one's.
CUT_KEYS = ("dt", "obs_len", "pred_len", "neighbor_radius", "max_neighbors")


@dataclass
class Windows:
    obs: np.ndarray  # (N, T_obs, 2) positions up to t0, NaN before the track starts
    nbr: np.ndarray  # (N, M, T_obs, 2) neighbours' positions up to t0, NaN where unobserved
    fut: np.ndarray | None  # (N, T_pred, 2) true future, None when predicting past the data
    scene: np.ndarray  # (N,) scene names
    agent_id: np.ndarray  # (N,)
    t0: np.ndarray  # (N,) frame id of the last observed position
    step: np.ndarray  # (N,) frame-id step of the window's scene
    skipped: int = 0  # agents with a single position at their latest frame (no velocity to extrapolate)
    # With `memory`: paths other agents walked near the agent's t0 position, wholly before t0 (see `_memory`).
    mem: np.ndarray | None = None  # (N, Mm, P + 2, 2) positions, NaN for an empty slot
    mem_lag: np.ndarray | None = None  # (N, Mm) steps from each path's start to t0, NaN for an empty slot
    # With futures, from resampled tracks: when each future was known, the time of the latest observation
    # its last step reads (after t0 + P steps where resampling bridged a missed detection there). None:
    # t0 + P steps, the time of its last step (on a grid of observations).
    done: np.ndarray | None = None  # (N,)
    # Told a noise, a dense tracker's: what is left on its steps' lines (`resample.line_spread`) of the noise given
    # or, with "auto", measured on its detections (`checks.detection_noise`); NaN where its t0 is no line.
    noise: np.ndarray | None = None  # (N, T_obs) metres
    orient: str = "xy"  # which way the positions run, for pictures: the tracks' `attrs["orient"]` (`read_tracks`)
    cut: dict | None = None  # made by a model (`TrajCVAE.make_windows`): the settings they were cut with (`cut_by`)

    def __len__(self) -> int:
        return len(self.obs)

    def known_at(self) -> np.ndarray:
        """(N,) when each window's future was known, in its t0's units: `done`, or t0 + P steps."""
        return self.done if self.done is not None else self.t0 + self.fut.shape[1] * self.step

    def subset(self, idx: np.ndarray) -> "Windows":
        pick = lambda a: None if a is None else a[idx]  # noqa: E731
        return Windows(self.obs[idx], self.nbr[idx], pick(self.fut), self.scene[idx], self.agent_id[idx],
                       self.t0[idx], self.step[idx], mem=pick(self.mem), mem_lag=pick(self.mem_lag),
                       done=pick(self.done), noise=pick(self.noise), orient=self.orient, cut=self.cut)


def cut_by(cfg: DataConfig) -> dict:
    """The data settings that give a window's arrays their meaning (`CUT_KEYS`, and the memory's when it is on)."""
    keys = CUT_KEYS + (MEMORY_KEYS if cfg.memory > 0 else ("memory",))
    return {key: getattr(cfg, key) for key in keys}


def cut_difference(one: dict, other: dict) -> str:
    """The first setting two different `cut_by`s differ in (one lacks the memory's where its memory is off)."""
    return next(key for key in (*one, *other) if one.get(key) != other.get(key))


def build_windows(df: pd.DataFrame, cfg: DataConfig, mode: str = "windows", since: float | None = None,
                  only: pd.MultiIndex | None = None) -> Windows:
    """Make windows from a track table (see `tracks.read_tracks`).

    mode="windows": every (agent, t0) with `obs_len` observed and `pred_len` future frames, all present.
    mode="latest": one window per agent at its latest frame, for forecasting past the end of the data;
    agents whose latest run has a single position are counted in `skipped`. `since` (latest only): just
    the agents whose latest observation is at or after this time; the others still appear as neighbours
    and in the scene memory. `only` (windows only): the `window_key`s wanted; a resampled scene builds no
    others (each is built as among all), a scene of frame ids builds all.
    """
    parts = list(iter_windows(df, cfg, mode, chunk=None, since=since, only=only))
    w = concat_windows([p for p in parts if len(p)], mode)
    if w is None and since is not None and len(df) and df["frame"].max() < since:
        raise NoWindowsError(f"since {since:g}: no agent was seen at or after it (the tracks end at "
                             f"{df['frame'].max():g})")
    if w is None:
        raise no_windows_error(cfg, mode, df)
    w.skipped = sum(p.skipped for p in parts)
    w.orient = df.attrs.get("orient", "xy")
    return w


def iter_windows(df: pd.DataFrame, cfg: DataConfig, mode: str = "windows",
                 chunk: int | None = CHUNK, since: float | None = None,
                 only: pd.MultiIndex | None = None) -> Iterator[Windows]:
    """The windows of `build_windows`, in the same order, a scene (and at most `chunk` windows) at a time,
    so that big inputs never hold all windows at once. Each piece's `skipped` counts its scene's skipped
    agents (on the scene's first piece); pieces may be empty. Raises nothing when no window comes out."""
    if mode not in ("windows", "latest"):
        raise ValueError(mode)
    if since is not None and mode != "latest":
        raise ValueError("since: latest windows only")
    spu = seconds_per_unit(df)
    steps = time_steps(df, cfg.time_step).step if spu is None else None
    if spu is not None:
        _check_grid(df, cfg, spu)
    for scene, g in _by_scene(df):
        if spu is None:  # frame ids of unknown rate: each scene's step is one model step
            yield from _scene_windows(g, steps[str(scene)], cfg, mode, chunk, since)
        else:
            yield from _resampled_windows(g, cfg.dt / spu, cfg.max_gap / spu, cfg, mode, chunk, since, only)


def _check_grid(df: pd.DataFrame, cfg: DataConfig, spu: float, most: int = 1_000_000, per_row: int = 100) -> None:
    """Refuse, before any work, a resampling that would make far more positions than the input has rows (over
    `per_row` times as many, and over `most`): a step (data.dt) or a bridged gap (--max-gap) out of scale with
    the input's sampling, which would exhaust memory rather than predict."""
    if len(df) == 0:
        return
    t = df["frame"].to_numpy(dtype=np.float64) * spu
    scene = df["scene"].cat.codes.to_numpy() if isinstance(df["scene"].dtype, pd.CategoricalDtype) else \
        pd.factorize(df["scene"])[0]
    agent = df["agent_id"].to_numpy()
    track = np.cumsum(np.append(True, (scene[1:] != scene[:-1]) | (agent[1:] != agent[:-1])))  # rows are sorted
    new = segment_starts(track, t, cfg.max_gap)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(t)) - 1
    points = float(np.sum((t[ends] - t[starts]) / cfg.dt + 1))
    if points > max(most, per_row * len(t)):
        raise DataError(f"resampling {len(t)} rows onto steps of {cfg.dt:g} s (data.dt) across gaps up to "
                        f"{cfg.max_gap:g} s (--max-gap) would make {points:.3g} positions: check both against "
                        "the input's sampling")


def windows_at(df: pd.DataFrame, cfg: DataConfig, at: dict[str, np.ndarray]) -> Windows:
    """The windows of given agents at given times (`at`: arrays `scene`, `agent_id`, `t0`, times in the
    table's; agents matched by their ids' text), each as mode="latest" would give it were the table to end
    there: nothing after its t0 is read. One window per agent and time asked, where it is observed then with a
    velocity; in the table's scene order, then its rows' (agent, then time) or, resampled, the times'."""
    spu = seconds_per_unit(df)
    steps = time_steps(df, cfg.time_step).step if spu is None else None
    wanted = window_key(at["scene"], at["agent_id"], at["t0"])
    parts = []
    for scene, g in _by_scene(df):
        t, agent = g["frame"].to_numpy(np.float64), g["agent_id"].to_numpy()
        hit = window_key(np.full(len(g), str(scene)), agent, t).isin(wanted)
        if not hit.any():
            continue
        if spu is None:
            parts += list(_scene_windows(g, steps[str(scene)], cfg, "at", None, at=hit))
            continue
        x, y = g["x"].to_numpy(np.float64), g["y"].to_numpy(np.float64)
        index = SceneIndex(t, agent, x, y, cfg.dt / spu, cfg.max_gap / spu, cfg, many=True)
        for anchor in np.unique(t[hit]):
            egos = np.flatnonzero(hit & (t == anchor))
            parts.append(_cut_windows(index, str(scene), anchor, agent[egos], egos))
    w = concat_windows([p for p in parts if len(p)], "latest")
    if w is None:
        w = _empty(cfg.obs_len, cfg.pred_len, cfg.memory)
        w.fut = None
    return w


def window_key(scene, agent, t0) -> pd.MultiIndex:
    """(scene, agent id as text, t0 to 6 decimals) for each window (or row): how `windows_at` matches agents at
    times, whatever type their ids were read as."""
    return pd.MultiIndex.from_arrays([pd.Index(np.asarray(scene).astype(str)), pd.Index(np.asarray(agent).astype(str)),
                                      pd.Index(np.round(np.asarray(t0, np.float64), 6))])


def _by_scene(df: pd.DataFrame):
    """`df.groupby("scene")` (sorted, scenes present), without grouping when every row is of one scene (a
    live update's table, or a single file)."""
    scene = df["scene"]
    if isinstance(scene.dtype, pd.CategoricalDtype) and len(scene):
        codes = scene.cat.codes.to_numpy()
        if (codes == codes[0]).all():
            return [(scene.cat.categories[codes[0]], df)]
    return df.groupby("scene", sort=True, observed=True)


def fits(cfg: DataConfig) -> bool:
    """Whether a dense tracker's steps are lines through all its detections up to t0 (`resample.fitted`), not
    the two around each: where the model is told a noise, or "auto" (then measured on the detections, as the
    lines keep a third of it); the smoother is told what is left on each step's line (`Windows.noise`)."""
    return cfg.noise == NOISE_AUTO or float(cfg.noise) > 0


def history_reach(cfg: DataConfig, step: float, max_gap: float) -> float:
    """How far back before its t0 a latest window on the model's grid reads the scene (in the units of
    `step` and `max_gap`): the agent's history, or, with the scene memory, its horizon and a path's step
    before it; plus a gap that resampling bridges."""
    return ((cfg.memory_horizon + 1) if cfg.memory > 0 else cfg.obs_len) * step + max_gap


def _resampled_windows(g: pd.DataFrame, step: float, max_gap: float, cfg: DataConfig, mode: str,
                       chunk: int | None, since: float | None = None,
                       only: pd.MultiIndex | None = None) -> Iterator[Windows]:
    """One scene's windows on the model's grid (`resample.py`; `step`, `max_gap` in the input's time
    units), with t0 and step given back in the input's time units. "latest": each agent's grid is
    anchored at its latest observation, on the scene as it was then (nothing later is read); with
    `since`, only the agents last seen at or after it. "windows": the same at one observation per agent
    and step, with futures (`_anchored_windows`)."""
    t = g["frame"].to_numpy(dtype=np.float64)
    agent = g["agent_id"].to_numpy()
    x, y = g["x"].to_numpy(dtype=np.float64), g["y"].to_numpy(dtype=np.float64)
    scene = str(g["scene"].iloc[0])
    if mode == "windows":
        yield from _anchored_windows(t, agent, x, y, scene, step, max_gap, cfg, chunk, only)
        return
    last = np.flatnonzero(np.append(agent[1:] != agent[:-1], True))  # each agent's latest row
    parts, skipped = [], 0
    index = SceneIndex(t, agent, x, y, step, max_gap, cfg, many=True)
    anchors = np.unique(t[last])
    for anchor in anchors if since is None else anchors[anchors >= since]:
        egos = last[t[last] == anchor]  # the agents last seen at this time
        part = _cut_windows(index, scene, anchor, agent[egos], egos)
        skipped += part.skipped
        if len(part):
            parts.append(part)
    w = concat_windows(parts, "latest") if parts else _empty(cfg.obs_len, cfg.pred_len, cfg.memory)
    order = {a: i for i, a in enumerate(pd.unique(agent))}  # the scene's agent order, as without resampling
    w = w.subset(np.argsort([order[a] for a in w.agent_id], kind="stable"))
    w.skipped = skipped
    yield w


def latest_windows(t: np.ndarray, agent: np.ndarray, x: np.ndarray, y: np.ndarray, scene: str, anchor: float,
                   mine: np.ndarray, step: float, max_gap: float, cfg: DataConfig, after: float = 0.0) -> Windows:
    """The latest windows of the agents `mine`, last seen at time `anchor`, on a grid anchored there, from
    one scene's rows (times `t` in the input's units, `agent`, positions x, y in metres; sorted by agent and
    time; rows after `anchor` are not read). In the order of the rows' agents; t0 and step in the input's
    time units; `skipped` counts the agents of `mine` with no window (seen once, or alone after a long gap:
    no velocity at t0). `OnlinePredictor` calls it on its history, without a track table. `after`: rows up
    to this long after `anchor` count as at it (a t0 computed, not observed: `finished_windows`); an
    observed anchor reads nothing after it, however close."""
    return _cut_windows(SceneIndex(t, agent, x, y, step, max_gap, cfg), scene, anchor, mine, after=after)


def _cut_windows(index: "SceneIndex", scene: str, anchor: float, mine: np.ndarray, egos: np.ndarray | None = None,
                 after: float = 0.0) -> Windows:
    """`latest_windows` on a scene's rows as `SceneIndex` holds them (indexed once for a scene cut at many
    times); `egos`: the rows of `mine` at `anchor`, where the caller has them (else their latest in the cut)."""
    step, max_gap, cfg = index.step, index.max_gap, index.cfg
    rows, cuts = _readable(index, anchor, index.last_rows(anchor, mine, after) if egos is None else egos, after)
    t, agent, x, y = index.t[rows], index.agent[rows], index.x[rows], index.y[rows]
    # Others not seen at t0 are still placed there (along their velocity) while their next observation is not
    # yet due (`in_view_for`): a tracker that is not in step with the agent's clock sees them just before.
    lead = np.minimum(in_view_for(t, agent, step, max_gap), anchor - t + step / 2)  # no grid point after t0
    fit = fits(cfg)
    k, j, xs, ys = resample_rows(t, agent, x, y, anchor, step, max_gap, lead=lead, cut=cuts, fit=fit)
    # Windows at grid index 0 only (chunk None: the scene's one piece); the others were seen earlier.
    w = next(_grid_windows(j - j.min() if len(j) else j, j.astype(np.float64), agent[k], np.stack([xs, ys], 1),
                           scene, 1.0, cfg, "latest", None, since=-0.5))
    keep = np.flatnonzero((np.abs(w.t0) < EPS) & np.isin(w.agent_id, mine))
    part = _in_input_time(w.subset(keep), anchor, step)
    part.skipped = len(mine) - len(keep)
    if fit:  # the noise left on a dense tracker's steps, which the smoother is told
        T = cfg.obs_len
        spread = pd.DataFrame.from_dict(line_spread(t, agent, anchor, step, max_gap, T, cuts), orient="index",
                                        columns=range(T), dtype=np.float64)  # agent -> (T,), where t0 is a line
        if cfg.noise == NOISE_AUTO:  # its detections' noise, measured on them over the history
            sigma = detection_noise(t, agent, x, y, anchor - (T - 1) * step * (1 + STAMP), max_gap, (T - 1) * FIT_DENSE)
            told = np.sqrt(spread.reindex(sigma.index).fillna(1.0)).mul(sigma, axis=0)
        else:
            told = float(cfg.noise) * np.sqrt(spread)
        told = told.reindex(part.agent_id).to_numpy(np.float64)  # (N, T)
        part.noise = told if np.isfinite(told).any() else None
    return part


def _anchored_windows(t: np.ndarray, agent: np.ndarray, x: np.ndarray, y: np.ndarray, scene: str, step: float,
                      max_gap: float, cfg: DataConfig, chunk: int | None,
                      only: pd.MultiIndex | None = None) -> Iterator[Windows]:
    """The training and evaluation windows of one resampled scene (rows sorted by agent and time), each
    anchored at an observation of its agent, as `predict` makes it there (`latest_windows`: the scene as it
    was at t0, so nothing observed later is read), with its future: the agent's track at t0 + 1 .. pred_len
    steps. One t0 per agent and point of a grid anchored at the scene's first observation: its observation
    nearest that point (each observation at the model's rate, however jittered; one in `step` of a faster
    tracker's, on the grid where one is). Ordered by agent, then t0, as on a grid of frame ids; at most
    `chunk` windows a piece; `done`: the time of the observation each last future step reads."""
    T, P = cfg.obs_len, cfg.pred_len
    starts = segment_starts(agent, t, max_gap)
    seg = np.cumsum(starts) - 1
    begin, end = t[starts][seg], t[np.append(starts[1:], True)][seg]  # (n,) each row's segment's first, last time
    at = (t - t.min()) / step
    cell = _grid_points(at, agent)
    group = np.cumsum(np.append(True, (agent[1:] != agent[:-1]) | (cell[1:] != cell[:-1])))
    nearest = np.zeros(len(t), bool)  # each agent's observation nearest each grid point (the later on a tie)
    by = np.lexsort((-t, np.abs(at - cell), group))
    nearest[by[np.append(True, group[by][1:] != group[by][:-1])]] = True
    ok = nearest & (t - (T - 1) * step >= begin - STAMP * step) & (t + P * step <= end + STAMP * step)
    if only is not None:  # the windows asked for (`window_key`s) alone
        ok &= window_key(np.full(len(t), scene), agent, t).isin(only)
    rows = np.flatnonzero(ok)  # by agent, then t0
    if not len(rows):
        yield _empty(T, P, cfg.memory)
        return
    index = SceneIndex(t, agent, x, y, step, max_gap, cfg, many=True)
    size = chunk or len(rows)
    for part in (rows[lo:lo + size] for lo in range(0, len(rows), size)):
        part = part[np.argsort(t[part], kind="stable")]  # one cut of the scene per t0
        cut = np.flatnonzero(t[part][1:] != t[part][:-1]) + 1
        got = []
        for lo, hi in zip(np.append(0, cut), np.append(cut, len(part))):
            t0, egos = t[part[lo]], np.sort(part[lo:hi])
            w = _cut_windows(index, scene, t0, agent[egos], egos)
            own = index.around(egos, max_gap + step, P * step + max_gap + step)  # the egos' rows its futures read
            got.append(_with_futures(w, t[own], agent[own], x[own], y[own], t0, step, max_gap, cfg))
        w = concat_windows(got, "windows")
        place = {a: r for a, r in zip(agent[part][::-1].tolist(), part[::-1].tolist())}  # agent -> its first row
        yield w.subset(np.lexsort((w.t0, [place[a] for a in w.agent_id.tolist()])))


def _grid_points(at: np.ndarray, agent: np.ndarray) -> np.ndarray:
    """Each row's grid point (`at`: its time in steps from the grid's origin; rows by agent and time): the
    nearest one, the ties broken half a step away from the agent's own phase where it has one. An agent
    logged at the model's rate but out of phase with the grid (its observations near halfway between two
    points, where float noise or jitter would tip the rounding either way and give two of them one point)
    keeps a point per observation; an agent of no steady phase (a faster tracker, one at 3 Hz) rounds
    to the nearest point, one observation a point."""
    cell = np.floor(at + 0.5).astype(np.int64)
    whose = np.cumsum(np.append(True, agent[1:] != agent[:-1])) - 1  # (n,) each row's agent, numbered
    n = np.bincount(whose)
    turn = 2 * np.pi * (at - cell)  # its phase against the grid, as an angle
    c, s = np.bincount(whose, np.cos(turn)) / n, np.bincount(whose, np.sin(turn)) / n
    phase = np.where(np.hypot(c, s) > STEADY, np.arctan2(s, c) / (2 * np.pi), 0.0)  # (agents,) in [-0.5, 0.5]
    phase[np.abs(phase) < 1e-6] = 0.0  # (on the grid: as rounded)
    return np.floor(at - phase[whose] + 0.5).astype(np.int64)


STEADY = 0.5  # how alike an agent's phases against the grid must be (the length of their mean as unit vectors)


def _with_futures(w: Windows, t: np.ndarray, agent: np.ndarray, x: np.ndarray, y: np.ndarray, t0: float, step: float,
                  max_gap: float, cfg: DataConfig, until: float = np.inf) -> Windows:
    """Latest windows `w` at `t0` with their futures: each agent's track (rows as `latest_windows` takes
    them) at t0 + 1 .. pred_len steps, as observed up to `until`; `done`: the time of the latest observation
    its last step reads. Only the windows with obs_len observed and pred_len future steps."""
    P = cfg.pred_len
    if not len(w):  # still a table of futures, to join others
        w.fut, w.done = np.zeros((0, P, 2)), np.zeros(0)
        return w
    last = min(until, t0 + P * step + max_gap)  # the observation the last step reads, at the latest
    rows = np.flatnonzero((t >= t0 - max_gap - step) & (t <= last + EPS * step) & np.isin(agent, w.agent_id))
    k, j, xs, ys = resample_rows(t[rows], agent[rows], x[rows], y[rows], t0, step, max_gap)
    ahead = (j >= 1) & (j <= P)
    slot = {a: i for i, a in enumerate(w.agent_id.tolist())}
    i = np.array([slot[a] for a in agent[rows][k[ahead]].tolist()], np.int64)
    fut = np.full((len(w), P, 2), np.nan)
    fut[i, j[ahead].astype(np.int64) - 1] = np.stack([xs[ahead], ys[ahead]], 1)
    # The last step reads the observation at it, or the next one where it falls between two.
    end = j == P
    k_end = k[end] + (np.abs(t[rows][k[end]] - (t0 + P * step)) > STAMP * step)
    done = np.full(len(w), np.nan)
    done[i[end[ahead]]] = t[rows][np.minimum(k_end, len(rows) - 1)]
    w.fut, w.done = fut, done
    full = ~(np.isnan(fut).any((1, 2)) | np.isnan(w.obs).any((1, 2)))
    return w.subset(np.flatnonzero(full))


def finished_windows(t: np.ndarray, agent: np.ndarray, x: np.ndarray, y: np.ndarray, scene: str, anchor: float,
                     mine: np.ndarray, step: float, max_gap: float, cfg: DataConfig,
                     until: float | None = None) -> Windows:
    """The windows of the agents `mine` whose futures end at `anchor`: t0 = anchor - pred_len steps, on a
    grid anchored there, each read from the scene as it was at its t0 (`latest_windows`), with its future as
    observed up to `until` (default `anchor`; later where a missed detection at `anchor` is bridged by one
    at `until`), rows as `latest_windows` takes them; `done`: when it was known (`_with_futures`). Only
    windows with obs_len observed and pred_len future steps, as `build_windows` makes them; what
    `OnlinePredictor` adds to a scene's past for `--calibrate scene`."""
    until = anchor if until is None else until
    P = cfg.pred_len
    t0 = anchor - P * step
    # The agents seen within half a step of t0 (`latest_windows` places them there), by t0.
    near = (t <= t0 + STAMP * step) & (t >= t0 - step / 2) & np.isin(agent, mine)
    if not near.any():
        return _empty(cfg.obs_len, P, cfg.memory)
    return _with_futures(latest_windows(t, agent, x, y, scene, t0, np.unique(agent[near]), step, max_gap, cfg,
                                        after=STAMP * step), t, agent, x, y, t0, step, max_gap, cfg, until)


def in_view_for(t: np.ndarray, agent: np.ndarray, step: float, max_gap: float) -> np.ndarray:
    """How long after each row (times `t`, sorted by agent and time: a scene up to a t0) its agent counts as
    in view without being seen again: until its next observation is due, the shorter of its last two intervals
    later (a 1 Hz logger out of phase with another's clock is seen up to a second before its t0; one bridged
    gap does not make an interval), but at least half a step and at most the gap bridged. Where one clock
    stamps a moment's detections alike, a tracker in step with it sees an agent at t0 or not at all: its
    next observation was due at t0, so an agent not seen then is gone, as on a grid of frame ids. Where each
    detection has a stamp of its own (`stamps_spread`), one due at t0 may come a few ms after it: it stays
    in view past its due time by twice the spread of a moment's stamps, the stamps' tolerance (STAMP steps) at
    least.  -> (n,)"""
    interval = np.full(len(t), np.inf)  # to the row before in the same segment; inf for a segment's first
    same = ~segment_starts(agent, t, max_gap)[1:]
    interval[1:][same] = np.diff(t)[same]
    shorter = interval.copy()
    shorter[1:] = np.minimum(interval[1:], np.where(same, interval[:-1], np.inf))
    # One clock: less two EPS, so an observation due exactly at t0 (on EPS's tolerance of it) makes no grid point
    # there, and one due a millisecond after t0 is still in view.
    # Own stamps: past its due time by twice their spread, as it is reckoned from two of them and t0 is a third.
    spread = stamps_spread(t, step)
    margin = max(STAMP * step, 2 * spread) if spread > 0 else -2 * EPS * step
    return np.clip(np.where(np.isfinite(shorter), shorter + margin, 0.0), step / 2, max_gap)


MOMENT = 1 / 8  # in steps: stamps closer than this to the one before are of one moment (`stamps_spread`)


def stamps_spread(t: np.ndarray, step: float) -> float:
    """How far apart the stamps of one moment's detections lie, where they carry stamps of their own (a
    receiver's on arrival, a logger's per device) rather than one clock's (a tracker's frame, a grid of frame
    ids, stamps truncated alike: 0). Times `t` (any order) are moments where each follows the one before by
    under MOMENT steps; a clock of its own is where more of those steps are not one time (over EPS steps)
    than are; its spread, the 90th percentile of the moments' spans (at most MOMENT steps)."""
    s = np.sort(t)
    gaps = np.diff(s)
    one, close = gaps <= EPS * step, gaps < MOMENT * step
    if int((close & ~one).sum()) <= int(one.sum()):
        return 0.0
    first = np.flatnonzero(np.append(True, ~close))  # each moment's first time
    spans = np.append(s[first[1:] - 1], s[-1]) - s[first]
    return float(min(np.quantile(spans, 0.9), MOMENT * step))


class SceneIndex:
    """One scene's rows (times `t` in the input's units, `agent`, positions x, y in metres; sorted by agent and
    time) for cutting the scene as it was at a time, once or at every t0 of a file (`_cut_windows`): each cut
    reads its egos' and their neighbours' recent rows, found by time, and the rows that may start a scene
    memory path near its egos, found by place (`_readable`), not every row within the memory's reach (400 s:
    on a long busy log, hundreds of thousands at every t0). Each index is made when first needed; `many`: the
    scene is cut at many times (its rows are sorted by time once, not passed over at each)."""

    def __init__(self, t: np.ndarray, agent: np.ndarray, x: np.ndarray, y: np.ndarray, step: float, max_gap: float,
                 cfg: DataConfig, many: bool = False):
        self.t, self.agent, self.x, self.y = t, agent, x, y
        self.step, self.max_gap, self.cfg, self.many = step, max_gap, cfg, many
        self._times = self._slacks = self._places = self._key = None

    def within(self, lo: float, hi: float) -> np.ndarray:
        """The rows at times lo <= t <= hi, in the rows' order."""
        if not self.many:
            return np.flatnonzero((self.t <= hi) & (self.t >= lo))
        if self._times is None:
            order = np.argsort(self.t, kind="stable")
            self._times = order, self.t[order]
        order, times = self._times
        return np.sort(order[np.searchsorted(times, lo):np.searchsorted(times, hi, side="right")])

    def last_rows(self, anchor: float, mine: np.ndarray, after: float = 0.0) -> np.ndarray:
        """The latest row of each agent of `mine` in the scene as it was at `anchor` (`cut`)."""
        rows = self.cut(anchor, after)
        last = rows[np.append(self.agent[rows][1:] != self.agent[rows][:-1], True)]
        return last[np.isin(self.agent[last], mine)]

    def cut(self, anchor: float, after: float = 0.0) -> np.ndarray:
        """The rows of the scene as it was at `anchor` (up to `after` later), within the history's reach
        (`history_reach`), in the rows' order: all a window at `anchor` may read."""
        return self.within(anchor - history_reach(self.cfg, self.step, self.max_gap), anchor + after)

    def around(self, rows: np.ndarray, before: float, after: float) -> np.ndarray:
        """The rows of the same agents as `rows` (sorted) from `before` before to `after` after each (a little
        more, never less), in the rows' order."""
        if not len(rows):
            return rows
        key = self._keys()
        lo = np.searchsorted(key, key[rows] - before * (1 + 1e-6) - 1e-9)
        hi = np.searchsorted(key, key[rows] + after * (1 + 1e-6) + 1e-9, side="right")
        new = np.append(True, lo[1:] > hi[:-1])  # ranges that overlap none before them start a union
        return _spans(lo[new], hi[np.append(new[1:], True)])

    def _keys(self) -> np.ndarray:
        """One increasing key per row: its time within its agent's run, runs apart by more than any query's reach
        (`around`).  -> (n,)"""
        if self._key is None:
            run = np.cumsum(np.append(True, self.agent[1:] != self.agent[:-1]))
            self._key = run * self._span() + (self.t - self.t.min())
        return self._key

    def _span(self) -> float:
        """More than the rows' times span and twice what a query reaches past them, in the input's units."""
        reach = (self.cfg.pred_len + 3) * self.step + 2 * self.max_gap
        return 2 * float(self.t.max() - self.t.min()) + 4 * reach + 1.0

    def near(self, start: float, recent: float, now: float, egos: np.ndarray, off: float = 0.0) -> np.ndarray:
        """The rows at start <= t <= now from which a grid point within `memory_radius` of an ego's position
        (`egos`: rows; its grid point at t0 within `off` of it) of another agent may be made, sorted: within the
        radius plus the row's slack of it (`_index_places`; from `recent` on, where a row may be the last of its
        agent in the cut, its `at_end`)."""
        slack, at_end, size, cells, by_cell, times, big, big_times = self._index_places()
        first, span = self.t.min(), self._span()
        ego = np.stack([self.x[egos], self.y[egos]], 1)  # (E, 2)
        # The rows of the cells next to an ego's (and `off` further), cells as wide as the radius plus the largest
        # slack but a few rows' (`big`, found by time): none farther can be near. Each cell's rows are sorted by time.
        ring = np.arange(-1 - math.ceil(off / size), 2 + math.ceil(off / size))
        around = np.stack(np.meshgrid(ring, ring), -1).reshape(1, -1, 2)
        around = np.floor(ego / size).astype(np.int64)[:, None] + around  # (E, cells, 2)
        keys = np.unique(around[..., 0] * 2_000_003 + around[..., 1])  # (a clash of keys only measures more)
        at = np.minimum(np.searchsorted(cells, keys), max(len(cells) - 1, 0))
        at = at[cells[at] == keys] if len(cells) else at[:0]
        lo = np.searchsorted(times, at * span + (max(start, first) - first) - self.step)  # a step's margin for rounding
        hi = np.searchsorted(times, at * span + (min(now, self.t.max()) - first) + self.step)
        rows = np.concatenate([by_cell[_spans(lo, hi)],
                               big[np.searchsorted(big_times, start):np.searchsorted(big_times, now, side="right")]])
        rows = rows[(self.t[rows] >= start) & (self.t[rows] <= now)]
        reach = self.cfg.memory_radius + off + np.where(self.t[rows] >= recent, at_end[rows], slack[rows])
        return np.sort(rows[self._within_reach(rows, egos, reach, other=True)])

    def close(self, rows: np.ndarray, egos: np.ndarray, reach: float) -> np.ndarray:
        """Of `rows` (sorted), those whose grid point at t0, if they make one (within their `at_end` of them), may
        lie within `reach` of an ego (`egos`: rows; its own row too)."""
        return rows[self._within_reach(rows, egos, reach + self.at_end(rows), other=False)]

    def at_end(self, rows: np.ndarray) -> np.ndarray:
        """How far from each of `rows` its agent's grid point at t0 may lie, were it its last row in the cut
        (`_index_places`).  -> (len(rows),)"""
        return self._slack()[1][rows]

    def _within_reach(self, rows: np.ndarray, egos: np.ndarray, reach: np.ndarray, other: bool) -> np.ndarray:
        """Whether each of `rows` lies within its `reach` of an ego (rows; `other`: of another agent).  -> bool"""
        if len(rows) * len(egos) <= 1 << 18:  # few egos (a t0 of a file's): every pair
            d = np.hypot(self.x[rows, None] - self.x[egos], self.y[rows, None] - self.y[egos])  # (R, E)
            if other:
                d[self.agent[rows, None] == self.agent[egos]] = np.inf
            return d.min(1, initial=np.inf) <= reach * (1 + 2e-6)
        k = min(2 if other else 1, len(egos))
        d, i = cKDTree(np.stack([self.x[egos], self.y[egos]], 1)).query(np.stack([self.x[rows], self.y[rows]], 1), k=k)
        d, i = d.reshape(len(rows), k), i.reshape(len(rows), k)
        if other:  # an agent's own past is not its memory
            own = self.agent[egos][i[:, 0]] == self.agent[rows]
            return np.where(own, d[:, -1] if k == 2 else np.inf, d[:, 0]) <= reach * (1 + 2e-6)
        return d[:, 0] <= reach * (1 + 2e-6)

    def _slack(self) -> tuple[np.ndarray, np.ndarray]:
        """Each row's slack, how far from it the grid points that read it may lie: the segments to its
        neighbours and, at a segment's end, its time in view (`in_view_for`; here its interval's, at least as
        long) along its last velocity; and as it would be were it the last row of a cut (`at_end`).  -> (n,) each"""
        if self._slacks is None:
            t, agent, x, y, step, max_gap = self.t, self.agent, self.x, self.y, self.step, self.max_gap
            dt = np.diff(t)
            joined = ~segment_starts(agent, t, max_gap)[1:]  # row i + 1 continues row i's segment
            seg = np.where(joined, np.hypot(np.diff(x), np.diff(y)), 0.0)  # (n - 1,) segment i -> i + 1
            ahead = np.clip(dt + 2 * MOMENT * step, step / 2, max_gap)  # (n - 1,) >= row i + 1's time in view
            lead = np.where(joined, seg * ahead / np.where(dt > 0, dt, np.inf), 0.0)  # were row i + 1 to end it
            ends = joined & ~np.append(joined[1:], False)  # row i + 1 ends a segment
            slack = np.maximum(np.append(seg, 0.0), np.append(0.0, np.maximum(seg, np.where(ends, lead, 0.0))))
            self._slacks = slack, np.maximum(slack, np.append(0.0, lead))
        return self._slacks

    def _index_places(self):
        """The rows' slacks (`_slack`), and the rows by cell of the plane, then time (as a key per row, cell rank x
        span + time), but those of a slack over `most`, by time alone."""
        if self._places is None:
            t, x, y = self.t, self.x, self.y
            slack, at_end = self._slack()
            most = max(self.cfg.memory_radius, 3 * float(slack.mean()) if len(t) else 0.0)
            size = (self.cfg.memory_radius + most) * (1 + 1e-6)
            big = np.flatnonzero(slack > most)
            big = big[np.argsort(t[big], kind="stable")]
            small = np.flatnonzero(slack <= most)
            key = np.floor(x[small] / size).astype(np.int64) * 2_000_003 + np.floor(y[small] / size).astype(np.int64)
            order = np.lexsort((t[small], key))
            cells, rank = np.unique(key[order], return_inverse=True)
            by_cell = small[order]
            times = rank * self._span() + (t[by_cell] - t.min())  # increasing
            self._places = slack, at_end, size, cells, by_cell, times, big, t[big]
        return self._places


def _spans(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The integers of the ranges [lo, hi), one after another.  -> (sum(hi - lo),)"""
    n = np.maximum(hi - lo, 0)
    return np.repeat(lo - np.cumsum(n) + n, n) + np.arange(n.sum())


def _readable(index: SceneIndex, anchor: float, egos: np.ndarray, after: float = 0.0
              ) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows of the scene cut at `anchor` (`index.cut`) that the latest windows of the agents with rows
    `egos` (their latest in the cut) can read, in the rows' order, and among them the rows after which rows
    were left out (`resample_rows`' `cut`; None when none are).

    A grid point lies on the segment between two observations (or, at a track's end, at most `lead` past
    it along its last velocity), so an observation farther from a place than a distance plus its segments'
    lengths (its slack, `SceneIndex`) makes no grid point within that distance of it. Of the last obs_len +
    pred_len steps, the rows of the egos and of the agents whose t0 point may lie within `neighbor_radius` of
    an ego's are read (histories, neighbours and the moves they are judged by; a dense tracker's lines, `fits`,
    may lie off its segments by its noise: there, every agent's). Before and among them, the scene memory
    reads only paths that start within `memory_radius` of an ego's t0 position (`SceneIndex.near`): around
    each observation that can start one, the steps a path reads (one before, pred_len after) are kept with
    the detections that make them. The windows are those the whole cut gives (to float rounding where lines are
    fitted); a cut reads the scene memory's 400 s (`memory_horizon`), and resampling all of it for every t0 or
    live update was most of their time."""
    cfg, step, max_gap = index.cfg, index.step, index.max_gap
    T, P = cfg.obs_len, cfg.pred_len
    start, now = anchor - history_reach(cfg, step, max_gap), anchor + after
    recent = max(start, anchor - (T + 1) * step - max_gap)  # from here on, a row may be its agent's last in the cut
    # The egos' and neighbours' rows from here: a history's grid point is made from a detection up to a bridged
    # gap before it, whose time in view reads the two intervals before that (`in_view_for`), and a neighbour's
    # moves are judged over T + P steps (`_impossible`).
    history = max(start, anchor - (T + P + 1) * step - 3 * max_gap)
    if not len(egos):
        return index.within(recent, now), None
    late = egos[index.t[egos] < anchor - EPS * step]  # egos seen before t0 (`finished_windows`): extrapolated to it
    off = float(index.at_end(late).max(initial=0.0))
    if fits(cfg):
        rows = index.within(history, now)
    else:  # the egos' and their neighbours': a grid point at t0 is made from a row at most a bridged gap before it
        seen = index.close(index.within(anchor - max_gap * (1 + STAMP) - step, now), egos, cfg.neighbor_radius + off)
        seen = seen[np.append(index.agent[seen][1:] != index.agent[seen][:-1], True)]  # one row an agent
        rows = index.around(seen, now - history + step, now - anchor + max_gap * (1 + STAMP) + step)
        rows = rows[(index.t[rows] >= history) & (index.t[rows] <= now)]
    if cfg.memory > 0:  # and the scene memory's paths that start near an ego: a step before, pred_len after, each
        near = index.near(start, recent, now, egos, off)  # with the detections and time in view that make them
        kept = index.around(near, 2 * step + 4 * max_gap, (P + 2) * step + 2 * max_gap)
        rows = np.sort(np.concatenate([rows, kept[(index.t[kept] >= start) & (index.t[kept] <= now)]]), kind="stable")
        rows = rows[np.append(True, rows[1:] != rows[:-1])]  # (two sorted runs: merged)
    nxt = np.minimum(rows + 1, len(index.t) - 1)
    cut = (rows + 1 < len(index.t)) & (index.agent[nxt] == index.agent[rows]) & (index.t[nxt] <= now) & \
        (np.append(rows[1:], -1) != rows + 1)  # the next row of the agent, in the cut, is left out
    return rows, cut if cut.any() else None


def _in_input_time(w: Windows, anchor: float, step: float) -> Windows:
    """Grid indices back to the input's time units: t0 = anchor + j * step, one step = `step`."""
    w.t0 = anchor + np.asarray(w.t0, dtype=np.float64) * step
    w.step = np.full(len(w), step)
    return w


def no_windows_error(cfg: DataConfig, mode: str, df: pd.DataFrame | None = None) -> NoWindowsError:
    """The error for data that gave no window; with its track table `df`, also saying when its samples are
    further apart than the model bridges (1 Hz GPS against `max_gap` 0.8 s)."""
    need = cfg.obs_len + cfg.pred_len
    why = {"windows": f"no track has {need} consecutive steps of {cfg.dt:g} s (obs_len {cfg.obs_len} + pred_len "
                      f"{cfg.pred_len})",
           "latest": "no agent has 2 consecutive positions at its latest frame",
           "read": "no agent has 2 consecutive positions"}[mode]  # "read": the tracks as read, for any window
    interval = None if df is None else sampling_interval(df)
    gap = None if interval is None else f"{bridging_gap(interval):g}"
    if gap is None:
        bridge = None
    elif in_cli():
        bridge = (f"--max-gap {gap} (in training: --set data.max_gap={gap}; in Python: TrajCVAE.load(..., "
                  f"max_gap={gap}))")
    else:  # (predict and evaluate take no max_gap: the model loaded does)
        bridge = f"TrajCVAE.load(..., max_gap={gap}) (in training: the config's data.max_gap = {gap})"
    spu = None if df is None or not len(df) else seconds_per_unit(df)
    moves = None if df is None or cfg.time_step is None or spu is not None else \
        sorted(set(time_steps(df).step.values()))  # each scene's own step of frame ids
    longest = None if spu is None else float(df.groupby(["scene", "agent_id"], observed=True)["frame"].agg(
        lambda f: f.max() - f.min()).max()) * spu  # seconds: the longest track
    if longest is not None and longest < cfg.dt and interval is not None:  # a clock far too fast
        why += (f": no track lasts one {cfg.dt:g} s step (the longest spans {longest:.3g} s; samples come "
                f"{interval:.3g} s apart, median): {clock_question(df, interval, tuple(PER_SECOND))}")
    elif spu is not None and (short := shorter_than_a_step(df, cfg.dt, speed_band()[1])):  # most, in a scene
        why += f": {warning_text(short)}"
    elif moves and not np.allclose(moves, cfg.time_step):
        why += (f": a step is data.time_step = {cfg.time_step:g} frame ids, but the tracks' frame ids move "
                f"{' or '.join(f'{m:g}' for m in moves[:3])} at a time: {STEP_FIX}")
    elif interval is not None and not bridges(interval, cfg.max_gap) and df.attrs.get("rate_from") in ("fps", "model"):
        fps = df.attrs["fps"]  # a rate given wrong (samples a second for frame ids a second?) comes first
        at = (f"--fps {fps:g}" if df.attrs["rate_from"] == "fps" else
              f"the model's training rate ({fps:g} frame ids a second)")
        fix = ("drop --fps: the files give their own rates" if df.attrs.get("overrode") else
               f"give --fps {interval * fps / cfg.dt:g} if they are {cfg.dt:g} s apart")
        why += (f": at {at} the tracks' frame ids are {interval:.3g} s apart (median), longer than the "
                f"{cfg.max_gap:g} s gap the model bridges: is that the frame ids' rate ({fix})? If the samples are "
                f"that far apart, give {bridge}")
    elif interval is not None and far_apart(interval, cfg.dt):  # times in other units?
        why += (f": the tracks are sampled every {interval:.3g} s (median), too far apart for steps of "
                f"{cfg.dt:g} s: {time_unit_question(df, interval)}")
    elif interval is not None and not bridges(interval, cfg.max_gap):
        why += (f": the tracks are sampled every {interval:.3g} s (median), longer than the "
                f"{cfg.max_gap:g} s gap the model bridges, so every sample starts a new track; give {bridge} to "
                "bridge them")
        t = df["frame"].to_numpy(dtype=np.float64)
        whole = np.abs(t - np.round(t)).max() <= 1e-6  # (whole numbers as written, or as a float's sum left them)
        if df.attrs.get("time_base") == "seconds" and whole and np.abs(t).max() < 1e8:
            why += " (or, if the time column counts frames, name it frame and give --fps, their rate)"
    return NoWindowsError(f"no usable windows: {why}")


def concat_windows(parts: list[Windows], mode: str) -> Windows | None:
    """One `Windows` from several (neighbour slots padded to the widest); None when `parts` is empty. Parts cut
    by models of other settings (`Windows.cut`) are refused: joined, their arrays would read as one model's."""
    if not parts:
        return None
    cuts = [p.cut for p in parts if p.cut is not None]
    if (other := next((c for c in cuts if c != cuts[0]), None)) is not None:
        key = cut_difference(cuts[0], other)
        raise TrajCVAEError(f"windows: one part was made by a model of data.{key}={cuts[0].get(key)!r} and another "
                            f"by one of {other.get(key)!r}: make them all with one model (model.make_windows(data))")
    m = max(p.nbr.shape[1] for p in parts)
    pad = lambda a: np.pad(a, ((0, 0), (0, m - a.shape[1]), (0, 0), (0, 0)), constant_values=np.nan)  # noqa
    has_mem = parts[0].mem is not None  # the same config built every part: all or none have it
    return Windows(
        obs=np.concatenate([p.obs for p in parts]),
        nbr=np.concatenate([pad(p.nbr) for p in parts]),
        fut=None if mode == "latest" else np.concatenate([p.fut for p in parts]),
        scene=np.concatenate([p.scene for p in parts]),
        agent_id=np.concatenate([p.agent_id for p in parts]),
        t0=np.concatenate([p.t0 for p in parts]),
        step=np.concatenate([p.step for p in parts]),
        skipped=sum(p.skipped for p in parts),
        mem=np.concatenate([p.mem for p in parts]) if has_mem else None,
        mem_lag=np.concatenate([p.mem_lag for p in parts]) if has_mem else None,
        done=(np.concatenate([p.known_at() for p in parts])
              if mode != "latest" and any(p.done is not None for p in parts) else None),
        noise=(np.concatenate([np.full(p.obs.shape[:2], np.nan) if p.noise is None else p.noise for p in parts])
               if any(p.noise is not None for p in parts) else None),
        cut=parts[0].cut if all(p.cut == parts[0].cut for p in parts) else None,  # (one model's, or some unknown)
    )


def _scene_windows(g: pd.DataFrame, step: float, cfg: DataConfig, mode: str,
                   chunk: int | None, since: float | None = None, at: np.ndarray | None = None) -> Iterator[Windows]:
    # g is sorted by (agent_id, frame): rows of one agent are contiguous and in time order.
    frame = g["frame"].to_numpy(dtype=float)
    fi = (frame - frame.min()) / step
    off = off_grid(g, step, cfg.time_step)
    if off is not None:
        raise off
    pos = np.stack([g["x"].to_numpy(dtype=np.float64), g["y"].to_numpy(dtype=np.float64)], axis=1)  # (n, 2)
    yield from _grid_windows(np.round(fi).astype(np.int64), frame, g["agent_id"].to_numpy(), pos,
                             str(g["scene"].iloc[0]), step, cfg, mode, chunk, since, at)


def _grid_windows(fi: np.ndarray, frame: np.ndarray, agent: np.ndarray, pos: np.ndarray, scene: str, step: float,
                  cfg: DataConfig, mode: str, chunk: int | None, since: float | None = None,
                  at: np.ndarray | None = None) -> Iterator[Windows]:
    """`_scene_windows` on one scene's rows as arrays (sorted by agent and frame): grid indices `fi` from 0,
    frame ids `frame`, `agent`, positions `pos` (n, 2); mode="at": the windows at the rows `at` (a mask), as
    "latest" would give each were the rows to end there."""
    n = len(fi)
    # Runs of consecutive frames: a new run starts at a new agent or after a gap.
    new_run = np.ones(n, bool)
    new_run[1:] = (agent[1:] != agent[:-1]) | (fi[1:] != fi[:-1] + 1)
    run_id = np.cumsum(new_run) - 1
    run_start = np.flatnonzero(new_run)
    run_end = np.append(run_start[1:], n) - 1
    hist_len = np.arange(n) - run_start[run_id] + 1  # positions observed up to and including this row
    fut_len = run_end[run_id] - np.arange(n)  # positions known after this row

    T, P = cfg.obs_len, cfg.pred_len
    skipped = 0
    if mode == "windows":
        ego = np.flatnonzero((hist_len >= T) & (fut_len >= P))
    elif mode == "at":  # (the caller counts the rows asked for that give no window)
        ego = np.flatnonzero(at & (hist_len >= 2))
    else:
        last = np.append(agent[1:] != agent[:-1], True)  # each agent's latest row
        if since is not None:
            last &= frame >= since
        ego = np.flatnonzero(last & (hist_len >= 2))
        skipped = int(np.sum(last & (hist_len < 2)))
    if len(ego) == 0:
        empty = _empty(T, P, cfg.memory)
        empty.skipped = skipped
        yield empty
        return
    order = np.argsort(fi, kind="stable")
    move = _moves(pos, hist_len)  # (n,) what tells a position its agent cannot have been at (`_impossible`)
    size = chunk or len(ego)
    for lo in range(0, len(ego), size):
        e = ego[lo:lo + size]
        obs = _history(pos, hist_len, e, T)  # (N, T, 2)
        fut = pos[e[:, None] + np.arange(1, P + 1)] if mode == "windows" else None  # (N, P, 2)
        nbr_rows = _neighbours(pos, fi, agent, e, cfg.neighbor_radius, cfg.max_neighbors, order)  # (N, M)
        # A neighbour whose history holds a position it cannot have been at is left out: the error would move
        # this window's futures. Judged against its usual move over its last T + P rows, all up to t0.
        q = nbr_rows[nbr_rows >= 0]
        odd = _impossible(move, q - np.minimum(hist_len[q], T) + 1, q - np.minimum(hist_len[q], T + P) + 1, q,
                          cfg.dt)
        nbr_rows[nbr_rows >= 0] = np.where(odd, -1, q)
        nbr = np.full((len(e), nbr_rows.shape[1], T, 2), np.nan)
        has = nbr_rows >= 0
        nbr[has] = _history(pos, hist_len, nbr_rows[has], T)
        mem, mem_lag = _memory(pos, fi, agent, hist_len, fut_len, e, cfg, move) if cfg.memory > 0 else \
            (None, None)
        yield Windows(obs, nbr, fut, np.full(len(e), scene, dtype=object), agent[e], frame[e],
                      np.full(len(e), step), skipped=skipped if lo == 0 else 0, mem=mem, mem_lag=mem_lag)


def _history(pos: np.ndarray, hist_len: np.ndarray, rows: np.ndarray, T: int) -> np.ndarray:
    """Positions of rows-T+1 .. rows (same run), NaN where the run had not started yet.  # (N, T, 2)"""
    k = np.arange(T - 1, -1, -1)  # steps back from t0
    valid = k[None, :] < hist_len[rows][:, None]
    idx = np.where(valid, rows[:, None] - k[None, :], rows[:, None])
    out = pos[idx]
    out[~valid] = np.nan
    return out


def _neighbours(pos, fi, agent, ego, radius: float, max_n: int, order: np.ndarray | None = None) -> np.ndarray:
    """For each ego row, the rows of the nearest other agents at the same frame within `radius`, in `max_n`
    slots (-1: empty) (`order`: the rows sorted by frame, stable, when the caller has it)."""
    out = np.full((len(ego), max_n), -1, dtype=np.int64)
    if max_n == 0 or len(ego) == 0:
        return out
    if order is None:
        order = np.argsort(fi, kind="stable")
    bounds = np.searchsorted(fi[order], fi[ego], side="left"), np.searchsorted(fi[order], fi[ego], side="right")
    ego_order = np.argsort(fi[ego], kind="stable")
    i = 0
    while i < len(ego_order):  # one frame at a time: all egos of that frame against all its agents
        j = i
        f = fi[ego[ego_order[i]]]
        while j < len(ego_order) and fi[ego[ego_order[j]]] == f:
            j += 1
        e = ego_order[i:j]
        lo, hi = bounds[0][e[0]], bounds[1][e[0]]
        others = order[lo:hi]
        d = np.linalg.norm(pos[ego[e]][:, None] - pos[others][None], axis=-1)  # (n_ego, n_others)
        d[agent[ego[e]][:, None] == agent[others][None]] = np.inf
        d[d > radius] = np.inf
        k = min(max_n, len(others))
        nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
        rows = others[nearest]
        rows[np.take_along_axis(d, nearest, axis=1) == np.inf] = -1
        out[e, :k] = rows
        i = j
    # Always max_n slots, however crowded the file's busiest frame: the width changes the floating-point
    # rounding of the neighbours' attention, so a window must not depend on agents seen after its t0.
    return out


def _memory(pos, fi, agent, hist_len, fut_len, ego, cfg: DataConfig,
            move: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each ego row, the `cfg.memory` paths that other agents walked from near its t0 position, each
    finished by t0: a path is a row r of another agent at least `pred_len` steps (and at most
    `memory_horizon`) before t0, with its step before and its `pred_len` steps after, so positions r-1 ..
    r+P. Ranked by distance to the ego's t0 position plus `memory_radius` x (1 - cos) of the angle between
    the path's first step and the ego's observed heading; only paths starting within `memory_radius`.
    Where others went from here is the scene's layout (doors, crossings, obstacles) learnt from its own past.
    `move`: each row's move (`_moves`); no path through a position its agent cannot have been at is remembered.
    -> positions (N, Mm, P + 2, 2) and lags in steps (N, Mm), NaN for an empty slot."""
    P, Mm, radius, T = cfg.pred_len, cfg.memory, cfg.memory_radius, cfg.obs_len
    N = len(ego)
    mem, lag = np.full((N, Mm, P + 2, 2), np.nan), np.full((N, Mm), np.nan)
    cand = np.flatnonzero((hist_len >= 2) & (fut_len >= P))
    # A path through a position its agent cannot have been at (`_impossible`) would carry that error into every
    # later window near it, other agents' too: it is not remembered. Judged from the path's own rows, all
    # finished by t0.
    cand = cand[~_impossible(move, cand - 1, cand - 1, cand + P, cfg.dt)]
    back = np.minimum(hist_len[ego], T) - 1  # (N,) observed steps behind t0
    head = pos[ego] - pos[ego - back]  # (N, 2) observed displacement: the heading
    norm = np.linalg.norm(head, axis=1, keepdims=True)
    head = np.where(norm > 1e-9, head / np.maximum(norm, 1e-9), 0.0)  # standing still: distance alone
    for pe, rows in _pairs_within(pos, fi, cand, ego, radius, P, cfg.memory_horizon):  # a piece of the egos
        lag_p = fi[ego][pe] - fi[rows]
        keep = (lag_p >= P) & (lag_p <= cfg.memory_horizon) & (agent[ego][pe] != agent[rows])
        pe, rows = pe[keep], rows[keep]
        d = np.linalg.norm(pos[ego][pe] - pos[rows], axis=-1)
        d = np.where(d <= radius, d, np.inf)  # the boundary test itself is ours, as in _neighbours
        v = pos[rows] - pos[rows - 1]  # (pairs, 2) each path's first step, as a direction
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
        score = d + radius * (1 - np.sum(head[pe] * v, axis=1))
        ok = np.isfinite(score)
        pe, rows, score = pe[ok], rows[ok], score[ok]
        o = np.lexsort((rows, fi[rows], score, pe))  # per ego: best score first, ties to the earlier path
        pe, rows = pe[o], rows[o]
        slot = np.arange(len(pe)) - np.searchsorted(pe, pe, side="left")  # rank within its ego
        top = slot < Mm
        pe, rows, slot = pe[top], rows[top], slot[top]
        mem[pe, slot] = pos[rows[:, None] + np.arange(-1, P + 1)]  # (pairs, P + 2, 2)
        lag[pe, slot] = fi[ego][pe] - fi[rows]
    return mem, lag


SPIKE = 12.5  # m/s: a move this fast, and four times its track's usual pace, is an error (5 m in a 0.4 s step)
TOP_SPEED = 100.0  # m/s: faster than any agent on the ground, whatever its track (a typo at a track's start)


def _moves(pos: np.ndarray, hist_len: np.ndarray) -> np.ndarray:
    """Each row's move from the row before it in its run, metres (NaN at a run's first row).  -> (n,)"""
    return np.where(hist_len >= 2, np.r_[np.nan, np.hypot(*np.diff(pos, axis=0).T)], np.nan)


def _impossible(move: np.ndarray, judged: np.ndarray, since: np.ndarray, last: np.ndarray, dt: float) -> np.ndarray:
    """Spans of rows of one run each, ending at rows `last` (steps of `dt` seconds): whether the longest move
    into rows judged+1 .. last is faster than SPIKE and four times the median of the span's other moves into rows
    since+1 .. last (`since` <= `judged`) that are moves at all (over a twentieth of SPIKE's: a car that stood at
    a light is judged by its pace once going) and possible (under TOP_SPEED: a standing agent's typo is there
    and back), or, with no such other move, faster than TOP_SPEED: a position its agent cannot have been at (a
    typo, a missed fix written as 0; or several, where resampling spread one over the grid). Only rows up to
    `last` count, so nothing observed after it does. Agents faster than TOP_SPEED (aircraft) are all judged
    impossible.  -> (R,)"""
    spike = SPIKE * dt
    count = np.r_[0, np.cumsum(move > spike)]  # moves over `spike` metres into the rows before each row
    out = count[last + 1] - count[judged + 1] > 0
    i = np.flatnonzero(out)  # few, but for agents that go that fast
    if len(i):
        L = int((last[i] - since[i]).max())
        k = last[i, None] - np.arange(L)[::-1]  # (m, L): rows since+1 .. last, NaN before them
        m = np.where(k > since[i, None], move[np.maximum(k, 0)], np.nan)
        longest = np.nanargmax(np.where(k > judged[i, None], m, -1.0), axis=1)  # (a span holds one over spike)
        others = np.where((m > spike / 20) & (m <= TOP_SPEED * dt), m, np.nan)  # moves, none impossible alone
        others[np.arange(len(i)), longest] = np.nan
        with warnings.catch_warnings():  # no other move: NaN, judged by TOP_SPEED alone
            warnings.simplefilter("ignore", RuntimeWarning)
            usual = np.nanmedian(others, axis=1)
        worst = m[np.arange(len(i)), longest]
        out[i] = np.where(np.isnan(usual), worst > TOP_SPEED * dt, worst > 4 * usual)
    return out


MEMORY_EGOS = 256  # windows whose memory pairs are held at once: in a dense crowd each has thousands


def _pairs_within(pos, fi, cand, ego, radius: float, P: int, horizon: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The pairs (ego index, candidate row) of the egos' t0 positions and the candidates' start positions
    within `radius`, for candidates P to `horizon` steps before the ego's t0 (and some others; the caller
    keeps the lags it wants): pieces of (pairs,) ego indices and (pairs,) rows, each ego's pairs in one
    piece of at most `MEMORY_EGOS` egos (a crowd of 400 over 1000 steps would hold over 20 GB of pairs at
    once). From k-d trees over the candidates' start positions (measuring every ego against every candidate
    would be most of univ's window-building time), one per block of `horizon` steps of the egos' t0s, over the
    candidates that block can reach: a tree over the whole scene pairs each ego with every path ever walked from its
    place, so an hour of one camera ran out of memory. Built unbalanced with big leaves: a third of the
    default build's time for the same pairs (live, an update's egos share one t0, so one block)."""
    t_ego = fi[ego]
    by_t = cand[np.argsort(fi[cand], kind="stable")]
    t_cand = fi[by_t]
    block = (t_ego - (t_ego.min() if len(ego) else 0)) // horizon  # (N,)
    order = np.argsort(block, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(block[order])) + 1) if len(ego) else []:
        first, last = t_ego[group].min(), t_ego[group].max()
        reach = by_t[np.searchsorted(t_cand, first - horizon):np.searchsorted(t_cand, last - P, side="right")]
        if not len(reach):
            continue
        tree = cKDTree(pos[reach], leafsize=64, balanced_tree=False, compact_nodes=False)
        for lo in range(0, len(group), MEMORY_EGOS):
            piece = group[lo:lo + MEMORY_EGOS]
            near = tree.query_ball_point(pos[ego[piece]], r=radius * (1 + 1e-9))  # a margin for rounding
            yield (np.repeat(piece, [len(c) for c in near]),
                   reach[np.concatenate([np.asarray(c, dtype=np.int64) for c in near])])


def _empty(T: int, P: int, memory: int = 0) -> Windows:
    z = np.zeros((0,))
    mem = (np.zeros((0, memory, P + 2, 2)), np.zeros((0, memory))) if memory > 0 else (None, None)
    return Windows(np.zeros((0, T, 2)), np.zeros((0, 1, T, 2)), np.zeros((0, P, 2)), z.astype(object),
                   z, z, z, mem=mem[0], mem_lag=mem[1])


# --- the window cache ---------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    """$TRAJCVAE_CACHE, else ~/.cache/trajcvae (set but empty or blank, as a shell unsets it: not a folder of
    that name in the current one)."""
    given = os.environ.get("TRAJCVAE_CACHE", "")
    if given.strip():
        return home_path(given, "TRAJCVAE_CACHE")
    try:
        return Path.home() / ".cache" / "trajcvae"
    except RuntimeError:  # no $HOME and no home folder for this user (a container's user id of no name)
        raise TrajCVAEError("the window cache has no folder: there is no home folder here; set TRAJCVAE_CACHE to "
                            "one (train also takes --no-cache)") from None


def cache_key(files: list[Path], cfg: DataConfig, mode: str) -> str:
    h = hashlib.sha256()
    keys = CACHE_KEYS + (MEMORY_KEYS if cfg.memory > 0 else ())
    # Format 6: neighbours fill max_neighbors slots (windows cached before had as many as their busiest frame).
    # Format 7: a time column beside a frame column is the clock (it was read as frame ids before).
    # Format 8: the summary kept with the windows holds the reading's warnings (a cut-short file, ...), and the
    # files as it names them.
    # Format 9: its warnings name a time column by its name and warn of times in minutes read as seconds.
    # Format 10: a file's path goes in as given too (a link of another name is another scene).
    # Format 12: an agent at the model's rate, out of phase with the grid, keeps a window per observation.
    # Format 14: a model told a noise reads a dense tracker's steps as lines through its detections (`fits`), and
    # keeps the noise left on their t0 lines (`Windows.noise`).
    # Format 15: ... and on each of their steps.
    # The package's code goes in too (a version spans many commits): windows built by other code are built anew.
    h.update(json.dumps({"version": __version__, "code": code_digest(), "format": 15, "mode": mode,
                         "fit": fits(cfg), "measured": cfg.noise == NOISE_AUTO,
                         **{k: getattr(cfg, k) for k in keys}}, sort_keys=True).encode())
    # The scene name comes from the file's name (and folders) as given, a link's own: each file's full path,
    # as given and resolved, goes in with its bytes, and so do the files beside it that its reading consults
    # (a MOT sequence's rate and class names) and the files its options name (a matrix, scales).
    return files_digest(_consulted(files, cfg), lambda f: f"{os.path.abspath(f)}\0{f.resolve()}", h)


def _consulted(files: list[Path], cfg: DataConfig) -> list[Path]:
    """`files`, then the files their reading consults: those beside them (a MOT sequence's rate and class
    names, sorted) and those the options name (a homography's matrix, a file of scales)."""
    return files + files_beside(files) + [Path(f) for f in (cfg.homography, cfg.scale) if isinstance(f, str)]


def files_beside(files: list[Path]) -> list[Path]:
    """The files beside track `files` that their reading consults (`formats.side_files`), sorted, each once."""
    return sorted({s for f in files for s in side_files(f)})


def files_digest(files: list[Path], name: Callable[[Path], str], h=None) -> str:
    """A digest of `files`: each one's `name(f)` and bytes, in order (added to `h`, a hashlib object, if
    given)."""
    h = h or hashlib.sha256()
    for f in files:
        h.update(name(f).encode() + b"\0")
        hash_bytes(f, h)
    return h.hexdigest()[:32]


def copy_of(files: list[Path], others: list[Path]) -> tuple[Path, Path] | None:
    """The first file of `files` that is one of `others` or holds the same bytes as one, with that other
    file: (file, other); None if there is none. Only files of one size are read."""
    found, others_ = copies(others + files), set(others)
    same = {}  # each other by its real path: the first of one path
    for other in others:
        same.setdefault(other.resolve(), other)
    for f in files:
        if f.resolve() in same or found.get(f) in others_:
            return f, same.get(f.resolve(), found.get(f))
    return None


def _respelt(line: str, names: dict[str, str]) -> str:
    """A cached message with its files named as this run names them ({as first given: now}; the key holds
    their full paths): in one pass, each where it stands as a whole name (after a space or an opening mark,
    before one or the line's punctuation), so that no name is found inside another, nor in a word. A name
    of no folder nor suffix (`zara`) is kept as first given: it is its scene's name too."""
    names = {before: now for before, now in names.items() if before != now and re.search(r"[/.\\]", before)}
    if not names:
        return line
    pattern = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    return re.sub(rf"(?<![^\s(\['\"])(?:{pattern})(?=$|[\s:;,)\]'\"]|\.(?:\s|$))", lambda m: names[m[0]], line,
                  flags=re.M)


def quiet(line: str) -> None:
    """A `log` for `load_windows` that shows nothing, for data whose summary line and warning were given
    already, or are another process's to give (None would turn the warning into a Python warning)."""


def load_windows(paths: Iterable[str | Path], cfg: DataConfig, cache_dir: str | Path | None = None,
                 log: Callable[[str], None] | None = None, mode: str = "windows") -> Windows:
    """Windows of the files at `paths`, from the cache when it holds them (cache_dir=None: no cache).
    `log` gets the data's summary line (see `checks.summarize`) and its speed warning if any (see
    `checks.plausibility`), kept in the cache with the windows; without `log`, the warning is a
    `TrajCVAEWarning`."""
    if cache_dir is None or hasattr(paths, "columns"):  # a table (the Python API's) is built, not cached
        w, line = _build(paths, cfg, mode)
    else:
        files, limit = list_files(paths), cache_limit()
        consulted = _consulted(files, cfg)
        stamps = _stamps(consulted)  # before the key's read of the bytes, to compare after the build
        path = Path(cache_dir) / f"windows-{cache_key(files, cfg, mode)}.npz"
        try:
            w, line, spelt = _load(path)
            line = _respelt(line, dict(zip(spelt, map(str, files))))
            first, _, warning = line.partition("\n")
            line = first + " (windows from cache)" + (f"\n{warning}" if warning else "")
            remove_stale(path)  # a save of this entry killed (OOM) before a hit: its temp file, else never removed
            _used(path)
        except Exception:  # missing, damaged or not ours: it is only a cache, so rebuild
            w, line = _build(files, cfg, mode)
            if _stamps(consulted) != stamps:  # rewritten while read: maybe not the bytes keyed
                line += ("\nwarning: the data files changed while they were read (a writer still at work?): their "
                         "windows are of what was read then, and are not cached; run again once they are written")
            else:
                try:
                    _save(w, line, path, files)
                except (OSError, TrajCVAEError) as e:  # an unwritable cache costs time, not the run; said once
                    if str(cache_dir) not in _UNWRITABLE:
                        _UNWRITABLE.add(str(cache_dir))
                        line += (f"\nwarning: the window cache {Path(cache_dir)} is not writable ({e}); going on "
                                 "without it (set TRAJCVAE_CACHE to a writable folder; train also takes --no-cache)")
                else:
                    _evict(Path(cache_dir), path, limit)
    for text in line.split("\n"):
        if log is not None:
            log(worded(text))  # kept as written; said as the caller names options
        elif text.startswith("warning: "):  # the Python API (`train` without `log`) still warns
            warn(text)
    return w


_UNWRITABLE: set[str] = set()  # cache folders found unwritable in this process (a benchmark reads many sets)


def _stamps(files: list[Path]) -> list[tuple[int, int, int]]:
    """Each file's size, modification time and inode: a file written anew between two reads changes them, even
    where it ends with the same bytes."""
    stamps = []
    for f in files:
        st = os.stat(f)
        stamps.append((st.st_size, st.st_mtime_ns, st.st_ino))
    return stamps


def _build(paths, cfg: DataConfig, mode: str) -> tuple[Windows, str]:
    """The windows, and the lines said about the data: its summary, then the warnings its reading gave (a
    cut-short file, an estimated scale) and its speeds' one, kept with cached windows to be said again."""
    tracks = None
    try:
        with gathered_warnings() as said:  # (this thread's alone)
            tracks = read_tracks(paths, fps=cfg.fps, scale=cfg.scale, homography=cfg.homography,
                                 classes=cfg.classes, columns=cfg.columns)
    finally:  # the reading's own warnings become lines; all said before an error are given as they came
        if tracks is None:
            for text in said:
                warn(text)
    read = [one_line(f"warning: {text}") for text in said]
    if cfg.time_step is not None and seconds_per_unit(tracks) is not None:  # it would be ignored
        known = {"seconds": "a time column in seconds"}.get(tracks.attrs["time_base"]) or \
            {"fps": "--fps"}.get(tracks.attrs["rate_from"], "the file's own frame rate")
        raise DataError(f"data.time_step {cfg.time_step:g} (--time-step) counts frame ids of unknown rate, but these "
                        f"tracks' times are known ({known}): leave it out; the model's step in seconds is "
                        f"data.dt ({cfg.dt:g} s)")
    warning = plausibility(tracks, cfg.dt, max_gap=cfg.max_gap, time_step=cfg.time_step)
    line = "\n".join([summarize(tracks, cfg.time_step, cfg.max_gap).line(), *read] + ([warning] if warning else []))
    try:
        return build_windows(tracks, cfg, mode), line
    except NoWindowsError as e:  # what was said of the tracks goes with the error, to be said before it
        e.said, e.timed = line, seconds_per_unit(tracks) is not None
        raise


CACHE_GB = 20.0  # the window cache's default size limit, in GB ($TRAJCVAE_CACHE_GB)


def _used(path: Path) -> None:
    """Mark a cache entry as just used (its modification time), so the least recently used go first."""
    try:
        os.utime(path)
    except OSError:
        pass


def cache_limit() -> float:
    """The window cache's size limit in bytes: $TRAJCVAE_CACHE_GB gigabytes, default CACHE_GB."""
    given = os.environ.get("TRAJCVAE_CACHE_GB") or str(CACHE_GB)
    try:
        limit = float(given)
    except ValueError:
        limit = math.nan
    if not limit >= 0 or math.isinf(limit):
        raise TrajCVAEError(f"TRAJCVAE_CACHE_GB={given!r}: expected a number of gigabytes (0 or more)")
    return limit * 1e9


def _evict(folder: Path, kept: Path, limit: float) -> None:
    """Keep the cache within `limit` bytes (`cache_limit`): its least recently used entries are removed, never
    `kept` (the entry just written), nor a temp file another process is writing; one a killed process left
    is removed (its entry's key may never come again). Windows take about 65 times their CSV's bytes."""
    remove_stale_of(folder, "windows-*.npz")
    try:
        entries = [(st.st_mtime, st.st_size, e) for e in folder.glob("windows-*.npz") if e != kept
                   for st in (e.stat(),)]
        total = sum(size for _, size, _ in entries) + kept.stat().st_size
    except OSError:  # another process removed an entry meanwhile: the next save judges again
        return
    for _, size, entry in sorted(entries, key=lambda e: e[0]):
        if total <= limit:
            break
        try:
            entry.unlink()
            total -= size
        except OSError:
            pass


def _save(w: Windows, line: str, path: Path, files: list[Path]) -> None:
    """The windows, what was said about their data (`line`) and the data's files as that line names them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = w.agent_id
    numeric = ids.dtype.kind in "iuf"
    arrays = {"obs": w.obs, "nbr": w.nbr, "scene": w.scene.astype(str), "t0": w.t0, "step": w.step,
              "agent_id": ids if numeric else ids.astype(str), "skipped": np.array(w.skipped),
              "summary": np.array(line), "files": np.array([str(f) for f in files]), "orient": np.array(w.orient)}
    for name in ("fut", "mem", "mem_lag", "done", "noise"):
        if getattr(w, name) is not None:
            arrays[name] = getattr(w, name)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:  # a file object: np.savez would add ".npz" to a temp name
            np.savez(f, **arrays)


def _load(path: Path) -> tuple[Windows, str, list[str]]:
    z = np.load(path, allow_pickle=False)
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not a window cache")
    with z:
        ids = z["agent_id"]
        w = Windows(obs=z["obs"], nbr=z["nbr"], fut=z["fut"] if "fut" in z else None,
                    scene=z["scene"].astype(object), agent_id=ids if ids.dtype.kind in "iuf" else ids.astype(object),
                    t0=z["t0"], step=z["step"], skipped=int(z["skipped"]),
                    mem=z["mem"] if "mem" in z else None, mem_lag=z["mem_lag"] if "mem_lag" in z else None,
                    done=z["done"] if "done" in z else None, noise=z["noise"] if "noise" in z else None,
                    orient=str(z["orient"]))
        return w, str(z["summary"]), [str(f) for f in z["files"]]
