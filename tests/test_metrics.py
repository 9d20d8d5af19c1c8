"""Samples -> numbers: displacement errors, the straight-line baselines, likelihoods and calibration."""
import numpy as np
import pytest

from trajcvae.metrics import (ade_fde, calibration, constant_velocity, fit_cv_noise, hpd_levels, kde_nll,
                              min_ade_fde, noisy_constant_velocity)


def test_min_ade_fde_hand_computed():
    gt = np.array([[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]])  # (1, P=3, 2)
    pred = np.array([[
        [[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]],  # 1 m off everywhere: ADE 1, FDE 1
        [[0.0, 0.0], [1.0, 0.0], [2.0, 3.0]],  # exact but the end 3 m off: ADE 1, FDE 3
        [[3.0, 4.0], [1.0, 0.0], [2.0, 0.5]],  # 5, 0, 0.5: ADE 11/6, FDE 0.5
    ]])
    ade, fde = ade_fde(pred, gt)
    np.testing.assert_allclose(ade, [[1.0, 1.0, 11 / 6]])
    np.testing.assert_allclose(fde, [[1.0, 3.0, 0.5]])
    made, mfde = min_ade_fde(pred, gt)
    # minADE and minFDE are minimised over samples separately.
    np.testing.assert_allclose(made, [1.0])
    np.testing.assert_allclose(mfde, [0.5])


def test_constant_velocity_uses_backward_difference():
    obs = np.array([[[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]]])  # last step moved (0, 2)
    cv = constant_velocity(obs, 3)
    assert cv.shape == (1, 1, 3, 2)
    np.testing.assert_allclose(cv[0, 0], [[1, 4], [1, 6], [1, 8]])


def test_noisy_line_without_noise_is_the_straight_line():
    obs = np.random.default_rng(0).normal(size=(5, 8, 2))
    ncv = noisy_constant_velocity(obs, 12, k=4, heading_std=0.0, log_speed_std=0.0)
    assert ncv.shape == (5, 4, 12, 2)
    np.testing.assert_allclose(ncv, np.repeat(constant_velocity(obs, 12), 4, axis=1))


def test_noisy_line_keeps_first_step_on_circle_of_scaled_speed():
    obs = np.zeros((1, 2, 2)); obs[0, 1] = [1.0, 0.0]
    ncv = noisy_constant_velocity(obs, 1, k=100, heading_std=0.5, log_speed_std=0.0, seed=1)
    np.testing.assert_allclose(np.linalg.norm(ncv[0, :, 0] - obs[0, 1], axis=-1), 1.0)


def test_fit_cv_noise_recovers_spread():
    rng = np.random.default_rng(0)
    n = 4000
    obs = np.zeros((n, 2, 2)); obs[:, 1, 0] = 1.0  # all moving +x at 1 per step
    th = rng.normal(0, 0.3, n); sp = np.exp(rng.normal(0, 0.2, n))
    vel = np.stack([np.cos(th), np.sin(th)], -1) * sp[:, None]  # (n, 2)
    fut = obs[:, 1, None, :] + vel[:, None] * np.arange(1, 13)[None, :, None]
    noise = fit_cv_noise(obs, fut)
    assert noise["heading_std"] == pytest.approx(0.3, rel=0.05)
    assert noise["log_speed_std"] == pytest.approx(0.2, rel=0.05)


def test_kde_nll_matches_scipy_gaussian_kde():
    from scipy.stats import gaussian_kde

    rng = np.random.default_rng(0)
    samples = rng.normal(size=(3, 50, 4, 2)) * [1.0, 0.3]
    gt = rng.normal(size=(3, 4, 2))
    gt[2, 1] = [40.0, 40.0]  # far outside: clipped at -20
    expected = np.zeros(3)
    for n in range(3):
        for t in range(4):
            lp = gaussian_kde(samples[n, :, t].T).logpdf(gt[n, t][:, None])[0]
            expected[n] -= max(lp, -20.0) / 4
    np.testing.assert_allclose(kde_nll(samples, gt), expected, rtol=1e-6)


@pytest.mark.parametrize("spread,sign", [(1.0, 0), (0.5, -1), (2.0, 1)])
def test_calibration_is_zero_for_honest_draws_and_signed_for_narrow_or_wide_ones(spread, sign):
    """The truth and 200 draws from N(0, I), or draws too narrow (std 0.5) or too wide (std 2)."""
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(500, 2, 2))  # (N, P, 2)
    samples = rng.normal(size=(500, 120, 2, 2)) * spread  # (N, S, P, 2)
    cal = calibration(hpd_levels(samples, gt))
    if sign == 0:
        assert cal["error"] < 0.03
    else:
        assert cal["error"] > 0.1 and np.sign(cal["signed_error"]) == sign
    p50 = cal["coverage"][cal["p"].index(0.5)]
    assert (abs(p50 - 0.5) < 0.05) if sign == 0 else (p50 < 0.4 if sign < 0 else p50 > 0.6)


def test_hpd_levels_do_not_depend_on_where_the_origin_is():
    """UTM metres (or a homography's offset) put draws millions of metres from the origin: their levels are
    those of the same draws near it."""
    rng = np.random.default_rng(3)
    samples = rng.normal(scale=0.3, size=(50, 200, 3, 2))
    gt = rng.normal(scale=0.3, size=(50, 3, 2))
    far = np.array([500_000.0, 5_200_000.0])
    np.testing.assert_allclose(hpd_levels(samples + far, gt + far), hpd_levels(samples, gt), atol=1e-12)


def test_hpd_level_of_the_mode_is_zero_and_of_a_far_point_is_one():
    rng = np.random.default_rng(1)
    samples = rng.normal(size=(1, 300, 1, 2))
    levels = hpd_levels(np.repeat(samples, 2, axis=0), np.array([[[0.0, 0.0]], [[9.0, 9.0]]]))
    assert levels[0, 0] < 0.05 and levels[1, 0] == 1.0


@pytest.mark.parametrize("p_left", [0.7, 0.2])
def test_the_simulated_fork_sends_the_asked_share_of_walkers_left_and_hides_it_before_the_fork(p_left):
    """`simulate.branching_scene` is the measure of sampled odds (benchmarks/branching.py): its walkers must
    take the left branch at the asked rate, and nothing before the fork may tell which way one goes."""
    from trajcvae.simulate import branching_scene

    df = branching_scene(n_agents=400, p_left=p_left, seed=3)
    last = df.groupby("agent_id").last()
    left = last["y"] > 0
    assert abs(left.mean() - p_left) < 3 * np.sqrt(p_left * (1 - p_left) / 400)  # within 3 standard errors
    assert (last["x"] > 2).all() and (last["y"].abs() > 4).all()  # every walker took one branch, far along
    before = df[df["x"] < -1.0].groupby("agent_id")["y"].mean()
    assert abs(before[left].mean() - before[~left].mean()) < 0.1  # the approach looks the same either way


@pytest.mark.parametrize("truth", ["narrower", "wider", "other shape"])
def test_scene_calibration_maps_a_miscalibrated_model_to_its_scene(truth):
    """A model whose draws are too wide, too narrow, or of the wrong shape (truths bunched at the centre
    with long tails, which no single scale fits) on a scene: the levels of its finished windows make a map
    under which fresh draws are calibrated where the model's own are far from it."""
    import torch

    from trajcvae.calibrate import level_map, past_quantiles, radial_levels

    rng = np.random.default_rng(0)
    n = 1000

    def truths() -> np.ndarray:  # (n, 2) around c = 0; the model draws N(0, I)
        if truth == "other shape":
            return rng.normal(size=(n, 2)) * np.where(rng.random((n, 1)) < 0.7, 0.4, 2.0)
        return rng.normal(size=(n, 2)) * (0.5 if truth == "narrower" else 1.7)

    c = torch.zeros(n, 1, 2, dtype=torch.float64)  # one future step
    draws = torch.from_numpy(rng.normal(size=(n, 200, 1, 2)))
    levels = radial_levels(draws, c, torch.from_numpy(truths())[:, None, None])[:, 0].numpy()  # (n, 1)
    maps = past_quantiles(np.full(n, "a"), np.arange(n, dtype=float), levels, np.full(n, "a"), np.full(n, n + 0.5))
    fresh, gt = torch.from_numpy(rng.normal(size=(n, 200, 1, 2))), truths()[:, None]  # new windows of the scene
    mapped = fresh * level_map(fresh, c, fresh, torch.from_numpy(maps))[..., None]
    assert calibration(hpd_levels(fresh.numpy(), gt))["error"] > 0.1
    assert calibration(hpd_levels(mapped.numpy(), gt))["error"] < 0.05


def test_a_scene_map_is_numpys_quantiles_of_its_finished_windows_levels_and_the_pseudo_levels():
    from trajcvae.calibrate import GRID, MIN_PAST, PSEUDO, past_quantiles

    rng = np.random.default_rng(2)
    n = 300
    scene, done = rng.choice(["a", "b"], n), rng.permutation(n).astype(float)
    levels = rng.uniform(size=(n, 3)) ** 2
    levels[::3] = levels[::3].round(2)  # ties
    at_scene, at_time = rng.choice(["a", "b"], 40), rng.uniform(0, n, 40)
    got = past_quantiles(scene, done, levels, at_scene, at_time)
    pseudo = (np.arange(PSEUDO) + 0.5) / PSEUDO
    for q in range(40):
        past = (scene == at_scene[q]) & (done <= at_time[q])
        if past.sum() < MIN_PAST:
            assert np.isnan(got[q]).all()
            continue
        want = [np.quantile(np.concatenate([levels[past, step], pseudo]), GRID) for step in range(3)]
        np.testing.assert_array_equal(got[q], np.stack(want))  # to the bit


def test_scene_calibration_reads_only_its_scene_and_windows_finished_by_t0():
    from trajcvae.calibrate import GRID, MIN_PAST, past_quantiles

    rng = np.random.default_rng(1)
    n = 60
    scene, done = np.array(["a", "b"] * (n // 2)), np.arange(n, dtype=float)
    levels = rng.uniform(size=(n, 2)) ** 6  # two future steps, bunched near 0: too wide
    ask = dict(at_scene=np.array(["a", "a", "b"]), at_time=np.array([2 * MIN_PAST - 2.5, 40.5, 40.5]))
    before = past_quantiles(scene, done, levels, **ask)
    assert np.isnan(before[0]).all()  # fewer than MIN_PAST of its scene's windows had ended: no map
    assert (before[1][:, GRID == 0.5] < 0.4).all()  # too wide: a draw at level 0.5 moves inward
    later = levels.copy()
    later[done > 40.5] = rng.uniform(size=((done > 40.5).sum(), 2)) ** 0.2  # what comes after t0 ...
    later[scene == "b"] = 0.999  # ... and another scene's windows change nothing
    np.testing.assert_array_equal(past_quantiles(scene, done, later, **ask)[:2], before[:2])


def test_best_of_k_over_known_points_skips_futures_past_a_horizon():
    from trajcvae.metrics import known_min_ade_fde

    gt = np.zeros((1, 3, 2))
    pred = np.ones((1, 2, 3, 2))  # two futures, 3 steps, each point sqrt(2) m off
    pred[0, 0, 2] = np.nan  # future 0 has no last point: scored on its first two, FDE at its second
    pred[0, 0, :2] = 0.5
    ade, fde = known_min_ade_fde(pred, gt)
    assert ade[0] == pytest.approx(0.5 * np.sqrt(2)) and fde[0] == pytest.approx(0.5 * np.sqrt(2))
    assert np.isnan(known_min_ade_fde(np.full((1, 2, 3, 2), np.nan), gt)[0][0])  # no point at all: NaN
