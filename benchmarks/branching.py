"""Are a fork's odds sampled at their rates? Trains a model on the simulator's fork (`simulate.branching_scene`:
walkers turn left with probability 0.7, else right) and measures the share of plain draws that go left.

    python benchmarks/branching.py --out /tmp/fork                   # the recipe (defaults), 15 epochs
    python benchmarks/branching.py --out /tmp/fork-elbo --set train.variety_weight=0   # the pure ELBO
    python benchmarks/branching.py --model /tmp/fork/run/best.pt     # measure a model trained before

It writes train (300 walkers), val (60) and test (200) files under `--out`, trains there (`--epochs`, `--set`
as for `trajcvae train`; the KL weight annealed over 5 epochs; no K-set sampler), then, on the test windows
whose 12-step future passes the fork (t0 between 4 and 1.5 m before it): the share of those windows whose
walker took neither branch, and of those on a branch the share that took the left one; the same of 1000
plain draws per window (an end nearer the straight line on from the agent's t0 position than halfway to the
branches' median end is on neither branch: 3% of the walkers, a fifth to a third of the draws); the endpoint
calibration error of 200 draws with the decoder's noise (as the benchmark) and of 200 decoder means; and
minADE/minFDE@20. About 3 minutes on one core.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from trajcvae import TrajCVAE
from trajcvae.atomic import write_text
from trajcvae.config import check_count, check_output, load_config, read_paths
from trajcvae.errors import TrajCVAEError, as_written
from trajcvae.metrics import calibration, hpd_levels, min_ade_fde
from trajcvae.simulate import branching_scene
from trajcvae.train import train
from trajcvae.windows import load_windows


def fork_rates(model: TrajCVAE, test: Path, draws: int = 1000, seed: int = 0) -> dict:
    w = load_windows([test], model.config.data, None)
    x0 = w.obs[:, -1, 0]
    w = w.subset(np.flatnonzero((x0 > -4.0) & (x0 < -1.5)))
    went = w.fut[:, -1, 1] - w.obs[:, -1, 1]  # (N,) how far left of its t0 position each walker ended
    band = np.median(np.abs(went)) / 2  # an end nearer the straight line than this is on neither branch
    side = model.sample(w, k=draws, seed=seed)[:, :, -1, 1] - w.obs[:, None, -1, 1]  # (N, draws)
    with np.errstate(invalid="ignore"):  # (a window whose draws all take neither branch has no share)
        per_window = (side > band).sum(1) / (np.abs(side) > band).sum(1)  # (N,) left among those on a branch
    full = calibration(hpd_levels(model.sample(w, k=200, seed=seed, full=True), w.fut)[:, -1])
    means = calibration(hpd_levels(model.sample(w, k=200, seed=seed), w.fut)[:, -1])
    ade, fde = min_ade_fde(model.sample(w, k=20, seed=seed + 1), w.fut)
    return {"windows": len(w), "band": float(band),  # left: the share of those on a branch that took the left one
            "true_left": float((went > band).sum() / (np.abs(went) > band).sum()),
            "true_neither": float((np.abs(went) <= band).mean()),
            "drawn_left": float((side > band).sum() / (np.abs(side) > band).sum()),
            "drawn_left_sd": float(np.nanstd(per_window)), "drawn_neither": float((np.abs(side) <= band).mean()),
            "cal_error": full["error"],
            "cal_signed": full["signed_error"], "cal_error_means": means["error"],
            "cal_signed_means": means["signed_error"],
            "min_ade": float(ade.mean()), "min_fde": float(fde.mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("/tmp/trajcvae-fork"))
    ap.add_argument("--epochs", type=as_written(int), default=15)
    ap.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    ap.add_argument("--model", type=Path, default=None, help="measure this model instead of training one")
    ap.add_argument("--p-left", type=as_written(float), default=0.7)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    check_count(args.epochs, "--epochs")
    if not 0 < args.p_left < 1:
        raise TrajCVAEError(f"--p-left must be a probability strictly between 0 and 1 (got {args.p_left})")
    if args.json is not None:  # before the minutes of training and measuring, not after them
        check_output(args.json, "--json", inputs=read_paths(args.model))
    if args.model is not None:  # refused before the fork's data is written, as the settings and a run there are
        TrajCVAE.load(args.model)
    else:
        cfg = load_config(None, [f"train.epochs={args.epochs}", "kset.epochs=0", "train.kl_anneal_epochs=5",
                                 *args.overrides])
        if (args.out / "run" / "last.pt").exists() or (args.out / "run" / "best.pt").exists():
            raise TrajCVAEError(f"--out {args.out}: holds a fork run already ({args.out / 'run'}); give another --out, "
                                f"or measure that run with --model {args.out / 'run' / 'best.pt'}")
    torch.set_num_threads(1)
    data = args.out / "data"
    data.mkdir(parents=True, exist_ok=True)
    for part, (n, seed) in {"train": (300, 0), "val": (60, 1), "test": (200, 2)}.items():
        branching_scene(n, args.p_left, seed, part).to_csv(data / f"{part}.csv", index=False)
    model = args.model
    if model is None:
        run = args.out / "run"
        train([data / "train.csv"], [data / "val.csv"], cfg, run, progress=False)
        model = run / "best.pt"
    result = {"model": str(model), "overrides": args.overrides, **fork_rates(TrajCVAE.load(model), data / "test.csv")}
    print(f"{result['windows']} windows: of the walkers on a branch {result['true_left']:.3f} went left, of the plain "
          f"draws {result['drawn_left']:.3f} (sd over windows {result['drawn_left_sd']:.3f}); on neither branch "
          f"(within {result['band']:.2f} m of the straight line) {result['true_neither']:.3f} of the walkers, "
          f"{result['drawn_neither']:.3f} of the draws; endpoint calibration "
          f"error {result['cal_error']:.3f} (signed {result['cal_signed']:+.3f}), of the decoder means "
          f"{result['cal_error_means']:.3f} ({result['cal_signed_means']:+.3f}); minADE/minFDE@20 "
          f"{result['min_ade']:.3f}/{result['min_fde']:.3f}")
    if args.json:
        write_text(args.json, json.dumps(result, indent=2))  # (its missing folders made)


if __name__ == "__main__":
    from command_line import run
    run(main)
