"""Detections -> futures, live: `OnlinePredictor` keeps one scene's recent tracks and, at every update,
predicts K futures for each agent still in view.

It takes the file path's steps, not a copy of them: each update's detections are checked as a file's rows
are and converted to metres by `units.to_metres` (the options checked by `tracks.read_tracks`: the same
`fps`, `scale` and `homography` handling as files; with `lonlat`, longitudes and latitudes projected about
the scene's first detection, as a file's about its scene's first row), and appended to a bounded history,
kept as columns sorted by agent and time. The agents seen now all have their latest observation now, so
their windows are those of one cut of the scene (`windows.latest_windows`, the step `predict` takes for each time an agent
was last seen), sampled and written as `TrajCVAE.predict` does; no track table is built. An agent in view
but not seen now keeps the futures it got when last seen, which read nothing later. So the futures at
time t are those `predict` gives on the detections up to t (written as a file), for the agents seen since
t - forget_after.

With `calibrate="scene"`, plain draws are mapped to fit how the model has done on this scene so far
(`calibrate.py`), as `predict --calibrate scene` maps them on a file: at every update, each agent seen
now whose window's future ends now (t0 = now - pred_len steps, a full history and every future step
observed, at most one per agent and step; also one that ended at a step the agent was missed at, which
this detection bridges) adds its truth's levels to the scene's past, which keeps the latest PAST_HELD of
them; a window's map reads only windows finished by its t0. The levels are read among the draws that
window's own map read when it was predicted (kept pred_len steps and a bridged gap per agent), so a
finished window costs no new draws unless its agent was not predicted at its t0.

The history keeps what the windows read and no more (`windows.history_reach`): each agent's last obs_len
steps, or with the scene memory the paths others walked up to `memory_horizon` steps back, plus the gap
resampling bridges, behind the oldest agent in view. Older rows are dropped at every update, and with
them the ids of agents no longer held.
"""
from __future__ import annotations

import copy
import functools
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
import torch

from .calibrate import MIN_PAST, ScenePast
from .checks import (FAR_APART, bridging_gap, coarse_warning, cut_warning, overshoot_warning, speed_band, step_moves,
                     time_text, track_jumps, track_spikes)
from .config import check_flags, check_forget_after, check_sampling, finite_number
from .errors import (OWN_GAP_AND_NOISE, DataError, NoWindowsError, PickledByThisCode, TrajCVAEError, as_number_hint,
                     keyword_names, one_line, shown, warn, warning_text)
from .predict import OUTPUT_COLUMNS, TrajCVAE, cut_windows, overshot, samples_to_frame
from .resample import STAMP, bridges
from .table import AGENT_COLUMNS, ID_NAMES, TIME_NAMES, lonlat_names, row_at
from .tracks import read_tracks
from .units import check_lonlat, coarse_positions, estimate_warning, from_metres, no_scale, placed, unit_conversion
from .values import (agent_ids, blank_as_missing, coarse_columns, float32_as_written, float32_position_range,
                     missing_marks, numeric_column, unresolved_time)
from .windows import concat_windows, finished_windows, history_reach, latest_windows

PAST_HELD = 5000  # finished windows a live scene's past keeps for `calibrate="scene"` (the latest)
JUDGE_MOVES = 200  # moves seen before the live speed check judges the history (fewer: a moment of standing?)
JUDGE_STEPS = 20  # ... which must hold this many moves a model step long, the check's measure (`checks.step_moves`)
JUDGE_UPDATES = 10  # updates with detections before their spacing is judged (a feed no gap can bridge)
WARNINGS_HELD = 20  # the latest warning lines a predictor keeps in `warnings` (one per agent that jumps)


FORGET_AFTER = 2.0  # seconds an agent not seen again stays in view, by default (or the longest gap bridged)


class OnlinePredictor(PickledByThisCode):
    """K futures for every agent in view, updated detection by detection.

    `OnlinePredictor("pedestrian", k=20).update(12.4, [{"agent_id": "7", "x": 1.2, "y": 3.4}])` returns
    the futures as a DataFrame in `predict`'s columns (`OUTPUT_COLUMNS`, with `time` in seconds, or
    `frame` when `fps` is given; plus `label` once detections have carried one, "" for an agent whose detections
    carried none, and `weight` with a K-set mode).

    model: a `TrajCVAE`, a checkpoint path or a built-in name. fps: times are frame ids at this rate
    (default: seconds). scale, homography: the detections' units (see `tracks.read_tracks`; scales per scene,
    a file's or a dict's, give this scene's own); futures come back in them. lonlat: detections carry `lon,
    lat` (WGS84 degrees) in place of `x, y`, and so do the futures. max_gap: the longest gap (seconds)
    between an agent's detections that is bridged (default: the model's `data.max_gap`, 0.8 s; detections at
    1 Hz need 1.5). noise: the detections' noise (std, metres, or "auto": each window's own, measured; default:
    the model's `data.noise`, 0): each history is smoothed before the model reads it (`TrajCVAE.load`).
    forget_after: seconds after which an agent not seen again is out of view (no futures; its path stays in the
    scene memory while the model reads it; default: 2, or the longest gap bridged where that is longer). kset:
    "none" (K plain draws), "kmeans" or "learned": a K-set of `TrajCVAE.predict`, each future with its weight,
    its share of `draws` plain draws. calibrate: "scene" maps plain draws to fit the scene's past (see the
    module's docstring). futures: "mean" (each z's mean path) or "full" (draws of the whole p(y|x);
    `TrajCVAE.predict`).
    judge_speeds: once `JUDGE_MOVES` moves have been seen, warn (a `TrajCVAEWarning`) if they are not at
    speeds the model was trained on (`TrajCVAE.check_speeds`), and warn of each track that jumps (an id
    that went to another agent, `checks.track_jumps`) once a step and a bridged gap have passed since the
    jump (1.2-1.6 s by default); False for a caller that has judged the detections already (`serve
    --replay` judges its file). `warnings` holds the lines of the latest `WARNINGS_HELD` warnings given, for
    callers that show them (`serve` puts them in its answers). Pickled, it is read back by the same trajcvae code
    only (`PickledByThisCode`).
    """
    REMAKE = "make a new OnlinePredictor and feed it again"

    @keyword_names(OWN_GAP_AND_NOISE)
    def __init__(self, model: TrajCVAE | str = "pedestrian", k: int = 20, seed: int = 0, kset: str = "none",
                 fps: float | None = None, scale: float | str | Mapping | None = None, homography: Any = None,
                 forget_after: float | None = None, scene: str = "live", device: str = "cpu", draws: int = 1000,
                 calibrate: str = "none", lonlat: bool = False, max_gap: float | None = None,
                 judge_speeds: bool = True, futures: str = "mean", noise: float | str | None = None):
        check_sampling(k, seed, kset, draws, calibrate, futures)
        if forget_after is not None:
            check_forget_after(forget_after)
        if not isinstance(model, (TrajCVAE, str, Path)):
            raise TrajCVAEError(f"model must be a TrajCVAE, a checkpoint path or a built-in name (got "
                                f"{type(model).__name__})")
        if scene is None or isinstance(scene, bool) or not str(scene).strip():  # its rows' name, its scale's key
            raise TrajCVAEError(f"scene must be a name, as text or a number (got {scene!r})")
        self.model = TrajCVAE.given(model, device, max_gap, noise)
        self.model.check_kset(k, kset)  # a model without a sampler, or one of another K: refused now
        self.model.check_draws_fit(k, kset, draws)  # ... as are more draws than memory holds
        self.k, self.seed, self.kset, self.draws, self.scene = k, seed, kset, draws, str(scene)
        self.calibrate, self.future_kind = calibrate, futures  # (self.futures: the latest update's)
        check_flags(lonlat=lonlat, judge_speeds=judge_speeds)
        if lonlat and (scale is not None or homography is not None):
            raise TrajCVAEError(f"--lonlat and --{'scale' if scale is not None else 'homography'} exclude each other: "
                                "longitudes and latitudes are projected to metres as they are")
        units = unit_conversion(scale, homography)
        estimate = None
        if units is not None and "scales" in units:  # this scene's own
            if self.scene not in units["scales"]:
                raise no_scale(units, [self.scene])
            scale, estimate = units["scales"][self.scene], estimate_warning(units, [self.scene])
        self.position = ("lon", "lat") if lonlat else ("x", "y")  # the detections' and futures' columns
        self.time_column = "time" if fps is None else "frame"
        # `read_tracks` checks fps, scale and homography now, on one made-up detection; its attributes
        # (time base, rate, the conversion to metres) describe every update's rows.
        one = pd.DataFrame({"agent_id": ["-"], "x": [0.0], "y": [0.0], self.time_column: [0.0]})
        self._attrs = dict(read_tracks(one, fps=fps, scale=scale, homography=homography).attrs)
        if self._attrs.get("units"):
            # The made-up detection's side of a homography's horizon says nothing: the first detections set it.
            self._attrs["units"].pop("side", None)
        if lonlat:
            self._attrs["units"] = {"lonlat": {}}  # the scene's origin: its first detection sets it
        self._attrs["clock_name"] = "the update times"  # what the speed warning asks about (no time column)
        cfg = self.model.config.data
        self._per_second = 1.0 if fps is None else fps  # time units per second
        # 2 s, or the longest gap bridged where that is longer: agents that report every 3 s to a model of 3 s
        # steps stay in view between their reports.
        self.forget_after = (max(FORGET_AFTER, cfg.max_gap) if forget_after is None else forget_after) \
            * self._per_second
        # The model's step and the longest gap resampling bridges, in the time units of updates.
        self._step, self._max_gap = cfg.dt * self._per_second, cfg.max_gap * self._per_second
        # Rows older than this behind the latest update are never read again (one more step: a margin
        # for rounding at the boundary).
        self._keep = self.forget_after + history_reach(cfg, self._step, self._max_gap) + self._step
        # With calibrate="scene": the past (`calibrate.ScenePast`, empty until a window finishes; None without
        # calibration) and, per agent code, when its latest finished window ended; a window finishing now
        # reads pred_len steps further back, one bridged at this detection a gap more.
        self.past: ScenePast | None = None
        self._scored: dict[int, float] = {}
        # Per agent code, the windows predicted in the last pred_len steps and a bridged gap: (t0, inputs,
        # draws), the draws their truth's levels are read among once their future ends (`scene_past(drawn=)`).
        self._drawn: dict[int, list[tuple[float, torch.Tensor, torch.Tensor]]] = {}
        # Whether the warning that the scene's draws are not fitted yet was given, and its line in `warnings`
        # while it holds (taken out once the scene's past fits them).
        self._fit_said, self._fit_line = False, None
        if calibrate == "scene":
            self.past = ScenePast(np.zeros(0, object), np.zeros(0), np.zeros((0, cfg.pred_len)), futures)
            self._keep += cfg.pred_len * self._step + self._max_gap
        # The history held, as columns in metres sorted by (agent, time); agents by integer code, so the
        # windows work on numbers (a code is forgotten with the agent's last row).
        self._cols = {"frame": np.zeros(0), "agent": np.zeros(0, np.int64), "x": np.zeros(0), "y": np.zeros(0),
                      "_line": np.zeros(0, np.int64)}
        self._codes: dict[str, int] = {}  # agent id -> code
        self._ids: dict[int, str] = {}  # code -> agent id
        self._next_code = 0
        self._dtypes = pd.CategoricalDtype([self.scene]), pd.CategoricalDtype(["detections"])  # of `_table`
        self.time: float | None = None
        # The detections are judged unless judge_speeds=False (a caller that has judged them already). The speed
        # warning is given once, on the history held once JUDGE_MOVES moves have been seen and it holds
        # JUDGE_STEPS moves a step long (tried again a step later until it does: `_judge_from`); the warning of
        # detections too coarse to predict from (`_attrs["coarse"]`, float32) once, at the update that first
        # brings them (`checks.plausibility`'s first line, as for a file).
        self._judging, self._speeds_judged, self._moves, self._judge_from = judge_speeds, not judge_speeds, 0, -math.inf
        # Jumps are judged update by update: spans that ended by `_jumps_until` have been, and the agent codes
        # in `_jumped` were warned of (once each).
        self._jumps_until, self._jumped = -math.inf, set()
        # Agents whose history is cut to the part the model can read (`checks.readable`, "cut"), and those whose
        # futures overshoot (`checks.overshoot`, "far"), are warned of once each, by kind: the codes warned of,
        # and the ids of those found at this update.
        self._named: dict[str, set[int]] = {"cut": set(), "far": set()}
        self._naming: dict[str, list[str]] = {"cut": [], "far": []}
        # The spacing of updates with detections is judged once JUDGE_UPDATES have come: if no two came within
        # the gap the model bridges, no agent can ever get futures (`_rate_warning`). `_spacing`: when the
        # latest came, how many have, and the closest two's gap; None once judged.
        self._spacing: tuple[float, int, float] | None = (math.nan, 0, math.inf) if judge_speeds else None
        # The agent ids are judged once JUDGE_UPDATES updates with detections have come in a row, each within that
        # gap of the one before: if no id came twice, no agent can get futures. `_chained`: when the latest came
        # and how many in a row; None once judged, or once an agent came twice.
        self._chained: tuple[float, int] | None = (-math.inf, 0) if judge_speeds else None
        self._ids_line: str | None = None  # that warning, in `warnings` until an agent comes twice
        # The lines for detections posted without the units (or classes) the model was trained with
        # (`TrajCVAE.units_warning`), said at the first update with detections; None until then.
        self._units: list[str] | None = None
        self.warnings: list[str] = []
        if estimate:  # a scale file's guess at this scene's scale
            self._warn(estimate)
        self._k: int | None = None  # the K of `futures`
        self._recast = False  # `futures` are in longitudes of another convention than the scene's now
        self.futures = self._no_futures()

    # --- the update -----------------------------------------------------------------------------------
    @keyword_names(OWN_GAP_AND_NOISE)
    def update(self, time: float, detections: pd.DataFrame | Iterable[Mapping] | Iterable[tuple],
               k: int | None = None) -> pd.DataFrame:
        """Add the detections seen at `time` (rows of agent_id, x, y [, label], in the predictor's units)
        and return the futures of every agent seen since time - forget_after, each from its latest
        detection (`k` of them, default the predictor's). Times must increase from update to update; an
        empty list says nobody was seen."""
        if k is not None:
            check_sampling(k, self.seed, self.kset, self.draws)
            self.model.check_kset(k, self.kset)  # before anything changes, as every check of an update
        time, coarse = self._check_time(time)
        saved = self._saved()
        try:
            return self._update(time, detections, k, coarse)
        except Warning:  # a warning made an error is given once the update is whole: it stays
            raise
        except BaseException:  # a failure half-way (a bug, no memory, Ctrl-C) leaves the predictor as it was
            self.__dict__.update(saved)
            raise

    def _saved(self) -> dict:
        """The predictor's attributes, with a copy of each that an update changes in place: `update` puts
        them back if it fails, so that the same detections can be given again."""
        saved = dict(vars(self))
        for name in ("_codes", "_ids", "_scored", "_jumped"):
            saved[name] = copy.copy(saved[name])
        saved["_named"] = {kind: set(codes) for kind, codes in self._named.items()}
        saved["_drawn"] = {code: list(kept) for code, kept in self._drawn.items()}
        saved["_attrs"] = copy.deepcopy(self._attrs)  # the units: a lonlat origin, a homography's side
        return saved

    def _update(self, time: float, detections, k: int | None, coarse: str | None) -> pd.DataFrame:
        """`update` at a checked `time` (`coarse`: what it holds too coarsely, from `_check_time`)."""
        coarse_before = self._attrs["coarse"]
        new = self._detections(detections)  # checked before anything changes
        self._attrs["coarse"] = self._attrs["coarse"] or coarse
        cols = dict(self._cols)  # a new dict: a `state()` taken before keeps its own
        ids = ()  # the agents seen now
        if new is not None:
            ids, n = new.pop("agent_id"), len(new["x"])
            self._moves += sum(a in self._codes for a in ids)  # detections of agents held: moves
            for a in ids:
                if a not in self._codes:
                    self._codes[a], self._ids[self._next_code] = self._next_code, a
                    self._next_code += 1
            code = np.array([self._codes[a] for a in ids], np.int64)
            added = {"frame": np.full(n, time), "agent": code, "_line": np.arange(1, n + 1), **new}
            for c in AGENT_COLUMNS:  # per-agent columns: "" where an update did not give one
                if c in new or c in cols:
                    added.setdefault(c, np.full(n, "", object))
                    cols.setdefault(c, np.full(len(cols["frame"]), "", object))
            # Each row goes to the end of its agent's rows: the history stays sorted by (agent, time).
            order = np.argsort(code, kind="stable")
            at = np.searchsorted(cols["agent"], code[order], side="right")
            cols = {c: np.insert(cols[c], at, added[c][order]) for c in cols}
        # Jumps are judged before old rows go: after a pause in updates, the spans due may be older than that.
        jumped = self._jumps(time, cols) if self._judging else []
        old = cols["frame"] < time - self._keep
        if old.any():
            gone = np.unique(cols["agent"][old])
            cols = {c: v[~old] for c, v in cols.items()}
            at = np.minimum(np.searchsorted(cols["agent"], gone), max(len(cols["agent"]) - 1, 0))
            held = (cols["agent"][at] == gone) if len(cols["agent"]) else np.zeros(len(gone), bool)
            for c in gone[~held].tolist():  # forget the codes of agents no longer held
                del self._codes[self._ids.pop(c)]
                self._jumped.discard(c)
                for codes in self._named.values():
                    codes.discard(c)
                self._scored.pop(c, None)
                self._drawn.pop(c, None)
        self._cols = cols
        self.time = time
        if self.calibrate == "scene" and len(ids):
            self._add_to_past(time, ids)
        self.futures = self._futures(time, k or self.k, seen=ids)
        # The update's warning lines, kept in `warnings` and given together once the update is whole: where a
        # warning is an error, the first is raised, and none of the others is lost from `warnings`.
        lines: list[str] = []
        when = f"{self.time_column} {time_text(time)}"  # the update's, as its caller's clock gives it
        said = lambda line: lines.append(f"{line} (scene '{self.scene}', {when})")  # noqa: E731
        if self.calibrate == "scene" and (self._fit_line is not None or not self._fit_said and len(self.futures)):
            # Once: futures given before the scene has the finished windows its fit needs are the model's own;
            # `warnings` holds the line until it no longer does.
            finished = int(self.past.finished(np.array([self.scene]), np.array([time]))[0])
            if not self._fit_said and finished < MIN_PAST:
                dc = self.model.config.data
                said(f"warning: --calibrate scene: the scene has {finished} of the {MIN_PAST} finished windows "
                     f"({dc.obs_len} + {dc.pred_len} steps of one agent) its fit needs, so its draws are the "
                     "model's own until then")
                self._fit_line = warning_text(lines[-1])
            elif self._fit_line is not None and finished >= MIN_PAST:
                self._withdraw(self._fit_line)
                self._fit_line = None
            self._fit_said = True
        if self._judging and self._attrs["coarse"] != coarse_before:  # float32 first brought now
            said(coarse_warning(self._attrs))
        if self._judging and self._units is None and len(ids):  # at the first detections: the units aren't theirs
            self._units = (self.model.units_warning(self._table(judged=False), live=True) or "").splitlines()
            for line in self._units:
                said(line)
        if not self._speeds_judged and self._moves >= JUDGE_MOVES and len(cols["frame"]) - len(self._codes) >= 20 \
                and time >= self._judge_from:
            # A `TrajCVAEWarning` if the detections move as no track the model knows (`checks.plausibility`;
            # its float32 line was given above), once they hold enough moves a step long to tell: a feed far
            # faster than its rate says (seconds read as frame ids) may take many updates to.
            table = self._table(judged=False)
            table.attrs["coarse"] = None
            dc = self.model.config.data
            if step_moves(table, dc.dt, dc.max_gap, dc.time_step) >= JUDGE_STEPS:
                self._speeds_judged = True
                self.model.check_speeds(table, lambda line: line in self._units or said(line), jumps=False, live=True)
            else:
                self._judge_from = time + self._step
        lines += jumped
        for kind, warning in (("cut", cut_warning), ("far", overshoot_warning)):
            if self._naming[kind]:
                said(warning(len(self._naming[kind]), len(ids), self._naming[kind], "agent",
                             **({"noise": self.model.config.data.noise} if kind == "cut" else {})))
        self._naming = {kind: [] for kind in self._naming}
        if self._ids_line is not None and self._moves:  # an agent came twice: the feed has a tracker's ids now
            self._withdraw(self._ids_line)
            self._ids_line = None
        if self._chained is not None and len(ids):
            last, n = self._chained
            n = n + 1 if bridges(time - last, self._max_gap) else 1
            if self._moves:
                self._chained = None
            elif n >= JUDGE_UPDATES:
                self._chained = None
                said(f"warning: {n} updates in a row came at most {self._max_gap / self._per_second:g} s apart "
                     f"(the gap the model bridges), and no agent_id came in two of them ({len(self._codes)} ids "
                     "held): each agent needs one id in every update (a tracker's track id, not a detection's "
                     "number), or it never gets futures")
                self._ids_line = warning_text(lines[-1])
            else:
                self._chained = time, n
        if self._spacing is not None and len(ids):
            last, n, closest = self._spacing
            closest = min(closest, time - last) if n else closest
            if bridges(closest, self._max_gap):
                self._spacing = None  # an agent's detections can be bridged: the feed's rate is fine
            elif n + 1 >= JUDGE_UPDATES:
                self._spacing = None
                said(self._rate_warning(closest))
            else:
                self._spacing = time, n + 1, closest
        self._warn(*lines)
        return self.futures.copy()  # the caller's to edit: the next update reads the futures kept

    def _rate_warning(self, gap: float) -> str:
        """The warning of updates never closer than `gap` (time units) to each other, further apart than the
        model bridges: every detection starts a new track, so no agent gets futures (as `predict` refuses a file
        sampled so, `windows.no_windows_error`); or, for detections within half a step of the next step (a
        gap bridged shorter than a step), futures from tracks whose detections each held their grid step
        (`resample.resample_rows`' lead), which misread the agents' speeds."""
        dc = self.model.config.data
        seconds, bridged = gap / self._per_second, dc.max_gap
        held = seconds <= (dc.dt + min(dc.dt / 2, bridged)) * (1 + STAMP)
        head = (f"warning: the first {JUDGE_UPDATES} updates with detections came at least {seconds:.3g} s apart, "
                f"longer than the {bridged:g} s gap the model bridges, so "
                + (f"no detections are joined into tracks, and each is held for a step: futures read detections "
                   f"{seconds:.3g} s apart as a step ({dc.dt:g} s) apart, misreading speeds" if held
                   else "no agent they saw got futures"))
        if self.time_column == "frame":
            return (f"{head}: is fps ({self._per_second:g}) the frame ids' rate? If the detections are that far "
                    f"apart, give --max-gap {bridging_gap(seconds):g}")
        if seconds > FAR_APART:
            return f"{head}: is time in seconds (not milliseconds)?"
        return f"{head}; if detections come that far apart, give --max-gap {bridging_gap(seconds):g} to bridge them"

    def _jumps(self, time: float, cols: dict[str, np.ndarray]) -> list[str]:
        """The warning lines of tracks in the history `cols` that jump (`checks.track_jumps`) or hold a
        position off the track (`checks.track_spikes`), judged as a file's are: a span once a step and a
        bridged gap have passed since it ended (by then the span after it has been seen, or its track has
        ended), at most once per model step of updates, and each agent once (`_jumped`)."""
        reach = self._step + self._max_gap  # a step, with a gap in it bridged
        until = time - reach + STAMP * self._step  # (times a step and a gap apart, as rounded, count)
        if until - self._jumps_until < self._step * (1 - STAMP):
            return []
        after, self._jumps_until = self._jumps_until, until
        ending = (cols["frame"] > after) & (cols["frame"] <= until)  # rows that end the spans judged now
        codes = np.setdiff1d(cols["agent"][ending], np.fromiter(self._jumped, np.int64, len(self._jumped)))
        rows = np.isin(cols["agent"], codes) & (cols["frame"] >= after - 2 * reach)
        if not rows.any():
            return []
        table = self._table(judged=False, cols={c: v[rows] for c, v in cols.items()}, named=True)
        said = []
        for check in (track_jumps, track_spikes):
            line, agents = check(table, self.model.config.data.dt, self._max_gap / self._per_second,
                                 speed_band(self.model.stats.get("speeds"))[1], after=after, until=until,
                                 entry="detection")
            self._jumped.update(self._codes[a] for a in agents)
            said += [line] if line else []
        return said

    def _warn(self, *lines: str) -> None:
        """Give `lines` as `TrajCVAEWarning`s, all kept in `warnings` first (where a warning is an error, the
        first is raised and the others stay there), each one line though it quotes an id holding a line break."""
        lines = tuple(map(one_line, lines))
        self.warnings = [*self.warnings, *map(warning_text, lines)][-WARNINGS_HELD:]
        for line in lines:
            warn(line)

    def _withdraw(self, line: str) -> None:
        """Take `line`, a warning that no longer holds, out of `warnings`."""
        self.warnings = [said for said in self.warnings if said != line]

    def _in_view_since(self, time: float) -> float:
        """Agents last seen at or after this are in view at `time`: those seen exactly forget_after ago too
        (a margin of STAMP steps for the times' rounding), for their futures and their tracks alike."""
        return time - self.forget_after - STAMP * self._step

    def _futures(self, time: float, k: int, seen) -> pd.DataFrame:
        """The futures of the agents in view at `time`, of which those in `seen` were detected now. An agent
        not seen now keeps the futures it got when last seen: they read nothing after that time, and a
        window's futures do not depend on the other windows sampled with it. So only the agents seen now
        are predicted, unless K, the columns or the longitudes' convention changed (then every agent in view
        is)."""
        since = self._in_view_since(time)
        last = self.futures
        if self._k != k or not len(last) or self._recast:
            self._k, self._recast = k, False
            return self._predict(self._table(), since=since, k=k)
        fresh = self._predict_seen(time, k, seen) if len(seen) else last.iloc[:0]
        if list(fresh.columns) != list(last.columns):
            return self._predict(self._table(), since=since, k=k)
        # The futures come in blocks of k x pred_len rows, one block per agent: kept or not as a block.
        rows = k * self.model.config.data.pred_len
        agent = last["agent_id"].iloc[::rows].to_numpy(dtype=object)  # (A,) one per block
        kept = (last["t0"].iloc[::rows].to_numpy() >= since) & ~np.isin(agent, np.asarray(list(seen), dtype=object))
        if not kept.any():
            return fresh
        kept = last.iloc[(np.flatnonzero(kept)[:, None] * rows + np.arange(rows)).ravel()]
        both = kept if fresh.empty else pd.concat([kept, fresh], ignore_index=True)  # pandas 2 warns on an empty one
        code = np.array([self._codes[a] for a in both["agent_id"].iloc[::rows].tolist()])  # as predict: by agent
        return both.iloc[(np.argsort(code, kind="stable")[:, None] * rows + np.arange(rows)).ravel()].reset_index(drop=True)

    def _add_to_past(self, time: float, seen) -> None:
        """Add the finished windows of the agents `seen` now (`windows.finished_windows`) to the scene's past,
        done at `time`: each one's window whose future ends now, and those whose future ended at a step it
        was missed at since its previous detection, when this one bridges the gap (as resampling bridges it
        in a file, whose window is then known at this detection too). At most one window per agent and step;
        their truths' levels among the model's draws (`TrajCVAE.scene_past`)."""
        codes = np.array([self._codes[a] for a in seen], np.int64)
        cols = self._cols
        at = np.searchsorted(cols["agent"], codes, side="right") - 2  # each one's detection before this one
        before = np.where((at >= 0) & (cols["agent"][np.maximum(at, 0)] == codes), cols["frame"][np.maximum(at, 0)],
                          -math.inf)
        bridged = bridges(time - before, self._max_gap)
        parts = []
        for back in range(int(self._max_gap / self._step + 1e-6), -1, -1):  # the oldest step first
            anchor = time - back * self._step
            due = np.array([self._scored.get(c, -math.inf) <= anchor - self._step * 0.999 for c in codes.tolist()],
                           bool)
            if back:
                due &= bridged & (anchor > before + 1e-6 * self._step)
            if not due.any():
                continue
            w = finished_windows(cols["frame"], cols["agent"], cols["x"], cols["y"], self.scene, anchor, codes[due],
                                 self._step, self._max_gap, self.model.config.data, until=time)
            for c in w.agent_id.tolist():
                self._scored[c] = anchor
            if len(w):
                parts.append(w)
        if not parts:
            return
        w = concat_windows(parts, "windows")
        drawn = [self._drawn_at(c, t0) for c, t0 in zip(w.agent_id.tolist(), w.t0.tolist())]
        new, old = self.model.scene_past(w, self.seed, drawn=drawn, futures=self.future_kind), self.past
        self.past = ScenePast(*(np.concatenate([a, b])[-PAST_HELD:] for a, b in
                                ((old.scene, new.scene), (old.done, new.done), (old.levels, new.levels))),
                              futures=self.future_kind)

    def _drawn_at(self, code: int, t0: float):
        """The (inputs, draws) agent `code`'s window at t0 was predicted with, or None."""
        for t, key, pool in self._drawn.get(code, ()):
            if abs(t - t0) <= 1e-6 * self._step:
                return key, pool
        return None

    def _keep_drawn(self, time: float, codes: np.ndarray, full: np.ndarray, pools: list) -> None:
        """Keep the draws behind the maps of the windows predicted at `time` (those with a full history:
        only they can finish), and forget those older than pred_len steps and a bridged gap: no window that
        finishes from now on starts before then."""
        if pools:
            keys, draws = (torch.cat(part) for part in zip(*pools))
            for i in np.flatnonzero(full).tolist():
                self._drawn.setdefault(int(codes[i]), []).append((time, keys[i], draws[i]))
        oldest = time - (self.model.config.data.pred_len * self._step + self._max_gap) * (1 + 1e-6)
        for code in list(self._drawn):
            kept = [d for d in self._drawn[code] if d[0] >= oldest]
            if kept:
                self._drawn[code] = kept
            else:
                del self._drawn[code]

    def _table(self, judged: bool = True, cols: dict[str, np.ndarray] | None = None,
               named: bool = False) -> pd.DataFrame:
        """The history (or `cols`, columns of it) as a track table (`tracks.read_tracks`' columns and
        attributes; agents by code, or `named` by the caller's ids); `judged`: marked as judged for its speeds
        (`TrajCVAE.speeds_judged`: `update` judges the history once, not every prediction's table)."""
        cols = self._cols if cols is None else cols
        n = len(cols["frame"])
        one = np.zeros(n, np.int8)
        agents = self._names(cols["agent"]) if named else cols["agent"]
        table = pd.DataFrame({"scene": pd.Categorical.from_codes(one, dtype=self._dtypes[0]),
                              "frame": cols["frame"], "agent_id": agents, "x": cols["x"], "y": cols["y"],
                              "_file": pd.Categorical.from_codes(one, dtype=self._dtypes[1]),
                              "_line": cols["_line"], **{c: cols[c] for c in AGENT_COLUMNS if c in cols}}, copy=False)
        table.attrs.update(self._attrs)
        return self.model.speeds_judged(table) if judged else table

    def _names(self, codes: np.ndarray, ids: dict[int, str] | None = None) -> np.ndarray:
        """Agent codes -> the caller's agent ids (text), by `ids` (default: the current codes). Codes come
        in runs (an agent's rows), so each run is looked up once."""
        return _by_run(codes, (self._ids if ids is None else ids).__getitem__, object)

    def _predict(self, rows: pd.DataFrame, since: float, k: int) -> pd.DataFrame:
        agent, frame = rows["agent_id"].to_numpy(), rows["frame"].to_numpy()  # sorted by agent, then time
        ends = np.flatnonzero(np.r_[agent[1:] != agent[:-1], True])  # each agent's latest row
        if not len(agent) or not ((np.diff(np.r_[-1, ends]) >= 2) & (frame[ends] >= since)).any():
            return self._no_futures()  # nobody in view has 2 positions (without the reason the model would build)
        try:
            # Futures past a homography's horizon come back empty, as from `_predict_seen`, without a warning.
            cut: list[int] = []
            far: list[int] = []
            out, _ = self.model._predict_table(rows, k, self.seed, kset=self.kset, draws=self.draws, since=since,
                                               calibrate=self.calibrate, past=self.past, futures=self.future_kind,
                                               cut=cut, far=far)
        except NoWindowsError:  # nobody in view has 2 positions yet
            return self._no_futures()
        self._note("cut", cut)
        self._note("far", far)
        out["agent_id"] = self._names(out["agent_id"].to_numpy())
        return out

    def _note(self, kind: str, codes: list[int]) -> None:
        """Agents of a `kind` to be warned of at the end of the update ("cut": their histories are cut,
        `checks.cut_short`; "far": their futures overshoot, `checks.overshoot`), once each."""
        new = [repr(self._ids[c]) for c in dict.fromkeys(codes) if c not in self._named[kind]]
        self._naming = {**self._naming, kind: self._naming[kind] + new}  # (new lists: `_saved` keeps the old)
        self._named[kind].update(codes)

    def _predict_seen(self, time: float, k: int, seen) -> pd.DataFrame:
        """`_predict` of the history with since = `time`, for the agents `seen` at `time`, without a track
        table: their latest windows all have t0 = `time` (one cut of the scene, `windows.latest_windows`),
        sampled and written as `TrajCVAE.predict` does."""
        cols = self._cols
        mine = np.array([self._codes[a] for a in seen], np.int64)
        w = latest_windows(cols["frame"], cols["agent"], cols["x"], cols["y"], self.scene, time, mine,
                           self._step, self._max_gap, self.model.config.data)
        if not len(w):  # nobody seen now has 2 positions yet
            return self._no_futures()
        self._note("cut", np.asarray(w.agent_id)[cut_windows(w, self.model)].tolist())
        pools = [] if self.calibrate == "scene" else None
        samples, weights = self.model.sample_kset(w, k=k, seed=self.seed, kset=self.kset, draws=self.draws,
                                                  past=self.past, pools=pools, futures=self.future_kind)
        self._note("far", np.asarray(w.agent_id)[overshot(w, samples, self.model)].tolist())
        if pools is not None:
            self._keep_drawn(time, w.agent_id, ~np.isnan(w.obs).any((1, 2)), pools)
        extra = {c: _latest_values(cols["agent"], cols[c], w.agent_id) for c in AGENT_COLUMNS if c in cols}
        w.agent_id = self._names(w.agent_id)
        return samples_to_frame(w, from_metres(samples, self._attrs.get("units"), w.scene),
                                time_column=self.time_column, extra=extra, weights=weights, position=self.position)

    def _no_futures(self) -> pd.DataFrame:
        renamed = {"frame": self.time_column, "x": self.position[0], "y": self.position[1]}
        columns = [renamed.get(c, c) for c in OUTPUT_COLUMNS]
        kind = {"scene": self._dtypes[0], "sample": np.int64, "step": np.int64}  # as samples_to_frame's, so answers
        table = pd.DataFrame({c: pd.Series(dtype=kind.get(c, float)) for c in columns})  # concatenate cleanly
        table["agent_id"] = pd.Series(np.array([], dtype=str))  # text, of the type text takes in this pandas
        for i, c in enumerate(c for c in AGENT_COLUMNS if c in self._cols):  # the detections' labels, after the id
            table.insert(2 + i, c, pd.Series(np.array([], dtype=str)))
        if self.kset != "none":  # a K-set's weights, last
            table["weight"] = pd.Series(dtype=float)
        return table

    def _check_time(self, time) -> tuple[float, str | None]:
        """`update`'s time as a float, and what it holds too coarsely to predict from, or None: a float32 time
        is judged as a file's time column is (`values.coarse_columns`; refused where it has lost a step's time)."""
        what = self.time_column
        if isinstance(time, (bool, np.timedelta64)) or not isinstance(time, (int, float, np.integer, np.floating)):
            raise TrajCVAEError(f"{what} must be a number (got {type(time).__name__})"
                                + as_number_hint(time, what, time=what == "time"))
        # A float32 time as a file's float32 column is read: as written (1012.84, not 1012.8399658)
        if not finite_number(time):  # an integer that is not: 10**400, which no float holds
            raise TrajCVAEError(f"{what} must be finite (got {shown(time)})")
        given, time = time, float(float32_as_written(np.array([time]))[0][0]) \
            if isinstance(time, (np.float32, np.float16)) else float(time)
        coarse = coarse_columns({"frame": pd.Series([given])}, False, what == "time", what)
        vague = unresolved_time(np.array([time]), what, what == "time", live=True)
        if vague:
            raise TrajCVAEError(vague)
        if self.time is not None and time <= self.time:
            raise TrajCVAEError(out_of_order(what, time, self.time))
        return time, coarse and f"an update holds {coarse}"

    def _detections(self, detections) -> dict[str, np.ndarray] | None:
        """The detections as columns agent_id (text), x, y (metres) and any per-agent column, checked as
        `read_tracks` checks a table's rows (`values.numeric_column`: numbers, finite, within MAX_RAW, and
        within MAX_COORD in metres; ids read by `values.agent_ids`; a row repeated exactly is dropped, the
        same agent twice at two positions refused); None when there are none. Positions that came as
        float32 too coarse to predict from are noted in `_attrs["coarse"]` (the first time), as a file's."""
        pos = self.position
        # A table, or columns by name (as many as the rows have: none without rows).
        df = detections if isinstance(detections, pd.DataFrame) else _columns(_rows(detections, pos), pos)
        if not len(df):
            return None
        lower = [str(c).strip().lower() for c in df]
        twice = next((c for c in lower if lower.count(c) > 1), None)
        if twice is not None:
            raise DataError(f"detections: column '{twice}' appears {lower.count(twice)} times (any case)")
        names = dict(zip(lower, df))
        if pos == ("lon", "lat"):  # the names a file's longitude and latitude may go by
            for want, found in zip(pos, lonlat_names(list(names), "detections")):
                if found is not None:
                    names[want] = names.pop(found)
        ids = [c for c in names if c in ID_NAMES]  # track_id, object_id, ...: as a file's id column goes by
        if "agent_id" not in names and len(ids) > 1:
            raise DataError(f"detections: {len(ids)} id columns ({', '.join(names[c] for c in ids)}): keep one, or "
                            "send it as agent_id")
        id_name = names[ids[0]] if "agent_id" not in names and ids else "agent_id"  # named as sent, in messages
        if id_name != "agent_id":
            names["agent_id"] = names.pop(ids[0])
        clash = [c for c in names if c in ("scene", "frame", *TIME_NAMES)]
        if clash:
            raise DataError(f"detections: column '{clash[0]}' is not allowed; the time is update's argument "
                            "and the scene is the predictor's")
        missing = [c for c in ("agent_id", *pos) if c not in names]
        if missing:
            degrees = pos == ("x", "y") and None not in lonlat_names(list(names), "detections")
            raise DataError(f"detections: missing column(s) {', '.join(missing)} (have: {', '.join(map(str, df))})" + (
                "; longitudes and latitudes need lonlat=True (`trajcvae serve --lonlat`)" if degrees else ""))
        given = {xy: df[names[c]] for xy, c in zip("xy", pos)}  # x, y as given (`numeric_column` reads by place)
        # A row is named as Python (and JSON) count: detections[2] in a list, detections.iloc[2] in a table.
        word = "iloc" if isinstance(detections, pd.DataFrame) else "[]"
        lines = pd.Series(np.arange(len(given["x"])))
        x, y = (numeric_column(blank_as_missing(given[xy]), lines, "detections", c, word) for xy, c in zip("xy", pos))
        at = lambda i: row_at("detections", word, i)  # noqa: E731
        ids = [_agent_text(v, "agent_id") for v in np.asarray(df[names["agent_id"]], dtype=object)]
        keep, first = np.ones(len(ids), bool), {}
        marks = dict(zip(uniques := list(dict.fromkeys(ids)), missing_marks(uniques)))  # "nan" among numbers
        for i, a in enumerate(ids):
            if not a:
                raise DataError(f"{at(i)}: column '{id_name}' is empty")
            if marks[a]:
                raise DataError(f"{at(i)}: {a!r}, a missing value's mark, as '{id_name}' (every detection needs "
                                "its agent's id)")
            j = first.setdefault(a, i)
            if j != i:
                if (x[i], y[i]) != (x[j], y[j]):
                    raise DataError(f"{at(i)}: duplicate agent_id '{a}' at another position; first seen at "
                                    f"{at(j)}")
                keep[i] = False  # repeated exactly: dropped, as in a file
        units = self._attrs.get("units")
        uv = np.stack([x, y], axis=1)
        scenes = np.full(len(uv), self.scene, dtype=object)
        origin = None
        # The scene's first detections set its origin (lon, lat) or the ground's side of a homography's horizon;
        # a detection refused against them may be fine and they stray (a bad fix, a false detection in the sky).
        earlier = units is not None and (self.scene in units.get("lonlat", {}) or "side" in units)
        try:
            if units is not None and "lonlat" in units:  # the scene's first detection is its origin
                origin = units["lonlat"].get(self.scene) or [float(x[0]), float(y[0])]
                if origin[0] <= 180 and (np.asarray(x, dtype=np.float64) > 180).any():  # written 0-360: futures too
                    origin = [origin[0] + 360.0, origin[1]]  # (as `units.lonlat_units`; the projection is periodic)
                check_lonlat(x, y, np.full(len(x), origin[1]), at, lambda i: self.scene,
                             fix="use a scene per area")
                units = {"lonlat": {self.scene: origin}}
            xy, side = placed(uv, units, scenes, at)
        except DataError as e:
            if not earlier or not self._placed_alone(x, y, uv, scenes, at):  # wrong whatever came first
                raise
            raise DataError(f"{e}; or, if the scene's first detections were stray (a bad fix, a false detection), "
                            "start the scene again (a new OnlinePredictor; on a server, DELETE the scene)") from None
        out = {"agent_id": np.array(ids, dtype=object)[keep], "x": xy[keep, 0], "y": xy[keep, 1]}
        for c in AGENT_COLUMNS:
            if c in names:
                values = np.asarray(df[names[c]], dtype=object)
                out[c] = np.array([_agent_text(v, c) for v in values], dtype=object)[keep]
        if side:
            units["side"] = side  # the last check has passed: the update goes ahead (`units.from_metres`)
        if origin is not None:
            # An origin moved to 0-360 writes every agent's futures anew (`_futures`), not only those seen now.
            self._recast = self._recast or origin != self._attrs["units"]["lonlat"].get(self.scene, origin)
            self._attrs["units"]["lonlat"][self.scene] = origin
        if not self._attrs["coarse"]:  # degrees (`values.coarse_columns`; the time is `_check_time`'s), else metres
            lonlat = pos == ("lon", "lat")
            coarse = coarse_columns({**given, "frame": pd.Series([], dtype=np.float64)}, lonlat, True, "detections")
            self._attrs["coarse"] = (f"an update holds {coarse}" if coarse else
                                     coarse_positions([float32_position_range(given, "an update", lonlat)], units))
        return out

    def _placed_alone(self, x, y, uv: np.ndarray, scenes: np.ndarray, at) -> bool:
        """Whether an update's detections, refused against the scene's first ones (its origin in lon, lat or
        its side of a homography's horizon), would be placed as a new scene's first, which set those."""
        units = {key: v for key, v in self._attrs["units"].items() if key != "side"}
        try:
            if "lonlat" in units:
                check_lonlat(x, y, np.full(len(x), float(y[0])), at, lambda i: self.scene)
                units = {"lonlat": {self.scene: [float(x[0]), float(y[0])]}}
            placed(uv, units, scenes, at)
        except DataError:
            return False
        return True

    # --- what the scene holds -------------------------------------------------------------------------
    def state(self) -> tuple:
        """What `tracks` reads, as of the latest update: later updates leave it as it is (they replace the
        history's columns, and forget ids only in their own copy)."""
        return self.time, self._cols, dict(self._ids)

    def tracks(self, history: float | None = None, state: tuple | None = None) -> pd.DataFrame:
        """The observed positions of the agents in view over the last `history` seconds (default: the
        model's observed window), as of the latest update or of an earlier `state()`: columns agent_id,
        time (or frame), x, y (or lon, lat), in the predictor's units."""
        cfg = self.model.config.data
        history = cfg.obs_len * cfg.dt if history is None else history
        if not finite_number(history) and not (isinstance(history, float) and history == math.inf) \
                or not history >= 0:  # (10**400: no float holds it)
            raise TrajCVAEError(f"history must be a number of seconds >= 0 (got {shown(history)})")
        if state is not None and not (isinstance(state, tuple) and len(state) == 3 and isinstance(state[1], dict)):
            raise TrajCVAEError(f"state must be what this predictor's state() returned (got {type(state).__name__})")
        time, cols, ids = state or self.state()
        if time is None or not len(cols["frame"]):
            return pd.DataFrame({c: [] for c in ("agent_id", self.time_column, *self.position)})
        t, agent = cols["frame"], cols["agent"]
        last = np.append(agent[1:] != agent[:-1], True)  # each agent's latest row (sorted by agent, time)
        latest = np.repeat(t[last], np.diff(np.concatenate([[0], np.flatnonzero(last) + 1])))
        keep = (latest >= self._in_view_since(time)) & (t >= time - history * self._per_second)
        xy = from_metres(np.stack([cols["x"][keep], cols["y"][keep]], axis=1), self._attrs.get("units"),
                         np.full(int(keep.sum()), self.scene, dtype=object))
        return pd.DataFrame({"agent_id": self._names(agent[keep], ids), self.time_column: t[keep],
                             self.position[0]: xy[:, 0], self.position[1]: xy[:, 1]})

    @property
    def rows(self) -> int:
        """Observations held (bounded by the history the model reads, see the module's docstring)."""
        return len(self._cols["frame"])


def _by_run(values, f, dtype) -> np.ndarray:
    """f(value) for every element of `values` (agent codes or ids), which come in runs (an agent's rows):
    each run is looked up once.  -> (n,) of `dtype`"""
    values = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values)
    if not len(values):
        return np.zeros(0, dtype)
    start = np.flatnonzero(np.append(True, values[1:] != values[:-1]))  # (R,) where each run begins
    return np.repeat(np.array([f(v) for v in values[start].tolist()], dtype), np.diff(np.append(start, len(values))))


def _latest_values(agent: np.ndarray, values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Each of `codes`' latest non-empty value in `values` (a per-agent column of the history, sorted by
    agent and time), "" where it has none: what `predict.agent_values` gives for a track table."""
    start, end = np.searchsorted(agent, codes, side="left"), np.searchsorted(agent, codes, side="right") - 1
    latest = np.maximum.accumulate(np.where(values != "", np.arange(len(values)), -1))[end]  # (N,) row, or -1
    return np.where(latest >= start, values[np.maximum(latest, 0)], "").astype(object)



def _rows(detections, pos: tuple[str, str]) -> list:
    """`update`'s detections as a list of rows, each a mapping or an (agent_id, x, y[, label]) sequence (with
    `pos` the names of x and y), all of one kind; anything else is refused in one line."""
    shape = f"(agent_id, {', '.join(pos)}[, label])"
    if isinstance(detections, (str, bytes, Mapping)) or not isinstance(detections, Iterable):
        raise DataError(f"detections: expected a list of rows (dicts, or {shape} tuples) or a DataFrame (got "
                        f"{type(detections).__name__})")
    items = list(detections)

    def kind(row) -> str:
        if isinstance(row, Mapping):
            return "dict"
        return f"tuple of {len(row)}" if isinstance(row, (tuple, list)) else type(row).__name__

    first = kind(items[0]) if items else None
    for i, row in enumerate(items):
        if kind(row) not in ("dict", "tuple of 3", "tuple of 4") or kind(row) != first:
            raise DataError(f"detections[{i}]: expected a dict or an {shape} tuple, all of one kind (got: "
                            f"{kind(row)}{f'; detections[0]: {first}' if i else ''})")
    return items

def _columns(items: list, pos: tuple[str, str]) -> dict[str, pd.Series]:
    """Rows from `_rows` as columns by name, read as a table's (no table is built: an update's time is
    short): dicts by their keys (None where a row has none), tuples as (agent_id, x, y[, label]) (`pos`:
    the names of x and y). A column of text keeps its values as Python objects: pandas' text type would
    fail on a lone surrogate, which `_agent_text` refuses in one line."""
    if items and isinstance(items[0], Mapping):
        columns = {c: [item.get(c) for item in items] for c in dict.fromkeys(c for item in items for c in item)}
    else:
        columns = dict(zip(["agent_id", *pos, "label"], map(list, zip(*items))))
    return {c: _series(v) for c, v in columns.items()}


def _series(values: list) -> pd.Series:
    """A column's values as a table would hold them: Python objects for text, and for an int beyond float64
    (pandas before 3.0 raise OverflowError on it in a column of numbers)."""
    if not all(isinstance(e, str) for e in values):
        try:
            return pd.Series(values)
        except OverflowError:
            pass
    return pd.Series(values, dtype=object)


def _agent_text(value, column: str) -> str:
    """An id or label (of `column`) as text, as `read_tracks` reads a file's: an id by `_agent_id`, a label
    stripped (`values.as_text`); "" when missing. Refused when it is no single value (a list) or no text a
    file could hold (a lone surrogate)."""
    if value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return ""
    if not isinstance(value, (str, int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise DataError(f"detections: an agent_id or label must be text or a number (got {type(value).__name__})")
    text = str(value).strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(f"detections: {text!r} is not valid Unicode text (a lone surrogate)") from None
    return _agent_id(value) if column == "agent_id" else text


@functools.lru_cache(maxsize=1 << 16, typed=True)
def _agent_id(value) -> str:
    """An agent id as text, read by `values.agent_ids` on its own: a whole number without ".0" or "+" ("1",
    "1.0" and 1.0 are agent 1) unless written with a leading zero ("007"), else the text stripped. Each
    distinct id is read once (a cache: updates bring the same ids again and again)."""
    return str(agent_ids(pd.Index([value]), np.zeros(1, np.int64))[0])


def out_of_order(what: str, time: float, last: float, restart: str = "start a new OnlinePredictor") -> str:
    """The refusal of an update at `time` (a `what`: time or frame) not after the last update's `last`; one
    before it may come from a clock that started again (a camera's, restarted), which `restart` does, and one at
    it from a retry."""
    same = (f" (64-bit floats near it are {float(np.spacing(abs(last))):.3g} apart: give {what}s from a start "
            "nearer 0)" if time == last and np.spacing(abs(last)) > 1e-6 else "")
    again = f"; if the clock started again, {restart}" if time < last else \
        "; an update at that time was taken already (a retry of one whose answer was lost?)" if not same else ""
    said, last_said = time_text(time), time_text(last)
    if said == last_said and time != last:  # apart by less than a microsecond: each in full
        said, last_said = f"{time:.17g}", f"{last:.17g}"
    return f"{what} {said} is not after the last update's {last_said}{same}: times must increase{again}"
