"""Tracks + futures -> what a picture shows: the windows of chosen scenes, agents and frames.

Futures come from a model (`ModelFutures`, sampled on demand) or from a table written by `trajcvae predict`
(`TableFutures`, only the windows it holds). `Tracks` finds windows at any (scene, frame), causally: a
window at frame F is built from frames up to F only, as `predict` does for an agent's latest frame. Every
unknown scene, agent or frame is a `TrajCVAEError` naming the valid range.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from .config import DataConfig
from .errors import DataError, TrajCVAEError
from .predict import COLUMNS, TrajCVAE
from .tracks import time_steps
from .windows import Windows, build_windows

PREDICTION_SUFFIXES = (".csv", ".parquet")


def _key(scene, agent, t0) -> tuple[str, str, float]:
    """A window's identity across a predictions table and the tracks (ids may be ints in one, str in other)."""
    return str(scene), str(agent), round(float(t0), 6)


def id_range(ids) -> str:
    """'1..148' for numeric ids, else the first few names."""
    ids = list(ids)
    try:
        nums = sorted(float(i) for i in ids)
        return f"{nums[0]:g}..{nums[-1]:g}"
    except (TypeError, ValueError):
        names = sorted(map(str, ids))
        return ", ".join(names[:8]) + (f", ... ({len(names)} in all)" if len(names) > 8 else "")


def is_predictions_path(model: str | Path) -> bool:
    return Path(str(model)).suffix.lower() in PREDICTION_SUFFIXES


def read_predictions(path: str | Path) -> pd.DataFrame:
    """A predictions table (CSV or Parquet with the columns `predict` writes)."""
    path = Path(path)
    if not path.is_file():
        raise TrajCVAEError(f"MODEL {path}: no such predictions file")
    try:
        df = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    except Exception as e:  # pandas/pyarrow raise many types for an unreadable file
        raise TrajCVAEError(f"MODEL {path}: cannot read it as a predictions table ({type(e).__name__})") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise TrajCVAEError(f"MODEL {path}: not a predictions file from `trajcvae predict` (missing column(s) "
                            f"{', '.join(missing)})")
    if len(df) == 0:
        raise TrajCVAEError(f"MODEL {path}: the predictions table is empty")
    return df


class ModelFutures:
    """K futures sampled from a model, for any window."""

    def __init__(self, predictor: TrajCVAE, k: int, seed: int):
        if k < 1:
            raise TrajCVAEError(f"-k must be >= 1 (got {k})")
        self.predictor, self.k, self.seed = predictor, k, seed
        self.cfg: DataConfig = predictor.config.data

    def available(self, w: Windows) -> np.ndarray:
        return np.ones(len(w), bool)

    def samples(self, w: Windows) -> np.ndarray:  # (N, K, P, 2)
        return self.predictor.sample(replace(w, fut=None), k=self.k, seed=self.seed)


class TableFutures:
    """The futures of a predictions table, for the (scene, agent, t0) windows it holds."""

    def __init__(self, df: pd.DataFrame, name: str = "predictions"):
        df = df.sort_values(["scene", "agent_id", "t0", "sample", "step"], kind="stable")
        K, P = df["sample"].nunique(), df["step"].nunique()
        sizes = df.groupby(["scene", "agent_id", "t0"], sort=False, observed=True).size()
        bad = sizes[sizes != K * P]
        if len(bad):
            (s, a, t), n = bad.index[0], bad.iloc[0]
            raise TrajCVAEError(f"MODEL {name}: window (scene {s}, agent {a}, t0 {t}) has {n} rows; expected "
                                f"{K} samples x {P} steps = {K * P}")
        self.keys = sizes.index.to_frame(index=False)  # scene, agent_id, t0 in the table's order
        self.keys["scene"] = self.keys["scene"].astype(str)
        self.xy = df[["x", "y"]].to_numpy(dtype=np.float64).reshape(len(sizes), K, P, 2)  # (N, K, P, 2)
        self.index = {_key(*r): i for i, r in enumerate(self.keys.itertuples(index=False))}
        self.k = K
        self.cfg = DataConfig(pred_len=P)  # the history shown is the default obs_len; the table has no config

    def t0_range(self, scene: str, agent=None) -> str:
        """Where the table has futures, for error messages: 't0 60..3870' (or 'no futures')."""
        keys = self.keys[self.keys["scene"] == scene]
        if agent is not None:
            keys = keys[keys["agent_id"].astype(str) == str(agent)]
        t = keys["t0"].to_numpy(dtype=float)
        return f"t0 {t.min():g}..{t.max():g}" if len(t) else "no futures"

    def available(self, w: Windows) -> np.ndarray:
        return np.array([_key(*r) in self.index for r in zip(w.scene, w.agent_id, w.t0)], dtype=bool)

    def lookup(self, scene, agent_id, t0) -> np.ndarray:  # (N, K, P, 2) of keys held by the table
        return self.xy[[self.index[_key(*r)] for r in zip(scene, agent_id, t0)]]

    def samples(self, w: Windows) -> np.ndarray:  # (N, K, P, 2)
        return self.lookup(w.scene, w.agent_id, w.t0)


class Tracks:
    """The track table of DATA, with per-scene lookups and causal windows at any frame."""

    def __init__(self, df: pd.DataFrame, time_step: float | None = None):
        self.df = df
        self.step = time_steps(df, time_step).step  # scene -> frame-id step
        self.by_scene = {str(s): g for s, g in df.groupby("scene", sort=True)}
        self.scenes = list(self.by_scene)
        self._ref = pd.DataFrame({"scene": df["scene"].astype(str), "agent_id": df["agent_id"].astype(str),
                                  "frame": df["frame"].round(6), "x": df["x"], "y": df["y"]})

    # --- names and ranges -----------------------------------------------------------------------
    def scene(self, scene: str | None) -> str:
        """The named scene, or the first one when none is named."""
        if scene is None:
            return self.scenes[0]
        if scene not in self.by_scene:
            raise TrajCVAEError(f"--scene '{scene}': no such scene in DATA (scenes: {id_range(self.scenes)})")
        return scene

    def agent(self, scene: str | None, agent: str) -> tuple[str, object]:
        """(scene, agent id as stored) for `--agent`; without `--scene`, the first scene that has the agent."""
        for s in [self.scene(scene)] if scene is not None else self.scenes:
            ids = self.by_scene[s]["agent_id"].unique()
            match = [i for i in ids if str(i) == str(agent)]
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
        return f"frames {f[0]:g}..{f[-1]:g}, step {self.step[scene]:g}"

    def busiest_frame(self, scene: str) -> float:
        """The frame with the most agents present (the crowd view's default)."""
        counts = self.by_scene[scene].groupby("frame").size()
        return float(counts.idxmax())

    # --- windows --------------------------------------------------------------------------------
    def windows_at(self, cfg: DataConfig, scene: str, frame: float) -> Windows | None:
        """Windows of every agent present at `frame` with >= 2 consecutive positions up to it; None if none.
        Built from the frames (frame - (obs_len - 1) * step) .. frame only (from memory_horizon steps back
        with a scene memory): nothing later can leak in."""
        step = self.step[scene]
        g = self.by_scene[scene]
        back = max(cfg.obs_len - 1, cfg.memory_horizon + 1 if cfg.memory > 0 else 0)  # + a path's step before
        lo = frame - back * step - 1e-6 * step
        sub = g[(g["frame"] >= lo) & (g["frame"] <= frame + 1e-6 * step)]
        if sub.empty:
            return None
        try:
            w = build_windows(sub, replace(cfg, time_step=step), mode="latest")
        except DataError:
            return None
        at = np.flatnonzero(np.isclose(w.t0, frame))
        return w.subset(at) if len(at) else None

    def truth(self, scene, agent_id, t0, step, pred_len: int) -> np.ndarray:
        """The known future of each window (N, P, 2), given its scene, agent, t0 and step: NaN where a frame
        after t0 is missing."""
        t0, step = np.asarray(t0, dtype=float), np.asarray(step, dtype=float)
        frames = np.round(t0[:, None] + step[:, None] * np.arange(1, pred_len + 1), 6)  # (N, P)
        # Ids are compared as text: a table's agent_id may be int where the tracks' is str, or the reverse.
        q = pd.DataFrame({"scene": np.repeat(np.asarray(scene).astype(str), pred_len),
                          "agent_id": np.repeat(np.asarray(agent_id).astype(str), pred_len), "frame": frames.ravel()})
        m = q.merge(self._ref, how="left", on=["scene", "agent_id", "frame"])  # a left merge keeps q's order
        return m[["x", "y"]].to_numpy(dtype=np.float64).reshape(len(t0), pred_len, 2)

    def history(self, scene: str, agent, frame: float, since: float) -> np.ndarray:
        """The agent's gap-free run of positions ending at `frame`, from `since` on: (T, 2)."""
        g = self.by_scene[scene]
        g = g[(g["agent_id"] == agent) & (g["frame"] <= frame + 1e-9) & (g["frame"] >= since - 1e-9)]
        f = g["frame"].to_numpy(dtype=float)
        xy = g[["x", "y"]].to_numpy(dtype=np.float64)
        gaps = np.flatnonzero(~np.isclose(np.diff(f), self.step[scene]))
        return xy[gaps[-1] + 1:] if len(gaps) else xy

    def present(self, scene: str, frame: float) -> pd.DataFrame:
        """Rows of the agents present at `frame`."""
        g = self.by_scene[scene]
        return g[np.isclose(g["frame"].to_numpy(dtype=float), frame)]
