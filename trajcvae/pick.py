"""Which windows a picture shows: one agent's, a grid (spread, random, worst or best by minADE), or every
agent of a scene at one frame. Candidates are handled as keys (scene, agent, t0) and only the windows
actually drawn are built, so ranking thousands of windows of a predictions table stays cheap.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import TrajCVAEError
from .metrics import min_ade_fde
from .views import TableFutures, Tracks
from .viz import SceneView
from .windows import Windows, build_windows, concat_windows


@dataclass
class Pool:
    """Candidate windows in data order: keys (scene, agent_id, t0), their true futures (N, P, 2; NaN where
    unknown) and, for a model, the built windows (a table's are built only when picked)."""

    keys: pd.DataFrame
    fut: np.ndarray
    windows: Windows | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def samples(self, futures, idx: np.ndarray) -> np.ndarray:  # (n, K, P, 2)
        if self.windows is not None:
            return futures.samples(self.windows.subset(idx))
        k = self.keys.iloc[idx]
        return futures.lookup(k["scene"], k["agent_id"], k["t0"])

    def build(self, tracks: Tracks, futures, idx: np.ndarray) -> Windows:
        """The windows of candidates `idx`, true futures attached."""
        if self.windows is not None:
            w = self.windows.subset(idx)
        else:
            parts = [_table_window(tracks, futures, *r) for r in self.keys.iloc[idx].itertuples(index=False)]
            w = concat_windows(parts, "latest")  # inputs only; the true futures are attached below
        w.fut = self.fut[idx]
        return w


def pool(tracks: Tracks, futures, scene: str | None, agent: str | None) -> Pool:
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
        step = np.array([tracks.step.get(s, np.nan) for s in keys["scene"]])
        return Pool(keys, tracks.truth(keys["scene"], keys["agent_id"], keys["t0"], step, P))
    df = tracks.df
    if agent is not None:
        s, a = tracks.agent(scene, agent)
        df = df[(df["scene"] == s) & (df["agent_id"] == a)]
    elif scene is not None:
        df = df[df["scene"] == tracks.scene(scene)]
    try:
        w = build_windows(df, futures.cfg, mode="windows")
    except TrajCVAEError:
        w = build_windows(df, futures.cfg, mode="latest")  # no full window: forecast past the data
    keys = pd.DataFrame({"scene": w.scene.astype(str), "agent_id": w.agent_id, "t0": w.t0})
    fut = w.fut if w.fut is not None else tracks.truth(w.scene, w.agent_id, w.t0, w.step, P)
    return Pool(keys, fut, w)


def _table_window(tracks: Tracks, futures: TableFutures, scene, agent, t0) -> Windows:
    w = tracks.windows_at(futures.cfg, str(scene), float(t0))
    hit = [] if w is None else np.flatnonzero(w.agent_id.astype(str) == str(agent))
    if not len(hit):
        raise TrajCVAEError(f"the predictions file has futures for agent {agent} at t0 {float(t0):g} in scene "
                            f"'{scene}', but DATA has no track with 2 consecutive positions there")
    return w.subset(hit[:1])


def _known(fut: np.ndarray) -> np.ndarray:
    return np.isfinite(fut).all((1, 2))  # (N,) the whole true future is in the data


def one_window(tracks: Tracks, futures, scene: str | None, agent: str | None, t0: float | None,
               seed: int | None) -> Windows:
    """The window of --agent at --t0; without them the first (or, with --seed, a random) window, preferring
    one whose true future is known."""
    if t0 is None:
        p = pool(tracks, futures, scene, agent)
        known = np.flatnonzero(_known(p.fut))
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
        f = f"{float(t0):g}"
        table = isinstance(futures, TableFutures)
        who = f"agent {a} in scene '{s}'" if a is not None else f"no agent in scene '{s}'"
        what = (f"the predictions file has no futures at frame {f} for {who.replace('no agent', 'any agent')}"
                if table else f"{who} has no window ending at frame {f} (2 consecutive positions up to it are "
                "needed)" if a is not None else f"{who} has 2 consecutive positions up to frame {f}")
        whose = f"agent {a} has" if a is not None else "the scene has"
        have = f"{futures.t0_range(s, a)} in the file" if table else tracks.frame_range(s, a)
        raise TrajCVAEError(f"--t0 {f}: {what}; {whose} {have}")
    w.fut = tracks.truth(w.scene, w.agent_id, w.t0, w.step, futures.cfg.pred_len)
    known = np.flatnonzero(_known(w.fut))
    return w.subset(known[:1] if len(known) else np.arange(1))


def grid_windows(tracks: Tracks, futures, scene: str | None, n: int, seed: int | None = None, worst: bool = False,
                 best: bool = False) -> tuple[Windows, np.ndarray, str]:
    """Pick n windows: worst/best by minADE, random with a seed, else evenly spread over the data.
    Returns the windows (true futures attached, NaN where unknown), their samples (n, K, P, 2), a heading."""
    p = pool(tracks, futures, scene, None)
    k = futures.k
    if worst or best:
        known = np.flatnonzero(_known(p.fut))
        if not len(known):
            raise TrajCVAEError(f"--{'worst' if worst else 'best'}: no window in DATA has a known true future "
                                "to score")
        samples = p.samples(futures, known)  # (N, K, P, 2): every candidate, to rank them
        ade, _ = min_ade_fde(samples, p.fut[known])
        order = np.argsort(-ade if worst else ade, kind="stable")[:n]
        heading = (f"{len(order)} {'worst' if worst else 'best'} of {len(known)} windows by minADE@{k} "
                   f"(mean over all {ade.mean():.2f} m)")
        return p.build(tracks, futures, known[order]), samples[order], heading
    if seed is not None:
        pick = np.sort(np.random.default_rng(seed).choice(len(p), size=min(n, len(p)), replace=False))
        heading = f"{len(pick)} random windows of {len(p)} (seed {seed}), {k} futures each"
    else:
        pick = np.unique(np.linspace(0, len(p) - 1, min(n, len(p))).round().astype(int))
        heading = f"{len(pick)} windows spread over {len(p)}, {k} futures each"
    w = p.build(tracks, futures, pick)
    return w, futures.samples(w), heading


def scene_view(tracks: Tracks, futures, scene: str, frame: float, since: float | None = None,
               strict: bool = False) -> tuple[SceneView, str]:
    """Every agent present at `frame` with its futures (agents that cannot be predicted in grey), and a
    title. Histories start at `since` (default: the model's observed window). `strict`: no predicted
    agent at `frame` is an error (for --scene-frame)."""
    step = tracks.step[scene]
    present = tracks.present(scene, frame)
    if strict and present.empty:
        raise TrajCVAEError(f"--scene-frame {frame:g}: no agent in scene '{scene}' at frame {frame:g} "
                            f"({tracks.frame_range(scene)})")
    since = frame - (futures.cfg.obs_len - 1) * step if since is None else since
    w = tracks.windows_at(futures.cfg, scene, frame)
    if w is not None:
        w = w.subset(np.flatnonzero(futures.available(w)))
    if strict and (w is None or len(w) == 0):
        table = isinstance(futures, TableFutures)
        have = "the predictions file has no futures" if table else "no agent has 2 consecutive positions"
        where = f"{futures.t0_range(scene)} in the file" if table else tracks.frame_range(scene)
        raise TrajCVAEError(f"--scene-frame {frame:g}: {have} at frame {frame:g} in scene '{scene}' ({where})")
    P, K = futures.cfg.pred_len, futures.k
    predicted = set() if w is None else {str(a) for a in w.agent_id}
    others = [tracks.history(scene, a, frame, since) for a in present["agent_id"] if str(a) not in predicted]
    if w is None or len(w) == 0:
        return SceneView(frame, [], np.zeros((0, K, P, 2)), None, others), f"scene '{scene}' · frame {frame:g}"
    samples = futures.samples(w)  # (N, K, P, 2)
    fut = tracks.truth(w.scene, w.agent_id, w.t0, w.step, P)
    view = SceneView(frame, [tracks.history(scene, a, frame, since) for a in w.agent_id], samples, fut, others)
    title = f"scene '{scene}' · frame {frame:g}: {len(w)} agents x {samples.shape[1]} futures"
    known = _known(fut)
    if known.any():
        ade, fde = min_ade_fde(samples[known], fut[known])
        title += f"\nmean minADE {ade.mean():.2f} m, minFDE {fde.mean():.2f} m over {known.sum()} with known futures"
    return view, title
