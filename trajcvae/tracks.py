"""Tracks -> per-scene time steps and the summary line: what `data.read_tracks` found, in counts.

`time_steps` infers each scene's step (the most common frame difference within agents' tracks) and counts
the gaps that split tracks into gap-free segments; windows are built within segments only. `summarize`
counts files, rows, agents, scenes, gaps, single-frame agents and repeated rows dropped, for the one line
that `train`, `predict` and `evaluate` print.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class SceneSteps:
    """Time step (in frame-id units) of each scene, and how its tracks split into gap-free segments."""

    step: dict[str, float]
    segments: int
    gaps: int


def time_steps(df: pd.DataFrame, time_step: float | None = None) -> SceneSteps:
    """Infer each scene's step as the most common positive frame difference within agents' tracks.

    A scene with a single frame holds no motion at all (no window can come from it); its step is 1.
    """
    steps: dict[str, float] = {}
    segments = gaps = 0
    for scene, g in df.groupby("scene", sort=True, observed=True):
        agent = g["agent_id"].to_numpy()
        frame = g["frame"].to_numpy()
        same = agent[1:] == agent[:-1]
        diffs = np.diff(frame)[same]
        if time_step is not None:
            step = float(time_step)
        elif (diffs > 0).any():
            vals, counts = np.unique(np.round(diffs[diffs > 0], 9), return_counts=True)
            step = float(vals[np.argmax(counts)])
        else:
            frames = np.unique(frame)
            step = float(np.min(np.diff(frames))) if len(frames) > 1 else 1.0
        steps[str(scene)] = step
        n_gaps = int(np.sum(~np.isclose(diffs, step)))
        gaps += n_gaps
        segments += int(np.sum(~same)) + 1 + n_gaps
    return SceneSteps(steps, segments, gaps)


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

    def line(self) -> str:
        where = f"read {_n(self.files, 'file')}" if self.files else "read a table"
        text = (f"{where}: {_n(self.rows, 'row')}, {_n(self.agents, 'agent')}, {_n(self.scenes, 'scene')}; "
                + (f"{_n(self.gaps, 'gap')} split tracks into {_n(self.segments, 'segment')}" if self.gaps
                   else "no gaps"))
        if self.single_frame_agents:
            text += f"; {_n(self.single_frame_agents, 'single-frame agent')}"
        if self.duplicates_dropped:
            text += f"; {_n(self.duplicates_dropped, 'repeated row')} dropped"
        return text


def summarize(df: pd.DataFrame, time_step: float | None = None) -> TrackSummary:
    """Counts for a table from `read_tracks` (and the gaps at `time_step`, or each scene's inferred step)."""
    s = time_steps(df, time_step)
    scene = df["scene"].cat.codes.to_numpy() if isinstance(df["scene"].dtype, pd.CategoricalDtype) \
        else pd.factorize(df["scene"])[0]
    agent = df["agent_id"].to_numpy()
    new = np.ones(len(df), bool)
    new[1:] = (scene[1:] != scene[:-1]) | (agent[1:] != agent[:-1])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(df)))
    return TrackSummary(files=int(df.attrs.get("files", 0)), rows=len(df), agents=len(starts),
                        scenes=len(s.step), gaps=s.gaps, segments=s.segments,
                        single_frame_agents=int(np.sum(sizes == 1)),
                        duplicates_dropped=int(df.attrs.get("duplicates_dropped", 0)))


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
