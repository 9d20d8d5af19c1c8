"""Annotation noise per scene, and how much a model's minADE@K suffers from noisy observed positions.

    python benchmarks/noise.py --scenes ../shared/datasets/eth_ucy/{eth,hotel,univ,zara1,zara2}/test
    python benchmarks/noise.py --model results/eth_ucy/hotel/seed0/best.pt \
        --data ../shared/datasets/eth_ucy/hotel/val --sigmas 0 0.03 0.06

`--scenes`: for each folder, the median size of the observed tracks' second differences
(p[t+1] - 2 p[t] + p[t-1], metres) and the white-noise std per axis it would correspond to
(median / (1.177 * sqrt(6)): the median of a 2-D Gaussian's norm is 1.177 sigma, and a second
difference of white noise has 6 times its variance). Smooth (interpolated) annotations give ~0.

`--model`: minADE/minFDE@K on `--data` with Gaussian noise of each std (metres, per axis) added to every
observed position: the agent's, its neighbours' and the remembered paths' (`data.memory`); the future is
left as it is. Only inputs up to t0 are touched, so this measures robustness to annotation noise, not a
different task. With `--smooth`, each noise std above 0 is also scored with the model given it (`predict
--noise`: every history smoothed before the model reads it, `checks.smoothed`); with `--auto`, each std
(0 too) with `--noise auto` (each window smoothed by the noise of its own positions, `checks.window_noise`).

    python benchmarks/noise.py --model pedestrian --data ../shared/datasets/eth_ucy/zara1/test \
        --sigmas 0 0.1 0.2 0.3 --smooth
"""
from __future__ import annotations

import argparse
import dataclasses
import math

import numpy as np
import torch

from trajcvae import TrajCVAE
from trajcvae.errors import TrajCVAEError, as_written
from trajcvae.windows import load_windows
from trajcvae.config import check_count, load_config
from trajcvae.batch import WindowTensors
from trajcvae.checks import RAYLEIGH_MEDIAN
from trajcvae.metrics import min_ade_fde


def annotation_noise(obs: np.ndarray) -> tuple[float, float]:
    """obs (N, T, 2) with NaN gaps -> (median |second difference|, equivalent white-noise std), metres."""
    d2 = obs[:, 2:] - 2 * obs[:, 1:-1] + obs[:, :-2]  # (N, T-2, 2)
    size = np.linalg.norm(d2, axis=-1)
    med = float(np.median(size[~np.isnan(size)]))
    return med, med / (RAYLEIGH_MEDIAN * np.sqrt(6))


def noisy_min_ade(model: TrajCVAE, wt: WindowTensors, fut: np.ndarray, sigma: float, k: int = 20,
                  seed: int = 0) -> tuple[float, float]:
    """Mean minADE/minFDE@k with N(0, sigma^2) added to every observed position (the agent's, its neighbours'
    and its remembered paths'); the windows keep their offsets, so far-off coordinates score as near ones."""
    g = torch.Generator().manual_seed(seed)
    jitter = lambda a: None if a is None else a + sigma * torch.randn(a.shape, generator=g)  # noqa: E731
    noisy = dataclasses.replace(wt, obs=jitter(wt.obs), nbr=jitter(wt.nbr), fut=None, mem=jitter(wt.mem))
    ade, fde = min_ade_fde(model.sample(noisy, k=k, seed=seed), fut)
    return float(ade.mean()), float(fde.mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenes", nargs="*", default=[], help="folders or files to measure")
    ap.add_argument("--model", nargs="*", default=[], help="checkpoints to test")
    ap.add_argument("--data", nargs="*", default=[], help="files or folders the models are tested on")
    ap.add_argument("--sigmas", nargs="*", type=as_written(float), default=[0.0, 0.03, 0.06])
    ap.add_argument("-k", type=as_written(int), default=20)
    ap.add_argument("--smooth", action="store_true", help="also score each std with the model given it (--noise)")
    ap.add_argument("--auto", action="store_true", help="also score each std with --noise auto (each window's own)")
    ap.add_argument("--threads", type=as_written(int), default=2)
    a = ap.parse_args()
    check_count(a.k, "-k")
    torch.set_num_threads(check_count(a.threads, "--threads"))
    for sigma in a.sigmas:
        if not math.isfinite(sigma) or sigma < 0:
            raise TrajCVAEError(f"--sigmas must be noise stds in metres, finite and >= 0 (got {sigma})")
    if not a.scenes and not a.model:
        raise TrajCVAEError("give --scenes (files or folders whose annotation noise to measure) or --model (with "
                            "--data: checkpoints to score under observation noise)")
    if a.model and not a.sigmas:
        raise TrajCVAEError("--sigmas: give at least one noise std in metres (0 for none)")
    if a.model and not a.data:
        raise TrajCVAEError("--model needs --data: the files or folders to test it on")
    cfg = load_config(None)
    for scene in a.scenes:
        med, sigma = annotation_noise(load_windows([scene], cfg.data).obs)
        print(f"{scene}: median |second difference| {med:.3f} m, white-noise std {sigma:.3f} m")
    for path in a.model:
        model = TrajCVAE.load(path)
        w = load_windows(a.data, model.config.data)
        wt = WindowTensors.from_windows(w)
        auto = model.bridging(None, "auto")
        cells = [f"{s:g} m: {'%.4f/%.4f' % noisy_min_ade(model, wt, w.fut, s, a.k)}"
                 + (f" (--noise {s:g}: {'%.4f/%.4f' % noisy_min_ade(model.bridging(None, s), wt, w.fut, s, a.k)})"
                    if a.smooth and s > 0 else "")
                 + (f" (--noise auto: {'%.4f/%.4f' % noisy_min_ade(auto, wt, w.fut, s, a.k)})" if a.auto else "")
                 for s in a.sigmas]
        print(f"{path}: minADE/minFDE@{a.k} with observation noise " + " | ".join(cells))


if __name__ == "__main__":
    from command_line import run
    run(main)
