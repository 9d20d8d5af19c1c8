"""The conditional VAE: history encoder, prior_net p(z|x), recognition_net q(z|x,y), decoder p(y|x,z).

All tensors are batch-first and live in each agent's normalised frame (see `features.py`).
The decoder's likelihood is an independent Gaussian per future step and axis, centred on the
constant-velocity extrapolation plus a learned, z-dependent correction. Its standard deviation is a
learned per-step, per-axis value; with `context_sigma` the decoder also outputs a [context, z]-dependent
offset to it, so a window whose future is predictable can be sharp and a crowded one wide.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from .config import Config
from .features import Batch, mem_channels, nbr_channels


def mlp(n_in: int, hidden: int, n_out: int, layers: int = 2, dropout: float = 0.0) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(layers):
        mods += [nn.Linear(n_in if i == 0 else hidden, hidden), nn.GELU()]
        if dropout > 0:  # only then: without it the layer indices (and old checkpoints' keys) stay as they were
            mods.append(nn.Dropout(dropout))
    mods.append(nn.Linear(hidden, n_out))
    return nn.Sequential(*mods)


class TrackGRU(nn.Module):
    """(..., T, F) per-step features -> (..., H): a GRU over the observed steps, read from its last state."""

    def __init__(self, n_in: int, hidden: int):
        super().__init__()
        self.inp = nn.Linear(n_in, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-2]
        _, h = self.gru(F.gelu(self.inp(x.reshape((-1,) + x.shape[-2:]))))  # h (1, N, H)
        return self.out(h[-1]).reshape(lead + (-1,))


class HistoryEncoder(nn.Module):
    """x -> context: the agent's own track, plus attention over its neighbours' tracks. Each track is read
    by an MLP over its flattened steps (`encoder = "mlp"`) or by a GRU over them (`"gru"`)."""

    def __init__(self, obs_len: int, hidden: int, heads: int, dropout: float = 0.0, encoder: str = "mlp",
                 nbr_channels: int = 7, mem_inputs: int = 0):
        super().__init__()
        self.recurrent = encoder == "gru"
        if self.recurrent:
            self.ego, self.nbr = TrackGRU(5, hidden), TrackGRU(nbr_channels, hidden)
        else:  # (module names unchanged since the first release: checkpoints keep loading)
            self.ego = mlp(obs_len * 5, hidden, hidden, dropout=dropout)
            self.nbr = mlp(obs_len * nbr_channels, hidden, hidden, dropout=dropout)
        # A learned "nobody" key lets an agent with no neighbours (or none that matter) attend to nothing.
        self.null = nn.Parameter(torch.zeros(1, 1, hidden))
        self.attn = nn.MultiheadAttention(hidden, heads, batch_first=True)
        # Scene memory (`data.memory`): the same kind of attention over paths others walked from here.
        self.memory = mem_inputs > 0
        if self.memory:
            self.mem = mlp(mem_inputs, hidden, hidden)
            self.mem_null = nn.Parameter(torch.zeros(1, 1, hidden))
            self.mem_attn = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.out = mlp((3 if self.memory else 2) * hidden, hidden, hidden, layers=1)

    def forward(self, batch: Batch) -> torch.Tensor:
        B, M = batch.nbr.shape[:2]
        obs, nbr = (batch.obs, batch.nbr) if self.recurrent else (batch.obs.flatten(1), batch.nbr.flatten(2))
        h = self.ego(obs)  # (B, H)
        keys = torch.cat([self.null.expand(B, 1, -1), self.nbr(nbr)], 1)  # (B, 1+M, H)
        pad = torch.cat([torch.zeros(B, 1, dtype=torch.bool, device=h.device), ~batch.nbr_mask], 1)
        social, _ = self.attn(h.unsqueeze(1), keys, keys, key_padding_mask=pad, need_weights=False)
        parts = [h, social.squeeze(1)]
        if self.memory:
            keys = torch.cat([self.mem_null.expand(B, 1, -1), self.mem(batch.mem)], 1)  # (B, 1+Mm, H)
            pad = torch.cat([torch.zeros(B, 1, dtype=torch.bool, device=h.device), ~batch.mem_mask], 1)
            remembered, _ = self.mem_attn(h.unsqueeze(1), keys, keys, key_padding_mask=pad, need_weights=False)
            parts.append(remembered.squeeze(1))
        return self.out(torch.cat(parts, -1))  # (B, H)


class Decoder(nn.Module):
    """[context, z] -> per-step velocity corrections (..., P, C), C = 2 (or 4 with log-std offsets): an MLP
    whose first layer is split so the context's share is computed once per window, not once per sample
    (K samples cost K small matmuls)."""

    def __init__(self, ctx_dim: int, z_dim: int, hidden: int, pred_len: int, channels: int = 2):
        super().__init__()
        self.pred_len, self.channels = pred_len, channels
        self.from_ctx = nn.Linear(ctx_dim, hidden)
        self.from_z = nn.Linear(z_dim, hidden, bias=False)
        self.rest = nn.Sequential(nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                  nn.Linear(hidden, channels * pred_len))

    def forward(self, ctx: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """ctx (B, H), z (B, ..., Z) -> (B, ..., P, C)."""
        c = self.from_ctx(ctx)
        c = c.reshape(c.shape[:1] + (1,) * (z.dim() - 2) + c.shape[1:])
        return self.rest(c + self.from_z(z)).unflatten(-1, (self.pred_len, self.channels))


def smooth_projection(steps: int, components: int) -> torch.Tensor | None:
    """(P, P) orthogonal projection onto the first `components` DCT-II cosines over `steps`; None for 0."""
    if components == 0:
        return None
    t = torch.arange(steps, dtype=torch.float64) + 0.5
    basis = torch.cos(torch.pi * t[:, None] * torch.arange(components, dtype=torch.float64)[None] / steps)  # (P, C)
    q, _ = torch.linalg.qr(basis)
    return (q @ q.T).float()


def diag_normal(params: torch.Tensor) -> Independent:
    """Split (..., 2Z) into mean and log-std of a diagonal Gaussian over the last dim."""
    mu, log_sigma = params.chunk(2, dim=-1)
    return Independent(Normal(mu, log_sigma.clamp(-7.0, 5.0).exp()), 1)


class CVAE(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        d, m = cfg.data, cfg.model
        self.pred_len, self.z_dim, self.min_sigma = d.pred_len, m.z_dim, m.min_sigma
        self.encoder = HistoryEncoder(d.obs_len, m.hidden, m.heads, m.dropout, m.encoder, nbr_channels(d),
                                      mem_channels(d))
        self.components = m.prior_components
        # p(z|x): mean and log-std per component, plus the mixture's logits when there are several.
        n_logits = self.components if self.components > 1 else 0
        self.prior_net = mlp(m.hidden, m.hidden, self.components * 2 * m.z_dim + n_logits)
        self.recognition_net = mlp(m.hidden + 2 * d.pred_len, m.hidden, 2 * m.z_dim)  # q(z|x,y)
        self.context_sigma = m.context_sigma
        self.decoder = Decoder(m.hidden, m.z_dim, 2 * m.hidden, d.pred_len, 4 if m.context_sigma else 2)
        self.log_sigma = nn.Parameter(torch.full((d.pred_len, 2), -1.0))  # std of p(y|x,z)
        # With `path_basis` = C, the decoder's velocity corrections are projected onto the C slowest cosines
        # over the P steps: only smooth changes of speed and heading (not saved: it follows from the config).
        self.register_buffer("smooth", smooth_projection(d.pred_len, m.path_basis), persistent=False)

    def context(self, batch: Batch) -> torch.Tensor:
        return self.encoder(batch)  # (B, H)

    def prior(self, ctx: torch.Tensor) -> Independent | MixtureSameFamily:
        out = self.prior_net(ctx)
        if self.components == 1:
            return diag_normal(out)  # p(z|x), event (Z,)
        M = self.components
        comps = diag_normal(out[:, M:].unflatten(-1, (M, 2 * self.z_dim)))  # batch (B, M), event (Z,)
        return MixtureSameFamily(Categorical(logits=out[:, :M]), comps)  # p(z|x), event (Z,)

    @staticmethod
    def prior_draws(p: Independent | MixtureSameFamily, eps: torch.Tensor,
                    u: torch.Tensor | None = None) -> torch.Tensor:
        """Reparameterised z ~ p(z|x) from standard-normal `eps` (K, Z) or (B, K, Z): -> (B, K, Z).
        A mixture also needs uniform `u` (K,) or (B, K) to pick each draw's component (by inverse CDF, so
        shared `u` give every window the same quantiles); gradients reach the chosen component's mean and
        std, while the weights learn through the KL term."""
        if isinstance(p, Independent):
            return p.base_dist.loc.unsqueeze(1) + p.base_dist.scale.unsqueeze(1) * eps
        cdf = p.mixture_distribution.probs.cumsum(-1)  # (B, M)
        u = u.expand(cdf.shape[0], -1).contiguous()  # (B, K)
        c = torch.searchsorted(cdf.detach(), u).clamp(max=cdf.shape[1] - 1)  # (B, K) component of each draw
        comp = p.component_distribution.base_dist  # loc/scale (B, M, Z)
        pick = lambda t: t.gather(1, c.unsqueeze(-1).expand(-1, -1, t.shape[-1]))  # noqa: E731  (B, K, Z)
        return pick(comp.loc) + pick(comp.scale) * eps

    def prior_rsample(self, p: Independent | MixtureSameFamily, k: int) -> torch.Tensor:
        """K reparameterised draws per window from p(z|x), fresh noise from torch's RNG: -> (B, K, Z).
        A mixture has no `rsample`: its draws go through `prior_draws` (component by inverse CDF)."""
        if isinstance(p, Independent):
            return p.rsample((k,)).transpose(0, 1)
        B, dev = p.batch_shape[0], p.mixture_distribution.logits.device
        return self.prior_draws(p, torch.randn(B, k, self.z_dim, device=dev), torch.rand(B, k, device=dev))

    @staticmethod
    def prior_mode(p: Independent | MixtureSameFamily) -> torch.Tensor:
        """The "most likely" z: the prior mean, or the mean of a mixture's heaviest component. -> (B, Z)"""
        if isinstance(p, Independent):
            return p.base_dist.loc
        top = p.mixture_distribution.probs.argmax(-1)  # (B,)
        return p.component_distribution.base_dist.loc[torch.arange(len(top), device=top.device), top]

    def posterior(self, ctx: torch.Tensor, fut: torch.Tensor) -> Independent:
        return diag_normal(self.recognition_net(torch.cat([ctx, fut.flatten(1)], -1)))  # q(z|x,y)

    def decode_mean(self, ctx: torch.Tensor, z: torch.Tensor, cv: torch.Tensor) -> torch.Tensor:
        """ctx (B, H), z (B, ..., Z), cv (B, P, 2) -> mean future (B, ..., P, 2)."""
        return self._mean(self.decoder(ctx, z), cv)

    def _mean(self, out: torch.Tensor, cv: torch.Tensor) -> torch.Tensor:
        extra = out.dim() - 3
        dv = out[..., :2] if self.smooth is None else self.smooth @ out[..., :2]  # (B, ..., P, 2)
        # Corrections are per-step velocity changes: their running sum keeps the path smooth.
        return cv.reshape(cv.shape[:1] + (1,) * extra + cv.shape[1:]) + dv.cumsum(-2)

    def decode(self, ctx: torch.Tensor, z: torch.Tensor, cv: torch.Tensor) -> Independent:
        """p(y|x,z): event (P, 2)."""
        out = self.decoder(ctx, z)  # (B, ..., P, C)
        mean = self._mean(out, cv)
        raw = self.log_sigma + out[..., 2:] if self.context_sigma else self.log_sigma.expand_as(mean)
        return Independent(Normal(mean, self.min_sigma + F.softplus(raw)), 2)
