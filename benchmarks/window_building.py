"""Window building on resampled tracks, timed: one recorded file written four ways, and the time
`TrajCVAE.make_windows(every_window=True)` takes on each (the windows training, `evaluate` and
`predict --every-window` read; the numbers of docs/your-data.md).

    python benchmarks/window_building.py --source ../shared/datasets/eth_ucy/univ/test/students001.txt
    python benchmarks/window_building.py --busy 60,200,600

The four ways: the file's own frame ids of unknown rate (one grid, no resampling); 25 fps frame ids, one row
per frame (tracks interpolated between the recorded frames); a tracker's output in seconds, the frames of
the recording with their timestamps jittered by up to `--jitter` s, frame by frame (the agents of a frame
share its time); and the same jitter drawn detection by detection (every detection at a time of its own,
the worst case: each window is cut from the scene on its own). Resampled windows are cut from the scene as
it was at their t0 (`windows._anchored_windows`), so they cost more than the one grid of frame ids.

`--busy`: long busy logs, the simulated plaza (`simulate_scene`, a new person every step: 35-48 in
view at once) logged at 2.5 Hz with every detection at a time of its own (uniform +-0.1 s), the first N
seconds of one such log for each N given; the time of every window and of each agent's latest window
(`predict`). A cut reads the memory's paths near its agents over up to 400 s, not every row the log holds.

The jittered inputs move their stamps, not their positions (the cost of a cut, not its futures, is measured),
so reading them says their times jitter while the detections come evenly (`checks.stamp_warning`), as it should.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from trajcvae import TrajCVAE
from trajcvae.config import check_seed
from trajcvae.errors import TrajCVAEError, as_written

FPS = 25.0  # ETH/UCY frame ids: 10 per 0.4 s step


def kinds(d: pd.DataFrame, jitter: float, seed: int) -> dict[str, tuple[pd.DataFrame, float | None]]:
    """The file written four ways: name -> (table, fps for frame ids or None)."""
    rng = np.random.default_rng(seed)
    frames = np.unique(d["frame"])
    per_frame = dict(zip(frames, rng.uniform(-jitter, jitter, len(frames))))
    parts = []
    for agent, g in d.groupby("agent_id"):
        f = np.arange(g["frame"].iloc[0], g["frame"].iloc[-1] + 1)
        parts.append(pd.DataFrame({"frame": f, "agent_id": agent, "x": np.interp(f, g["frame"], g["x"]),
                                   "y": np.interp(f, g["frame"], g["y"])}))
    seconds = d["frame"] / FPS

    def timed(t: pd.Series) -> pd.DataFrame:
        return pd.DataFrame({"time": np.round(t, 4), "agent_id": d["agent_id"], "x": d["x"], "y": d["y"]})

    return {
        "frame ids of unknown rate": (d, None),
        "25 fps frame ids": (pd.concat(parts, ignore_index=True), FPS),
        "seconds, jittered frame by frame": (timed(seconds + d["frame"].map(per_frame)), None),
        "seconds, jittered detection by detection": (timed(seconds + rng.uniform(-jitter, jitter, len(d))), None),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", help="an ETH/UCY text file (frame agent_id x y)")
    ap.add_argument("--busy", type=lengths, default=[], help="long busy logs instead: their lengths, seconds "
                    "(comma-separated, e.g. 60,200,600)")
    ap.add_argument("--model", default="pedestrian", help="the model whose data config builds the windows")
    ap.add_argument("--jitter", type=as_written(float), default=0.1, help="timestamp jitter, seconds (uniform +-)")
    ap.add_argument("--seed", type=as_written(int), default=0)
    a = ap.parse_args()
    from command_line import eth_ucy_table

    check_seed(a.seed)
    if a.busy:
        return busy(TrajCVAE.load(a.model), a.busy, a.seed)
    if a.source is None:
        raise TrajCVAEError("give --source (an ETH/UCY file) or --busy (lengths of simulated logs, seconds)")
    if not (a.jitter >= 0 and np.isfinite(a.jitter)):
        raise TrajCVAEError(f"--jitter must be a number of seconds >= 0 (got {a.jitter:g})")
    d = eth_ucy_table(a.source)
    d = d.sort_values(["agent_id", "frame"]).reset_index(drop=True)
    model = TrajCVAE.load(a.model)
    print("| input | rows | windows | seconds | ms per window |\n|---|---:|---:|---:|---:|")
    for name, (table, fps) in kinds(d, a.jitter, a.seed).items():
        t = time.perf_counter()
        w = model.make_windows(table, every_window=True, fps=fps)
        s = time.perf_counter() - t
        print(f"| {name} | {len(table):,} | {len(w):,} | {s:.1f} | {1000 * s / max(len(w), 1):.2f} |", flush=True)


def lengths(text: str) -> list[float]:
    """--busy's value: seconds > 0, comma-separated (argparse names the option for anything else)."""
    values = [float(s) for s in text.split(",")]
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(text)
    return values


def busy(model: TrajCVAE, seconds: list[float], seed: int) -> None:
    """The windows of the first N seconds of one long simulated log, for each N of `seconds`."""
    from trajcvae.simulate import simulate_scene
    steps = int(np.ceil(max(seconds) / 0.4)) + 1
    d = simulate_scene(n_frames=steps, spawn_rate=1.0, seed=seed)
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"time": np.round(d["frame"] / FPS + rng.uniform(-0.1, 0.1, len(d)), 4),
                      "agent_id": d["agent_id"], "x": d["x"], "y": d["y"]})
    print("| log | rows | people in view (mean) | every window: windows, seconds, ms per window | latest windows "
          "(`predict`): windows, seconds |\n|---|---:|---:|---|---|")
    for n in seconds:
        table = d[d["time"] < n]
        t = time.perf_counter()
        w = model.make_windows(table, every_window=True)
        s = time.perf_counter() - t
        t = time.perf_counter()
        latest = model.make_windows(table)
        s_latest = time.perf_counter() - t
        seen = table.groupby(np.floor(table["time"] / 0.4))["agent_id"].nunique().mean()
        print(f"| {n:g} s | {len(table):,} | {seen:.0f} | {len(w):,}, {s:.1f}, {1000 * s / max(len(w), 1):.2f} | "
              f"{len(latest):,}, {s_latest:.1f} |", flush=True)


if __name__ == "__main__":
    from command_line import run
    run(main)
