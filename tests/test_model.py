import math

import numpy as np
import pytest
import torch
from torch.distributions import kl_divergence

from trajcvae.config import Config, DataConfig
from trajcvae.data import read_tracks
from trajcvae.elbo import elbo_loss
from trajcvae.features import WindowTensors, _fill_short_history, make_batch
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


def test_context_sigma_gives_each_window_its_own_std(batch_and_cfg):
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(8), cfg.data)
    cfg.model.context_sigma = True
    torch.manual_seed(0)
    model = CVAE(cfg)
    ctx = model.context(b)
    z = model.prior(ctx).sample()
    py = model.decode(ctx, z, b.cv)
    assert py.event_shape == (12, 2) and py.batch_shape == (8,)
    std = py.base_dist.scale  # (B, P, 2)
    assert (std > cfg.model.min_sigma).all()
    assert not torch.allclose(std[0], std[1])  # the std depends on the window, not only on the step
    torch.testing.assert_close(py.mean, model.decode_mean(ctx, z, b.cv))
    cfg.model.context_sigma = False
    std_fixed = CVAE(cfg).decode(ctx, z, b.cv).base_dist.scale
    torch.testing.assert_close(std_fixed[0], std_fixed[1])


def test_variety_metres_weights_windows_by_speed_scale(batch_and_cfg):
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(32), cfg.data)
    model = CVAE(cfg)
    terms = []
    for metres in (False, True):
        torch.manual_seed(0)
        terms.append(elbo_loss(model, b, variety_weight=1.0, variety_metres=metres)["variety"])
    assert b.scale.std() > 0  # the windows walk at different speeds, so the weighting matters
    assert not torch.isclose(terms[0], terms[1])
    # With every window at the same speed scale the weighting is the identity.
    b.scale = torch.ones_like(b.scale) * 1.7
    again = []
    for metres in (False, True):
        torch.manual_seed(0)
        again.append(elbo_loss(model, b, variety_weight=1.0, variety_metres=metres)["variety"])
    torch.testing.assert_close(again[0], again[1])


def test_variety_endpoint_adds_the_endpoint_error_to_each_draw(batch_and_cfg):
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(16), cfg.data)
    model = CVAE(cfg)
    torch.manual_seed(3)
    got = elbo_loss(model, b, variety_weight=1.0, variety_k=5, variety_endpoint=2.0)["variety"]
    # The same draws by hand: q's sample comes first, then K = 5 prior samples.
    torch.manual_seed(3)
    ctx = model.context(b)
    model.posterior(ctx, b.fut).rsample()
    zs = model.prior(ctx).rsample((5,)).transpose(0, 1)  # (B, K, Z)
    dist = (model.decode_mean(ctx, zs, b.cv) - b.fut[:, None]).norm(dim=-1)  # (B, K, P)
    want = (dist.mean(-1) + 2.0 * dist[..., -1]).min(1).values.mean()
    torch.testing.assert_close(got, want)
    torch.manual_seed(3)
    plain = elbo_loss(model, b, variety_weight=1.0, variety_k=5)["variety"]
    torch.testing.assert_close(plain, dist.mean(-1).min(1).values.mean())


def test_nbr_unit_keeps_gaps_to_neighbours_metric(batch_and_cfg):
    wt, cfg = batch_and_cfg
    idx = torch.arange(40)
    agent_scaled = make_batch(wt, idx, cfg.data)
    cfg.data.nbr_unit = 0.5
    b = make_batch(wt, idx, cfg.data)
    filled = b.nbr[:, :, -1, -1] > 0  # (B, M) neighbour seen at t0
    assert filled.any()
    gap = (wt.nbr[idx, :, -1] - wt.obs[idx, None, -1]).norm(dim=-1)  # (B, M) metres at t0
    torch.testing.assert_close(b.nbr[:, :, -1, 4:6].norm(dim=-1)[filled], gap[filled] / 0.5)
    # Neighbour velocities stay in the agent's own scale; the agent's own features do not change.
    torch.testing.assert_close(b.nbr[..., 2:4], agent_scaled.nbr[..., 2:4])
    torch.testing.assert_close(b.obs, agent_scaled.obs)
    assert not torch.allclose(b.nbr[..., 4:6], agent_scaled.nbr[..., 4:6])


def test_cv_steps_extrapolates_the_mean_velocity_of_the_last_steps(batch_and_cfg):
    wt, cfg = batch_and_cfg
    idx = torch.arange(30)
    cfg.data.cv_steps = 3
    b = make_batch(wt, idx, cfg.data)
    # Rebuild the agent-frame history from the features: positions are channels 0:2 of obs.
    pos = b.obs[..., :2]  # (B, T_obs, 2), t0 at the origin
    v = (pos[:, -1] - pos[:, -4]) / 3
    steps = torch.arange(1, 13, dtype=v.dtype)
    torch.testing.assert_close(b.cv, v[:, None] * steps[None, :, None])
    # A gap three steps back falls back to the last step's velocity.
    obs = wt.obs[idx].clone()
    obs[:, -4] = float("nan")
    b_gap = make_batch(WindowTensors(obs, wt.nbr[idx], wt.fut[idx]), torch.arange(30), cfg.data)
    v1 = b_gap.obs[:, -1, :2] - b_gap.obs[:, -2, :2]
    torch.testing.assert_close(b_gap.cv, v1[:, None] * steps[None, :, None])


def test_short_history_is_extended_back_along_its_mean_velocity():
    nan = float("nan")
    obs = torch.tensor([[[nan, nan]] * 5 + [[0.0, 0.0], [1.0, 0.5], [2.0, 1.0]],  # 3 positions, 1 step = (1, 0.5)
                        [[nan, nan]] * 7 + [[4.0, 4.0]],  # a single position stays put
                        [[float(t), 0.0] for t in range(8)]])  # full: unchanged
    filled = _fill_short_history(obs)
    expected_first = torch.tensor([[-5.0 + t, -2.5 + 0.5 * t] for t in range(5)])
    torch.testing.assert_close(filled[0, :5], expected_first)
    torch.testing.assert_close(filled[0, 5:], obs[0, 5:])
    torch.testing.assert_close(filled[1], torch.full((8, 2), 4.0))
    torch.testing.assert_close(filled[2], obs[2])
    # A NaN inside a track (not left padding) is not invented.
    gap = obs[2:].clone()
    gap[0, 3] = nan
    assert torch.isnan(_fill_short_history(gap)[0, 3]).all()


def test_short_track_reads_like_the_full_straight_track_it_starts(batch_and_cfg):
    wt, cfg = batch_and_cfg
    idx = torch.arange(20)
    line = wt.obs[idx, -1:] + (torch.arange(8.0) - 7)[None, :, None] * torch.tensor([0.3, -0.1])  # (B, 8, 2)
    short = line.clone()
    short[:, :5] = float("nan")
    full_b = make_batch(WindowTensors(line, wt.nbr[idx], wt.fut[idx]), torch.arange(20), cfg.data)
    short_b = make_batch(WindowTensors(short, wt.nbr[idx], wt.fut[idx]), torch.arange(20), cfg.data)
    torch.testing.assert_close(short_b.obs, full_b.obs)
    torch.testing.assert_close(short_b.cv, full_b.cv)
    cfg.data.fill_short_history = False  # as before: the padding reaches the model as unobserved steps
    raw_b = make_batch(WindowTensors(short, wt.nbr[idx], wt.fut[idx]), torch.arange(20), cfg.data)
    assert (raw_b.obs[:, :5, -1] == 0).all() and not torch.allclose(raw_b.obs, full_b.obs)


def test_augment_noise_jitters_the_history_only_when_training(batch_and_cfg):
    wt, cfg = batch_and_cfg
    idx = torch.arange(25)
    cfg.data.augment_flip = False
    clean = make_batch(wt, idx, cfg.data, augment=True, generator=torch.Generator().manual_seed(0))
    cfg.data.augment_noise = 0.1
    noisy = make_batch(wt, idx, cfg.data, augment=True, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(noisy.obs, clean.obs) and not torch.allclose(noisy.nbr, clean.nbr)
    torch.testing.assert_close(noisy.to_world(noisy.fut), wt.fut[idx], atol=1e-4, rtol=1e-4)  # target untouched
    torch.testing.assert_close(make_batch(wt, idx, cfg.data).obs, make_batch(wt, idx, cfg.data).obs)
    cfg.data.augment_noise = 0.0
    torch.testing.assert_close(make_batch(wt, idx, cfg.data).obs, clean.obs)  # no jitter at test time


def test_augment_noise_spread_draws_one_jitter_std_per_window(batch_and_cfg):
    wt, cfg = batch_and_cfg
    idx = torch.arange(40)
    cfg.data.augment_flip, cfg.data.augment_noise = False, 0.1

    def jitter_std() -> torch.Tensor:  # (B,) std of each window's jitter on its observed positions, metres
        b = make_batch(wt, idx, cfg.data, augment=True, generator=torch.Generator().manual_seed(0))
        err = b.to_world(b.obs[..., :2]) - wt.obs[idx]  # (B, T_obs, 2)
        seen = b.obs[..., 4:].bool().expand_as(err)
        return torch.stack([e[m].std() for e, m in zip(err, seen)])

    fixed = jitter_std()
    assert fixed.min() > 0.05 and fixed.max() < 0.2  # every window near 0.1
    cfg.data.augment_noise_spread = True
    spread = jitter_std()  # stds from U(0, 0.2): smooth and rough windows side by side
    assert spread.min() < 0.03 and spread.max() > 0.15
    cfg.data.augment_noise_clean = 0.5  # about half the windows exactly as annotated, the rest jittered
    clean = jitter_std()
    assert 8 <= int((clean < 1e-5).sum()) <= 32 and clean.max() > 0.1
    from trajcvae.config import load_config
    from trajcvae.errors import TrajCVAEError
    with pytest.raises(TrajCVAEError, match="augment_noise_clean must be in"):
        load_config(None, ["data.augment_noise_clean=1"])  # every window clean: say so with augment_noise 0


def test_mixture_prior_draws_and_mode(batch_and_cfg):
    wt, cfg = batch_and_cfg
    cfg.model.prior_components = 3
    b = make_batch(wt, torch.arange(6), cfg.data)
    model = CVAE(cfg)
    ctx = model.context(b)
    p = model.prior(ctx)
    assert p.batch_shape == (6,) and p.event_shape == (4,)
    comp = p.component_distribution.base_dist  # loc/scale (B, M, Z)
    eps = torch.randn(5, 4)
    # u below the first weight picks component 0 in every window; u = 1 the last one.
    z0 = model.prior_draws(p, eps, torch.zeros(5))
    torch.testing.assert_close(z0, comp.loc[:, :1] + comp.scale[:, :1] * eps)
    z2 = model.prior_draws(p, eps, torch.ones(5))
    torch.testing.assert_close(z2, comp.loc[:, 2:] + comp.scale[:, 2:] * eps)
    # The mode is the mean of each window's heaviest component.
    top = p.mixture_distribution.probs.argmax(-1)
    torch.testing.assert_close(model.prior_mode(p), comp.loc[torch.arange(6), top])
    # Draws are reparameterised: a loss on them reaches the prior net.
    model.prior_draws(p, eps, torch.rand(5)).sum().backward()
    assert model.prior_net[-1].weight.grad.abs().sum() > 0


def test_mixture_prior_kl_is_the_one_sample_estimate(batch_and_cfg):
    from trajcvae.elbo import _kl
    from torch.distributions import Categorical, MixtureSameFamily, Normal, Independent
    base = Independent(Normal(torch.zeros(3, 4), torch.ones(3, 4)), 1)
    q = Independent(Normal(torch.randn(3, 4), torch.rand(3, 4) + 0.5), 1)
    # Two identical components are the same distribution as one.
    mix = MixtureSameFamily(Categorical(logits=torch.randn(3, 2)),
                            Independent(Normal(torch.zeros(3, 2, 4), torch.ones(3, 2, 4)), 1))
    z = q.sample()
    torch.testing.assert_close(_kl(q, mix, z), q.log_prob(z) - base.log_prob(z))
    torch.testing.assert_close(_kl(q, base, z), kl_divergence(q, base))  # closed form where there is one
    # Averaged over many z from q, the estimate is the KL.
    zs = q.sample((20000,))
    torch.testing.assert_close(_kl(q, mix, zs).mean(0), kl_divergence(q, base), atol=0.05, rtol=0.02)


def test_mixture_prior_trains_and_refuses_free_bits(batch_and_cfg):
    wt, cfg = batch_and_cfg
    cfg.model.prior_components = 4
    b = make_batch(wt, torch.arange(32), cfg.data)
    model = CVAE(cfg)
    terms = elbo_loss(model, b, variety_weight=1.0, variety_k=6)
    assert all(torch.isfinite(v) for v in terms.values())
    terms["loss"].backward()
    assert model.prior_net[-1].weight.grad.abs().sum() > 0
    from trajcvae.config import validate
    from trajcvae.errors import TrajCVAEError
    cfg.train.free_bits = 0.5
    with pytest.raises(TrajCVAEError, match="free_bits needs model.prior_components = 1"):
        validate(cfg)


def test_mixture_prior_predicts_reproducibly(sim_files):
    from trajcvae.predict import TrajCVAE
    cfg = Config()
    cfg.model.hidden, cfg.model.z_dim, cfg.model.prior_components = 32, 4, 3
    w = build_windows(read_tracks([sim_files["val"]]), cfg.data)
    predictor = TrajCVAE(CVAE(cfg), cfg, {})
    a, again = predictor.sample(w, k=7, seed=2), predictor.sample(w, k=7, seed=2)
    assert a.shape == (len(w), 7, 12, 2) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, again)
    assert not np.allclose(a, predictor.sample(w, k=7, seed=3))
    assert predictor.sample(w, most_likely=True).shape == (len(w), 1, 12, 2)
    assert predictor.sample(w, k=3, full=True).shape == (len(w), 3, 12, 2)


def test_dropout_is_a_training_only_regulariser_that_keeps_old_checkpoint_keys(batch_and_cfg):
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(8), cfg.data)
    keys = set(CVAE(cfg).state_dict())
    cfg.model.dropout = 0.5
    model = CVAE(cfg)
    # Dropout modules carry no weights, but they shift the MLP's layer indices: only a model that uses
    # them gets them, so a checkpoint trained without dropout still loads into the default model.
    assert set(model.state_dict()) != keys and len(model.state_dict()) == len(keys)
    torch.manual_seed(0)
    model.train()
    assert not torch.allclose(model.context(b), model.context(b))  # a different mask on each call
    model.eval()
    torch.testing.assert_close(model.context(b), model.context(b))  # off at prediction time


def test_gru_track_encoder(batch_and_cfg):
    wt, cfg = batch_and_cfg
    cfg.model.encoder = "gru"
    b = make_batch(wt, torch.arange(9), cfg.data)
    model = CVAE(cfg)
    assert model.context(b).shape == (9, 32)
    # It reads the steps in order: reversing the observed steps changes the context (a sum would not).
    rev = make_batch(wt, torch.arange(9), cfg.data)
    rev.obs = rev.obs.flip(1)
    assert not torch.allclose(model.context(rev), model.context(b))
    terms = elbo_loss(model, b, variety_weight=1.0, variety_k=4)
    terms["loss"].backward()
    assert model.encoder.ego.gru.weight_ih_l0.grad.abs().sum() > 0
    from trajcvae.config import load_config
    from trajcvae.errors import TrajCVAEError
    with pytest.raises(TrajCVAEError, match="model.dropout applies to the mlp track encoder only"):
        load_config(None, ["model.encoder=gru", "model.dropout=0.1"])  # would silently do nothing


def test_augment_drop_neighbors_hides_some_neighbours_only_when_training(batch_and_cfg):
    wt, cfg = batch_and_cfg
    idx = torch.arange(len(wt))
    full = make_batch(wt, idx, cfg.data).nbr_mask
    assert full.sum() > 50
    cfg.data.augment_drop_neighbors = 0.5
    gen = torch.Generator().manual_seed(0)
    kept = make_batch(wt, idx, cfg.data, augment=True, generator=gen).nbr_mask
    assert not (kept & ~full).any()  # nobody appears who was not there
    assert 0.35 < kept.sum() / full.sum() < 0.65
    torch.testing.assert_close(make_batch(wt, idx, cfg.data).nbr_mask, full)  # never at test time
    from trajcvae.config import load_config
    from trajcvae.errors import TrajCVAEError
    with pytest.raises(TrajCVAEError, match="augment_drop_neighbors must be in"):
        load_config(None, ["data.augment_drop_neighbors=1"])


def test_path_basis_keeps_only_smooth_velocity_changes(batch_and_cfg):
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(6), cfg.data)
    keys = set(CVAE(cfg).state_dict())
    t = torch.arange(12) + 0.5
    basis = torch.cos(torch.pi * t[:, None] * torch.arange(3)[None] / 12)  # (P, 3) the three slowest cosines

    def residual(model: CVAE) -> float:  # what a fit on the basis leaves of the velocity changes
        mean = model.decode_mean(model.context(b), torch.randn(6, 5, cfg.model.z_dim), b.cv)  # (B, K, P, 2)
        dv = torch.diff(mean - b.cv[:, None], dim=-2, prepend=torch.zeros_like(mean[..., :1, :]))
        cols = dv.reshape(-1, 12, 2).transpose(0, 1).reshape(12, -1)  # (P, B*K*2)
        return (basis @ torch.linalg.lstsq(basis, cols).solution - cols).abs().max().item()

    assert residual(CVAE(cfg)) > 1e-3  # per-step corrections: any profile
    cfg.model.path_basis = 3
    model = CVAE(cfg)
    assert set(model.state_dict()) == keys  # the projection follows from the config: checkpoints unchanged
    assert residual(model) < 1e-5
    from trajcvae.config import load_config
    from trajcvae.errors import TrajCVAEError
    with pytest.raises(TrajCVAEError, match="model.path_basis must be between 0 and data.pred_len"):
        load_config(None, ["model.path_basis=13"])


def test_nbr_encounter_says_where_and_when_two_walkers_would_pass(batch_and_cfg):
    from trajcvae.features import _encounter
    # The agent walks +x at 1 m/step from the origin; a neighbour 10 m ahead and 2 m aside walks towards it
    # at 1 m/step: they would pass 2 m apart after 5 steps. One seen at t0 only has no velocity: zeros.
    obs = torch.tensor([[[-1.0, 0.0], [0.0, 0.0]]])  # (B, T, 2)
    nbr = torch.tensor([[[[11.0, 2.0], [10.0, 2.0]], [[float("nan")] * 2, [3.0, 3.0]]]])  # (B, M, T, 2)
    rel = nbr - obs[:, None]  # (B, M, T, 2) as make_batch computes it
    torch.testing.assert_close(_encounter(rel, 12), torch.tensor([[[0.0, 2.0, 2.0, 5 / 12], [0.0] * 4]]))
    wt, cfg = batch_and_cfg
    cfg.data.nbr_encounter = True
    b = make_batch(wt, torch.arange(7), cfg.data)
    assert b.nbr.shape[-1] == 11 and (b.nbr[..., 7:].abs().sum() > 0)
    terms = elbo_loss(CVAE(cfg), b, variety_weight=1.0, variety_k=4)
    assert torch.isfinite(terms["loss"])


def test_scene_memory_reaches_the_context(sim_files):
    cfg = Config()
    cfg.model.hidden, cfg.model.z_dim = 32, 4
    cfg.data.memory, cfg.data.memory_radius = 4, 3.0
    wt = WindowTensors.from_windows(build_windows(read_tracks([sim_files["val"]]), cfg.data))
    idx = torch.arange(40)
    b = make_batch(wt, idx, cfg.data)
    assert b.mem.shape == (40, 4, 2 * 14 + 1) and b.mem_mask.shape == (40, 4)
    assert b.mem_mask.any()
    torch.manual_seed(0)
    model = CVAE(cfg)
    ctx = model.context(b)
    # Moving the remembered paths moves the context of exactly the windows that have some.
    moved = WindowTensors(wt.obs, wt.nbr, wt.fut, wt.mem + 1.0, wt.mem_lag)
    changed = (model.context(make_batch(moved, idx, cfg.data)) - ctx).abs().amax(1) > 1e-6
    assert torch.equal(changed, b.mem_mask.any(1))


def test_augment_drop_memory_hides_some_paths_only_when_training(sim_files):
    cfg = Config()
    cfg.data.memory, cfg.data.memory_radius = 4, 3.0
    wt = WindowTensors.from_windows(build_windows(read_tracks([sim_files["val"]]), cfg.data))
    idx = torch.arange(len(wt))
    full = make_batch(wt, idx, cfg.data).mem_mask
    assert full.sum() > 50
    cfg.data.augment_drop_memory = 0.5
    kept = make_batch(wt, idx, cfg.data, augment=True, generator=torch.Generator().manual_seed(0)).mem_mask
    assert not (kept & ~full).any()  # no path appears that was not remembered
    assert 0.35 < kept.sum() / full.sum() < 0.65
    torch.testing.assert_close(make_batch(wt, idx, cfg.data).mem_mask, full)  # never at test time
    from trajcvae.config import load_config
    from trajcvae.errors import TrajCVAEError
    with pytest.raises(TrajCVAEError, match="augment_drop_memory must be in"):
        load_config(None, ["data.augment_drop_memory=1"])
