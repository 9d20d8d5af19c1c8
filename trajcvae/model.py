"""The model: a conditional VAE over an agent's future y given its history x (its track, its neighbours'
tracks and the paths others walked from where it stands).

    log p(y|x) >= E_q(z|x,y)[log p(y|x,z)] - KL(q(z|x,y) || p(z|x))          (the conditional ELBO)

Four nets, named after their role in that bound:
    encoder          x -> context h                 (HistoryEncoder: own track + attention over others)
    prior_net        h -> p(z|x)                    (a diagonal Gaussian)
    recognition_net  [h, y] -> q(z|x,y)              (training only: it sees the true future)
    decoder          [h, z] -> p(y|x,z)             (a Gaussian per future step and axis)

Train path (`CVAE.loss`):  x -> h;  z ~ q(z|x,y);  -log p(y|x,z) + beta * KL(q || p),  plus the variety
term: the best-of-K error of K prior draws, which asks the prior's draws to cover the futures.
Test path (`CVAE.sample`): x -> h;  z_k ~ p(z|x);  y_k = mean of p(y|x,z_k),  k = 1..K.

Everything is batch-first and lives in each agent's normalised frame (`batch.py`): centred on its position
at t0, turned so it walks along +x, divided by its speed. The decoder's mean is the constant-velocity
extrapolation plus the running sum of learned per-step velocity corrections, so a path stays smooth.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Independent, Normal, kl_divergence

from .batch import Batch
from .config import Config


def mlp(n_in: int, hidden: int, n_out: int, layers: int = 2) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(layers):
        mods += [nn.Linear(n_in if i == 0 else hidden, hidden), nn.GELU()]
    mods.append(nn.Linear(hidden, n_out))
    return nn.Sequential(*mods)


def diag_normal(params: torch.Tensor) -> Independent:
    """Split (..., 2Z) into mean and log-std of a diagonal Gaussian over the last dim."""
    mu, log_sigma = params.chunk(2, dim=-1)
    return Independent(Normal(mu, log_sigma.clamp(-7.0, 5.0).exp()), 1)


class HistoryEncoder(nn.Module):
    """x -> context h (B, H): an MLP over the agent's own flattened track, attention from it over its
    neighbours' tracks, and the same kind of attention over the remembered paths (`data.memory`)."""

    def __init__(self, obs_len: int, hidden: int, heads: int, mem_inputs: int = 0):
        super().__init__()
        self.ego = mlp(obs_len * Batch.OBS_CHANNELS, hidden, hidden)
        self.nbr = mlp(obs_len * Batch.NBR_CHANNELS, hidden, hidden)
        # A learned "nobody" key lets an agent with no neighbours (or none that matter) attend to nothing.
        self.null = nn.Parameter(torch.zeros(1, 1, hidden))
        self.attn = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.memory = mem_inputs > 0
        if self.memory:
            self.mem = mlp(mem_inputs, hidden, hidden)
            self.mem_null = nn.Parameter(torch.zeros(1, 1, hidden))
            self.mem_attn = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.out = mlp((3 if self.memory else 2) * hidden, hidden, hidden, layers=1)

    def forward(self, batch: Batch) -> torch.Tensor:
        h = self.ego(batch.obs.flatten(1))  # (B, H)
        parts = [h, self._attend(h, self.null, self.nbr(batch.nbr.flatten(2)), batch.nbr_mask, self.attn)]
        if self.memory:
            parts.append(self._attend(h, self.mem_null, self.mem(batch.mem), batch.mem_mask, self.mem_attn))
        return self.out(torch.cat(parts, -1))  # (B, H)

    @staticmethod
    def _attend(h: torch.Tensor, null: torch.Tensor, values: torch.Tensor, mask: torch.Tensor,
                attn: nn.MultiheadAttention) -> torch.Tensor:
        """h (B, H) queries values (B, M, H) where mask (B, M) is True, plus the always-present null key."""
        B = h.shape[0]
        keys = torch.cat([null.expand(B, 1, -1), values], 1)  # (B, 1+M, H)
        pad = torch.cat([torch.zeros(B, 1, dtype=torch.bool, device=h.device), ~mask], 1)  # (B, 1+M)
        out, _ = attn(h.unsqueeze(1), keys, keys, key_padding_mask=pad, need_weights=False)
        return out.squeeze(1)  # (B, H)


class Decoder(nn.Module):
    """[h, z] -> per-step velocity corrections (B, ..., P, 2): an MLP whose first layer is split so the
    context's share is computed once per window, not once per sample (K samples cost K small matmuls)."""

    def __init__(self, ctx_dim: int, z_dim: int, hidden: int, pred_len: int):
        super().__init__()
        self.pred_len = pred_len
        self.from_ctx = nn.Linear(ctx_dim, hidden)
        self.from_z = nn.Linear(z_dim, hidden, bias=False)
        self.rest = nn.Sequential(nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 2 * pred_len))

    def forward(self, ctx: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """ctx (B, H), z (B, ..., Z) -> (B, ..., P, 2)."""
        c = self.from_ctx(ctx)
        c = c.reshape(c.shape[:1] + (1,) * (z.dim() - 2) + c.shape[1:])
        return self.rest(c + self.from_z(z)).unflatten(-1, (self.pred_len, 2))


class CVAE(nn.Module):
    """The conditional VAE p(y|x) = E_p(z|x)[p(y|x,z)] over an agent's future y (B, P, 2) given its history x.

    Nets: `encoder` x -> h, `prior_net` h -> p(z|x), `recognition_net` [h, y] -> q(z|x,y), `decoder`
    [h, z] -> p(y|x,z) = N(cv + cumsum(decoder(h, z)), sigma^2), sigma learned per step and axis.

    Train: `loss(batch, beta)` = -E_q[log p(y|x,z)] + beta KL(q || p) (+ the variety term), batch means.
    Test: `sample(batch, k, generator)` = the means of p(y|x,z_k) for z_k ~ p(z|x), k = 1..K.
    Likelihoods are in nats per window for positions in world units: the change of variables into the
    agent's frame adds 2 P log(scale) (rotations have no Jacobian), which does not touch the gradients.
    """

    def __init__(self, cfg: Config):
        super().__init__()
        d, m = cfg.data, cfg.model
        self.pred_len, self.z_dim, self.min_sigma = d.pred_len, m.z_dim, m.min_sigma
        mem_inputs = Batch.mem_channels(d.pred_len) if d.memory > 0 else 0
        self.encoder = HistoryEncoder(d.obs_len, m.hidden, m.heads, mem_inputs)
        self.prior_net = mlp(m.hidden, m.hidden, 2 * m.z_dim)  # p(z|x)
        self.recognition_net = mlp(m.hidden + 2 * d.pred_len, m.hidden, 2 * m.z_dim)  # q(z|x,y)
        self.decoder = Decoder(m.hidden, m.z_dim, 2 * m.hidden, d.pred_len)  # p(y|x,z)
        self.log_sigma = nn.Parameter(torch.full((d.pred_len, 2), -1.0))  # std of p(y|x,z), before softplus

    @property
    def device(self) -> torch.device:
        return self.log_sigma.device

    # --- the distributions ---------------------------------------------------------------------------
    def context(self, batch: Batch) -> torch.Tensor:
        return self.encoder(batch)  # (B, H)

    def prior(self, ctx: torch.Tensor) -> Independent:
        return diag_normal(self.prior_net(ctx))  # p(z|x), event (Z,)

    def posterior(self, ctx: torch.Tensor, fut: torch.Tensor) -> Independent:
        return diag_normal(self.recognition_net(torch.cat([ctx, fut.flatten(1)], -1)))  # q(z|x,y), event (Z,)

    def decode_mean(self, ctx: torch.Tensor, z: torch.Tensor, cv: torch.Tensor,
                    decoder: Decoder | None = None) -> torch.Tensor:
        """ctx (B, H), z (B, ..., Z), cv (B, P, 2) -> mean future (B, ..., P, 2); `decoder`: another net of
        the decoder's shape in its place (a K-set sampler's own, `kset.KSetSampler`)."""
        dv = (self.decoder if decoder is None else decoder)(ctx, z)  # (B, ..., P, 2) per-step velocity changes
        return cv.reshape(cv.shape[:1] + (1,) * (dv.dim() - 3) + cv.shape[1:]) + dv.cumsum(-2)

    def decode(self, ctx: torch.Tensor, z: torch.Tensor, cv: torch.Tensor) -> Independent:
        mean = self.decode_mean(ctx, z, cv)  # (B, ..., P, 2)
        sigma = self.min_sigma + F.softplus(self.log_sigma.expand_as(mean))
        return Independent(Normal(mean, sigma), 2)  # p(y|x,z), event (P, 2)

    # --- train path ----------------------------------------------------------------------------------
    def loss(self, batch: Batch, beta: float = 1.0, variety_weight: float = 0.0,
             variety_k: int = 20) -> dict[str, torch.Tensor]:
        """Batch-mean terms: `loss` (what is minimised), `nll`, `kl`, `elbo` (at beta = 1) and, with a
        variety weight, `variety`."""
        assert batch.fut is not None, "the ELBO needs the true future"
        ctx = self.context(batch)  # (B, H)
        q, p = self.posterior(ctx, batch.fut), self.prior(ctx)
        z = q.rsample()  # (B, Z), reparameterised
        log_jac = 2 * batch.fut.shape[1] * batch.scale.log()  # (B,)
        nll = -self.decode(ctx, z, batch.cv).log_prob(batch.fut) + log_jac  # (B,)
        kl = kl_divergence(q, p)  # (B,)
        loss = nll.mean() + beta * kl.mean()
        terms = {"nll": nll.mean(), "kl": kl.mean(), "elbo": -(nll + kl).mean()}
        if variety_weight > 0:
            # Best-of-K over prior draws (the "variety" loss of Social GAN / AgentFormer), in the agent frame.
            zs = p.rsample((variety_k,)).transpose(0, 1)  # (B, K, Z)
            mean = self.decode_mean(ctx, zs, batch.cv)  # (B, K, P, 2)
            ade = (mean - batch.fut.unsqueeze(1)).norm(dim=-1).mean(-1)  # (B, K)
            terms["variety"] = ade.min(dim=1).values.mean()
            loss = loss + variety_weight * terms["variety"]
        terms["loss"] = loss
        return terms

    # --- test path -----------------------------------------------------------------------------------
    def sample(self, batch: Batch, k: int, generator: torch.Generator | None = None,
               full: bool = False, ctx: torch.Tensor | None = None,
               noise: torch.Tensor | None = None) -> torch.Tensor:
        """K futures per window in the agent frame (`batch.to_world` maps them back): -> (B, K, P, 2).

        The K standard-normal draws behind z come first from `generator` (on the CPU), shared by every
        window of the batch; a generator seeded the same way for each batch makes a window's futures
        independent of the other windows in its file or batch. Each future is the mean of p(y|x,z);
        `full=True` draws y ~ p(y|x,z) instead (the whole predictive distribution, for density estimates),
        its standard-normal noise `noise` (B, K, P, 2), or (1, K, P, 2) for every window, where the caller has
        drawn it, else drawn from `generator` after z's. `ctx`: the batch's context where the caller has
        computed it already."""
        eps = torch.randn(k, self.z_dim, generator=generator).to(batch.obs.device)  # (K, Z)
        ctx = self.context(batch) if ctx is None else ctx  # (B, H)
        p = self.prior(ctx)
        z = p.base_dist.loc.unsqueeze(1) + p.base_dist.scale.unsqueeze(1) * eps  # (B, K, Z)
        if not full:
            return self.decode_mean(ctx, z, batch.cv)  # (B, K, P, 2)
        y = self.decode(ctx, z, batch.cv).base_dist
        if noise is None:
            noise = torch.randn(y.loc.shape, generator=generator)
        return y.loc + y.scale * noise.to(y.loc.device)

    def most_likely(self, batch: Batch, ctx: torch.Tensor | None = None) -> torch.Tensor:
        """The future at the prior's mean z: -> (B, 1, P, 2) in the agent frame."""
        ctx = self.context(batch) if ctx is None else ctx
        return self.decode_mean(ctx, self.prior(ctx).base_dist.loc.unsqueeze(1), batch.cv)

    @torch.no_grad()
    def importance_nll(self, batch: Batch, n_samples: int = 100) -> torch.Tensor:
        """-log p(y|x) per window by importance sampling with q(z|x,y) as proposal: -> (B,)
            log p(y|x) ~= logsumexp_s [log p(y|x,z_s) + log p(z_s|x) - log q(z_s|x,y)] - log S.
        An upper bound on -log p(y|x) in expectation, tighter than -ELBO, and exact as S grows."""
        ctx = self.context(batch)
        q, p = self.posterior(ctx, batch.fut), self.prior(ctx)
        z = q.sample((n_samples,))  # (S, B, Z)
        y = batch.fut.unsqueeze(1)  # (B, 1, P, 2) against (B, S, P, 2)
        log_lik = self.decode(ctx, z.transpose(0, 1), batch.cv).log_prob(y).T  # (S, B)
        log_w = log_lik + p.log_prob(z) - q.log_prob(z)
        log_jac = 2 * batch.fut.shape[1] * batch.scale.log()
        return -(torch.logsumexp(log_w, 0) - math.log(n_samples)) + log_jac
