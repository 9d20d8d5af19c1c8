import math

import numpy as np
import pytest
import torch
from torch.distributions import kl_divergence

from trajcvae.config import Config, DataConfig
from trajcvae.data import read_tracks
from trajcvae.elbo import elbo_loss
from trajcvae.features import WindowTensors, make_batch
from trajcvae.model import CVAE, diag_normal
from trajcvae.windows import build_windows


@pytest.fixture
def batch_and_cfg(sim_files):
    cfg = Config()
    cfg.model.hidden, cfg.model.z_dim = 32, 4
    w = build_windows(read_tracks([sim_files["val"]]), cfg.data)
    return WindowTensors.from_windows(w), cfg


def test_shapes(batch_and_cfg):
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(10), cfg.data)
    assert b.obs.shape == (10, 8, 5) and b.nbr.shape[0] == 10 and b.nbr.shape[2:] == (8, 7)
    assert b.fut.shape == (10, 12, 2) and b.cv.shape == (10, 12, 2)
    model = CVAE(cfg)
    ctx = model.context(b)
    assert ctx.shape == (10, 32)
    p = model.prior(ctx)
    assert p.batch_shape == (10,) and p.event_shape == (4,)
    q = model.posterior(ctx, b.fut)
    assert q.event_shape == (4,)
    z = p.sample((7,)).transpose(0, 1)  # (B, K, Z)
    assert model.decode_mean(ctx, z, b.cv).shape == (10, 7, 12, 2)
    assert model.decode(ctx, q.rsample(), b.cv).event_shape == (12, 2)


def test_kl_is_zero_when_q_equals_p():
    params = torch.randn(5, 8)
    q, p = diag_normal(params), diag_normal(params.clone())
    torch.testing.assert_close(kl_divergence(q, p), torch.zeros(5))
    assert (kl_divergence(q, diag_normal(params + 0.1)) > 0).all()


def test_frame_round_trip_and_normalisation(batch_and_cfg):
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(50), cfg.data, augment=True, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(b.to_world(b.fut), wt.fut[:50], atol=1e-4, rtol=1e-4)
    # t0 sits at the origin, and (heading frame) the observed motion points along +x.
    assert b.obs[:, -1, :2].abs().max() < 1e-5
    start = b.obs[:, 0, :2]
    assert (start[:, 0] < 0).all()
    torch.testing.assert_close(start[:, 1], torch.zeros(50), atol=1e-4, rtol=0)


def test_no_future_information_in_features(batch_and_cfg):
    wt, cfg = batch_and_cfg
    idx = torch.arange(20)
    b1 = make_batch(wt, idx, cfg.data)
    wt2 = WindowTensors(wt.obs, wt.nbr, wt.fut + 100.0)
    b2 = make_batch(wt2, idx, cfg.data)
    for name in ("obs", "nbr", "cv", "origin", "rot", "scale"):
        torch.testing.assert_close(getattr(b1, name), getattr(b2, name))


def test_elbo_terms(batch_and_cfg):
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(32), cfg.data)
    torch.manual_seed(0)
    t = elbo_loss(CVAE(cfg), b, beta=0.5, variety_weight=1.0)
    assert set(t) == {"loss", "nll", "kl", "elbo", "variety"}
    assert all(torch.isfinite(v) for v in t.values())
    assert t["kl"] >= 0
    torch.testing.assert_close(t["elbo"], -(t["nll"] + t["kl"]))
    torch.testing.assert_close(t["loss"], t["nll"] + 0.5 * t["kl"] + t["variety"])


def test_nll_is_in_world_units(batch_and_cfg):
    """Scaling the world by c shifts the NLL by exactly 2 * P * log(c) per window."""
    wt, cfg = batch_and_cfg
    model = CVAE(cfg)
    idx = torch.arange(16)
    c = 3.0
    wt_c = WindowTensors(wt.obs * c, wt.nbr * c, wt.fut * c)
    cfg.data.min_speed = 1e-6  # keep the speed floor out of the way
    nll = []
    for w in (wt, wt_c):
        torch.manual_seed(0)
        nll.append(elbo_loss(model, make_batch(w, idx, cfg.data))["nll"].item())
    assert nll[1] - nll[0] == pytest.approx(2 * 12 * math.log(c), rel=1e-3)
