"""What a track table says about itself: each scene's time step, the summary line (`summarize`), and the
checks of rate, units and speed that warn of a result that may be wrong (`plausibility`).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import NOISE_AUTO
from .errors import DataError, one_line, plural
from .resample import EPS, FIT_DENSE, GRID_OFF, GRID_SHARED, STAMP, bridges, on_a_grid, resample_rows
from .table import PER_SECOND, STAMP_ROLES, UNIT_NAMES, rows_by_code, seconds_per_unit, time_role, where
from .units import looks_like_degrees


# --- time steps and the summary line ---------------------------------------------------------------------

@dataclass
class SceneSteps:
    """Time step (in frame-id units) of each scene, and how its tracks split into gap-free segments."""

    step: dict[str, float]
    segments: int
    gaps: int


def off_grid(g: pd.DataFrame, step: float, time_step: float | None = None) -> DataError | None:
    """The error for a frame of scene `g` (frame ids of unknown rate) that is not a whole number of `step`s
    from the scene's other frames (the phase most of them share against the step, so a mistyped frame is
    named, not the frames it shifts), naming its row; None where every frame is on that grid. Where `step` is
    `time_step` (a model's data.time_step, train's --time-step) and the scene is on the grid of its own step,
    or a tenth of its rows are off, the error names the scene as a whole and the option."""
    frame = g["frame"].to_numpy(dtype=float)
    fi = (frame - frame.min()) / step
    phase = fi - np.floor(fi)  # (N,) in [0, 1)
    rounded = np.round(phase, 6) % 1.0  # the phases, to a millionth
    values, counts = np.unique(rounded, return_counts=True)
    apart = np.abs(phase - phase[np.argmax(rounded == values[np.argmax(counts)])])  # from one row of that phase
    off = np.minimum(apart, 1 - apart) > 1e-6  # (a step's millionth either side, as a grid point's own noise)
    if not off.any():
        return None
    if time_step is not None:
        scene = str(g["scene"].iloc[0])
        own = time_steps(g).step[scene]  # the step it would be read at
        if off.mean() > 0.1 or off_grid(g, own) is None:  # (a mistyped frame id is one row, not a tenth of them)
            return DataError(f"scene '{scene}': its frame ids move {own:g} at a time, off the grid of "
                             f"data.time_step = {time_step:g} frame ids a step: {STEP_FIX}")
    src = where(g, int(np.flatnonzero(off)[0])) if "_line" in g else f"scene '{g['scene'].iloc[0]}'"
    return DataError(f"{src}: frame {frame[off][0]:g} is off the scene's time grid (step {step:g}): a mistyped "
                     "frame id? If the frames come at uneven times, pass --fps with the input's frame rate, which "
                     "resamples its tracks onto the model's steps")


# The fix for frame ids that do not step as data.time_step says (a model's, or train's --time-step)
STEP_FIX = ("give --fps (the frame ids' rate; in training, in place of --time-step), or train without --time-step "
            "(each scene's step is then inferred)")


def check_grid(df: pd.DataFrame, time_step: float | None = None) -> None:
    """Frame ids of unknown rate off their scene's grid (`off_grid`, at `time_steps`' step), refused as the
    tracks are read: before a summary counts such a frame as a gap. A scene on the grid of its own step but
    not on that of `time_step` (a model's data.time_step, its training files') is named as a whole."""
    if seconds_per_unit(df) is not None:
        return
    steps = time_steps(df, time_step).step
    for scene, g in df.groupby("scene", sort=True, observed=True):
        off = off_grid(g, steps[str(scene)], time_step)
        if off is not None:
            raise off


def time_steps(df: pd.DataFrame, time_step: float | None = None, max_gap: float = 0.8) -> SceneSteps:
    """Infer each scene's step as the most common positive frame difference within agents' tracks (or take
    `time_step`, for frame ids of unknown rate), and count the gaps: for frame ids of unknown rate, every
    difference other than the step; for tracks of a known rate, which are resampled, only differences over
    `max_gap` seconds (shorter ones are bridged).

    A scene with a single frame holds no motion at all (no window can come from it); its step is 1.
    """
    spu = seconds_per_unit(df)
    steps: dict[str, float] = {}
    segments = gaps = 0
    for scene, g in df.groupby("scene", sort=True, observed=True):
        agent = g["agent_id"].to_numpy()
        frame = g["frame"].to_numpy()
        same = agent[1:] == agent[:-1]
        diffs = np.diff(frame)[same]
        if time_step is not None and spu is None:  # a step of frame ids of unknown rate (a known rate's is measured)
            step = float(time_step)
        elif (diffs > 0).any() and spu is not None:  # a known rate, maybe irregular: the typical interval
            step = float(np.median(diffs[diffs > 0]))
        elif (diffs > 0).any():
            vals, counts = np.unique(np.round(diffs[diffs > 0], 9), return_counts=True)
            step = float(vals[np.argmax(counts)])
        else:
            frames = np.unique(frame)
            step = float(np.min(np.diff(frames))) if len(frames) > 1 else 1.0
        steps[str(scene)] = step
        n_gaps = int(np.sum(~np.isclose(diffs, step) if spu is None else ~bridges(diffs * spu, max_gap)))
        gaps += n_gaps
        segments += int(np.sum(~same)) + 1 + n_gaps
    return SceneSteps(steps, segments, gaps)


FAR_APART = 10.0  # seconds between an agent's samples (median) that no tracker takes: times in other units?
FAR_STEPS = 4  # ... unless the model's own steps are as long: samples this many steps apart are far apart too
STEPS_DT = 0.4  # the step that frame ids of unknown rate stand for by convention (ETH/UCY's 10 ids at 25 fps)


def far_apart(interval: float, dt: float) -> bool:
    """Whether samples `interval` seconds apart are further apart than a tracker samples for a model of `dt`
    second steps: more than FAR_APART seconds and FAR_STEPS steps (times in milliseconds read as seconds?)."""
    return interval > max(FAR_APART, FAR_STEPS * dt)


def sampling_interval(df: pd.DataFrame) -> float | None:
    """The median time (seconds) between an agent's consecutive samples, for tracks of a known rate; None
    for frame ids of unknown rate or tracks without two samples of one agent."""
    gaps = _sample_gaps(df)
    return float(np.median(gaps)) if gaps is not None and len(gaps) else None


def bridges_any(df: pd.DataFrame, max_gap: float) -> bool:
    """Whether any agent has two consecutive samples at most `max_gap` seconds apart (tracks of a known
    rate; True for frame ids of unknown rate, whose gaps are told by their steps)."""
    gaps = _sample_gaps(df)
    return gaps is None or bool(bridges(gaps, max_gap).any())


def unbridged_warning(df: pd.DataFrame, max_gap: float) -> str | None:
    """The warning for agents none of whose detections `max_gap` bridges (each interval between two, of tracks of
    a known rate, over it), which no window comes from: a 1 Hz device among 10 Hz ones; else for gaps just over it
    (`just_over`). None where there are neither."""
    spu = seconds_per_unit(df)
    if spu is None or len(df) < 2:
        return None
    gaps = df.assign(gap=df.groupby(["scene", "agent_id"], observed=True, sort=False)["frame"].diff() * spu)
    apart = gaps.groupby(["scene", "agent_id"], observed=True, sort=False)["gap"].agg(["min", "median"]).dropna()
    over = apart[~bridges(apart["min"].to_numpy(), max_gap)]
    if not len(over):
        return just_over(gaps["gap"].dropna().to_numpy(), max_gap)
    interval = float(over["median"].median())
    ids = over.index.get_level_values("agent_id")
    names = ", ".join(f"'{a}'" for a in ids[:3]) + (", ..." if len(over) > 3 else "")
    return (f"warning: {len(over):,} agent{'s are' if len(over) > 1 else ' is'} detected every {interval:.3g} s "
            f"(median; {names}), over the {max_gap:g} s gap the model bridges, so no two of their detections make a "
            f"track, and they are neither predicted nor scored: give --max-gap {bridging_gap(interval):g} to bridge "
            "them")


NEAR_MISS = 1.25  # gaps up to this many times --max-gap are just over it: a missed detection on jittery stamps
NEAR_SHARE = 0.01  # ... said where they are this share of all intervals, and 10 or more


def just_over(gaps: np.ndarray, max_gap: float) -> str | None:
    """The warning for intervals between detections (`gaps`, seconds) just over `max_gap` (up to NEAR_MISS times
    it), which split tracks: at 2.5 Hz one missed detection leaves 0.8 s, the default --max-gap, and timestamps
    that jitter by a few hundredths of a second put half of those gaps over it (zara1 in seconds with 10% of its
    detections missed and 0.03 s of jitter kept 769 of 1,755 windows). None where they are few."""
    near = gaps[~bridges(gaps, max_gap) & (gaps <= NEAR_MISS * max_gap)]
    if len(near) < max(10, NEAR_SHARE * len(gaps)):
        return None
    fix = math.ceil(float(near.max()) * 10 - 1e-9) / 10
    return (f"warning: {len(near):,} gaps between an agent's detections are just over the {max_gap:g} s the model "
            f"bridges ({near.min():.3g}-{near.max():.3g} s: a missed detection, with timestamps that jitter?), so each "
            f"splits its track and the windows across it are lost: give --max-gap {fix:g} to bridge them")


def _sample_gaps(df: pd.DataFrame) -> np.ndarray | None:
    """Seconds between each agent's consecutive samples, all agents together; None for frame ids of unknown rate."""
    spu = seconds_per_unit(df)
    if spu is None or len(df) < 2:
        return None
    agent, scene = df["agent_id"].to_numpy(), df["scene"].to_numpy()
    same = (agent[1:] == agent[:-1]) & (scene[1:] == scene[:-1])  # the same agent of the same scene
    return np.diff(df["frame"].to_numpy(dtype=np.float64))[same] * spu


def gap_without_rate(max_gap: float) -> DataError:
    """The error for a --max-gap given with frame ids of no known rate, where it cannot bridge anything."""
    return DataError(f"--max-gap {max_gap:g}: the frame ids have no known rate, so a missing frame is a gap that "
                     "splits a track whatever --max-gap says; give --fps (or a time column in seconds) for --max-gap "
                     "to bridge gaps")


def bridging_gap(interval: float) -> float:
    """The --max-gap to suggest for samples `interval` seconds apart: half an interval more, rounded up to
    0.1 s (so jittered samples are bridged too)."""
    return math.ceil(interval * 15 - 1e-9) / 10


@dataclass
class TrackSummary:
    """What `read_tracks` found, in counts: see `line()`."""

    files: int
    rows: int
    agents: int  # distinct (scene, agent_id)
    scenes: int
    gaps: int  # missing frames (or off-step jumps) inside an agent's track
    segments: int  # gap-free pieces of track (agents + gaps)
    single_frame_agents: int  # agents seen at one frame only: no motion, never predicted
    duplicates_dropped: int  # exact repeats of a row
    rows_sorted: int  # rows read after a later row of their agent, put in time order
    classes_left_out: int = 0  # rows --classes left out (of agents of other classes, or of none yet)
    rates: dict[str, float] | None = None  # samples per second of each scene, where the time base is known
    steps: dict[str, float] | None = None  # else each scene's step in frame ids, taken as one model step
    model_rate: float | None = None  # frame ids a second, where they are read at the model's training rate
    grid: dict | None = None  # times read on a grid (`tracks.on_grid`): its rate, the most a time moved, drops

    def line(self) -> str:
        where = f"read {plural(self.files, 'file')}" if self.files else "read a table"
        text = (f"{where}: {plural(self.rows, 'row')}, {plural(self.agents, 'agent')}, {plural(self.scenes, 'scene')}; "
                + (f"{plural(self.gaps, 'gap')} split tracks into {plural(self.segments, 'segment')}" if self.gaps
                   else "no gaps"))
        if self.single_frame_agents:
            text += f"; {plural(self.single_frame_agents, 'single-frame agent')}"
        if self.duplicates_dropped:
            text += f"; {plural(self.duplicates_dropped, 'repeated row')} dropped"
        if self.rows_sorted:
            text += f"; {plural(self.rows_sorted, 'row')} out of time order sorted"
        if self.classes_left_out:
            text += f"; {plural(self.classes_left_out, 'row')} of other classes left out (--classes)"
        if self.rates:
            shown = [f"{scene}: {_rate(hz)} Hz" for scene, hz in list(self.rates.items())[:3]]
            more = f" and {len(self.rates) - 3} more" if len(self.rates) > 3 else ""
            text += "; " + ", ".join(shown) + more
            if self.model_rate:  # frame ids at another rate would be read as faster or slower, and nothing says so
                text += (f" (frame ids read at the model's training rate, {_rate(self.model_rate)} a second: give "
                         "--fps if they count another)")
            if self.grid:
                text += (f" (times on a {_rate(self.grid['fps'])} Hz grid, --fps: moved up to "
                         f"{self.grid['moved']:.2g} s" + (f", {plural(self.grid['dropped'], 'detection')} on a "
                                                            "point taken by a nearer one dropped"
                                                            if self.grid["dropped"] else "") + ")")
        elif self.steps:
            distinct = sorted(set(self.steps.values()))
            text += (f"; a step is {distinct[0]:g} frame id{'' if distinct[0] == 1 else 's'}" if len(distinct) == 1 else
                     f"; steps of {', '.join(f'{v:g}' for v in distinct[:3])} frame ids")
            text += " (no --fps: one model step)"
        return text


def _rate(hz: float) -> str:
    """A rate as given (29.97, 12.5) when it has up to 4 significant digits, else to 3 (one measured from
    jittered timestamps: 10, not 10.0398)."""
    exact = f"{hz:.4g}"
    return exact if abs(float(exact) - hz) <= 1e-9 * hz else f"{hz:.3g}"


def summarize(df: pd.DataFrame, time_step: float | None = None, max_gap: float = 0.8) -> TrackSummary:
    """Counts for a table from `read_tracks` (gaps as `time_steps` counts them)."""
    s = time_steps(df, time_step, max_gap)
    scene = df["scene"].cat.codes.to_numpy() if isinstance(df["scene"].dtype, pd.CategoricalDtype) \
        else pd.factorize(df["scene"])[0]
    agent = df["agent_id"].to_numpy()
    new = np.ones(len(df), bool)
    new[1:] = (scene[1:] != scene[:-1]) | (agent[1:] != agent[:-1])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(df)))
    spu = seconds_per_unit(df)
    return TrackSummary(files=int(df.attrs.get("files", 0)), rows=len(df), agents=len(starts),
                        scenes=len(s.step), gaps=s.gaps, segments=s.segments,
                        single_frame_agents=int(np.sum(sizes == 1)),
                        duplicates_dropped=int(df.attrs.get("duplicates_dropped", 0)),
                        rows_sorted=int(df.attrs.get("rows_sorted", 0)),
                        classes_left_out=int(df.attrs.get("classes_left_out", 0)),
                        rates=None if spu is None else {k: 1.0 / (v * spu) for k, v in s.step.items()},
                        steps=s.step if spu is None else None,
                        grid=df.attrs.get("grid"),
                        model_rate=df.attrs.get("fps") if df.attrs.get("time_base") == "frames"
                        and df.attrs.get("rate_from") == "model" else None)


# --- speeds, rates and jumps: what may be wrong ----------------------------------------------------------

PACE = 8  # model steps that a "too slow" speed is measured over: 3.2 s for walkers, where noise of a few


@dataclass
class _Spans:
    """One scene's moves over one model step `dt`, one from each row whose agent it outlives by a step: to
    the agent's first row at least `dt` seconds on (the next one where samples are sparser). Over a step,
    noise averages out (between samples 1/60 s apart it swamps the motion), and a model's recorded speeds
    are over its steps (`speed_record`). Rows are positions in the table (sorted by scene, agent, time)."""
    scene: str
    start: np.ndarray  # (S,) each span's first row
    end: np.ndarray  # (S,) its last row
    speed: np.ndarray  # (S,) m/s
    track: np.ndarray  # (S,) the track its first row is in (tracks: split by agent and by gaps not bridged)
    joined: np.ndarray  # (S,) bool: its last row is in that track too
    around: np.ndarray  # (S,) m/s: the faster of its track's spans just before and just after it; NaN: none
    back: np.ndarray  # (S,) m/s: from its track's row a step before its first row (`prior`) to its first row
    prior: np.ndarray  # (S,) that row; -1: none (the track starts less than a step before)
    through: np.ndarray  # (S,) m/s: from that row to its last row, past its first; NaN: none
    paced: np.ndarray  # (Q,) m/s over PACE steps from each row, or a step at least, if its track ends sooner
    # (S,) metres: how far its velocity is from the one over the step before it (`back`'s), over what white
    # noise of 1 m (std per axis) on the three positions would change it by (its std per axis); NaN: none
    wobble: np.ndarray
    apart: np.ndarray  # (S,) seconds: the longer of those two steps (NaN: none)
    kept: float  # the share of its detections' noise that `window_noise` measures (`_kept`); NaN: too few steps
    dense: bool  # its tracks are detected FIT_DENSE or more times a step (the median interval within a track)


@np.errstate(invalid="ignore", over="ignore")  # times beyond any clock (a rate of 1e-300 Hz): named after
def _spans(df: pd.DataFrame, dt: float, max_gap: float = 0.8, time_step: float | None = None) -> list[_Spans]:
    """`_Spans` per scene, all scenes in one pass. A track bridges gaps up to `max_gap` seconds; of frame
    ids of unknown rate (whose frame step, `time_step` or each scene's own as `time_steps` infers it,
    counts as `dt` seconds), only one frame step, as `time_steps` counts gaps."""
    n = len(df)
    if not n:
        return []
    scene, names = pd.factorize(df["scene"], sort=False)
    ids = df["agent_id"].to_numpy()
    spu = seconds_per_unit(df)
    if spu is None:
        step = time_steps(df, time_step).step
        per = (dt / np.array([step[str(name)] for name in names]))[scene]  # (N,) seconds per frame id
    else:
        per = spu
    t = df["frame"].to_numpy(dtype=np.float64) * per  # (N,) seconds
    x, y = df["x"].to_numpy(dtype=np.float64), df["y"].to_numpy(dtype=np.float64)
    metres = lambda i, j: np.hypot(x[j] - x[i], y[j] - y[i])  # noqa: E731  rows i to rows j
    new = np.r_[True, (scene[1:] != scene[:-1]) | (ids[1:] != ids[:-1])]  # (N,) an agent's first row
    agent = np.cumsum(new) - 1  # (N,) 0, 1, ... agent after agent
    gap = np.diff(t)
    bridged = bridges(gap, max_gap) if spu is not None else np.isclose(gap, dt)
    track = np.cumsum(np.r_[True, new[1:] | ~bridged]) - 1  # (N,)
    # One sorted key, agent after agent (each offset past the last one's end): one search finds every
    # row's span end, and the row a step before it.
    first = np.flatnonzero(new)
    last = np.r_[first[1:], n] - 1
    life = t[last] - t[first] + 2 * dt + 1
    key = t - t[first][agent] + np.r_[0.0, np.cumsum(life)[:-1]][agent]
    reach, rows = dt * (1 - STAMP), np.arange(n)
    step_end = np.searchsorted(key, key + reach, side="left")  # (N,)
    ok = step_end <= last[agent]
    start, end = rows[ok], step_end[ok]
    speed = metres(start, end) / (t[end] - t[start])
    joined = track[end] == track[start]
    # The span just after one starts where it ends; the one just before ends where it starts.
    span_of = np.full(n, -1)
    span_of[start] = np.arange(len(start))
    nxt = span_of[end]
    after = np.where((nxt >= 0) & joined[nxt] & joined, speed[nxt], np.nan)
    prior = np.searchsorted(key, key[start] - reach, side="right") - 1
    prior_ok = (prior >= 0) & (track[np.maximum(prior, 0)] == track[start])
    prior = np.maximum(prior, 0)
    back = np.where(prior_ok, metres(prior, start) / np.maximum(t[start] - t[prior], reach), np.nan)
    around = np.fmax(back, after)
    # A step before its first row, to its last: the move its first row would be off (`track_spikes`).
    both = prior_ok & joined
    through = np.full(len(start), np.nan)
    through[both] = metres(prior[both], end[both]) / (t[end[both]] - t[prior[both]])
    wobble, apart = np.full(len(start), np.nan), np.full(len(start), np.nan)
    i, j, h = start[both], end[both], prior[both]
    a, b = t[j] - t[i], t[i] - t[h]  # (seconds: a step each, or longer where samples are sparser)
    apart[both] = np.maximum(a, b)
    wobble[both] = np.hypot((x[j] - x[i]) / a - (x[i] - x[h]) / b, (y[j] - y[i]) / a - (y[i] - y[h]) / b) / np.sqrt(
        1 / a ** 2 + (1 / a + 1 / b) ** 2 + 1 / b ** 2)
    prior = np.where(prior_ok, prior, -1)
    # Paced: within the track, past its gaps only as far as a step goes (where every sample is a track of
    # its own, times in milliseconds, that is the next one).
    track_last = np.r_[np.flatnonzero(np.diff(track)), n - 1]  # (tracks,) each track's last row
    paced_end = np.minimum(np.searchsorted(key, key + reach * PACE, side="left"), track_last[track])
    paced_end = np.where(ok, np.maximum(paced_end, step_end), paced_end)
    moved = paced_end > rows
    paced = metres(rows[moved], paced_end[moved]) / (t[paced_end[moved]] - t[moved])
    kept = _kept(t, track, track_last, scene, len(names), dt)
    within = ~new[1:] & bridged  # (N - 1,) consecutive rows of one track
    interval = pd.Series(gap[within]).groupby(scene[1:][within]).median().reindex(range(len(names))).to_numpy()
    # Per scene, in the order scenes first appear.
    out = []
    spans_of, paced_of = rows_by_code(scene[start], len(names)), rows_by_code(scene[moved], len(names))
    for c, name in enumerate(names):
        i, q = spans_of(c), paced_of(c)
        out.append(_Spans(str(name), start[i], end[i], speed[i], track[start[i]], joined[i], around[i], back[i],
                          prior[i], through[i], paced[q], wobble[i], apart[i], float(kept[c]),
                          bool(interval[c] * FIT_DENSE <= dt * (1 + EPS))))
    return out


KEPT_STEPS = 20_000  # model steps of tracks per scene that `_kept` reads, at most (a median needs no more)


def _kept(t: np.ndarray, track: np.ndarray, track_last: np.ndarray, scene: np.ndarray, scenes: int, dt: float
          ) -> np.ndarray:
    """Per scene, the share of white noise on its detections (rows at times `t`, seconds, in `track`s whose last
    rows are `track_last`, of `scene` codes) that survives a window's resampling onto the model's `dt` s steps,
    as `window_noise` measures it: unit noise drawn at the detections' own times (a fixed seed), each track
    resampled onto steps anchored at the last detection of the track before it (a window's neighbours are put
    on the steps of its agent's t0, whose detections may come at other moments), the median length of the
    second differences there over white noise's own (1.177 sqrt 6). About 1 for detections at the model's steps
    (every agent's at the same moments), 0.8 for dense ones between them (a tracker's wobbling timestamps, a
    rate off a multiple of the steps; over 6 a second, auto measures a window's noise on its detections, all of
    it, `detection_noise`, and 0.8 offers it as well), less for sparser ones, whose steps between two
    detections lie on a line (1 Hz: 0.1), or agents detected at moments of their own (2.5 Hz: 0.6).
    -> (scenes,) NaN: too few"""
    # Each scene's tracks in turn, up to KEPT_STEPS steps of the model's; of the last one read, its latest part.
    track_first = np.r_[0, track_last[:-1] + 1]
    steps = (t[track_last] - t[track_first]) / dt + 1  # (tracks,) the steps each one spans
    of_scene = scene[track_first]
    before = pd.Series(steps).groupby(of_scene).cumsum().to_numpy() - steps  # (tracks,) its scene's earlier ones
    reach = np.clip(KEPT_STEPS - before, 0, steps)  # (tracks,) the steps read of each, up to its last detection
    read = (reach[track] > 0) & (t >= t[track_last][track] - (reach[track] - 1) * dt)  # (N,)
    out = np.full(scenes, np.nan)
    if not read.any():
        return out
    prior = np.arange(len(track_last)) - 1  # (tracks,) the track before each, in its scene (else itself)
    prior = np.where((prior >= 0) & (of_scene[np.maximum(prior, 0)] == of_scene), prior, prior + 1)
    anchor = t[track_last[prior]][track][read]  # (R,)
    track, scene = track[read], scene[read]
    noise = np.random.default_rng(0).standard_normal((len(track), 2))
    k, _, x, y = resample_rows(t[read] - anchor, track, noise[:, 0], noise[:, 1], 0.0, dt, np.inf)
    same = track[k][2:] == track[k][:-2]  # three steps in a row of one track (its steps are all made)
    second = np.hypot(x[2:] - 2 * x[1:-1] + x[:-2], y[2:] - 2 * y[1:-1] + y[:-2])[same]
    of = scene[k][2:][same]
    of_scene = rows_by_code(of, scenes)  # scene by scene, as `_spans` cuts its spans
    for c in range(scenes):
        if len(mine := of_scene(c)) >= JITTER_MOVES:
            out[c] = np.median(second[mine]) / (RAYLEIGH_MEDIAN * math.sqrt(6))
    return out


WALKERS = (0.3, 5.0)  # m/s: the speeds of people walking, for tracks with no model's record to go by
WALKING = "people walking"
BAND = 4.0  # a model knows speeds within this factor of its training tracks' 90th-percentile speed
SETS_APART = 2.0  # a validation or test set this many times faster or slower than the training set is warned of
STILL = 0.01  # m/s: a model of agents that stood still (p90 0) knows speeds up to BAND times this
SEEN_SLOW = 0.1  # a model whose training moves were this often under its band knows agents that slow
JUMP = 4.0  # a track's step this many times as fast as its steps around it (and over the band) is a jump


def speed_record(speeds: np.ndarray) -> dict[str, float]:
    """What a checkpoint keeps of its training tracks' speeds `speeds` (m/s): their 90th percentile, from
    which `speed_band` judges other tracks, and the share of them under that band (standing or queueing
    agents the model has seen, which a too-slow warning names)."""
    p90 = float(np.percentile(speeds, 90))
    return {"p90": p90, "slow": float(np.mean(speeds < p90 / BAND))}


def sets_apart(p90: float, other: float, role: str) -> str | None:
    """A one-line warning when a set's (`role`: validation, test) 90th-percentile speed `other` is over
    `SETS_APART` times above or below the training set's `p90` (m/s): one of them read at another rate or in
    other units, whose scores (and the epoch picked on them) would be of other motion."""
    if not (p90 > 0 and other > 0) or 1 / SETS_APART <= other / p90 <= SETS_APART:
        return None
    return (f"warning: the {role} set's agents move at {_two_digits(other)} m/s (90th percentile), "
            f"{_two_digits(other / p90)} times the training set's {_two_digits(p90)} m/s: is one of them read at "
            "another rate or in other units (--fps, --scale)? Scores on it would be of other motion")


def top_step(record: dict | None, dt: float) -> float:
    """The top speed over a `dt` step of a model whose `speed_record` is `record` (`speed_band`'s top), in metres:
    a step longer holds a jump."""
    return speed_band(record)[1] * dt


def speed_band(record: dict | None = None) -> tuple[float, float, str]:
    """(low, high, whose): the speeds (m/s) tracks may move at. With a model's `speed_record`: within
    `BAND` times under or over its training tracks' 90th-percentile speed (for ETH/UCY's walkers, 1.2 m/s,
    about 0.3-5 m/s), so a model trained on vehicles knows vehicles; without one: people walking. A model
    whose training agents stood still (p90 0) knows speeds from 0 up to `BAND` times `STILL`: moving agents
    are not its own."""
    p90 = record.get("p90") if isinstance(record, dict) else None
    if isinstance(p90, numbers.Real) and not isinstance(p90, bool) and math.isfinite(p90) and p90 >= 0:
        whose = f"the model's training tracks (90th percentile {_two_digits(p90)} m/s)"
        return (p90 / BAND, p90 * BAND, whose) if p90 > 0 else (0.0, STILL * BAND, whose)
    return (*WALKERS, WALKING)


def _two_digits(v: float) -> str:
    """`v` to two significant digits, without an exponent where it needs none (120, not 1.2e+02)."""
    return f"{float(f'{v:.2g}'):g}"


def time_text(time: float) -> str:
    """A time (seconds or a frame id) in full, to the microsecond: 1700000000.35, not 1.7e+09; a whole number
    past 15 digits (nanoseconds since 1970) as its digits, 1700000000400000000, not 1.7000000004e+18."""
    time = float(time)
    if math.isfinite(time) and time.is_integer() and 1e15 <= abs(time) < 1e19:  # (ns since 1970 till 2286)
        return str(int(time))
    time = round(time, 6)
    short = f"{time:.15g}"
    return short if float(short) == time else f"{time:.16g}"  # (16 digits where needed: Unix seconds' microseconds)


def track_jumps(df: pd.DataFrame, dt: float, max_gap: float, high: float, after: float = -math.inf,
                until: float = math.inf, spans: list[_Spans] | None = None, entry: str = "row"
                ) -> tuple[str | None, list]:
    """(a one-line warning naming the fastest jump, or None; the agent ids of the tracks that jump) when
    tracks jump: a span (`_spans`, within a track, gaps up to `max_gap` bridged) faster than `high` m/s
    (the band's top) and `JUMP` times the faster of its track's spans just before and after: a tracker's id
    that went to another agent, not an agent speeding up (it goes on as fast) or noise. A span with no span
    before or after it (a track of two rows) is not judged: a jump or a fast agent, it cannot tell. Only
    spans that end after `after` and by `until` (in the `frame` column's units) are judged. `spans`:
    `_spans(df, dt, max_gap)`, where the caller has them; `entry`: what the fix names (live: "detection")."""
    count, fastest, agents = 0, None, []
    frame, ids = df["frame"].to_numpy(), df["agent_id"].to_numpy()
    for s in _spans(df, dt, max_gap) if spans is None else spans:
        bad = (s.joined & (frame[s.end] > after) & (frame[s.end] <= until) & (s.speed > high)
               & (s.speed > JUMP * s.around))  # NaN around: False
        if not bad.any():
            continue
        count += len(np.unique(s.track[bad]))
        agents += pd.unique(ids[s.start[bad]]).tolist()
        i = np.flatnonzero(bad)[np.argmax(s.speed[bad])]
        if fastest is None or s.speed[i] > fastest[0].speed[fastest[1]]:
            fastest = (s, i)
    if fastest is None:
        return None, agents
    s, i = fastest
    xy = df[["x", "y"]].to_numpy(dtype=np.float64)[s.start[i]:s.end[i] + 1]
    at = frame[s.start[i] + 1 + int(np.argmax(np.hypot(*np.diff(xy, axis=0).T)))]  # the span's longest move
    when, how = _when(df, dt)
    metres = float(np.hypot(*(xy[-1] - xy[0])))
    end = s.end[i]
    last = end + 1 == len(df) or ids[end + 1] != ids[end] or df["scene"].iat[end + 1] != df["scene"].iat[end]
    said = (f"warning: {count} track{'s jump' if count != 1 else ' jumps'}{'' if count == 1 else '; the fastest'}: "
            f"agent '{ids[s.start[i]]}' in scene '{s.scene}' moves {metres:.3g} m in {metres / s.speed[i]:.3g} s "
            f"at {when} {time_text(at)} ({s.speed[i]:.3g} m/s, against {s.around[i]:.2g} m/s just "
            f"{'before' if last else 'before and after'}{how}): a tracker's id that went to another agent joins two "
            "paths into one track, whose futures are wrong; give each agent an id of its own")
    tail = f" (or, it being the track's last position, a bad one: correct or drop that {entry})" if last else ""
    return said + tail, agents


def _when(df: pd.DataFrame, dt: float) -> tuple[str, str]:
    """How a warning names a moment of `df`'s tracks ("time" or "frame"), and what its speeds assume where
    the frame ids have no known rate."""
    return ("time" if df.attrs.get("time_base") == "seconds" else "frame",
            "" if seconds_per_unit(df) is not None else f", if one frame step is {dt:g} s")


def track_spikes(df: pd.DataFrame, dt: float, max_gap: float, high: float, after: float = -math.inf,
                 until: float = math.inf, spans: list[_Spans] | None = None, entry: str = "row"
                 ) -> tuple[str | None, list]:
    """(a one-line warning naming the position farthest off its track, or None; the agent ids of the tracks
    with one) when a track's position lies where its agent cannot have been: the moves to it from its track's
    row a step before and from it to the row a step after (`_spans`) both faster than `high` m/s (the band's
    top) and `JUMP` times as fast as the move between those two rows, and it lies farther from both than an
    agent at the band's top goes in `JUMP` steps (a detector's or a GPS fix's noise does not): a typo, a
    missed fix written as 0, another person's detection for one frame. `track_jumps` leaves these alone: the
    move after such a position is as fast as the one before it. Only positions after `after` and by `until`
    (in the `frame` column's units) are judged. `entry`: what the fix names (live: "detection")."""
    frame, ids = df["frame"].to_numpy(), df["agent_id"].to_numpy()
    xy = df[["x", "y"]].to_numpy(dtype=np.float64)
    metres = lambda a, b: np.hypot(*(xy[b] - xy[a]).T)  # noqa: E731  rows a to rows b
    found = []  # (how far off, the row, the row a step before, the row a step after, m/s there and back)
    for s in _spans(df, dt, max_gap) if spans is None else spans:
        slower = np.fmin(s.speed, s.back)  # NaN: no row a step before
        i = np.flatnonzero(s.joined & (frame[s.start] > after) & (frame[s.start] <= until) & (slower > high)
                           & (slower > JUMP * s.through))
        off = np.fmin(metres(s.prior[i], s.start[i]), metres(s.start[i], s.end[i]))
        found += [f for f in zip(off, s.start[i], s.prior[i], s.end[i], slower[i], [s.scene] * len(i))
                  if f[0] > JUMP * high * dt]
    # A good position between two bad ones is as far from both: it is none of them.
    bad = {f[1] for f in found}
    found = [f for f in found if not (f[2] in bad and f[3] in bad)]  # (one span starts at each row)
    if not found:
        return None, []
    off, row, before, later, speed, scene = max(found, key=lambda f: f[0])
    when, how = _when(df, dt)
    lie = "lies off its track" if len(found) == 1 else "lie off their tracks; the farthest"
    return (f"warning: {plural(len(found), 'position')} {lie}: agent '{ids[row]}' in scene '{scene}' at {when} "
            f"{time_text(frame[row])} is {off:.3g} m from its positions a step before and after it "
            f"({float(metres(before, later)):.3g} m apart; there and back at {speed:.3g} m/s{how}): a bad position (a "
            f"typo, a missed fix written as 0) is read at the middle of its neighbours, and its agent's futures from "
            f"t0 there are those of a standing agent (other agents leave out a neighbour or a remembered path that "
            f"holds it); correct or drop that {entry}"), \
        list(pd.unique(np.array([ids[f[1]] for f in found], dtype=object)))


def _speed_outside(sp: np.ndarray, paced: np.ndarray, low: float, high: float) -> tuple[float, str, str] | None:
    """(speed, what it is, over which moves) when moves at speeds `sp` (m/s, over a step; `paced`: over
    `PACE` steps) are outside [low, high]: the median of `sp` over `high`, or that of the moves faster than
    `low` (cars driving past parked ones), or the 90th percentile of `paced` under `low` (agents standing
    among moving ones are no units error, so too slow means that nine in ten moves are); None when they are
    within it."""
    median = float(np.median(sp))
    if median > high:
        return median, "median speed", ""
    moving = sp[sp >= low]
    if len(moving) and (median := float(np.median(moving))) > high:
        return median, "median speed", f", over the moves faster than {_two_digits(low)} m/s (the others stand still),"
    fast = float(np.percentile(paced, 90)) if len(paced) else high
    if fast < low:
        return fast, "90th-percentile speed", ""
    return None


def plausibility(df: pd.DataFrame, dt: float, record: dict | None = None, min_moves: int = 20,
                 max_gap: float = 0.8, jumps: bool = True, time_step: float | None = None,
                 noise: float | str | None = None) -> str | None:
    """A one-line warning when the tracks' speeds, or those of one scene (of at least `min_moves` moves), are
    outside `speed_band(record)` (`_speed_outside`; `record`: the model's `speed_record`, None for people
    walking), naming the option that would fix the likely cause (for one scene among others: its file, to
    be given on its own); or, before that, when frame ids move at two rates (`_mixed_steps`; `time_step`:
    one step of frame ids of unknown rate, where given, as `time_steps` takes it); or, after it, when a
    track jumps
    (`track_jumps`, unless `jumps` is False: a step within a track over the band's top and `JUMP` times as
    fast as its track's steps around it; for one scene outside the band, the other scenes' jumps follow on a
    second line) or holds a position off it (`track_spikes`, as jumps are); then, at speeds within the band,
    when stamps jitter while the detections come evenly (`stamp_warning`); last, with `noise` (the metres of
    noise the model is told the detections have, `data.noise`), when they jitter more than that
    (`jitter_warning`; first, where the speeds look wrong and that jitter would make them so; and no speed line
    where `noise` would; for "auto", only of scenes it cannot measure); None when all is well. Float32
    positions or times too coarse to predict from (`attrs["coarse"]`) are warned on a line of their own,
    before the others; positions written to too few
    decimals only where no other line is said but of jitter."""
    rest = [flat_warning(df), *_rates_speeds_jumps(df, dt, record, min_moves, max_gap, jumps, time_step, noise)]
    # Positions written coarsely are judged in metres, which units or a rate in doubt put in doubt too; jitter does
    # not (whole metres jitter by a third of one: the coarse line first, where --noise is no fix).
    doubted = any(line and "jitter" not in line for line in rest)
    coarse = None if doubted and isinstance(df.attrs.get("coarse"), tuple) else coarse_warning(df.attrs)
    # Each line one line, though it quotes a name holding a line break: callers split them at line breaks.
    return "\n".join(one_line(line) for line in (coarse, *rest) if line) or None


# Frame ids read at a model's training rate whose samples come this many model steps apart (median), or more, and
# whose agents move this share of the model's training speeds or less (90th percentiles): frame ids at another rate
# (20 a second read at 10: 0.8 s apart, at half speed), where sparse samples at the rate keep their speeds
MODEL_RATE_SPARSE = 1.25
MODEL_RATE_SLOW = 0.75


def model_rate_warning(df: pd.DataFrame, dt: float, paced: np.ndarray, record: dict | None) -> str | None:
    """The warning for frame ids read at the model's training rate (no --fps: `attrs["rate_from"]` "model") whose
    samples come MODEL_RATE_SPARSE of its `dt` s steps apart or more while their moves `paced` (m/s) are
    MODEL_RATE_SLOW of its training tracks' `record` or slower, naming the rate that brings them a step apart; None
    otherwise. At a rate too low, their speeds fall and their windows span less time than said, both within what a
    model knows (frame ids at 20 a second read at 10: scores 2.7 times too good)."""
    if df.attrs.get("time_base") != "frames" or df.attrs.get("rate_from") != "model" or not len(paced):
        return None
    p90 = record.get("p90") if isinstance(record, dict) else None
    if not (isinstance(p90, numbers.Real) and p90 > 0) or np.percentile(paced, 90) > MODEL_RATE_SLOW * p90:
        return None
    interval = sampling_interval(df)
    if interval is None or interval < MODEL_RATE_SPARSE * dt:
        return None
    fps = df.attrs["fps"]
    return (f"warning: the tracks' samples come {interval:.3g} s apart (median), their frame ids read at the model's "
            f"training rate, {fps:g} a second, whose steps are {dt:g} s: if the frame ids count another rate, give "
            f"--fps (at {fps * interval / dt:.3g} a second, their samples come a step apart)")


FLAT_ROWS = 20  # rows (of two agents or more), at least, whose x or y all alike is warned of


def flat_warning(df: pd.DataFrame) -> str | None:
    """The warning for tracks whose x (or y), read from a column --columns named, is the same on every row, of
    FLAT_ROWS rows and two agents or more: every agent on one line, as when a column of zeros (ETH's obsmat z)
    is read as y. None otherwise (tracks a script made along a line are read from columns of their names)."""
    columns = df.attrs.get("columns") or {}
    if len(df) < FLAT_ROWS or df["agent_id"].nunique() < 2:
        return None
    for c in ("x", "y"):
        v = df[c].to_numpy(dtype=np.float64)
        if c in columns and v.min() == v.max():
            return (f"warning: {c} is {v[0]:g} (metres) on every one of the {plural(len(v), 'row')}: every agent "
                    f"moves along one line; if they do not, column '{columns[c]}' is not their {c} (--columns "
                    f"{c}=<column>)")
    return None


# metres: how far along their tracks jittered stamps put positions (typically), warned of from (zara1's test file
# in seconds, stamps off by U(-0.02, 0.02) s: 0.014 m, 0.194/0.339 on 2,240 windows against 0.192/0.339 on 2,356, as
# exact with --fps)
STAMP_OFF = 0.01
STAMP_BAND = 0.5  # intervals within this share of a scene's median interval of it: no missed detection between
STAMP_MOVING = 0.5  # m/s: agents moving this fast over two intervals show whether their moves follow them
STAMP_SPREAD = 0.05  # the least std of the log of one interval over the one before it that can show that


def _stamped(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index, np.ndarray]:
    """A table's stamps (n,), positions (n, 2), scene codes (n,) and names, and agent codes (n,)."""
    scene, names = pd.factorize(df["scene"])
    return (df["frame"].to_numpy(dtype=np.float64), df[["x", "y"]].to_numpy(dtype=np.float64), scene, names,
            pd.factorize(df["agent_id"])[0])


def stamp_jitter(df: pd.DataFrame) -> dict[str, tuple[float, float, float, float]]:
    """Per scene of tracks with a time column, timed in seconds and not put on a grid (`tracks.on_grid`): where
    the time from one detection to the next varies (JITTER_MOVES pairs of consecutive intervals at least, of
    agents moving STAMP_MOVING or faster, both within STAMP_BAND of the median interval, the log of one over
    the other spreading by STAMP_SPREAD), whether the moves follow the stamps. Each pair is read two ways:
    as moves at the stamps' times (the change of velocity between them, over the pair's mean interval) and as
    moves at even times (the second difference of the three positions). Noise adds to both alike; stamps that
    are the detections' times add nothing to the first and the speed times the change of interval to the
    second, and stamps that jitter while the detections come evenly (a receiver's clock, stamping them on
    arrival) the other way round. `share`: the mean square of the first less that of the second, over that of
    the speed times the change of interval: 1 for stamps that jitter, -1 for stamps that are right. Each such
    scene's stamps' jitter (std, seconds: of an interval over the root of 2), how far along its track it puts
    a position read at a stamp (metres: the jitter times the median speed times the share, where the share is
    over twice its standard error, else 0), its rate (per second: of the times against their count along runs
    without a missed detection) and the share."""
    if df.attrs.get("time_base") != "seconds" or df.attrs.get("grid") or len(df) < 3:
        return {}
    t, xy, scene, names, agent = _stamped(df)
    same = (scene[1:] == scene[:-1]) & (agent[1:] == agent[:-1])  # (n-1,) rows i, i+1 of one agent
    interval = np.diff(t)  # (n-1,)
    step = np.diff(xy, axis=0)  # (n-1, 2)
    move = np.hypot(*step.T)
    typical = pd.Series(interval[same]).groupby(scene[:-1][same]).median()  # each scene's median interval
    each = typical.reindex(scene[:-1]).to_numpy()
    near = same & (np.abs(interval - each) <= STAMP_BAND * each)  # (n-1,) no missed detection within
    pair = near[1:] & near[:-1] & (interval[1:] > 0) & (interval[:-1] > 0)  # (n-2,) intervals i, i + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        before, after = interval[:-1], interval[1:]
        speed = (move[1:] + move[:-1]) / (before + after)
        pair &= speed >= STAMP_MOVING
        mean = (before + after) / 2
        stamped = np.sum(((step[1:] / after[:, None] - step[:-1] / before[:, None]) * mean[:, None]) ** 2, axis=1)
        even = np.sum((step[1:] - step[:-1]) ** 2, axis=1)
        # Each over what white noise of 1 m per axis would make of it, so noise adds to both alike.
        stamped /= mean ** 2 * (1 / after ** 2 + (1 / after + 1 / before) ** 2 + 1 / before ** 2)
        even /= 6
        told = (speed * (after - before)) ** 2 / 6  # what a change of interval makes of either, at the pair's speed
        ratio = np.log(after / before)
    pairs = pd.DataFrame({"d": (stamped - even)[pair], "told": told[pair], "rt": ratio[pair], "speed": speed[pair]})
    by = pairs.groupby(scene[1:-1][pair])
    counts, spread, pace = by.size(), by["rt"].std(ddof=0), by["speed"].median()
    d_mean, d_std, scale = by["d"].mean(), by["d"].std(ddof=1), by["told"].mean()
    within = scene[:-1][near]
    centre = pd.Series(interval[near]).groupby(within).median().reindex(within).to_numpy()
    sigma = 1.4826 * pd.Series(np.abs(interval[near] - centre)).groupby(within).median() / math.sqrt(2)  # (MAD)
    # The rate: times against their count along each run of detections without a missed one (a least-squares
    # slope pooled over the scene's runs), which the stamps' jitter leaves whole.
    run = np.cumsum(np.r_[True, ~near])  # (n,) runs of rows each an interval within the band after the one before
    runs = pd.DataFrame({"t": t, "i": np.arange(len(t), dtype=np.float64), "run": run})
    centred = runs[["t", "i"]] - runs.groupby("run")[["t", "i"]].transform("mean")
    slope = (centred["t"] * centred["i"]).groupby(scene).sum() / (centred["i"] ** 2).groupby(scene).sum()
    rate = 1.0 / slope
    found = {}
    for s in counts.index[(counts >= JITTER_MOVES) & (spread >= STAMP_SPREAD)]:
        share = float(d_mean[s] / scale[s])
        sure = share > 2 * float(d_std[s]) / math.sqrt(float(counts[s])) / float(scale[s])
        off = float(sigma[s]) * min(share, 1.0) * float(pace[s]) if sure else 0.0
        found[str(names[s])] = (float(sigma[s]), off, float(rate[s]), share)
    return found


BURST_TINY = 0.35  # an interval under this share of its track's mean interval (its rate, were it even) is short
BURST_SHARE = 0.1  # ... and a scene of this share of short ones, at least, may be stamped in bursts
BURST_SPAN = 1.0  # seconds, at least, from an interval to the detections either side that give its agent's pace
BURST_LEAD = 2.5  # times as far along its track as its pace would take it: an interval's move that its time missed
BURST_ALONG = 3.0  # ... and that many times as far along its track as across it (noise moves it either way alike)


def stamp_bursts(df: pd.DataFrame) -> dict[str, tuple[int, int, float, float, float]]:
    """Per scene of tracks with a time column, timed in seconds and not put on a grid (`tracks.on_grid`), whose
    detections are stamped in bursts: made evenly, received in batches and stamped on arrival (in any order), so
    that several come within a moment of each other while their agents move between them as far as between
    batches. Such a scene has a share BURST_SHARE or more of its intervals short (under BURST_TINY of their
    track's mean interval), JITTER_MOVES of them of agents moving STAMP_MOVING or faster (their pace between the
    detections BURST_SPAN or more before and after, so across a batch), over which those agents move, at the
    median, BURST_LEAD times as far along their tracks (either way) as their pace takes them in that time, and
    BURST_ALONG times as far as across them. Stamps that are the detections' times move an agent about its pace
    along its track, and noise as far across it as along it. -> each such scene's short intervals, all its
    intervals, the short ones' median (seconds), how far along their tracks agents move over them (metres,
    median) and in how long their pace would take them there (seconds, median)."""
    if df.attrs.get("time_base") != "seconds" or df.attrs.get("grid") or len(df) < 3:
        return {}
    t, xy, scene, names, agent = _stamped(df)
    new = np.r_[True, (scene[1:] != scene[:-1]) | (agent[1:] != agent[:-1])]
    track = np.cumsum(new) - 1  # (n,)
    first = np.flatnonzero(new)  # (A,) each track's first row
    last = np.r_[first[1:] - 1, len(t) - 1]  # (A,)
    count = last - first
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(count > 0, (t[last] - t[first]) / count, np.nan)  # (A,) each track's mean interval
    i = np.flatnonzero(~new[1:])  # intervals: rows i, i + 1 of one track
    if not len(i):
        return {}
    own = track[i]
    # Each track's times laid end to end, BURST_SPAN apart, so one sorted search finds the rows a span away.
    span = t[last] - t[first]  # (A,)
    offset = np.r_[0.0, np.cumsum(span + 2 * BURST_SPAN + 1.0)[:-1]] - t[first]  # (A,)
    key = t + offset[track]  # (n,) increasing
    lo = np.maximum(np.searchsorted(key, key[i] - BURST_SPAN, side="right") - 1, first[own])
    hi = np.minimum(np.searchsorted(key, key[i + 1] + BURST_SPAN, side="left"), last[own])
    interval, step = t[i + 1] - t[i], xy[i + 1] - xy[i]  # (m,), (m, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pace = (xy[hi] - xy[lo]) / (t[hi] - t[lo])[:, None]  # (m, 2) the agent's velocity about the interval
        speed = np.hypot(*pace.T)
        along = np.abs(np.sum(step * pace, axis=1)) / speed  # (m,) metres moved along the track, either way
        across = np.abs(step[:, 0] * pace[:, 1] - step[:, 1] * pace[:, 0]) / speed  # (m,) ... and across it
        short = interval < BURST_TINY * mean[own]
    judged = short & (speed >= STAMP_MOVING) & np.isfinite(along)
    of = scene[i]  # (m,) each interval's scene
    shorts, intervals = np.bincount(of[short], minlength=len(names)), np.bincount(of, minlength=len(names))
    counted = (np.bincount(of[judged], minlength=len(names)) >= JITTER_MOVES) & (shorts >= BURST_SHARE * intervals)
    mine = judged & counted[of]
    if not mine.any():
        return {}
    medians = pd.DataFrame({"within": interval[mine], "moved": along[mine], "across": across[mine],
                            "took": along[mine] / speed[mine]}).groupby(of[mine]).median()  # took: s of its pace
    return {str(names[s]): (int(shorts[s]), int(intervals[s]), float(m.within), float(m.moved), float(m.took))
            for s, m in medians.iterrows() if m.took >= BURST_LEAD * m.within and m.moved >= BURST_ALONG * m.across}


def burst_warning(df: pd.DataFrame, found: dict | None = None) -> str | None:
    """The warning for scenes whose detections are stamped in bursts (`stamp_bursts`, or `found` where measured),
    naming up to three, the most bursty first; a live feed's names the times it sends. None otherwise: no option
    reads such stamps right (--fps puts a burst on one grid point)."""
    found = stamp_bursts(df) if found is None else found
    if not found:
        return None
    ranked = sorted(found.items(), key=lambda kv: -kv[1][0] / kv[1][1])
    scene, (short, intervals, within, moved, took) = ranked[0]
    names = ", ".join(f"'{name}'" for name, _ in ranked[:3]) + (", ..." if len(ranked) > 3 else "")
    what = f"of scene '{scene}'" if len(found) == 1 else f"of {len(found)} scenes ({names})"
    where = "" if len(found) == 1 else f"in '{scene}', "
    fix = "send each detection with the time it was made" if df.attrs.get("clock_name") else \
        "stamp each detection when it is made (no option reads such times right)"
    return (f"warning: the times {what} come in bursts: {where}{short:,} of the {intervals:,} detections that follow "
            f"another of their agent's came {_seconds(within)} after it (median), yet "
            f"their agents moved {moved:.2g} m along their tracks since, as far as they go in {_seconds(took)} "
            f"(detections received in batches and stamped then? or two sensors that place an agent apart?), so "
            f"their positions are read at the wrong times; {fix}")


def _seconds(s: float) -> str:
    return f"{s * 1000:.2g} ms" if s * 1000 < 99.5 else f"{s:.2g} s"


def stamp_warning(df: pd.DataFrame) -> str | None:
    """The warning for scenes whose stamps jitter while the detections come evenly (`stamp_jitter`), putting
    positions STAMP_OFF or more along their tracks (the jitter the moves do not follow, at their speed),
    naming --fps at their rate (`tracks.on_grid`); a live feed's names the times it sends. Before it, on a line
    of its own, that of stamps in bursts (`burst_warning`), whose scenes the jitter line leaves out. None
    otherwise."""
    bursts = stamp_bursts(df)
    over = {k: v for k, v in stamp_jitter(df).items() if v[1] >= STAMP_OFF and k not in bursts}
    lines = [burst_warning(df, bursts), _jitter_line(df, over) if over else None]
    return "\n".join(line for line in lines if line) or None


def _jitter_line(df: pd.DataFrame, over: dict) -> str | None:
    """`stamp_warning`'s line for the scenes `over` whose stamps jitter (`stamp_jitter`'s of them)."""
    scene, (sigma, off, rate, _) = max(over.items(), key=lambda kv: kv[1][1])
    hz = _fitting_rate(df[df["scene"] == scene], rate)
    if hz is None:  # no grid fits its times (a logger that stamps by distance, not by a clock): no even detections
        return None
    what = f"of scene '{scene}'" if len(over) == 1 else f"of {len(over)} scenes (scene '{scene}' the most)"
    said = (f"warning: the times {what} jitter by about {sigma:.2g} s around {hz} Hz while the detections come "
            f"evenly (stamped when received?), which reads positions about {off:.2g} m off along their tracks; ")
    if df.attrs.get("clock_name"):  # a live feed's updates
        return said + "send each detection with the time it was made"
    alone = "" if len(over) == df["scene"].nunique() else \
        f" ({'its' if len(over) == 1 else 'their'} rows alone: it reads every scene on that grid)"
    return said + f"give --fps {hz}{alone} to read each track's times on a {hz} Hz grid, or stamp detections when made"


def _fitting_rate(rows: pd.DataFrame, rate: float) -> str | None:
    """`rate` written to the fewest significant digits (3 to 6) whose grid `resample.on_a_grid` fits the times of
    `rows` (one scene's, sorted by agent and time) as `tracks.on_grid` would accept it; None where none does."""
    t = rows["frame"].to_numpy(dtype=np.float64)
    agent = pd.factorize(rows["agent_id"])[0]
    for digits in range(3, 7):
        said = f"{rate:.{digits}g}"
        period = 1.0 / float(said)
        _, keep, rms = on_a_grid(t, np.zeros(len(t), np.int64), agent, period)
        if rms[0] <= GRID_OFF * period and len(t) - len(keep) <= GRID_SHARED * len(t):
            return said
    return None


JITTER = 0.07  # metres: detections' noise (std per axis) warned of; ETH/UCY's annotations jitter by 0-4 cm
# ... of a dense tracker's (FIT_DENSE or more detections a step, whose steps --noise reads as lines through them,
# `resample.fitted`): on val at 10 and 30 Hz, --noise auto wins back 9-11% of (minADE + minFDE) / 2 at 5 cm, 4% at 3
JITTER_DENSE = 0.05
# m/s^2: a walker's own turns and stops change its velocity as much as noise of JITTER_TURN x (seconds apart)^2
# metres would (1 s apart: 0.25 m; ETH's annotations kept every other frame, 0.8 s: 0.07 m), so sparser samples
# are told of more noise only
JITTER_TURN = 0.25
JITTER_P90 = 1.2  # m/s: ... for a model of walkers (this 90th-percentile speed); one of faster agents, by its root
# s: ... for a model of this step; one of shorter steps reads a velocity over each and is hurt by less noise, in
# proportion (a 10 Hz walker model: 3 cm cost 19% of its minADE, 5 cm 46%; --noise auto won back most)
JITTER_DT = 0.4
# --noise auto is offered for scenes whose windows keep at least this share of their detections' noise (`_kept`)
KEPT = 0.7
JITTER_MOVES = 20  # changes of velocity in a scene, at least, to judge it by
JITTER_TRACK = 5  # ... in a track, to judge it by
# A scene whose own jitter is under the least warned of, but this share of its tracks' over it (one detector among
# others, or a tracker's noisy class), is warned of too: --noise auto smooths each window by its own. ETH/UCY's test
# files: up to 8% (eth's annotations, 0-4 cm at the median); a third of zara1's agents with 0.3 m of noise: 33%.
JITTER_SOME = 0.15
# ... and where those tracks jitter this many times as much as the others (median against median), apart from them:
# agents that turn and brake more than others (a car model's, 1.5 times) are no noisy detector's (eth's: 2.3)
JITTER_APART = 3.0
RAYLEIGH_MEDIAN = 1.177  # the median length of a 2-D Gaussian's draws, in its std per axis (sqrt(2 ln 2))
NOISE_OVER = 5.0  # a --noise this many times the tracks' jitter (or what a scene can tell, where more) is warned of
NOISE_STEP = 1.77  # the mean length of the step between two positions off by white noise: this times its std


@dataclass
class Jitter:
    """A scene's jitter (`jitter`): the noise its detections would have (std per axis, metres), and the least
    noise warned of (`least`): JITTER, or JITTER_DENSE for a dense tracker's, or more where its agents' own turns
    at its samples' spacing could be taken for it."""
    scene: str
    sigma: float
    seconds: float  # the median spacing of its samples' steps (a model step, or longer)
    kept: float  # the share of that noise its windows keep, as `window_noise` measures it (`_kept`); NaN: unknown
    dense: bool = False  # a dense tracker's (`_Spans.dense`): warned of from JITTER_DENSE
    # (T,) the noise of each of its tracks of JITTER_TRACK changes of velocity or more, measured as the scene's
    tracks: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def least(self, record: dict | None = None, dt: float = JITTER_DT) -> float:
        """For a model of training speeds `record` (`speed_record`) and `dt` s steps."""
        p90 = record.get("p90") if isinstance(record, dict) else None
        fast = math.sqrt(max(p90 / JITTER_P90, 1.0)) if isinstance(p90, numbers.Real) and math.isfinite(p90) else 1.0
        short = min(dt / JITTER_DT, 1.0)
        return fast * max(short * (JITTER_DENSE if self.dense else JITTER), JITTER_TURN * self.seconds ** 2)


def jitter(spans: list[_Spans]) -> list[Jitter]:
    """Per scene of at least JITTER_MOVES changes of velocity: the noise (std per axis, metres) of detections
    whose velocity changes from one step to the next (`_Spans.wobble`) by as much, at the median, as white noise
    of that std would (the median length of a 2-D Gaussian is 1.177 times its std per axis); walks change it
    little (a walker's turns and stops, 1-2 cm over 0.4 s steps). Each track's too (`Jitter.tracks`)."""
    oks = [np.isfinite(s.wobble) for s in spans]
    # Every scene's tracks in one pass (their ids are the table's, each scene's a run of them; a file of
    # thousands of scenes would otherwise take a grouping each).
    per = pd.Series(np.concatenate([s.wobble[ok] for s, ok in zip(spans, oks)] or [np.zeros(0)])).groupby(
        np.concatenate([s.track[ok] for s, ok in zip(spans, oks)] or [np.zeros(0, np.int64)])).agg(["median", "size"])
    judged = per["size"].to_numpy() >= JITTER_TRACK
    ids, medians = per.index.to_numpy()[judged], per["median"].to_numpy()[judged]
    out = []
    for s, ok in zip(spans, oks):
        if ok.sum() >= JITTER_MOVES:
            sigma, seconds = float(np.median(s.wobble[ok])) / RAYLEIGH_MEDIAN, float(np.median(s.apart[ok]))
            mine = slice(*np.searchsorted(ids, [s.track[ok].min(), s.track[ok].max() + 1]))
            out.append(Jitter(s.scene, sigma, seconds, s.kept, s.dense, medians[mine] / RAYLEIGH_MEDIAN))
    return out


def jitter_warning(scenes: list[Jitter], noise: float | str, record: dict | None, dt: float) -> str | None:
    """The warning for scenes that `jitter` more than they can be told to from their own turns (`Jitter.least`,
    more for a model of faster agents, `record`'s 90th-percentile speed: cars turn and brake more within a step)
    and twice the `noise` the model is told of, naming the scene where others do not; or for a `noise` over
    NOISE_OVER times the most any scene jitters (or can tell), which smooths histories flat (a noise given in the
    input's units, not metres); None otherwise. `noise` "auto" is told of every scene's jitter but that of scenes
    whose windows, interpolated onto the model's `dt` s steps between samples, keep under KEPT of it
    (`Jitter.kept`): `window_noise` measures them short of their noise."""
    if not scenes:
        return None
    auto, most = noise == NOISE_AUTO, max(scenes, key=lambda j: j.sigma)
    if not auto and noise > NOISE_OVER * max(max(j.sigma, j.least(record, dt)) for j in scenes):
        said = f"{most.sigma:.2g}" if most.sigma >= 0.01 else f"{most.sigma:.1g}"  # (0.003, not 0.00)
        return (f"warning: --noise {noise:g} is more than {NOISE_OVER:g} times the tracks' jitter (about {said} m a "
                "position, std per axis): their histories are smoothed nearly flat, and futures start behind their "
                "agents; --noise is in metres, whatever the input's units: "
                + (f"give about --noise {said}" if most.sigma >= most.least(record, dt) else "they need none"))
    sparse = lambda j: j.kept < KEPT  # noqa: E731  (NaN: not known to be)
    over = [j for j in scenes if j.sigma >= j.least(record, dt) and (sparse(j) if auto else j.sigma >= 2 * noise)]
    if not over:
        return None if auto else _some_tracks_jitter(scenes, noise, record, dt)
    what = "the tracks jitter" if len(over) == len(scenes) else \
        f"scene '{over[0].scene}' jitters" if len(over) == 1 else \
        f"{len(over)} of {len(scenes)} scenes jitter"
    sigma = float(np.median([j.sigma for j in over]))
    alone = "" if len(over) == len(scenes) else " (those scenes' files alone)"
    if any(map(sparse, over)):
        kept = float(np.median([j.kept for j in over if sparse(j)]))
        fix = (f"give --noise {sigma:.2g}{alone} to smooth their histories (--noise auto would measure about "
               f"{kept:.0%} of it: the model's {dt:g} s steps fall between their samples, and interpolated positions "
               "hide the rest)")
    elif alone:
        fix = (f"give --noise auto to smooth each window's history by its own jitter (or --noise {sigma:.2g} for "
               "those scenes' files alone)")
    else:
        fix = f"give --noise {sigma:.2g}, or --noise auto (each window's own, measured), to smooth their histories"
    return (f"warning: {what} by about {sigma:.2g} m a position (std per axis, from how their velocity changes from "
            f"one step to the next), which the model reads as motion: {fix}")


def _some_tracks_jitter(scenes: list[Jitter], noise: float, record: dict | None, dt: float) -> str | None:
    """`jitter_warning`'s line for scenes none of which jitters as a whole, where JITTER_SOME or more of one's
    tracks do (by the least warned of and twice the `noise` given), JITTER_APART times as much as its other tracks:
    the scene where they are the largest share."""
    shares = [(float(np.mean(over)), j, j.tracks[over]) for j in scenes if len(j.tracks)
              for over in [j.tracks >= max(j.least(record, dt), 2 * noise)]
              if over.any() and (over.all() or np.median(j.tracks[over]) >= JITTER_APART * np.median(j.tracks[~over]))]
    share, j, some = max(shares, key=lambda s: s[0], default=(0.0, None, None))
    if share < JITTER_SOME:
        return None
    where = "" if len(scenes) == 1 else f" of scene '{j.scene}'"
    return (f"warning: {len(some)} of the {len(j.tracks)} tracks{where} jitter by about {float(np.median(some)):.2g} m "
            "a position (std per axis, from how their velocity changes from one step to the next), the others "
            "less, which the model reads as motion: give --noise auto to smooth each window's history by its own "
            "jitter")


def step_moves(df: pd.DataFrame, dt: float, max_gap: float = 0.8, time_step: float | None = None) -> int:
    """How many moves a model step long (`_Spans`) the tracks hold: the speed check judges only those."""
    return sum(len(s.speed) for s in _spans(df, dt, max_gap, time_step))


def _frame_rate_hint(df: pd.DataFrame, dt: float, paced: np.ndarray, low: float, time_step: float | None) -> str | None:
    """The warning for frame ids of unknown rate whose moves are slow though within the band (under twice its
    bottom, nine in ten of them): most likely a video's or a tracker's frames (10 Hz read as 2.5 Hz makes
    walkers 0.35 m/s; a 30 fps video tracked every third frame, 0.33 m/s), each scene's step read as one
    model step; None otherwise. ETH/UCY's slowest scene's 90th percentile is 1.1 m/s. Frame ids 1 apart in every
    scene are said of at any speed (under 0.4 s steps: ETH/UCY's are 10 apart): a frame counter, of a video's
    frames or a tracker's updates, most likely, and one at 10 Hz read as 2.5 makes cars at 10 m/s walkers."""
    if seconds_per_unit(df) is not None or time_step is not None or not len(paced):
        return None
    fast = float(np.percentile(paced, 90))
    each = time_steps(df).step  # scene -> its step
    steps = sorted(set(each.values()))
    ones = [scene for scene, step in each.items() if step == 1]
    counter = bool(ones) and math.isclose(dt, STEPS_DT)
    if fast >= 2 * low and not counter:
        return None
    rate = f" (no --fps: {1 / dt:g} a second; at 10 a second their speeds are {10 * dt:g} times what is read)"
    if fast >= 2 * low and len(ones) < len(each):  # a counter's scenes among others: those, named
        names = ", ".join(f"'{scene}'" for scene in ones[:3]) + (", ..." if len(ones) > 3 else "")
        which = f"scene {names} (of {len(each)}) has" if len(ones) == 1 else \
            f"{len(ones)} of {len(each)} scenes ({names}) have"
        return (f"warning: {which} frame ids 1 apart, each read as one {dt:g} s step{rate}: if they count a video's "
                "frames or a tracker's updates, read those files alone with --fps (their rate)")
    apart = ("1 apart, each" if steps == [1] else f"{steps[0]:g} apart, each {steps[0]:g}" if len(steps) == 1 else
             "their scene's step apart, each step")
    slow = f" (no --fps), which makes nine in ten of their moves slower than {fast:.2g} m/s" if fast < 2 * low else rate
    return (f"warning: the tracks' frame ids are {apart} read as one {dt:g} s step{slow}: if they count a video's "
            "frames or a tracker's updates, give --fps (their rate)")


def _steps_of_another_length(df: pd.DataFrame, dt: float, time_step: float | None) -> str | None:
    """The warning for frame ids of unknown rate read by a model whose step is not ETH/UCY's 0.4 s: each
    scene's most common difference is taken as one of its steps, a guess only a rate makes real time (cars'
    frame ids at 2.5 Hz read as 10 Hz steps are 4 times too fast, and still inside a car model's speeds)."""
    if seconds_per_unit(df) is not None or time_step is not None or math.isclose(dt, STEPS_DT):
        return None
    return (f"warning: the tracks' frame ids have no known rate, so each scene's most common difference is read as "
            f"one {dt:g} s model step (ETH/UCY's convention, of 0.4 s steps, not this model's): give --fps (their "
            "rate), or a time column in seconds, for real speeds and times")


def coarse_warning(attrs: dict) -> str | None:
    """The warning line for a track table's positions or times stored too coarsely (`attrs["coarse"]`: what,
    or what and its fix)."""
    coarse = attrs.get("coarse")
    if not coarse:
        return None
    what, fix = coarse if isinstance(coarse, tuple) else (coarse, "store them as float64 (double)")
    return f"warning: {what}: the futures are that coarse too; {fix}"


def _rates_speeds_jumps(df: pd.DataFrame, dt: float, record: dict | None, min_moves: int, max_gap: float,
                        jumps: bool, time_step: float | None, noise: float | str | None = None) -> list[str | None]:
    """`plausibility`'s lines after the float32 one: two rates of frame ids, else the speeds, then jumps."""
    mixed = _mixed_steps(df, time_step)
    if mixed:
        return [mixed]
    short = shorter_than_a_step(df, dt, speed_band(record)[1])  # (then the jumps of what is left are no guide)
    guessed = _steps_of_another_length(df, dt, time_step)  # said first, the speeds judged at the guess after it
    rest = _speeds_jumps(df, dt, record, min_moves, max_gap, jumps and not short, time_step, noise)
    return [short, guessed, *rest]


def _speeds_jumps(df: pd.DataFrame, dt: float, record: dict | None, min_moves: int, max_gap: float,
                  jumps: bool, time_step: float | None, noise: float | str | None = None) -> list[str | None]:
    """`_rates_speeds_jumps`' lines after the rates: the speeds outside the band, then jumps, then jitter."""
    low, high, whose = speed_band(record)
    steps = _spans(df, dt, max_gap, time_step)
    speeds, paced = {s.scene: s.speed for s in steps}, {s.scene: s.paced for s in steps}
    every = np.concatenate(list(speeds.values())) if speeds else np.zeros(0)
    if not len(every):
        return []
    what, odd = "the tracks", None
    pooled = np.concatenate(list(paced.values()))
    outside = _speed_outside(every, pooled, low, high)
    judged = {scene: _speed_outside(sp, paced[scene], low, high) for scene, sp in speeds.items()
              if len(sp) >= min_moves}
    odds = [scene for scene, said in judged.items() if said is not None]
    # One scene outside among others within (a file in millimetres beside files in metres) is named, whether
    # or not it takes all the tracks' median with it.
    if outside is None or (odds and len(odds) < len(judged)):
        odd = odds[0] if odds else None
        if odd is None:
            return [_frame_rate_hint(df, dt, pooled, low, time_step), model_rate_warning(df, dt, pooled, record),
                    *(check(df, dt, max_gap, high, spans=steps)[0] for check in (track_jumps, track_spikes) if jumps),
                    stamp_warning(df), None if noise is None else jitter_warning(jitter(steps), noise, record, dt)]
        rest = float(np.median(np.concatenate([sp for scene, sp in speeds.items() if scene != odd])))
        outside = judged[odd]
        files = df.loc[df["scene"] == odd, "_file"].astype(str)
        what = f"scene '{odd}'" + (f" ({files.iloc[0]})" if files.nunique() == 1 and files.iloc[0] != "dataframe"
                                   else "")
    known = seconds_per_unit(df) is not None
    how = "" if known else f" if one frame step is {dt:g} s"
    units = df.attrs.get("units") or {}
    v, measure, over = outside
    degrees = not units and v < low / 100 and looks_like_degrees(df[["x", "y"]].to_numpy(dtype=np.float64))
    live = bool(df.attrs.get("clock_name"))  # a live feed's updates: no columns to name, lon, lat by an option
    lonlat = "send them as lon, lat with lonlat=True (`trajcvae serve --lonlat`)" if live else \
        "name the columns lon, lat"
    fixes = ["that the lon and lat columns hold degrees" if "lonlat" in units else
             "--scale or --homography (positions in metres?" + (f" Longitudes and latitudes in degrees: {lonlat})"
                                                                if degrees else ")")]
    if df.attrs.get("time_base") == "frames" and df.attrs.get("rate_from") == "file":
        fixes.append(f"the file's own rate ({df.attrs['fps']:g} frame ids a second; --fps overrides it)")
    elif df.attrs.get("time_base") == "frames" and df.attrs.get("rate_from") == "model":
        fixes.append(f"the model's training rate ({df.attrs['fps']:g} frame ids a second; --fps overrides it)")
    elif df.attrs.get("time_base") == "frames":
        fixes.append(f"--fps {df.attrs['fps']:g} (frame ids per second?)")
    elif df.attrs.get("time_base") == "seconds" and df.attrs.get("rate_from") == "files":
        fixes.append("the files' own frame rates (their formats' or seqinfo.ini's; --fps overrides them)")
    elif df.attrs.get("time_base") == "seconds":
        wrong = "" if v < low else ", not minutes"  # minutes read as seconds are too fast, never too slow
        clock = df.attrs.get("clock_name") or "the time column"  # (a live feed's: its updates' times)
        fixes.append(f"{clock} ({time_unit_question(df, otherwise=wrong, lead='')})")
    elif not known:
        fixes.append("--fps or a time column in seconds (time between steps?)")
    if odd is not None:  # its file on its own, or, where its file holds other scenes too, its rows
        alone = what != f"scene '{odd}'" and df.loc[df["_file"] == files.iloc[0], "scene"].nunique() == 1
        own = f"give {'its file on its own' if alone else 'its rows as a file of their own'} with the fix"
    scale = (units.get("scales") or {}).get(str(odd)) if odd is not None else None
    if scale is not None:  # a scale per scene: its own entry is the one in doubt
        fixes[0] = f"its scale, {scale:g} metres per unit" + (f" (pixels per metre? give {1 / scale:.4g})"
                                                               if scale > 1 else "")
        own = "correct its entry in the scales given" + (" or its rate" if len(fixes) > 1 else "")
    others = "" if odd is None else f"; the other scenes' median is {rest:.3g} m/s, so {own}"
    slow = record.get("slow") if isinstance(record, dict) and v < low else None
    if whose == WALKING:
        agents = "; tracks of vehicles or cyclists are expected to get this warning"
    elif isinstance(slow, float) and slow >= SEEN_SLOW:
        agents = (f"; if they are right, they stand or queue, as {slow:.0%} of the model's training moves did "
                  "(it knows agents that slow)")
    else:
        agents = (f"; if they are right, the model knows no agents that {'fast' if v > high else 'slow'}: train one "
                  "on tracks like these (`trajcvae train`)")
    band = f"{_two_digits(low)}-{_two_digits(high)} m/s of {whose}"
    said = (f"warning: the {measure} of {what}{over} is {v:.3g} m/s{how}, outside the {band}: check "
            f"{' and '.join(fixes)}{others}{agents}")
    # Jitter is said first. Noise makes a step look fast, but hardly a pace over PACE steps: too fast a step
    # that the tracks' jitter would not give, or whose moving agents' pace is too fast as well (the 90th
    # percentile: standing ones jitter in place), is a sign of wrong units (tracks in other units jitter in those
    # units too), not of jitter; one that the noise the model is told of would give is none, as is one that the
    # jitter --noise auto measures would.
    scenes = [] if noise is None else jitter(steps)
    jittery = None if noise is None else jitter_warning(scenes, noise, record, dt)
    if v > high:
        pace = paced[odd] if odd is not None else pooled
        units = len(pace) > 0 and float(np.percentile(pace, 90)) > high
        fast = lambda sigma: not units and any(sigma * NOISE_STEP / j.seconds >= v / 2 for j in scenes)  # noqa: E731
        most = max([j.sigma for j in scenes], default=0.0)
        jittery = jittery if fast(most) else None
        said = None if jittery is None and noise and fast(most if noise == NOISE_AUTO else noise) else said
    # The other scenes are within the band, so their jumps are judged as if the odd one were not there.
    others = [s for s in steps if s.scene != odd]
    if odd is None:
        return [jittery, said]
    rest = [check(df, dt, max_gap, high, spans=others)[0] for check in (track_jumps, track_spikes)] if jumps else []
    return [jittery, said, *rest, stamp_warning(df[df["scene"] != odd])]  # (and the other scenes' stamps)


FAST_CLOCK = 0.01  # seconds: samples closer than this (over 100 a second) may be times in minutes or hours
SHORT_SHARE = 0.75  # ... where at least this share of the tracks last less than a step (minutes: nearly all)


def shorter_than_a_step(df: pd.DataFrame, dt: float, high: float) -> str | None:
    """The warning for tracks of a known rate whose samples come over 100 a second, most of which last less
    than one model step (`dt` seconds) and cross it faster than `high` m/s (the top of the speed band), so that
    few agents can be predicted: times in minutes or hours read as seconds, or a rate given too high. Judged
    per scene: one such scene among others (a file in minutes beside files in seconds) is named. (A tracker
    that fast whose short tracks move at a walker's pace is left alone; live detections, whose tracks are
    all short at first, are not judged here.)"""
    spu = seconds_per_unit(df)
    if spu is None or len(df) < 2:
        return None
    scene = pd.factorize(df["scene"], sort=False)[0]  # (N,) codes in the order scenes come
    agent = df["agent_id"].to_numpy()
    same = (agent[1:] == agent[:-1]) & (scene[1:] == scene[:-1])
    gaps = np.diff(df["frame"].to_numpy(dtype=np.float64))[same] * spu  # seconds between an agent's samples
    if not (gaps < FAST_CLOCK).any():
        return None
    intervals = pd.Series(gaps).groupby(scene[1:][same]).median()  # each scene's median
    g = df.assign(code=scene).groupby(["code", "agent_id"], observed=True, sort=False)
    first, last = g[["frame", "x", "y"]].first(), g[["frame", "x", "y"]].last()
    lasting = (last["frame"] - first["frame"]).to_numpy(dtype=np.float64) * spu  # (agents,) seconds, first to last
    speed = np.hypot(last["x"] - first["x"], last["y"] - first["y"]).to_numpy() / np.where(lasting > 0, lasting, 1)
    code = first.index.get_level_values(0).to_numpy()  # (agents,) each agent's scene
    moved = lasting > 0
    if not np.any(moved & (lasting >= dt * (1 - STAMP))):  # none lasting a step: no window, and an error says why
        return None

    def judged(chosen: np.ndarray) -> tuple[int, int, float] | None:  # (short, of, m/s) where most are short
        m = moved & chosen
        short, of = int(np.count_nonzero(m & (lasting < dt * (1 - STAMP)))), int(np.count_nonzero(m))
        if not of or short < SHORT_SHARE * of:
            return None
        v = float(np.median(speed[m]))
        return (short, of, v) if v > high else None

    odd = [s for s, interval in intervals.items() if interval < FAST_CLOCK and judged(code == s)]
    if not odd:
        return None
    where, alone = "", ""
    if len(odd) < len(intervals):  # one scene among others: named, as the speed warning names one
        s = odd[0]
        chosen, interval = code == s, float(intervals[s])
        name = df["scene"].iloc[int(np.argmax(scene == s))]
        files = df.loc[scene == s, "_file"].astype(str)
        more = f" (and {plural(len(odd) - 1, 'other scene')})" if len(odd) > 1 else ""
        where = f"in scene '{name}'" + (f" ({files.iloc[0]})" if files.nunique() == 1 and files.iloc[0] != "dataframe"
                                        else "") + f"{more}, "
        alone = " (its file on its own)"
    else:
        chosen, interval = np.ones(len(code), bool), float(np.median(gaps))
    short, of, v = judged(chosen) or judged(code == odd[0])
    return (f"warning: {where}{short} of {of} agents' tracks last less than one {dt:g} s step (median "
            f"{float(np.median(lasting[moved & chosen])):.3g} s, at {v:.3g} m/s from first to last position; "
            f"samples {interval:.3g} s apart), so {'none' if short == of else 'few'} of them can be predicted: "
            f"{clock_question(df, interval, tuple(PER_SECOND))}{alone}")


def clock_question(df: pd.DataFrame, interval: float, among: tuple[str, ...] = STAMP_ROLES) -> str:
    """The question for tracks whose clock looks far too fast (samples `interval` seconds apart): the rate
    their frame ids were read at, or the unit of their time column (naming the time role `among` those
    given that fits)."""
    if df.attrs.get("rate_from") == "files":  # frame ids of each file's own rate, timed in seconds
        return "are the files' own frame rates (their formats' or seqinfo.ini's) right? --fps overrides them"
    fps, given = df.attrs.get("fps"), df.attrs.get("rate_from") if df.attrs.get("time_base") == "frames" else None
    if given == "fps":
        return f"is --fps {fps:g} the frame ids' rate?"
    if given == "model":
        return f"are the frame ids {fps:g} a second, the model's training rate? Give --fps, their rate"
    if given == "file":
        return f"is the file's own rate ({fps:g} frame ids a second) right? --fps overrides it"
    return time_unit_question(df, interval, " (not minutes or hours)", among=among)


def _mixed_steps(df: pd.DataFrame, time_step: float | None = None, share: float = 0.25) -> str | None:
    """For frame ids of unknown rate, a one-line warning when a scene steps by another difference than its
    step (`time_step`, else its most common difference) in at least `share` of its moves: frame ids of two
    rates, where every move of the other rate splits a track (missed frames are rarer than that). So for a
    TrajNet++ file, whose frame ids' rate is its samples' (scene records' fps) times its most common step: the
    moves of another step are read at another rate (two datasets' files joined)."""
    trajnet = df.attrs.get("rate_from") == "file" and df.attrs.get("scene_records") is not None
    if df.attrs.get("time_base", "steps") != "steps" and not trajnet:
        return None
    for scene, g in df.groupby("scene", sort=True, observed=True):
        same = g["agent_id"].to_numpy()[1:] == g["agent_id"].to_numpy()[:-1]
        diffs = np.round(np.diff(g["frame"].to_numpy(dtype=np.float64))[same], 9)
        diffs = diffs[diffs > 0]
        if len(diffs) < 20:
            continue
        vals, counts = np.unique(diffs, return_counts=True)
        step = vals[np.argmax(counts)] if time_step is None or trajnet else round(float(time_step), 9)
        other = diffs[diffs != step]
        if len(other) >= share * len(diffs):
            v, n = np.unique(other, return_counts=True)
            moves = f"warning: scene '{scene}' moves {v[np.argmax(n)]:g} frame ids at a time in " \
                f"{len(other) / len(diffs):.0%} of its moves"
            if trajnet:
                return (f"{moves}, not its step of {step:g}, at which its scene records' rate is read ("
                        f"{df.attrs['fps']:g} frame ids a second): the other moves are read at another rate; give "
                        "the rows of each step as their own file")
            if time_step is not None:
                return (f"{moves}, not the model's step of {step:g} frame ids (data.time_step): those moves split "
                        "its tracks; give --fps (its frame ids' rate)")
            return (f"{moves}, not its step of {step:g}: frame ids of two rates split its tracks there; give "
                    "--fps, or the rows of each rate as their own file")
    return None


def time_unit_question(df: pd.DataFrame, interval: float | None = None, otherwise: str = "",
                       lead: str = "is the time column ", among: tuple[str, ...] = STAMP_ROLES) -> str:
    """'is the time column in seconds?' for tracks whose times look wrong, naming the unit they were read in
    (--columns' role) and the role `among` those given under which their samples (`interval` seconds apart,
    median) would come as a tracker's do, 0.01-2 s apart, where another would; else `otherwise` after the
    question. Minutes and hours are among the roles only where the tracks are known to be too short and too
    fast for seconds: samples over 100 a second may be a fast tracker's."""
    columns = df.attrs.get("columns") or {}
    role = time_role(columns)
    column = columns.get(role) or df.attrs.get("clock") or "<column>"
    asked = f"{lead}in {UNIT_NAMES[role]}" + (f" (--columns {role}={column})" if role in columns else "")
    interval = sampling_interval(df) if interval is None else interval
    read = {r: interval * PER_SECOND[role] / PER_SECOND[r] for r in dict.fromkeys((*among, role))} if interval else {}
    fits = {r: apart for r, apart in read.items() if 0.01 <= apart <= 2}  # seconds apart, read as role r
    if not fits or role in fits:
        return f"{asked}{otherwise}?"
    better = min(fits, key=lambda r: abs(math.log10(fits[r] / 0.1)))
    if df.attrs.get("clock_name"):  # a live feed's updates: their times are sent in seconds
        return (f"{asked}? Read as {UNIT_NAMES[better]}, its samples would come {fits[better]:.3g} s apart: send "
                "times in seconds")
    return f"{asked}? Read with --columns {better}={column}, its samples would come {fits[better]:.3g} s apart"


# --- histories the model's frame cannot hold ---------------------------------------------------------------

WINDING = 2.0  # a path over the frame's measure of it: one window of ETH/UCY's 34,000 test windows is beyond
WITHIN = WINDING * (1 + 1e-5)  # compared with: a history at 2 in float64 is within in float32 (the batch's) too


def winding(obs: np.ndarray, min_speed: float) -> np.ndarray:
    """(N, T, 2) observed positions in metres (NaN before a track starts) -> (N,) how many times as long each
    observed path is as the model's frame takes it to be: the path's length over its net displacement, or over
    `min_speed` a step where the agent barely moved (`batch.make_batch`'s speed unit). A straight walk gives 1;
    a walker who turned back, or a standing person's tracker jitter, several: their history then reaches
    further from t0, in the frame's units, than any the model trained on, and their futures would go far."""
    return _whole(obs, _windings(obs, _step_lengths(obs), min_speed))


# The smoother's walker (`smoothed`): its velocity changes by white noise of this many m/s^2 (a walker's turns and
# stops; chosen on ETH/UCY's val files with noise added, docs/lab-notes.md: 1 m/s^2 smoothed too little), and
# before its first position it may move at any speed (a velocity variance of 100 (m/s)^2).
ACCEL, VELOCITY_VAR = 0.25, 100.0
AUTO_MOVES = 3  # second differences a window needs for its noise to be measured; with fewer it is read as recorded


def agility(top_step: float | None, dt: float) -> float:
    """How many times a walker's ACCEL the smoother lets a model's agents change their velocity by: its top speed
    (`top_step` metres over a `dt` step; None: walkers) over a walker's, 1 at most walking pace, as `Jitter.least`
    grows: an agent n times as fast turning as sharply changes its velocity n times as fast (a turn's acceleration
    is speed times turn rate), and cars brake harder; a walker's agility smooths that away."""
    return 1.0 if top_step is None else max(top_step / (WALKERS[1] * dt), 1.0)


def window_noise(obs: np.ndarray, nbr: np.ndarray, noise: float | str, measured: np.ndarray | None = None
                 ) -> np.ndarray:
    """Each window's detection noise (std per axis, metres): `noise` itself, or for `noise` "auto" the noise of
    its own observed positions, the agent's (N, T, 2) and its neighbours' (N, M, T, 2), up to t0 alone: white
    noise of std s gives second differences p[t+1] - 2 p[t] + p[t-1] a median length of 1.177 sqrt(6) s (a 2-D
    Gaussian's, of 6 s^2 per axis), and a walk adds little (a walker's turns, 1-2 cm over 0.4 s steps; a steady
    curve the smoother's walker follows). A window of fewer than AUTO_MOVES second differences gets 0.
    `measured` (N, T), in its rows that are finite: a dense tracker's window's, whose steps are lines through its
    detections (`resample.fitted`): the noise left on each of its steps, of the detections' noise given or, with
    "auto", measured on them (`detection_noise`; the lines keep a third of it, which their steps' measure would
    read).  -> (N,), or (N, T) with `measured`: one noise a position"""
    obs = np.asarray(obs)
    if noise != NOISE_AUTO:
        out = np.full(len(obs), float(noise))
    else:
        pos = np.concatenate([obs[:, None], np.asarray(nbr)[..., :2]], 1).astype(np.float64)  # (N, 1 + M, T, 2)
        second = np.linalg.norm(pos[:, :, 2:] - 2 * pos[:, :, 1:-1] + pos[:, :, :-2], axis=-1).reshape(len(pos), -1)
        seen = np.isfinite(second)  # (N, (1 + M)(T - 2))
        out = np.zeros(len(pos))
        some = seen.sum(1) >= AUTO_MOVES
        if some.any():
            out[some] = np.nanmedian(second[some], axis=1) / (RAYLEIGH_MEDIAN * math.sqrt(6))  # (unseen: NaN)
    return out if measured is None else np.where(np.isfinite(measured), measured, out[:, None])


def detection_noise(t: np.ndarray, agent: np.ndarray, x: np.ndarray, y: np.ndarray, since: float, max_gap: float,
                    least: float) -> pd.Series:
    """Each agent's detection noise (std per axis, metres) from its own detections at or after `since` (rows at
    times `t` sorted by agent and time, positions x, y): white noise of std s changes the velocity between
    consecutive detections h, i, j by (p_j - p_i) / a - (p_i - p_h) / b (a, b their intervals, each within
    `max_gap`), of std s sqrt(1/a^2 + (1/a + 1/b)^2 + 1/b^2) per axis and a median length of 1.177 times that;
    a walker's own turns add little between detections a tenth of a second apart. The median over each agent
    with `least` or more such changes (a dense tracker's over a history); the others are left out.
    -> Series: agent id -> std"""
    h = np.flatnonzero((agent[:-2] == agent[1:-1]) & (agent[1:-1] == agent[2:]) & (t[:-2] >= since))
    i, j = h + 1, h + 2
    b, a = t[i] - t[h], t[j] - t[i]
    ok = (a > 0) & (b > 0) & (np.maximum(a, b) <= max_gap)
    h, i, j, a, b = h[ok], i[ok], j[ok], a[ok], b[ok]
    change = np.hypot((x[j] - x[i]) / a - (x[i] - x[h]) / b, (y[j] - y[i]) / a - (y[i] - y[h]) / b)
    per = pd.Series(change / np.sqrt(1 / a ** 2 + (1 / a + 1 / b) ** 2 + 1 / b ** 2) / RAYLEIGH_MEDIAN).groupby(
        agent[i])
    return per.median()[per.size() >= least]


def smoothed(pos: np.ndarray, noise: float | np.ndarray, dt: float, top_step: float | None = None) -> np.ndarray:
    """(S, T, 2) observed positions (NaN where unobserved), each detected with Gaussian noise of std `noise`
    (metres) per axis, one for all, (S,) one a track or (S, T) one a position -> each position's mean given all of
    its track's positions in the window (a Kalman smoother, Rauch-Tung-Striebel, of a walker whose velocity changes
    by ACCEL m/s^2 of white noise, `dt` seconds a step; of a model's agents of `top_step`, by `agility` times that).
    Positions after t0 are never in a window, so none reaches one before it. Float64; NaN where `pos` is NaN; a
    track seen once stays where it was seen."""
    pos = np.asarray(pos, dtype=np.float64)
    S, T = pos.shape[:2]
    seen = ~np.isnan(pos[..., 0])  # (S, T)
    begun = np.cumsum(seen, 1) > 0  # (S, T) from each track's first position on
    F = np.array([[1.0, dt], [0.0, 1.0]])  # (position, velocity) per axis, one step on
    Q = (ACCEL * agility(top_step, dt)) ** 2 * np.array([[dt ** 4 / 4, dt ** 3 / 2], [dt ** 3 / 2, dt ** 2]])
    R = np.asarray(noise, dtype=np.float64) ** 2
    R = np.broadcast_to(R[:, None] if R.ndim == 1 else R, (S, T))  # (S, T) each position's noise variance
    m = np.zeros((S, 2, 2))  # (S, axis, state): the two axes share one covariance (the same detections)
    P = np.zeros((S, 2, 2))
    m_pred, P_pred = np.zeros((T, S, 2, 2)), np.zeros((T, S, 2, 2))
    m_filt, P_filt = np.zeros((T, S, 2, 2)), np.zeros((T, S, 2, 2))
    for t in range(T):
        m, P = m @ F.T, F @ P @ F.T + Q  # (one step on; meaningless before a track begins)
        first = seen[:, t] & ~(begun[:, t - 1] if t else np.zeros(S, bool))
        z = np.nan_to_num(pos[:, t])  # (S, 2)
        m[first] = np.stack([z[first], np.zeros_like(z[first])], -1)  # at its first position, any velocity
        P[first] = 0.0
        P[first, 0, 0], P[first, 1, 1] = R[first, t], VELOCITY_VAR
        m_pred[t], P_pred[t] = m, P
        upd = seen[:, t] & ~first
        gain = P[upd, :, 0] / (P[upd, 0, 0] + R[upd, t])[:, None]  # (U, 2) Kalman gain of a position detected
        m[upd] = m[upd] + (z[upd] - m[upd, :, 0])[..., None] * gain[:, None, :]
        P[upd] = P[upd] - gain[:, :, None] * P[upd, 0, :][:, None, :]
        m_filt[t], P_filt[t] = m, P
    out = m_filt[-1].copy()  # (S, 2, 2) the smoothed state, from t0 back
    smooth = np.full((T, S, 2), np.nan)
    smooth[-1] = out[..., 0]
    for t in range(T - 2, -1, -1):
        on = begun[:, t]  # (a track that begins later has nothing here)
        C = P_filt[t, on] @ F.T @ np.linalg.inv(P_pred[t + 1, on])  # (n, 2, 2) the smoother's gain
        out[on] = m_filt[t, on] + (out[on] - m_pred[t + 1, on]) @ C.transpose(0, 2, 1)
        smooth[t, on] = out[on, :, 0]
    return np.where(seen[..., None], smooth.transpose(1, 0, 2), np.nan)


def readable(obs: np.ndarray, min_speed: float, top_step: float, noise: float | np.ndarray = 0.0,
             dt: float = 0.4) -> np.ndarray:
    """(N, T, 2) histories -> what of each the model's frame can hold. A position off the track (both steps to and
    from it longer than `top_step`, metres: the model's top speed over a step, its neighbours within one) is
    read at the middle of its neighbours. Then what follows the last jump (a step longer than `top_step` and
    JUMP times the steps around it: a tracker's id that went to another agent; an agent setting off fast is
    none) is kept, smoothed where the detections have `noise` (metres, (N,) a history's or (N, T) a position's,
    `window_noise`; `smoothed`, `dt` seconds a step: jitter is then not read as a winding walk), and of that the
    longest recent part within WINDING (a walker who turned back is then read as walking the way it walks now, at
    its pace); earlier positions NaN, as before a track starts. A jump at the last step leaves t0 alone (read as
    standing). `obs` itself where no history is changed (a straight walk, at any speed, never is, unless
    smoothed), else a copy."""
    read, start, changed = _reading(obs, min_speed, top_step, noise, dt)
    if read is obs and not changed.any():
        return obs
    read = read.copy() if read is obs else read
    read[np.arange(obs.shape[1])[None, :] < start[:, None]] = np.nan
    return read


def cut_short(obs: np.ndarray, min_speed: float, top_step: float, noise: float | np.ndarray = 0.0,
              dt: float = 0.4) -> np.ndarray:
    """(N,) whether `readable` cuts each history short or mends it (smoothing alone is no change)."""
    return _reading(obs, min_speed, top_step, noise, dt)[2]


def _reading(obs: np.ndarray, min_speed: float, top_step: float, noise: float | np.ndarray = 0.0,
             dt: float = 0.4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What `readable` does to `obs`: the histories mended (`_mended`; from the last jump on, smoothed with
    `noise`), the first position it keeps of each (N,), and (N,) whether it cuts or mends each."""
    read, off = _mended(obs, top_step)
    after = _after_jump(read, top_step)  # jumps are found among the detections
    if np.any(np.asarray(noise) > 0):  # ... and the winding judged of the walk they are noise about
        read = smoothed(np.where(np.arange(obs.shape[1])[None, :, None] < after[:, None, None], np.nan, read),
                        noise, dt, top_step)
    start = _readable_start(read, min_speed, top_step, after)
    return read, start, off | (start > _first(obs))


def _mended(obs: np.ndarray, top_step: float) -> tuple[np.ndarray, np.ndarray]:
    """`obs` with each position off the track (`readable`) moved to the middle of its neighbours (a copy where
    any is), and (N,) whether any was."""
    steps = _step_lengths(obs)  # (N, T - 1)
    bridge = np.linalg.norm(obs[:, 2:] - obs[:, :-2], axis=-1)  # (N, T - 2) from position j - 1 to j + 1
    off = (steps[:, :-1] > top_step) & (steps[:, 1:] > top_step) & (bridge <= top_step)  # (N, T - 2), j = 1..T-2
    if not off.any():
        return obs, off.any(1)
    mended = obs.copy()
    mended[:, 1:-1][off] = ((obs[:, 2:] + obs[:, :-2]) / 2)[off]
    return mended, off.any(1)


def _after_jump(obs: np.ndarray, top_step: float) -> np.ndarray:
    """(N,) the position after each (mended) history's last jump (`readable`), 0 where none."""
    steps = _step_lengths(obs)  # (N, T - 1): step s goes from position s to s + 1 (0 where either is unseen)
    T = obs.shape[1]
    taken = np.pad(~np.isnan(np.diff(obs[..., 0], axis=1)), ((0, 0), (1, 1)))  # (N, T + 1) observed steps, padded
    around = np.maximum(np.pad(steps[:, :-1], ((0, 0), (1, 0))), np.pad(steps[:, 1:], ((0, 0), (0, 1))))
    jumped = (steps > top_step) & (steps > JUMP * around) & (taken[:, :-2] | taken[:, 2:])  # (a lone step: fast?)
    return np.where(jumped.any(1), T - 1 - jumped[:, ::-1].argmax(1), 0)


def _readable_start(obs: np.ndarray, min_speed: float, top_step: float, after: np.ndarray) -> np.ndarray:
    """(N,) the first position of each (mended, perhaps smoothed) history that `readable` keeps, of those from
    `after` on (N,: the position after its last jump, `_after_jump`)."""
    steps = _step_lengths(obs)  # (N, T - 1): step s goes from position s to s + 1 (0 where either is unseen)
    N, T = obs.shape[:2]
    fast = steps > top_step
    windings = _windings(obs, steps, min_speed)  # (N, T - 1)
    winds = ~(windings[np.arange(N), np.minimum(np.maximum(after, _first(obs)), T - 2)] <= WITHIN)  # (N,)
    # Where what follows winds, the part kept holds no step over the top speed either: a start there would be
    # read as a walk from a position the agent may never have been at.
    fast_on = np.cumsum(fast[:, ::-1], axis=1)[:, ::-1] > 0  # (N, T - 1) a fast step at or after s
    within = (windings <= WITHIN) & (np.arange(T - 1)[None, :] >= after[:, None]) & ~(winds[:, None] & fast_on)
    return np.where(within.any(1), within.argmax(1), T - 1)  # (NaN, an unobserved start, is never within)


def _step_lengths(obs: np.ndarray) -> np.ndarray:
    """(N, T, 2) positions -> (N, T - 1) the length of each step, 0 where either end is unobserved."""
    return np.nan_to_num(np.linalg.norm(np.diff(obs, axis=1), axis=-1))


def _windings(obs: np.ndarray, steps: np.ndarray, min_speed: float) -> np.ndarray:
    """(N, T, 2) histories whose `_step_lengths` are `steps` -> (N, T - 1) the `winding` of each one's part
    from position s to t0 (NaN where position s is unobserved)."""
    path = np.cumsum(steps[:, ::-1], axis=1)[:, ::-1]  # (N, T - 1) the length walked from position s
    net = np.linalg.norm(obs[:, -1:] - obs[:, :-1], axis=-1)  # (N, T - 1) how far from position s to t0
    n = obs.shape[1] - 1 - np.arange(obs.shape[1] - 1)  # (T - 1,) steps from position s to t0
    return path / np.maximum(net, n * min_speed)


def _first(obs: np.ndarray) -> np.ndarray:
    """(N, T, 2) -> (N,) each history's first observed position (t0 is always observed)."""
    return (~np.isnan(obs[..., 0])).argmax(1)


def _whole(obs: np.ndarray, windings: np.ndarray) -> np.ndarray:
    """The `_windings` of whole histories: from each one's first observed position (a lone position at t0: 0)."""
    first = np.minimum(_first(obs), obs.shape[1] - 2)
    return np.nan_to_num(windings[np.arange(len(obs)), first])


REACH = 2.0  # futures whose median end is this many times as far as their agent's fastest step could take it: with
# `pedestrian`, none of ETH/UCY's test windows (at most 1.5 with plain draws, 1.9 with the learned K-set's)


def overshoot(obs: np.ndarray, futures: np.ndarray, min_speed: float) -> np.ndarray:
    """(N, T, 2) histories and (N, K, P, 2) their futures, in metres -> (N,) whether the median of each window's
    K futures ends over REACH times as far from t0 as its agent's fastest observed step (at least `min_speed`),
    kept up over the P steps, would take it: futures of a history the model misread (a walker slower than about
    1 m/s who turned back winds too little to be cut, `readable`, yet its frame reads it as walking backwards)."""
    fastest = np.maximum(_step_lengths(obs).max(1), min_speed)  # (N,)
    ends = np.linalg.norm(futures[:, :, -1] - obs[:, None, -1], axis=-1)  # (N, K)
    return np.median(ends, 1) > REACH * futures.shape[2] * fastest


def overshoot_warning(n: int, total: int, where: list[str], noun: str = "window") -> str:
    """The warning of `n` of `total` windows (or agents: `noun`) whose futures `overshoot`, naming a few."""
    return (f"warning: {_some_of(n, total, where, noun)} got futures whose median end lies over {REACH:g} times as "
            "far as the agent's fastest observed step, kept up, would take it: the model misread those histories (as "
            "it does a walker slower than about 1 m/s who turned back); take those agents' futures with care")


def cut_warning(n: int, total: int, where: list[str], noun: str = "window", noise: float | str = 0.0) -> str:
    """The warning of `n` of `total` windows (or agents: `noun`) whose histories `readable` cuts, naming a few;
    `noise`: the metres of noise the model was told of (`data.noise`), or "auto"."""
    advice = ("their detections jump or wind more than their own noise (--noise auto, measured once a history holds "
              f"{AUTO_MOVES} second differences, {AUTO_MOVES + 2} positions of a lone agent) explains"
              if noise == NOISE_AUTO
              else f"their detections jump or wind more than --noise {noise:g} explains" if noise > 0 else
              "if the detections jitter, give their noise in metres (--noise, or --noise auto to measure it)")
    return (f"warning: {_some_of(n, total, where, noun)} observed a history the model's frame cannot hold whole: a "
            f"path over {WINDING:g} times as long as the agent's net motion (a walker who turned back, or heavy tracker "
            "jitter on a standing person), or a step faster than the model knows (a position off the track, or a "
            "tracker's id that went to another agent); each is predicted from what of it the model can read (a "
            "position off the track at the middle of its neighbours; only what follows a jump or a turn, as if its "
            f"track began there): {advice}, and take those agents' futures with care")


def _some_of(n: int, total: int, where: list[str], noun: str) -> str:
    """'n of total nouns (where[0], ...)': a warning's windows (or agents), the first three of them named."""
    named = ", ".join(where[:3]) + (", ..." if n > len(where[:3]) else "")
    return f"{n:,} of {total:,} {noun}{'s' * (total != 1)} ({named})"
