"""A dense tracker's noisy detections: how near the clean tracks' futures a model gets reading them.

    python benchmarks/dense_feed.py --model pedestrian --data ../shared/datasets/eth_ucy/zara1/test \
        --hz 10 --noise 0.15

Each ETH/UCY file (`frame agent_id x y`, 10 frame ids a 0.4 s step) is turned into a tracker's log: every
agent's annotations linearly interpolated to `--hz` detections a second (split where they skip over two
steps), written with a time column, once as they are (clean) and once with N(0, noise^2) per axis on every
detection (noisy), in a temporary folder. The noisy log is read three ways, each scored (minADE/minFDE@K,
metres) against the futures of the same windows (scene, agent, t0) cut from the clean log: as recorded (no
`--noise`), with `--noise` that std (a dense tracker's steps are then lines through its detections,
`resample.fitted`) and with `--noise auto`; the clean log as it is for reference.
"""
from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from trajcvae import TrajCVAE
from trajcvae.config import check_count
from trajcvae.errors import TrajCVAEError, as_written
from trajcvae.metrics import min_ade_fde
from trajcvae.tracks import list_files
from trajcvae.windows import window_key

FRAMES_PER_SECOND = 25.0  # ETH/UCY: 10 frame ids a 0.4 s step


def tracker_log(path: Path, hz: float) -> pd.DataFrame:
    """An ETH/UCY file -> its agents detected `hz` times a second (time, agent_id, x, y), interpolated."""
    d = pd.read_csv(path, sep=r"\s+", header=None, names=["frame", "agent_id", "x", "y"])
    rows = []
    for agent, g in d.sort_values(["agent_id", "frame"]).groupby("agent_id"):
        t = g.frame.to_numpy(np.float64) / FRAMES_PER_SECOND
        for part in np.split(np.arange(len(t)), np.flatnonzero(np.diff(t) > 0.81) + 1):
            if len(part) < 2:
                continue
            at = np.arange(math.ceil(t[part[0]] * hz - 1e-6), math.floor(t[part[-1]] * hz + 1e-6) + 1) / hz
            rows.append(pd.DataFrame({"time": at.round(6), "agent_id": agent,
                                      "x": np.interp(at, t[part], g.x.to_numpy()[part]),
                                      "y": np.interp(at, t[part], g.y.to_numpy()[part])}))
    return pd.concat(rows, ignore_index=True).sort_values(["time", "agent_id"], kind="stable")


def scored(model: TrajCVAE, files: list[Path], truth, k: int) -> tuple[float, float, int]:
    """Mean minADE/minFDE@k of `model` on the windows of `files` that `truth` (clean windows) also holds."""
    w = model.make_windows(files, every_window=True)
    where = pd.Series(np.arange(len(truth)), index=window_key(truth.scene, truth.agent_id, truth.t0))
    at = where.reindex(window_key(w.scene, w.agent_id, w.t0)).to_numpy()
    mine = np.flatnonzero(~np.isnan(at))
    ade, fde = min_ade_fde(model.sample(w.subset(mine), k=k), truth.fut[at[mine].astype(np.int64)])
    return float(ade.mean()), float(fde.mean()), len(mine)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="pedestrian", help="checkpoint or built-in model")
    ap.add_argument("--data", nargs="+", required=True, help="ETH/UCY files or folders")
    ap.add_argument("--hz", type=as_written(float), default=10.0, help="detections a second")
    ap.add_argument("--noise", type=as_written(float), default=0.15, help="std per axis of each detection, metres")
    ap.add_argument("-k", type=as_written(int), default=20)
    ap.add_argument("--seed", type=as_written(int), default=0)
    ap.add_argument("--threads", type=as_written(int), default=2)
    a = ap.parse_args()
    check_count(a.k, "-k")
    torch.set_num_threads(check_count(a.threads, "--threads"))
    if not (math.isfinite(a.hz) and a.hz > 0) or not (math.isfinite(a.noise) and a.noise > 0):
        raise TrajCVAEError(f"--hz and --noise must be finite and > 0 (got {a.hz:g}, {a.noise:g})")
    rng = np.random.default_rng(a.seed)
    model = TrajCVAE.load(a.model)
    with tempfile.TemporaryDirectory() as tmp:
        clean, noisy = Path(tmp, "clean"), Path(tmp, "noisy")
        clean.mkdir(), noisy.mkdir()
        for path in list_files(a.data):
            log = tracker_log(path, a.hz)
            log.to_csv(clean / f"{path.stem}.csv", index=False)
            log.assign(x=log.x + a.noise * rng.standard_normal(len(log)),
                       y=log.y + a.noise * rng.standard_normal(len(log))).to_csv(noisy / f"{path.stem}.csv",
                                                                               index=False)
        files = lambda folder: sorted(folder.glob("*.csv"))  # noqa: E731
        truth = model.make_windows(files(clean), every_window=True)
        print(f"{a.model} on {' '.join(a.data)} at {a.hz:g} Hz, {a.noise:g} m of noise, minADE/minFDE@{a.k}:")
        for name, m, folder in (("clean", model, clean), ("as recorded", model, noisy),
                                (f"--noise {a.noise:g}", model.bridging(None, a.noise), noisy),
                                ("--noise auto", model.bridging(None, "auto"), noisy)):
            ade, fde, n = scored(m, files(folder), truth, a.k)
            print(f"  {name}: {ade:.3f}/{fde:.3f} ({n} windows)", flush=True)


if __name__ == "__main__":
    from command_line import run
    run(main)
