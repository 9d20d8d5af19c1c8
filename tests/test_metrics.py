"""Samples -> numbers: displacement errors, the straight-line baselines, likelihoods and calibration."""
import numpy as np
import pytest

from trajcvae.metrics import (CALIBRATION_LEVELS, ade_fde, brier_fde, calibration, constant_velocity, fit_cv_noise,
                              hpd_levels, kde_nll, min_ade_fde, noisy_constant_velocity, top_n_ade_fde, turned_lines)


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


def test_the_fork_walkers_start_six_steps_apart_so_nobody_is_in_anothers_way():
    """`branching_scene`: a walker sees others ahead of it, but the nearest of them is most of the time metres
    away (6 steps of 0.5 m), not at its elbow."""
    from trajcvae.simulate import branching_scene

    df = branching_scene(n_agents=40, seed=1)
    nearest = [np.linalg.norm(p[:, None] - p[None], axis=-1)[np.triu_indices(len(p), 1)].min()
               for _, now in df.groupby("frame") if len(p := now[["x", "y"]].to_numpy()) > 1]
    assert np.median(nearest) > 1.5
    assert df.groupby("frame")["agent_id"].nunique().max() > 1  # (others in view)


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
    """docs/model.md: G per step, with 10 even levels added, once 10 windows of the scene have finished; G^-1
    tabulated at 201 even levels from 0 to 1 (calibrate.GRID). Literals, so that a change of the constants shows."""
    from trajcvae.calibrate import past_quantiles

    rng = np.random.default_rng(2)
    n = 300
    scene, done = rng.choice(["a", "b"], n), rng.permutation(n).astype(float)
    levels = rng.uniform(size=(n, 3)) ** 2
    levels[::3] = levels[::3].round(2)  # ties
    at_scene, at_time = rng.choice(["a", "b"], 40), rng.uniform(0, n, 40)
    got = past_quantiles(scene, done, levels, at_scene, at_time)
    pseudo = np.array([0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95])
    grid = np.linspace(0.0, 1.0, 201)
    for q in range(40):
        past = (scene == at_scene[q]) & (done <= at_time[q])
        if past.sum() < 10:
            assert np.isnan(got[q]).all()
            continue
        want = [np.quantile(np.concatenate([levels[past, step], pseudo]), grid) for step in range(3)]
        np.testing.assert_array_equal(got[q], np.stack(want))  # to the bit


def test_scene_calibration_reads_only_its_scene_and_windows_finished_by_t0():
    from trajcvae.calibrate import past_quantiles

    rng = np.random.default_rng(1)
    n = 60
    scene, done = np.array(["a", "b"] * (n // 2)), np.arange(n, dtype=float)
    levels = rng.uniform(size=(n, 2)) ** 6  # two future steps, bunched near 0: too wide
    ask = dict(at_scene=np.array(["a", "a", "b"]), at_time=np.array([17.5, 40.5, 40.5]))
    before = past_quantiles(scene, done, levels, **ask)
    assert np.isnan(before[0]).all()  # 9 of its scene's windows had ended, fewer than 10: no map
    assert (before[1][:, 100] < 0.4).all()  # G^-1(0.5), too wide: a draw at level 0.5 moves inward
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
    # Futures cut at different steps are compared over the steps they all reach: a future cut after its first
    # step (0.3 m off) does not beat one 0.1 m off there that goes on to miss by 1 and 2 m.
    pred = np.array([[[[0.3, 0.0], [np.nan, np.nan], [np.nan, np.nan]], [[0.1, 0.0], [1.0, 0.0], [2.0, 0.0]]]])
    assert [v[0] for v in known_min_ade_fde(pred, gt)] == pytest.approx([0.1, 0.1])
    pred[0, 0] = np.nan  # a future with no point at all takes no part
    assert [v[0] for v in known_min_ade_fde(pred, gt)] == pytest.approx([(0.1 + 1 + 2) / 3, 2.0])


def test_top_n_scores_the_least_ade_future_of_the_first_n_with_its_own_fde():
    """TrajNet++'s top-n: the future of least ADE among the first n, its ADE and its FDE, not the least FDE."""
    gt = np.zeros((2, 2, 2))
    pred = np.zeros((2, 3, 2, 2))
    pred[0, 0] = [[0.0, 0.0], [2.0, 0.0]]  # errors 0, 2: ADE 1, FDE 2
    pred[0, 1] = [[1.5, 0.0], [1.5, 0.0]]  # errors 1.5, 1.5: ADE 1.5, FDE 1.5 (the least FDE)
    pred[0, 2] = 0.0  # exact, but the third future: beyond n = 2
    pred[1, 0] = [[0.0, 1.0], [0.0, 3.0]]  # ADE 2, FDE 3
    pred[1, 1] = [[0.0, 3.0], [0.0, 1.0]]  # ADE 2, FDE 1: a tie on ADE goes to the first
    pred[1, 2] = 9.0
    ade, fde = top_n_ade_fde(pred, gt, 2)
    np.testing.assert_allclose(ade, [1.0, 2.0])
    np.testing.assert_allclose(fde, [2.0, 3.0])


def test_brier_fde_is_the_least_final_error_plus_the_squared_miss_of_that_futures_weight():
    """Brier-minFDE = minFDE + (1 - weight of the future nearest the truth at the end)^2, by hand."""
    gt = np.zeros((2, 2, 2))  # two windows, two steps
    pred = np.zeros((2, 2, 2, 2))
    pred[0, 0] = [[5.0, 0.0], [1.0, 0.0]]  # FDE 1 (ADE 3): the nearest at the end
    pred[0, 1] = [[0.0, 0.0], [3.0, 0.0]]  # FDE 3 (ADE 1.5)
    pred[1, 1] = [[0.0, 2.0], [0.0, 4.0]]  # window 1: future 0 exact and weighted 1
    weights = np.array([[0.25, 0.75], [1.0, 0.0]])
    np.testing.assert_allclose(brier_fde(pred, weights, gt), [1.0 + 0.75 ** 2, 0.0])  # 1.5625, 0


def test_the_noisy_line_turns_the_last_velocity_counterclockwise_and_scales_its_speed():
    """A turn by theta rotates the velocity (vx, vy) to (c vx - s vy, s vx + c vy); the speed scale multiplies it."""
    obs = np.array([[[0.0, 0.0], [0.6, 0.8]]])  # last velocity (0.6, 0.8), speed 1
    turns = (np.array([[np.pi / 2, -np.pi / 2, np.pi]]), np.array([[1.0, 0.5, 2.0]]))
    lines = turned_lines(obs, 2, turns) - obs[0, -1]  # (1, K=3, P=2, 2)
    step = np.array([[-0.8, 0.6], [0.8 * 0.5, -0.6 * 0.5], [-1.2, -1.6]])  # +90 deg, -90 deg at half speed, 180 deg x2
    np.testing.assert_allclose(lines[0], np.stack([step, 2 * step], 1), atol=1e-12)


def test_fitting_the_noisy_line_leaves_out_agents_that_stop_within_the_future():
    """Moving means at least 0.05 m per 0.4 s step both at t0 and on average over the future (end displacement
    > 0.05 m x P): an agent walking 0.1 m/step at t0 that stops after 0.2 m of 12 steps does not count."""
    P = 12
    obs = np.zeros((4, 2, 2))
    obs[:3, 1, 0] = [1.0, 1.0, 0.1]  # two walkers at 1 m/step along +x, one at 0.1 m/step; one standing
    per_step = np.array([np.exp(0.2) * np.array([np.cos(0.3), np.sin(0.3)]),  # turned +0.3, log speed +0.2
                         np.exp(-0.2) * np.array([np.cos(0.3), -np.sin(0.3)]),  # turned -0.3, log speed -0.2
                         [0.2 / P, 0.0], [0.0, 0.0]])  # the stopper: 0.2 m in all; the standing agent
    fut = obs[:, 1, None] + per_step[:, None] * np.arange(1, P + 1)[None, :, None]
    noise = fit_cv_noise(obs, fut)
    assert noise["heading_std"] == pytest.approx(0.3) and noise["log_speed_std"] == pytest.approx(0.2)


def test_the_noisy_line_counts_moving_agents_by_speed_whatever_the_step():
    """Moving means at least 0.125 m/s, not a distance per step: robots at 0.3 m/s sampled at 10 Hz (0.03 m a
    step) are fitted as at 2.5 Hz, not taken for standing agents (which left the reference line's spread)."""
    rng = np.random.default_rng(0)
    n, P = 2000, 30
    th = rng.normal(0, 0.2, n)
    fitted = []
    for dt in (0.1, 0.4):
        step = 0.3 * dt  # metres a step at 0.3 m/s
        obs = np.zeros((n, 2, 2)); obs[:, 1, 0] = step
        vel = np.stack([np.cos(th), np.sin(th)], -1) * step
        fut = obs[:, 1, None, :] + vel[:, None] * np.arange(1, P + 1)[None, :, None]
        fitted.append(fit_cv_noise(obs, fut, dt))
    assert fitted[0]["heading_std"] == pytest.approx(0.2, rel=0.05) and fitted[0] == pytest.approx(fitted[1])
    assert fit_cv_noise(obs * 0.1, fut * 0.1, 0.4) == {"heading_std": 0.35, "log_speed_std": 0.4}  # 0.03 m/s


def test_a_truth_whose_level_equals_p_is_inside_the_p_region():
    """Coverage counts levels <= p (hpd_levels: 'in the p-region exactly when its level is <= p'); by hand."""
    cal = calibration(np.array([0.1, 0.5, 0.5, 0.95]))
    np.testing.assert_allclose(cal["coverage"], [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75, 0.75, 1.0])
    # coverage - p: .15 .05 -.05 -.15 .25 .15 .05 -.05 -.15 .05
    assert cal["error"] == pytest.approx(0.11) and cal["signed_error"] == pytest.approx(0.03)


def test_calibration_reports_the_regions_of_0_1_to_0_9_and_0_95():
    """docs/results.md: the calibration error is the mean |coverage - p| over p = 0.1 ... 0.9, 0.95."""
    expected = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    assert list(CALIBRATION_LEVELS) == expected
    assert calibration(np.linspace(0, 1, 11))["p"] == expected


def test_hpd_levels_rank_the_truth_among_the_draws_by_scipys_scott_kde_leaving_each_draws_own_kernel_out():
    """The oracle, scipy.stats.gaussian_kde (Scott's bandwidth): the level is the share of draws whose density
    without their own kernel, (S pdf(x_i) - K(0)) / (S - 1), is above the truth's, pdf(t)."""
    from scipy.stats import gaussian_kde

    rng = np.random.default_rng(5)
    S = 40
    samples = rng.normal(size=(4, S, 3, 2)) * [1.0, 0.3] @ np.array([[1.0, 0.5], [0.0, 1.0]])  # correlated
    gt = rng.normal(size=(4, 3, 2)) * [1.5, 0.5]
    expected = np.zeros((4, 3))
    for n in range(4):
        for t in range(3):
            kde = gaussian_kde(samples[n, :, t].T)
            own = 1 / (2 * np.pi * np.sqrt(np.linalg.det(kde.covariance)))  # a kernel at its own centre
            at_draws = (S * kde.pdf(samples[n, :, t].T) - own) / (S - 1)
            expected[n, t] = (at_draws > kde.pdf(gt[n, t][:, None])[0]).mean()
    np.testing.assert_allclose(hpd_levels(samples, gt), expected, atol=1e-12)


def test_radial_distances_are_mahalanobis_distances_from_c_in_the_draws_covariance():
    """Correlated draws (spread along x = y): a point's radius is sqrt((p - c)' Sigma^-1 (p - c)), Sigma the
    draws' sample covariance about their mean, computed here with numpy; the draws' own radii come sorted."""
    import torch

    from trajcvae.calibrate import _radii

    rng = np.random.default_rng(4)
    n = rng.normal(size=(2, 300, 2))
    draws = np.stack([2 * n[..., 0] + 0.3 * n[..., 1], 1.5 * n[..., 0] - 0.2 * n[..., 1]], -1) + [3.0, -1.0]
    draws[1] *= [1.0, -1.0]  # the second window's spread runs along x = -y: negative covariance
    c = np.array([[3.5, -0.5], [2.5, 1.5]])  # not the draws' mean
    points = np.array([[[4.5, 0.5], [4.5, -1.5], [3.5, -0.5]], [[3.5, 0.5], [3.5, 2.5], [0.0, 0.0]]])

    def mahalanobis(x: np.ndarray, k: int) -> np.ndarray:
        d = x - c[k]
        return np.sqrt(np.einsum("qi,ij,qj->q", d, np.linalg.inv(np.cov(draws[k].T)), d))

    radii, r = _radii(*(torch.from_numpy(a) for a in (draws, c, points)))
    for k in range(2):
        np.testing.assert_allclose(r[k].numpy(), mahalanobis(points[k], k), rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(radii[k].numpy(), np.sort(mahalanobis(draws[k], k)), rtol=1e-6)


def test_the_radial_cdf_puts_the_ith_nearest_draw_at_level_i_plus_a_half_over_s_with_a_gaussian_tail():
    """F for draw radii 1, 2, 3, 4 (S = 4), by hand: 1/8, 3/8, 5/8, 7/8 at the draws, linear between them and
    from 0 at c; beyond 4, 1 - exp(-k r^2 / 2) through 7/8 at 4, so k = ln 8 / 8 and F(5) = 1 - (1/8)^(25/16).
    F^-1 takes each level back to its radius."""
    import torch

    from trajcvae.calibrate import _cdf, _inverse_cdf, _tail

    radii = torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=torch.float64)
    r = torch.tensor([[0.5, 1.0, 2.0, 2.5, 3.5, 4.0, 5.0]], dtype=torch.float64)
    level = np.array([[1 / 16, 1 / 8, 3 / 8, 1 / 2, 3 / 4, 7 / 8, 1 - (1 / 8) ** (25 / 16)]])
    np.testing.assert_allclose(_tail(radii).numpy(), [[np.log(8) / 8]])
    np.testing.assert_allclose(_cdf(radii, r).numpy(), level, rtol=1e-12)
    np.testing.assert_allclose(_inverse_cdf(radii, torch.from_numpy(level)).numpy(), r.numpy(), rtol=1e-12)
    np.testing.assert_allclose(_inverse_cdf(radii, _cdf(radii, r)).numpy(), r.numpy(), rtol=1e-12)


def test_an_identity_scene_map_leaves_every_draw_where_it_is():
    """G^-1(l) = l (the map's quantiles at the 201 even levels are the levels themselves): every point's
    factor is 1, at the draws' own radii, near c and in the tail, up to 3 times the farthest draw's radius, where
    F(r) rounds to 1 (from 1.7 times in float32, as predict runs it)."""
    import torch

    from trajcvae.calibrate import level_map

    rng = np.random.default_rng(6)
    draws = torch.from_numpy(rng.normal(size=(2, 50, 3, 2)) * [1.0, 0.4])
    c = torch.from_numpy(rng.normal(scale=0.1, size=(2, 3, 2)))
    points = torch.cat([draws[:, :20], c[:, None] + 0.01]
                       + [c[:, None] + x * (draws - c[:, None]) for x in (1.5, 1.8, 2.2, 3.0)], 1)
    identity = torch.from_numpy(np.broadcast_to(np.linspace(0.0, 1.0, 201), (2, 3, 201)).copy())
    np.testing.assert_allclose(level_map(draws, c, points, identity).numpy(), 1.0, rtol=1e-9)
    as_float = [a.float() for a in (draws, c, points, identity)]
    np.testing.assert_allclose(level_map(*as_float).numpy(), 1.0, rtol=1e-4)


def test_a_scene_map_keeps_the_order_of_points_past_the_farthest_draw_in_float32_as_in_float64():
    """A map whose top levels are all but 1 (a scene's past truths far out) sends points just past the farthest
    draw far out; in float32, as predict runs it, 1 - G^-1(F) must not round to 0 there, or points swap order."""
    import torch

    from trajcvae.calibrate import _by_step, _radii, level_map

    torch.manual_seed(1)
    draws, c = torch.randn(1, 200, 1, 2, dtype=torch.float64), torch.zeros(1, 1, 2, dtype=torch.float64)
    last = _radii(*_by_step(draws, c, draws[:, :1]))[0][0, -1]
    ray = torch.tensor([1.0, 0.0], dtype=torch.float64)
    unit = ray / _radii(*_by_step(draws, c, ray.reshape(1, 1, 1, 2)))[1][0, 0]  # radius 1 along the ray
    x = torch.tensor([1.01, 1.03, 1.06, 1.07, 1.08, 1.1, 1.5, 2.0], dtype=torch.float64)
    points = (x[:, None] * last * unit).reshape(1, -1, 1, 2)
    g = np.linspace(0, 1, 201)
    q = 1 - (1 - g) ** 2
    q[-2:] = [1 - 1.2e-7, 1.0]
    q = torch.from_numpy(q).reshape(1, 1, 201)
    wide = level_map(draws, c, points, q)[0, :, 0] * x
    single = level_map(*(a.float() for a in (draws, c, points, q)))[0, :, 0].double() * x
    assert bool((wide.diff() > 0).all())
    np.testing.assert_allclose(single.numpy(), wide.numpy(), rtol=1e-3)  # (1 - 1.2e-7 is 1 - 1.19e-7 in float32)


def test_a_scene_map_adds_ten_even_pseudo_levels_and_starts_at_ten_finished_windows():
    """docs/model.md: G per step '(+ 10 even levels)', 'once 10 windows of the scene have finished by t0'.
    Ten windows whose truths all fell at level 0.02: G^-1 is numpy's quantile of ten 0.02s and 0.05, 0.15,
    ..., 0.95, by hand (20 values, virtual index 19 q): 0.02 at 0, 0.035 at 0.5, 0.76 at 0.9, 0.95 at 1."""
    from trajcvae.calibrate import ScenePast, past_quantiles, unfitted

    scene, done, levels = np.full(10, "a"), np.arange(10, dtype=float), np.full((10, 1), 0.02)
    q = past_quantiles(scene, done, levels, np.array(["a", "a"]), np.array([8.5, 9.0]))  # 9, then 10 finished
    assert q.shape == (2, 1, 201) and np.isnan(q[0]).all()
    np.testing.assert_allclose(q[1, 0, [0, 100, 180, 200]], [0.02, 0.035, 0.76, 0.95])
    past = ScenePast(scene, done, levels)
    assert unfitted(past, np.array(["a", "a"]), np.array([8.5, 9.0])).tolist() == [True, False]


def test_scene_calibration_draws_200_futures_per_window():
    """docs/model.md: a level is measured among 200 draws of p(y|x) at each future step."""
    from trajcvae.calibrate import DRAWS

    assert DRAWS == 200
