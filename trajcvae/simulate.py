"""The project's own synthetic crowd: agents cross a plaza, pick one of three exits at its centre, and
steer around each other. Multimodal futures (left / straight / right) make it a fair CVAE test.
A dense crowd turns arrivals back: its push sends some out by the edge they came in through before they
reach the centre (none of 2,800 at the default 0.35 new agents per step, 1% at 2, a third at 5, over half
at 10).

Units are metres; one step is 0.4 s and frame ids advance by 10 per step, as in ETH/UCY.
"""
from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import write_table
from .config import DataConfig, _whole, check_output, check_seed
from .errors import TrajCVAEError, keyword_names, shown, warn

MAX_SPAWN_RATE = 10.0  # new agents per step: the 16 m plaza is a dense crowd at 5, and arrivals are a Python loop
MAX_STEPS = 200_000  # scenes x frames: 4,000 steps take about 1.7 s
MAX_SCENES = 1000  # scene i of seed s walks seed 1000 s + i: more would walk the next seed's scenes again
MAX_ARRIVALS = 70_000  # scenes x frames x rate: 1,000 steps at --rate 10 (a crowd) take about 20 s
SIDES = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])  # plaza edges: W, E, S, N


def simulate_scene(n_frames: int = 400, spawn_rate: float = 0.35, half_size: float = 8.0, dt: float = 0.4,
                   seed: int = 0, scene: str = "plaza") -> pd.DataFrame:
    """One scene: agents enter at a random edge, walk to the centre, then to one of the other three edges;
    an agent pushed back out of the plaza by the crowd before it reaches the centre leaves by its entry edge
    (above about 2 new agents a step: see the module's note).

    spawn_rate: expected new agents per step. Returns `scene, frame, agent_id, x, y` rows.
    """
    rng = np.random.default_rng(seed)
    pos = np.zeros((0, 2)); vel = np.zeros((0, 2)); goal = np.zeros((0, 2)); exit_ = np.zeros((0, 2))
    speed = np.zeros(0); ids = np.zeros(0, dtype=np.int64)
    turned = np.zeros(0, bool)
    next_id, rows = 1, []
    for t in range(n_frames):
        for _ in range(rng.poisson(spawn_rate)):  # arrivals
            side = rng.integers(4)
            start = SIDES[side] * half_size + SIDES[side][::-1] * rng.uniform(-2, 2)
            choices = [s for s in range(4) if s != side]
            out = SIDES[choices[rng.integers(3)]]
            pos = np.vstack([pos, start]); vel = np.vstack([vel, -SIDES[side] * 1.2])
            goal = np.vstack([goal, rng.normal(0.0, 0.8, 2)]); exit_ = np.vstack([exit_, out * (half_size + 2)])
            speed = np.append(speed, np.clip(rng.normal(1.25, 0.2), 0.6, 2.0))
            ids = np.append(ids, next_id); turned = np.append(turned, False)
            next_id += 1
        if len(pos):
            reached = np.linalg.norm(goal - pos, axis=1) < 1.0  # at the centre: head for the exit
            turned |= reached
            goal[turned] = exit_[turned]
            to_goal = goal - pos
            desired = to_goal / np.maximum(np.linalg.norm(to_goal, axis=1, keepdims=True), 1e-6) * speed[:, None]
            force = (desired - vel) / 1.0  # relax to the desired velocity over ~1 s
            diff = pos[:, None] - pos[None]  # social repulsion from agents closer than ~2 m
            dist = np.linalg.norm(diff, axis=-1) + np.eye(len(pos)) * 1e6
            force += (diff / dist[..., None] * np.exp(-dist / 0.6)[..., None] * 3.0).sum(1)
            vel = vel + dt * force + rng.normal(0.0, 0.05, vel.shape)
            pos = pos + dt * vel
            for i in range(len(pos)):
                rows.append((scene, t * 10, int(ids[i]), round(pos[i, 0], 3), round(pos[i, 1], 3)))
            alive = np.abs(pos).max(axis=1) < half_size + 1.5
            pos, vel, goal, exit_, speed, ids, turned = (a[alive] for a in (pos, vel, goal, exit_, speed, ids, turned))
    return pd.DataFrame(rows, columns=["scene", "frame", "agent_id", "x", "y"])


def branching_scene(n_agents: int = 300, p_left: float = 0.7, seed: int = 0, scene: str = "fork",
                    turn_deg: float = 60.0) -> pd.DataFrame:
    """A fork with known odds: agents walk east along y = 0 (1.3 m/s, 0.3 m of lateral spread), and at
    x = 0 each turns `turn_deg` to the left with probability `p_left`, else as far to the right. Agents start
    6 steps apart, so a model sees others ahead of it, most of the time metres away (nobody steers: a faster
    walker may catch up with a slower one ahead). A calibrated predictor sends a share `p_left` of its draws
    left. Returns `scene, frame, agent_id, x, y` rows (45 steps per agent)."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_agents):
        speed, pos, heading = rng.normal(1.3, 0.1) * 0.4, np.array([-12.0, rng.normal(0.0, 0.3)]), 0.0
        target = np.deg2rad(turn_deg) * (1 if rng.random() < p_left else -1)
        for step in range(45):
            if pos[0] > -0.5:  # the turn, over about 0.8 s
                heading += np.clip(target - heading, -0.35, 0.35)
            pos = pos + speed * np.array([np.cos(heading), np.sin(heading)]) + rng.normal(0.0, 0.01, 2)
            rows.append((scene, (6 * a + step) * 10, a, round(pos[0], 3), round(pos[1], 3)))
    return pd.DataFrame(rows, columns=["scene", "frame", "agent_id", "x", "y"])


@keyword_names({"--frames": "n_frames"})  # (visualize's --frames is its frames)
def simulate(out: str | Path, scenes: int = 1, n_frames: int = 400, spawn_rate: float = 0.35,
             seed: int = 0, prefix: str = "plaza") -> pd.DataFrame:
    """Write `scenes` scenes into one CSV (or Parquet) at `out` (atomically) and return the table."""
    check_output(out, "OUT", table=True)
    _whole(scenes, "--scenes")
    _whole(n_frames, "--frames")
    check_seed(seed)
    for given, option in ((scenes, "--scenes"), (n_frames, "--frames")):
        if given < 1:
            raise TrajCVAEError(f"{option} must be >= 1 (got {shown(given)})")
    if scenes > MAX_SCENES:
        raise TrajCVAEError(f"--scenes is at most {MAX_SCENES} (scene i of --seed s is walked from seed "
                            f"{MAX_SCENES} s + i: more would repeat the next seed's scenes; got {shown(scenes)}): "
                            "give more --frames")
    if not isinstance(prefix, str) or not prefix.strip() or not prefix.isprintable():  # (a line break: no name)
        raise TrajCVAEError(f"--prefix must be a text of one line that names the scenes (got {shown(prefix)})")
    if (steps := scenes * n_frames) > MAX_STEPS:  # (Python writes no int of over 4,300 digits: `shown`)
        raise TrajCVAEError(f"--scenes x --frames is at most {MAX_STEPS:,} steps (about a minute and a half; "
                            f"got {f'{steps:,}' if steps < 2 ** 64 else shown(steps)})")
    if isinstance(spawn_rate, bool) or not isinstance(spawn_rate, numbers.Real):
        raise TrajCVAEError(f"--rate must be a number of new agents per step (got {shown(spawn_rate)})")
    if not 0 < spawn_rate <= MAX_SPAWN_RATE:  # NaN fails too
        raise TrajCVAEError(f"--rate must be > 0 and at most {MAX_SPAWN_RATE:g} new agents per step "
                            f"(got {shown(spawn_rate)})")
    if scenes * n_frames * spawn_rate > MAX_ARRIVALS:  # a crowd costs more a step than the steps cap allows for
        raise TrajCVAEError(f"--scenes x --frames x --rate is at most {MAX_ARRIVALS:,} arriving agents (a minute or "
                            f"two; got {scenes * n_frames * spawn_rate:,.0f}): fewer --frames or --scenes, or a lower "
                            "--rate")
    df = pd.concat([simulate_scene(n_frames, spawn_rate, seed=seed * 1000 + i, scene=f"{prefix}{i}")
                    for i in range(scenes)], ignore_index=True)
    if not len(df):  # a file every command would refuse as empty
        raise TrajCVAEError(f"--frames {n_frames} at --rate {spawn_rate:g}: no agent entered the plaza; give more "
                            "--frames or a higher --rate")
    write_table(df, out)
    window = DataConfig().obs_len + DataConfig().pred_len
    if df.groupby(["scene", "agent_id"]).size().max() < window:  # (the recipe's windows, which the demo trains on)
        warn(f"warning: --frames {n_frames}: no agent stays {window} steps, the windows of the default recipe "
             f"({DataConfig().obs_len} observed + {DataConfig().pred_len} predicted), so training on the file finds "
             "none; give more --frames")
    return df


def write_demo(folder: str | Path = "data/demo", seed: int = 0) -> None:
    """The demo set shipped in `data/demo`: train (4 scenes), val (1) and test (1) CSVs."""
    folder = Path(folder)
    simulate(folder / "train.csv", scenes=4, seed=seed, prefix="train")
    simulate(folder / "val.csv", scenes=1, seed=seed + 1, prefix="val")
    simulate(folder / "test.csv", scenes=1, seed=seed + 2, prefix="test")
