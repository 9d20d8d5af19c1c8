"""Detections -> futures, live: `OnlinePredictor` keeps one scene's recent tracks and, at every update,
predicts K futures for each agent still in view.

It takes the file path's steps, not a copy of them: each update's detections are checked and converted to
metres by `tracks.read_tracks` (the same `fps`, `scale` and `homography` handling as files), appended to a
bounded track table, and `TrajCVAE.predict` draws the futures from it with `since` = the oldest time an
agent may have been last seen and still count as in view. So the futures at time t are exactly those
`predict` gives on the detections up to t (written as a file), for the agents seen since t - forget_after.

The table keeps what the windows read and no more (`windows.history_reach`): each agent's last obs_len
steps, or with the scene memory the paths others walked up to `memory_horizon` steps back, plus the gap
resampling bridges, behind the oldest agent in view. Older rows are dropped at every update.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .config import check_forget_after, check_kset, check_sampling
from .errors import DataError, NoWindowsError, TrajCVAEError
from .predict import OUTPUT_COLUMNS, TrajCVAE
from .tracks import AGENT_COLUMNS, TIME_NAMES, from_metres, read_tracks
from .windows import history_reach

DETECTION_COLUMNS = ("agent_id", "x", "y")


class OnlinePredictor:
    """K futures for every agent in view, updated detection by detection.

    `OnlinePredictor("pedestrian", k=20).update(12.4, [{"agent_id": "7", "x": 1.2, "y": 3.4}])` returns
    the futures as a DataFrame in `predict`'s columns (`OUTPUT_COLUMNS`, with `time` in seconds, or
    `frame` when `fps` is given; plus `label` when detections carry one, and `weight` with a K-set mode).

    model: a `TrajCVAE`, a checkpoint path or a built-in name. fps: times are frame ids at this rate
    (default: seconds). scale, homography: the detections' units (see `tracks.read_tracks`); futures come
    back in them. forget_after: seconds after which an agent not seen again is out of view (no futures;
    its path stays in the scene memory while the model reads it). kset: "none" (K plain draws) or a K-set
    mode of `TrajCVAE.predict`, which then gives each future a weight.
    """

    def __init__(self, model: TrajCVAE | str = "pedestrian", k: int = 20, seed: int = 0, kset: str = "none",
                 fps: float | None = None, scale: float | None = None, homography: Any = None,
                 forget_after: float = 2.0, scene: str = "live", device: str = "cpu"):
        check_sampling(k, seed)
        check_kset(kset)
        check_forget_after(forget_after)
        self.model = model if isinstance(model, TrajCVAE) else TrajCVAE.load(model, device=device)
        self.k, self.seed, self.kset, self.scene = k, seed, kset, str(scene)
        self.fps, self.scale, self.homography = fps, scale, homography
        self.time_column = "time" if fps is None else "frame"
        # Checks fps, scale and homography now, on one made-up detection, and keeps their conversions.
        self._attrs = dict(self._read(0.0, pd.DataFrame({"agent_id": ["-"], "x": [0.0], "y": [0.0]})).attrs)
        cfg = self.model.config.data
        per_second = 1.0 if fps is None else fps  # time units per second
        self.forget_after = forget_after * per_second
        # Rows older than this behind the latest update are never read again (one more step: a margin
        # for rounding at the boundary).
        self._keep = self.forget_after + history_reach(cfg, cfg.dt * per_second, cfg.max_gap * per_second) \
            + cfg.dt * per_second
        self._rows = self._read(0.0, pd.DataFrame({"agent_id": ["-"], "x": [0.0], "y": [0.0]})).iloc[:0]
        self.time: float | None = None
        self.futures = self._no_futures()

    # --- the update -----------------------------------------------------------------------------------
    def update(self, time: float, detections: pd.DataFrame | Iterable[Mapping] | Iterable[tuple],
               k: int | None = None) -> pd.DataFrame:
        """Add the detections seen at `time` (rows of agent_id, x, y [, label], in the predictor's units)
        and return the futures of every agent seen since time - forget_after, each from its latest
        detection (`k` of them, default the predictor's). Times must increase from update to update; an
        empty list says nobody was seen."""
        if k is not None:
            check_sampling(k)
        time = self._check_time(time)
        table = self._detections(time, detections)
        rows = pd.concat([self._rows, table], ignore_index=True) if len(table) and len(self._rows) else \
            table if len(table) else self._rows
        for c in AGENT_COLUMNS:
            if c in rows.columns:
                rows[c] = rows[c].fillna("")
        rows = rows[rows["frame"].to_numpy() >= time - self._keep]
        codes = pd.factorize(rows["agent_id"], sort=True)[0]
        rows = rows.iloc[np.lexsort((rows["frame"].to_numpy(), codes))].reset_index(drop=True)
        rows.attrs.update(self._attrs)
        self._rows, self.time = rows, time
        self.futures = self._predict(rows, since=time - self.forget_after, k=k or self.k)
        return self.futures

    def _predict(self, rows: pd.DataFrame, since: float, k: int) -> pd.DataFrame:
        # A K-set mode is passed on only when chosen: "none" is predict's plain sampling.
        kset = {} if self.kset == "none" else {"kset": self.kset}
        try:
            out = self.model.predict(rows, k=k, seed=self.seed, since=since, **kset)
        except NoWindowsError:  # nobody in view has 2 positions yet
            return self._no_futures()
        out["agent_id"] = out["agent_id"].astype(str)
        out["scene"] = out["scene"].astype(str)
        return out.reset_index(drop=True)

    def _no_futures(self) -> pd.DataFrame:
        columns = [self.time_column if c == "frame" else c for c in OUTPUT_COLUMNS]
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("scene", "agent_id") else float) for c in columns})

    def _check_time(self, time) -> float:
        what = self.time_column
        if isinstance(time, bool) or not isinstance(time, (int, float, np.integer, np.floating)):
            raise TrajCVAEError(f"{what} must be a number (got {type(time).__name__})")
        time = float(time)
        if not math.isfinite(time):
            raise TrajCVAEError(f"{what} must be finite (got {time})")
        if self.time is not None and time <= self.time:
            raise TrajCVAEError(f"{what} {time:g} is not after the last update's {self.time:g}: times must increase")
        return time

    def _detections(self, time: float, detections) -> pd.DataFrame:
        """The detections as track rows in metres, checked by `read_tracks`, agent ids as text."""
        if isinstance(detections, pd.DataFrame):
            df = detections.copy()
        else:
            items = list(detections)
            if items and not isinstance(items[0], Mapping):
                df = pd.DataFrame(items, columns=list(DETECTION_COLUMNS)[:len(items[0])])
            else:
                df = pd.DataFrame(items)
        if not len(df):
            return self._rows.iloc[:0]
        clash = [c for c in df.columns if str(c).strip().lower() in ("scene", "frame", *TIME_NAMES)]
        if clash:
            raise DataError(f"detections: column '{clash[0]}' is not allowed; the time is update's argument and "
                            "the scene is the predictor's")
        return self._read(time, df)

    def _read(self, time: float, df: pd.DataFrame) -> pd.DataFrame:
        df = df.assign(**{"time" if self.fps is None else "frame": time, "scene": self.scene})
        try:
            rows = read_tracks(df, fps=self.fps, scale=self.scale, homography=self.homography)
        except DataError as e:  # name the input as the caller knows it
            raise DataError(str(e).replace("dataframe", "detections", 1)) from None
        rows["agent_id"] = rows["agent_id"].astype(str).to_numpy(dtype=object)
        return rows

    # --- what the scene holds -------------------------------------------------------------------------
    def tracks(self, history: float | None = None) -> pd.DataFrame:
        """The observed positions of the agents in view over the last `history` seconds (default: the
        model's observed window): columns agent_id, time (or frame), x, y, in the predictor's units."""
        cfg = self.model.config.data
        per_second = 1.0 if self.fps is None else self.fps
        history = cfg.obs_len * cfg.dt if history is None else history
        rows = self._rows
        if self.time is None or not len(rows):
            return pd.DataFrame(columns=["agent_id", self.time_column, "x", "y"])
        t = rows["frame"].to_numpy()
        last = rows.groupby("agent_id", sort=False)["frame"].transform("max").to_numpy()
        keep = (last >= self.time - self.forget_after) & (t >= self.time - history * per_second)
        xy = from_metres(rows.loc[keep, ["x", "y"]].to_numpy(dtype=np.float64), self._attrs.get("units"))
        return pd.DataFrame({"agent_id": rows.loc[keep, "agent_id"].to_numpy(), self.time_column: t[keep],
                             "x": xy[:, 0], "y": xy[:, 1]})

    @property
    def rows(self) -> int:
        """Observations held (bounded by the history the model reads, see the module's docstring)."""
        return len(self._rows)
