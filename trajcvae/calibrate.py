"""Model -> honest draws: a temperature per walking speed, chosen on val, that makes plain sampling calibrated.

The model works in each agent's frame, divided by its speed (floored at `data.min_speed`), and p(y|x,z)'s
std is one learned number per step and axis. So the spread of its futures grows with speed, and an agent
who stands still gets the spread of one walking at the floor speed: far too wide. Fast walkers get too
little. Measured on the seed-0 ETH/UCY models, the truth fell in the 50% region of a standing agent's
futures 87% of the time (hotel test), and in that of a walker faster than 1.6 m/s 20% of the time (eth).

`fit_temperatures` fixes this after training, on the validation windows: for each speed band
(`SPEED_EDGES`) the temperature in `TEMPERATURES` whose draws give the smallest calibration error at the
endpoint. `CVAE.sample` multiplies the stds of p(z|x) and p(y|x,z) by it. The table is saved in the
checkpoint (`calibration`), and `TrajCVAE` applies it to every plain draw and every K-set pool.
"""
from __future__ import annotations

import numpy as np
import torch

from .metrics import calibration, hpd_levels
from .windows import Windows

SPEED_EDGES = (0.3, 0.6, 0.9, 1.2, 1.6)  # metres per second: bands <0.3 (standing), 0.3-0.6, ..., >=1.6
TEMPERATURES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5)
MIN_BAND = 30  # windows a band needs on val to get its own temperature (else it keeps 1)


def window_speed(obs: np.ndarray, dt: float) -> np.ndarray:
    """Observed speed in metres per second of histories (N, T, 2): the displacement over the observed steps,
    as `batch.make_batch`'s `speed` (world units per step) divided by `dt`."""
    valid = ~np.isnan(obs[..., 0])  # (N, T)
    first = valid.argmax(1)
    start = obs[np.arange(len(obs)), first]
    steps = np.maximum(obs.shape[1] - 1 - first, 1)
    return np.nan_to_num(np.linalg.norm(obs[:, -1] - start, axis=-1) / steps / dt)


def temperature_of(speed: torch.Tensor, table: dict) -> torch.Tensor:
    """Each window's temperature (B,) from its speed (B,) in m/s and a table from `fit_temperatures`."""
    edges = torch.tensor(table["edges"], dtype=speed.dtype, device=speed.device)
    temps = torch.tensor(table["temperature"], dtype=speed.dtype, device=speed.device)
    return temps[torch.bucketize(speed, edges, right=True)]


def fit_temperatures(draw, w: Windows, dt: float, draws: int = 100, max_windows: int = 3000,
                     seed: int = 0) -> dict:
    """The temperature of each speed band that minimises the calibration error of `draws` full draws at
    the endpoint, over at most `max_windows` windows `w` spread evenly (the validation windows).

    draw(windows, k, seed, temperature (N,)) -> (N, k, P, 2) full draws in world units (`TrajCVAE.sample`).
    Returns {"edges", "temperature", "val_error", "windows"} per band, plain lists (checkpoint-safe)."""
    pick = np.unique(np.linspace(0, len(w) - 1, min(len(w), max_windows)).round().astype(int))
    w = w.subset(pick)
    band = np.digitize(window_speed(w.obs, dt), SPEED_EDGES)  # (N,) 0 .. len(SPEED_EDGES)
    levels = {t: hpd_levels(draw(w, draws, seed, np.full(len(w), t))[:, :, -1:], w.fut[:, -1:])[:, 0]
              for t in TEMPERATURES}  # (N,) endpoint levels at each temperature
    temps, errors, counts = [], [], []
    for b in range(len(SPEED_EDGES) + 1):
        inside = band == b
        counts.append(int(inside.sum()))
        if inside.sum() < MIN_BAND:
            temps.append(1.0)
            errors.append(float("nan"))
            continue
        err = [calibration(levels[t][inside])["error"] for t in TEMPERATURES]
        temps.append(float(TEMPERATURES[int(np.argmin(err))]))
        errors.append(float(min(err)))
    return {"edges": list(SPEED_EDGES), "temperature": temps, "val_error": errors, "windows": counts}
