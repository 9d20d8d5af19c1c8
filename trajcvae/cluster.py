"""Samples -> fewer samples: a test-time selection that condenses many prior draws into K futures.

Plain sampling returns K independent draws z ~ p(z|x); two of them can land on the same future while a
less likely turn gets none. Drawing N >> K futures and returning the K means of their k-means clusters
spreads the K futures over the whole predictive distribution (each one stands for a share of it), which is
what a best-of-K score rewards. It is a selection step on top of the model, so the benchmark reports it in
its own rows, named for what it does ("k-means of N draws"), beside plain sampling.
"""
from __future__ import annotations

import torch


def kmeans_futures(samples: torch.Tensor, k: int, iters: int = 10) -> torch.Tensor:
    """(B, N, P, 2) futures per window -> (B, K, P, 2): the K cluster means of a k-means over whole futures
    (Euclidean over all P positions). Deterministic: farthest-point initialisation from the draw nearest the
    pool's mean, then `iters` Lloyd steps; a cluster that empties keeps its last centre."""
    B, N, P, D = samples.shape
    if k >= N:
        return samples
    x = samples.reshape(B, N, P * D)  # (B, N, F)
    rows = torch.arange(B, device=x.device)
    first = torch.cdist(x, x.mean(1, keepdim=True)).squeeze(-1).argmin(1)  # (B,)
    centres = [x[rows, first]]  # each (B, F)
    gap = ((x - centres[0].unsqueeze(1)) ** 2).sum(-1)  # (B, N) squared distance to the nearest centre
    for _ in range(1, k):
        centres.append(x[rows, gap.argmax(1)])  # the draw farthest from every centre so far
        gap = torch.minimum(gap, ((x - centres[-1].unsqueeze(1)) ** 2).sum(-1))
    c = torch.stack(centres, 1)  # (B, K, F)
    for _ in range(iters):
        member = torch.nn.functional.one_hot(torch.cdist(x, c).argmin(-1), k).to(x.dtype)  # (B, N, K)
        count = member.sum(1).unsqueeze(-1)  # (B, K, 1)
        c = torch.where(count > 0, member.transpose(1, 2) @ x / count.clamp(min=1), c)
    return c.reshape(B, k, P, D)
