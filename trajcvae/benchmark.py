"""The ETH/UCY benchmark: leave-one-scene-out on eth, hotel, univ, zara1, zara2.

For each split: train on `train`, pick the checkpoint on `val`, then on `test` measure best-of-K errors,
the most-likely prediction, both straight-line baselines and three likelihoods (nats per window):
the test -ELBO, an importance-sampled -log p(y|x), and Trajectron++'s KDE NLL. Finished splits are
skipped on a re-run (each leaves `result.json`), and a split cut short resumes from its last checkpoint.
With several seeds the table holds their mean, and a second table each seed's minADE/minFDE.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from . import checkpoint
from .atomic import write_text
from .batch import WindowTensors, make_batch
from .config import check_calibration, check_cluster_from, check_output, load_config
from .errors import TrajCVAEError
from .evaluate import calibration_of, window_errors
from .metrics import CALIBRATION_LEVELS, kde_nll, min_ade_fde
from .predict import TrajCVAE
from .train import train
from .windows import Windows

SPLITS = ("eth", "hotel", "univ", "zara1", "zara2")
HEADINGS = {  # result key -> Markdown heading
    "windows": "windows", "min_ade": "minADE@20", "min_fde": "minFDE@20", "ml_ade": "ML ADE",
    "ml_fde": "ML FDE", "cv_ade": "CV ADE", "cv_fde": "CV FDE", "ncv_min_ade": "noisy line minADE@20",
    "ncv_min_fde": "noisy line minFDE@20", "neg_elbo": "-ELBO", "is_nll": "IS NLL", "kde_nll": "KDE NLL",
    "train_minutes": "train min", "predict_ms_per_window": "predict ms/window",
}


@torch.no_grad()
def likelihoods(predictor: TrajCVAE, wt: WindowTensors, fut: np.ndarray, is_samples: int = 100,
                kde_samples: int = 2000, seed: int = 0, batch: int = 256) -> dict[str, float]:
    """Mean test -ELBO, importance-sampled -log p(y|x) and KDE NLL, nats per window (world units)."""
    torch.manual_seed(seed)
    neg_elbo, is_nll, kde = [], [], []
    for lo in range(0, len(wt), batch):
        idx = torch.arange(lo, min(lo + batch, len(wt)))
        b = make_batch(wt, idx, predictor.config.data, predictor.device)
        neg_elbo.append(-predictor.model.loss(b)["elbo"].item() * len(idx))
        is_nll.append(predictor.model.importance_nll(b, is_samples).sum().item())
        part = wt.inputs(idx)
        samples = predictor.sample(part, k=kde_samples, seed=seed + lo, full=True)
        kde.append(kde_nll(samples, fut[idx.numpy()]).sum())
    n = len(wt)
    return {"neg_elbo": sum(neg_elbo) / n, "is_nll": sum(is_nll) / n, "kde_nll": float(sum(kde) / n)}


def evaluate_split(predictor: TrajCVAE, test_paths: list[Path], k: int = 20, seed: int = 0,
                   is_samples: int = 100, kde_samples: int = 2000, cluster_from: int = 0,
                   calibration_draws: int = 200) -> dict[str, float]:
    w = predictor.make_windows(test_paths, every_window=True)  # built once: errors, timing and likelihoods share it
    errors = window_errors(predictor, w, k=k, seed=seed)
    row = {"windows": len(errors), **{c: float(errors[c].mean()) for c in errors.columns
                                      if c not in ("scene", "agent_id", "t0")}}
    wt = WindowTensors.from_windows(w)
    t = time.perf_counter()
    predictor.sample(wt, k=k, seed=seed)
    row["predict_ms_per_window"] = (time.perf_counter() - t) * 1000 / len(wt)
    row.update(likelihoods(predictor, wt, w.fut, is_samples, kde_samples, seed))
    if cluster_from:
        row.update(clustered(predictor, w, k, seed, cluster_from))
    if calibration_draws:
        row.update(calibrated(predictor, w, seed, calibration_draws))
    return row


def calibrated(predictor: TrajCVAE, w: Windows, seed: int, draws: int = 200, max_windows: int = 2000) -> dict:
    """Plain sampling's calibration (`evaluate.calibration_of`) on at most `max_windows` windows spread evenly
    over the split (its KDE costs draws^2 per window and step), as flat numbers: the endpoint's and all
    steps' calibration error, the endpoint's signed error and its coverage at every level."""
    pick = np.unique(np.linspace(0, len(w) - 1, min(len(w), max_windows)).round().astype(int))
    cal = calibration_of(predictor, w.subset(pick), draws, seed)
    final = cal["final"]
    return {"cal_error": final["error"], "cal_error_all": cal["all_steps"]["error"],
            "cal_signed": final["signed_error"], "cal_draws": draws, "cal_windows": len(pick),
            **{f"cal_cov_{round(100 * p)}": c for p, c in zip(final["p"], final["coverage"])}}


def clustered(predictor: TrajCVAE, w: Windows, k: int, seed: int, cluster_from: int) -> dict[str, float]:
    """The test-time selection's own numbers: best of the K k-means means of `cluster_from` prior draws."""
    t = time.perf_counter()
    samples = predictor.sample(w, k=k, seed=seed, cluster_from=cluster_from)
    ms = (time.perf_counter() - t) * 1000 / len(w)
    ade, fde = min_ade_fde(samples, w.fut)
    return {"km_min_ade": float(ade.mean()), "km_min_fde": float(fde.mean()), "km_ms_per_window": ms,
            "km_draws": cluster_from}


def run_benchmark(root: str | Path, config: str | Path | None, out: str | Path, splits=SPLITS, seeds: int = 1,
                  k: int = 20, is_samples: int = 100, kde_samples: int = 2000, progress: bool = True,
                  log: Callable[[str], None] = print, cluster_from: int = 1000, calibration_draws: int = 200) -> dict:
    """Train and evaluate every split (x seeds); writes results.json, results.md (and, with calibration,
    reliability.png) into `out`. `calibration_draws` > 0 measures plain sampling's calibration (`calibrated`).

    `cluster_from` > 0 also scores the k-means selection (K cluster means of that many prior draws) in its
    own table; a split finished before without those numbers gets them from its checkpoint, untrained."""
    check_cluster_from(k, cluster_from or None)
    check_calibration(calibration_draws)
    root, out = Path(root), Path(out)
    check_output(out, folder=True)
    for split in splits:
        if split not in SPLITS:
            raise TrajCVAEError(f"--splits: unknown split '{split}' (choose from {', '.join(SPLITS)})")
        for part in ("train", "val", "test"):
            if not (root / split / part).is_dir():
                raise TrajCVAEError(f"--root: {root / split / part} not found (expected the ETH/UCY splits)")
    results: dict[str, list[dict]] = {}
    for split in splits:
        for seed in range(seeds):
            run = out / split / f"seed{seed}"
            done = run / "result.json"
            if done.exists():
                row = json.loads(done.read_text())
                add_km = bool(cluster_from) and row.get("km_draws") != cluster_from
                add_cal = bool(calibration_draws) and row.get("cal_draws") != calibration_draws
                if add_km or add_cal:
                    what = " and ".join([f"k-means of {cluster_from} draws"] * add_km + ["calibration"] * add_cal)
                    log(f"{split} seed {seed}: done earlier; adding {what}")
                    predictor = TrajCVAE.load(run / "best.pt")
                    w = predictor.make_windows([root / split / "test"], every_window=True)
                    if add_km:
                        row.update(clustered(predictor, w, k, seed, cluster_from))
                    if add_cal:
                        row.update(calibrated(predictor, w, seed, calibration_draws))
                    write_text(done, json.dumps(row, indent=2))
                else:
                    log(f"{split} seed {seed}: done earlier, skipped")
                results.setdefault(split, []).append(row)
                continue
            log(f"{split} seed {seed}: training")
            cfg = load_config(config, [f"train.seed={seed}"])
            train([root / split / "train"], [root / split / "val"], cfg, run, resume=(run / "last.pt").exists(),
                  progress=progress)
            metrics = pd.read_csv(run / "metrics.csv")
            predictor = TrajCVAE.load(run / "best.pt")
            row = evaluate_split(predictor, [root / split / "test"], k, seed, is_samples, kde_samples,
                                 cluster_from, calibration_draws)
            row.update(train_minutes=float(metrics.seconds.sum()) / 60, seed=seed,
                       best_epoch=int(checkpoint.load(run / "best.pt")["epoch"]), epochs=int(len(metrics)))
            write_text(done, json.dumps(row, indent=2))
            log(f"{split} seed {seed}: minADE@{k} {row['min_ade']:.3f} minFDE@{k} {row['min_fde']:.3f} "
                f"(constant velocity {row['cv_ade']:.3f}/{row['cv_fde']:.3f})")
            results.setdefault(split, []).append(row)
    # Keys every row has: a row written with another --cluster-from may carry or lack the k-means numbers.
    rows_all = [r for rows in results.values() for r in rows]
    keys = [key for key in rows_all[0] if all(key in r for r in rows_all)]
    summary = {split: {key: float(np.mean([r[key] for r in rows])) for key in keys}
               for split, rows in results.items()}
    summary["mean"] = {key: float(np.mean([summary[s][key] for s in results])) for key in summary[splits[0]]}
    report = {"k": k, "seeds": seeds, "is_samples": is_samples, "kde_samples": kde_samples,
              "cluster_from": cluster_from, "calibration_draws": calibration_draws,
              "config": load_config(config).to_dict(), "splits": summary,
              "per_seed": {split: [{c: r[c] for c in ("seed", "min_ade", "min_fde")} for r in rows]
                           for split, rows in results.items()}}
    write_text(out / "results.json", json.dumps(report, indent=2))
    md = markdown_table(summary)
    if seeds > 1:  # the table above averages the seeds; say how far apart they are
        md += "\n" + seed_table(results)
    if cluster_from:
        md += "\n" + cluster_table(summary, k, cluster_from)
    if calibration_draws:
        md += "\n" + calibration_table(summary)
        from .plots import plot_reliability  # matplotlib only once there is a picture to draw
        from .visualize import save_figure

        save_figure(plot_reliability({s: [r[f"cal_cov_{round(100 * p)}"] for p in CALIBRATION_LEVELS]
                                      for s, r in summary.items()}, CALIBRATION_LEVELS),
                    out / "reliability.png")
    write_text(out / "results.md", md)
    return report


def markdown_table(summary: dict[str, dict[str, float]]) -> str:
    head = "| split | " + " | ".join(HEADINGS.values()) + " |"
    lines = [head, "|" + "---|" * (len(HEADINGS) + 1)]
    for split, row in summary.items():
        cells = [f"{row[c]:.0f}" if c == "windows" else f"{row[c]:.1f}" if c == "train_minutes"
                 else f"{row[c]:.2f}" if c in ("neg_elbo", "is_nll", "kde_nll", "predict_ms_per_window")
                 else f"{row[c]:.3f}" for c in HEADINGS]
        name = f"**{split}**" if split == "mean" else split
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def seed_table(results: dict[str, list[dict]]) -> str:
    """minADE/minFDE@K of each seed per split, and of the split mean for each seed."""
    seeds = [r["seed"] for r in next(iter(results.values()))]
    lines = ["| split | " + " | ".join(f"seed {s} minADE/minFDE" for s in seeds) + " |",
             "|" + "---|" * (len(seeds) + 1)]
    for split, rows in results.items():
        lines.append(f"| {split} | " + " | ".join(f"{r['min_ade']:.3f}/{r['min_fde']:.3f}" for r in rows) + " |")
    means = [(np.mean([rows[i]["min_ade"] for rows in results.values()]),
              np.mean([rows[i]["min_fde"] for rows in results.values()])) for i in range(len(seeds))]
    lines.append("| **mean** | " + " | ".join(f"{a:.3f}/{f:.3f}" for a, f in means) + " |")
    return "\n".join(lines) + "\n"


def calibration_table(summary: dict[str, dict[str, float]]) -> str:
    """Plain sampling's calibration: how often the truth falls in the p highest-density region."""
    draws, most = summary["mean"]["cal_draws"], max(r["cal_windows"] for r in summary.values())
    lines = [f"| split | calibration error, endpoint (all steps) | signed | coverage of the 50% / 80% / 95% "
             f"regions at the endpoint ({draws:.0f} draws, at most {most:.0f} windows a split) |",
             "|---|---|---|---|"]
    for split, r in summary.items():
        name = f"**{split}**" if split == "mean" else split
        lines.append(f"| {name} | {r['cal_error']:.3f} ({r['cal_error_all']:.3f}) | {r['cal_signed']:+.3f} | "
                     f"{r['cal_cov_50']:.2f} / {r['cal_cov_80']:.2f} / {r['cal_cov_95']:.2f} |")
    return "\n".join(lines) + "\n"


def cluster_table(summary: dict[str, dict[str, float]], k: int, draws: int) -> str:
    """The test-time selection in its own rows, beside plain prior sampling."""
    lines = [f"| split | plain sampling minADE/minFDE@{k} | k-means of {draws} draws -> {k}: minADE/minFDE@{k} "
             "| k-means ms/window |", "|---|---|---|---|"]
    for split, r in summary.items():
        name = f"**{split}**" if split == "mean" else split
        lines.append(f"| {name} | {r['min_ade']:.3f}/{r['min_fde']:.3f} | {r['km_min_ade']:.3f}/{r['km_min_fde']:.3f}"
                     f" | {r['km_ms_per_window']:.2f} |")
    return "\n".join(lines) + "\n"
