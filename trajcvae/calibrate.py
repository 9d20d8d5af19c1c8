"""Samples -> calibrated samples: plain draws mapped to match how the model has done on this scene so far.

A model trained on other scenes is seldom calibrated on a new one (docs/results.md): on hotel's test scene
the truth falls in the 50% region of plain draws 85% of the time, on eth's 43%, and no change to the model
or its training fixed both. But each scene says how the model errs there. For a window whose future was
observed by t0, the truth's level among the model's draws is uniform on [0, 1] for an honest model, bunched
near 0 where it is too wide, near 1 where it is too narrow. `--calibrate scene` maps each window's draws so
that the levels of its scene's past become uniform (quantile recalibration, done on the draws):

    the level     of a point at a future step among a window's DRAWS draws at that step, of the kind mapped
                  (`radial_levels`): its distance r from the most likely future's position c there, in the
                  metric of the draws' covariance, through F, the share of draws nearer c (linear between
                  them; beyond the farthest, a Gaussian's tail, so that a map can reach past the draws)
    past levels   the truth's at every step, for each window of the scene whose future ended by t0
                  (`TrajCVAE.scene_past`)
    the map       per step, G, the distribution of those past levels with PSEUDO evenly spread ones added
                  (they keep a short past from fitting its own noise); every draw's position y moves along
                  its ray from c from level l = F(r) to level G^-1(l): y -> c + f (y - c),
                  f = F^-1(G^-1(F(r))) / r (`level_map`), a factor per draw and step

The draws are of one kind, and so are the levels their map is fitted on (`ScenePast.futures`): the mean
paths of p(y|x,z) for z ~ p(z|x) (`predict`'s default), or full draws of p(y|x), the decoder's noise added.
Mean paths are narrower than full draws, so a map fitted on full draws leaves them too narrow.

Once the scene has MIN_PAST finished windows; before, the draws stay the model's own. If a window's truth
has the level distribution G of its scene's past, its level among the mapped draws is uniform:
P(truth in the p-region of the mapped draws) = P(F(truth) <= G^-1(p)) = G(G^-1(p)) = p. Nothing observed
after t0 is read. Levels along rays from c treat a spread of directions (a standing agent's) and a spread
along the walk alike; a fork's two branches are each widened or narrowed about c, not about themselves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .config import FUTURES
from .errors import PickledByThisCode, TrajCVAEError

DRAWS = 200  # draws of p(y|x) per window behind its levels and its map
PSEUDO = 10  # evenly spread levels added to every scene's past
MIN_PAST = 10  # finished windows a scene needs before its draws are mapped
GRID = np.linspace(0.0, 1.0, 201)  # where each window's G^-1 is tabulated


@dataclass
class ScenePast(PickledByThisCode):
    """Windows whose futures are known (`TrajCVAE.scene_past`): their scene, the time their future was
    known (t0 + P steps, in the input's time base; the next detection's time where a missed one at the
    last step was bridged, `Windows.done`), their truth's level at every future step (`radial_levels`) and
    the kind of draws the levels are among, the kind the past maps: "mean" paths or "full" draws; `model`:
    the digest of the model whose draws they are (`TrajCVAE.weights_digest`), where one measured it."""
    REMAKE = "measure it again with scene_past"
    scene: np.ndarray  # (N,)
    done: np.ndarray  # (N,)
    levels: np.ndarray  # (N, P)
    futures: str = "mean"
    model: str | None = None

    def __post_init__(self):
        if self.futures not in FUTURES:
            raise TrajCVAEError(f"ScenePast: futures must be 'mean' or 'full', the kind its levels are among "
                                f"(got {self.futures!r})")

    def quantiles(self, scene: np.ndarray, t0: np.ndarray) -> np.ndarray:
        """Each window's map (its scene, its t0): G^-1 at GRID per step, NaN where it has too little past.
        -> (Q, P, L)"""
        return past_quantiles(self.scene, self.done, self.levels, np.asarray(scene), np.asarray(t0, np.float64))

    def finished(self, scene: np.ndarray, t0: np.ndarray) -> np.ndarray:
        """Per window (its scene, its t0): how many windows of its scene had finished by t0.  -> (Q,)"""
        scene = np.asarray(scene)
        out = np.zeros(len(scene), np.int64)
        for query, _, seen in _past_by_scene(self.scene, self.done, scene, np.asarray(t0, np.float64)):
            out[query] = seen
        return out


def unfitted(past: ScenePast | None, scene: np.ndarray, t0: np.ndarray) -> np.ndarray:
    """Per window (its scene, its t0): whether its scene had fewer than MIN_PAST finished windows by t0, so
    that its draws stay the model's own (all of them without any past).  -> (Q,) bool"""
    if past is None:
        return np.ones(len(scene), bool)
    return past.finished(scene, t0) < MIN_PAST


def too_little_past(unfitted: int, n: int, obs_len: int, pred_len: int) -> str:
    """The warning of a command whose `unfitted` of `n` windows kept the model's own draws."""
    return (f"warning: --calibrate scene: {unfitted} of {n} windows had fewer than {MIN_PAST} finished windows "
            f"({obs_len} + {pred_len} steps of one agent) in their scene before t0; their draws are the model's own")


def past_quantiles(scene: np.ndarray, done: np.ndarray, levels: np.ndarray, at_scene: np.ndarray,
                   at_time: np.ndarray) -> np.ndarray:
    """For each query (its scene, its time t0), G^-1 at GRID per step: the quantiles of the levels of that
    scene's windows whose futures ended (`done`) by t0, with PSEUDO evenly spread levels; NaN with fewer
    than MIN_PAST of them.  (N,), (N,), (N, P), (Q,), (Q,) -> (Q, P, L)"""
    out = np.full((len(at_scene), levels.shape[1], len(GRID)), np.nan)
    pseudo = (np.arange(PSEUDO) + 0.5) / PSEUDO
    for query, order, seen in _past_by_scene(scene, done, at_scene, at_time):
        # Per step, the sorted levels of the first `have` windows to end, and the pseudo-levels.
        known, have = [pseudo] * levels.shape[1], 0
        for n in np.unique(seen[seen >= MIN_PAST]):  # the past grows with t0: insert what ended since
            new = np.sort(levels[order[have:n]], axis=0)  # (n - have, P)
            known = [np.insert(k, np.searchsorted(k, v), v) for k, v in zip(known, new.T)]
            have = n
            out[query[seen == n]] = _at_grid(known)
    return out


def _at_grid(known: list[np.ndarray]) -> np.ndarray:
    """`np.quantile(k, GRID)` of each sorted array k of `known` (all of one length n), to the bit: numpy's
    default (linear) method, its virtual index (n - 1) q and its two-sided interpolation, read off the
    sorted arrays instead of partitioning them again for every query.  -> (len(known), L)"""
    n = len(known[0])
    at = (n - 1) * GRID
    lo = np.floor(at)
    t = at - lo
    lo = np.where(at >= n - 1, n - 1, lo).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    a, b = np.stack([k[lo] for k in known]), np.stack([k[hi] for k in known])  # (P, L)
    d = b - a
    return np.where(t >= 0.5, b - d * (1 - t), a + d * t)


def _past_by_scene(scene: np.ndarray, done: np.ndarray, at_scene: np.ndarray, at_time: np.ndarray):
    """Per scene of the queries: the queries (indices), that scene's windows in the order their futures
    ended (indices), and how many of them had ended by each query's time. A future that ends at the query's
    time, up to rounding (a time t0 + P steps computed in floats), has ended."""
    for s in np.unique(at_scene):
        past, query = np.flatnonzero(scene == s), np.flatnonzero(at_scene == s)
        order = past[np.argsort(done[past], kind="stable")]
        t = at_time[query]
        yield query, order, np.searchsorted(done[order], t + 64 * np.spacing(np.abs(t)), side="right")


# --- levels along rays from the most likely future, step by step ---------------------------------------------------

def radial_levels(draws: torch.Tensor, c: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """The level of each point among a window's draws at the same step (see the module's docstring): F of
    its distance from c.  draws (B, S, P, 2), c (B, P, 2), points (B, Q, P, 2) -> (B, Q, P)"""
    B, S, P, _ = draws.shape
    radii, r = _radii(*_by_step(draws, c, points))
    return _cdf(radii, r).reshape(B, P, -1).transpose(1, 2)


def level_map(draws: torch.Tensor, c: torch.Tensor, points: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """The factor f of each point (a draw's position) under its window's map at its step: c + f (y - c)
    moves it from level F(r) to G^-1(F(r)); 1 where the window's `quantiles` (G^-1 at GRID) are NaN.
    draws (B, S, P, 2), c (B, P, 2), points (B, K, P, 2), quantiles (B, P, L) -> (B, K, P)"""
    B, S, P, _ = draws.shape
    radii, r = _radii(*_by_step(draws, c, points))  # (BP, S), (BP, K)
    quantiles = quantiles.reshape(B * P, -1)
    fitted = ~torch.isnan(quantiles[:, :1])  # (BP, 1)
    L = quantiles.shape[1]
    at = _cdf(radii, r) * (L - 1)  # (BP, K) where F(r) falls on GRID
    i = at.floor().clamp(0, L - 2).long()
    lo, hi = quantiles.gather(1, i), quantiles.gather(1, i + 1)
    target = torch.where(fitted, lo + (at - i) * (hi - lo), 0.5)  # G^-1(F(r))
    mapped = _inverse_cdf(radii, target)
    # Beyond the farthest draw, F(r) = 1 - exp(-k r^2 / 2) nears 1, where 1 - G^-1(F) loses its digits (in
    # float32 F rounds to 1 from 1.7 times that radius, and every such point would land on one radius): there
    # the top cell of G^-1 is applied to the tail's survival in logs, 1 - G^-1(F) = (1 - hi) + exp(-k r^2 / 2)
    # (hi - lo) (L - 1), so each point keeps its place and its order.
    k = _tail(radii)  # (BP, 1)
    log_s = -k * r ** 2 / 2  # (BP, K) log(1 - F(r)) beyond the farthest draw
    log_rest = torch.logaddexp(torch.log1p(-hi), log_s + torch.log((hi - lo) * (L - 1)))  # log(1 - G^-1(F))
    deep = ((r > radii[:, -1:]) & (i == L - 2) & torch.isfinite(log_rest)
            & (log_rest < math.log(0.5 / S)))  # its G^-1 in the tail of F^-1 too
    mapped = torch.where(deep, torch.sqrt(-2 * log_rest.clamp(max=0) / k), mapped)
    f = mapped / r.clamp(min=1e-12)
    f = torch.where(fitted & (r > 1e-12), f, torch.ones_like(f))
    return f.reshape(B, P, -1).transpose(1, 2)


def _by_step(draws: torch.Tensor, c: torch.Tensor, points: torch.Tensor):
    """(B, S, P, 2), (B, P, 2), (B, Q, P, 2) -> one row per window and step: (BP, S, 2), (BP, 2), (BP, Q, 2)"""
    B, S, P, _ = draws.shape
    return (draws.transpose(1, 2).reshape(B * P, S, 2), c.reshape(B * P, 2),
            points.transpose(1, 2).reshape(B * P, points.shape[1], 2))


def _radii(draws: torch.Tensor, c: torch.Tensor, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances from c in the metric of the draws' covariance: the draws' (sorted, (B, S)) and the points'
    (B, Q), for draws (B, S, 2), c (B, 2), points (B, Q, 2). Whitening by the covariance's Cholesky factor
    makes them Euclidean."""
    d = draws - draws.mean(1, keepdim=True)
    var = (d ** 2).sum(1) / (draws.shape[1] - 1)  # (B, 2)
    ridge = 1e-9 * var.sum(-1) + 1e-12  # (B,) a floor for draws along a line
    # The covariance's Cholesky factor [[a, 0], [b, e]], written out for 2 x 2.
    a = (var[:, 0] + ridge).sqrt()[:, None]  # (B, 1)
    b = ((d[..., 0] * d[..., 1]).sum(1) / (draws.shape[1] - 1))[:, None] / a
    e = (var[:, 1:] + ridge[:, None] - b ** 2).clamp(min=1e-24).sqrt()

    def radius(p: torch.Tensor) -> torch.Tensor:  # (B, n, 2) -> (B, n)
        x, y = (p - c[:, None]).unbind(-1)
        u = x / a
        return torch.hypot(u, (y - b * u) / e)

    return radius(draws).sort(dim=1).values, radius(points)


def _cdf(radii: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """F: the i-th nearest draw (of S) at level (i + 1/2) / S, linear in between and from 0 at c; beyond the
    farthest, 1 - exp(-k r^2 / 2), a Gaussian's tail through it.  radii (B, S) sorted, r (B, Q) -> (B, Q)"""
    S = radii.shape[1]
    i = torch.searchsorted(radii.contiguous(), r.contiguous()).clamp(1, S - 1)  # (B, Q) the draw beyond r
    lo, hi = radii.gather(1, i - 1), radii.gather(1, i)
    inside = ((i - 0.5) + (r - lo) / (hi - lo).clamp(min=1e-12)) / S
    first, last = radii[:, :1], radii[:, -1:]
    near = 0.5 / S * r / first.clamp(min=1e-12)
    far = 1 - torch.exp(-_tail(radii) * r ** 2 / 2)
    return torch.where(r < first, near, torch.where(r > last, far, inside.clamp(max=1 - 0.5 / S)))


def _inverse_cdf(radii: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """F^-1 at levels t (B, Q), as `_cdf` defines F.  -> (B, Q)"""
    S = radii.shape[1]
    u = t * S - 0.5
    i = u.floor().clamp(0, S - 2).long()
    lo, hi = radii.gather(1, i), radii.gather(1, i + 1)
    inside = lo + (u - i) * (hi - lo)
    near = radii[:, :1] * t * 2 * S
    far = torch.sqrt(-2 * torch.log((1 - t).clamp(min=1e-12)) / _tail(radii))
    return torch.where(u < 0, near, torch.where(u > S - 1, far, inside))


def _tail(radii: torch.Tensor) -> torch.Tensor:
    """k of the tail beyond the farthest draw, so that F is continuous there.  -> (B, 1)"""
    S = radii.shape[1]
    return -2 * math.log(0.5 / S) / (radii[:, -1:] ** 2).clamp(min=1e-12)
