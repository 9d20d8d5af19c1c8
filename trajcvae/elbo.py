"""The loss: -ELBO = E_q[-log p(y|x,z)] + beta * KL(q(z|x,y) || p(z|x)), as a pure function of its inputs.

Likelihoods are reported in nats per window for positions in world units: the model works in each
agent's normalised frame, so the log-Jacobian of that change of variables (2 * P * log scale; rotations
have none) is added to the NLL. It does not depend on the parameters, so gradients are unchanged.
"""
from __future__ import annotations

import math

import torch
from torch.distributions import kl_divergence

from .features import Batch
from .model import CVAE


def elbo_loss(model: CVAE, batch: Batch, beta: float = 1.0, free_bits: float = 0.0,
              variety_weight: float = 0.0, variety_k: int = 20,
              variety_metres: bool = False, variety_endpoint: float = 0.0) -> dict[str, torch.Tensor]:
    """Batch-mean loss terms: `loss` (what is minimised), `nll`, `kl`, `elbo` (beta = 1, no free bits)."""
    assert batch.fut is not None, "the ELBO needs the true future"
    ctx = model.context(batch)  # (B, H)
    q, p = model.posterior(ctx, batch.fut), model.prior(ctx)
    z = q.rsample()  # (B, Z), reparameterised
    log_jac = 2 * batch.fut.shape[1] * batch.scale.log()  # (B,)
    nll = -model.decode(ctx, z, batch.cv).log_prob(batch.fut) + log_jac  # (B,)
    kl = _kl(q, p, z)  # (B,)
    if free_bits > 0:
        # Free bits: each latent dimension's batch-mean KL costs nothing below `free_bits` nats.
        kl_pen = kl_divergence(q.base_dist, p.base_dist).mean(0).clamp(min=free_bits).sum()
    else:
        kl_pen = kl.mean()
    loss = nll.mean() + beta * kl_pen
    terms = {"nll": nll.mean(), "kl": kl.mean(), "elbo": -(nll + kl).mean()}
    if variety_weight > 0:
        # Best-of-K over prior samples (the "variety" loss of Social GAN / AgentFormer), in the agent frame.
        zs = model.prior_rsample(p, variety_k)  # (B, K, Z)
        mean = model.decode_mean(ctx, zs, batch.cv)  # (B, K, P, 2)
        dist = (mean - batch.fut.unsqueeze(1)).norm(dim=-1)  # (B, K, P)
        # The ADE alone weighs the endpoint 1/P; `variety_endpoint` asks the draws to cover endpoints too.
        err = dist.mean(-1) + variety_endpoint * dist[..., -1]  # (B, K)
        best = err.min(dim=1).values  # (B,)
        if variety_metres:
            # Errors in metres weigh fast walkers more, as the benchmark's minADE does; dividing by the
            # batch's mean scale keeps the term's size (and so its weight) comparable.
            best = best * batch.scale / batch.scale.mean()
        terms["variety"] = best.mean()
        loss = loss + variety_weight * terms["variety"]
    terms["loss"] = loss
    return terms


def _kl(q, p, z: torch.Tensor) -> torch.Tensor:
    """KL(q || p) per window: closed form where torch has it; for a mixture prior, the one-sample estimate
    log q(z) - log p(z) at the z already drawn from q (unbiased, and its gradient reaches both nets)."""
    try:
        return kl_divergence(q, p)
    except NotImplementedError:
        return q.log_prob(z) - p.log_prob(z)


@torch.no_grad()
def importance_nll(model: CVAE, batch: Batch, n_samples: int = 100) -> torch.Tensor:
    """-log p(y|x) per window by importance sampling with q(z|x,y) as proposal:
    log p(y|x) ~= logsumexp_s [log p(y|x,z_s) + log p(z_s|x) - log q(z_s|x,y)] - log S.  -> (B,)

    An upper bound on -log p(y|x) in expectation, tighter than -ELBO, and exact as S grows."""
    ctx = model.context(batch)
    q, p = model.posterior(ctx, batch.fut), model.prior(ctx)
    z = q.sample((n_samples,))  # (S, B, Z)
    y = batch.fut.unsqueeze(1)  # (B, 1, P, 2) against (B, S, P, 2)
    log_lik = model.decode(ctx, z.transpose(0, 1), batch.cv).log_prob(y).T  # (S, B)
    log_w = log_lik + p.log_prob(z) - q.log_prob(z)
    log_jac = 2 * batch.fut.shape[1] * batch.scale.log()
    return -(torch.logsumexp(log_w, 0) - math.log(n_samples)) + log_jac
