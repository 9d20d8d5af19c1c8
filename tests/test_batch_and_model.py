"""Batches and the model: features see no future, the ELBO terms are right, draws and memory behave as documented."""
import math

import numpy as np
import pytest
import torch
from torch.distributions import kl_divergence

from trajcvae.batch import Batch, WindowTensors, _fill_short_history, make_batch
from trajcvae.config import Config
from trajcvae.model import CVAE, diag_normal
from trajcvae.tracks import read_tracks
from trajcvae.windows import build_windows


@pytest.fixture
def batch_and_cfg(sim_files):
    cfg = Config()
    cfg.model.hidden, cfg.model.z_dim = 32, 4
    cfg.data.memory = 0  # these tests build windows by hand (no remembered paths); the memory has its own
    w = build_windows(read_tracks([sim_files["val"]]), cfg.data)
    return WindowTensors.from_windows(w), cfg


def test_a_prediction_s_inputs_are_picked_by_slice_list_array_or_tensor_alike(batch_and_cfg):
    """`WindowTensors.inputs` (what a prediction may see) keeps each window's float64 offset beside it."""
    wt, _ = batch_and_cfg
    wt.offset = np.arange(2.0 * len(wt)).reshape(-1, 2) * 1000.0
    for idx in (slice(2, 5), [2, 3, 4], np.arange(2, 5), torch.arange(2, 5)):
        part = wt.inputs(idx)
        assert part.fut is None and torch.equal(part.obs, wt.obs[2:5])
        np.testing.assert_array_equal(part.offset, wt.offset[2:5])


def test_shapes(batch_and_cfg):
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(10), cfg.data)
    assert b.obs.shape == (10, 8, Batch.OBS_CHANNELS) and b.nbr.shape[0] == 10
    assert b.nbr.shape[2:] == (8, Batch.NBR_CHANNELS)
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
    t = CVAE(cfg).loss(b, beta=0.5, variety_weight=1.0)
    assert set(t) == {"loss", "nll", "kl", "elbo", "variety"}
    assert all(torch.isfinite(v) for v in t.values())
    assert t["kl"] >= 0
    torch.testing.assert_close(t["elbo"], -(t["nll"] + t["kl"]))
    torch.testing.assert_close(t["loss"], t["nll"] + 0.5 * t["kl"] + t["variety"])


def test_a_windows_futures_do_not_depend_on_the_rest_of_its_batch(batch_and_cfg):
    wt, cfg = batch_and_cfg
    torch.manual_seed(0)
    model = CVAE(cfg).eval()
    with torch.no_grad():
        whole = model.sample(make_batch(wt, torch.arange(30), cfg.data), 6, torch.Generator().manual_seed(3))
        part = model.sample(make_batch(wt, torch.arange(10, 20), cfg.data), 6, torch.Generator().manual_seed(3))
        other = model.sample(make_batch(wt, torch.arange(10, 20), cfg.data), 6, torch.Generator().manual_seed(4))
    assert whole.shape == (30, 6, 12, 2)
    torch.testing.assert_close(part, whole[10:20])
    assert not torch.allclose(other, part)


@pytest.fixture
def untrained(batch_and_cfg):
    """A freshly initialised model (seed 0) in eval mode, and a batch of 4 windows."""
    wt, cfg = batch_and_cfg
    torch.manual_seed(0)
    return CVAE(cfg).eval(), make_batch(wt, torch.arange(4), cfg.data), cfg


def test_full_draws_scatter_around_the_decoder_means(untrained):
    """`full=True` adds p(y|x,z)'s noise to the same z draws: same means on average, a spread of sigma."""
    model, b, cfg = untrained
    with torch.no_grad():
        means = model.sample(b, 4000, torch.Generator().manual_seed(0))
        draws = model.sample(b, 4000, torch.Generator().manual_seed(0), full=True)
    sigma = cfg.model.min_sigma + torch.nn.functional.softplus(model.log_sigma)  # (P, 2)
    noise = draws - means
    torch.testing.assert_close(noise.std(dim=1).mean(0), sigma.detach(), rtol=0.05, atol=0.0)
    assert noise.mean(dim=1).abs().max() < 0.05


def test_most_likely_is_the_future_at_the_prior_mean(untrained):
    model, b, _ = untrained
    with torch.no_grad():
        ctx = model.context(b)
        expected = model.decode_mean(ctx, model.prior(ctx).mean.unsqueeze(1), b.cv)
        torch.testing.assert_close(model.most_likely(b), expected)


def test_nll_is_in_world_units(batch_and_cfg):
    """Scaling the world by c shifts the NLL by exactly 2 * P * log(c) per window."""
    wt, cfg = batch_and_cfg
    model = CVAE(cfg)
    idx = torch.arange(16)
    c = 3.0
    wt_c = WindowTensors(wt.obs * c, wt.nbr * c, wt.fut * c)
    cfg.data.min_speed = 1e-6  # keep the speed floor out of the way
    cfg.data.nbr_unit = 0.0  # neighbours in the agent's own (scaled) unit, not a fixed metric one
    nll = []
    for w in (wt, wt_c):
        torch.manual_seed(0)
        nll.append(model.loss(make_batch(w, idx, cfg.data))["nll"].item())
    assert nll[1] - nll[0] == pytest.approx(2 * 12 * math.log(c), rel=1e-3)


def test_nbr_unit_keeps_gaps_to_neighbours_metric(batch_and_cfg):
    wt, cfg = batch_and_cfg
    idx = torch.arange(40)
    cfg.data.nbr_unit = 0.0  # neighbours in the agent's own unit, like its track
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
    cfg.data.augment_flip, cfg.data.augment_noise = False, 0.0
    clean = make_batch(wt, idx, cfg.data, augment=True, generator=torch.Generator().manual_seed(0))
    cfg.data.augment_noise = 0.1
    noisy = make_batch(wt, idx, cfg.data, augment=True, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(noisy.obs, clean.obs) and not torch.allclose(noisy.nbr, clean.nbr)
    torch.testing.assert_close(noisy.to_world(noisy.fut), wt.fut[idx], atol=1e-4, rtol=1e-4)  # target untouched
    torch.testing.assert_close(make_batch(wt, idx, cfg.data).obs, make_batch(wt, idx, cfg.data).obs)
    cfg.data.augment_noise = 0.0
    torch.testing.assert_close(make_batch(wt, idx, cfg.data).obs, clean.obs)  # no jitter at test time


def test_augment_flip_mirrors_about_half_the_training_windows_and_maps_them_back(batch_and_cfg):
    """Mirror images (`data.augment_flip`): in training, each window's frame is mirrored (y -> -y) with chance
    1/2, its target with it, so `to_world` still gives the true future; never at test time."""
    wt, cfg = batch_and_cfg
    idx = torch.arange(200) % len(wt)
    cfg.data.augment_flip, cfg.data.augment_noise = True, 0.0
    plain = make_batch(wt, idx, cfg.data)
    aug = make_batch(wt, idx, cfg.data, augment=True, generator=torch.Generator().manual_seed(0))
    turning = plain.fut[:, -1, 1].abs() > 1e-3  # windows whose future leaves the heading line
    mirrored = torch.isclose(aug.fut[:, -1, 1], -plain.fut[:, -1, 1], atol=1e-5) & turning
    kept = torch.isclose(aug.fut[:, -1, 1], plain.fut[:, -1, 1], atol=1e-5) & turning
    assert turning.sum() > 100 and bool((mirrored | kept)[turning].all())
    assert 0.35 < mirrored.sum() / turning.sum() < 0.65
    torch.testing.assert_close(aug.to_world(aug.fut), wt.fut[idx], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(make_batch(wt, idx, cfg.data).fut, plain.fut)  # test time: never mirrored


def test_augment_noise_spread_draws_one_jitter_std_per_window(batch_and_cfg):
    wt, cfg = batch_and_cfg
    idx = torch.arange(40)
    cfg.data.augment_flip, cfg.data.augment_noise, cfg.data.augment_noise_spread = False, 0.1, False

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


def test_scene_memory_reaches_the_context(sim_files):
    cfg = Config()
    cfg.model.hidden, cfg.model.z_dim = 32, 4
    cfg.data.memory, cfg.data.memory_radius = 4, 3.0
    wt = WindowTensors.from_windows(build_windows(read_tracks([sim_files["val"]]), cfg.data))
    idx = torch.arange(40)
    b = make_batch(wt, idx, cfg.data)
    assert b.mem.shape == (40, 4, Batch.mem_channels(12)) and b.mem_mask.shape == (40, 4)
    assert b.mem_mask.any()
    torch.manual_seed(0)
    model = CVAE(cfg)
    ctx = model.context(b)
    # Moving the remembered paths moves the context of exactly the windows that have some.
    moved = WindowTensors(wt.obs, wt.nbr, wt.fut, wt.mem + 1.0, wt.mem_lag)
    changed = (model.context(make_batch(moved, idx, cfg.data)) - ctx).abs().amax(1) > 1e-6
    assert torch.equal(changed, b.mem_mask.any(1))


def _fixed(net: torch.nn.Sequential, mu: float, log_sigma: float) -> None:
    """Make an mlp's output a constant diagonal Gaussian's parameters, whatever its input."""
    last = net[-1]
    with torch.no_grad():
        last.weight.zero_()
        half = last.bias.shape[0] // 2
        last.bias[:half], last.bias[half:] = mu, log_sigma


def test_the_kl_term_is_kl_of_the_posterior_from_the_prior_not_the_reverse(batch_and_cfg):
    """KL(q || p): q(z|x,y) = N(0, e^-2) per dim against p(z|x) = N(0, 1) gives Z (1 + e^-2 / 2 - 1 / 2) nats,
    where KL(p || q) would give Z (e^2 / 2 - 3 / 2)."""
    wt, cfg = batch_and_cfg
    torch.manual_seed(0)
    model = CVAE(cfg)
    _fixed(model.prior_net, 0.0, 0.0)
    _fixed(model.recognition_net, 0.0, -1.0)
    kl = model.loss(make_batch(wt, torch.arange(8), cfg.data))["kl"].item()
    assert kl == pytest.approx(cfg.model.z_dim * (1 + math.exp(-2) / 2 - 0.5), rel=1e-5)


def test_the_variety_term_is_the_best_of_k_prior_draws_ade_in_the_agent_frame(batch_and_cfg):
    """With a decoder that ignores z every draw is the constant-velocity line: the variety term is its ADE
    (not FDE) to the true future, in the agent frame. With a decoder that follows z, the best of more prior
    draws is nearer the truth; and the draws are the prior's: the recognition net (which sees the future)
    does not move the term."""
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(32), cfg.data)
    torch.manual_seed(0)
    model = CVAE(cfg)
    with torch.no_grad():
        model.decoder.rest[-1].weight.zero_(), model.decoder.rest[-1].bias.zero_()
    line = (b.cv - b.fut).norm(dim=-1).mean(-1).mean()
    torch.testing.assert_close(model.loss(b, variety_weight=1.0, variety_k=5)["variety"], line)
    torch.manual_seed(0)
    model = CVAE(cfg)
    with torch.no_grad():
        model.decoder.from_z.weight.mul_(20.0)  # draws far apart
    one, many = [], []
    for seed in range(5):
        torch.manual_seed(seed)
        one.append(model.loss(b, variety_weight=1.0, variety_k=1)["variety"].item())
        torch.manual_seed(seed)
        many.append(model.loss(b, variety_weight=1.0, variety_k=40)["variety"].item())
    assert np.mean(many) < 0.7 * np.mean(one), (one, many)
    torch.manual_seed(7)
    before = model.loss(b, variety_weight=1.0, variety_k=10)["variety"]
    with torch.no_grad():
        model.recognition_net[-1].bias.add_(3.0)
    torch.manual_seed(7)
    torch.testing.assert_close(model.loss(b, variety_weight=1.0, variety_k=10)["variety"], before)


def test_importance_sampled_nll_is_the_exact_nll_when_the_future_does_not_depend_on_z(batch_and_cfg):
    """A decoder that ignores z makes p(y|x) = p(y|x,z): the estimate with q(z|x,y) != p(z|x) as proposal must
    find it (to within the estimate's noise), in world units (+ 2 P log scale), with the 1/S of the mean."""
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(16), cfg.data)
    assert not torch.allclose(b.scale, torch.ones_like(b.scale))  # so the Jacobian is seen
    torch.manual_seed(0)
    model = CVAE(cfg).eval()
    with torch.no_grad():
        model.decoder.from_z.weight.zero_()
    _fixed(model.prior_net, 0.0, 0.0)
    _fixed(model.recognition_net, 0.4, 0.3)  # a wider q: KL(q || p) about 0.8 nats, a biased estimator is seen
    with torch.no_grad():
        ctx = model.context(b)
        exact = -model.decode(ctx, torch.zeros(16, cfg.model.z_dim), b.cv).log_prob(b.fut) \
            + 2 * b.fut.shape[1] * b.scale.log()
    torch.manual_seed(0)
    torch.testing.assert_close(model.importance_nll(b, 4000), exact, atol=0.08, rtol=0)


def test_the_recognition_net_reads_the_true_future_and_its_draw_trains_its_spread(batch_and_cfg):
    """q(z|x,y) sees y: another future moves it. Its z is a reparameterised draw, not its mean, so the
    reconstruction term's gradient reaches q's log-std as well as its mean."""
    wt, cfg = batch_and_cfg
    b = make_batch(wt, torch.arange(16), cfg.data)
    torch.manual_seed(0)
    model = CVAE(cfg)
    with torch.no_grad():
        ctx = model.context(b)
        assert not torch.allclose(model.posterior(ctx, b.fut).mean, model.posterior(ctx, b.fut.flip(0)).mean)
    model.loss(b)["nll"].backward()
    grad = model.recognition_net[-1].bias.grad  # (2Z,): mean's share, then log-std's
    assert grad[:cfg.model.z_dim].abs().sum() > 0 and grad[cfg.model.z_dim:].abs().sum() > 0


def test_an_empty_scene_memory_slot_reaches_no_context(sim_files):
    """Slots the scene memory could not fill (NaN) are masked out of the attention: one more empty slot per
    window leaves every window's context as it was."""
    cfg = Config()
    cfg.model.hidden, cfg.model.z_dim = 32, 4
    cfg.data.memory, cfg.data.memory_radius = 4, 3.0
    wt = WindowTensors.from_windows(build_windows(read_tracks([sim_files["val"]]), cfg.data))
    idx = torch.arange(40)
    torch.manual_seed(0)
    model = CVAE(cfg)
    ctx = model.context(make_batch(wt, idx, cfg.data))
    mem = torch.cat([wt.mem, torch.full_like(wt.mem[:, :1], float("nan"))], 1)
    lag = torch.cat([wt.mem_lag, torch.ones_like(wt.mem_lag[:, :1])], 1)
    padded = WindowTensors(wt.obs, wt.nbr, wt.fut, mem, lag)
    torch.testing.assert_close(model.context(make_batch(padded, idx, cfg.data)), ctx)


def test_the_smoother_keeps_a_steady_walk_and_takes_out_much_of_a_detectors_noise():
    """`checks.smoothed` (what `--noise` reads): a walk at a steady velocity comes back within a millimetre,
    detections with 0.2 m of noise come back nearer their truth (by at least a third over the window, and at
    t0), a track seen once stays where it was seen, and unobserved positions stay unobserved."""
    from trajcvae.checks import smoothed

    t = 0.4 * np.arange(8)
    walk = np.stack([1.3 * t, -0.4 * t], -1)[None]  # (1, 8, 2)
    np.testing.assert_allclose(smoothed(walk, 0.2, 0.4), walk, atol=1e-3)
    rng = np.random.default_rng(0)
    noisy = walk + 0.2 * rng.standard_normal((2000, 8, 2))
    err = lambda p: np.sqrt(((p - walk) ** 2).sum(-1).mean(0))  # noqa: E731  (T,) rms error per step
    assert err(smoothed(noisy, 0.2, 0.4)).mean() < 0.67 * err(noisy).mean()
    assert err(smoothed(noisy, 0.2, 0.4))[-1] < 0.9 * err(noisy)[-1]
    gaps = noisy[:4].copy()
    gaps[0, :7], gaps[1, :3], gaps[2, 4], gaps[3] = np.nan, np.nan, np.nan, np.nan
    out = smoothed(gaps, 0.2, 0.4)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(gaps))
    np.testing.assert_array_equal(out[0, 7], gaps[0, 7])


def test_the_smoother_lets_a_model_of_faster_agents_turn_as_they_do():
    """A model of agents faster than walkers (its top speed, `top_step`) gets a smoother as many times more agile
    as that speed is over a walker's (`checks.agility`; `pedestrian`'s is a walker's, 1): a car's turn
    (15 m/s on a 40 m circle) told to have 5 cm of noise comes back far nearer its own path than a walker's
    smoother leaves it, and 0.3 m of noise is still taken out of a straight drive."""
    from trajcvae.checks import agility, smoothed, top_step
    from trajcvae import TrajCVAE

    assert agility(TrajCVAE.load("pedestrian").top_step, 0.4) == 1.0 == agility(None, 0.4)
    car = top_step({"p90": 18.0}, 0.4)  # a model whose training cars drove up to 18 m/s (p90)
    assert 14 < agility(car, 0.4) < 15  # 3.6 m/s^2 of white noise
    angle = 15.0 * 0.4 * np.arange(8) / 40.0
    turn = 40.0 * np.stack([np.sin(angle), 1 - np.cos(angle)], -1)[None]  # (1, 8, 2)
    off = lambda p, truth: np.sqrt(((p - truth) ** 2).sum(-1).mean())  # noqa: E731  rms over every position
    assert off(smoothed(turn, 0.05, 0.4, car), turn) < 0.3 * off(smoothed(turn, 0.05, 0.4), turn)
    straight = np.stack([15.0 * 0.4 * np.arange(8), np.zeros(8)], -1)[None]
    drive = straight + 0.3 * np.random.default_rng(0).standard_normal((500, 8, 2))
    assert off(smoothed(drive, 0.3, 0.4, car), straight) < 0.8 * off(drive, straight)


def test_a_model_of_faster_agents_reads_every_history_with_its_agility():
    """What a prediction reads (`make_batch` with the model's `top_step`): the agent's history (`checks.readable`)
    and its neighbours' are both smoothed with the model's agility, as `smoothed` does given its top step."""
    from trajcvae.batch import WindowTensors, make_batch
    from trajcvae.checks import smoothed, top_step
    from trajcvae.config import DataConfig

    car = top_step({"p90": 18.0}, 0.4)
    angle = 15.0 * 0.4 * np.arange(8) / 40.0
    turn = 40.0 * np.stack([np.sin(angle), 1 - np.cos(angle)], -1)  # (8, 2) 15 m/s on a 40 m circle
    rng = np.random.default_rng(0)
    obs = turn[None] + 0.05 * rng.standard_normal((6, 8, 2))
    nbr = turn[None, None] + [0.0, 4.0] + 0.05 * rng.standard_normal((6, 2, 8, 2))
    raw = WindowTensors(torch.from_numpy(obs).float(), torch.from_numpy(nbr).float(), None)
    smooth_nbr = smoothed(nbr.reshape(12, 8, 2), 0.05, 0.4, car).reshape(nbr.shape)
    pre = WindowTensors(torch.from_numpy(smoothed(obs, 0.05, 0.4, car)).float(), torch.from_numpy(smooth_nbr).float(),
                        None)
    idx = np.arange(6)
    read = make_batch(raw, idx, DataConfig(noise=0.05, memory=0), top_step=car)
    want = make_batch(pre, idx, DataConfig(memory=0), top_step=car)
    walker = make_batch(WindowTensors(torch.from_numpy(smoothed(obs, 0.05, 0.4)).float(), pre.nbr, None), idx,
                        DataConfig(memory=0), top_step=car)
    assert torch.allclose(read.obs, want.obs, atol=1e-4) and torch.allclose(read.nbr, want.nbr, atol=1e-4)
    assert not torch.allclose(walker.obs, want.obs, atol=1e-3)  # (a walker's agility reads them otherwise)


def test_evaluates_baselines_read_histories_smoothed_as_the_model_of_faster_agents_reads_them():
    """`evaluate`'s constant-velocity line reads each history smoothed as the model reads it, with the model's
    agility: for a model of cars, a turning car's line starts from its car-smoothed history, not a walker's."""
    import copy
    import pandas as pd
    from trajcvae import TrajCVAE
    from trajcvae.checks import smoothed
    from trajcvae.evaluate import window_errors
    from trajcvae.metrics import ade_fde, constant_velocity

    model = copy.copy(TrajCVAE.load("pedestrian", noise=0.05))
    model.stats = {**model.stats, "speeds": {"p90": 18.0}}  # a model whose training cars drove up to 18 m/s
    rng = np.random.default_rng(0)
    rows = []
    for a in range(4):
        angle = 15.0 * 0.4 * np.arange(24) / 40.0
        xy = 40.0 * np.stack([np.sin(angle), 1 - np.cos(angle)], -1) + [0.0, 50.0 * a]
        xy = xy + 0.05 * rng.standard_normal(xy.shape)
        rows += [(0.4 * i, a, *p) for i, p in enumerate(xy)]
    w = model.make_windows(pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"]), every_window=True)
    got = window_errors(model, w, k=2)["cv_ade"].to_numpy()
    for top, same in ((model.top_step, True), (None, False)):
        line = ade_fde(constant_velocity(smoothed(w.obs, 0.05, 0.4, top), 12), w.fut)[0][:, 0]
        assert np.allclose(got, line, atol=1e-6) == same
