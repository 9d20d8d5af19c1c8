"""Prediction: K futures per agent in the documented table, seeded, causal, streamed safely, from safe checkpoints."""
import decimal
import json
import math
import os
import pickle
import re
import struct
import time
import warnings
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import torch

from trajcvae import TrajCVAE, checkpoint
from trajcvae.kset import KSetSampler, _val_min_ade, kmeans_futures, nearest_shares, train_kset
from trajcvae.errors import CheckpointError, DataError, TrajCVAEError, TrajCVAEWarning
from trajcvae.batch import WindowTensors, make_batch
from trajcvae.calibrate import ScenePast
from trajcvae.predict import OUTPUT_COLUMNS, predict_to_file

from tests.helpers import ETH_UCY, ROOT, cli, one_line_error


def test_output_contract(trained, sim_files):
    p = TrajCVAE.load(trained)
    df = p.predict([sim_files["test"]], k=5, every_window=True)
    assert list(df.columns) == OUTPUT_COLUMNS
    n = len(p.make_windows([sim_files["test"]], every_window=True))
    assert len(df) == n * 5 * 12
    assert sorted(df["sample"].unique()) == list(range(5))
    assert sorted(df["step"].unique()) == list(range(1, 13))
    assert (df["frame"] == df["t0"] + df["step"] * 10).all()
    assert np.isfinite(df[["x", "y"]].to_numpy()).all()


def test_latest_mode_one_forecast_per_agent(trained, sim_files):
    p = TrajCVAE.load(trained)
    tracks = pd.read_csv(sim_files["test"])
    df = p.predict(tracks, k=3)
    last = tracks.groupby("agent_id").frame.max()
    got = df.groupby("agent_id").t0.first()
    multi = tracks.groupby("agent_id").size() >= 2
    assert set(got.index) == set(last[multi].index)
    assert (got == last[got.index]).all()


def test_same_seed_same_numbers(trained, sim_files):
    p = TrajCVAE.load(trained)
    a = p.predict([sim_files["test"]], k=4, seed=3)
    b = p.predict([sim_files["test"]], k=4, seed=3)
    c = p.predict([sim_files["test"]], k=4, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a[["x", "y"]], c[["x", "y"]])
    # torch's CPU generator keeps a seed's low 32 bits: a seed beyond them is given to it as a digest, so
    # 3 and 2**32 + 3 are different seeds (a seed below 2**32 is itself, as the published runs used it).
    from trajcvae.config import torch_seed

    far = p.predict([sim_files["test"]], k=4, seed=2 ** 32 + 3)
    assert not np.allclose(a[["x", "y"]], far[["x", "y"]])
    assert torch_seed(3) == 3 and torch_seed(2 ** 32 + 3) != 3 and torch_seed(2 ** 63 - 1) < 2 ** 32


def test_full_draws_are_the_same_however_little_memory_is_free(trained, sim_files, monkeypatch):
    """A machine with less free memory draws fewer windows per pass; the numbers must not change: a window's
    full draws (evaluate's calibration and density estimates read them), plain or scene-calibrated, and its
    plain futures."""
    p = TrajCVAE.load(trained)
    w = p.make_windows([sim_files["test"]], every_window=True)
    w = w.subset(np.arange(0, len(w), 3))  # a third of them (scene_past draws for each): many passes of 3 still
    past = p.scene_past(w, futures="full")
    runs = {}
    for fit in (None, 3):  # windows per pass: all of a block (plenty free), or 3
        if fit:
            monkeypatch.setattr(TrajCVAE, "_windows_that_fit", lambda self, draws, *given: fit)
        runs[fit] = [p.sample(w, k=6, seed=2, full=True, batch_size=8), p.sample(w, k=6, seed=2, full=True),
                     p.sample(w, k=6, seed=2, full=True, past=past), p.sample(w, k=6, seed=2)] + [
            p.sample_kset(w, k=6, seed=2, kset="none", futures="full", past=fitted, batch_size=8)[0]
            for fitted in (None, past)]  # predict's full draws, its noise the same for every window
    assert len(w) > 8
    for roomy, tight in zip(runs[None], runs[3]):
        # float32 sums differ by pass size in their last bits, which the scene's maps stretch to ~1e-4
        np.testing.assert_allclose(roomy, tight, atol=1e-3)
    assert not np.allclose(runs[None][1], runs[None][3])  # full draws carry the decoder's noise


def test_calibration_of_any_number_of_windows_fits_in_memory_with_the_numbers_of_one_call(trained, sim_files,
                                                                                         monkeypatch):
    """evaluate's calibration draws a block of windows at a time and keeps only their levels: windows whose
    draws all together would not fit in the free memory are measured, with the numbers of one call."""
    import trajcvae.evaluate as evaluate_module
    import trajcvae.predict as predict_module
    from trajcvae.metrics import calibration, hpd_levels

    p = TrajCVAE.load(trained)
    w = p.make_windows([sim_files["test"]], every_window=True)
    past = p.scene_past(w, futures="full")
    w = w.subset(np.arange(0, len(w), 6))  # every 6th: fewer density estimates, past and blocks as before
    # 10 windows a block, 3 where a scene's fit decodes its draws beside them: the blocks of one call, and of
    # parts of 9 windows, fall at the same windows.
    monkeypatch.setattr(evaluate_module, "SAMPLE_BLOCK", 10)
    monkeypatch.setattr(predict_module, "SAMPLE_BLOCK", 10)  # (`sample_pieces`' pieces)
    whole = [hpd_levels(p.sample(w, k=100, seed=1, full=True, batch_size=10, past=fit), w.fut) for fit in (None, past)]
    monkeypatch.setattr(predict_module, "free_memory", lambda: 40 * 100 * 12 * predict_module.SAMPLE_ROW_BYTES)
    assert len(w) > 40  # all windows' draws need more than half the free memory, a block's fit
    for fit, levels in zip((None, past), whole):
        got = evaluate_module.calibration_of(p, w, draws=100, seed=1, past=fit)
        assert got["final"] == calibration(levels[:, -1]) and got["all_steps"] == calibration(levels)


def test_a_long_calibration_is_said_with_its_time_before_it_runs(trained, sim_files, monkeypatch):
    """evaluate times the first windows' calibration (its density estimate grows with draws squared) and,
    where the rest would take a minute or more, says so with how to skip it; a short one says nothing."""
    import itertools
    import types

    import trajcvae.evaluate as evaluate_module

    p = TrajCVAE.load(trained)
    w = p.make_windows([sim_files["test"]], every_window=True)
    w = w.subset(np.arange(evaluate_module.TIMED_WINDOWS + 20))  # windows after the timed ones
    said = []
    for step in (0.01, 1000.0):  # a clock that moves this many seconds a reading: a fast machine, a slow one
        ticks = itertools.count(0.0, step)
        monkeypatch.setattr(evaluate_module, "clock", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
        evaluate_module.calibration_of(p, w, draws=100, log=said.append)
        assert len(said) == (step > 1)
    assert len(said) == 1 and said[0].startswith(f"calibration: 100 full draws for each of {len(w):,} windows, "
                                                 "about ") and said[0].endswith(
        " min (--calibration 0 skips it, a smaller --calibration is faster)")


def test_an_in_memory_table_too_big_for_the_free_memory_is_refused_before_it_is_drawn(trained, sim_files,
                                                                                      monkeypatch):
    import trajcvae.predict as predict_module

    model = TrajCVAE.load(trained)
    rows = len(model.make_windows([sim_files["test"]])) * 50 * 12
    monkeypatch.setattr(predict_module, "free_memory", lambda: rows * predict_module.TABLE_ROW_BYTES)  # half fits
    with pytest.raises(TrajCVAEError, match=f"^k 50: a table of {rows:,} rows .* use a smaller k, or "
                                           "trajcvae\\.predict\\.predict_to_file"):
        model.predict([sim_files["test"]], k=50)
    assert len(model.predict([sim_files["test"]], k=20)) == rows // 50 * 20


def test_samples_too_many_for_the_free_memory_are_refused_before_they_are_drawn(trained, sim_files, monkeypatch):
    """`model.sample` returns one array of every window's futures: one that would not fit is refused in one
    line naming k, not killed by the system midway; one that fits is drawn."""
    import trajcvae.predict as predict_module

    model = TrajCVAE.load(trained)
    w = model.make_windows([sim_files["test"]], every_window=True)
    rows = len(w) * 50 * 12
    monkeypatch.setattr(predict_module, "free_memory", lambda: rows * predict_module.SAMPLE_ROW_BYTES)  # half fits
    with pytest.raises(TrajCVAEError, match=f"^k=50: {len(w):,} windows of 50 futures need about .* use a smaller "
                                            r"k, or fewer windows a call \(windows.subset\)$"):
        model.sample(w, k=50)
    assert model.sample(w, k=20).shape == (len(w), 20, 12, 2)
    assert model.sample(w.subset(np.arange(len(w) // 2)), k=50).shape[:2] == (len(w) // 2, 50)


def test_draws_too_many_for_the_free_memory_are_refused_up_front_by_the_option_that_asks_for_them(
        trained, sim_files, monkeypatch):
    """A K-set's --draws is named as such (not -k) by evaluate and by the live predictor and server at start,
    not in every answer; --calibration's density estimate is checked too."""
    import trajcvae.evaluate as evaluate_module
    import trajcvae.predict as predict_module
    from trajcvae import OnlinePredictor

    model = TrajCVAE.load(trained)
    monkeypatch.setattr(predict_module, "free_memory", lambda: 2 ** 24)  # 16 MiB
    monkeypatch.setattr(evaluate_module, "free_memory", lambda: 2 ** 24)
    with pytest.raises(TrajCVAEError, match="^draws=1000000: drawing that many futures for an agent needs about .* "
                                            "GiB, more than half of the"):
        evaluate_module.evaluate(model, [sim_files["test"]], k=2, kset="kmeans", draws=10 ** 6, calibration_draws=0)
    with pytest.raises(TrajCVAEError, match="^draws=1000000: "):
        OnlinePredictor(model, k=2, kset="kmeans", draws=10 ** 6)
    with pytest.raises(TrajCVAEError, match="^calibration_draws=2000: the density estimate over that many draws"):
        evaluate_module.evaluate(model, [sim_files["test"]], k=2, calibration_draws=2000)
    server = pytest.importorskip("trajcvae.server")
    with pytest.raises(TrajCVAEError, match="^draws=1000000: "):
        server.create_app(model, k=2, kset="kmeans", draws=10 ** 6)
    # The noisy straight line's draws (windows x K, taken at once) are checked too, before they are drawn, and
    # the CLI names its own -k.
    windows = len(model.make_windows([sim_files["test"]], every_window=True))
    k = 2 ** 23 // ((16 + 12 * predict_module.SAMPLE_ROW_BYTES) * windows) * 3  # 1.5 times what may be taken
    one_line_error(cli("evaluate", trained, sim_files["test"], "-k", k, "--calibration", 0),
                   f"error: -k {k}: {k} futures for each of {windows:,} windows at a time, and the noisy straight "
                   f"line's for all {windows:,}, need about", "use a smaller -k")
    r = cli("evaluate", trained, sim_files["test"], "--kset", "kmeans", "--draws", 10 ** 6, "--calibration", 0)
    one_line_error(r, "error: --draws 1000000: drawing that many futures for an agent needs about")
    assert r.output.startswith("error: ")  # before the data is read


def test_free_memory_is_known_without_linuxs_meminfo(monkeypatch):
    """macOS and Windows have no /proc/meminfo: the memory checks read the system's own account (sysconf's
    available or, at least, all pages, which a refusal then calls memory, not free) instead of giving up."""
    import trajcvae.predict as predict_module

    monkeypatch.setattr(predict_module, "MEMINFO", "/nonexistent/meminfo")
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    free = predict_module.free_memory()
    assert free is not None and 0 < free <= total and "free" in predict_module.over_half(2 * free, free)
    real = os.sysconf  # macOS: all pages, not the available ones, and the refusals say so
    monkeypatch.setattr(os, "sysconf", lambda name: real(name) if name != "SC_AVPHYS_PAGES" else real("nonesuch"))
    free = predict_module.free_memory()
    assert free == total and predict_module.over_half(free, free).endswith(f"{free / 2 ** 30:.1f} GiB of memory")


def test_a_scene_past_reuses_the_draws_of_the_same_window_and_only_those(trained, sim_files, monkeypatch):
    """`scene_past(drawn=)` reads a window's levels among the draws its map read when it was predicted
    (`sample_kset(pools=)`): the levels `scene_past` draws anew, without drawing. Draws given for another
    window are not taken: that window's are drawn."""
    p = TrajCVAE.load(trained)
    w = p.make_windows([sim_files["test"]], every_window=True)
    w = w.subset(np.arange(0, len(w), 3))  # a third of them: scene_past draws for each, three times here
    past = p.scene_past(w, seed=2)
    pools = []
    p.sample_kset(w, k=6, seed=2, kset="none", past=past, batch_size=16, pools=pools)
    keys, draws = (torch.cat(part) for part in zip(*pools))
    drawn = list(zip(keys, draws))
    assert len(drawn) == len(w) > 20
    calls = []
    real = p._pool
    monkeypatch.setattr(p, "_pool", lambda cv, ctx, seed, full: calls.append(len(ctx)) or real(cv, ctx, seed, full))
    again = p.scene_past(w, seed=2, drawn=drawn)
    np.testing.assert_allclose(again.levels, past.levels, atol=1e-4)  # float32 sums of another pass size
    assert calls == []
    shifted = p.scene_past(w, seed=2, drawn=drawn[1:] + drawn[:1])  # each window given another's draws
    np.testing.assert_allclose(shifted.levels, past.levels, atol=1e-4)
    assert sum(calls) == len(w)
    with pytest.raises(TrajCVAEError, match="one entry per window"):
        p.scene_past(w, drawn=drawn[1:])


@pytest.mark.parametrize("calibrate, futures", [("none", "mean"), ("scene", "mean"), ("none", "full"),
                                                ("scene", "full")])
@pytest.mark.filterwarnings("ignore::trajcvae.TrajCVAEWarning")  # futures moved far on purpose
def test_prediction_at_t0_ignores_everything_after_t0(trained, sim_files, calibrate, futures):
    """Cutting the file at t0 and predicting gives exactly what the full file gives for that t0; with
    `--calibrate scene` too, whose map reads only the windows finished by t0; and full draws, whose noise
    is the same for every window wherever it stands in the call."""
    p = TrajCVAE.load(trained)
    tracks = pd.read_csv(sim_files["test"])
    full = p.predict(tracks, k=6, seed=1, every_window=True, calibrate=calibrate, futures=futures)
    t0 = int(full.t0.mode().iloc[0])  # the t0 with the most agents
    if calibrate == "scene":  # not vacuous: the scene's past maps the draws at t0
        w = p.make_windows(tracks, every_window=True)
        assert not np.isnan(p.scene_past(w, seed=1).quantiles(w.scene, w.t0)[w.t0 == t0]).any()
    cut = tracks[tracks.frame <= t0]
    # Also disturb what happens after t0, to be sure none of it is used.
    tracks_noisy = tracks.copy()
    late = tracks_noisy.frame > t0
    tracks_noisy.loc[late, ["x", "y"]] += np.random.default_rng(0).normal(0, 5, (late.sum(), 2))
    from_cut = p.predict(cut, k=6, seed=1, calibrate=calibrate, futures=futures)
    from_cut = from_cut[from_cut.t0 == t0]
    from_full = full[full.t0 == t0]
    from_noisy = p.predict(tracks_noisy, k=6, seed=1, every_window=True, calibrate=calibrate, futures=futures)
    from_noisy = from_noisy[from_noisy.t0 == t0]
    assert len(from_full) > 0
    key = ["agent_id", "sample", "step"]
    merged = from_full.merge(from_cut, on=key, suffixes=("", "_cut"))
    assert len(merged) == len(from_full)
    # Windows batched with others differ in float32's last bits, which the scene's maps stretch to ~1e-4.
    atol = 1e-3 if calibrate == "scene" else 1e-5
    np.testing.assert_allclose(merged.x, merged.x_cut, atol=atol)
    np.testing.assert_allclose(merged.y, merged.y_cut, atol=atol)
    np.testing.assert_allclose(from_full[["x", "y"]], from_noisy[["x", "y"]], atol=atol)


@pytest.mark.skipif(not ETH_UCY.is_dir(), reason="needs ../shared/datasets/eth_ucy")
def test_full_futures_are_draws_of_the_distribution_whose_calibration_evaluate_reports(tmp_path):
    """predict's futures="full" draws the whole p(y|x): the truth falls in their highest-density regions as
    often as evaluate's calibration says (up to the Monte Carlo noise of other draws); the mean paths, the
    default, are narrower. The CLI writes the same draws, and evaluate scores them where asked. Their noise
    is a stream of its own, the seed's. K-sets are of mean paths: full draws with one are refused."""
    import trajcvae.evaluate as evaluate_module
    from trajcvae.metrics import calibration, hpd_levels

    p = TrajCVAE.load("pedestrian")
    rows = pd.read_csv(ETH_UCY / "zara1" / "test" / "crowds_zara01.txt", sep=r"\s+", header=None,
                       names=["frame", "agent_id", "x", "y"])
    rows = rows[rows.frame < rows.frame.min() + 1500]
    w = p.make_windows(rows, every_window=True)
    where = pd.Series(np.arange(len(w)), index=pd.MultiIndex.from_arrays([w.agent_id, w.t0]))
    told = evaluate_module.calibration_of(p, w, draws=100, seed=0)["final"]
    got = {}
    for futures in ("mean", "full"):
        table = p.predict(rows, k=100, seed=0, every_window=True, futures=futures)
        first = table.iloc[::100 * 12]  # a window's rows: its 100 futures of 12 steps
        truth = w.fut[where.loc[list(zip(first.agent_id, first.t0))].to_numpy()]
        assert len(first) == len(w) > 80
        got[futures] = calibration(hpd_levels(table[["x", "y"]].to_numpy().reshape(len(w), 100, 12, 2), truth)[:, -1])
        fewer = p.predict(rows, k=5, seed=0, every_window=True, futures=futures)  # -k 5: the first 5 of -k 100
        np.testing.assert_allclose(fewer[["x", "y"]], table[table["sample"] < 5][["x", "y"]], atol=1e-5)
    # The draws share their standard normals across windows, so the Monte Carlo noise does not average out.
    np.testing.assert_allclose(got["full"]["coverage"], told["coverage"], atol=0.05)
    assert abs(got["full"]["error"] - told["error"]) < 0.02
    assert got["mean"]["signed_error"] < got["full"]["signed_error"] - 0.01
    # The command line writes them, and says so; evaluate scores what it is asked for.
    rows.to_csv(tmp_path / "rows.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "rows.csv", "-k", 4, "--every-window", "--futures", "full", "--out",
            tmp_path / "full.csv")
    assert r.exit_code == 0 and f"{len(w)} windows x 4 full draws -> " in r.output, r.output
    np.testing.assert_allclose(pd.read_csv(tmp_path / "full.csv")[["x", "y"]],
                               p.predict(rows, k=4, every_window=True, futures="full")[["x", "y"]], atol=1e-4)
    from trajcvae.metrics import min_ade_fde
    scored = {f: evaluate_module.evaluate(p, rows, k=4, calibration_draws=0, futures=f) for f in ("mean", "full")}
    drawn = min_ade_fde(p.sample_kset(w, k=4, kset="none", futures="full")[0], w.fut)[0].mean()
    assert scored["full"]["futures"] == "full"  # and the step and horizon its FDE is at
    assert {key: scored["full"][key] for key in ("dt", "obs_len", "pred_len")} == {"dt": 0.4, "obs_len": 8,
                                                                                   "pred_len": 12}
    assert scored["full"]["scenes"]["overall"]["min_ade"] == pytest.approx(drawn)
    assert scored["mean"]["scenes"]["overall"]["min_ade"] != pytest.approx(drawn)
    r = cli("evaluate", "pedestrian", tmp_path / "rows.csv", "-k", 4, "--calibration", 0, "--futures", "full")
    assert r.exit_code == 0 and "best of K=4, full draws of p(y|x), ADE/FDE" in r.output, r.output
    # The noise: the seed's own stream, not z's draws again.
    noise = p._window_noise(3, 5).reshape(5, -1)
    z = torch.randn(5, p.model.z_dim, generator=torch.Generator().manual_seed(3))
    assert not torch.allclose(noise[:, :12], z[:, :12]) and not torch.equal(noise, p._window_noise(4, 5).reshape(5, -1))
    with pytest.raises(TrajCVAEError, match=r"^futures='full' draws plain futures, and a K-set \(kset='kmeans'\) is "
                       r"made of mean paths: give kset='none' with it"):
        p.predict(rows, futures="full", kset="kmeans")
    with pytest.raises(TrajCVAEError, match=r"^futures must be one of mean, full \(got 'FULL'\)"):
        p.predict(rows, futures="FULL")
    with pytest.raises(TrajCVAEError, match=r"^futures must be one of mean, full \(got 'FULL'\)"):
        p.sample_kset(w, kset="none", futures="FULL")
    for mode in ("kset", "calibrate", "futures"):  # an array, or a Series, is no mode: one line
        with pytest.raises(TrajCVAEError, match=rf"^{mode} must be one of .* \(got a Series\)$"):
            p.predict(rows, **{mode: pd.Series(["none"] * 40)})


def test_agents_who_appear_after_t0_change_nothing_a_window_at_t0_reads(sim_files):
    """A crowd that arrives after T leaves every window made at t0 <= T as it was, to the bit (its
    neighbour slots do not widen with the file's busiest later frame), and so its futures, up to the
    rounding of windows batched beside it (docs/model.md)."""
    p = TrajCVAE.load("pedestrian")
    tracks = pd.read_csv(sim_files["test"])
    tracks = tracks[tracks.agent_id.isin(tracks.agent_id.unique()[:8])]  # a quiet scene: few neighbours
    T = int(tracks.frame.quantile(0.5))
    crowd = pd.DataFrame([(tracks.scene.iloc[0], f, 900 + a, 1.0 + 0.04 * (f - T) + 0.6 * (a % 5), 0.6 * (a // 5))
                          for a in range(10) for f in range(T + 10, int(tracks.frame.max()) + 1, 10)],
                         columns=["scene", "frame", "agent_id", "x", "y"])
    both = pd.concat([tracks, crowd], ignore_index=True)
    for fps in (None, 25.0):  # frame ids as steps, and resampled at a known rate
        a, b = (p.make_windows(t, every_window=True, fps=fps) for t in (tracks, both))
        early = (b.t0 <= T) & (np.asarray(b.agent_id, dtype=int) < 900)
        mine = a.t0 <= T
        assert mine.sum() > 0 and a.nbr.shape[1] == b.nbr.shape[1] == p.config.data.max_neighbors
        for name in ("obs", "nbr", "mem"):
            np.testing.assert_array_equal(getattr(a, name)[mine], getattr(b, name)[early])
        assert p.make_windows(tracks, fps=fps).nbr.shape[1] == p.config.data.max_neighbors  # latest windows too
    before, after = (p.predict(t, k=6, seed=2, every_window=True) for t in (tracks, both))
    key = ["agent_id", "t0", "sample", "step"]
    before = before[before.t0 <= T].sort_values(key).reset_index(drop=True)
    after = after[(after.t0 <= T) & (after.agent_id < 900)].sort_values(key).reset_index(drop=True)
    np.testing.assert_allclose(before[["x", "y"]], after[["x", "y"]], atol=1e-5, rtol=0)


def test_agent_prediction_does_not_depend_on_far_agents(trained, sim_files):
    p = TrajCVAE.load(trained)
    tracks = pd.read_csv(sim_files["test"])
    far = tracks.copy()
    far["agent_id"] += 10_000
    far["x"] += 1000.0
    both = p.predict(pd.concat([tracks, far]), k=3)
    alone = p.predict(tracks, k=3)
    mine = both[both.agent_id < 10_000].reset_index(drop=True)
    np.testing.assert_allclose(mine[["x", "y"]], alone[["x", "y"]], atol=1e-5)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_checkpoint_that_would_run_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"format": 1, "config": {}, "x": Evil()}, f, protocol=2)  # as torch.save's old format pickles
    with pytest.raises(CheckpointError, match="refused to load"):
        TrajCVAE.load(path)
    with open(path, "wb") as f:  # a pickle of Python's own protocol is no torch file: not loaded at all
        pickle.dump({"format": 1, "config": {}, "x": Evil()}, f)
    with pytest.raises(CheckpointError, match=r"evil.pt: not a trajcvae checkpoint \(a Python pickle, not a file "
                                              r"written by torch.save\)$"):
        TrajCVAE.load(path)


def test_incompatible_or_foreign_checkpoints(tmp_path, trained):
    ckpt = torch.load(trained, weights_only=True)
    ckpt["format"] = 999
    torch.save(ckpt, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="incompatible"):
        TrajCVAE.load(tmp_path / "future.pt")
    torch.save({**ckpt, "format": 0}, tmp_path / "past.pt")  # an older layout is no more readable than a newer
    with pytest.raises(CheckpointError, match=r"\(format 0\) is incompatible with this trajcvae .* \(format 1\)"):
        TrajCVAE.load(tmp_path / "past.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a trajcvae checkpoint"):
        TrajCVAE.load(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match=r"not a trajcvae checkpoint \(not a file written by torch.save\)$"):
        TrajCVAE.load(tmp_path / "junk.pt")
    (tmp_path / "preds.csv").write_text("scene,agent_id,t0,sample,step,frame,x,y\n")  # a table where a model goes
    one_line_error(cli("evaluate", tmp_path / "preds.csv", tmp_path / "preds.csv"), "not a trajcvae checkpoint (not "
                   "a file written by torch.save); a model (a .pt, or a built-in name: pedestrian) goes first, the "
                   "tracks after it; `trajcvae visualize` also takes a predictions table (.csv or .parquet) in the "
                   "model's place")
    (tmp_path / "cut.pt").write_bytes(trained.read_bytes()[:5000])  # a torch file cut short
    with pytest.raises(CheckpointError, match="not a readable trajcvae checkpoint"):
        TrajCVAE.load(tmp_path / "cut.pt")
    with pytest.raises(CheckpointError, match="not found"):
        TrajCVAE.load(tmp_path / "missing.pt")


@pytest.mark.parametrize("version, safe", [("2.5.1+cu121", False), ("1.13.1", False), ("2.6.0", True),
                                           ("2.10.0", True), ("3.0.0a0", True)])
def test_a_torch_whose_weights_only_loading_can_run_code_is_refused_by_its_version(monkeypatch, version, safe):
    """torch before 2.6 can be made to run code by a weights-only load (CVE-2025-32434): such a torch is named,
    with the version to install; 2.10 is no older than 2.6."""
    monkeypatch.setattr(checkpoint.torch, "__version__", version)
    if safe:
        assert checkpoint.load(ROOT / "trajcvae" / "models" / "pedestrian.pt")["model"]
    else:
        with pytest.raises(CheckpointError, match=f"torch {re.escape(version)} cannot load checkpoints safely .*"
                                                  r"install torch>=2.6$"):
            checkpoint.load(ROOT / "trajcvae" / "models" / "pedestrian.pt")


def test_builtin_pedestrian_model(sim_files):
    model = TrajCVAE.load("pedestrian")
    df = model.predict([sim_files["test"]], k=3)
    assert len(df) > 0 and list(df.columns) == OUTPUT_COLUMNS
    out = sim_files["test"].parent / "ped.csv"
    r = cli("predict", "pedestrian", sim_files["test"], "-k", 2, "--out", out)
    assert r.exit_code == 0, r.output
    pd.testing.assert_frame_equal(pd.read_csv(out), model.predict([sim_files["test"]], k=2).astype(
        {"scene": str}), check_dtype=False, atol=1e-3)


def test_a_file_named_as_a_builtin_model_is_said_to_be_unread(tmp_path, sim_files, monkeypatch):
    """`pedestrian` names the built-in model even where a file of that name lies in the working folder: a
    warning says that file is not read and how to load it (./pedestrian, which loads the file)."""
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "pedestrian"
    mine.write_bytes((ROOT / "trajcvae" / "models" / "pedestrian.pt").read_bytes())
    r = cli("predict", "pedestrian", sim_files["test"], "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and ("warning: 'pedestrian' is a built-in model's name, so the file pedestrian here is "
                                 "not read; give ./pedestrian to load that file") in r.output, r.output
    r = cli("predict", "./pedestrian", sim_files["test"], "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and "warning" not in r.output, r.output
    mine.unlink()
    mine.mkdir()  # a folder of that name (of data, say) is no model: nothing to say
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TrajCVAE.load("pedestrian")


@pytest.mark.skipif(not ETH_UCY.is_dir(), reason="needs ../shared/datasets/eth_ucy")
def test_the_builtin_model_scores_zara01_as_it_always_has():
    """The shipped model's numbers on a real file, pinned: a change anywhere on the way from tracks to futures
    (neighbour offsets, the constant-velocity base, the masks, the scene memory's lags) moves them. The same
    seed gives the same draws; the tolerance only allows for another CPU's float rounding."""
    from trajcvae.evaluate import evaluate

    scores = evaluate(TrajCVAE.load("pedestrian"), [ETH_UCY / "zara1" / "test" / "crowds_zara01.txt"], k=20, seed=0,
                      calibration_draws=0)["scenes"]["overall"]
    assert scores["windows"] == 2356
    keys = ("min_ade", "min_fde", "ml_ade", "ml_fde", "cv_ade", "cv_fde", "ncv_min_ade", "ncv_min_fde")
    np.testing.assert_allclose([scores[key] for key in keys],
                               [0.19229, 0.33863, 0.39041, 0.83443, 0.42722, 0.95238, 0.36495, 0.66700], atol=2e-4)


def test_evaluate_s_overall_row_is_the_mean_over_all_windows_not_over_scenes(trained, sim_files):
    """Two scenes of unequal size: the overall row weighs each scene by its windows, in every column."""
    from trajcvae.evaluate import evaluate

    table = evaluate(TrajCVAE.load(trained), [sim_files["test"], sim_files["train"]], k=3, seed=0,
                     calibration_draws=0)["scenes"]
    scenes = [row for name, row in table.items() if name != "overall"]
    assert len(scenes) == 2 and scenes[0]["windows"] != scenes[1]["windows"]
    n = np.array([row["windows"] for row in scenes])
    for key in ("min_ade", "min_fde", "cv_ade", "cv_fde", "ml_ade"):
        assert table["overall"][key] == pytest.approx(n @ [row[key] for row in scenes] / n.sum(), rel=1e-9), key
    # The noisy straight lines are drawn with --seed too, as the model's futures are.
    other = evaluate(TrajCVAE.load(trained), [sim_files["test"], sim_files["train"]], k=3, seed=1,
                     calibration_draws=0)["scenes"]["overall"]
    assert other["ncv_min_ade"] != table["overall"]["ncv_min_ade"] and other["cv_ade"] == table["overall"]["cv_ade"]


def test_builtin_model_reads_a_three_position_track_like_a_full_one():
    # A tracker hands over an agent seen for 3 steps: it should be predicted like the same straight walk
    # seen for 8, not as one about to stop (what the NaN-padded history gave: median 1.0 m of 4.8 m).
    model = TrajCVAE.load("pedestrian")
    walk = pd.DataFrame({"frame": np.arange(8) * 10, "agent_id": 1, "x": 0.48 * np.arange(8), "y": 0.0})
    full = model.predict(walk, k=20)
    short = model.predict(walk.iloc[5:], k=20)
    np.testing.assert_allclose(short[["x", "y"]], full[["x", "y"]], atol=1e-4)
    model.config.data.fill_short_history = False
    unfilled = model.predict(walk.iloc[5:], k=20)
    end = lambda df: np.median(df[df.step == 12].x) - 0.48 * 7  # noqa: E731  median metres walked
    assert end(unfilled) < 0.5 * end(full)


# --- big files: streamed, atomic output ---------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("every", [False, True])
def test_streamed_prediction_equals_the_in_memory_one(tmp_path, trained, sim_files, suffix, every):
    out = tmp_path / f"p{suffix}"
    r = predict_to_file(trained, [sim_files["test"], sim_files["val"]], out, k=3, seed=2, every_window=every,
                        chunk=500 if every else 20)  # several pieces, cutting through scenes
    ref = TrajCVAE.load(trained).predict([sim_files["test"], sim_files["val"]], k=3, seed=2, every_window=every)
    got = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert r.rows == len(ref) == len(got) and r.n_windows == len(ref) // (3 * 12)
    assert list(got.columns) == list(ref.columns)
    for col in ("agent_id", "t0", "sample", "step", "frame"):
        np.testing.assert_array_equal(got[col].to_numpy(), ref[col].to_numpy())
    assert list(got.scene.astype(str)) == list(ref.scene.astype(str))
    np.testing.assert_allclose(got[["x", "y"]].to_numpy(), ref[["x", "y"]].to_numpy(), atol=1e-4)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp file left behind


def test_failed_prediction_leaves_the_previous_output_untouched(tmp_path, trained, sim_files, monkeypatch):
    out = tmp_path / "p.csv"
    out.write_text("the previous, complete output\n")
    calls = []
    real = TrajCVAE._draw

    def fail_on_second_piece(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise TrajCVAEError("simulated failure mid-way")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(TrajCVAE, "_draw", fail_on_second_piece)
    with pytest.raises(TrajCVAEError, match="mid-way"):
        predict_to_file(trained, [sim_files["test"]], out, k=2, every_window=True, chunk=20)
    assert out.read_text() == "the previous, complete output\n"
    assert [p.name for p in tmp_path.iterdir()] == ["p.csv"]


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_an_output_the_system_refuses_to_write_is_one_line_naming_it(tmp_path, trained, sim_files, monkeypatch,
                                                                     command):
    """A full disk (or a quota, or a folder that cannot be written) fails the write: one line naming the
    output and the system's reason, exit 1, the previous output untouched, no temp file."""
    import errno

    out = tmp_path / ("p.csv" if command == "predict" else "e.json")
    out.write_text("the previous, complete output\n")
    real = os.fsync

    def full(fd):
        real(fd)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    opts = ["--out", out] if command == "predict" else ["--calibration", "0", "--json", out]
    r = cli(command, trained, sim_files["test"], "-k", 2, *opts)
    if command == "predict":
        one_line_error(r, str(out), "No space left on device")
    else:  # evaluate prints its table before it writes the JSON
        errors = [line for line in r.output.splitlines() if line.startswith("error: ")]
        assert r.exit_code == 1 and "Traceback" not in r.output and len(errors) == 1, r.output
        assert str(out) in errors[0] and "No space left on device" in errors[0]
    assert out.read_text() == "the previous, complete output\n"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_failed_write_removes_its_temp_file_and_the_folders_it_made_but_no_other(tmp_path):
    """A writer that fails half-way leaves neither its temp file nor the folders made for the output; a folder
    that was there before stays, with what it held."""
    from trajcvae import atomic

    def half(f):
        f.write(b"half of it")
        raise TrajCVAEError("simulated failure mid-way")

    (tmp_path / "there").mkdir()
    (tmp_path / "there" / "other.txt").write_text("kept")
    for out in (tmp_path / "new" / "sub" / "p.bin", tmp_path / "there" / "new" / "p.bin"):
        with pytest.raises(TrajCVAEError, match="mid-way"):
            atomic.write_bytes(out, half)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["there", "there/other.txt"]


def test_a_new_output_gets_a_plain_open_s_permissions_and_a_replaced_one_keeps_its_own(tmp_path):
    """The temp file is private (mkstemp's 0o600): a new output gets what open() gives under the umask, a
    replaced one the permissions it had, not the temp file's."""
    from trajcvae import atomic

    umask = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "new.txt", "x")
        os.umask(0o077)
        atomic.write_text(tmp_path / "private.txt", "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "private.txt").stat().st_mode & 0o777 == 0o600
    shared = tmp_path / "shared.txt"
    shared.write_text("old")
    shared.chmod(0o640)
    atomic.write_text(shared, "new")
    assert shared.read_text() == "new" and shared.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.txt", "private.txt", "shared.txt"]


def test_a_failed_write_names_the_output_and_a_failed_read_during_it_names_the_file_read(tmp_path):
    """An OSError of the write itself (its temp file, or none named: a full disk) names the output, not the temp
    file; one of another file read while writing (an input gone) is that file's, and names it."""
    import errno

    from trajcvae import atomic

    out = tmp_path / "p.csv"
    with pytest.raises(TrajCVAEError, match=f"^{re.escape(str(out))}: cannot write it: No space left on device$"):
        with atomic.atomic_path(out) as tmp:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
    with pytest.raises(FileNotFoundError) as e:
        with atomic.atomic_path(out):
            (tmp_path / "gone.csv").read_text()
    assert e.value.filename == str(tmp_path / "gone.csv")
    assert list(tmp_path.iterdir()) == []
    # A writer whose own error hides the system's (matplotlib's PDF writer: an AttributeError while handling it,
    # torch's: a RuntimeError from it).
    with pytest.raises(TrajCVAEError, match=f"^{re.escape(str(out))}: cannot write it: File too large$"):
        with atomic.atomic_path(out) as tmp:
            try:
                raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))
            except OSError:
                raise AttributeError("'Stream' object has no attribute 'pos'")
    with pytest.raises(TrajCVAEError, match=f"^{re.escape(str(out))}: cannot write it: File too large$"):
        with atomic.atomic_path(out) as tmp:
            raise RuntimeError("unexpected pos") from OSError(errno.EFBIG, os.strerror(errno.EFBIG))
    # One its raiser set aside (`from None`: a file read inside the write was no gzip) is not the write's.
    with pytest.raises(TrajCVAEError, match="^labels.gz: not a gzip file$"):
        with atomic.atomic_path(out) as tmp:
            try:
                raise OSError("Not a gzipped file")
            except OSError:
                raise TrajCVAEError("labels.gz: not a gzip file") from None
    assert list(tmp_path.iterdir()) == []
    # A folder that takes new files but lets none go (chattr +a): the write's error, and the temp file left named.
    with pytest.raises(TrajCVAEError, match=f"^{re.escape(str(out))}: cannot write it: Operation not permitted "
                                            r"\(its temp file .*\.tmp is left: remove it\)$"), \
            mock.patch.object(Path, "unlink", side_effect=PermissionError(errno.EPERM, "Operation not permitted")):
        with atomic.atomic_path(out) as tmp:
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(tmp))


def test_a_temp_file_whose_process_id_now_names_another_process_is_stale(tmp_path):
    """A process id is reused once its process is gone: a temp file named by this process's id but another start
    time was left by a writer that is gone, and goes at the next write; one with this process's own start stays."""
    from trajcvae.atomic import process_started, write_text

    pid, started = os.getpid(), process_started(os.getpid())
    if not started:
        pytest.skip("no process start times here (/proc)")
    reused = tmp_path / f".p.txt.{pid}-{int(started) + 1}.r3us3d00.tmp"
    mine = tmp_path / f".p.txt.{pid}-{started}.w0rk1ng_.tmp"
    for f in (reused, mine):
        f.write_text("half")
        os.utime(f, (time.time() - 3600, time.time() - 3600))
    write_text(tmp_path / "p.txt", "whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["p.txt", mine.name])


def test_a_table_reads_back_as_written_where_the_fast_writer_cannot_write_it(tmp_path):
    """Pieces the fast (Arrow) CSV writer cannot write as pandas would (a categorical with a missing value,
    numbers of 1e13 and more) are written by pandas: every value reads back, in the given decimals."""
    from trajcvae.atomic import TableWriter

    out = tmp_path / "t.csv"
    with TableWriter(out) as w:
        w.write(pd.DataFrame({"scene": pd.Categorical(["a", None], categories=["a", "b"]), "x": [0.25, -1.23456]}))
        w.write(pd.DataFrame({"scene": pd.Categorical(["b"], categories=["a", "b"]), "x": [0.5]}))
        w.write(pd.DataFrame({"scene": pd.Categorical(["b"], categories=["a", "b"]), "x": [5e15]}))
    assert out.read_text() == "scene,x\na,0.2500\n,-1.2346\nb,0.5000\nb,5000000000000000.0000\n"
    assert w.rows == 4 and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_text_holding_a_carriage_return_is_quoted_so_the_table_reads_back_whole(tmp_path):
    """A Parquet file's or a DataFrame's id may hold a lone \\r, which Python's csv does not quote under a \\n line
    terminator and readers take for a line break: such a piece is quoted whole, and every row reads back."""
    from trajcvae.atomic import TableWriter

    out = tmp_path / "t.csv"
    with TableWriter(out) as w:
        w.write(pd.DataFrame({"agent_id": pd.Categorical(["walker\rA", "B"]), "x": [0.25, 1.0]}))
        w.write(pd.DataFrame({"agent_id": ["C"], "x": [2.0]}))
    back = pd.read_csv(out)
    assert back.agent_id.tolist() == ["walker\rA", "B", "C"] and back.x.tolist() == [0.25, 1.0, 2.0]


def test_a_track_table_read_already_is_predicted_as_read_and_refused_once_edited_or_given_options(sim_files):
    """predict(read_tracks(...)) takes the table as it was read; options that reading chose (fps, scale, ...)
    given again would be ignored, and a table edited since (a position made NaN, a column dropped, a row
    repeated) was never checked: both are refused in one line. One sorted since is read in its reading's order."""
    from trajcvae.tracks import read_tracks

    model = TrajCVAE.load("pedestrian")
    tracks = read_tracks([sim_files["test"]])
    assert len(model.predict(tracks, k=1))
    with pytest.raises(TrajCVAEError, match="^scale: the data is a track table read already"):
        model.predict(tracks, k=1, scale=0.5)
    edited = tracks.copy()
    edited.loc[edited.index[3], "x"] = np.nan
    with pytest.raises(DataError, match=r"read already \(read_tracks\) and edited since \(a missing or non-finite "
                                        r"'x'\)"):
        model.predict(edited, k=1)
    with pytest.raises(DataError, match=r"edited since \(no column 'scene'\)"):
        model.make_windows(tracks.drop(columns="scene"))
    # Its reading's own columns dropped to tidy it: its positions are in metres, its attrs name the input's units.
    scaled = read_tracks([sim_files["test"]], scale=0.5)
    for tidy in (["_line"], ["_file", "_line"]):
        with pytest.raises(DataError, match=rf"edited since \(no column '{tidy[0]}'\): .*df.attrs = \{{\}} makes it "
                                            r"plain\)$"):
            model.predict(scaled.drop(columns=tidy), k=1)
    plain = scaled.drop(columns=["_file", "_line"])
    plain.attrs = {}
    assert len(model.predict(plain, k=1))
    unnamed = tracks.scene.astype(object).where(tracks.index > 3)
    for edited, what in ((tracks.assign(frame=tracks.frame.astype(str)), "a column 'frame' of .*, not numbers"),
                         (tracks.assign(scene=unnamed), "a missing 'scene'")):
        with pytest.raises(DataError, match=rf"edited since \({what}\)"):  # a TypeError, an agent gone, before
            model.predict(edited, k=1)
    # Sorted or sampled since (pandas keeps its attrs): the same futures as read; a row repeated is refused.
    expected = model.predict(tracks, k=2, seed=0)
    for shuffled in (tracks.sort_values("frame"), tracks.iloc[::-1], tracks.sample(frac=1, random_state=0)):
        pd.testing.assert_frame_equal(model.predict(shuffled, k=2, seed=0), expected)
    with pytest.raises(DataError, match=r"edited since \(agent '\d+' twice at \d+, in scene 'test\d*'\)"):
        model.predict(pd.concat([tracks, tracks.iloc[5:6]]), k=1)
    first = tracks.agent_id == tracks.agent_id.iloc[0]  # one agent's rows reversed, all else in order
    pd.testing.assert_frame_equal(model.predict(pd.concat([tracks[first].iloc[::-1], tracks[~first]]), k=2, seed=0),
                                  expected)
    timed = read_tracks(pd.DataFrame({"time": 1234567.0 + 0.4 * np.arange(10), "agent_id": 1,
                                      "x": 0.5 * np.arange(10), "y": 0.0}))
    with pytest.raises(DataError, match=r"attributes: its frame column, of seconds, renamed time makes it plain\)$"):
        model.predict(timed.drop(columns="_line"), k=1)  # (df.attrs = {} alone: its seconds read as frame ids)
    # So renamed, it is a plain table of seconds and metres, to predict and to read_tracks alike; a table of frame ids
    # so renamed is one of seconds too, whose samples 10 s apart make no window: the refusal names the frame ids.
    renamed = timed.drop(columns=["_file", "_line"]).rename(columns={"frame": "time"})
    plain = renamed.copy()
    plain.attrs = {}
    pd.testing.assert_frame_equal(model.predict(renamed, k=2, seed=0), model.predict(plain, k=2, seed=0))
    assert read_tracks(renamed).attrs["time_base"] == "seconds" and read_tracks(renamed).frame.iloc[1] == 1234567.4
    with pytest.raises(DataError, match=r"sampled every 10 s .* \(or, if the time column counts frames, name it frame "
                                        r"and give fps, their rate\)$"):
        model.predict(tracks.rename(columns={"frame": "time"}))
    with pytest.raises(DataError, match=r"agent '1' twice at 1234567.4, in scene"):  # next to itself, as written
        model.predict(pd.concat([timed.iloc[:2], timed.iloc[1:]]), k=1)


def test_training_on_a_track_table_read_already_reads_it_as_read(sim_files, tmp_path):
    """train(read_tracks(...)) and read_tracks of a read table take it as it was read: a table timed in seconds
    at 10 Hz keeps its time base (read again, its seconds were frame ids of a 0.1 step: four times too slow),
    and a scale it was read with is not applied twice (data.scale given again is refused, as for predict, but
    for the same scale); a model not told that scale in its config does not keep it, and training says so."""
    import dataclasses

    from trajcvae.config import DataConfig
    from trajcvae.tracks import read_tracks
    from trajcvae.windows import load_windows

    plaza = pd.read_csv(sim_files["test"])
    rows = []
    for agent, g in plaza.groupby("agent_id"):
        t = np.arange(g.frame.min() / 25, g.frame.max() / 25 + 1e-9, 0.1)
        rows.append(pd.DataFrame({"time": t, "agent_id": agent, "x": np.interp(t, g.frame / 25, g.x) * 100,
                                  "y": np.interp(t, g.frame / 25, g.y) * 100}))
    pd.concat(rows).to_csv(tmp_path / "cm.csv", index=False)
    table = read_tracks([tmp_path / "cm.csv"], scale=0.01)
    assert read_tracks(table) is table
    cfg = DataConfig()
    as_read, from_files = load_windows(table, cfg), load_windows([tmp_path / "cm.csv"], dataclasses.replace(
        cfg, scale=0.01))
    assert len(as_read.obs) == len(from_files.obs) > 100
    np.testing.assert_array_equal(as_read.obs, from_files.obs)
    np.testing.assert_array_equal(load_windows(table, dataclasses.replace(cfg, scale=0.01)).obs, from_files.obs)
    with pytest.raises(DataError, match="^scale: the data is a track table read already"):
        load_windows(table, dataclasses.replace(cfg, scale=0.02))
    # The model keeps no option the table was read with (a config's data options are how files are read): said.
    from trajcvae.config import load_config
    from trajcvae.train import train

    tiny = load_config(None, ["train.epochs=1", "kset.epochs=0", "model.hidden=16", "model.heads=2", "model.z_dim=4",
                              "train.k_eval=2", "train.num_threads=1"])
    with pytest.warns(TrajCVAEWarning, match=r"^the training set is a track table read with scale=0.01 "
                                             r"\(read_tracks\), which the model does not keep"):
        train(table, None, tiny, tmp_path / "run", progress=False, figures=False)
    tiny.data.scale = 0.01  # the scale it was read with, in the config: kept, and nothing to say
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(table, None, tiny, tmp_path / "kept", progress=False, figures=False)
    assert torch.load(tmp_path / "kept" / "best.pt", weights_only=True)["config"]["data"]["scale"] == 0.01


def test_a_track_table_edited_in_place_since_its_speeds_were_judged_is_judged_again(sim_files):
    """A table's speed verdict is kept for the table (predict, then make_windows, judge it once), but not
    past an edit in place: positions made centimetres are warned of as a copy of them is."""
    from trajcvae.tracks import read_tracks

    model = TrajCVAE.load("pedestrian")
    tracks = read_tracks([sim_files["test"]])
    assert model.check_speeds(tracks) is None
    tracks["x"] *= 100
    tracks["y"] *= 100
    assert "median speed of the tracks is" in model.check_speeds(tracks, [].append)
    walkers = read_tracks(pd.DataFrame({"time": np.round(np.r_[np.arange(0, 8, 0.4), np.arange(8, 16, 0.4)], 1),
                                        "agent_id": np.repeat([1, 2], 20), "x": np.r_[np.arange(20) * 0.5,
                                                                                       50 + np.arange(20) * 0.5],
                                        "y": 0.0}))
    assert model.check_speeds(walkers) is None
    walkers.loc[walkers.agent_id == 2, "agent_id"] = 1  # two walkers' ids made one: a track that jumps 40 m
    assert "1 track jumps: agent '1'" in model.check_speeds(walkers, [].append)
    named = read_tracks(walkers.assign(agent_id=np.repeat(["a", "b"], 20))[["frame", "agent_id", "x", "y"]]
                        .rename(columns={"frame": "time"}))
    assert model.check_speeds(named) is None
    named.loc[named.agent_id == "b", "agent_id"] = "a"  # text ids too
    assert "1 track jumps: agent 'a'" in model.check_speeds(named, [].append)


def test_numpy_integers_as_k_draws_and_seed_are_the_numbers_they_hold(sim_files):
    """k=np.uint8(200) times a size overflowed uint8, and torch's generator refused seed=np.int64(3)."""
    model = TrajCVAE.load("pedestrian")
    model.check_draws_fit(np.uint8(200), "kmeans", np.uint16(1000))
    data = pd.read_csv(sim_files["test"])
    got = model.predict(data, k=np.int16(3), seed=np.int64(3), calibrate="scene")
    pd.testing.assert_frame_equal(got, model.predict(data, k=3, seed=3, calibrate="scene"))


def test_a_table_writer_given_no_piece_writes_no_file(tmp_path):
    """Leaving a TableWriter without a piece written is a bug of its caller: an error, and no empty file."""
    from trajcvae.atomic import TableWriter

    with pytest.raises(ValueError, match="nothing was written"):
        with TableWriter(tmp_path / "t.csv"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_a_writer_whose_process_this_one_may_not_signal_is_alive(monkeypatch):
    """os.kill(pid, 0) refused (a process of another user) says the process exists: its temp file is kept."""
    from trajcvae import atomic

    def denied(pid, sig):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(atomic, "WINDOWS", False)
    monkeypatch.setattr(os, "kill", denied)
    assert atomic.process_alive(4194304) is True


# --- checkpoints from strangers -----------------------------------------------------------------------

class _RunsCode:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_an_output_that_is_a_pipe_is_refused_not_replaced_by_a_file(tmp_path):
    """Outputs are written to a temp file renamed onto their name: a pipe there (or a link to a device) would
    be replaced, and its reader would never get the table."""
    import os

    os.mkfifo(tmp_path / "pipe.csv")
    one_line_error(cli("predict", "pedestrian", ROOT / "data" / "demo" / "test.csv", "--out", tmp_path / "pipe.csv"),
                   f"--out {tmp_path / 'pipe.csv'}: is a pipe, not a file")
    assert (tmp_path / "pipe.csv").is_fifo()


def test_a_checkpoint_the_system_refuses_to_write_is_one_line_and_leaves_the_old_one(tmp_path, monkeypatch):
    """A full disk under torch.save: torch's writer raises its own RuntimeError over the system's OSError."""
    path = tmp_path / "last.pt"
    path.write_bytes(b"the last good one")

    def full(obj, f):
        f.write(b"part of it")
        try:
            raise OSError(28, "No space left on device")
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 44352 vs 44304")

    monkeypatch.setattr(checkpoint.torch, "save", full)
    with pytest.raises(TrajCVAEError, match=f"^{path}: cannot write it: No space left on device$"):
        checkpoint.save({"model": {}}, path)
    assert path.read_bytes() == b"the last good one" and [p.name for p in tmp_path.iterdir()] == ["last.pt"]


@pytest.mark.parametrize("force_unsafe_env", [False, True])
def test_zip_format_checkpoint_that_would_run_code_is_refused(tmp_path, monkeypatch, force_unsafe_env):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": 1, "version": "0.1.0", "config": {}, "model": {"w": torch.zeros(2)},
                "payload": _RunsCode(marker)}, path)
    torch.load(path, weights_only=False)  # proof that the file does run code when loaded unsafely
    assert marker.exists()
    marker.unlink()
    if force_unsafe_env:  # torch's escape hatch must not switch our loader to unsafe loading
        monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(CheckpointError, match="refused to load"):
        TrajCVAE.load(path)
    one_line_error(cli("predict", path, ROOT / "data" / "demo" / "test.csv", "--out", tmp_path / "p.csv"),
                   "refused to load")
    assert not marker.exists()


def test_checkpoint_from_an_incompatible_version_says_so(tmp_path, trained):
    ckpt = torch.load(trained, weights_only=True)
    newer = {**ckpt, "version": "9.0.0", "config": {**ckpt["config"], "model": {**ckpt["config"]["model"],
                                                                                  "mixture": 3}}}
    torch.save(newer, tmp_path / "newer.pt")
    with pytest.raises(CheckpointError, match=r"written by trajcvae 9\.0\.0 \(format 1\) is incompatible with this "
                                              r"trajcvae .*unknown option 'model\.mixture'"):
        TrajCVAE.load(tmp_path / "newer.pt")
    # An option removed since: the checkpoint's version is this one's (a version spans many commits).
    removed = {**ckpt, "config": {**ckpt["config"], "model": {**ckpt["config"]["model"], "sigma_net": True}}}
    torch.save(removed, tmp_path / "removed.pt")
    with pytest.raises(CheckpointError, match=r"written by another build of trajcvae .* is incompatible with this "
                                              r"one: .*'model\.sigma_net' = True was removed from trajcvae \(tried, no "
                                              r"gain\): retrain without it, or use the trajcvae commits that have it"):
        TrajCVAE.load(tmp_path / "removed.pt")
    torch.save({k: v for k, v in ckpt.items() if k != "model"}, tmp_path / "nomodel.pt")
    with pytest.raises(CheckpointError, match="lacks model"):
        TrajCVAE.load(tmp_path / "nomodel.pt")
    raw = Path(trained).read_bytes()
    (tmp_path / "torn.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="not a readable trajcvae checkpoint"):
        TrajCVAE.load(tmp_path / "torn.pt")


# --- K-sets: K futures that cover the predictive distribution, each with its share of it as a weight

def test_two_groups_give_their_two_means_and_their_shares():
    # Six futures (P = 2 steps): four close to a path along +x, two close to a path along +y.
    right = torch.tensor([[1.0, 0.0], [2.0, 0.0]])
    up = torch.tensor([[0.0, 1.0], [0.0, 2.0]])
    shift = torch.tensor([0.1, -0.1, 0.05, -0.05]).reshape(4, 1, 1)
    x = torch.cat([right + shift, up + shift[:2]]).unsqueeze(0)  # (1, 6, 2, 2)
    c, w = kmeans_futures(x, 2)
    assert c.shape == (1, 2, 2, 2) and w.shape == (1, 2)
    by_path = {tuple(c[0, i].round(decimals=4).flatten().tolist()): w[0, i].item() for i in range(2)}
    assert by_path == {tuple(right.flatten().tolist()): pytest.approx(4 / 6), tuple(up.flatten().tolist()): pytest.approx(2 / 6)}
    same, even = kmeans_futures(x, 6)  # nothing to condense: the draws themselves, each 1/6
    torch.testing.assert_close(same, x)
    torch.testing.assert_close(even, torch.full((1, 6), 1 / 6))
    # The share of draws nearest to each future, as the learned K-set's weights are measured.
    torch.testing.assert_close(nearest_shares(torch.stack([right, up]).unsqueeze(0), x), torch.tensor([[4 / 6, 2 / 6]]))


def test_kmeans_starts_at_the_draw_nearest_the_mean_then_takes_the_draw_farthest_from_every_centre():
    # One-step futures in the plane, their mean (2.33, 0.67): the draw nearest it is (1, -1); the farthest
    # from that is (10, 0); then (5, 4), 6.4 m from both centres, not (-2, 0), 3.2 m from the first.
    x = torch.tensor([[0.0, 0.0], [10.0, 0.0], [5.0, 4.0], [-2.0, 0.0], [1.0, -1.0], [0.0, 1.0]]).reshape(1, 6, 1, 2)
    c, w = kmeans_futures(x, 3, iters=0)
    torch.testing.assert_close(c.reshape(3, 2), torch.tensor([[1.0, -1.0], [10.0, 0.0], [5.0, 4.0]]))
    torch.testing.assert_close(w, torch.tensor([[4 / 6, 1 / 6, 1 / 6]]))


def test_a_kmeans_cluster_left_empty_keeps_its_centre_and_weighs_nothing():
    """Draws of fewer distinct futures than K (a model sure of the future): the cluster that gets no draw keeps
    its centre, a draw, with weight 0; it is not moved to the origin."""
    x = torch.tensor([[3.0, 3.0]] * 4 + [[4.0, 3.0]]).reshape(1, 5, 1, 2)
    c, w = kmeans_futures(x, 3)
    torch.testing.assert_close(c.reshape(3, 2), torch.tensor([[3.0, 3.0], [4.0, 3.0], [3.0, 3.0]]))
    torch.testing.assert_close(w, torch.tensor([[0.8, 0.2, 0.0]]))


def test_the_learned_sampler_s_kl_is_each_map_s_kl_to_the_standard_normal():
    from torch.distributions import Normal, kl_divergence

    torch.manual_seed(0)
    sampler = KSetSampler(hidden=8, z_dim=3, k=4)
    ctx = torch.randn(5, 8)
    u, kl = sampler(ctx, torch.randn(5, 3))
    b, log_a = sampler.net(ctx).unflatten(-1, (4, 6)).chunk(2, -1)  # (B, K, Z): the maps' means, log stds
    want = kl_divergence(Normal(b, log_a.clamp(-7.0, 2.0).exp()), Normal(0.0, 1.0)).sum(-1).mean(-1)  # (B,)
    torch.testing.assert_close(kl, want)
    assert u.shape == (5, 4, 3)


def test_the_learned_sampler_keeps_its_best_pass_scored_in_world_units_far_from_the_origin(trained, sim_files,
                                                                                       tmp_path, monkeypatch):
    """train_kset keeps the pass of the lowest val minADE@K, which it scores as metrics.min_ade_fde does, in
    world units: windows of UTM-sized coordinates score as the same windows near the origin. It trains and
    scores on the histories as recorded, as the CVAE trains (none cut as predictions cut: `checks.readable`)."""
    import copy

    import trajcvae.kset as kset_module
    from trajcvae.metrics import min_ade_fde

    cuts = []
    real_batch = kset_module.make_batch
    monkeypatch.setattr(kset_module, "make_batch",
                        lambda *args, **kwargs: cuts.append(kwargs.get("top_step")) or real_batch(*args, **kwargs))

    m = TrajCVAE.load(trained)
    cfg = copy.deepcopy(m.config)
    cfg.kset.epochs = 3
    w = m.make_windows([sim_files["val"]], every_window=True)
    wt = WindowTensors.from_windows(w)
    said = []
    torch.manual_seed(123)
    stream = torch.get_rng_state()
    sampler, info = train_kset(m.model, cfg, wt, wt, w.fut, log=said.append)
    assert cuts and set(cuts) == {None}
    assert torch.equal(torch.get_rng_state(), stream)  # the caller's torch stream is left as it was
    passes = [float(line.split("minADE@6 ")[1].split(" m")[0]) for line in said]
    assert len(passes) == 3 and info["epoch"] == 1 + int(np.argmin(passes))
    assert info["val_min_ade"] == pytest.approx(min(passes), abs=1e-3)
    eps = torch.randn(cfg.model.z_dim, generator=torch.Generator().manual_seed(cfg.train.seed))
    b = make_batch(wt, torch.arange(len(wt)), cfg.data)
    with torch.no_grad():
        futures = b.to_world(sampler.futures(m.model, b, eps)).double().numpy()  # (N, K, P, 2)
    want = float(min_ade_fde(futures, w.fut)[0].mean())
    assert _val_min_ade(m.model, sampler, wt, w.fut, cfg.data, cfg.train.seed) == pytest.approx(want, abs=1e-5)
    assert info["val_min_ade"] == pytest.approx(want, abs=1e-5)
    far = pd.read_csv(sim_files["val"]).assign(x=lambda d: d.x + 5e5, y=lambda d: d.y + 5e6)
    far.to_csv(tmp_path / "far.csv", index=False)
    wf = m.make_windows([tmp_path / "far.csv"], every_window=True)
    got = _val_min_ade(m.model, sampler, WindowTensors.from_windows(wf), wf.fut, cfg.data, cfg.train.seed)
    assert got == pytest.approx(want, abs=1e-3)


@pytest.mark.filterwarnings("ignore::trajcvae.errors.TrajCVAEWarning")  # the cut windows are named: not tested here
def test_every_score_reads_a_history_the_frame_cannot_hold_as_predictions_read_it():
    """The checkpoint pick's validation (its ELBO terms as well as its minADE), the benchmark's likelihoods and
    `--calibrate scene`'s past read each history as a prediction does (`checks.readable`): scored on windows
    of a walker who turned back, they give what they give on the same windows with only the part read kept."""
    import dataclasses

    from trajcvae.benchmark import likelihoods
    from trajcvae.checks import cut_short, readable
    from trajcvae.train import validate

    pedestrian = TrajCVAE.load("pedestrian")
    out_and_back = [0, 1, 2, 3, 4, 5, 6, 5, 4, 3] + list(range(2, -20, -1))  # 0.51 m steps, back the way it came
    df = pd.DataFrame([{"time": 0.4 * i, "agent_id": a, "x": x, "y": 0.5123 * (y if a == "u" else i)}
                       for i, y in enumerate(out_and_back) for a, x in (("u", 0.0), ("s", 4.0))])
    w = pedestrian.make_windows(df, every_window=True)
    dc = pedestrian.config.data
    read = dataclasses.replace(w, obs=readable(w.obs, dc.min_speed, pedestrian.top_step))
    cut = cut_short(w.obs, dc.min_speed, pedestrian.top_step)
    assert 3 <= cut.sum() < len(w) and read.obs is not w.obs
    wt, wt_read = WindowTensors.from_windows(w), WindowTensors.from_windows(read)
    recorded = make_batch(wt, torch.arange(len(w)), dc)  # as training reads them: another frame
    assert not torch.allclose(recorded.scale, make_batch(wt_read, torch.arange(len(w)), dc).scale)
    for score in (lambda v, t: validate(pedestrian, t, v.fut, k=5),
                  lambda v, t: likelihoods(pedestrian, t, v.fut, is_samples=8, kde_samples=20),
                  lambda v, t: {"levels": pedestrian.scene_past(v).levels}):
        got, want = score(w, wt), score(read, wt_read)
        assert got.keys() == want.keys()
        for key in got:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-5, err_msg=key)


def test_a_learned_sampler_that_diverges_is_one_line_naming_its_learning_rate(trained, sim_files):
    """A sampler whose val minADE is NaN at every pass (kset.lr far too high) has no pass to keep: one line
    naming kset.lr, the frozen CVAE left as it was."""
    import copy

    m = TrajCVAE.load(trained)
    cfg = copy.deepcopy(m.config)
    cfg.kset.epochs, cfg.kset.lr = 2, 1e30
    w = m.make_windows([sim_files["val"]], every_window=True)
    wt = WindowTensors.from_windows(w)
    with pytest.raises(TrajCVAEError, match=r"^the K-set sampler's val minADE@6 was nan at every epoch \(it "
                                            r"diverged\): train again with a lower kset.lr"):
        train_kset(m.model, cfg, wt, wt, w.fut)
    assert all(p.requires_grad for p in m.model.parameters())


def test_selection_turns_and_scales_with_the_window():
    # Clustering in the agent frame is valid only because k-means commutes with rotation and scale.
    x = torch.randn(3, 40, 12, 2, generator=torch.Generator().manual_seed(0))
    a = 0.7
    rot = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    c, w = kmeans_futures(x, 5)
    c2, w2 = kmeans_futures(2.5 * x @ rot.T, 5)
    torch.testing.assert_close(c2, 2.5 * c @ rot.T, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(w2, w)


@pytest.mark.parametrize("mode", ["kmeans", "learned"])
def test_a_kset_covers_the_draws_and_its_weights_sum_to_one(trained, sim_files, mode):
    m = TrajCVAE.load(trained)
    w = m.make_windows([sim_files["test"]], every_window=True)
    k = m.config.kset.k if mode == "learned" else 5
    plain = m.sample(w, k=k, seed=3)
    futures, weights = m.sample_kset(w, k=k, seed=3, kset=mode, draws=200)
    assert futures.shape == plain.shape and weights.shape == (len(w), k) and np.isfinite(futures).all()
    np.testing.assert_allclose(weights.sum(1), 1.0)
    assert (np.diff(weights, axis=1) <= 0).all()  # heaviest first: sample 0 is the likeliest future
    again = m.sample_kset(w, k=k, seed=3, kset=mode, draws=200)  # seeded
    np.testing.assert_array_equal(futures, again[0])
    np.testing.assert_array_equal(weights, again[1])
    if mode == "kmeans":
        # Five cluster means of 200 draws cover the draws better than five draws do.
        pool = m.sample(w, k=200, seed=3)  # the same 200 draws: same seed, same noise
        def cover(futs):  # mean over windows and draws of the distance to the nearest of `futs`
            d = np.linalg.norm(pool[:, :, None] - futs[:, None], axis=-1).mean(-1)  # (N, 200, 5)
            return d.min(-1).mean()
        assert cover(futures) < cover(plain)
        # Each weight is its own future's share of the draws (weights and futures ordered together).
        d = ((pool[:, :, None] - futures[:, None]) ** 2).sum((-1, -2))  # (N, 200, 5)
        shares = np.stack([(d.argmin(-1) == j).mean(1) for j in range(k)], 1)  # (N, 5)
        assert np.abs(shares - weights).mean() < 0.03
    with pytest.raises(TrajCVAEError, match="^draws must be at least k = 5"):
        m.sample_kset(w, k=5, kset=mode, draws=4)
    with pytest.raises(TrajCVAEError, match="^draws must be >= 1 \\(got -5\\)$"):  # also where no K-set reads it
        m.sample(w, k=5, draws=-5)


def test_the_learned_kset_says_what_it_can_do(trained, sim_files, tmp_path):
    m = TrajCVAE.load(trained)
    w = m.make_windows([sim_files["test"]], every_window=True)
    with pytest.raises(TrajCVAEError, match=f"makes {m.config.kset.k} futures; use k={m.config.kset.k}"):
        m.sample_kset(w, k=m.config.kset.k + 1, kset="learned")
    ckpt = torch.load(trained, weights_only=True)
    del ckpt["kset"]
    torch.save(ckpt, tmp_path / "plain.pt")
    with pytest.raises(TrajCVAEError, match="has no learned K-set sampler yet: its run stopped before training it"):
        TrajCVAE.load(tmp_path / "plain.pt").sample_kset(w, k=m.config.kset.k, kset="learned")
    with pytest.raises(TrajCVAEError, match="is a run's training state \\(last.pt\\), .* its best.pt; give that"):
        TrajCVAE.load(trained.parent / "last.pt").sample_kset(w, k=m.config.kset.k, kset="learned")
    ckpt["config"]["kset"]["epochs"] = 0
    torch.save(ckpt, tmp_path / "plain.pt")
    with pytest.raises(TrajCVAEError, match="has no learned K-set sampler .* or with kset.epochs = 0"):
        TrajCVAE.load(tmp_path / "plain.pt").sample_kset(w, k=m.config.kset.k, kset="learned")
    with pytest.raises(TrajCVAEError, match="^kset must be one of none, kmeans, learned"):
        m.sample(w, kset="dlow")


def test_cli_predict_and_evaluate_a_kset(tmp_path, trained, sim_files):
    out = tmp_path / "p.csv"
    r = cli("predict", trained, sim_files["test"], "-k", 4, "--kset", "kmeans", "--draws", 3, "--out", out)
    assert r.exit_code == 1 and "--draws must be at least -k = 4 (got 3)" in r.output
    assert not out.exists()  # refused before anything was written
    r = cli("predict", trained, sim_files["test"], "-k", 4, "--kset", "kmeans", "--draws", 50, "--out", out)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert df["sample"].nunique() == 4 and list(df.columns[-1:]) == ["weight"]
    per_agent = df[df.step == 1].groupby(["agent_id", "t0"]).weight.sum()
    np.testing.assert_allclose(per_agent, 1.0, atol=1e-3)  # 4 decimals in the CSV
    assert cli("predict", trained, sim_files["test"], "-k", 2, "--out", out).exit_code == 0
    assert "weight" not in pd.read_csv(out).columns  # plain draws carry no weights
    js = tmp_path / "e.json"
    k = TrajCVAE.load(trained).config.kset.k
    r = cli("evaluate", trained, sim_files["test"], "-k", k, "--kset", "learned", "--json", js, "--calibration", 0)
    assert r.exit_code == 0 and "K-set: learned sampler" in r.output and "Brier-minFDE" in r.output, r.output
    result = json.loads(js.read_text())
    assert result["kset"] == "learned" and result["scenes"]["overall"]["brier_fde"] >= result["scenes"]["overall"]["min_fde"]


def test_a_temp_file_left_by_a_killed_predict_is_removed_by_the_next(tmp_path, trained, sim_files):
    """A temp file is stale when its writer (process id and start time, in its name) is gone and nothing
    wrote to it for 10 minutes; temp files of other targets sharing the name's start are not touched."""
    out = tmp_path / "p.csv"
    stale = tmp_path / ".p.csv.4194304-12345.k1ll3d00.tmp"  # as a predict killed mid-write leaves it
    other = tmp_path / ".p.csv.bak.4194304-12345.k1ll3d00.tmp"  # another target's (p.csv.bak)
    recent = tmp_path / ".p.csv.4194305-12345.r3c3nt00.tmp"  # a writer this process cannot see, still at work
    for f in (stale, other, recent):
        f.write_text("scene,agent_id\nhalf a table")
    for f in (stale, other):
        os.utime(f, (time.time() - 3600, time.time() - 3600))
    predict_to_file(trained, [sim_files["test"]], out, k=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["p.csv", other.name, recent.name])


def test_outputs_are_replaced_and_stale_writers_told_apart_by_windows_own_means(tmp_path, monkeypatch):
    """Windows has no os.chown (a file replaced keeps no group there) and its os.kill(pid, 0) is a Ctrl+C, not
    a question: an output is replaced without either, and a writer's process is looked up by its exit code."""
    import ctypes

    from trajcvae import atomic

    out = tmp_path / "p.csv"
    out.write_text("old")
    monkeypatch.delattr(os, "chown")
    with atomic.atomic_path(out) as tmp:
        Path(tmp).write_text("new")
    assert out.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]

    class Kernel32:  # a live process 7 (exit code STILL_ACTIVE), process 9 gone, process 5 denied to us
        def OpenProcess(self, access, inherit, pid):
            self.error = 87 if pid == 9 else 5
            return 0 if pid in (5, 9) else pid

        def GetExitCodeProcess(self, handle, code):
            code._obj.value = 259
            return 1

        def CloseHandle(self, handle):
            return 1

    kernel32 = Kernel32()
    monkeypatch.setattr(atomic, "WINDOWS", True)
    monkeypatch.setattr(os, "kill", lambda pid, sig: pytest.fail("os.kill on Windows"))
    monkeypatch.setattr(ctypes, "WinDLL", lambda name, use_last_error=False: kernel32, raising=False)
    monkeypatch.setattr(ctypes, "get_last_error", lambda: kernel32.error, raising=False)
    assert [atomic.process_alive(pid) for pid in (7, 9, 5)] == [True, False, True]


def test_a_writer_at_work_keeps_its_temp_file_and_a_kill_unwinds_the_write(tmp_path, trained, sim_files):
    """Two commands writing one --out: the one that finishes first removes only temp files whose writer is
    gone. SIGTERM unwinds a write as Ctrl-C does: no temp file left, the previous output kept."""
    import signal
    import subprocess
    import sys

    from trajcvae.atomic import process_started

    out = tmp_path / "p.csv"
    me = f"{os.getpid()}-{process_started(os.getpid()) or 0}"
    live = tmp_path / f".p.csv.{me}.w0rk1ng_.tmp"  # this process is alive: a writer at work
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".p.csv.{gone.stdout.strip()}-1.k1ll3d00.tmp"
    for f in (live, dead):
        f.write_text("half a table")
        os.utime(f, (time.time() - 3600, time.time() - 3600))
    predict_to_file(trained, [sim_files["test"]], out, k=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["p.csv", live.name])
    live.unlink()
    code = ("import time; from trajcvae import cli; from trajcvae.atomic import atomic_path\n"
            "cli.unwind_on_kill()\n"
            f"with atomic_path({str(out)!r}) as tmp:\n"
            "    tmp.write_text('half'); print('writing', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 128 + signal.SIGTERM  # (a loaded 2-core machine can take long to unwind)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"] and out.read_text().startswith("scene,")


def test_an_output_that_is_an_input_or_write_protected_is_refused(tmp_path, trained, sim_files):
    """No command writes over what it reads, nor over a file its owner protected; a replaced file keeps its
    permissions, a link is followed, and a failed write leaves no folder it made."""
    data = tmp_path / "tracks.csv"
    data.write_bytes(Path(sim_files["test"]).read_bytes())
    one_line_error(cli("predict", trained, data, "-k", 2, "--out", data), "is", "an input of this command")
    one_line_error(cli("evaluate", trained, data, "-k", 2, "--json", trained), "give a name ending in .json")
    one_line_error(cli("visualize", trained, data, "--out", data), "an input of this command")
    assert data.read_bytes() == Path(sim_files["test"]).read_bytes()
    # A table of futures is not written into the folder of the data (it would be read as tracks next time), and
    # one put there is not read back as tracks.
    (tmp_path / "data").mkdir()
    data.rename(tmp_path / "data" / "tracks.csv")
    one_line_error(cli("predict", trained, tmp_path / "data", "-k", 1, "--out", tmp_path / "data" / "p.csv"),
                   "data/p.csv: is a table in", "a folder this command reads its tracks from")
    assert not (tmp_path / "data" / "p.csv").exists()
    assert cli("predict", trained, tmp_path / "data", "-k", 1, "--out", tmp_path / "data" / ".p.csv").exit_code == 0
    (tmp_path / "data" / ".p.csv").unlink()  # (a hidden file, which a folder's reading skips, may go there)
    assert cli("predict", trained, tmp_path / "data", "-k", 1, "--out", tmp_path / "p.csv").exit_code == 0
    (tmp_path / "p.csv").rename(tmp_path / "data" / "p.csv")
    one_line_error(cli("predict", trained, tmp_path / "data", "-k", 1, "--out", tmp_path / "q.csv"),
                   "data/p.csv: a table of predicted futures", "not tracks")
    (tmp_path / "data" / "p.csv").unlink()  # nor a run's log, saved beside the data
    (tmp_path / "data" / "metrics.csv").write_bytes((trained.parent / "metrics.csv").read_bytes())
    one_line_error(cli("evaluate", trained, tmp_path / "data", "-k", 1), "data/metrics.csv: a training run's log "
                   "(metrics.csv: columns epoch, train_loss, val_min_ade, as `trajcvae train` writes), not tracks")
    (tmp_path / "data" / "metrics.csv").unlink()
    # Nor is a table of tracks in a folder given as the data written over.
    before = (tmp_path / "data" / "tracks.csv").read_bytes()
    one_line_error(cli("predict", trained, tmp_path / "data", "-k", 1, "--out", tmp_path / "data" / "tracks.csv"),
                   "data/tracks.csv: is a table in", "a folder this command reads its tracks from")
    assert (tmp_path / "data" / "tracks.csv").read_bytes() == before
    # `--out=~/p.csv` reaches the command unexpanded: refused, not written into a folder named '~'.
    one_line_error(cli("predict", trained, tmp_path / "data" / "tracks.csv", "--out=~/p.csv"),
                   "--out ~/p.csv: starts with '~', which no shell expanded (it leaves it in quotes or after "
                   "'--out='); give the full path, e.g. ")
    # ~name of no user here has no full path to show; a positional OUT has no '='.
    one_line_error(cli("simulate", "~nobody_here_xyz/s.csv"), "OUT ~nobody_here_xyz/s.csv: starts with '~', which "
                   "no shell expanded (it leaves it in quotes); give the full path")
    from trajcvae.simulate import simulate  # a Python caller's '~' is not the shell's to expand

    with pytest.raises(TrajCVAEError, match="^out ~/s.csv: starts with '~', which Python does not expand; give the "
                                            "full path"):
        simulate("~/s.csv")
    one_line_error(cli("train", tmp_path / "data" / "tracks.csv", "--homography", "~nobody_here_xyz/H.txt", "--out",
                       tmp_path / "run"), "--homography ~nobody_here_xyz/H.txt: ~nobody_here_xyz names no home")
    for option in ("--homography", "--scale"):  # nor is an input's path under it
        one_line_error(cli("predict", trained, tmp_path / "data" / "tracks.csv", option, "~nobody_here_xyz/u.txt"),
                       f"{option} ~nobody_here_xyz/u.txt: ~nobody_here_xyz names no home folder here")
    (tmp_path / "c.toml").write_text('[data]\nhomography = "~nobody_here_xyz/H.txt"\n')
    one_line_error(cli("train", tmp_path / "data" / "tracks.csv", "--config", tmp_path / "c.toml", "--out",
                       tmp_path / "run"), "c.toml: data.homography ~nobody_here_xyz/H.txt: ~nobody_here_xyz names no")
    assert not Path("~").exists() and not Path("~nobody_here_xyz").exists() and not (tmp_path / "run").exists()
    out = tmp_path / "mine.csv"
    out.write_text("old")
    out.chmod(0o640)  # (not the temp file's own 0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(out)
    assert cli("predict", trained, tmp_path / "data" / "tracks.csv", "-k", 1, "--out", link).exit_code == 0
    assert link.is_symlink() and out.read_text().startswith("scene,") and (out.stat().st_mode & 0o777) == 0o640
    out.chmod(0o400)  # refused to root too, which the system would let write it
    one_line_error(cli("predict", trained, tmp_path / "data" / "tracks.csv", "--out", out), "write-protected")
    # The input named through a folder that does not exist yet is still the input.
    one_line_error(cli("predict", trained, tmp_path / "data" / "tracks.csv", "--out",
                       tmp_path / "data" / "new" / ".." / "tracks.csv"), "an input of this command")
    assert not (tmp_path / "data" / "new").exists()
    r = cli("predict", trained, tmp_path / "data" / "p.csv", "--out", tmp_path / "new" / "sub" / "p.csv")
    assert r.exit_code == 1 and not (tmp_path / "new").exists()


@pytest.mark.skipif(not ETH_UCY.is_dir(), reason="needs ../shared/datasets/eth_ucy")
def test_scene_fitted_mean_paths_are_calibrated_as_the_full_draws_are(tmp_path):
    """`predict --calibrate scene` fits each kind of futures to its own levels: the mean paths it writes by
    default are mapped by what the scene's past says of mean paths, not of the wider full draws (whose map
    left them too narrow: 0.06 on this scene). On hotel's test scene, where the plain mean paths are far too
    wide, the fitted ones are calibrated at the endpoint, as the fitted full draws the command line writes
    are."""
    from trajcvae.calibrate import unfitted
    from trajcvae.metrics import calibration, hpd_levels

    pedestrian = TrajCVAE.load("pedestrian")
    hotel = [ETH_UCY / "hotel" / "test" / "biwi_hotel.txt"]
    w = pedestrian.make_windows(hotel, every_window=True)
    where = pd.Series(np.arange(len(w)), index=pd.MultiIndex.from_arrays([w.agent_id, w.t0]))
    past = pedestrian.scene_past(w)  # (which windows it fits: those with 10 finished before them)
    assert past.futures == "mean"
    r = cli("predict", "pedestrian", hotel[0], "--every-window", "-k", 100, "--futures", "full",
            "--calibrate", "scene", "--out", tmp_path / "full.parquet")
    assert r.exit_code == 0, r.output
    got = {}
    for calibrate in ("none", "scene", "full"):
        if calibrate == "full":
            table = pd.read_parquet(tmp_path / "full.parquet")
        else:
            with warnings.catch_warnings():  # the first windows have too little past: said, and left out here
                warnings.simplefilter("ignore", TrajCVAEWarning)
                table = pedestrian.predict(hotel, k=100, every_window=True, calibrate=calibrate)
        first = table.iloc[::100 * 12]  # a window's rows: its 100 futures of 12 steps
        at = where.loc[list(zip(first.agent_id, first.t0))].to_numpy()
        fitted = ~unfitted(past, w.scene[at], w.t0[at])
        assert len(at) == len(w) > 1000 and fitted.sum() > 1000
        endpoints = table[["x", "y"]].to_numpy().reshape(len(at), 100, 12, 2)[:, :, -1:]  # (N, 100, 1, 2)
        levels = hpd_levels(endpoints, w.fut[at, -1:])[fitted, 0]
        got[calibrate] = calibration(levels)
    assert got["none"]["signed_error"] > 0.15  # too wide: the map has work to do
    for fitted in ("scene", "full"):
        assert got[fitted]["error"] < 0.04 and abs(got[fitted]["signed_error"]) < 0.04, (fitted, got[fitted])


def test_scene_calibrated_draws_are_the_plain_ones_moved_along_rays_from_the_most_likely_future(trained, sim_files):
    """`--calibrate scene`: each of a window's K draws is c + f (y - c) at every step, y a plain draw, c the
    window's most likely future and f > 0 a factor per draw and step, from the maps its scene's finished
    windows make (`calibrate.py`; 1 before the scene has enough of them); the API and the CLI agree."""
    m = TrajCVAE.load(trained)
    w = m.make_windows([sim_files["test"]], every_window=True)
    past = m.scene_past(w)
    fitted = ~np.isnan(past.quantiles(w.scene, w.t0)[:, 0, 0])
    assert not fitted[0] and fitted.any()  # no past at the first windows; maps later
    plain, c = m.sample(w, k=5, seed=3), m.sample(w, most_likely=True)
    got = m.sample(w, k=5, seed=3, past=past)
    f = np.linalg.norm(got - c, axis=-1) / np.linalg.norm(plain - c, axis=-1)  # (N, K, P)
    np.testing.assert_allclose(got, c + f[..., None] * (plain - c), atol=1e-4)  # along each ray from c
    np.testing.assert_allclose(f[~fitted], 1.0, atol=1e-5)
    assert np.abs(f[fitted] - 1).max() > 0.05 and len(np.unique(f[fitted].round(3))) > 5  # a factor per draw
    with pytest.raises(TrajCVAEError, match="pass Windows"):  # tensors carry no scene or t0 to look the past up by
        m.sample(WindowTensors.from_windows(w), k=5, past=past)
    df = m.predict([sim_files["test"]], k=5, seed=3, calibrate="scene")  # latest windows, the file's past
    latest = m.make_windows([sim_files["test"]])
    expect = m.sample(latest, k=5, seed=3, past=m.scene_past(w, seed=3))  # the seed draws the past's levels too
    np.testing.assert_allclose(df[["x", "y"]].to_numpy(), expect.reshape(-1, 2), atol=1e-4)
    # Every window, the first ones before the scene has a past: the API says how many kept the model's draws.
    with pytest.warns(TrajCVAEWarning, match=f"^calibrate='scene': {int((~fitted).sum())} of {len(w)} windows had "
                      "fewer than"):
        m.predict([sim_files["test"]], k=5, seed=3, calibrate="scene", every_window=True)


def test_a_scene_past_is_read_in_the_input_s_units_and_a_given_one_says_what_it_leaves_unfitted(trained, sim_files,
                                                                                                 tmp_path):
    """`scene_past` reads files as `predict` does (fps, scale, homography, classes, columns), and judges their
    speeds: a past of a centimetre file with scale=0.01 is that of the same tracks in metres, and the futures
    fitted to it are `predict`'s own. A past given to `predict` is held to the same account as one measured
    there: windows it cannot fit (too little of their scene, or another scene) are said."""
    m = TrajCVAE.load(trained)
    tracks = pd.read_csv(sim_files["test"])
    tracks.assign(x=tracks.x * 100, y=tracks.y * 100).to_csv(tmp_path / "cm.csv", index=False)
    metres = m.scene_past([sim_files["test"]])
    cm = m.scene_past([tmp_path / "cm.csv"], scale=0.01)
    np.testing.assert_allclose(cm.levels, metres.levels, atol=1e-4)
    with pytest.warns(TrajCVAEWarning, match="median speed of the tracks is 111 m/s"):  # cm read as metres: said
        m.scene_past([tmp_path / "cm.csv"])
    said = {}
    for name, past in (("own", None), ("given", cm)):  # every window: the first ones have too little past
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            said[name] = m.predict([tmp_path / "cm.csv"], k=3, scale=0.01, calibrate="scene", past=past,
                                   every_window=True), [str(c.message) for c in caught]
    np.testing.assert_allclose(said["given"][0][["x", "y"]], said["own"][0][["x", "y"]], atol=1e-3)
    assert said["given"][1] == said["own"][1] and any(" windows had fewer than 10" in line for line in said["own"][1])
    elsewhere = ScenePast(np.array(["another"] * 20), np.zeros(20), np.full((20, 12), 0.5))
    n = len(m.make_windows([sim_files["test"]]))
    with pytest.warns(TrajCVAEWarning, match=rf"^calibrate='scene': {n} of {n} windows had fewer than 10"):
        m.predict([sim_files["test"]], k=3, calibrate="scene", past=elsewhere)  # nothing of its scene: unfitted
    with pytest.raises(TrajCVAEError, match="^scene_past: scale is how files or a DataFrame are read; windows"):
        m.scene_past(m.make_windows([sim_files["test"]], every_window=True), scale=0.01)


def test_cli_scene_calibration(tmp_path, trained, sim_files):
    out = tmp_path / "p.csv"
    r = cli("predict", trained, sim_files["test"], "-k", 3, "--calibrate", "scene", "--out", out)
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(out)) == len(TrajCVAE.load(trained).make_windows([sim_files["test"]])) * 3 * 12
    # Agents whose scene has too little past keep the model's draws, and the output says how many.
    short = tmp_path / "short.csv"
    pd.read_csv(sim_files["test"]).query("frame <= 150").to_csv(short, index=False)
    r = cli("predict", trained, short, "-k", 3, "--calibrate", "scene", "--out", out)
    assert r.exit_code == 0 and "warning: --calibrate scene:" in r.output and "the model's own" in r.output
    one_line_error(cli("predict", trained, sim_files["test"], "--calibrate", "scene", "--kset", "kmeans"),
                   "--calibrate scene rescales plain draws", "--kset kmeans")
    one_line_error(cli("evaluate", trained, sim_files["test"], "--calibrate", "yes"), "--calibrate must be one of")
    one_line_error(cli("predict", trained, sim_files["test"], "--futures", "drawn"), "--futures must be one of")
    one_line_error(cli("evaluate", trained, sim_files["test"], "--futures", "full", "--kset", "learned"),
                   "--futures full draws plain futures", "--kset learned")
    r = cli("evaluate", trained, sim_files["test"], "-k", 3, "--calibrate", "scene", "--calibration", 100)
    assert r.exit_code == 0 and "best of K=3, scene-fitted draws" in r.output, r.output
    assert "calibration of full draws of p(y|x) fitted to the scene's past (100 draws)" in r.output
    assert "warning: --calibrate scene:" in r.output  # the file's first windows had no past, as with predict
    from trajcvae.evaluate import evaluate

    with pytest.warns(TrajCVAEWarning, match="^calibrate='scene': .* had fewer than"):  # the API says it too
        assert evaluate(TrajCVAE.load(trained), [sim_files["test"]], k=3, calibrate="scene",
                        calibration_draws=0)["unfitted"] > 0


def test_a_corrupt_checkpoint_is_refused_in_one_line_not_used(tmp_path, trained, sim_files):
    """Weights that are not finite, a K-set sampler that does not fit its config, stats that are not a
    table, a run folder given for its checkpoint: each one line, never a traceback or NaN futures."""
    ckpt = torch.load(trained, weights_only=True)
    nan = {**ckpt, "model": {k: v.clone() for k, v in ckpt["model"].items()}}
    next(iter(nan["model"].values()))[...] = float("nan")
    torch.save(nan, tmp_path / "nan.pt")
    sampler = {**ckpt, "kset": {k: v[:1] if v.dim() else v for k, v in ckpt["kset"].items()}}
    torch.save(sampler, tmp_path / "sampler.pt")
    torch.save({**ckpt, "stats": "x"}, tmp_path / "stats.pt")
    nan_sampler = {**ckpt, "kset": {k: v.clone() for k, v in ckpt["kset"].items()}}
    next(v for v in nan_sampler["kset"].values() if v.is_floating_point())[...] = float("nan")
    torch.save(nan_sampler, tmp_path / "nan_sampler.pt")
    torch.save({**ckpt, "kset": "x"}, tmp_path / "kset.pt")
    for name, expected in [("nan.pt", "is not a tensor of finite numbers"),
                           ("nan_sampler.pt", "is not a tensor of finite numbers"),
                           ("sampler.pt", "the K-set sampler's weights do not match its config"),
                           ("stats.pt", "stats or kset is not a table"),
                           ("kset.pt", "stats or kset is not a table")]:
        one_line_error(cli("predict", tmp_path / name, sim_files["test"], "--out", tmp_path / "p.csv"), name, expected)
        assert not (tmp_path / "p.csv").exists()
    one_line_error(cli("predict", trained.parent, sim_files["test"], "--out", tmp_path / "p.csv"),
                   f"a folder, not a checkpoint; give {trained}")
    (tmp_path / "unfinished").mkdir()  # a run stopped before its end: last.pt alone
    (tmp_path / "unfinished" / "last.pt").write_bytes((trained.parent / "last.pt").read_bytes())
    one_line_error(cli("predict", tmp_path / "unfinished", sim_files["test"], "--out", tmp_path / "p.csv"),
                   f"a folder, not a checkpoint; give {tmp_path / 'unfinished' / 'last.pt'} (the run has no best.pt: "
                   "stopped before its end, train --resume goes on with it)")
    # Flipped bits in a weight are finite numbers too: the zip's checksums tell them.
    flipped = bytearray(trained.read_bytes())
    with zipfile.ZipFile(trained) as z:
        first = z.getinfo(next(n for n in z.namelist() if n.endswith("/data/0")))
    name, extra = struct.unpack("<HH", flipped[first.header_offset + 26:first.header_offset + 30])
    flipped[first.header_offset + 30 + name + extra] ^= 0x10  # the first weight's first byte
    (tmp_path / "flipped.pt").write_bytes(flipped)
    one_line_error(cli("predict", tmp_path / "flipped.pt", sim_files["test"], "--out", tmp_path / "p.csv"),
                   f"flipped.pt: corrupt checkpoint (damaged at {first.filename};", "copy it again")
    assert not (tmp_path / "p.csv").exists()


def test_the_python_api_takes_one_path_and_names_what_it_cannot_take(trained, sim_files):
    model = TrajCVAE.load(trained)
    one = model.predict(str(sim_files["test"]), k=2)
    pd.testing.assert_frame_equal(one, model.predict([sim_files["test"]], k=2))
    w = model.make_windows(sim_files["test"], every_window=True)
    with pytest.raises(TrajCVAEError, match="expected windows \\(from model.make_windows"):
        model.sample([sim_files["test"]], k=2)
    for bad in (0, -3, 2.5):
        with pytest.raises(TrajCVAEError, match="batch_size must be a whole number >= 1"):
            model.sample(w, k=2, batch_size=bad)
    np.testing.assert_array_equal(model.sample(w, k=2, seed=np.int64(3)), model.sample(w, k=2, seed=3))
    none = w.subset(np.array([], int))
    assert model.sample(none, k=2).shape == (0, 2, 12, 2)
    futures, weights = model.sample_kset(none, k=2)
    assert futures.shape == (0, 2, 12, 2) and weights.shape == (0, 2)


def test_a_table_with_a_column_named_like_an_internal_one_is_read_and_checked_as_any_other(trained, sim_files):
    """Only the model's own track tables skip reading: a user's `_line` column (a source line number kept)
    changes nothing, and what is wrong with the table is still refused."""
    model = TrajCVAE.load(trained)
    table = pd.read_csv(sim_files["test"])
    kept = table.assign(_line=np.arange(len(table)) + 2)
    pd.testing.assert_frame_equal(model.predict(kept, k=2), model.predict(table, k=2))
    kept.loc[3, "x"] = np.nan
    with pytest.raises(TrajCVAEError, match=r"iloc\[3\]"):
        model.predict(kept, k=2)


def test_a_table_s_agent_ids_come_back_of_the_type_they_were_given(trained, sim_files):
    """README: agent_id is as written in the input; a DataFrame's text ids are not turned into numbers, so the
    futures join back onto the table."""
    model = TrajCVAE.load(trained)
    for dtype in (str, np.int64):
        table = pd.read_csv(sim_files["test"], dtype={"agent_id": dtype})
        futures = model.predict(table, k=1)
        assert futures["agent_id"].isin(table["agent_id"]).all()
        assert isinstance(futures["agent_id"].iloc[0], str if dtype is str else (int, np.integer))


def test_the_python_api_names_the_files_that_gave_no_window_as_the_command_line_does(tmp_path):
    """Files whose agents are each seen once give no window: predict, evaluate and visualize name them, before
    why, as the CLI does (a table, which has no name, is told why alone)."""
    from trajcvae.evaluate import evaluate
    from trajcvae.visualize import visualize

    path = tmp_path / "once.csv"
    path.write_text("time,agent_id,x,y\n0.0,1,1.0,2.0\n0.4,2,3.0,4.0\n0.8,3,5.0,6.0\n")
    model = TrajCVAE.load("pedestrian")
    for call in (lambda: model.predict([path], k=1), lambda: model.predict(str(path), k=1),
                 lambda: model.predict(data=[path], k=1),
                 lambda: evaluate(model, [path], k=1), lambda: visualize(model, [path], tmp_path / "v.png")):
        with pytest.raises(TrajCVAEError, match=rf"^{re.escape(str(path))}: no usable windows: no (agent|track) has "):
            call()
    with pytest.raises(TrajCVAEError, match=rf"^{re.escape(str(path))}, {re.escape(str(path))}, "
                                            rf"{re.escape(str(path))} \.\.\.: no usable windows"):
        model.predict([path] * 4, k=1)
    r = cli("predict", "pedestrian", path, "--out", tmp_path / "p.csv")  # named once, by the CLI as by the API
    assert r.output.count(str(path)) == 1 and "no usable windows" in r.output, r.output
    with pytest.raises(TrajCVAEError, match="^no usable windows: no agent has 2 "):
        model.predict(pd.read_csv(path), k=1)


def test_the_python_api_names_an_argument_of_the_wrong_kind_in_one_line(trained, sim_files):
    from trajcvae import OnlinePredictor, load_config
    from trajcvae.evaluate import evaluate
    from trajcvae.benchmark import run_benchmark
    from trajcvae.predict import predict_to_file
    from trajcvae.train import train
    from trajcvae.visualize import visualize

    model = TrajCVAE.load(trained)
    table = pd.read_csv(sim_files["test"])
    latest = model.make_windows(table)
    calls = [
        (lambda: model.predict(table, k=2, seed=None), "^seed must be a whole number \\(got None\\)$"),
        (lambda: predict_to_file(model, table, "p.csv", log="x"), "^log must be a function taking a line of text"),
        (lambda: train([sim_files["train"]], None, load_config(), Path(sim_files["train"]).parent / "no_run", log="x"),
         "^log must be a function"),
        (lambda: predict_to_file(model, table, "p.csv", every_window="no"), "^every_window must be True or False "
         "\\(got 'no'\\)$"),
        (lambda: evaluate(model, table, k=2, log="x"), "^log must be a function taking a line of text"),
        (lambda: visualize(model, table, "f.png", scene=["input"]), "^scene must be a scene's name \\(got list\\)$"),
        (lambda: model.predict(table, every_window=np.array([1, 0])), "^every_window must be True or False \\(got "
         "ndarray\\)$"),
        (lambda: model.predict(table, classes=np.array("ped")), "^classes: expected labels as text"),
        (lambda: run_benchmark(".", None, "r", splits="nope"), "^splits: unknown split 'nope'"),
        (lambda: model.sample(latest, k=2, seed=None), "^seed must be a whole number"),
        (lambda: OnlinePredictor(model, k=2, seed=None), "^seed must be a whole number"),
        (lambda: model.predict(table, k=2, fps="25"), "^fps must be a positive number .* \\(got '25'\\)$"),
        (lambda: model.predict(table, k=2, scale="0.01"), "^scale must be a positive number .* not as text \\(got "
                                                          "'0.01'; give 0.01\\)$"),
        (lambda: model.predict(table, k=2, homography={}), "^homography: expected a 3x3 matrix .*, got dict$"),
        (lambda: model.predict(table, k=2, classes=5), "^classes: expected labels as text"),
        (lambda: model.predict(table, k=2, since="700"), "^since must be a time .* \\(got '700'\\)$"),
        (lambda: model.predict(table, k=2, every_window=True, since=700), "^since picks latest windows"),
        (lambda: model.predict(table, k=2, since=1e9), "^since 1e\\+09: no agent was seen at or after it"),
        # A number of a type the API does not take (a Decimal, a date-time) names the conversion.
        (lambda: model.predict(table, k=2, since=pd.Timestamp("2024-05-01")), "\\): give its seconds since 1970, "
         "pd.Timestamp\\(since\\).timestamp\\(\\)$"),
        (lambda: model.predict(table, k=2, since=decimal.Decimal("7")), "\\): give it as a float, float\\(since\\)$"),
        (lambda: model.predict(table, k=2, fps=decimal.Decimal("25")), "\\): give it as a float, float\\(fps\\)$"),
        (lambda: model.predict(table, k=2, fps=decimal.Decimal("-25")), "\\(got Decimal\\('-25'\\)\\)$"),  # none saves
        (lambda: model.predict(table, k=2, since=np.timedelta64(3, "s")), "\\): give its seconds, pd.Timedelta"),
        (lambda: model.predict(table, k=2, since=np.datetime64("2024-05-01")), "since 1970, pd.Timestamp\\(since\\)"),
        (lambda: model.predict(table, k=True), "^k must be a whole number \\(got True\\)$"),
        (lambda: model.predict(table, k=2, scale=decimal.Decimal("0.5")), "\\): give it as a float, float\\(scale\\)$"),
        (lambda: model.predict(table, k=2.0), "^k must be a whole number \\(got 2.0\\): give it as an int, "
                                              "int\\(k\\)$"),
        (lambda: model.predict(table, k=float("nan")), "^k must be a whole number \\(got nan\\)$"),
        (lambda: model.predict(table, k=2, calibrate="scene", past=5), "^past: expected a scene's past"),
        (lambda: evaluate(model, latest, k=2), "^evaluate scores windows against their true futures"),
        (lambda: evaluate(model, table, k=2, calibration_draws=150.5), "^calibration_draws must be a whole number"),
        (lambda: TrajCVAE.load(None), "^TrajCVAE.load: expected a checkpoint's path"),
        (lambda: TrajCVAE.load(trained, max_gap="1"), "^max_gap must be .* \\(got '1'\\)$"),
        (lambda: OnlinePredictor(model, forget_after="2"), "^forget_after must be .* \\(got '2'\\)$"),
        (lambda: OnlinePredictor(model).tracks("3"), "^history must be a number of seconds"),
        # True/false options: a text such as "no" would count as true.
        (lambda: model.predict(table, k=2, every_window="no"), "^every_window must be True or False \\(got 'no'\\)$"),
        (lambda: model.make_windows(table, every_window="False"), "^every_window must be True or False "
         "\\(got 'False'\\)$"),
        (lambda: model.sample(latest, k=1, most_likely="no"), "^most_likely must be True or False"),
        (lambda: OnlinePredictor(model, judge_speeds="no"), "^judge_speeds must be True or False"),
        (lambda: OnlinePredictor(model, lonlat="no"), "^lonlat must be True or False"),
        (lambda: train([sim_files["test"]], None, load_config(None, []), "r", resume="false"),
         "^resume must be True or False"),
        (lambda: train([sim_files["test"]], None, load_config(None, []), 5), "^out_dir: expected a folder's path"),
        (lambda: load_config(None, {"train.epochs": 2}), "^load_config: expected overrides as a list of "
         "'section.key=value' texts, got a dict; give \\[f'{key}={value}' for key, value in overrides.items\\(\\)\\]$"),
        (lambda: visualize(model, table, "f.png", worst="no"), "^worst must be True or False"),
        (lambda: visualize(model, table, "f.png", size=(800, 6000.5)), "^size='\\(800, 6000.5\\)': expected "
         "WIDTHxHEIGHT"),
        # What the Python API alone takes: a pandas time where a time is read, counts, a past without its
        # calibration, a state of another kind, no output path; and arguments named as its parameters.
        (lambda: visualize(model, table, "f.png", t0=pd.Timestamp(0)), "^t0 must be a time in the input's time "
         "base, a finite number \\(got Timestamp"),
        (lambda: visualize(model, table, "f.png", scene_frame=float("nan")), "^scene_frame must be a time .*nan"),
        (lambda: visualize(model, table, 3), "^out must be a path \\(got 3\\)$"),
        (lambda: visualize(model, table, "f.png", scene="nope"), "^scene='nope': no such scene in the data "),
        (lambda: predict_to_file(model, table, "p.csv", chunk=-1), "^chunk must be >= 1 \\(got -1\\)$"),
        (lambda: predict_to_file(model, table, "p.csv", chunk=1.5), "^chunk must be a whole number"),
        (lambda: model.scene_past(table, batch=0), "^batch must be >= 1 \\(got 0\\)$"),
        (lambda: model.scene_past(table, seed=-1), "^seed must be between 0"),
        (lambda: model.scene_past(table, seed=None), "^seed must be a whole number \\(got None\\)$"),
        (lambda: predict_to_file(model, table, None), "^out must be a path \\(got None\\)$"),
        (lambda: run_benchmark(".", None, 3, suite="folders"), "^out must be a path \\(got 3\\)$"),
        (lambda: model.predict(table, k=2, past=model.scene_past(table)), "^past: draws are fitted to a scene's "
         "past with calibrate='scene'; give it, or no past$"),
        (lambda: model.predict(table, k=2, calibrate="scene", futures="full", past=model.scene_past(table)),
         "^past: its levels are among mean paths, and these futures are full draws: give "
         "scene_past\\(\\.\\.\\., futures='full'\\)$"),
        (lambda: model.scene_past(table, futures="draws"), "^futures must be one of mean, full \\(got 'draws'\\)$"),
        (lambda: ScenePast(np.zeros(0), np.zeros(0), np.zeros((0, 12)), "all"), "^ScenePast: futures must be 'mean' "
         "or 'full', the kind its levels are among \\(got 'all'\\)$"),
        (lambda: OnlinePredictor(model).tracks(state=5), "^state must be what this predictor's state\\(\\) "
         "returned \\(got int\\)$"),
        (lambda: model.predict(table.iloc[:0]), "^the DataFrame has no rows$"),
        (lambda: OnlinePredictor(model, scene=None), "^scene must be a name, as text or a number \\(got None\\)$"),
    ]
    for call, message in calls:
        with pytest.raises(TrajCVAEError, match=message):
            call()
    assert OnlinePredictor(model, forget_after=np.float32(2)).forget_after == 2.0
    assert OnlinePredictor(model, scene=3).scene == "3"  # a camera's number names its scene as text
    assert len(model.make_windows(table, every_window=1)) == len(model.make_windows(table, every_window=True))
    assert load_config(None, {}) == load_config(None, [])


def test_loading_a_model_leaves_the_caller_s_random_stream_where_it_was(trained):
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    TrajCVAE.load(trained)
    assert torch.equal(torch.rand(3), expected)


def test_a_model_that_has_read_tables_can_be_pickled_for_another_process(trained, sim_files):
    model = TrajCVAE.load(trained)
    tracks = model.read([sim_files["test"]])
    w = model.make_windows(tracks)  # its speed verdict on `tracks` is kept while `tracks` lives
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.sample(w, k=2), model.sample(w, k=2))


def test_a_live_predictor_and_a_scene_past_pickled_by_other_code_are_refused_in_one_line(trained, sim_files):
    """Pickled and read back by the same code, an OnlinePredictor goes on as it was and a ScenePast maps as it
    did; pickled by other trajcvae code (an upgrade since: fields missing, renamed or of another meaning, as a
    past from before its kind of futures was recorded), each is refused in one line naming what to do."""
    from trajcvae import OnlinePredictor
    from trajcvae.errors import PickledByThisCode

    model = TrajCVAE.load(trained)
    past = model.scene_past([sim_files["test"]], futures="full")
    live = OnlinePredictor(model, k=2)
    live.update(0.0, [{"agent_id": "a", "x": 0.0, "y": 0.0}])
    again = pickle.loads(pickle.dumps(live))
    np.testing.assert_array_equal(again.update(0.4, [{"agent_id": "a", "x": 0.5, "y": 0.0}])[["x", "y"]],
                                  live.update(0.4, [{"agent_id": "a", "x": 0.5, "y": 0.0}])[["x", "y"]])
    copied = pickle.loads(pickle.dumps(past))
    assert copied.futures == "full" and np.array_equal(copied.levels, past.levels)
    for made, remake in ((live, "make a new OnlinePredictor and feed it again"),
                         (past, "measure it again with scene_past")):
        old = {k: v for k, v in made.__dict__.items() if k != "future_kind" and k != "futures"}  # an older one's
        for state in (old, {**made.__getstate__(), "_code": "0123"}):
            with pytest.raises(TrajCVAEError, match=f"^this {type(made).__name__} was pickled by other trajcvae code "
                                                    rf"\(another version or commit\), whose state need not fit this "
                                                    f"one's: {remake}$"):
                pickle.loads(pickle.dumps(made)).__setstate__(state)
    assert isinstance(live, PickledByThisCode) and isinstance(past, PickledByThisCode)


def test_evaluate_takes_a_loaded_model_and_names_what_it_got_instead(trained, sim_files):
    from trajcvae.evaluate import evaluate

    for given, message in ((str(trained), f"evaluate takes a loaded model (TrajCVAE.load('{trained}')), not a str"),
                           (trained, f"evaluate takes a loaded model (TrajCVAE.load('{trained}')), not a "
                                     f"{type(trained).__name__}"),
                           (None, "evaluate takes a loaded model, not a NoneType")):
        with pytest.raises(TrajCVAEError) as e:
            evaluate(given, [sim_files["test"]], k=2, calibration_draws=0)
        assert str(e.value) == message
    # No windows to score (a subset that picked none): named, not a table of NaN or numpy's error.
    model = TrajCVAE.load(trained)
    w = model.make_windows([sim_files["test"]], every_window=True)
    for draws in (0, 100):
        with pytest.raises(TrajCVAEError, match=re.escape("evaluate: no windows given (a subset that picked none?)")):
            evaluate(model, w.subset(np.flatnonzero(w.scene == "no such scene")), k=2, calibration_draws=draws)
    # Numbers as numpy gives them: the result is still what JSON writes.
    result = evaluate(model, w.subset(np.arange(20)), k=np.int64(2), calibration_draws=np.int64(100))
    assert json.loads(json.dumps(result))["calibration"]["draws"] == 100


@pytest.mark.parametrize("kset, calibrate", [("none", "none"), ("kmeans", "none"), ("none", "scene")])
def test_evaluate_scores_a_piece_of_windows_at_a_time_with_the_numbers_of_one_call(kset, calibrate, trained,
                                                                                    sim_files, monkeypatch):
    """evaluate holds one piece of windows' samples at a time (all at once, a dense crowd's took tens of GB),
    whole blocks of the draws' passes, so its numbers are those of one call to the last bit; a run that looks
    like lasting a minute more says so once, with its estimate."""
    from trajcvae import evaluate as ev

    model = TrajCVAE.load(trained)
    whole = ev.evaluate(model, [sim_files["test"]], k=3, kset=kset, draws=20, calibrate=calibrate,
                        calibration_draws=0, log=[].append)  # (its first windows' past is short: said there)
    from trajcvae import predict as predict_module

    monkeypatch.setattr(predict_module, "SAMPLE_BLOCK", 16)  # (`sample_pieces`' pieces)
    monkeypatch.setattr(ev, "SAMPLE_BLOCK", 16)  # (the calibration's)
    ticks = iter(range(0, 10 ** 6, 30))
    monkeypatch.setattr(ev.clock, "perf_counter", lambda: next(ticks))  # 30 s a piece
    said = []
    pieces = ev.evaluate(model, [sim_files["test"]], k=3, kset=kset, draws=20, calibrate=calibrate,
                         calibration_draws=0, log=said.append)
    assert pieces == whole and pieces["scenes"]["overall"]["windows"] > 64
    timed = [line for line in said if line.startswith("evaluate: ")]
    assert len(timed) == 1 and timed[0].startswith("evaluate: 3 futures for each of 383 windows, about ")


def test_k_set_weights_are_exact_shares_that_sum_to_one_in_the_csv(tmp_path, sim_files):
    r = cli("predict", "pedestrian", sim_files["test"], "-k", 30, "--kset", "kmeans", "--draws", 30,
            "--out", tmp_path / "k.csv")
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "k.csv")
    assert (out.weight * 30).round(9).mod(1).eq(0).all()  # whole draws
    sums = out[out.step == 1].groupby(["agent_id", "t0"]).weight.sum()
    np.testing.assert_allclose(sums, 1.0, rtol=0, atol=1e-12)
    first = out[out.step == 1].groupby(["agent_id", "t0"]).weight  # in the table too, heaviest first
    assert (first.diff().dropna() <= 0).all() and (first.first() == first.max()).all()


def test_windows_of_another_models_settings_are_refused(sim_files):
    """Windows carry the settings they were cut with: a model of another step, horizon or memory refuses them
    (sample, sample_kset, evaluate, scene_past) rather than read them as its own; another model of the same
    settings takes them."""
    from dataclasses import replace

    from trajcvae.evaluate import evaluate
    from trajcvae.model import CVAE
    from trajcvae.windows import concat_windows, cut_by

    ped = TrajCVAE.load("pedestrian")
    w = ped.make_windows([sim_files["test"]], every_window=True).subset(np.arange(6))
    dc = ped.config.data
    assert w.cut == cut_by(dc)
    for change, named in [({"dt": 0.2}, "data.dt=0.4, and this model's is 0.2"),
                          ({"obs_len": 4, "pred_len": 6}, "data.obs_len=8, and this model's is 4"),
                          ({"memory": 0}, "data.memory=8, and this model's is 0"),
                          ({"neighbor_radius": 3.0}, "data.neighbor_radius=5.0, and this model's is 3.0"),
                          ({"max_neighbors": 6}, "data.max_neighbors=12, and this model's is 6"),
                          ({"memory_radius": 1.0}, "data.memory_radius=0.5, and this model's is 1.0"),
                          ({"memory_horizon": 500}, "data.memory_horizon=1000, and this model's is 500")]:
        cfg = replace(ped.config, data=replace(dc, **change))
        other = TrajCVAE(CVAE(cfg).eval(), cfg, ped.stats)
        theirs = other.make_windows([sim_files["test"]], every_window=True).subset(np.arange(2))
        with pytest.raises(TrajCVAEError, match=r"^windows: one part was made by a model of data\.\w+=.* and another "
                                                r"by one of .*: make them all with one model"):
            concat_windows([w, theirs], "windows")  # two models' windows are not joined into one's
        for call in (lambda: other.sample(w, k=2), lambda: other.sample_kset(w, k=2),
                     lambda: evaluate(other, w, k=2, calibration_draws=0), lambda: other.scene_past(w),
                     lambda: other.sample(WindowTensors.from_windows(w), k=2),  # as tensors, or joined: the same
                     lambda: other.sample(WindowTensors.from_windows(w).inputs(slice(0, 3)), k=2),
                     lambda: other.sample(concat_windows([w, w], "windows"), k=2)):
            with pytest.raises(TrajCVAEError, match=re.escape(named) + r".*model\.make_windows"):
                call()
    twin = TrajCVAE(CVAE(ped.config).eval(), ped.config, ped.stats)  # other weights, the same settings
    assert twin.sample(w, k=2).shape == (6, 2, dc.pred_len, 2)
    assert twin.sample(w.subset(np.arange(2)), k=2).shape == (2, 2, dc.pred_len, 2)  # a subset keeps its settings


def test_a_model_path_that_names_nothing_says_what_it_may_have_meant(tmp_path, monkeypatch):
    """TrajCVAE.load of a quoted ~ path names the file it meant (as reading tracks does), and a near miss of a
    built-in model's name names the built-in model."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "model.pt").write_bytes((ROOT / "trajcvae" / "models" / "pedestrian.pt").read_bytes())
    with pytest.raises(CheckpointError, match=re.escape(f"~/model.pt: checkpoint not found; '~' is not expanded in "
                                                        f"quotes: give {tmp_path / 'model.pt'}")):
        TrajCVAE.load("~/model.pt")
    for near in ("Pedestrian", "pedestrain"):
        with pytest.raises(CheckpointError, match=f"^{near}: checkpoint not found; the built-in model is "
                                                  "'pedestrian'$"):
            TrajCVAE.load(near)
    (tmp_path / "pedestrian.pt").write_bytes((tmp_path / "model.pt").read_bytes())  # a copy of one's own there
    with pytest.raises(CheckpointError, match=re.escape(f"'~' is not expanded in quotes: give {tmp_path}")):
        TrajCVAE.load("~/pedestrian.pt")  # (not "the built-in model", which is not this file)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Pedestrian").write_bytes((tmp_path / "model.pt").read_bytes())
    assert TrajCVAE.load("Pedestrian").config.data.dt == 0.4  # a file of that name is read


def test_a_table_read_without_the_model_s_rate_is_refused_not_read_a_step_a_frame(sim_files):
    """A model trained at a known rate reads frame ids of no known rate at that rate; a table read_tracks read
    without one (each frame-id difference a model step) would be predicted at another speed: refused, naming
    the fix. The table read at the model's rate is predicted as its files are."""
    from dataclasses import replace

    from trajcvae.evaluate import evaluate
    from trajcvae.tracks import read_tracks

    ped = TrajCVAE.load("pedestrian")
    cfg = replace(ped.config, data=replace(ped.config.data, fps=25.0))  # the sim's frame ids: 10 a 0.4 s step
    model = TrajCVAE(ped.model, cfg, ped.stats)
    fix = re.escape("read at its training rate, 25 a second: give read_tracks(..., fps=25), or the files")
    for call in (lambda t: model.predict(t, k=1), lambda t: model.make_windows(t),
                 lambda t: evaluate(model, t, k=1, calibration_draws=0)):
        with pytest.raises(TrajCVAEError, match=fix):
            call(read_tracks([sim_files["test"]]))
    pd.testing.assert_frame_equal(model.predict(read_tracks([sim_files["test"]], fps=25), k=1),
                                  model.predict([sim_files["test"]], k=1))


def test_a_scene_past_measured_by_another_model_is_refused(sim_files):
    """A scene's past holds the truth's levels among one model's draws: another model (other weights, the same
    settings) refuses to map its own draws by it; the model's own past maps them."""
    from trajcvae.model import CVAE

    ped = TrajCVAE.load("pedestrian")
    torch.manual_seed(0)
    twin = TrajCVAE(CVAE(ped.config).eval(), ped.config, ped.stats)
    files = [sim_files["test"]]
    with pytest.raises(TrajCVAEError, match=r"^past: it was measured by another model.*give this model's scene_past"):
        ped.predict(files, k=2, calibrate="scene", past=twin.scene_past(files))
    from dataclasses import replace  # the same weights reading windows cut otherwise: another model too
    wider = replace(ped.config, data=replace(ped.config.data, neighbor_radius=6.0))
    with pytest.raises(TrajCVAEError, match=r"^past: it was measured by another model"):
        ped.predict(files, k=2, calibrate="scene", past=TrajCVAE(ped.model, wider, ped.stats).scene_past(files))
    pd.testing.assert_frame_equal(ped.predict(files, k=2, calibrate="scene", past=ped.scene_past(files)),
                                  ped.predict(files, k=2, calibrate="scene"))
