"""Tracks -> positions on the model's time grid: each agent's positions, linearly interpolated at steps of the
model's `dt` seconds, for inputs whose rate is known (a time column in seconds, or frame ids with --fps).

A grid is anchored at a time `anchor` of the input: its points are anchor + j * step for integers j, and
`resample_rows` gives each point its j (so windows are built on it exactly as for ETH/UCY, one step per
frame id). Between two observations of an agent at most `max_gap` apart the track is interpolated; a
longer gap splits it, and no grid point is made inside it. Only grid points within an agent's observed
span are made, but for a `lead` past its last observation (then extrapolated along its last velocity; used
for neighbours seen just before t0). `windows.py` anchors a grid at an agent's observation and cuts the
scene there first, so t0 is a real observation and nothing after it is read: for `predict` at each agent's
latest observation, for training and evaluation at its observations (one per step), whose futures are
then read from the agent's own track.

A tracker faster than the model's steps (10-30 Hz) detects an agent several times a step. Where its
detections are noisy (the model is told a `--noise` value), interpolating between the two around a grid point
would drop the others, so `fit` reads each grid point whose detections within FIT_REACH steps either side come
FIT_DENSE or more a step as the least-squares line through them, at the point's time: the detections given
only, so at t0 (the scene cut there) the detections up to it.
"""
from __future__ import annotations

import numpy as np

EPS = 1e-4  # in grid steps: a time this close to another is it (times computed or stored as float32 differ by ulps)
# In grid steps: how far a logged stamp may sit from the moment it stands for, which resampling still reads as that
# moment, and intervals and gaps as theirs (4 ms at 0.4 s steps: stamps truncated to whole milliseconds, as many
# loggers and Parquet's timestamps keep them, are up to 1 ms off, and 0.4 s steps read 0.399 or 0.401 s).
STAMP = 1e-2
# `fit`: a grid point whose detections within FIT_REACH steps either side come this many a step (a tracker of over
# 6 Hz at 0.4 s steps) takes the line through them (chosen on val, lab-notes).
FIT_DENSE, FIT_REACH = 2.5, 1.0


def bridges(gap: np.ndarray | float, max_gap: float) -> np.ndarray | bool:
    """Whether resampling bridges a gap of `gap` between an agent's observations: `max_gap` at most, to within the
    stamps' rounding (STAMP of it)."""
    return gap <= max_gap * (1 + STAMP)


def segment_starts(agent: np.ndarray, t: np.ndarray, max_gap: float) -> np.ndarray:
    """Rows (sorted by agent and time) that start a segment: a run of one agent whose consecutive
    observations are at most `max_gap` apart (`bridges`), which resampling bridges.  -> (n,) bool"""
    new = np.ones(len(t), bool)
    new[1:] = (agent[1:] != agent[:-1]) | ~bridges(np.diff(t), max_gap)
    return new


def resample_rows(t: np.ndarray, agent: np.ndarray, x: np.ndarray, y: np.ndarray, anchor: float, step: float,
                  max_gap: float, lead: float | np.ndarray = 0.0, cut: np.ndarray | None = None, fit: bool = False
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows (times `t`, `agent`, positions x, y; sorted by agent and time) -> their grid points
    anchor + j * step: for each, the row at or before it (k; or up to STAMP steps after it), j, and its position.
    -> (G,) each

    `step`, `max_gap` and `lead` are in the units of `t`. `lead`: a grid point up to this long after a
    track's last observation is still made, extrapolated along its last velocity (agents seen just before
    t0 by a tracker whose timestamps are not in step with the agent's); one for all tracks, or one per row
    (a segment takes its last row's). `cut` (bool per row): the rows
    after which rows of the same agent were left out (`windows._readable`); nothing is interpolated across
    such a cut nor extrapolated into it, so the grid points made are those the whole track gives between
    the rows kept. `fit`: a dense track's grid points read the line through its detections around them
    (`fitted`), not the two nearest."""
    n = len(t)
    new = segment_starts(agent, t, max_gap)
    if cut is not None:
        new[1:] |= cut[:-1]
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)  # exclusive
    lead = np.full(len(starts), float(lead)) if np.ndim(lead) == 0 else np.asarray(lead, np.float64)[ends - 1]
    if cut is not None:
        lead[cut[ends - 1]] = 0.0  # a segment that stops at a cut is not a track's end
    lo = np.ceil((t[starts] - anchor) / step - STAMP).astype(np.int64)  # first grid index in each segment
    # The last: on a stamp's tolerance of its last row, or within its lead past it (a time computed from its own
    # stamps: an agent due back exactly at a grid point, and not seen there, has left before it).
    hi = np.maximum(np.floor((t[ends - 1] - anchor) / step + STAMP),
                    np.floor((t[ends - 1] + lead - anchor) / step + EPS)).astype(np.int64)
    count = np.maximum(hi - lo + 1, 0)
    seg = np.repeat(np.arange(len(starts)), count)  # (G,) segment of each grid point
    j = lo[seg] + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))  # (G,) grid index
    tg = anchor + j * step  # (G,) grid times
    # The observation at or before each grid point, within its segment, and the one after it: row i is at
    # or before the grid points from its first index J_i on, up to the next row's, or to the segment's last.
    J = np.ceil((t - anchor) / step - STAMP).astype(np.int64)  # (n,) first grid index at or after each row
    last = hi[np.repeat(np.arange(len(starts)), ends - starts)] + 1  # (n,) past its segment's grid points
    upper = np.minimum(np.append(J[1:], 0), last)
    upper[ends - 1] = last[ends - 1]
    k = np.repeat(np.arange(n), np.maximum(upper - J, 0))  # (G,) in the order of `j`
    k1 = np.minimum(k + 1, ends[seg] - 1)
    past_end = (k1 == k) & (k > starts[seg]) & (tg > t[k] + STAMP * step)  # in the lead: extrapolate
    k = np.where(past_end, k - 1, k)
    span = t[k1] - t[k]
    w = np.where(span > 0, (tg - t[k]) / np.where(span > 0, span, 1.0), 0.0)
    w = np.where(past_end, w, np.clip(w, 0.0, 1.0))
    on_point = np.abs(tg - t[k]) <= EPS * step  # exactly the observation: no arithmetic on it
    xs = np.where(on_point, x[k], x[k] + w * (x[k1] - x[k]))
    ys = np.where(on_point, y[k], y[k] + w * (y[k1] - y[k]))
    if fit and len(j):  # (no grid point: nothing to fit)
        xs, ys = fitted(t - anchor, np.cumsum(new) - 1, x, y, j * step, seg, step, xs, ys)
    return k, j, xs, ys


def fitted(t: np.ndarray, seg: np.ndarray, x: np.ndarray, y: np.ndarray, tg: np.ndarray, at: np.ndarray,
           step: float, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid points at times `tg` of segments `at` (G,) -> their positions: where the segment's detections (times
    `t`, segment `seg` per row, sorted by segment and time; positions x, y) make a line there (`_lines`), its
    value at `tg`; elsewhere `xs`, `ys` as given. White noise of std s on 4 detections a step (10 Hz) leaves
    about s / 3 at a point between detections, and 0.6 s at a segment's last, whose line reads the detections
    before it alone.  -> (G,), (G,)"""
    first, t, tg, total, su, suu, det, spread = _lines(t, seg, tg, at, step)
    dense = np.isfinite(spread)
    out = []
    for v, given in ((x, xs), (y, ys)):
        v0 = v[first]  # (segments,) positions from each segment's first too
        sv = total(v - v0[seg])
        svu = total((v - v0[seg]) * t) - tg * sv
        out.append(np.where(dense, v0[at] + (sv * suu - su * svu) / np.where(dense, det, 1.0), given))
    return out[0], out[1]


def _lines(t: np.ndarray, seg: np.ndarray, tg: np.ndarray, at: np.ndarray, step: float):
    """The least-squares lines of grid points at times `tg` of segments `at` (G,) through each one's detections
    within FIT_REACH steps either side (times `t`, segment `seg` per row, sorted by segment and time), where
    they are 3 or more, FIT_DENSE or more a `step` over their span. -> each segment's first row; `t` and `tg`
    from it; a function summing a per-row quantity over each point's rows; the sums of u = t - tg and of u^2;
    n sum(u^2) - sum(u)^2; and the variance of each line's value over one detection's, 1/n + sum(u)^2 / (n det),
    NaN where there is no line or it is noisier than one detection (a burst of detections a few ms apart would
    be extrapolated far from its times)."""
    first = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])  # each segment's first row
    # Times from each segment's first: the running sums stay small (Unix seconds).
    t, tg = t - t[first][seg], tg - t[first][at]
    # One increasing key, segment after segment, each apart by more than its rows' times and its grid points'
    # (which reach past its last row by its `lead`) with a line's reach either side.
    span = max(t.max(), tg.max()) + 2 * FIT_REACH * step + step
    key = seg * span + t
    lo = np.searchsorted(key, at * span + tg - FIT_REACH * step * (1 + STAMP))  # the rows of each point's line
    hi = np.searchsorted(key, at * span + tg + FIT_REACH * step * (1 + STAMP), side="right")
    # Dense: the line's detections come FIT_DENSE or more a step, on average over their span (at t0 too, where
    # only those before it are given).
    last = np.minimum(np.maximum(hi - 1, lo), len(t) - 1)  # (a point a lead past the last segment's rows has none)
    dense = (hi - lo >= 3) & ((hi - lo - 1) * step >= FIT_DENSE * (t[last] - t[np.minimum(lo, len(t) - 1)]))
    total = lambda v: (lambda c: c[hi] - c[lo])(np.r_[0.0, np.cumsum(v)])  # noqa: E731  over each point's rows
    n, s1, s2 = total(np.ones_like(t)), total(t), total(t * t)
    su, suu = s1 - n * tg, s2 - 2 * tg * s1 + n * tg * tg  # sums of (t - tg) and of its square
    det = n * suu - su * su  # > 0 where the rows' times are not all one
    dense &= (det > 0) & (su * su <= (n - 1) * np.where(det > 0, det, 0.0))  # (the variance below <= 1)
    spread = np.where(dense, 1 / np.maximum(n, 1) + su * su / (np.maximum(n, 1) * np.where(dense, det, 1.0)), np.nan)
    return first, t, tg, total, su, suu, det, spread


def line_spread(t: np.ndarray, agent: np.ndarray, anchor: float, step: float, max_gap: float, steps: int,
                cut: np.ndarray | None = None) -> dict:
    """Each agent last seen at `anchor` whose grid point there is a line (`fitted`; rows at times `t`, sorted by
    agent and time, none after `anchor`, in segments as `resample_rows` makes them of `max_gap` and `cut`) -> (steps,)
    the variance over one detection's of its track's value at the grid points anchor - (steps - 1 - i) * step
    (`_lines`), the last at t0: where it is a line, about 0.6 at t0 and 1/9 before it at 10 Hz (0.3 and 1/25 at
    30 Hz), whose detections lie either side; elsewhere 1 (a detection, or a point between two; NaN before the
    segment that ends at the anchor)."""
    new = segment_starts(agent, t, max_gap)
    if cut is not None:
        new[1:] |= cut[:-1]
    seg = np.cumsum(new) - 1
    ends = np.flatnonzero(np.r_[new[1:], True])  # each segment's last row
    ends = ends[np.abs(t[ends] - anchor) <= STAMP * step]  # those at the anchor: their grid points up to there
    if not len(ends):
        return {}
    starts = np.flatnonzero(new)[seg[ends]]
    tg = (np.arange(steps) - (steps - 1.0)) * step  # (steps,) the grid points' times from the anchor
    inside = tg[None, :] >= t[starts, None] - anchor - STAMP * step  # (E, steps) within each segment's detections
    at = np.repeat(seg[ends], steps)[inside.ravel()]
    spread = np.full(inside.shape, np.nan)
    spread[inside] = _lines(t - anchor, seg, np.broadcast_to(tg, inside.shape)[inside], at, step)[-1]
    line = np.isfinite(spread[:, -1])  # (E,) t0 is a line
    spread[inside & np.isnan(spread)] = 1.0
    return dict(zip(agent[ends][line], spread[line]))


GRID_OFF = 0.2  # of a period: the root-mean-square distance of times from their grid beyond which it is no grid
GRID_SHARED = 0.05  # of the rows: detections that share a grid point with another of their agent, at most
GRID_ONE = 4.0  # mean squared standard errors of a scene's agents' phases about its own, at most, for one phase


def on_a_grid(t: np.ndarray, scene: np.ndarray, agent: np.ndarray, period: float):
    """Times `t` (seconds; rows sorted by `scene`, codes 0, 1, ..., then `agent`, then time) rounded to a grid of
    `period`: detections made at that rate but stamped with jitter (a receiver's clock stamping them on arrival).
    Each track's grid has its own phase (the circular mean of its times within a period), or its scene's where
    the scene's tracks keep one phase (their phases about the scene's within their own errors: GRID_ONE mean
    squared standard errors, a tracker's agents of one frame) and the track's lies within four standard errors
    of it, or within STAMP of a period. Of the times a track puts on one grid point, the nearest is kept.
    -> the times on the grid (n,), the rows kept (sorted), and each scene's root-mean-square distance of the
    times from the grid (S,)."""
    new = np.ones(len(t), bool)
    new[1:] = (scene[1:] != scene[:-1]) | (agent[1:] != agent[:-1])
    track = np.cumsum(new) - 1  # (n,) each row's track
    turn = np.exp(2j * np.pi * np.mod(t, period) / period)  # (n,) each time's place within a period
    phase = lambda of: np.mod(np.angle(of), 2 * np.pi) * period / (2 * np.pi)  # noqa: E731
    own = phase(np.bincount(track, turn.real) + 1j * np.bincount(track, turn.imag))  # (A,)
    shared = phase(np.bincount(scene, turn.real) + 1j * np.bincount(scene, turn.imag))  # (S,)
    off = t - own[track] - np.round((t - own[track]) / period) * period  # (n,) from the track's own grid
    rows = np.bincount(track)
    of_scene = scene[new]  # (A,)
    apart = np.mod(own - shared[of_scene] + period / 2, period) - period / 2  # (A,) own phase - scene's
    # A track's phase errs by its times' spread about it (its scene's, root mean square) over the root of its count.
    err = np.sqrt(np.bincount(scene, off ** 2) / np.bincount(scene))[of_scene] / np.sqrt(rows)  # (A,)
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = np.where(err > 0, (apart / err) ** 2, np.where(np.abs(apart) > STAMP * period, np.inf, 0.0))
    one = np.bincount(of_scene, z2) / np.bincount(of_scene) <= GRID_ONE  # (S,) one phase in the scene
    join = np.abs(apart) <= np.maximum(np.where(one[of_scene], 4 * err, 0.0), STAMP * period)
    grid = np.where(join, shared[of_scene], own)[track]  # (n,)
    k = np.round((t - grid) / period)
    on = grid + k * period
    rms = np.sqrt(np.bincount(scene, (t - on) ** 2) / np.bincount(scene))
    order = np.lexsort((np.abs(t - on), k, track))  # each grid point's times, the nearest first
    first = np.ones(len(t), bool)
    first[1:] = (track[order][1:] != track[order][:-1]) | (k[order][1:] != k[order][:-1])
    return on, np.sort(order[first]), rms
