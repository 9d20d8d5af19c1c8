"""Samples -> numbers: displacement errors and the two straight-line baselines. Pure numpy functions."""
from __future__ import annotations

import numpy as np


def displacement(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean error per step: pred (..., K, P, 2), gt (..., P, 2) -> (..., K, P)."""
    return np.linalg.norm(pred - gt[..., None, :, :], axis=-1)


def ade_fde(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average and final displacement error of each sample: -> (..., K), (..., K)."""
    d = displacement(pred, gt)
    return d.mean(-1), d[..., -1]


def min_ade_fde(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best-of-K errors per window: minADE and minFDE, each minimised over samples separately. -> (...), (...)"""
    ade, fde = ade_fde(pred, gt)
    return ade.min(-1), fde.min(-1)


def top_n_ade_fde(pred: np.ndarray, gt: np.ndarray, n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """TrajNet++'s top-n: of the first n samples, the one of least ADE (the first on a tie), its ADE and its FDE
    (not the least FDE). pred (N, K, P, 2), gt (N, P, 2) -> (N,), (N,); n = 1: the first sample's errors."""
    ade, fde = ade_fde(pred[:, :n], gt)
    best = np.argmin(ade, axis=1)[:, None]
    return np.take_along_axis(ade, best, 1)[:, 0], np.take_along_axis(fde, best, 1)[:, 0]


def known_min_ade_fde(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best-of-K errors over the steps where both a future and the truth have a position (a predictions
    table leaves a future's points past a camera's horizon empty), up to the last step every future with a
    position reaches: futures cut at different steps are compared over the same steps (one cut after a step
    would win on that step alone). A future's ADE is its mean error over those steps, its FDE the error at
    the last of them. pred (..., K, P, 2), gt (..., P, 2) -> (...), (...); NaN for a window none of whose
    futures has such a step."""
    d = displacement(pred, gt)  # (..., K, P), NaN where either is unknown
    ok = np.isfinite(d)
    P = d.shape[-1]
    reach = np.where(ok.any(-1), P - 1 - np.argmax(ok[..., ::-1], -1), P)  # (..., K) each future's last step
    ok &= np.arange(P) <= reach.min(-1)[..., None, None]  # (the steps all of a window's futures reach)
    n = ok.sum(-1)
    ade = np.where(n > 0, np.where(ok, d, 0.0).sum(-1) / np.maximum(n, 1), np.inf)
    last = d.shape[-1] - 1 - np.argmax(ok[..., ::-1], -1)  # the last step with a position
    fde = np.where(n > 0, np.take_along_axis(d, last[..., None], -1)[..., 0], np.inf)
    ade, fde = ade.min(-1), fde.min(-1)
    return np.where(np.isinf(ade), np.nan, ade), np.where(np.isinf(fde), np.nan, fde)


def brier_fde(pred: np.ndarray, weights: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Brier-minFDE per window: the final error of the future nearest the truth at the end plus
    (1 - its weight)^2, which is 0 only for a K-set that puts all its weight on the right future.
    pred (..., K, P, 2), weights (..., K), gt (..., P, 2) -> (...)"""
    fde = displacement(pred[..., -1:, :], gt[..., -1:, :])[..., 0]  # (..., K)
    best = fde.argmin(-1)[..., None]
    return np.take_along_axis(fde, best, -1)[..., 0] + (1 - np.take_along_axis(weights, best, -1)[..., 0]) ** 2


def last_velocity(obs: np.ndarray) -> np.ndarray:
    """Backward difference at t0: obs (N, T, 2) -> (N, 2); zero when t0 has no observed predecessor."""
    return np.nan_to_num(obs[:, -1] - obs[:, -2])


def constant_velocity(obs: np.ndarray, pred_len: int) -> np.ndarray:
    """Straight line at the last observed velocity: obs (N, T, 2) -> (N, 1, P, 2)."""
    steps = np.arange(1, pred_len + 1)[None, :, None]
    return (obs[:, -1, None, :] + last_velocity(obs)[:, None, :] * steps)[:, None]


def noisy_constant_velocity(obs: np.ndarray, pred_len: int, k: int, heading_std: float,
                            log_speed_std: float, seed: int = 0) -> np.ndarray:
    """K straight lines with headings turned by N(0, heading_std) radians and speeds scaled by
    exp(N(0, log_speed_std)): obs (N, T, 2) -> (N, K, P, 2)."""
    return turned_lines(obs, pred_len, line_turns(len(obs), k, heading_std, log_speed_std, seed))


def turned_lines(obs: np.ndarray, pred_len: int, turns: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The straight lines of `turns`, (N, K) heading turns and speed scales drawn already (`line_turns`; a
    piece of windows takes its share of the draws for all): obs (N, T, 2) -> (N, K, P, 2)."""
    th, sp = turns
    v = last_velocity(obs)  # (N, 2)
    c, s = np.cos(th) * sp, np.sin(th) * sp
    vk = np.stack([c * v[:, None, 0] - s * v[:, None, 1], s * v[:, None, 0] + c * v[:, None, 1]], -1)  # (N, K, 2)
    steps = np.arange(1, pred_len + 1)[None, None, :, None]
    return obs[:, -1, None, None, :] + vk[:, :, None, :] * steps


def line_turns(n: int, k: int, heading_std: float, log_speed_std: float, seed: int = 0) -> tuple:
    """The noisy straight line's draws for n windows: heading turns (n, K) in radians and speed scales (n, K)."""
    rng = np.random.default_rng(seed)
    th = rng.normal(0.0, heading_std, (n, k))
    return th, np.exp(rng.normal(0.0, log_speed_std, (n, k)))


def fit_cv_noise(obs: np.ndarray, fut: np.ndarray, dt: float = 0.4, min_speed: float = 0.125) -> dict[str, float]:
    """Fit the noisy straight line on training windows (steps of `dt` seconds, metres): the spread of the true
    final heading and speed around the constant-velocity guess, over agents that move at least `min_speed`
    metres a second, at t0 and on average over the future (a threshold in time, so any step is fitted alike)."""
    min_step = min_speed * dt
    v = last_velocity(obs)
    end = fut[:, -1] - obs[:, -1]
    P = fut.shape[1]
    moving = (np.linalg.norm(v, axis=1) > min_step) & (np.linalg.norm(end, axis=1) > min_step * P)
    if moving.sum() < 2:
        return {"heading_std": 0.35, "log_speed_std": 0.4}  # the values of the mission's reference line
    v, end = v[moving], end[moving] / P
    dth = np.angle((end[:, 0] + 1j * end[:, 1]) / (v[:, 0] + 1j * v[:, 1]))
    dsp = np.log(np.linalg.norm(end, axis=1) / np.linalg.norm(v, axis=1))
    return {"heading_std": float(np.std(dth)), "log_speed_std": float(np.std(dsp))}


def kde_nll(samples: np.ndarray, gt: np.ndarray, floor: float = -20.0, batch: int = 64) -> np.ndarray:
    """Trajectron++'s KDE negative log-likelihood, per window: at each future step, a Gaussian KDE
    (Scott's bandwidth, as scipy.stats.gaussian_kde) of the K sampled positions, its log-density at the
    true position clipped below at `floor`, averaged over steps.  samples (N, K, P, 2), gt (N, P, 2) -> (N,)"""
    N, K, P, _ = samples.shape
    out = np.empty(N)
    factor2 = K ** (-2.0 / 6.0)  # Scott's factor n^(-1/(d+4)), squared, for d = 2
    for lo in range(0, N, batch):
        s = samples[lo:lo + batch].transpose(0, 2, 1, 3)  # (B, P, K, 2)
        mean = s.mean(2, keepdims=True)
        c = s - mean
        # Scott-bandwidth covariance per (window, step), with a closed-form 2 x 2 inverse for speed.
        sxx = (c[..., 0] ** 2).sum(-1) / (K - 1) * factor2 + 1e-9  # (B, P)
        syy = (c[..., 1] ** 2).sum(-1) / (K - 1) * factor2 + 1e-9
        sxy = (c[..., 0] * c[..., 1]).sum(-1) / (K - 1) * factor2
        det = np.maximum(sxx * syy - sxy ** 2, 1e-18)
        d = gt[lo:lo + batch, :, None, :] - s  # (B, P, K, 2)
        dx, dy = d[..., 0], d[..., 1]
        maha = (dx ** 2 * syy[..., None] - 2 * dx * dy * sxy[..., None] + dy ** 2 * sxx[..., None]) / det[..., None]
        log_k = -0.5 * maha - np.log(2 * np.pi) - 0.5 * np.log(det)[..., None]
        m = log_k.max(-1, keepdims=True)
        log_pdf = (m[..., 0] + np.log(np.exp(log_k - m).sum(-1))) - np.log(K)  # (B, P)
        out[lo:lo + batch] = -np.maximum(log_pdf, floor).mean(-1)
    return out


CALIBRATION_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def hpd_levels(samples: np.ndarray, gt: np.ndarray, batch: int | None = None) -> np.ndarray:
    """The smallest p whose highest-density region holds the truth, per window and step: the share of the
    draws where a Gaussian KDE of the draws (Scott's bandwidth, as `kde_nll`) is higher than at the truth.
    Densities at the draws leave the draw's own kernel out, so a truth drawn from the same distribution is
    ranked like any draw. The truth lies in the p-region exactly when its level is <= p; for an honest
    predictor, the levels are uniform on [0, 1].  samples (N, S, P, 2), gt (N, P, 2) -> (N, P)"""
    N, S, P, _ = samples.shape
    draws = samples.transpose(0, 2, 1, 3).reshape(N * P, S, 2)
    return region_levels(draws, gt.reshape(N * P, 1, 2), batch).reshape(N, P)


def region_levels(draws: np.ndarray, points: np.ndarray, batch: int | None = None) -> np.ndarray:
    """`hpd_levels` of several points against the same draws: the smallest p whose highest-density region
    of the draws holds each point.  draws (B, S, 2), points (B, Q, 2) -> (B, Q)"""
    import torch

    B, S, _ = draws.shape
    out = np.empty(points.shape[:2])
    batch = batch or max(1, 4_000_000 // (S * S))  # rows at a time: ~32 MB of float64 per S x S block
    for lo in range(0, B, batch):
        s = torch.from_numpy(np.ascontiguousarray(draws[lo:lo + batch]))
        at_draws, at_points = _kde_densities(s, torch.from_numpy(np.ascontiguousarray(points[lo:lo + batch])))
        out[lo:lo + batch] = (at_draws.unsqueeze(1) > at_points.unsqueeze(2)).double().mean(-1).numpy()
    return out


def _kde_densities(s, t):
    """A Gaussian KDE of the draws s (B, S, 2) (Scott's bandwidth, full covariance), up to a common factor:
    at each draw, its own kernel left out (B, S), and at the points t (B, Q, 2), scaled to match (B, Q).
    Torch tensors: the S x S kernel sums are pairwise distances, which torch.cdist does in one pass."""
    import torch

    S = s.shape[1]
    factor2 = S ** (-2.0 / 6.0)
    # Everything about the draws' mean: positions far from the origin (UTM, a homography's offset) would
    # lose the kernels' centimetres to cancellation in cdist's squared norms.
    centre = s.mean(1, keepdim=True)
    s, t = s - centre, t - centre
    c = s
    sxx = (c[..., 0] ** 2).sum(-1) / (S - 1) * factor2 + 1e-12  # (B,) bandwidth covariance
    syy = (c[..., 1] ** 2).sum(-1) / (S - 1) * factor2 + 1e-12
    sxy = (c[..., 0] * c[..., 1]).sum(-1) / (S - 1) * factor2
    # Whiten with the covariance's Cholesky factor: Mahalanobis distances become Euclidean ones.
    a = sxx.sqrt()
    b = sxy / a
    d = (syy - b ** 2).clamp(min=1e-24).sqrt()

    def white(x: torch.Tensor) -> torch.Tensor:  # (B, Q, 2) -> whitened
        u = x[..., 0] / a[:, None]
        v = (x[..., 1] - b[:, None] * u) / d[:, None]
        return torch.stack([u, v], -1)

    ws = white(s)
    at_draws = torch.exp(-0.5 * torch.cdist(ws, ws) ** 2).sum(-1) - 1.0  # (B, S): own kernel left out
    at_t = torch.exp(-0.5 * torch.cdist(white(t), ws) ** 2).sum(-1) * (S - 1) / S  # (B, Q), same scale
    return at_draws, at_t


def calibration(levels: np.ndarray, ps=CALIBRATION_LEVELS) -> dict[str, object]:
    """Coverage of the truth by the p highest-density regions, from `hpd_levels` (any shape), and the
    calibration error: the mean |coverage - p| over `ps`, and its signed mean (negative: too sharp, the
    truth falls outside the regions more often than it should; positive: too wide)."""
    levels = np.asarray(levels).ravel()
    coverage = np.array([(levels <= p).mean() for p in ps])
    gap = coverage - np.asarray(ps)
    return {"p": list(ps), "coverage": coverage.tolist(), "error": float(np.abs(gap).mean()),
            "signed_error": float(gap.mean())}
