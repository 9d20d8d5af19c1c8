"""Samples -> a K-set: K futures per window that together cover the predictive distribution, each with a
weight, the share of that distribution it stands for.

Plain sampling returns K independent draws z ~ p(z|x); two of them can land on the same future while a less
likely turn gets none, and every draw counts as 1/K whatever it stands for. Two K-set modes fix both:

    kmeans   draw N >> K futures and return the K means of their k-means clusters (`kmeans_futures`);
             a future's weight is its cluster's share of the N draws.
    learned  a sampler trained on the frozen CVAE, as DLow is for AgentFormer (`KSetSampler`): from one
             standard-normal draw eps it makes K latents at once,
                 z_k = mu(x) + sigma(x) * (b_k(x) + a_k(x) * eps),     p(z|x) = N(mu(x), sigma(x)^2),
             trained so that the best of the K decoded futures is near the truth (the best-of-K loss) while
             each N(b_k, a_k^2) stays near the standard normal (its KL, so every z_k stays likely under
             p(z|x)). It decodes with its own copy of the CVAE's decoder, trained beside it, so its K
             futures may leave the shapes the CVAE's decoder makes from likely latents (a better K-set on
             three seeds, docs/lab-notes.md). A future's weight is the share of N plain draws nearest to it
             (`nearest_shares`).

Both weights are shares of the model's own plain draws, so they are no more honest than its distribution
(docs/model.md); Brier-minFDE (`metrics.brier_fde`) scores a K-set with them, but is not a proper score:
weights sharper than the odds lower it.
"""
from __future__ import annotations

import copy
import math
import time
from typing import Callable

import numpy as np
import torch
import torch.nn as nn

from .batch import WindowTensors, make_batch
from .config import Config, torch_seed
from .errors import TrajCVAEError
from .model import CVAE, mlp

# --- k-means of many draws ----------------------------------------------------------------------------
def kmeans_futures(samples: torch.Tensor, k: int, iters: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, N, P, 2) futures per window -> the K cluster means (B, K, P, 2) of a k-means over whole futures
    (Euclidean over all P positions) and each cluster's share of the N draws (B, K). Deterministic:
    farthest-point initialisation from the draw nearest the pool's mean, then `iters` Lloyd steps; a
    cluster that empties keeps its last centre (and weight 0)."""
    B, N, P, D = samples.shape
    if k >= N:
        return samples, torch.full((B, N), 1.0 / N, dtype=samples.dtype, device=samples.device)
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
    return c.reshape(B, k, P, D), nearest_shares(c.reshape(B, k, P, D), samples)


def nearest_shares(futures: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
    """The share of `draws` (B, N, P, 2) nearest to each of `futures` (B, K, P, 2), Euclidean over whole
    futures: -> (B, K), summing to 1 per window."""
    d = torch.cdist(draws.flatten(2), futures.flatten(2))  # (B, N, K)
    member = torch.nn.functional.one_hot(d.argmin(-1), futures.shape[1]).to(draws.dtype)  # (B, N, K)
    return member.mean(1)


# --- the learned sampler -------------------------------------------------------------------------------
class KSetSampler(nn.Module):
    """h -> K affine maps (a_k, b_k) of one standard-normal eps into p(z|x)'s standardised latent space,
    decoded by `decoder`, its own copy of the CVAE's decoder (None: by the CVAE's, as samplers saved before
    they had their own are)."""

    def __init__(self, hidden: int, z_dim: int, k: int, decoder: nn.Module | None = None):
        super().__init__()
        self.k, self.z_dim = k, z_dim
        self.net = mlp(hidden, hidden, k * 2 * z_dim)
        self.decoder = decoder

    @classmethod
    def for_model(cls, model: CVAE, cfg: Config, own_decoder: bool = True) -> "KSetSampler":
        """A sampler for `model` as `cfg.kset` asks, its decoder a trainable copy of the model's (or, with
        `own_decoder` False, none: a saved sampler without one)."""
        decoder = copy.deepcopy(model.decoder).requires_grad_(True) if own_decoder else None
        return cls(cfg.model.hidden, cfg.model.z_dim, cfg.kset.k, decoder).to(model.device)

    def forward(self, ctx: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ctx (B, H), eps (B, Z) or (Z,) -> u (B, K, Z) with z_k = mu + sigma * u_k, and each map's
        KL(N(b_k, a_k^2) || N(0, I)) averaged over k (B,)."""
        b, log_a = self.net(ctx).unflatten(-1, (self.k, 2 * self.z_dim)).chunk(2, -1)  # (B, K, Z) each
        log_a = log_a.clamp(-7.0, 2.0)
        u = b + log_a.exp() * eps.reshape(-1, 1, self.z_dim)
        kl = 0.5 * ((2 * log_a).exp() + b ** 2 - 1 - 2 * log_a).sum(-1).mean(-1)  # (B,)
        return u, kl

    def futures(self, model: CVAE, batch, eps: torch.Tensor, ctx: torch.Tensor | None = None) -> torch.Tensor:
        """The K futures (means of p(y|x,z_k)) in the agent frame: -> (B, K, P, 2). `ctx`: the batch's
        context, where the caller has it."""
        ctx = model.context(batch) if ctx is None else ctx
        p = model.prior(ctx).base_dist
        u, _ = self(ctx, eps)
        return model.decode_mean(ctx, p.loc.unsqueeze(1) + p.scale.unsqueeze(1) * u, batch.cv, self.decoder)


def train_kset(model: CVAE, cfg: Config, train_wt: WindowTensors, val_wt: WindowTensors, val_fut: np.ndarray,
               log: Callable[[str], None] | None = None) -> tuple[KSetSampler, dict]:
    """Train a `KSetSampler` of `cfg.kset.k` futures on the frozen `model`: minimise, per window,
        min_k ADE(y_k, y) + kl_weight * mean_k KL(N(b_k, a_k^2) || N(0, I))
    in the agent frame (as the variety term), over `cfg.kset.epochs` passes; keep the epoch of the best
    val minADE@K (world units). The encoder is frozen, so each window's context is computed once. It trains
    on the model's device; its random numbers are drawn on the CPU, so a seed gives the same draws on any, and
    the caller's torch stream is left as it was."""
    with torch.random.fork_rng(devices=[model.device] if model.device.type == "cuda" else []):
        torch.manual_seed(torch_seed(cfg.train.seed))  # the sampler's initial weights
        return _train_kset(model, cfg, train_wt, val_wt, val_fut, log)


def _train_kset(model: CVAE, cfg: Config, train_wt: WindowTensors, val_wt: WindowTensors, val_fut: np.ndarray,
                log: Callable[[str], None] | None) -> tuple[KSetSampler, dict]:
    kc, dc = cfg.kset, cfg.data
    device = model.device
    gen = torch.Generator().manual_seed(torch_seed(cfg.train.seed))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    t_start = time.time()
    ctx, cv, fut, loc, scale = _frozen(model, train_wt, dc)
    sampler = KSetSampler.for_model(model, cfg)
    opt = torch.optim.AdamW(sampler.parameters(), lr=kc.lr, weight_decay=cfg.train.weight_decay)
    steps = math.ceil(len(ctx) / kc.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=kc.epochs * steps, eta_min=kc.lr / 20)
    best, best_state, best_epoch = math.inf, None, 0
    for epoch in range(1, kc.epochs + 1):
        sampler.train()
        perm = torch.randperm(len(ctx), generator=gen).to(device)
        for i in range(steps):
            idx = perm[i * kc.batch_size:(i + 1) * kc.batch_size]
            eps = torch.randn(len(idx), cfg.model.z_dim, generator=gen).to(device)  # one draw per window
            u, kl = sampler(ctx[idx], eps)
            z = loc[idx].unsqueeze(1) + scale[idx].unsqueeze(1) * u  # (B, K, Z)
            y = model.decode_mean(ctx[idx], z, cv[idx], sampler.decoder)  # (B, K, P, 2)
            ade = (y - fut[idx].unsqueeze(1)).norm(dim=-1).mean(-1)  # (B, K)
            loss = ade.min(1).values.mean() + kc.kl_weight * kl.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        val = _val_min_ade(model, sampler, val_wt, val_fut, dc, cfg.train.seed)
        if log is not None:
            log(f"K-set sampler epoch {epoch}/{kc.epochs}: val minADE@{kc.k} {val:.3f} m")
        if val < best:
            best, best_epoch = val, epoch
            best_state = {k: v.detach().cpu().clone() for k, v in sampler.state_dict().items()}
    for p in model.parameters():
        p.requires_grad_(True)
    if best_state is None:  # its val minADE was NaN at every epoch's end: its weights diverged
        raise TrajCVAEError(f"the K-set sampler's val minADE@{kc.k} was {val} at every epoch (it diverged): train "
                            "again with a lower kset.lr (or kset.kl_weight); best.pt keeps the CVAE without it, for "
                            "--kset kmeans or none")
    sampler.load_state_dict(best_state)
    sampler.eval()
    return sampler, {"epoch": best_epoch, "val_min_ade": float(best), "seconds": time.time() - t_start}


@torch.no_grad()
def _frozen(model: CVAE, wt: WindowTensors, dc, batch: int = 1024):
    """Per window, what the frozen CVAE gives the sampler: context, constant-velocity line and true future
    in the agent frame, and p(z|x)'s mean and std; of the histories as recorded, as the CVAE trains on them."""
    parts = []
    for lo in range(0, len(wt), batch):
        b = make_batch(wt, torch.arange(lo, min(lo + batch, len(wt))), dc, model.device)
        ctx = model.context(b)
        p = model.prior(ctx).base_dist
        parts.append((ctx, b.cv, b.fut, p.loc, p.scale))
    return tuple(torch.cat(t) for t in zip(*parts))


@torch.no_grad()
def _val_min_ade(model: CVAE, sampler: KSetSampler, wt: WindowTensors, fut: np.ndarray, dc, seed: int,
                 batch: int = 1024) -> float:
    sampler.eval()
    device = model.device
    eps = torch.randn(model.z_dim, generator=torch.Generator().manual_seed(torch_seed(seed))).to(device)
    if wt.offset is not None:  # windows' positions are relative to their offset (`batch.WindowTensors`)
        fut = fut - wt.offset[:, None, :]
    total = 0.0
    for lo in range(0, len(wt), batch):
        b = make_batch(wt, torch.arange(lo, min(lo + batch, len(wt))), dc, device)
        y = b.to_world(sampler.futures(model, b, eps)).double().cpu().numpy()  # (B, K, P, 2)
        total += np.linalg.norm(y - fut[lo:lo + batch, None], axis=-1).mean(-1).min(-1).sum()
    return float(total / len(wt))
