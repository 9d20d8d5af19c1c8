"""Your own tracks: any frame rate or timestamps (resampled onto the model's 0.4 s step) and any units (a scale
or a homography to metres); futures come back in the input's time base and units, and the same motion gives
the same futures however it was sampled and measured."""
import copy
import dataclasses
import datetime
import hashlib
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from geographiclib.geodesic import Geodesic

from trajcvae import OnlinePredictor, TrajCVAE
from trajcvae.config import Config
from trajcvae.errors import DataError, TrajCVAEError, TrajCVAEWarning, worded
from trajcvae.resample import resample_rows
from trajcvae.checks import _spans, plausibility, summarize
from trajcvae.tracks import read_tracks
from trajcvae.evaluate import evaluate as trajcvae_evaluate
from trajcvae.predict import predict_to_file
from trajcvae.windows import build_windows, cut_by

from tests.helpers import ETH_UCY, ROOT, cli, one_line_error, whole_cut, write


@pytest.fixture(scope="module")
def model():
    return TrajCVAE.load("pedestrian")


@pytest.fixture(scope="module")
def plaza(sim_files) -> pd.DataFrame:
    """The synthetic plaza as recorded: frame ids 10 apart per 0.4 s step (25 ids per second), metres."""
    return pd.read_csv(sim_files["test"])


@pytest.fixture(scope="module")
def zara01() -> pd.DataFrame:
    """zara1's test file as recorded (frame ids 10 apart per 0.4 s step, metres): 148 agents, 6 of them there
    over 24 s."""
    return pd.read_csv(ETH_UCY / "zara1" / "test" / "crowds_zara01.txt", sep=r"\s+", header=None,
                       names=["frame", "agent_id", "x", "y"])


def upsample(df: pd.DataFrame, hz: float) -> pd.DataFrame:
    """Each track linearly interpolated at `hz` samples per second, with a `time` column in seconds."""
    parts = []
    for (scene, agent), g in df.groupby(["scene", "agent_id"]):
        t = g["frame"].to_numpy() / 25.0
        ts = np.round(np.arange(t[0], t[-1] + 1e-9, 1.0 / hz), 9)
        parts.append(pd.DataFrame({"scene": scene, "time": ts, "agent_id": agent,
                                   "x": np.interp(ts, t, g["x"]), "y": np.interp(ts, t, g["y"])}))
    return pd.concat(parts, ignore_index=True)


def by_time(df: pd.DataFrame, seconds_per_unit: float) -> pd.DataFrame:
    """A prediction table keyed by (agent, t0 in seconds, sample, step), sorted."""
    col = "time" if "time" in df else "frame"
    out = df.assign(t0=np.round(df["t0"] * seconds_per_unit, 6), at=np.round(df[col] * seconds_per_unit, 6))
    return out.sort_values(["agent_id", "t0", "sample", "step"]).reset_index(drop=True)


def test_frame_ids_with_their_fps_predict_exactly_as_model_steps(model, plaza):
    """ETH/UCY-style frame ids (10 per 0.4 s step): with --fps 25 the grid falls on the recorded frames."""
    plain = model.predict(plaza, k=6, seed=1)
    timed = model.predict(plaza, k=6, seed=1, fps=25)
    pd.testing.assert_frame_equal(plain, timed)
    for every in (False, True):
        a = build_windows(read_tracks(plaza), model.config.data, "windows" if every else "latest")
        b = build_windows(read_tracks(plaza, fps=25), model.config.data, "windows" if every else "latest")
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.t0, b.t0)


@pytest.mark.parametrize("hz", [10.0, 25.0])
def test_the_same_motion_sampled_faster_in_seconds_gives_the_same_futures(model, plaza, hz):
    plain = by_time(model.predict(plaza, k=6, seed=1), 1 / 25)
    fast = model.predict(upsample(plaza, hz), k=6, seed=1)
    assert "time" in fast and "frame" not in fast  # the input's time base comes back
    fast = by_time(fast, 1.0)
    assert len(fast) == len(plain)
    np.testing.assert_allclose(fast[["t0", "at"]], plain[["t0", "at"]], atol=1e-6)
    np.testing.assert_allclose(fast[["x", "y"]], plain[["x", "y"]], atol=1e-4)


def test_loggers_out_of_phase_keep_their_neighbours_until_their_next_fix_is_due():
    """Two walkers side by side, each logged at 1 Hz on its own clock (GPS, --max-gap 1.5): at each one's
    t0 the other was last seen up to a second before, and is still its neighbour (moved along its
    velocity). On one clock, a walker missing at t0 was due there: it is no neighbour, as on frame ids."""
    cfg = copy.deepcopy(TrajCVAE.load("pedestrian").config.data)
    cfg.max_gap = 1.5

    def logs(phase_b, skip=()):
        rows = [(t, "a", 1.3 * t, 0.0) for t in np.arange(0.0, 30.0, 1.0)]
        rows += [(t, "b", 1.3 * t, 1.5) for t in np.arange(phase_b, 30.0, 1.0) if round(t, 6) not in skip]
        return read_tracks(pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"]))

    for phase in (0.3, 0.6, 0.9):  # b's fix comes that long after a's, so a's t0 saw b 1 - phase before
        w = build_windows(logs(phase), cfg, "windows")
        mine = w.agent_id == "a"
        beside = w.nbr[mine][:, 0, -1]  # (N, 2) the neighbour at t0, in a's frame (heading +x, metres)
        assert mine.sum() > 10 and np.isfinite(beside).all()
        np.testing.assert_allclose(np.abs(beside[:, 1]), 1.5, atol=1e-6)  # along its velocity: still beside a
        np.testing.assert_allclose(beside[:, 0], w.obs[mine][:, -1, 0], atol=1e-6)  # level with it, not behind
        latest = build_windows(logs(phase), cfg, "latest")
        assert np.isfinite(latest.nbr[list(latest.agent_id).index("a")][0, -1]).all()
    w = build_windows(logs(0.0, skip={20.0}), cfg, "windows")  # in phase; b missed at t = 20 s
    at_20 = (w.agent_id == "a") & np.isclose(w.t0, 20.0)
    assert at_20.sum() == 1 and np.isnan(w.nbr[at_20][0, :, -1]).all()
    assert np.isfinite(w.nbr[(w.agent_id == "a") & np.isclose(w.t0, 19.0)][0, 0, -1]).all()


def test_detections_stamped_a_few_ms_apart_keep_their_neighbours_at_t0():
    """Two walkers side by side at 2.5 Hz, each detection stamped on its own a few ms off the moment it was made
    (a logger's wobble): where the other's detection of a moment comes after the agent's t0, it is not read, and
    the other, due then, is still its neighbour, moved along its velocity (1 ms of wobble cost 30% of ETH/UCY
    zara1's neighbours). On one clock (both stamped alike), one missed at t0 is no neighbour: a test above."""
    cfg = copy.deepcopy(TrajCVAE.load("pedestrian").config.data)
    rng = np.random.default_rng(0)
    for wobble in (0.0005, 0.001, 0.005, 0.01):  # seconds, uniform either way
        moments = np.arange(0.0, 30.0, 0.4)
        rows = [(t + rng.uniform(-wobble, wobble), who, 1.3 * t, lane) for t in moments for who, lane in
                (("a", 0.0), ("b", 1.5))]
        tracks = read_tracks(pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"]))
        w = build_windows(tracks, cfg, "windows")
        mine = w.agent_id == "a"
        beside = w.nbr[mine][:, 0, -1]  # (N, 2) the neighbour at t0, in a's frame (heading +x, metres)
        assert mine.sum() > 40 and np.isfinite(beside).all(), wobble
        np.testing.assert_allclose(np.abs(beside[:, 1]), 1.5, atol=0.05)


def test_frame_ids_of_a_25_fps_video_come_back_as_frame_ids(model, plaza):
    """One row per video frame at 25 fps: frame ids 1 apart. The futures are 12 x 0.4 s long, not 12 frames."""
    video = upsample(plaza, 25.0)
    video = video.assign(frame=np.round(video.pop("time") * 25).astype(int))
    out = model.predict(video, k=3, seed=0, fps=25)
    assert (out.groupby(["agent_id", "sample"]).frame.max() - out.groupby(["agent_id", "sample"]).t0.max() == 120).all()
    plain = by_time(model.predict(plaza, k=3, seed=0), 1 / 25)
    np.testing.assert_allclose(by_time(out, 1 / 25)[["x", "y"]], plain[["x", "y"]], atol=1e-4)


def test_frame_ids_of_a_24_fps_video_give_futures_at_fractional_frame_ids(model, tmp_path):
    """At 24 fps a 0.4 s step is 9.6 frame ids: each future's frame id is t0 + 9.6 x step, not rounded to a
    whole frame (which would put it up to 0.02 s off the position written beside it), in memory and in a file."""
    walk = pd.DataFrame({"frame": np.arange(0, 240, 12), "agent_id": 1, "x": 0.3 * np.arange(20), "y": 0.0})
    walk.to_csv(tmp_path / "walk.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "walk.csv", "--fps", 24, "-k", 1, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    for out in (model.predict(walk, k=1, fps=24), pd.read_csv(tmp_path / "p.csv")):
        np.testing.assert_allclose(out.frame - out.t0, 9.6 * out.step, atol=1e-9)


def test_irregular_timestamps_give_nearly_the_same_futures(model, plaza):
    """Timestamps jittered by up to 20 ms around 10 Hz: the grid still falls at each agent's latest
    observation, the rest is interpolated; the futures move by a small fraction of the distance walked."""
    fast = upsample(plaza, 10.0)
    rng = np.random.default_rng(0)
    first = fast.groupby(["scene", "agent_id"]).cumcount() == 0
    jitter = rng.uniform(-0.02, 0.02, len(fast)) * ~first
    jittered = fast.assign(time=fast["time"] + jitter)
    a = by_time(model.predict(fast, k=6, seed=1), 1.0)
    b = model.predict(jittered, k=6, seed=1)
    b = b.assign(t0=np.round(b.t0, 6)).sort_values(["agent_id", "sample", "step"]).reset_index(drop=True)
    a = a.sort_values(["agent_id", "sample", "step"]).reset_index(drop=True)
    moved = np.hypot(*(a.groupby("agent_id")[["x", "y"]].transform(lambda v: v - v.iloc[0]).to_numpy().T))
    shift = np.hypot(a.x - b.x, a.y - b.y)
    assert len(a) == len(b) and shift.mean() < 0.05 * moved.mean()


def test_a_short_gap_is_bridged_and_a_long_one_splits_the_track():
    t = np.array([0.0, 0.1, 0.2, 0.3, 0.9, 1.0, 3.0, 3.1])  # a 0.6 s gap (bridged), a 2 s gap (split)
    _, j, x, _ = resample_rows(t, np.ones(8), t * 2, np.zeros(8), anchor=0.0, step=0.2, max_gap=0.8)
    assert list(j) == [0, 1, 2, 3, 4, 5, 15]  # 0 .. 1.0 s bridged; nothing inside the 2 s gap
    np.testing.assert_allclose(x, j * 0.4)  # linear between the observations


def test_latest_windows_read_only_the_past_near_the_agents_and_come_out_the_same(model, plaza, monkeypatch):
    """A window cut from the scene at its t0 reads only its agent's and its neighbours' recent steps and, before
    them, the scene memory's paths from near its t0 position: the other rows are left out before resampling
    (`windows._readable`), and the windows are exactly those of the whole scene, with irregular times and missed
    detections: at each agent's latest time, at every t0 of the file (training's and evaluate's windows) and, for
    a dense tracker's lines (`--noise`), to float rounding."""
    import trajcvae.windows as windows

    def jittered(drop: float) -> pd.DataFrame:
        fast = upsample(plaza, 10.0)
        rng = np.random.default_rng(0)
        later = (fast.groupby(["scene", "agent_id"]).cumcount() > 0).to_numpy()
        fast = fast.assign(time=fast["time"] + rng.uniform(-0.02, 0.02, len(fast)) * later)
        return fast[(rng.random(len(fast)) >= drop) | ~later]

    readable, left_out = windows._readable, []

    def counted(index, anchor, egos, after=0.0):
        rows, cut = readable(index, anchor, egos, after)
        left_out.append(len(index.cut(anchor, after)) - len(rows))
        return rows, cut

    for drop in (0.0, 0.3):
        tracks = read_tracks(jittered(drop))
        t = tracks["frame"].to_numpy()
        for end in np.quantile(t, [0.6, 1.0]):
            monkeypatch.setattr(windows, "_readable", counted)
            got = build_windows(tracks[t <= end], model.config.data, "latest")
            monkeypatch.setattr(windows, "_readable", whole_cut)
            whole = build_windows(tracks[t <= end], model.config.data, "latest")
            for name in ("obs", "nbr", "mem", "mem_lag", "t0", "agent_id"):
                assert np.array_equal(getattr(got, name), getattr(whole, name), equal_nan=name != "agent_id"), name
        rows = tracks.iloc[np.random.default_rng(1).choice(len(tracks), 300, replace=False)]
        asked = windows.window_key(rows["scene"], rows["agent_id"], rows["frame"])
        for cfg in (model.config.data, dataclasses.replace(model.config.data, noise=0.15)):
            monkeypatch.setattr(windows, "_readable", counted)
            got = build_windows(tracks, cfg, "windows", only=asked)
            monkeypatch.setattr(windows, "_readable", whole_cut)
            whole = build_windows(tracks, cfg, "windows", only=asked)
            assert len(whole) > 20 and list(got.agent_id) == list(whole.agent_id)
            for name in ("obs", "nbr", "fut", "mem", "mem_lag", "t0"):
                np.testing.assert_allclose(getattr(got, name), getattr(whole, name), rtol=0,
                                           atol=0 if cfg.noise == 0 else 1e-8, err_msg=name)
    assert sum(left_out) > 0


def test_a_cut_keeps_the_detections_its_grid_points_and_its_neighbours_judgement_read(model, monkeypatch):
    """The rows a cut leaves out are none that its windows read (hQA10): a history's first grid point past a
    gap, extrapolated as far as its detection's two intervals before say (`in_view_for`); the step before a
    remembered path's start, alike; a neighbour's jump, judged against its moves over obs_len + pred_len steps
    (`_impossible`). Each window is as the whole cut gives it."""
    import trajcvae.windows as windows

    t = [5.613347, 6.013347, 6.813347, 7.862991, 8.262991, 9.062991, 9.462991, 10.262991]  # two missed, jittered
    one = [("s", ti, 4, xi, yi) for ti, xi, yi in zip(t, [0, -0.188, -0.479, -0.801, -0.947, -1.329, -1.572, -2.154],
                                                        [0, 1.155, 3.465, 6.068, 7.223, 9.533, 10.688, 13.0])]
    grid = np.round(np.arange(0, 12.01, 0.4), 6)
    jump = [("s", ti, 1, 0.3 * ti, 0.0) for ti in grid] + [  # B walks, stands, then jumps 14 m at t0 (a typo)
        ("s", ti, 2, -20 + 1.25 * ti if ti < 5.6 - 1e-9 else -13.0 if ti < 12 - 1e-9 else 1.0, 3.0) for ti in grid]
    tc = [16.75, 17.15, 17.55, 18.15, 18.9] + list(np.round(np.arange(20.0, 26.01, 0.4), 6))  # C, gaps at 19 s
    path = [("s", ti, "C", ti - 20.0, 0.0) for ti in tc] + [("s", ti, "A", 0.3, 0.0) for ti in grid + 36.0]
    cfg = model.config.data
    for rows in (one, jump, path):
        tracks = read_tracks(pd.DataFrame(rows, columns=["scene", "time", "agent_id", "x", "y"]))
        monkeypatch.undo()
        got = build_windows(tracks, cfg, "latest")
        monkeypatch.setattr(windows, "_readable", whole_cut)
        whole = build_windows(tracks, cfg, "latest")
        for name in ("obs", "nbr", "mem", "mem_lag"):
            assert np.array_equal(getattr(got, name), getattr(whole, name), equal_nan=True), (rows[0], name)


def test_resampling_around_left_out_rows_makes_only_the_whole_tracks_grid_points():
    """Rows left out after a kept row (`cut`): no interpolation across them, and no extrapolation into
    them as at a track's end; every grid point made is the whole track's."""
    t = np.array([0.0, 0.3, 0.7, 1.1, 1.3, 1.75, 2.2, 2.6])
    def grid(keep, cut=None):
        _, j, x, y = resample_rows(t[keep], np.ones(keep.sum()), t[keep] ** 2, -t[keep], anchor=0.0, step=0.4,
                                   max_gap=0.8, lead=0.2, cut=cut)
        return pd.DataFrame({"x": x, "y": y}, index=j)

    whole = grid(np.ones(8, bool))
    keep = np.array([1, 1, 1, 1, 0, 0, 1, 1], bool)  # 1.1 s is kept, 1.3 and 1.75 are not
    part = grid(keep, cut=np.array([0, 0, 0, 1, 0, 0, 0, 0], bool)[keep])
    assert list(part.index) == [0, 1, 2, 6, 7]  # not 3 (1.2 s: past the kept 1.1 s), 4 or 5 (in the cut)
    pd.testing.assert_frame_equal(part, whole.loc[part.index])


def test_the_summary_line_reports_each_scenes_rate(plaza):
    assert summarize(read_tracks(upsample(plaza, 10.0))).line().endswith("test0: 10 Hz")
    assert summarize(read_tracks(plaza, fps=25)).line().endswith("test0: 2.5 Hz")


def test_time_base_mistakes_are_one_line(tmp_path, plaza):
    seconds = tmp_path / "s.csv"
    upsample(plaza, 10.0).to_csv(seconds, index=False)
    frames = tmp_path / "f.csv"
    plaza.to_csv(frames, index=False)
    one_line_error(cli("predict", "pedestrian", seconds, "--fps", 25, "--out", tmp_path / "p.csv"),
                   "--fps 25: the times of ", "keep to no 25 Hz grid", "give the rate the detections are made at, or "
                   "drop --fps")  # (10 Hz: half of them half a 25 Hz period off the others)
    one_line_error(cli("predict", "pedestrian", seconds, frames, "--out", tmp_path / "p.csv"),
                   "has a time column in seconds but", "give files of one kind at a time")
    one_line_error(cli("predict", "pedestrian", frames, "--fps", 0, "--out", tmp_path / "p.csv"),
                   "--fps must be a positive number")
    with pytest.raises(DataError, match="missing column.*frame \\(or time in seconds\\)"):
        (tmp_path / "n.csv").write_text("when,agent_id,x,y\n0,1,0,0\n")
        read_tracks([tmp_path / "n.csv"])


def test_cli_writes_futures_in_the_inputs_time_base(tmp_path, plaza):
    seconds = tmp_path / "s.csv"
    upsample(plaza, 10.0).to_csv(seconds, index=False)
    r = cli("predict", "pedestrian", seconds, "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out.columns) == ["scene", "agent_id", "t0", "sample", "step", "time", "x", "y"]
    np.testing.assert_allclose(out.time - out.t0, out.step * 0.4, atol=1e-9)
    assert "test0: 10 Hz" in r.output


def test_times_are_written_as_they_were_read_so_t0_names_the_observation(tmp_path, plaza):
    """A tracker's timestamps to the microsecond, since 1970: each t0 written is the agent's observation
    to the digit (4 decimals would put it before the observation), and each future's time t0 + 0.4 s steps."""
    fast = upsample(plaza, 10.0)
    rng = np.random.default_rng(2)
    fast = fast.assign(time=np.round(1.7e9 + fast.time + rng.uniform(-0.02, 0.02, len(fast)), 6))
    fast.to_csv(tmp_path / "s.csv", index=False, float_format="%.6f")
    r = cli("predict", "pedestrian", tmp_path / "s.csv", "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "p.csv", dtype={"t0": str, "time": str})
    last = fast.groupby("agent_id").time.max().map(lambda v: f"{v:.6f}")
    assert (out.t0 == out.agent_id.map(last)).all()
    np.testing.assert_allclose(out.time.astype(float) - out.t0.astype(float), out.step * 0.4, atol=1e-6)
    # Nanosecond stamps (ROS): each t0 reads back as its observation's float, which 6 decimals (a microsecond,
    # within the float's own 4 ulps there) would miss.
    stamps = (fast.time * 1e9).round().astype("int64") + rng.integers(-999, 999, len(fast))
    fast.assign(time=stamps).rename(columns={"time": "%time"}).to_csv(tmp_path / "ns.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "ns.csv", "--columns", "time_ns=%time", "-k", 2, "--out",
            tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    t0 = pd.read_csv(tmp_path / "p.csv").t0.unique()
    assert np.isin(t0, stamps.to_numpy() / 1e9).all()
    # Times no decimals write exactly (k * 0.4 computed: 13.600000000000001) keep the fewest that their floats
    # round to, not 9.
    from trajcvae.units import time_decimals
    assert time_decimals(np.arange(50) * 0.4, np.array([0.4])) == 4


@pytest.mark.filterwarnings("ignore::trajcvae.TrajCVAEWarning")  # made-up speeds, warned as they should be
def test_a_step_or_gap_out_of_scale_with_the_sampling_is_refused_before_resampling(plaza):
    """One sample a day bridged by a huge --max-gap would be interpolated onto 0.4 s steps: millions of
    positions from a few hundred rows. Refused in one line naming both options, before any work."""
    daily = plaza.assign(time=plaza.frame / 10 * 86_400.0).drop(columns="frame")
    with pytest.raises(DataError, match="would make .* positions: check both against the input's sampling"):
        TrajCVAE.load("pedestrian", max_gap=1e6).predict(daily, k=1)


def test_rows_out_of_time_order_are_sorted_and_counted(plaza):
    shuffled = plaza.sample(frac=1.0, random_state=0)
    s = summarize(read_tracks(shuffled))
    assert s.rows_sorted > 0 and f"{s.rows_sorted} rows out of time order sorted" in s.line()
    assert summarize(read_tracks(plaza)).rows_sorted == 0  # agents interleaved frame by frame: in order
    by_agent = plaza.sort_values(["agent_id", "frame"])
    assert summarize(read_tracks(by_agent)).rows_sorted == 0


@pytest.mark.parametrize("kind", ["date-times", "durations"])
def test_a_time_column_of_date_times_or_durations_is_read_as_seconds(model, plaza, tmp_path, kind):
    """Parquet and DataFrames can hold real date-times (any time zone) or durations: they are seconds
    (since 1970-01-01 UTC, or as long), and give the futures of the same times written as seconds."""
    seconds = upsample(plaza, 10.0)
    start = pd.Timestamp("2024-05-01 12:00", tz="Europe/Berlin") if kind == "date-times" else pd.Timedelta(0)
    timed = seconds.assign(time=start + pd.to_timedelta(seconds.time, unit="s"))
    path = tmp_path / "t.parquet"
    timed.to_parquet(path)
    got, want = model.predict([path], k=2, seed=0), model.predict(seconds, k=2, seed=0)
    np.testing.assert_allclose(got[["x", "y"]], want[["x", "y"]], atol=1e-9)
    offset = start.timestamp() if kind == "date-times" else 0.0
    np.testing.assert_allclose(got.time - offset, want.time, atol=1e-6)
    with pytest.raises(DataError, match=f"column 'frame' holds {kind}, not frame ids; name it `time`"):
        read_tracks(timed.rename(columns={"time": "frame"}))


def test_iso_8601_times_in_a_csv_are_read_as_seconds_since_1970(model, plaza, tmp_path):
    """A logger's CSV with ISO 8601 times (a zone, Z or none, read as UTC; 'T' or a space; a decimal point or
    comma; RFC 3339's lower case 't' and 'z' too) gives the futures of the same times written as seconds since
    1970; a value among them that is no date-time is named by its line, and date-times in a `frame` column are
    refused as in Parquet."""
    seconds = upsample(plaza, 10.0)
    start = pd.Timestamp("2024-05-01 12:00", tz="Europe/Berlin")
    stamps = start + pd.to_timedelta(seconds.time, unit="s")
    text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z").to_numpy(dtype=object)  # +0200
    text[1::3] = stamps.dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%f").to_numpy()[1::3]  # no zone: UTC
    text[2::3] = stamps.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dt%H:%M:%S.%fz").to_numpy()[2::3]  # RFC 3339's
    text[::6] = [t.replace(".", ",") for t in text[::6]]  # ISO 8601's decimal comma: 12:00:00,4+0200
    path = tmp_path / "log.csv"
    seconds.assign(time=text).to_csv(path, index=False)
    got, want = model.predict([path], k=2, seed=0), model.predict(seconds, k=2, seed=0)
    np.testing.assert_allclose(got[["x", "y"]], want[["x", "y"]], atol=1e-4)  # a CSV's 4 decimals
    np.testing.assert_allclose(got.time - start.timestamp(), want.time, atol=1e-4)
    lines = path.read_text().splitlines()
    fields = lines[5].split(",")
    lines[5] = ",".join(fields[:1] + ["half past"] + fields[2:])  # scene,time,agent_id,x,y
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"log.csv line 6: column 'time' value 'half past' is not an ISO 8601 "
                                        r"date-time \(2024-05-01T12:00:00.1Z\), as its first value is"):
        read_tracks([path])
    with pytest.raises(DataError, match="column 'frame' holds date-times, not frame ids; name it `time`"):
        read_tracks(seconds.assign(time=text).rename(columns={"time": "frame"}))
    # A date-time among numbers of seconds is named as what it is: a column written two ways.
    mixed = seconds.astype({"time": object})
    mixed.loc[3, "time"] = text[3]
    with pytest.raises(DataError, match=r"iloc\[3\]: column 'time' value '.*' is a date-time among numbers of seconds: "
                                        r"write every time one way"):
        read_tracks(mixed)
    # A date beyond 2262 is read by pandas 3 (whose date-times reach far), and refused in one line before it.
    y2300 = datetime.datetime(2300, 1, 1, tzinfo=datetime.timezone.utc)
    late = seconds.assign(time=[(y2300 + datetime.timedelta(seconds=t)).isoformat() for t in seconds.time])
    late.to_csv(path, index=False)
    if int(pd.__version__.split(".")[0]) >= 3:
        np.testing.assert_allclose(read_tracks([path]).frame.min(), 10413792000.0 + seconds.time.min(), atol=1e-5)
    else:
        with pytest.raises(DataError, match=r"line 2: column 'time' value '2300-01-01T00:0.*' is a date-time out of "
                                            r"the range pandas reads \(1677 to 2262 before pandas 3\)$"):
            read_tracks([path])
    nullable = seconds.astype({"x": "Float64"})
    nullable.loc[3, "x"] = pd.NA
    with pytest.raises(DataError, match="^dataframe\\.iloc\\[3\\]: column 'x' is empty$"):
        read_tracks(nullable)


def test_a_model_trained_with_fps_records_it_for_its_predictions(tmp_path, plaza):
    cfg = Config()
    cfg.data.fps = 25.0
    w = build_windows(read_tracks(plaza, fps=cfg.data.fps), cfg.data)
    assert len(w) and (w.step == 10).all()  # 0.4 s at 25 frame ids per second
    # Frame ids read at that rate without --fps say so: at another rate, all would be faster or slower.
    line = summarize(read_tracks(plaza, default_fps=25.0)).line()
    assert line.endswith("test0: 2.5 Hz (frame ids read at the model's training rate, 25 a second: give --fps if "
                         "they count another)")
    assert summarize(read_tracks(plaza, fps=25.0)).line().endswith("test0: 2.5 Hz")


H = np.array([[0.021, 0.002, -3.0], [-0.001, 0.025, -1.5], [0.00002, 0.00001, 1.0]])  # pixels -> metres


def to_pixels(df: pd.DataFrame) -> pd.DataFrame:
    from trajcvae.units import from_metres
    uv = from_metres(df[["x", "y"]].to_numpy(), {"homography": H.tolist()})
    return df.assign(x=uv[:, 0], y=uv[:, 1])


def test_positions_in_centimetres_with_a_scale_give_the_same_futures_in_centimetres(model, plaza):
    metres = model.predict(plaza, k=4, seed=2)
    cm = model.predict(plaza.assign(x=plaza.x * 100, y=plaza.y * 100), k=4, seed=2, scale=0.01)
    np.testing.assert_allclose(cm[["x", "y"]] / 100, metres[["x", "y"]], atol=1e-4)


def test_positions_in_kilometres_are_written_to_a_tenth_of_a_millimetre(tmp_path, plaza):
    """CSV output rounds positions in the input's units: in kilometres that needs 7 decimals, not 4."""
    plaza.to_csv(tmp_path / "m.csv", index=False)
    plaza.assign(x=plaza.x / 1000, y=plaza.y / 1000).to_csv(tmp_path / "km.csv", index=False)
    assert cli("predict", "pedestrian", tmp_path / "m.csv", "-k", 2, "--out", tmp_path / "m_p.csv").exit_code == 0
    r = cli("predict", "pedestrian", tmp_path / "km.csv", "--scale", 1000, "-k", 2, "--out", tmp_path / "km_p.csv")
    assert r.exit_code == 0, r.output
    m, km = pd.read_csv(tmp_path / "m_p.csv"), pd.read_csv(tmp_path / "km_p.csv")
    np.testing.assert_allclose(km[["x", "y"]] * 1000, m[["x", "y"]], atol=2e-4)
    # Pixels of 5 m (an aerial image, through a homography) need 5 decimals, as the largest pixel says.
    aerial = np.diag([5.0, 5.0, 1.0])
    np.savetxt(tmp_path / "H5.txt", aerial)
    plaza.assign(x=plaza.x / 5, y=plaza.y / 5).to_csv(tmp_path / "px.csv", index=False, float_format="%.12g")
    r = cli("predict", "pedestrian", tmp_path / "px.csv", "--homography", tmp_path / "H5.txt", "-k", 2,
            "--out", tmp_path / "px_p.csv")
    assert r.exit_code == 0, r.output
    px = pd.read_csv(tmp_path / "px_p.csv")
    np.testing.assert_allclose(px[["x", "y"]] * 5, m[["x", "y"]], atol=2e-4)
    assert read_tracks([tmp_path / "px.csv"], homography=aerial).attrs["units"]["metres_per_unit"] == pytest.approx(5.0)
    # Scales per scene, one in metres and one in kilometres: the decimals the largest unit needs.
    both = pd.concat([plaza.assign(scene="m"), plaza.assign(scene="km", x=plaza.x / 1000, y=plaza.y / 1000)])
    both.to_csv(tmp_path / "both.csv", index=False, float_format="%.12g")
    write(tmp_path / "scales.csv", "scene,scale\nm,1\nkm,1000\n")
    r = cli("predict", "pedestrian", tmp_path / "both.csv", "--scale", tmp_path / "scales.csv", "-k", 2,
            "--out", tmp_path / "both_p.csv")
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "both_p.csv")
    np.testing.assert_allclose(out[out.scene == "km"][["x", "y"]] * 1000, m[["x", "y"]], atol=2e-4)


def test_pixels_at_10_hz_with_a_homography_give_the_same_futures_in_pixels(model, plaza, tmp_path):
    """The done-when case: metres at 0.4 s, and pixels at 10 Hz in seconds through a homography."""
    path = tmp_path / "H.txt"
    np.savetxt(path, H)
    metres = by_time(model.predict(plaza, k=4, seed=2), 1 / 25)
    px = model.predict(to_pixels(upsample(plaza, 10.0)), k=4, seed=2, homography=path)
    assert px.x.abs().max() > 100  # pixels, not metres
    from trajcvae.units import to_metres
    back = by_time(px.assign(**dict(zip("xy", to_metres(px[["x", "y"]].to_numpy(), {"homography": H.tolist()}).T))),
                   1.0)
    np.testing.assert_allclose(back[["x", "y"]], metres[["x", "y"]], atol=1e-4)


def test_unit_mistakes_are_one_line(tmp_path, plaza):
    frames = tmp_path / "f.csv"
    plaza.to_csv(frames, index=False)
    singular = tmp_path / "S.txt"
    np.savetxt(singular, np.ones((3, 3)))
    short = tmp_path / "short.txt"
    short.write_text("1 0 0\n0 1 0\n")
    out = tmp_path / "p.csv"
    one_line_error(cli("predict", "pedestrian", frames, "--scale", 0.01, "--homography", singular, "--out", out),
                   "--scale and --homography exclude each other")
    one_line_error(cli("predict", "pedestrian", frames, "--scale", -1, "--out", out), "--scale must be a positive")
    one_line_error(cli("predict", "pedestrian", frames, "--homography", singular, "--out", out), "singular")
    one_line_error(cli("predict", "pedestrian", frames, "--homography", short, "--out", out),
                   "expected a 3x3 matrix of 9 numbers (got 6)")
    # A pixel on, or just past, the horizon of a camera's homography is no place on the ground.
    tilted = tmp_path / "T.txt"
    np.savetxt(tilted, [[0.02, 0, 0], [0, 0.02, 0], [0, 0.01, 1]])
    for v in (-100, -100.0001):
        far = plaza.assign(y=np.where(np.arange(len(plaza)) == 7, v, plaza.y + 5))
        far.to_csv(tmp_path / "far.csv", index=False)
        one_line_error(cli("predict", "pedestrian", tmp_path / "far.csv", "--homography", tilted, "--out", out),
                       "line 9: position (", ", -100) is past the homography's horizon, where no pixel is on the "
                       "ground (check --homography)")
    one_line_error(cli("predict", "pedestrian", frames, "--scale", 1e12, "--out", out),
                   "beyond 1e+09", "check --scale or --homography")
    one_line_error(cli("train", frames, "--homography", tmp_path / "nope.txt", "--out", tmp_path / "r"),
                   "--homography: no such file")
    assert not out.exists()


def test_speeds_no_walker_has_get_a_warning_that_names_the_fix(plaza, tmp_path):
    """The median speed of people walking is 0.6-2.5 m/s on every ETH/UCY split: far outside it, the units or
    the rate are probably wrong, and the summary is followed by one warning line naming the option."""
    from trajcvae.checks import plausibility
    assert plausibility(read_tracks(plaza), 0.4) is None
    assert plausibility(read_tracks(plaza.assign(frame=plaza.frame // 10), fps=2.5), 0.4) is None
    video = upsample(plaza, 25.0)
    video = video.assign(frame=np.round(video.pop("time") * 25).astype(int))  # 25 fps frame ids, no --fps
    assert "--fps" in plausibility(read_tracks(video), 0.4)
    assert plausibility(read_tracks(video, fps=25), 0.4) is None
    cm = plaza.assign(x=plaza.x * 100, y=plaza.y * 100)
    assert "--scale" in plausibility(read_tracks(cm), 0.4)
    cm.to_csv(tmp_path / "cm.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "cm.csv", "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and "warning: the median speed of the tracks is" in r.output
    # Training reads through the window cache: the warning comes with the summary, built or cached.
    from trajcvae.windows import load_windows
    for _ in range(2):
        said = []
        load_windows([tmp_path / "cm.csv"], Config().data, tmp_path / "cache", said.append)
        assert len(said) == 2 and said[1].startswith("warning: the median speed of the tracks is")
    assert "(windows from cache)" in said[0]
    # One file in centimetres among files in metres: the pooled median is a walker's, that file's is not.
    for i in range(3):
        plaza.assign(scene=f"day{i}").to_csv(tmp_path / f"day{i}.csv", index=False)
    warning = plausibility(read_tracks([tmp_path / f"day{i}.csv" for i in range(3)] + [tmp_path / "cm.csv"]), 0.4)
    assert "scene 'test0' (" in warning and "cm.csv)" in warning and "--scale" in warning
    assert "give its file on its own with the fix" in warning
    # ... and when it outweighs them (millimetres beside one file in metres): it is named all the same.
    plaza.assign(x=plaza.x * 1000, y=plaza.y * 1000).to_csv(tmp_path / "mm.csv", index=False)
    warning = plausibility(read_tracks([tmp_path / "day0.csv", tmp_path / "mm.csv"]), 0.4)
    assert warning.startswith("warning: the median speed of scene 'test0' (") and "mm.csv)" in warning
    assert "give its file on its own with the fix" in warning
    # That scene among others in one file (a `scene` column): its rows are to be given on their own.
    pd.concat([pd.read_csv(tmp_path / f"day{i}.csv") for i in range(3)] + [cm]).to_csv(tmp_path / "all.csv",
                                                                                       index=False)
    warning = plausibility(read_tracks(tmp_path / "all.csv"), 0.4)
    assert "all.csv)" in warning and "give its rows as a file of their own with the fix" in warning
    assert "\n" not in warning
    # With a scale per scene, that scene's entry is the fix (one of pixels per metre, 25, is its inverse).
    warning = plausibility(read_tracks(tmp_path / "all.csv", scale={"day0": 1, "day1": 1, "day2": 1, "test0": 25}),
                           0.4)
    assert "check its scale, 25 metres per unit (pixels per metre? give 0.04)" in warning
    assert ", so correct its entry in the scales given or its rate;" in warning
    # The other scenes' jumps are still judged: a tracker's id that went 20 m away in day1.
    every = pd.read_csv(tmp_path / "all.csv")
    agent = every.loc[every.scene == "day1", "agent_id"].value_counts().index[0]
    late = (every.scene == "day1") & (every.agent_id == agent)
    late &= every.frame > every.loc[late, "frame"].median()
    every.assign(x=every.x + 20.0 * late).to_csv(tmp_path / "all.csv", index=False)
    warning = plausibility(read_tracks(tmp_path / "all.csv"), 0.4).split("\n")
    assert len(warning) == 2 and "give its rows as a file of their own" in warning[0]
    assert warning[1].startswith(f"warning: 1 track jumps: agent '{agent}' in scene 'day1'")
    # A time column in milliseconds: the warning asks about the time column, not only the units (not about
    # degrees: these positions span metres), and no window's error suggests bridging 400 s gaps.
    ms = plaza.assign(time=plaza.frame / 25 * 1000).drop(columns="frame")
    warning = plausibility(read_tracks(ms), 0.4)
    assert "time column (in seconds? Read with --columns time_ms=time" in warning and "lon, lat" not in warning
    ms.to_csv(tmp_path / "ms.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "ms.csv", "--out", tmp_path / "q.csv")
    assert r.exit_code == 1 and "Traceback" not in r.output and "--max-gap" not in r.output
    assert "sampled every 400 s (median), too far apart for steps of 0.4 s: is the time column in seconds" in r.output
    # People standing among walkers are no units error, as long as one move in ten is a walker's.
    still = plaza.drop_duplicates("agent_id").assign(x=5.0, y=5.0)
    standing = pd.concat([plaza] + [still.assign(agent_id=still.agent_id + 1000 * i, frame=f)
                                    for i in range(1, 3) for f in sorted(set(plaza.frame))[:200]])
    assert np.median(np.concatenate([s.speed for s in _spans(read_tracks(standing), 0.4)])) < 0.3
    assert plausibility(read_tracks(standing), 0.4) is None


def test_a_model_judges_speeds_by_those_it_was_trained_on(sim_files, trained, tmp_path):
    """A model records its training tracks' speeds, so one trained on vehicles predicts vehicles without a
    warning and warns about walkers, and the shipped walker model warns about vehicles by its own record;
    training, which has no model yet, judges by people walking and says vehicles are expected to fail it."""
    sim = pd.read_csv(sim_files["train"])
    for name, factor in (("cars.csv", 12.0), ("people.csv", 1.0)):
        sim.assign(x=sim.x * factor, y=sim.y * factor).to_csv(tmp_path / name, index=False)
    r = cli("train", tmp_path / "cars.csv", "--out", tmp_path / "run", "--no-figures", "--set", "train.epochs=1",
            "--set", "model.hidden=16", "--set", "model.z_dim=2", "--set", "kset.epochs=0")
    assert r.exit_code == 0 and "tracks of vehicles or cyclists are expected to get this warning" in r.output
    car_p90, walker_p90 = (TrajCVAE.load(p).stats["speeds"]["p90"] for p in (tmp_path / "run" / "best.pt", trained))
    assert car_p90 == pytest.approx(12 * walker_p90, rel=0.1)
    said = lambda model, data: cli("predict", model, tmp_path / data, "--out", tmp_path / "p.csv").output  # noqa
    assert "warning" not in said(tmp_path / "run" / "best.pt", "cars.csv")
    assert "warning" not in said(trained, "people.csv")
    assert "warning: the 90th-percentile speed of the tracks is" in said(tmp_path / "run" / "best.pt", "people.csv")
    warning = said("pedestrian", "cars.csv")
    assert "warning: the median speed of the tracks is" in warning and "of the model's training tracks (90th " \
        "percentile 1.2 m/s)" in warning and "the model knows no agents that fast: train one" in warning
    r = cli("evaluate", "pedestrian", tmp_path / "cars.csv", "-k", 2, "--calibration", 0)
    assert r.output.count("warning: the median speed") == 1 and "TrajCVAEWarning" not in r.output  # once, a line
    # The Python API warns as the CLI does: predict, evaluate and training's windows, once per table.
    from trajcvae import TrajCVAEWarning
    from trajcvae.evaluate import evaluate
    from trajcvae.windows import load_windows

    walker = TrajCVAE.load("pedestrian")
    with pytest.warns(TrajCVAEWarning, match="the median speed of the tracks is .* train one"):
        walker.predict([tmp_path / "cars.csv"], k=1)
    with pytest.warns(TrajCVAEWarning, match="the median speed of the tracks is"):
        evaluate(walker, [tmp_path / "cars.csv"], k=2, calibration_draws=0)
    with pytest.warns(TrajCVAEWarning, match="vehicles or cyclists are expected"):
        load_windows([tmp_path / "cars.csv"], Config().data)
    tracks = walker.read([tmp_path / "cars.csv"])
    with pytest.warns(TrajCVAEWarning) as caught:
        walker.predict(tracks, k=1)
        walker.predict(tracks, k=1)
    assert sum("the median speed" in str(w.message) for w in caught) == 1
    people = tracks.assign(x=tracks.x / 12, y=tracks.y / 12)  # derived: pandas copies the attributes
    assert walker.check_speeds(people) is None and walker.check_speeds(tracks).startswith("warning: the median")
    fast = TrajCVAE.load(tmp_path / "run" / "best.pt").read([tmp_path / "cars.csv"])  # judged by each model
    assert TrajCVAE.load(tmp_path / "run" / "best.pt").check_speeds(fast) is None
    with pytest.warns(TrajCVAEWarning, match="the median speed of the tracks is 13.7 m/s"):
        assert walker.check_speeds(fast)
    # Live, once the history holds enough moves to judge (a few standing agents are no units error), also
    # when the first update alone brings a crowd; the update is whole even if the warning is an error.
    from trajcvae import OnlinePredictor

    live = OnlinePredictor(walker, k=1)
    cars = pd.read_csv(tmp_path / "cars.csv")
    with pytest.warns(TrajCVAEWarning, match="the median speed of the tracks is") as caught:
        for frame in sorted(set(cars.frame))[:40]:
            live.update(frame / 25, cars[cars.frame == frame][["agent_id", "x", "y"]])
    assert sum("the median speed" in str(w.message) for w in caught) == 1
    live = OnlinePredictor(walker, k=1)
    crowd = lambda t: pd.DataFrame({"agent_id": np.arange(250), "x": 13.0 * t, "y": 3.0 * np.arange(250)})  # noqa
    live.update(0.0, crowd(0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrajCVAEWarning)
        with pytest.raises(TrajCVAEWarning, match="the median speed of the tracks is 13 m/s"):
            live.update(0.4, crowd(0.4))
    assert live.time == 0.4 and (live.futures.t0 == 0.4).all() and len(live.futures) == 250 * 12
    # The band reads as numbers (7.5-120, not 1.2e+02), from any real p90; a record that is none is no band.
    from trajcvae.checks import speed_band
    assert speed_band({"p90": 30})[:2] == (7.5, 120) == speed_band({"p90": np.float32(30)})[:2]
    assert "outside the 7.5-120 m/s of the model's training tracks (90th percentile 30 m/s)" in plausibility(
        people, 0.4, {"p90": 30})
    # Too slow for a model whose training moves were that slow a quarter of the time (a vehicle model that saw
    # queues): said, but not as agents it never saw.
    assert "the model knows no agents that slow: train one" in plausibility(people, 0.4, {"p90": 30, "slow": 0.05})
    queue = plausibility(people, 0.4, {"p90": 30, "slow": 0.25})
    assert "if they are right, they stand or queue, as 25% of the model's training moves did" in queue
    assert "knows no agents" not in queue
    from trajcvae.checks import speed_record
    assert speed_record(np.r_[np.zeros(25), np.full(75, 20.0)]) == {"p90": 20.0, "slow": 0.25}
    # Cars driving past parked ones: the moving ones' median is judged, not the scene's.
    t = np.round(np.arange(0, 10, 0.1), 6)
    parked = pd.concat([pd.DataFrame({"time": t, "agent_id": i, "x": 5.0 * i + 0.02 * np.sin(7 * t + i),
                                      "y": 0.0}) for i in range(14)]
                       + [pd.DataFrame({"time": t, "agent_id": 100 + i, "x": 17.0 * t, "y": 4.0 + 3 * i})
                          for i in range(6)])
    warning = plausibility(read_tracks(parked), 0.4)
    assert warning.startswith("warning: the median speed of the tracks, over the moves faster than 0.3 m/s (the "
                              "others stand still), is 17 m/s, outside the 0.3-5 m/s of people walking")
    walkers = parked.assign(x=np.where(parked.agent_id >= 100, parked.x / 13, parked.x))  # 1.3 m/s
    assert plausibility(read_tracks(walkers), 0.4) is None
    assert all(speed_band(bad)[2] == "people walking" for bad in ({"p90": -1.0}, {"p90": float("nan")}, {"p90": "1"},
                                                                  {"p90": True}, [], None))
    # A model trained on agents that stood still knows no moving ones: walkers are outside its band, its own
    # still agents are not; a model of creeping agents keeps its own band.
    assert "outside the 0-0.04 m/s of the model's training tracks (90th percentile 0 m/s)" in plausibility(
        read_tracks(walkers), 0.4, {"p90": 0.0})
    still = walkers.assign(x=walkers.agent_id * 3.0, y=0.0)
    assert plausibility(read_tracks(still), 0.4, {"p90": 0.0}) is None
    assert speed_band({"p90": 0.0015})[:2] == pytest.approx((0.000375, 0.006))
    # A checkpoint without the record (written before it existed) judges by people walking.
    legacy = TrajCVAE.load(trained)
    legacy.stats.pop("speeds")
    assert "of people walking" in legacy.check_speeds(legacy.read([tmp_path / "cars.csv"]), [].append)


def test_a_track_that_jumps_as_no_agent_moves_gets_a_warning_naming_the_agent(model, plaza):
    """A tracker's id that goes to another agent within the gap a track bridges joins two paths into one: a
    step over the band's top, 4 times as fast as the track's steps around it, is warned, naming the agent
    and the time, in seconds or frame ids, in files and live (a step after the jump, once per agent); a gap
    longer than the model bridges is two tracks, and walkers' tracks are fine, as are vehicles among them
    (they go on as fast) and walkers sampled at 60 Hz with centimetres of noise (told only of their jitter)."""
    t = np.round(np.arange(11) * 0.4, 6)
    walk = pd.DataFrame({"time": t, "agent_id": 7, "x": 1.2 * t, "y": 0.0})
    switched = pd.concat([walk, pd.DataFrame({"time": [4.8, 5.2, 5.6], "agent_id": 7, "x": 20.0,
                                              "y": [10.0, 10.5, 11.0]})], ignore_index=True)
    with pytest.warns(TrajCVAEWarning, match=r"1 track jumps: agent '7' in scene 'input' moves 18.2 m in 0.8 s at "
                                             r"time 4.8 \(22.7 m/s, against 1.2 m/s just before and after\)"):
        model.predict(switched, k=1)
    frames = switched.assign(frame=np.arange(len(switched))).drop(columns="time")  # of unknown rate: no gap
    assert "in 0.4 s at frame 11 (45.5 m/s" in model.check_speeds(model.read(frames), [].append)
    apart = switched.assign(time=np.where(switched.time > 4.5, switched.time + 1.0, switched.time))
    assert model.check_speeds(model.read(apart)) is None  # 1.4 s apart: two tracks, the model bridges 0.8 s
    assert model.check_speeds(model.read(plaza)) is None
    # Among walkers at 2.5 Hz, an id that goes to someone 3 m away (7 m/s, under the 20 m/s that no walker
    # reaches) is a jump; cars going on at 10 m/s are not, nor are walkers at 60 Hz with 5 cm of noise
    # (over 1/60 s, 7 m/s; over a model step, as the model reads them, a walker's pace).
    walkers = upsample(plaza, 2.5)
    one = walkers.agent_id == walkers.agent_id.value_counts().index[0]
    late = one & (walkers.time > walkers[one].time.median())
    switched = walkers.assign(x=walkers.x + 3.0 * late)
    warning = model.check_speeds(model.read(switched), [].append)
    at = walkers[late].time.min()
    assert warning.startswith("warning: 1 track jumps: agent") and f"in 0.4 s at time {at:g} (" in warning
    unix = model.check_speeds(model.read(switched.assign(time=switched.time + 1.7e9)), [].append)
    assert f"at time {1.7e9 + at:.11g} (" in unix and (1.7e9 + at) % 1  # to the tenth of a second
    cars = pd.DataFrame({"scene": "test0", "time": np.round(np.arange(0, 20, 0.4), 6)})
    cars = pd.concat([cars.assign(agent_id=1000 + i, x=10.0 * cars.time, y=3.0 * i) for i in range(3)])
    seen_twice = pd.DataFrame({"scene": "test0", "time": [3.2, 3.6], "agent_id": 500, "x": [0.0, 10.0], "y": 1.0})
    assert model.check_speeds(model.read(pd.concat([walkers, cars, seen_twice]))) is None  # no step around it
    rng = np.random.default_rng(0)
    noisy = lambda d: d.assign(x=d.x + rng.normal(0, 0.05, len(d)), y=d.y + rng.normal(0, 0.05, len(d)))  # noqa
    said = model.check_speeds(model.read(noisy(upsample(plaza, 60.0))), [].append)  # (their noise is worth giving)
    assert said.startswith("warning: the tracks jitter by about 0.05") and "jump" not in said, said
    # 30 frame ids a second read as 0.4 s steps: the noise does not hide that they crawl.
    video = noisy(upsample(plaza, 30.0))
    video = video.assign(frame=np.round(video.pop("time") * 30).astype(int))
    assert "--fps" in model.check_speeds(model.read(video), [].append)
    # Walkers who leave for a minute and come back 1 m on are no crawl: a speed is measured within a track.
    t = np.round(np.arange(8) * 0.4, 6)
    back = pd.concat([pd.DataFrame({"time": np.r_[t, 70.0], "agent_id": a, "x": np.r_[1.2 * t, 4.6], "y": 3.0 * a})
                      for a in range(10)], ignore_index=True)
    assert model.check_speeds(model.read(back)) is None
    # A verdict without the jump check (the live one) is not kept for the table: the full one still warns.
    table = model.read(switched)
    assert model.check_speeds(table, [].append, jumps=False) is None
    assert model.check_speeds(table, [].append).startswith("warning: 1 track jumps")
    # Live: warned once, a step and a bridged gap after the jump (as a file's span, once the span after it
    # is seen), after the speeds were judged (at 200 moves, t = 36.8 s); and a jump in a track's last step,
    # once the track has ended.
    live = OnlinePredictor(model, k=1)
    with pytest.warns(TrajCVAEWarning) as caught:
        for n in range(35):  # t = 30 ... 43.6 s
            s = round(30 + 0.4 * n, 6)
            crowd = pd.DataFrame({"agent_id": [f"a{i}" for i in range(12)], "x": 1.2 * s, "y": 3.0 * np.arange(12)})
            crowd = crowd.assign(y=crowd.y + 6.0 * ((crowd.agent_id == "a3") & (n >= 25)))  # at 40 s, a3's id goes
            live.update(s, crowd[(crowd.agent_id != "a5") | (n <= 30)].assign(  # a5 jumps 5 m at 42 s, then gone
                x=lambda d: d.x + 5.0 * ((d.agent_id == "a5") & (n == 30))))
            jumps = [str(w.message) for w in caught if "track jumps" in str(w.message)]
            assert len(jumps) == (n >= 28) + (n >= 33), s  # 1.2 s later
    # After a pause in updates longer than the history kept, the jump before it is still judged.
    paused = OnlinePredictor(model, k=1)
    with pytest.warns(TrajCVAEWarning, match="1 track jumps: agent 'a1' in scene 'live'"):
        for s in (*np.round(np.arange(0, 4.8, 0.4), 6), 500.0):
            paused.update(s, [(f"a{i}", 1.2 * s, 3.0 * i + 6.0 * (i == 1 and s >= 4.0)) for i in range(4)])
    assert "1 track jumps: agent 'a3' in scene 'live' moves 6.02 m in 0.4 s at time 40 (15 m/s" in jumps[0]
    assert "1 track jumps: agent 'a5' in scene 'live' moves 5.48 m in 0.4 s at time 42 (13.7 m/s" in jumps[1]
    # Each history was cut at its jump at once, so its futures are read from the part after it (`checks.readable`).
    cut = [str(w.message).split(")")[0] for w in caught if "cannot hold whole" in str(w.message)]
    assert cut == ["1 of 12 agents ('a3'", "1 of 12 agents ('a5'"]


@pytest.mark.filterwarnings("ignore:1 position lies off its track", "ignore:1 track jumps")
def test_a_position_off_its_track_reaches_no_other_agents_window_through_their_neighbours_or_the_memory(model, plaza):
    """A typo 1.5 km off one agent's track moves that agent's futures (warned), but not, through the scene
    memory, those of agents who pass the place later (it moved them hundreds of metres), nor through a
    neighbour's history: a remembered path or a neighbour holding it is left out."""
    one = plaza.agent_id == plaza.agent_id.value_counts().index[0]
    frames = plaza[one].frame.to_numpy()
    at = int(frames[len(frames) // 2])
    clean = model.predict(plaza, k=2, every_window=True)
    for typo in (plaza.assign(y=np.where(one & (plaza.frame == at), 1500.0, plaza.y)),  # mid-track
                 plaza.assign(y=np.where(one & (plaza.frame == frames[0]), 1500.0, plaza.y)),  # its first row (a
                 # neighbour's, a path's start: no window of its own reads it)
                 plaza.assign(y=np.where(one & (plaza.frame == at), 1500.0, plaza.y))[  # a row missed after it:
                     ~(one & (plaza.frame == frames[len(frames) // 2 + 1]))]):  # resampling bridges it, spread
        bad = model.predict(typo, k=2, every_window=True)
        both = clean.merge(bad, on=["agent_id", "t0", "sample", "step"], suffixes=("", "_bad"))
        moved = np.hypot(both.x - both.x_bad, both.y - both.y_bad).to_numpy()
        mine = (both.agent_id == plaza[one].agent_id.iloc[0]).to_numpy()
        assert moved[~mine].max() < 2.0, moved[~mine].max()  # (a path or a neighbour less)
    # What is left out at t0 is judged from rows up to t0: the file cut there gives the same windows (typos
    # every 15 rows of every track, so some remembered path or neighbour's next row after a t0 is one) and futures.
    from trajcvae.windows import build_windows
    nth = plaza.groupby("agent_id").cumcount()
    tracks = model.read(plaza.assign(y=np.where(nth % 15 == 14, 1500.0, plaza.y)))
    w = build_windows(tracks, model.config.data, "windows")
    for t0 in np.unique(w.t0):
        cut = build_windows(tracks[tracks.frame <= t0], model.config.data, "latest")
        now, then = np.flatnonzero(cut.t0 == t0), np.flatnonzero(w.t0 == t0)
        now = now[np.isin(cut.agent_id[now], w.agent_id[then])]
        assert (cut.agent_id[now] == w.agent_id[then]).all()
        np.testing.assert_array_equal(cut.mem[now], w.mem[then])
        np.testing.assert_array_equal(cut.nbr[now], w.nbr[then])
    typo = plaza.assign(y=np.where(one & (plaza.frame == at), 1500.0, plaza.y))
    every = model.predict(typo, k=2, every_window=True)
    for t0 in (at - 10, at, at + 10, at + 40, at + 120):
        cut = model.predict(typo[typo.frame <= t0], k=2)
        cut = cut[cut.t0 == t0].merge(every, on=["agent_id", "t0", "sample", "step"], suffixes=("", "_every"))
        assert len(cut) and np.allclose(cut[["x", "y"]], cut[["x_every", "y_every"]].to_numpy(), atol=1e-4), t0


def test_a_position_off_its_track_gets_a_warning_naming_the_agent_and_time(model, plaza):
    """One position where its agent cannot have been (a typo, a missed fix written as 0, another agent's
    detection for one frame) moves the futures of every window that reads it, so it is warned, naming the
    agent, the time and how far off it is: in files (at the model's rate and at 30 Hz) and live, once the
    position after it is seen. A jump leaves the track where it went, so it is a jump, not a spike; walkers
    at 60 Hz with 5 cm of noise and cars going on at 10 m/s are fine (the jump test above)."""
    walkers = upsample(plaza, 2.5)
    one = walkers.agent_id == walkers.agent_id.value_counts().index[0]
    at = float(walkers[one].time.iloc[len(walkers[one]) // 2])
    typo = walkers.assign(y=np.where(one & (walkers.time == at), 1500.0, walkers.y))
    agent = walkers[one].agent_id.iloc[0]
    with pytest.warns(TrajCVAEWarning, match=rf"^1 position lies off its track: agent '{agent}' in scene "
                                             rf"'test0' at time {at:g} is 1\.5e\+03 m from its positions a step before "
                                             r"and after it \(0\.\d+ m apart; there and back at .* drop that row$"):
        model.predict(typo, k=1)
    # Under four steps at the band's top off (8 m for walkers), as a fix's noise may be, it is not judged.
    near = walkers.assign(y=np.where(one & (walkers.time == at), walkers.y + 5.0, walkers.y))
    assert "off its track" not in (model.check_speeds(model.read(near), [].append) or "")
    far = walkers.assign(y=np.where(one & (walkers.time == at), walkers.y + 12.0, walkers.y))
    assert "1 position lies off its track" in model.check_speeds(model.read(far), [].append)
    frames = far.assign(frame=np.round(far.pop("time") * 2.5).astype(int))  # of unknown rate: said so
    assert "there and back at " in (said := model.check_speeds(model.read(frames), [].append)) and \
        "m/s, if one frame step is 0.4 s)" in said, said
    utm = walkers.assign(x=walkers.x + 500_000.0, y=walkers.y + 5_000_000.0)
    zero = utm.assign(x=np.where(one & (utm.time == at), 0.0, utm.x))  # a missed fix written as 0
    assert "1 position lies off its track" in model.check_speeds(model.read(zero), [].append)
    assert model.check_speeds(model.read(utm)) is None
    video = upsample(plaza, 30.0)
    one = video.agent_id == agent
    at = float(video[one].time.iloc[len(video[one]) // 2])
    swapped = video.assign(x=np.where(one & (video.time == at), video.x + 12.0, video.x))  # another's box, 1 frame
    said = model.check_speeds(model.read(swapped), [].append)  # (12 m off, 11-12 m from the positions 0.4 s away)
    assert re.search(rf"agent '{agent}' in scene 'test0' at time {at:g} is 1[12]\.\d+ m from", said), said
    # Timestamps a few milliseconds off (a wall clock's, a ROS stamp's) or a frame dropped: still judged.
    late = swapped.assign(time=np.where(one & np.isclose(swapped.time, at - 0.4), swapped.time + 0.002,
                                        swapped.time))
    assert f"at time {at:g} is 1" in model.check_speeds(model.read(late), [].append)
    dropped = swapped[~(one & np.isclose(swapped.time, at - 0.4))]
    assert f"at time {at:g} is 1" in model.check_speeds(model.read(dropped), [].append)
    # Two missed fixes written as 0 with a good position between: the two are named, not the good one.
    mine = walkers.agent_id == agent
    t = walkers[mine].time.to_numpy()
    zeros = utm.assign(x=np.where(mine & utm.time.isin(t[[20, 22]]), 0.0, utm.x),
                       y=np.where(mine & utm.time.isin(t[[20, 22]]), 0.0, utm.y))
    said = model.check_speeds(model.read(zeros), [].append)
    assert "2 positions lie off their tracks" in said and f"at time {t[21]:g} " not in said, said
    # A bad last position has no move after it: told as the jump it looks like, or as the bad row it may be.
    typo_last = utm.assign(x=np.where(mine & (utm.time == t[-1]), utm.x + 30.0, utm.x))
    said = model.check_speeds(model.read(typo_last), [].append)
    assert "just before and after" not in said, said
    assert said.endswith("(or, it being the track's last position, a bad one: correct or drop that row)"), said
    # A fix's noise is no bad position: 1 Hz GPS walkers with 2 m of noise are not warned of as one.
    rng = np.random.default_rng(0)
    gps = upsample(plaza, 1.0)
    gps = gps.assign(x=gps.x + rng.normal(0, 1.5, len(gps)), y=gps.y + rng.normal(0, 1.5, len(gps)))
    logged = TrajCVAE.load("pedestrian", max_gap=1.5)
    assert "off its track" not in (logged.check_speeds(logged.read(gps), [].append) or "")
    # Live: said once the span after it is seen (a step and a bridged gap on), once.
    live = OnlinePredictor(model, k=1)
    with pytest.warns(TrajCVAEWarning) as caught:
        for n in range(20):
            s = round(0.4 * n, 6)
            live.update(s, [(f"a{i}", 1.2 * s, 3.0 * i + (900.0 if i == 2 and n == 10 else 0.0)) for i in range(6)])
            said = [str(w.message) for w in caught]
            assert len(said) == (n >= 10) + (n >= 13), s
    # Its history is cut after the bad position at once (`checks.readable`: at 4 s, to that position alone).
    assert said[0].startswith("1 of 6 agents ('a2') observed a history the model's frame cannot hold whole")
    assert said[1].startswith("1 position lies off its track: agent 'a2' in scene 'live' at time 4 is 900 m from its "
                              "positions a step before and after it")
    assert said[1].endswith("correct or drop that detection")  # a feed has no rows


def test_tracks_that_jump_in_several_scenes_are_counted_and_the_fastest_jump_is_named():
    """Jumps in two scenes: both tracks are counted, and the warning names the fastest jump of all (30 m in a
    step, not 12 m), whichever scene comes first."""
    t = np.round(np.arange(11) * 0.4, 6)

    def scene(name: str, agent: int, leap: float) -> pd.DataFrame:
        walk = [pd.DataFrame({"scene": name, "time": t, "agent_id": a, "x": 1.2 * t, "y": 3.0 * a}) for a in range(6)]
        jumper = pd.DataFrame({"scene": name, "time": np.r_[t, 4.8, 5.2, 5.6], "agent_id": agent,
                               "x": np.r_[1.2 * t, [1.2 * 4.4 + leap] * 3], "y": np.r_[[30.0] * 11, 30.0, 30.5, 31.0]})
        return pd.concat(walk + [jumper], ignore_index=True)

    for order in (["far", "near"], ["near", "far"]):
        parts = {"far": scene("far", 70, 30.0), "near": scene("near", 80, 12.0)}
        warning = plausibility(read_tracks(pd.concat([parts[o] for o in order], ignore_index=True)), 0.4)
        assert warning.startswith("warning: 2 tracks jump; the fastest: agent '70' in scene 'far' moves 30.5 m "
                                  "in 0.8 s at time 4.8 (38.1 m/s"), warning


_WRITTEN: dict = {}


def written_once(kind: tuple, plaza: pd.DataFrame, text) -> str:
    """`text()` for this kind of file of this table, made once per module: many tests write the same file."""
    key = (*kind, hashlib.sha1(pd.util.hash_pandas_object(plaza).to_numpy().tobytes()).hexdigest())
    if key not in _WRITTEN:
        _WRITTEN[key] = text()
    return _WRITTEN[key]


def write_sdd(path, plaza: pd.DataFrame, px_per_m: float = 20.0) -> None:
    """The plaza as an SDD annotations file: 30 fps frame ids (every frame), boxes in pixels, lost boxes,
    quoted labels (agents alternate Pedestrian and Biker)."""
    def text() -> str:
        video = upsample(plaza, 30.0)
        lines = []
        for (agent, t, x, y) in video[["agent_id", "time", "x", "y"]].itertuples(index=False):
            u, v = x * px_per_m, y * px_per_m
            label = "Pedestrian" if agent % 2 else "Biker"
            lines.append(f'{agent} {u - 8:.2f} {v - 15:.2f} {u + 8:.2f} {v + 15:.2f} {round(t * 30)} 0 0 0 "{label}"')
        lines.append('999 0 0 10 10 0 1 0 0 "Pedestrian"')  # a lost box: dropped
        return "\n".join(lines) + "\n"

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(written_once(("sdd", px_per_m), plaza, text))


def test_sdd_annotations_are_box_centres_at_30_fps_with_their_label(model, plaza, tmp_path):
    sdd = tmp_path / "deathCircle" / "video0" / "annotations.txt"
    write_sdd(sdd, plaza)
    tracks = read_tracks([sdd], scale=1 / 20.0)
    assert tracks.attrs["fps"] == 30.0 and 999 not in set(tracks.agent_id)
    assert set(tracks.label) == {"Pedestrian", "Biker"} and tracks.scene.iloc[0] == "deathCircle_video0"
    r = cli("predict", "pedestrian", sdd, "--scale", 0.05, "--classes", "Pedestrian", "-k", 3,
            "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out.columns)[:4] == ["scene", "agent_id", "label", "t0"] and set(out.label) == {"Pedestrian"}
    assert (out.agent_id % 2 == 1).all()
    # The same futures as the plaza's pedestrians in metres at 0.4 s, in pixels and 30 fps frame ids.
    plain = by_time(model.predict(plaza[plaza.agent_id % 2 == 1], k=3, seed=0), 1 / 25)
    got = by_time(out.assign(x=out.x / 20, y=out.y / 20), 1 / 30)
    np.testing.assert_allclose(got[["t0", "at"]], plain[["t0", "at"]], atol=1e-6)
    np.testing.assert_allclose(got[["x", "y"]], plain[["x", "y"]], atol=2e-3)  # boxes written to 0.01 px
    one_line_error(cli("predict", "pedestrian", sdd, "--classes", "Skater", "--out", tmp_path / "q.csv"),
                   "no agent of those classes", "Biker, Pedestrian")
    # A bad value is named at its line of the file, blank lines before it counted.
    lines = sdd.read_text().split("\n")
    lines[4] = lines[4].replace(lines[4].split()[4], "x", 1)
    sdd.write_text("\n".join(lines[:2] + ["", "   "] + lines[2:]))
    with pytest.raises(DataError, match="annotations.txt line 7: SDD column 'ymax' value 'x' is not a number"):
        read_tracks([sdd])
    # A label whose closing quote is lost ran on over the next line, which was gone; a line without its label
    # was read with none; a file cut inside a label was "not a readable CSV/text table" at a row one line up.
    write_sdd(sdd, plaza)
    lines = sdd.read_text().split("\n")
    label = lines[5].split()[-1].strip('"')
    for i, line, said in ((5, lines[5][:-1], f"line 6: SDD label '\"{label}' opens a quote not closed on its line"),
                          (6, lines[6].rsplit(" ", 1)[0], "line 7: SDD column 'label' is empty"),
                          (6, lines[6].rsplit(" ", 1)[0] + ' ""', "line 7: SDD column 'label' is empty (an SDD line "
                           'has 10 fields, the last a label such as "Pedestrian")'),
                          (7, lines[7][:-1], "line 8: a quote (\") opened there is never closed")):
        sdd.write_text("\n".join(lines[:i] + [line] + (lines[i + 1:] if i < 7 else [])))
        with pytest.raises(DataError, match=re.escape(f"annotations.txt {said}")):
            read_tracks([sdd])


def test_trajnetplusplus_ndjson_reads_its_tracks_at_its_rate(model, plaza, tmp_path):
    import json
    path = tmp_path / "plaza.ndjson"
    with open(path, "w") as f:
        f.write(json.dumps({"scene": {"id": 0, "p": 1, "s": 0, "e": 400, "fps": 2.5, "tag": [1, []]}}) + "\n")
        for row in plaza.sort_values(["frame", "agent_id"]).itertuples(index=False):
            f.write(json.dumps({"track": {"f": int(row.frame), "p": int(row.agent_id), "x": row.x, "y": row.y}})
                    + "\n")
    tracks = read_tracks([path])
    assert tracks.attrs["fps"] == 25.0  # one sample every 10 frame ids, 2.5 samples a second
    # Its scene record (a primary pedestrian to predict from its scene's end) is not what predict forecasts:
    # said once, by the CLI as by the Python API (it was read for its rate in silence).
    with pytest.warns(TrajCVAEWarning, match=r"plaza.ndjson: its 1 TrajNet\+\+ scene record is not predicted: each "
                      r"pedestrian is predicted from its latest position in the input; primary=True predicts each"):
        got = model.predict([path], k=3, seed=0)
    r = cli("predict", "pedestrian", path, "-k", 1, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and r.output.count("TrajNet++ scene record") == 1, r.output
    want = model.predict(plaza, k=3, seed=0)
    np.testing.assert_allclose(got[["x", "y"]], want[["x", "y"]], atol=1e-9)
    # Under another name it is recognised by its first record, .json too (it was read as a table, and refused).
    named = tmp_path / "plaza.json"
    named.write_bytes(path.read_bytes())
    pd.testing.assert_frame_equal(read_tracks([named]).drop(columns=["scene", "_file"]),
                                  tracks.drop(columns=["scene", "_file"]))
    # A table's JSON Lines under TrajNet++'s name are told the name that reads them.
    table = tmp_path / "table.ndjson"
    table.write_text(plaza.head(40).to_json(orient="records", lines=True))
    with pytest.raises(DataError, match=r"table.ndjson: no TrajNet\+\+ track records \(its records are a table's: .* "
                                        r"name it table.jsonl to read JSON Lines of a table\)$"):
        read_tracks([table])
    table.write_text(plaza.head(40).to_json(orient="records"))
    with pytest.raises(DataError, match=r"line 1: not a TrajNet\+\+ record .*; a JSON table's array: name it "
                                        r"table.json$"):
        read_tracks([table])
    # A scene record with a wrong rate: the speed warning points at the file's own rate, not at an --fps
    # the user never gave.
    fast = tmp_path / "fast.ndjson"
    fast.write_text(path.read_text().replace('"fps": 2.5', '"fps": 25'))
    from trajcvae.checks import plausibility
    assert "the file's own rate (250 frame ids a second; --fps overrides it)" in plausibility(read_tracks([fast]), 0.4)
    # Two datasets' files joined (frame ids 10 and 12 apart, one fps): the rate is read at the commoner step, so
    # the other's moves come at another rate: said, with the fix.
    other = plaza.assign(frame=plaza.frame * 1.2 + 100_000, agent_id=plaza.agent_id + 1000).iloc[:len(plaza) // 2]
    joined = tmp_path / "joined.ndjson"
    joined.write_text(path.read_text() + "".join(json.dumps({"track": {"f": int(r.frame), "p": int(r.agent_id),
                                                                       "x": r.x, "y": r.y}}) + "\n"
                                                 for r in other.itertuples(index=False)))
    assert plausibility(read_tracks([path]), 0.4, time_step=1) is None  # (a model's step is no TrajNet++ file's)
    said = plausibility(read_tracks([joined]), 0.4)
    assert said.startswith("warning: scene 'joined' moves 12 frame ids at a time in ") and said.endswith(
        "not its step of 10, at which its scene records' rate is read (25 frame ids a second): the other moves are "
        "read at another rate; give the rows of each step as their own file"), said
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"track": {"f": 0, "p": 1, "x": 0, "y": 0}}\n{"track": {"f": 10, "p": 1}}\n')
    with pytest.raises(DataError, match="bad.ndjson line 2: a TrajNet\\+\\+ track record without 'x'$"):
        read_tracks([bad])
    # A rate that is none, an id that is none, and a bad value: each named at its line of the file.
    tracks_text = '{"track": {"f": 0, "p": 1, "x": 0, "y": 0}}\n{"track": {"f": 10, "p": 1, "x": 1, "y": 0}}\n'
    for fps in ("0", "-2.5", "NaN", "Infinity"):
        bad.write_text('{"scene": {"id": 0, "p": 1, "s": 0, "e": 10, "fps": %s}}\n' % fps + tracks_text)
        with pytest.raises(DataError, match="bad.ndjson line 1: scene 'fps' .* is no frame rate"):
            read_tracks([bad])
    for p in ("[1]", "true", "1.5"):
        bad.write_text('{"scene": {"id": 0, "fps": 2.5}}\n' + tracks_text.replace('"p": 1,', '"p": %s,' % p, 1))
        with pytest.raises(DataError, match="bad.ndjson line 2: track 'p' .* is no pedestrian id"):
            read_tracks([bad])
    bad.write_text('{"scene": {"id": 0, "fps": 2.5}}\n\n' + tracks_text.replace('"x": 1', '"x": NaN'))
    with pytest.raises(DataError, match="bad.ndjson line 4: column 'x'"):
        read_tracks([bad])


def test_trajnetplusplus_test_scenes_predict_each_primary_from_its_scenes_last_observed_frame(model, plaza,
                                                                                              tmp_path):
    """A TrajNet++ test file holds, per scene record, its 9 observed samples (the future removed) of every
    pedestrian there. --primary gives each record's primary one forecast, from the scene's last observed
    frame (start + 8 samples), with its scene_id: the window the latest mode builds on the file cut at that
    frame, so nothing after it is read. A primary not observed there is counted, not predicted."""
    import json
    from trajcvae.windows import build_windows

    frames = sorted(plaza.frame.unique())
    starts = frames[5:len(frames) - 20:7]
    kept, records = set(), []
    for n, s in enumerate(starts):
        there = plaza[plaza.frame == s + 80].agent_id.unique()
        if not len(there):
            continue
        records.append({"id": f"sc{n}", "p": int(there[n % len(there)]), "s": int(s), "e": int(s + 200), "fps": 2.5})
        kept |= {(f, a) for f in range(int(s), int(s) + 81, 10) for a in plaza[plaza.frame == s + 80].agent_id}
    records.append({**records[0], "id": "twin"})  # one primary at one start twice: a forecast each
    records.append({"id": "gone", "p": 999, "s": int(starts[0]), "e": int(starts[0] + 200), "fps": 2.5})
    rows = plaza[[(f, a) in kept for f, a in zip(plaza.frame, plaza.agent_id)]]
    path = tmp_path / "test.ndjson"
    path.write_text("".join(json.dumps({"scene": r}) + "\n" for r in records) + "".join(
        json.dumps({"track": {"f": int(r.frame), "p": int(r.agent_id), "x": r.x, "y": r.y}}) + "\n"
        for r in rows.itertuples(index=False)))
    tracks = model.read([path])
    w, of = model.primary_windows(tracks)
    assert w.cut == cut_by(model.config.data)  # (another model's settings refuse them)
    assert len(w) == len(records) - 1 and w.skipped == 1 and len(records) > 5 and list(
        tracks.attrs["scene_records"]["scene_id"][of]) == [r["id"] for r in records[:-1]]
    for i in range(len(w)):
        cut = tracks[tracks.frame <= w.t0[i]]
        cut.attrs = tracks.attrs
        alone = build_windows(cut, model.config.data, mode="latest", since=w.t0[i])
        j = list(alone.agent_id).index(w.agent_id[i])
        for a, b in ((w.obs, alone.obs), (w.nbr, alone.nbr), (w.mem, alone.mem), (w.mem_lag, alone.mem_lag)):
            np.testing.assert_array_equal(a[i], b[j])
    with pytest.warns(TrajCVAEWarning, match="^1 scene record whose primary pedestrian is not observed at the scene"):
        out = model.predict([path], k=2, primary=True)  # said by the Python API as by the CLI
    firsts = out.drop_duplicates(["scene_id"]).set_index("scene_id")
    for r in records[:-1]:
        assert firsts.loc[r["id"], "agent_id"] == r["p"] and firsts.loc[r["id"], "t0"] == r["s"] + 80
    r = cli("predict", "pedestrian", path, "--primary", "-k", 1, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and "1 scene record whose primary pedestrian is not observed" in r.stderr, r.output
    assert "TrajNet++ scene record" not in r.output  # no warning that they are not predicted
    assert list(pd.read_csv(tmp_path / "p.csv").columns[:4]) == ["scene", "agent_id", "scene_id", "t0"]
    r = cli("visualize", tmp_path / "p.csv", path, "--grid", 4, "--out", tmp_path / "p.png")  # (the twins: one window)
    assert r.exit_code == 0, r.output
    one_line_error(cli("predict", "pedestrian", path, "--primary", "--every-window", "--out", tmp_path / "q.csv"),
                   "--primary predicts each TrajNet++ scene's primary pedestrian")
    plaza.to_csv(tmp_path / "plaza.csv", index=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "plaza.csv", "--primary", "--out", tmp_path / "q.csv"),
                   f"--primary: {tmp_path / 'plaza.csv'} holds no TrajNet++ scene records")


def trajnet_scores(path, truth: pd.DataFrame, records: list[dict], k: int = 3) -> dict[str, float]:
    """A TrajNet++ prediction file scored as TrajNet++'s evaluator scores it (K = k; each record's block: its
    scene line, then K x 12 tracks), against `truth` (frame ids 10 a sample): the means over records of the best
    of K futures' ADE, prediction 0's ADE and FDE, and the top-3 (the least ADE of predictions 0-2, and the FDE
    of that future)."""
    lines = [json.loads(line) for line in Path(path).read_text().splitlines()]
    truth, block, got = truth.set_index(["agent_id", "frame"]), 1 + 12 * k, []
    for i, record in enumerate(records):
        futures = np.array([[t["track"]["x"], t["track"]["y"]] for t in lines[i * block + 1:(i + 1) * block]])
        true = truth.loc[[(record["p"], f) for f in range(record["s"] + 90, record["s"] + 201, 10)], ["x", "y"]]
        d = np.linalg.norm(futures.reshape(k, 12, 2) - true.to_numpy(), axis=-1)  # (K, 12)
        top = int(np.argmin(d[:3].mean(1)))
        got.append((d.mean(1).min(), d[0].mean(), d[0, -1], d[top].mean(), d[top, -1]))
    return dict(zip(("min_ade", "first_ade", "first_fde", "top3_ade", "top3_fde"), np.mean(got, axis=0).tolist()))


def test_trajnetplusplus_predictions_are_written_as_its_evaluators_read_them_and_scored_by_its_protocol(model, plaza,
                                                                                                      tmp_path):
    """predict --primary --out X.ndjson writes TrajNet++ prediction records: per scene record of the test file,
    in its order, the record, then its primary's K futures (prediction_number 0 to K - 1, a K-set's heaviest
    first: TrajNet++ scores prediction 0 alone and the first three as its top 3), 12 `track` records each at
    the file's own frame ids with the record's scene_id. evaluate --primary scores the same windows on the
    file with futures (test_private): only the primaries, from their scenes' last observed frames."""
    frames = sorted(plaza.frame.unique())
    records, kept = [], set()
    for n, s in enumerate(frames[5:len(frames) - 30:21]):  # scenes apart: no observed sample is another's future
        there = sorted(set(plaza[plaza.frame == s].agent_id) & set(plaza[plaza.frame == s + 200].agent_id))
        if there:
            records.append({"id": n, "p": int(there[n % len(there)]), "s": int(s), "e": int(s + 200), "fps": 2.5,
                            "tag": [1, []]})
            kept |= {(f, a) for f in range(int(s), int(s) + 81, 10) for a in plaza[plaza.frame == s + 80].agent_id}
    assert len(records) == 3

    def ndjson(path, rows, scenes):
        path.write_text("".join(json.dumps({"scene": r}) + "\n" for r in scenes) + "".join(
            json.dumps({"track": {"f": int(r.frame), "p": int(r.agent_id), "x": r.x, "y": r.y}}) + "\n"
            for r in rows.itertuples(index=False)))
        return path

    test = ndjson(tmp_path / "test.ndjson", plaza[[(f, a) in kept for f, a in zip(plaza.frame, plaza.agent_id)]],
                  records)
    private = ndjson(tmp_path / "private.ndjson", plaza, records)
    r = cli("predict", "pedestrian", test, "--primary", "-k", 3, "--kset", "kmeans", "--out", tmp_path / "p.ndjson")
    assert r.exit_code == 0 and r.stdout.strip().endswith(f"3 windows x 3 samples -> {tmp_path / 'p.ndjson'}")
    lines = [json.loads(line) for line in (tmp_path / "p.ndjson").read_text().splitlines()]
    assert len(lines) == len(records) * (1 + 3 * 12)
    table = model.predict([test], k=3, kset="kmeans", primary=True)  # the same futures, as a table
    for i, record in enumerate(records):
        scene, *futures = lines[i * 37:(i + 1) * 37]
        assert scene == {"scene": record}
        assert [t["track"]["f"] for t in futures] == list(range(record["s"] + 90, record["s"] + 201, 10)) * 3
        assert [t["track"]["prediction_number"] for t in futures] == [0] * 12 + [1] * 12 + [2] * 12
        assert {(t["track"]["p"], t["track"]["scene_id"]) for t in futures} == {(record["p"], record["id"])}
        mine = table[table.scene_id == record["id"]]
        heavy = mine.sort_values("weight", ascending=False, kind="stable")["sample"].unique()
        for m, sample in enumerate(heavy):
            want = mine[mine["sample"] == sample][["x", "y"]].to_numpy()
            got = [[t["track"]["x"], t["track"]["y"]] for t in futures[12 * m:12 * (m + 1)]]
            np.testing.assert_allclose(got, want, atol=5e-5)
    with pytest.raises(DataError, match="a TrajNet\\+\\+ prediction record"):  # never read back as tracks
        read_tracks([tmp_path / "p.ndjson"])

    # evaluate --primary on the file with futures: the records' primaries alone, the errors of their futures.
    scores = trajcvae_evaluate(model, [private], k=3, kset="kmeans", calibration_draws=0, primary=True)
    assert scores["scenes"]["overall"]["windows"] == len(records) and scores["unscored"] == 0
    predict_to_file("pedestrian", [private], tmp_path / "q.ndjson", k=3, kset="kmeans", primary=True)
    for key, value in trajnet_scores(tmp_path / "q.ndjson", plaza, records).items():  # and TrajNet++'s own scores
        assert abs(scores["scenes"]["overall"][key] - value) < 1e-4, key
    # Of the learned K-set's 20 futures, prediction 0 and the top 3 are the heaviest, as the file lists them.
    scores = trajcvae_evaluate(model, [private], k=20, kset="learned", calibration_draws=0, primary=True)
    predict_to_file("pedestrian", [private], tmp_path / "q20.ndjson", k=20, kset="learned", primary=True)
    for key, value in trajnet_scores(tmp_path / "q20.ndjson", plaza, records, k=20).items():
        assert abs(scores["scenes"]["overall"][key] - value) < 1e-4, key
    (tmp_path / "q20.ndjson").unlink()
    everything = trajcvae_evaluate(model, [private], k=3, calibration_draws=0)
    assert everything["scenes"]["overall"]["windows"] > 50 * len(records)  # every full window of every agent
    # The primaries' windows alone are built (not every agent's), each as it is among all of them.
    tracks = model.read([private])
    w, _ = model.primary_windows(tracks, full=True)
    assert w.cut is not None and w.cut == cut_by(model.config.data)
    every = build_windows(tracks, model.config.data, mode="windows")
    at = [list(zip(every.agent_id, every.t0)).index((a, t)) for a, t in zip(w.agent_id, w.t0)]
    for field in ("obs", "nbr", "mem", "fut"):
        np.testing.assert_array_equal(getattr(w, field), getattr(every, field)[at], err_msg=field)
    # The test file holds no futures: refused, with the file to give instead; a record without them is said.
    with pytest.raises(DataError, match="none of the 3 .* has its 8 observed and 12 future .*test_private file"):
        trajcvae_evaluate(model, [test], k=3, calibration_draws=0, primary=True)
    gone = {"id": "gone", "p": 999, "s": records[0]["s"], "e": records[0]["e"], "fps": 2.5}
    ndjson(tmp_path / "more.ndjson", plaza, records + [gone])
    with pytest.warns(TrajCVAEWarning, match="1 of the 4 scene records' primary pedestrians has no .* frame \\(the "
                      "first: scene gone\\), and is not scored; a primary not tracked there, or a gap$"):
        assert trajcvae_evaluate(model, [tmp_path / "more.ndjson"], k=3, calibration_draws=0,
                                 primary=True)["unscored"] == 1
    (tmp_path / "more.ndjson").unlink()
    r = cli("evaluate", "pedestrian", private, "--primary", "-k", 3, "--calibration", 0, "--json", tmp_path / "e.json")
    assert r.exit_code == 0 and json.loads((tmp_path / "e.json").read_text())["primary"] is True, r.output
    assert "TrajNet++" not in r.stderr and "TrajNet++'s scores (futures as drawn): prediction 0 ADE/FDE" in r.stdout
    r = cli("evaluate", "pedestrian", private, "-k", 3, "--calibration", 0)  # every window: the protocol is named
    assert r.exit_code == 0 and "note: the input holds 3 TrajNet++ scene records; every full window of every " \
        "pedestrian is scored, and --primary scores only the records' primaries" in r.stderr, r.output

    # What a TrajNet++ prediction file cannot be: without --primary; of two test files (the evaluator pairs one
    # with its own); missing a record (it pairs scenes in order).
    one_line_error(cli("predict", "pedestrian", test, "--out", tmp_path / "x.ndjson"),
                   "x.ndjson: a TrajNet++ prediction file answers each scene record", "give --primary")
    one_line_error(cli("predict", "pedestrian", test, private, "--primary", "--out", tmp_path / "x.ndjson"),
                   "answers one test file, and 2 were read", "predict each to its own .ndjson")
    ndjson(test, plaza[[(f, a) in kept for f, a in zip(plaza.frame, plaza.agent_id)]], records + [gone])
    one_line_error(cli("predict", "pedestrian", test, "--primary", "--out", tmp_path / "x.ndjson"),
                   f"1 of the {len(records) + 1} scene records' primary pedestrians is not observed",
                   "(the first: scene gone)")
    one_line_error(cli("predict", "pedestrian", test, "--primary", "--out", tmp_path / "x.json"),
                   "unsupported table format '.json' (use .csv, .parquet or .ndjson)")
    assert not (tmp_path / "x.ndjson").exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "e.json", "p.ndjson", "private.ndjson", "q.ndjson", "test.ndjson"]


def test_trajnetplusplus_scenes_a_prediction_file_cannot_answer_are_refused_and_scored_as_predicted(model, plaza,
                                                                                                   tmp_path):
    """Samples at another rate than the model's steps (scene records of 5 samples a second, or --fps over 2.5)
    would be forecast beside the samples TrajNet++ scores: refused, and evaluate --primary scores them at the
    model's steps with a warning; one scene id given twice is one scene to TrajNet++: refused. evaluate
    --primary --calibrate scene fits each scene's draws to every finished window of the file, as predict
    --primary does, so it scores what predict writes."""
    frames = sorted(plaza.frame.unique())
    starts = [s for s in frames[40:len(frames) - 20:6] if set(plaza[plaza.frame == s].agent_id)
              & set(plaza[plaza.frame == s + 200].agent_id)]
    records = [{"id": n, "p": int(sorted(set(plaza[plaza.frame == s].agent_id)
                                         & set(plaza[plaza.frame == s + 200].agent_id))[0]),
                "s": int(s), "e": int(s + 200), "fps": 2.5} for n, s in enumerate(starts)]

    def private(name, scenes):
        path = tmp_path / name
        path.write_text("".join(json.dumps({"scene": r}) + "\n" for r in scenes) + "".join(
            json.dumps({"track": {"f": int(r.frame), "p": int(r.agent_id), "x": r.x, "y": r.y}}) + "\n"
            for r in plaza.itertuples(index=False)))
        return path

    path = private("p.ndjson", records)
    out = tmp_path / "out.ndjson"
    for given, fps, said in (([], 5, "the scenes' samples are 10 frame ids apart (0.2 s at 50 frame ids a second), "
                                     "and the model's 0.4 s steps are 20: its forecasts would not be the samples"),
                             (["--fps", 12.5], 2.5, "the scenes' samples are 10 frame ids apart (0.8 s at 12.5 frame "
                                                    "ids a second), and the model's 0.4 s steps are 5")):
        data = private("rate.ndjson", [{**r, "fps": fps} for r in records])
        r = cli("predict", "pedestrian", data, "--primary", "--out", out, *given)  # (beside the rate's warnings)
        assert r.exit_code == 1 and said in r.output and r.output.count("error: ") == 1, r.output
        r = cli("evaluate", "pedestrian", data, "--primary", "-k", 3, "--calibration", 0, *given)  # scored, as said
        assert r.exit_code == 0 and f"warning: --primary: {said.split(': its')[0]}, so each primary is scored over " \
            "the model's 12 steps (4.8 s), not over the samples TrajNet++ scores" in r.stderr, r.output
        assert "a TrajNet++ test file holds no futures" not in r.stderr, r.output  # not why any is unscored here
    shorter = copy.deepcopy(model)  # a model of 6 future steps (a config's, read before any is drawn)
    shorter.config.data.pred_len = 6
    with pytest.raises(DataError, match=r"TrajNet\+\+ scores the 12 samples after each scene's 9th, and the model "
                                        r"predicts 6: its forecasts would not be the samples TrajNet\+\+ scores"):
        predict_to_file(shorter, [path], out, k=3, primary=True)
    one_line_error(cli("predict", "pedestrian", private("twice.ndjson", records + records[:1]), "--primary", "--out",
                       out), "twice.ndjson: scene id 0 is given to two scene records, and TrajNet++ reads one scene "
                   "per id: keep one")
    assert not out.exists()
    # Frame ids of a fraction (written in seconds, 0.4 apart): each record's frame would be rounded, repeated.
    seconds = tmp_path / "seconds.ndjson"
    seconds.write_text("".join(json.dumps({"scene": {**r, "s": r["s"] / 25, "e": r["e"] / 25}}) + "\n"
                               for r in records) + "".join(json.dumps({"track": {"f": r.frame / 25, "p": int(
                                   r.agent_id), "x": r.x, "y": r.y}}) + "\n" for r in plaza.itertuples(index=False)))
    one_line_error(cli("predict", "pedestrian", seconds, "--primary", "--out", out), f"--out {out}: the futures' "
                   "frame ids are not whole numbers (", "), and a TrajNet++ record's frame is one; write a .csv")
    assert not out.exists()
    plaza.to_csv(tmp_path / "t.csv", index=False)
    one_line_error(cli("evaluate", "pedestrian", tmp_path / "t.csv", "--primary"), "--primary: "
                   f"{tmp_path / 't.csv'} holds no TrajNet++ scene records (`scene` lines naming a primary "
                   "pedestrian); without --primary every full window is scored")

    predict_to_file("pedestrian", [path], out, k=3, primary=True, calibrate="scene", log=[].append)
    scores = trajcvae_evaluate(model, [path], k=3, calibrate="scene", calibration_draws=0, primary=True, log=[].append)
    assert len(records) >= 3 and scores["unfitted"] < len(records)
    assert abs(scores["scenes"]["overall"]["min_ade"] - trajnet_scores(out, plaza, records)["min_ade"]) < 1e-4
    # Its calibration: the primaries' full draws, fitted to the full draws' levels of every finished window.
    from trajcvae.evaluate import calibration_of
    got = trajcvae_evaluate(model, [path], k=3, calibrate="scene", calibration_draws=100, primary=True,
                            log=[].append)["calibration"]
    tracks = model.read([path])
    primaries, _ = model.primary_windows(tracks, full=True)
    assert got == calibration_of(model, primaries, 100, 0, model.scene_past(tracks, futures="full"))
    assert got != calibration_of(model, primaries, 100, 0, model.scene_past(primaries, futures="full"))


def test_trajnetplusplus_primaries_of_text_ids_unknown_twice_named_or_of_no_rate_each_get_their_due(model, tmp_path):
    """Pedestrian ids as text; a record naming one nobody tracked (counted, not a crash); two records of one
    primary at one time (a forecast each, with its own scene_id: a submission needs every one); scene
    records of no rate (`"fps": null`: frame ids a step apart, each step a model step); and a CSV given beside
    them, whose agents --primary does not predict (said)."""
    import json

    def scene_file(path, kind, rate):
        rng, lines = np.random.default_rng(0), []
        for s in range(3):
            for a in range(3):
                pid = f"ped{10 * s + a}" if kind == "text" else 10 * s + a
                v, p0 = rng.normal(0, 1, 2), rng.uniform(-5, 5, 2)
                v *= 1.3 / np.linalg.norm(v)
                lines += [{"track": {"f": 300 * s + 10 * i, "p": pid, "x": float(p0[0] + 0.4 * i * v[0]),
                                     "y": float(p0[1] + 0.4 * i * v[1])}} for i in range(9)]
            primary = f"ped{10 * s}" if kind == "text" else 10 * s
            lines.insert(0, {"scene": {"id": s, "p": primary, "s": 300 * s, "e": 300 * s + 200, "fps": rate}})
        lines.insert(0, {"scene": {"id": "twin", "p": lines[2]["scene"]["p"], "s": 0, "e": 200, "fps": rate}})
        lines.insert(0, {"scene": {"id": "ghost", "p": "nobody" if kind == "text" else 999, "s": 0, "fps": rate}})
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        return path

    for kind, rate in (("text", 2.5), ("number", 2.5), ("text", None)):
        path = scene_file(tmp_path / f"{kind}{rate}.ndjson", kind, rate)
        with pytest.warns(TrajCVAEWarning, match="1 scene record whose primary pedestrian is not observed"):
            out = model.predict([path], k=1, primary=True)
        firsts = out.drop_duplicates("scene_id").set_index("scene_id")
        assert list(firsts.index) == ["twin", 2, 1, 0], (kind, rate)  # in the file's order of records
        assert firsts.loc["twin", "agent_id"] == firsts.loc[0, "agent_id"] and list(firsts.t0) == [80, 680, 380, 80]
        np.testing.assert_array_equal(out[out.scene_id == "twin"][["x", "y"]], out[out.scene_id == 0][["x", "y"]])
    r = cli("predict", "pedestrian", path, "--primary", "-k", 1, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and "1 scene record whose primary pedestrian is not observed" in r.stderr, r.output
    pd.DataFrame({"frame": [0, 10, 20], "agent_id": 1, "x": [0.0, 0.5, 1.0], "y": 0.0}).to_csv(tmp_path / "c.csv",
                                                                                              index=False)
    with pytest.warns(TrajCVAEWarning, match=r"primary=True: .*c.csv holds no TrajNet\+\+ scene records, so none "):
        with pytest.warns(TrajCVAEWarning, match="1 scene record whose primary pedestrian is not observed"):
            model.predict([path, tmp_path / "c.csv"], k=1, primary=True)


@pytest.mark.filterwarnings(r"ignore:.*TrajNet\+\+ scene record:trajcvae.TrajCVAEWarning")  # (tested above)
def test_trajnetplusplus_files_as_its_tools_write_them_and_what_they_must_not_hold(model, plaza, tmp_path):
    """TrajNet++'s own writer may leave a scene's fps null (no rate), a file may start with a byte-order mark or
    be named .jsonl: read as any TrajNet++ file. A predictor's records (prediction_number) would be read as
    observations, and scene records of two rates would give every scene one of them: both are refused."""
    import json
    scene = {"scene": {"id": 0, "p": 1, "s": 0, "e": 400, "fps": 2.5, "tag": [1, []]}}
    tracks = [json.dumps({"track": {"f": int(r.frame), "p": int(r.agent_id), "x": r.x, "y": r.y}})
              for r in plaza.sort_values(["frame", "agent_id"]).itertuples(index=False)]
    want = model.predict([write(tmp_path / "plain.ndjson", "\n".join([json.dumps(scene)] + tracks) + "\n")], k=2)
    unrated = json.dumps({"scene": {**scene["scene"], "fps": None}})
    rated = "\n".join([json.dumps(scene)] + tracks)
    for name, text in (("null.ndjson", "\n".join([unrated] + tracks)), ("x.jsonl", rated),
                       ("bom.ndjson", "\ufeff" + rated)):
        got = model.predict([write(tmp_path / name, text + "\n")], k=2)
        np.testing.assert_allclose(got[["x", "y"]], want[["x", "y"]], atol=1e-9)
    predicted = json.dumps({"track": {"f": 400, "p": 1, "x": 9.0, "y": 9.0, "prediction_number": 0, "scene_id": 0}})
    path = write(tmp_path / "out.ndjson", "\n".join([json.dumps(scene)] + tracks + [predicted]) + "\n")
    with pytest.raises(DataError, match=f"out.ndjson line {len(tracks) + 2}: a TrajNet\\+\\+ prediction record "
                                        r"\(prediction_number, scene_id\), not an observed track"):
        read_tracks([path])
    other = json.dumps({"scene": {**scene["scene"], "id": 1, "fps": 5}})
    path = write(tmp_path / "two.ndjson", "\n".join([json.dumps(scene), other] + tracks) + "\n")
    with pytest.raises(DataError, match=r"two.ndjson: its scene records give two rates \(2.5 fps at line 1, 5 at "
                                        "line 2\\), but its frame ids have one: give one file per rate"):
        read_tracks([path])
    tenth = [json.dumps({"track": {**json.loads(t)["track"], "f": int(json.loads(t)["track"]["f"]) // 10}})
             for t in tracks]  # the same samples, frame ids 1 (not 10) apart
    write(tmp_path / "tenth.ndjson", "\n".join([json.dumps(scene)] + tenth) + "\n")
    together = read_tracks([tmp_path / "plain.ndjson", tmp_path / "tenth.ndjson"])  # each at its own rate, in seconds
    assert together.attrs["time_base"] == "seconds"
    np.testing.assert_allclose(together[together.scene == "tenth"][["frame", "x", "y"]],
                               together[together.scene == "plain"][["frame", "x", "y"]], atol=1e-9)
    latin = tmp_path / "latin.txt"  # TrajNet++ by its first record, not UTF-8 further on
    latin.write_bytes(("\n".join([json.dumps(scene)] + tracks[:5]) + '\n{"scene": {"id": 1, "tag": "caf').encode()
                      + b'\xe9"}}\n')
    with pytest.raises(DataError, match=r"latin.txt line 7: not UTF-8 text; TrajNet\+\+ files are UTF-8 JSON$"):
        read_tracks([latin])
    path = write(tmp_path / "none.ndjson", json.dumps(scene) + '\n{"track": {"f": 0, "p": 1, "x": null, "y": 0}}\n')
    with pytest.raises(DataError, match=r"none.ndjson line 2: track 'x' None is not a number$"):
        read_tracks([path])


def test_sdd_files_with_a_spaced_label_first_or_a_header_row_are_read_as_sdd(plaza, tmp_path):
    """SDD's labels are quoted and may hold a space ("Golf Cart"), on the first line too; a header row of
    SDD's columns is read past. A CSV of boxes is told how to give their centres."""
    sdd = tmp_path / "a" / "annotations.txt"
    write_sdd(sdd, plaza)
    want = read_tracks([sdd], scale=0.05)
    cart = tmp_path / "b" / "annotations.txt"
    cart.parent.mkdir()
    cart.write_text(sdd.read_text().replace('"Biker"', '"Golf Cart"'))
    got = read_tracks([cart], scale=0.05)
    np.testing.assert_array_equal(got[["frame", "x", "y"]], want[["frame", "x", "y"]])
    assert set(got.label) == {"Pedestrian", "Golf Cart"}
    header = tmp_path / "c" / "annotations.txt"
    header.parent.mkdir()
    header.write_text("track_id xmin ymin xmax ymax frame lost occluded generated label\n" + sdd.read_text())
    np.testing.assert_array_equal(read_tracks([header], scale=0.05)[["frame", "x", "y"]], want[["frame", "x", "y"]])
    boxes = write(tmp_path / "boxes.csv", "frame,id,xmin,ymin,xmax,ymax\n0,1,0,0,10,10\n")
    with pytest.raises(DataError, match=r"missing column\(s\) x, y .*; for boxes, add a point of each as x and y: "
                                        r"its centre"):
        read_tracks([boxes])
    # A tracker's export of boxes as x, y, w, h (x, y: the top-left corner) reads as x, y, with a line saying so.
    corners = write(tmp_path / "corners.csv", "frame,id,x,y,w,h,score\n0,1,100,200,16,40,0.9\n10,1,104,200,16,40,0.9\n")
    for given in ([corners], pd.read_csv(corners)):
        with pytest.warns(TrajCVAEWarning, match=r"has x, y beside w, h, as a tracker writes each box's top-left "
                                                 r"corner: .* add each box's centre \(x \+ w / 2, y \+ h / 2\) or "
                                                 r"foot point \(x \+ w / 2, y \+ h\) as x, y$"):
            read_tracks(given)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # centres of their own beside the size: no line
        read_tracks([corners], columns="x=w,y=h")


def write_mot(path, plaza: pd.DataFrame, ground_truth: bool, px_per_m: float = 20.0) -> None:
    """The plaza as a MOTChallenge file: 30 fps frame ids from 1, boxes of 16 x 40 px standing on each agent's
    position. Ground truth (9 columns) gives odd agents class 1 (pedestrian), flagged 1, and even ones class 7
    (static person), flagged 0 as MOT17 flags them, and adds an occluder (999); results (10 columns) carry a
    confidence and -1 world coordinates."""
    def text() -> str:
        video = upsample(plaza, 30.0)
        lines = []
        for (agent, t, x, y) in video[["agent_id", "time", "x", "y"]].itertuples(index=False):
            u, v = x * px_per_m, y * px_per_m
            box = f"{round(t * 30) + 1},{agent},{u - 8:.2f},{v - 40:.2f},16,40"
            lines.append(box + ((",1,1,0.85" if agent % 2 else ",0,7,0.85") if ground_truth else ",0.93,-1,-1,-1"))
        if ground_truth:
            lines.append("1,999,0,0,10,10,0,9,1")  # an occluder: no agent, dropped
        return "\n".join(lines) + "\n"

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(written_once(("mot", ground_truth, px_per_m), plaza, text))


def test_motchallenge_files_are_box_foot_points_at_their_sequence_rate(model, plaza, tmp_path):
    """A tracker's MOTChallenge results and MOT ground truth (gt/gt.txt: people and vehicles, flagged or not,
    their class as the label; occluders and the like dropped) are read as each box's foot point in pixels, at
    the frame rate of the sequence's seqinfo.ini; without one, --fps must give it (frame ids are a video's
    frames, never 0.4 s steps)."""
    gt = tmp_path / "MOT17-09" / "gt" / "gt.txt"
    write_mot(gt, plaza, ground_truth=True)
    write(tmp_path / "MOT17-09" / "seqinfo.ini", "[Sequence]\nname=MOT17-09\nframeRate=30\nseqLength=9000\n")
    tracks = read_tracks([gt], scale=0.05)
    assert tracks.attrs["fps"] == 30.0 and tracks.attrs["rate_from"] == "file" and 999 not in set(tracks.agent_id)
    assert tracks.scene.iloc[0] == "MOT17-09" and set(tracks.label) == {"Pedestrian", "Static person"}
    r = cli("predict", "pedestrian", gt, "--scale", 0.05, "--classes", "Pedestrian", "-k", 3,
            "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "p.csv")
    assert set(out.label) == {"Pedestrian"} and (out.agent_id % 2 == 1).all()
    # The same futures as the plaza's pedestrians in metres at 0.4 s, in pixels and 30 fps frame ids from 1.
    plain = by_time(model.predict(plaza[plaza.agent_id % 2 == 1], k=3, seed=0), 1 / 25)
    got = by_time(out.assign(x=out.x / 20, y=out.y / 20, t0=out.t0 - 1, frame=out.frame - 1), 1 / 30)
    np.testing.assert_allclose(got[["t0", "at"]], plain[["t0", "at"]], atol=1e-6)
    np.testing.assert_allclose(got[["x", "y"]], plain[["x", "y"]], atol=2e-3)  # boxes written to 0.01 px
    # A tracker's results under their own name, with no seqinfo.ini: the video's rate must be given.
    results = tmp_path / "results" / "MOT17-09.txt"
    write_mot(results, plaza, ground_truth=False)
    one_line_error(cli("predict", "pedestrian", results, "--scale", 0.05, "--out", tmp_path / "q.csv"),
                   "MOT17-09.txt: a MOTChallenge file's frame ids are a video's frames", "give --fps")
    assert not (tmp_path / "q.csv").exists()
    both = read_tracks([results], fps=30, scale=0.05)
    np.testing.assert_array_equal(both[["frame", "x", "y"]], read_tracks([gt], scale=0.05)[["frame", "x", "y"]])
    assert "label" not in both and both.scene.iloc[0] == "MOT17-09"
    # A MOTChallenge folder: its detections (det/det.txt, id -1) are no tracks, skipped with a warning.
    (tmp_path / "MOT17-09" / "det").mkdir()
    write(tmp_path / "MOT17-09" / "det" / "det.txt", "1,-1,100,200,16,40,0.9,-1,-1,-1\n")
    with pytest.warns(TrajCVAEWarning, match=r"skipped 1 MOTChallenge detection file \(det/det.txt: detections"):
        folder = read_tracks([tmp_path / "MOT17-09"], scale=0.05)
    np.testing.assert_array_equal(folder[["frame", "x", "y"]], tracks[["frame", "x", "y"]])


def test_motchallenge_rows_that_are_no_track_are_refused_by_line(tmp_path):
    """A detection no tracker has linked (id -1, as in det.txt), a box of no size, a value that is no number
    and a seqinfo.ini without a rate are each refused in one line naming where."""
    rows = ["1,1,100,200,16,40,0.9,-1,-1,-1", "2,1,101,200,16,40,0.9,-1,-1,-1"]
    cases = [("3,-1,100,200,16,40,0.9,-1,-1,-1", "line 3: MOT id -1 (a detection no tracker has linked"),
             ("3,1,100,200,0,40,0.9,-1,-1,-1", "line 3: MOT box of width 0 and height 40"),
             ("3,1,100,2x0,16,40,0.9,-1,-1,-1", "line 3: column 'bb_top' value '2x0' is not a number")]
    for row, message in cases:
        with pytest.raises(DataError, match=re.escape(message)):
            read_tracks([write(tmp_path / "t.txt", "\n".join(rows + [row]) + "\n")], fps=30)
    with pytest.raises(DataError, match=r"t.txt line 1: MOT box of width 0 and height 40"):  # a first row too
        read_tracks([write(tmp_path / "t.txt", "\n".join(["1,1,100,200,0,40,0.9,-1,-1,-1"] + rows) + "\n")], fps=30)
    for first, message in (("1,inf,100,200,16,40,1,1,1", "column 'id' value inf is not finite"),  # (round() raised)
                           ("nan,1,100,200,16,40,0.9,-1,-1,-1", "column 'frame' value 'nan' is not finite")):
        with pytest.raises(DataError, match=rf"t.txt line 1: {message}"):
            read_tracks([write(tmp_path / "t.txt", "\n".join([first, "2,1,101,200,16,40,1,1,1"]) + "\n")], fps=30)
    seq = tmp_path / "seq" / "gt"
    seq.mkdir(parents=True)
    write(tmp_path / "seq" / "seqinfo.ini", "[Sequence]\nname=seq\nframeRate=fast\n")
    with pytest.raises(DataError, match=r"seqinfo.ini: frameRate 'fast' is not a rate in frames per second"):
        read_tracks([write(seq / "gt.txt", "\n".join(rows) + "\n")])
    with pytest.raises(DataError, match=r"line 1 has 7 columns and no header; .* or MOTChallenge rows"):
        read_tracks([write(tmp_path / "seven.txt", "1,1,100,200,16,40,0.9\n")])


def test_motchallenge_layouts_writers_and_rates_are_read_as_written(model, plaza, tmp_path, monkeypatch):
    """What trackers and datasets really write: TrackEval's layout (a sequence's gt beside a tracker's file of
    the same name stays its own scene), MOT's names as a header, a trailing comma, a tracker's 9 columns with
    class ids, CVAT's labels.txt, a relative gt/gt.txt; --fps against a seqinfo.ini is warned of, and a
    seqinfo.ini --fps stands in for need not be read. Rows of 10 numbers that are no MOT boxes are refused."""
    for seq, rows in (("MOT17-02", plaza), ("MOT17-04", plaza.iloc[:-1])):  # (no copy of the other)
        write_mot(tmp_path / "gt" / seq / "gt" / "gt.txt", rows, ground_truth=True)
        write_mot(tmp_path / "tracker" / "data" / f"{seq}.txt", rows, ground_truth=False)
    both = read_tracks([tmp_path / "gt", tmp_path / "tracker"], fps=30, scale=0.05)
    assert sorted(both.scene.unique()) == ["MOT17-02", "MOT17-02/gt/gt", "MOT17-04", "MOT17-04/gt/gt"]
    results = (tmp_path / "tracker" / "data" / "MOT17-02.txt").read_text()
    want = read_tracks([tmp_path / "tracker" / "data" / "MOT17-02.txt"], fps=30)[["frame", "agent_id", "x", "y"]]
    header = write(tmp_path / "header.csv", "frame,id,bb_left,bb_top,bb_width,bb_height,conf,x,y,z\n" + results)
    truth = (tmp_path / "gt" / "MOT17-02" / "gt" / "gt.txt").read_text()
    for seven in ("consider", "conf"):  # ground truth's column 7 under either of its names
        named = write(tmp_path / f"gt_{seven}.csv", f"frame,id,bb_left,bb_top,bb_width,bb_height,{seven},class,"
                      "visibility\n" + truth)
        assert len(read_tracks([named], fps=30)) == len(read_tracks([tmp_path / "gt" / "MOT17-02" / "gt" / "gt.txt"],
                                                                    fps=30))
    comma = write(tmp_path / "comma.txt", results.replace("\n", ",\n"))
    for path in (header, comma):
        np.testing.assert_array_equal(read_tracks([path], fps=30)[["frame", "agent_id", "x", "y"]], want)
    own = write(tmp_path / "own.csv", "frame,id,bb_left,bb_top,bb_width,bb_height,conf,x,y,z\n"
                + "\n".join(f"{f},1,100,200,16,40,0.9,{f / 10},2.0,0" for f in range(5)) + "\n")
    assert read_tracks([own]).x.tolist() == [0.0, 0.1, 0.2, 0.3, 0.4]  # MOT's names over x, y of its own: a CSV
    header_comma = write(tmp_path / "hc.csv", "frame,id,bb_left,bb_top,bb_width,bb_height,conf,x,y,z,\n" + results)
    np.testing.assert_array_equal(read_tracks([header_comma], fps=30)[["frame", "agent_id", "x", "y"]], want)
    three_d = write(tmp_path / "3d.txt", "1,1,2.5,3.1,0.9,0.6,0.5,1.7,0.1,0.93\n")  # frame id x y z w l h yaw score
    with pytest.raises(DataError, match=r"3d.txt: line 1 has 10 columns and no header"):
        read_tracks([three_d], fps=30)
    # A tracker's 9 columns (confidence, COCO class id, -1): each class id is its label, none dropped.
    coco = write(tmp_path / "coco.txt", results.replace(",0.93,-1,-1,-1", ",0.93,2,-1"))
    assert set(read_tracks([coco], fps=30).label) == {"2"}
    # Ground truth: one odd visibility keeps MOT's names; a class beyond MOT's 13 is warned of.
    gt = (tmp_path / "gt" / "MOT17-02" / "gt" / "gt.txt").read_text().splitlines()
    (tmp_path / "odd" / "gt").mkdir(parents=True)
    odd = write(tmp_path / "odd" / "gt" / "gt.txt", "\n".join([gt[0].rsplit(",", 1)[0] + ",-1"] + gt[1:]) + "\n")
    assert set(read_tracks([odd], fps=30).label) == {"Pedestrian", "Static person"}
    write(odd, "\n".join(gt + ["2,998,0,0,10,10,1,14,1"]) + "\n")
    with pytest.warns(TrajCVAEWarning, match=r"gt.txt line \d+: class 14, beyond MOT's 1-13: every box is kept"):
        assert set(read_tracks([odd], fps=30).label) == {"1", "7", "9", "14"}
    seq = tmp_path / "gt" / "MOT17-02" / "gt"
    write(seq / "labels.txt", "walker\n" + "other\n" * 5 + "stander\n")  # CVAT's export names its classes
    with pytest.warns(TrajCVAEWarning, match=r"gt.txt line \d+: class 9, beyond the 7 names of .*labels.txt: "
                                             "labelled by its class id"):
        assert set(read_tracks([seq / "gt.txt"], fps=30).label) == {"walker", "stander", "9"}  # 9: no name given
    write(seq / "labels.txt", "2\nperson, adult\n" + "other\n" * 4 + "stander\n")  # names no track file has
    with pytest.warns(TrajCVAEWarning, match="class 9, beyond the 7 names"):
        assert set(read_tracks([seq.parent], fps=30).label) == {"2", "stander", "9"}
    write(seq / "labels.txt", "0 101 672.44 196.89\n10 101 673.1 197.2\n")  # tracks so named: no class names
    assert set(read_tracks([seq / "gt.txt"], fps=30).label) == {"Pedestrian", "Static person"}
    (seq / "labels.txt").unlink()
    write(tmp_path / "tracker" / "data" / "labels.txt", "person\n")  # beside a tracker's files: no track file
    assert read_tracks([tmp_path / "tracker"], fps=30).scene.nunique() == 2
    # Rates: the seqinfo.ini's, --fps against it warned of, a broken one needed only without --fps.
    write(tmp_path / "gt" / "MOT17-02" / "seqinfo.ini", "[Sequence]\nframeRate=14\n")
    assert read_tracks([seq / "gt.txt"]).attrs["fps"] == 14.0
    with pytest.warns(TrajCVAEWarning, match=r"^fps=30 overrides the own frame rate \(a format's, or a "
                                             r"seqinfo.ini's\) of .*gt.txt \(14 a second\); drop fps"):
        read_tracks([seq / "gt.txt"], fps=30)
    write(tmp_path / "gt" / "MOT17-04" / "seqinfo.ini", "[Sequence]\nframeRate=30\n")
    mixed = read_tracks([tmp_path / "gt"])  # sequences of 14 and 30 fps: each at its own rate, timed in seconds
    assert mixed.attrs["time_base"] == "seconds" and mixed.attrs["fps"] is None
    from trajcvae.checks import plausibility  # pixels read as metres: the fix names the rates, not a time column
    assert "the files' own frame rates" in plausibility(mixed, 0.4)
    for name, rate in (("MOT17-02", 14), ("MOT17-04", 30)):
        alone = read_tracks([tmp_path / "gt" / name / "gt" / "gt.txt"])
        np.testing.assert_allclose(mixed[mixed.scene == name].frame * rate, alone.frame)
    write(tmp_path / "gt" / "MOT17-02" / "seqinfo.ini", "[Sequence]\nframeRate=14\nframeRate=15\n")
    with pytest.raises(DataError, match=r"seqinfo.ini: not a readable seqinfo.ini \(.*framerate.*\), the rate of"):
        read_tracks([seq / "gt.txt"])
    assert read_tracks([seq / "gt.txt"], fps=25).attrs["fps"] == 25.0
    with pytest.warns(TrajCVAEWarning), pytest.raises(DataError, match=r"drop fps: the files give their own rates"):
        model.predict([tmp_path / "gt" / "MOT17-04"], fps=1)  # a rate given wrong over the files' own
    monkeypatch.chdir(tmp_path / "gt" / "MOT17-04")  # a relative gt/gt.txt is named by its sequence's folder
    assert read_tracks(["gt/gt.txt"]).scene.iloc[0] == "MOT17-04"


def test_the_speed_check_reads_frame_ids_by_the_time_step_given():
    """--time-step (data.time_step) says what one step of frame ids of unknown rate is: the checks read them
    so, as the windows and the summary do, where most tracks are sampled at another step."""
    from trajcvae.checks import plausibility
    rows = [(f, a, f / 10 * 1.2 + 0.0137, 3.0 * a + 0.0137)  # (off a 0.1 m grid: no coarse writing to warn of)
            for a in range(30) for f in range(0, 400, 10 if a < 6 else 20)]
    df = read_tracks(pd.DataFrame(rows, columns=["frame", "agent_id", "x", "y"]))  # 3 m/s at 10 ids a step
    assert "10 frame ids at a time in 34% of its moves, not its step of 20" in plausibility(df, 0.4)  # inferred
    assert "20 frame ids at a time in 66% of its moves, not the model's step of 10 frame ids (data.time_step)" \
        in plausibility(df, 0.4, time_step=10)
    assert plausibility(df[df.agent_id < 6], 0.4, time_step=10) is None


def test_a_label_column_travels_through_to_the_predictions(model, plaza, tmp_path):
    labelled = plaza.assign(label=np.where(plaza.agent_id % 2 == 1, "adult", "child"))
    out = model.predict(labelled, k=2, seed=0)
    assert (out.label == np.where(out.agent_id % 2 == 1, "adult", "child")).all()
    # --classes filters on that column under any of its names; an empty --classes is refused.
    typed = labelled.rename(columns={"label": "type"})
    assert set(read_tracks(typed, classes="Child").type) == {"child"}
    left = (labelled.label == "adult").sum()  # the summary counts the rows it left out
    said = summarize(read_tracks(typed, classes="Child")).line()
    assert f"; {left} rows of other classes left out (--classes)" in said
    with pytest.raises(DataError, match="^classes names no label"):
        read_tracks(typed, classes=" ,")
    with pytest.warns(TrajCVAEWarning, match=r"^classes: no agent of class Teen in dataframe, and agents of "
                                             r"other classes are left out \(it has: adult, "):
        assert set(read_tracks(typed, classes="child,Teen").type) == {"child"}  # a misspelt or absent class
    with warnings.catch_warnings():  # a class absent where nothing else was left out: as a model advises
        warnings.simplefilter("error")
        assert len(read_tracks(typed, classes="child,adult,teen")) == len(typed)
    # It keeps the rows whose agent's label as known at that row (its latest at or before it) is one of the
    # classes: a label that goes missing along a track keeps the one before it, and a label given later (a
    # person who takes a bike after t0) never decides what was kept before it, nor the label a window written
    # then carries. Rows before an agent's first label are of no known class.
    first = labelled.agent_id.iloc[0]
    mine = labelled.agent_id == first
    early = mine & (labelled.frame < labelled.frame[mine].median())
    flicker = labelled.assign(label=np.where(early, "child", np.where(mine, "", labelled.label)))
    kept = read_tracks(flicker, classes="child")
    assert len(kept[kept.agent_id == first]) == mine.sum()
    out = model.predict(flicker, k=1, classes=["child"])
    assert set(out.agent_id) == set(kept.agent_id) and (out.label == "child").all()
    took = labelled.assign(label=np.where(early, "teen", np.where(mine, "cyclist", labelled.label)))
    teens = read_tracks(took, classes="teen")
    assert set(teens.agent_id) == {first} and len(teens) == early.sum()
    windows = model.predict(took, k=1, every_window=True)
    theirs = windows[windows.agent_id == first].drop_duplicates("t0")
    became = labelled.frame[mine & ~early].min()
    assert (theirs.label == np.where(theirs.t0 < became, "teen", "cyclist")).all() and len(set(theirs.label)) == 2
    unlabelled = labelled.assign(label=np.where(early, "", labelled.label))
    assert len(read_tracks(unlabelled, classes="adult,child")) == len(labelled) - early.sum()
    windows = model.predict(unlabelled, k=1, every_window=True)  # no label yet at t0: none, not the later one
    theirs = windows[windows.agent_id == first].drop_duplicates("t0")
    assert (theirs.label == np.where(theirs.t0 < became, "", labelled.label[mine].iloc[-1])).all()
    ids = sorted(labelled.agent_id.unique())  # an agent's unlabelled rows take no label from the agent before it
    after = next(a for a in ids if (labelled.label[labelled.agent_id == a] != labelled.label[labelled.agent_id ==
                                                                                              ids[0]].iloc[0]).all())
    lead = (labelled.agent_id == after) & (labelled.frame < labelled.frame[labelled.agent_id == after].median())
    theirs = labelled.label[labelled.agent_id == ids[0]].iloc[0]
    kept = read_tracks(labelled.assign(label=np.where(lead, "", labelled.label)), classes=theirs)
    assert not (kept.agent_id == after).any() and (kept.agent_id == ids[0]).any()
    # Two scenes of the same ids (SDD's videos) keep each its own labels.
    other = labelled.assign(scene="other", label=np.where(labelled.label == "adult", "child", "adult"))
    both = model.predict(pd.concat([labelled.assign(scene="test0"), other]), k=1)
    mixed = both.drop_duplicates(["scene", "agent_id"]).merge(
        pd.concat([labelled.assign(scene="test0"), other]).drop_duplicates(["scene", "agent_id"], keep="last"),
        on=["scene", "agent_id"], suffixes=("", "_given"))
    assert (mixed.label == mixed.label_given).all() and len(set(mixed.scene)) == 2
    with pytest.raises(DataError, match=r"no agent of those classes in dataframe \(it has: adult, child\)"):
        read_tracks(labelled, classes="teen")
    # Across files: an agent whose track runs on in a second file is judged row by row, by the labels of both,
    # and a file without any agent of those classes is no error while another file has some.
    mid = labelled.frame.median()
    labelled[labelled.frame < mid].to_csv(tmp_path / "a.csv", index=False)
    labelled[labelled.frame >= mid].assign(label=np.where(mine, "adult", "child")[
        labelled.frame >= mid]).to_csv(tmp_path / "b.csv", index=False)
    labelled.assign(scene="other", label="adult").to_csv(tmp_path / "c.csv", index=False)
    both = read_tracks([tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"], classes="adult")
    assert len(both[(both.agent_id == first) & (both.scene == "test0")]) == \
        (mine & ((labelled.frame >= mid) | (labelled.label == "adult"))).sum()
    kids = read_tracks([tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"], classes="child")
    assert not (kids.agent_id == first)[kids.frame >= mid].any() and set(kids.scene) == {"test0"}
    # A file that names its labels `type` is judged by them; a file without labels is refused by name.
    labelled.assign(scene="typed").rename(columns={"label": "type"}).to_csv(tmp_path / "d.csv", index=False)
    adults = read_tracks([tmp_path / "c.csv", tmp_path / "d.csv"], classes="adult")
    assert set(adults.scene) == {"other", "typed"} and (adults[adults.scene == "typed"].type == "adult").all()
    plaza.assign(scene="bare").to_csv(tmp_path / "e.csv", index=False)
    with pytest.raises(DataError, match="^classes: .*e.csv has no label column"):
        read_tracks([tmp_path / "c.csv", tmp_path / "e.csv"], classes="adult")


def test_georeferenced_coordinates_give_the_same_futures_once_shifted_back(model, plaza):
    """UTM-like positions (+500 km east, +5000 km north): float32 alone resolves them to 0.5 m; the windows
    are shifted in float64 first, so the futures are those of the unshifted tracks, to the millimetre."""
    shift = np.array([500_000.0, 5_000_000.0])
    plain = model.predict(plaza, k=5, seed=3)
    utm = model.predict(plaza.assign(x=plaza.x + shift[0], y=plaza.y + shift[1]), k=5, seed=3)
    np.testing.assert_allclose(utm.x - shift[0], plain.x, atol=1e-3, rtol=0)
    np.testing.assert_allclose(utm.y - shift[1], plain.y, atol=1e-3, rtol=0)
    # Held as float32 (a Parquet file's choice), they are half-metre steps: said, naming the fix.
    coarse = plaza.assign(x=(plaza.x + shift[0]).astype("float32"), y=(plaza.y + shift[1]).astype("float32"))
    assert "the table holds positions as float32, which near 5.00001e+06 resolve only 0.5 m" in \
        plausibility(read_tracks(coarse), 0.4)
    # ... and the speeds are judged all the same: a line each.
    said = plausibility(read_tracks(coarse.assign(x=coarse.x * 10 - 4.5e6)), 0.4).split("\n")
    assert len(said) == 2 and "float32" in said[0] and said[1].startswith("warning: the median speed of the tracks")
    assert plausibility(read_tracks(plaza.astype({"x": "float32", "y": "float32"})), 0.4) is None  # fine near 0
    mm = plaza.assign(x=(plaza.x * 1000 + 2e5).astype("float32"), y=(plaza.y * 1000).astype("float32"))
    assert plausibility(read_tracks(mm, scale=0.001), 0.4) is None  # 0.016 mm where they lie
    mixed = plaza.assign(x=plaza.x + shift[0], y=plaza.y.astype("float32"))  # only y is float32, and small
    assert plausibility(read_tracks(mixed), 0.4) is None
    assert len(read_tracks(plaza.assign(x=plaza.x.astype("float32"), y=plaza.y.astype(str)))) == len(plaza)
    seconds = upsample(plaza, 2.5)
    assert plausibility(read_tracks(seconds.assign(time=(seconds.time + 2e5).astype("float32"))), 0.4).startswith(
        "warning: the table holds times as float32, which near 2")
    with pytest.raises(DataError, match="times as float32, which near 1.7e\\+09 resolve only 128 of their units"):
        read_tracks(seconds.assign(time=(seconds.time + 1.7e9).astype("float32")))


@pytest.mark.skipif(not ETH_UCY.is_dir(), reason="needs ../shared/datasets/eth_ucy")
def test_float32_times_far_from_zero_give_the_futures_of_the_times_as_written(zara01, model, tmp_path):
    """Times stored as float32 (a Parquet file's, a DataFrame's of any float32 kind, a live update's) a
    thousand seconds into a recording are a few tens of microseconds off their written values, as much as a
    step's margin: each is read as written (1012.84), so the futures are those of the exact times (zara01,
    where one agent's neighbour, due exactly at its t0, was counted in view); times of more digits are warned of."""
    import pyarrow as pa

    exact = zara01[zara01.frame <= 600].pipe(lambda z: pd.DataFrame({"time": z.frame / 25 + 1000,
                                                                    "agent_id": z.agent_id, "x": z.x, "y": z.y}))
    want = model.predict(exact, k=3)
    exact.assign(time=exact.time.astype("float32")).to_parquet(tmp_path / "f32.parquet")
    for given in [[tmp_path / "f32.parquet"]] + [exact.assign(time=exact.time.astype(d)) for d in
                                                  ("Float32", pd.ArrowDtype(pa.float32()))]:
        got = model.predict(given, k=3)
        assert got.t0.tolist() == want.t0.tolist()
        np.testing.assert_array_equal(got[["x", "y"]], want[["x", "y"]])
    later = exact.assign(time=np.round(exact.time + 19000.04, 2))  # seven significant digits (20012.84): as written
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got, want_later = (model.predict(later.assign(time=later.time.astype(d)), k=3) for d in ("float32", "float64"))
    assert got.t0.tolist() == want_later.t0.tolist()
    np.testing.assert_array_equal(got[["x", "y"]], want_later[["x", "y"]])
    # Float32 times that are no short decimals (a start 1/7 s past 1000) are as far off: warned of, naming the fix.
    sevenths = exact.assign(time=(exact.time + 1 / 7).astype("float32"))
    with pytest.warns(TrajCVAEWarning, match=r"^the table holds times as float32, which near 1\d+\.\d+ resolve only "
                                             r"0\.000122 s \(an observation within 4e-05 s of a step is on it\): .*; "
                                             r"store them as float64 \(double\)$"):
        model.predict(sevenths, k=3)
    live, expected = OnlinePredictor(model, k=3), OnlinePredictor(model, k=3)
    for t in sorted(exact.time.unique()):
        seen = exact[exact.time == t][["agent_id", "x", "y"]]
        got, ref = live.update(np.float32(t), seen), expected.update(t, seen)
        assert got.agent_id.tolist() == ref.agent_id.tolist()
        np.testing.assert_array_equal(got[["x", "y"]], ref[["x", "y"]])


def test_positions_written_too_coarsely_are_warned_of_in_metres_where_they_lie(plaza, tmp_path):
    """Positions rounded when written (UTM metres as whole numbers, GPS degrees to 5 decimals: about a metre)
    predict from steps of that size: warned of, naming the fix. TrajNet++'s centimetres, SDD's half pixels
    at 4 cm a pixel and whole millimetres are fine."""
    shift = np.array([500_000.0, 5_000_000.0])
    utm = plaza.assign(x=np.round(plaza.x + shift[0]), y=np.round(plaza.y + shift[1]))
    utm.to_csv(tmp_path / "utm.csv", index=False)
    for noise in (None, 0.0):  # (told of no noise, the rounding jitters too: the coarse line still comes first)
        assert plausibility(read_tracks([tmp_path / "utm.csv"]), 0.4, noise=noise).startswith(
            f"warning: {tmp_path / 'utm.csv'} holds positions written as whole numbers, which resolve only 1 m: the "
            "futures are that coarse too; write them with more decimals")
    lat0, lon0 = 47.37, 8.54
    gps = plaza.assign(lon=np.round(lon0 + plaza.x / (111_320 * np.cos(np.radians(lat0))), 5),
                       lat=np.round(lat0 + plaza.y / 110_950, 5)).drop(columns=["x", "y"])
    said = plausibility(read_tracks(gps), 0.4)
    assert said.startswith("warning: the table holds positions written as 5 decimals, which resolve only 1.11 m: "
                           "the futures are that coarse too; write them with more decimals")  # (latitude's metre)
    # Each axis in its own metres: 6 decimals at 70 N are 4 cm of longitude but 11 cm of latitude.
    north = plaza.assign(lon=np.round(20 + plaza.x / (111_320 * np.cos(np.radians(70))), 6),
                         lat=np.round(70 + plaza.y / 111_600, 6)).drop(columns=["x", "y"])
    assert plausibility(read_tracks(north), 0.4).startswith("warning: the table holds positions written as 6 "
                                                            "decimals, which resolve only 0.112 m")
    for fine, scale in ((np.round(plaza[["x", "y"]], 2), None), (np.round(plaza[["x", "y"]] / 0.02) / 2, 0.04),
                        (np.round(plaza[["x", "y"]] * 1000), 0.001)):
        assert plausibility(read_tracks(plaza.assign(x=fine.x, y=fine.y), scale=scale), 0.4) is None
    # A tilted camera's whole pixels, 3 cm across and 6 cm deep: judged as both axes together (4.7 cm), fine.
    tilted = plaza.assign(x=np.round(plaza.x / 0.03), y=np.round(plaza.y / 0.06))
    assert plausibility(read_tracks(tilted, homography=[[0.03, 0, 0], [0, 0.06, 0], [0, 0, 1]]), 0.4) is None
    # Straight lines a script wrote (0.3 m a step) lie on a grid of one decimal without being rounded: fine.
    lines = pd.DataFrame([(f, a, 0.03 * f, 1.5 * a) for a in range(4) for f in range(0, 300, 10)],
                         columns=["frame", "agent_id", "x", "y"])
    assert plausibility(read_tracks(lines), 0.4) is None
    lines.to_csv(tmp_path / "lines.csv", index=False)  # ... also beside a file of real turns
    plaza.to_csv(tmp_path / "plaza.csv", index=False)
    assert plausibility(read_tracks([tmp_path / "lines.csv", tmp_path / "plaza.csv"]), 0.4) is None


def test_positions_a_decimetre_apart_or_float32_centimetres_are_warned_of(plaza):
    """Walkers' positions written to one decimal (0.1 m, twice the 5 cm warned of) are warned of, and to two
    they are fine; float32 positions near 300 km (or 3 km in units of 100 m) resolve 3 cm or so: warned of,
    where near 100 km (8 mm) they are not."""
    from trajcvae.units import coarse_positions
    tenths = plausibility(read_tracks(plaza.assign(x=plaza.x.round(1), y=plaza.y.round(1))), 0.4)
    assert tenths == ("warning: the table holds positions written as 1 decimal, which resolve only 0.1 m: the "
                      "futures are that coarse too; write them with more decimals")
    assert plausibility(read_tracks(plaza.assign(x=plaza.x.round(2), y=plaza.y.round(2))), 0.4) is None
    # Beside as many rows of straight lines a script wrote (on the grid, never turning), the walkers' turns
    # still show the rounding: a fifth of the table's turns are enough.
    lines = pd.DataFrame([("test0", f, 1000 + a, 0.03 * f, 100 + 1.5 * a)
                          for a in range(10) for f in range(0, 800, 10)],
                         columns=["scene", "frame", "agent_id", "x", "y"])
    both = pd.concat([plaza.assign(x=plaza.x.round(1), y=plaza.y.round(1)), lines], ignore_index=True)
    assert plausibility(read_tracks(both), 0.4) == tenths
    assert coarse_positions([None, ("t.parquet", 300000.0, "float32")], None) == (
        "t.parquet holds positions as float32, which near 300000 resolve only 0.0312 m")
    assert coarse_positions([("t.parquet", 3000.0, "float32")], {"scale": 100.0}) == (
        "t.parquet holds positions as float32, which near 3000 resolve only 0.0244 m")
    assert coarse_positions([("t.parquet", 100000.0, "float32")], None) is None


def test_each_files_rounding_is_judged_in_its_own_scales_metres(tmp_path):
    """Decimetres of a file in metres beside a longer file in whole centimetres (a scale of 0.01 for its
    scene): the file in metres is warned of, its 0.1 m judged in its own metres, not in the other file's."""
    from trajcvae.simulate import simulate_scene
    metres, cm = simulate_scene(n_frames=80, seed=12, scene="a"), simulate_scene(n_frames=160, seed=13, scene="b")
    metres.assign(x=metres.x.round(1), y=metres.y.round(1)).to_csv(tmp_path / "a.csv", index=False)
    cm.assign(x=(cm.x * 100).round(), y=(cm.y * 100).round()).to_csv(tmp_path / "b.csv", index=False)
    warning = plausibility(read_tracks([tmp_path / "a.csv", tmp_path / "b.csv"], scale={"a": 1.0, "b": 0.01}), 0.4)
    assert warning == (f"warning: {tmp_path / 'a.csv'} holds positions written as 1 decimal, which resolve only 0.1 m: "
                       "the futures are that coarse too; write them with more decimals")


def test_the_summary_counts_only_gaps_that_split_a_resampled_track(plaza):
    """At a known rate a gap up to max_gap (0.8 s) is bridged, so it is no gap; irregular timestamps are
    no gaps either, and the rate shown is the typical interval's."""
    fast = upsample(plaza, 10.0)
    rng = np.random.default_rng(0)
    jittered = fast.assign(time=fast.time + rng.uniform(-0.02, 0.02, len(fast))
                           * (fast.groupby(["scene", "agent_id"]).cumcount() > 0))
    line = summarize(read_tracks(jittered)).line()
    assert "no gaps" in line and line.endswith("test0: 10 Hz")
    agent = fast.agent_id.iloc[0]
    t = fast.time[fast.agent_id == agent]
    mid = t.iloc[len(t) // 2]
    short = fast[~((fast.agent_id == agent) & (fast.time > mid) & (fast.time < mid + 0.5))]
    long = fast[~((fast.agent_id == agent) & (fast.time > mid) & (fast.time < mid + 1.5))]
    assert "no gaps" in summarize(read_tracks(short)).line()
    assert "1 gap split tracks" in summarize(read_tracks(long)).line()


def test_an_agent_seen_for_less_than_a_step_is_counted_with_the_reason(plaza, tmp_path):
    """At 20 Hz, a newcomer seen 7 times (0.3 s) has no position a model step before its latest: it is not
    predicted, and the line says why, without blaming --max-gap alone."""
    log = upsample(plaza[plaza.frame <= plaza.frame.min() + 200], 20.0)
    end = log.time.max()
    new = pd.DataFrame({"scene": "test0", "time": end - 0.3 + 0.05 * np.arange(7), "agent_id": 999,
                        "x": np.arange(7) * 0.065, "y": 50.0})
    pd.concat([log, new]).to_csv(tmp_path / "t.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "t.csv", "-k", 1, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    # Said on stderr, on a line of its own: the result line ends with the path a script reads from it.
    assert r.stderr.splitlines()[-1] == "1 agent with no position a model step before its latest one (seen for less " \
        "than a step, or just after a gap over --max-gap) was not predicted"
    assert r.stdout.strip().endswith(f"-> {tmp_path / 'p.csv'}")
    assert 999 not in set(pd.read_csv(tmp_path / "p.csv").agent_id)


def test_the_python_api_takes_the_inputs_units_for_windows_and_evaluation(model, plaza):
    """`make_windows` and `evaluate` read pixels or centimetres as `predict` does (`scale`, `homography`):
    the same windows in metres, the same scores."""
    from trajcvae.evaluate import evaluate

    cm = plaza.assign(x=plaza.x * 100, y=plaza.y * 100)
    w, w_cm = model.make_windows(plaza, every_window=True), model.make_windows(cm, every_window=True, scale=0.01)
    np.testing.assert_allclose(w_cm.obs, w.obs, atol=1e-9)
    got, want = (evaluate(model, data, k=3, calibration_draws=0, **extra)["scenes"]["overall"]
                 for data, extra in ((cm, {"scale": 0.01}), (plaza, {})))
    assert got == pytest.approx(want, abs=1e-6)


def test_files_of_different_rates_are_refused_without_fps(plaza, tmp_path):
    sdd = tmp_path / "v" / "annotations.txt"
    write_sdd(sdd, plaza)
    plaza.to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(DataError, match=r"f.csv has frame ids of unknown rate but .*annotations.txt has 30 frame ids "
                                        r"a second: give fps=30 if it is at that rate too, or give it apart"):
        read_tracks([sdd, tmp_path / "f.csv"])
    mot = tmp_path / "m" / "gt" / "gt.txt"  # beside files of two rates, the file of unknown rate is named
    write_mot(mot, plaza, ground_truth=True)
    write(tmp_path / "m" / "seqinfo.ini", "[Sequence]\nframeRate=14\n")
    with pytest.raises(DataError, match=r"f.csv has frame ids of unknown rate but .* give it apart \(with fps "):
        read_tracks([sdd, mot, tmp_path / "f.csv"])
    assert len(read_tracks([sdd, tmp_path / "f.csv"], fps=30))  # a rate given: read as one kind
    upsample(plaza, 10.0).to_csv(tmp_path / "s.csv", index=False)  # a time column: no --fps makes it frame ids
    with pytest.raises(DataError, match="s.csv has a time column in seconds but .*annotations.txt has frame ids"):
        read_tracks([sdd, tmp_path / "s.csv"])
    assert set(read_tracks([sdd], classes="Biker").label) == {"Biker"}  # --classes as one string


@pytest.mark.filterwarnings("ignore::trajcvae.TrajCVAEWarning")  # futures moved far on purpose
def test_training_and_evaluation_windows_of_resampled_tracks_read_nothing_observed_after_their_t0(model, plaza):
    """Irregular timestamps with missed detections: moving everything observed after a window's t0 far away
    leaves the history, the neighbours and the remembered paths of every window at that t0 as they were
    (each is made as `predict` makes one at an observation); only the futures change."""
    rng = np.random.default_rng(1)
    rec = plaza.assign(time=plaza["frame"] / 25.0).drop(columns="frame")
    first = rec.groupby(["scene", "agent_id"]).cumcount() == 0
    rec = rec.assign(time=rec["time"] + rng.uniform(-0.15, 0.15, len(rec)) * ~first)
    rec = rec[first | (rng.random(len(rec)) > 0.1)]  # a tenth of the detections missed
    full = model.make_windows(rec, every_window=True)
    times = np.unique(full.t0)
    assert len(times) > 100 and np.isin(np.round(full.t0, 9), np.round(rec["time"], 9)).all()
    for t0 in times[::len(times) // 20][:20]:
        moved = rec.assign(x=np.where(rec["time"] > t0 + 1e-9, rec["x"] + 50.0, rec["x"]))
        after = model.make_windows(moved, every_window=True)
        a, b = (w.subset(np.flatnonzero(w.t0 == t0)) for w in (full, after))
        assert len(a) == len(b) > 0 and list(a.agent_id) == list(b.agent_id)
        m = int((~np.isnan(a.nbr[:, :, -1, 0])).sum(1).max())  # slots: the widest window of a build
        assert np.isnan(a.nbr[:, m:]).all() and np.isnan(b.nbr[:, m:]).all()
        a.nbr, b.nbr = a.nbr[:, :m], b.nbr[:, :m]
        for name in ("obs", "nbr", "mem", "mem_lag"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=f"{name} at t0 {t0}")
        assert np.all(np.abs(a.fut[:, -1, 0] - b.fut[:, -1, 0]) > 40)  # the futures did read the moved rows


def test_a_models_training_rate_never_overrides_a_files_own_rate_or_a_time_column(plaza, tmp_path):
    """A model trained with --fps reuses that rate for frame ids of no known rate only: SDD's 30 fps and a
    time column in seconds are read as they are, and the speed warning names the rate it used."""
    model = TrajCVAE.load("pedestrian")
    model.config.data.fps = 25.0  # as `train --fps 25` records it
    sdd = tmp_path / "deathCircle" / "video0" / "annotations.txt"
    write_sdd(sdd, plaza)
    tracks = model.read([sdd], scale=1 / 20.0)
    assert tracks.attrs["fps"] == 30.0 and tracks.attrs["rate_from"] == "file"
    seconds = upsample(plaza, 10.0)
    assert model.read(seconds).attrs["time_base"] == "seconds"
    ids = model.read(plaza)
    assert ids.attrs["fps"] == 25.0 and ids.attrs["rate_from"] == "model"
    fast = model.read(plaza.assign(x=plaza.x * 100, y=plaza.y * 100))
    assert "the model's training rate (25 frame ids a second; --fps overrides it)" in plausibility(fast, 0.4)
    # evaluate --json records the rate the frame ids were read at, the model's here.
    ckpt = torch.load(ROOT / "trajcvae" / "models" / "pedestrian.pt", weights_only=True)
    ckpt["config"]["data"]["fps"] = 25.0
    torch.save(ckpt, tmp_path / "at25.pt")
    plaza.to_csv(tmp_path / "frames.csv", index=False)
    r = cli("evaluate", tmp_path / "at25.pt", tmp_path / "frames.csv", "-k", 2, "--calibration", 0, "--json",
            tmp_path / "e.json")
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "e.json").read_text())["fps"] == 25.0


def test_futures_past_a_homographys_horizon_are_left_empty_not_wrapped(tmp_path):
    """Agents walking towards an oblique camera's horizon: the futures beyond it have no pixel and are
    written empty, with a warning that counts them, never as positions on the other side of the image."""
    G = np.array([[50.0, 0, 500], [0, 50, 200], [0, 0.1, 1.0]])  # metres -> pixels
    np.savetxt(tmp_path / "H.txt", np.linalg.inv(G))
    m = pd.DataFrame([(k * 10, a, a * 1.0, -3.0 - 0.52 * k) for a in range(3) for k in range(10)],
                     columns=["frame", "agent_id", "x", "y"])
    p = np.c_[m.x, m.y, np.ones(len(m))] @ G.T
    m.assign(x=p[:, 0] / p[:, 2], y=p[:, 1] / p[:, 2]).to_csv(tmp_path / "px.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "px.csv", "--homography", tmp_path / "H.txt", "-k", 2,
            "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "p.csv")
    empty = out.x.isna()
    assert empty.any() and (empty == out.y.isna()).all()
    assert f"warning: {int(empty.sum())} of {len(out)} future points fall past the homography's horizon" in r.output
    # The Python API says so as well (a `TrajCVAEWarning`), for its table and for a file it writes.
    with pytest.warns(TrajCVAEWarning, match=r"^\d+ of \d+ future points fall past the homography's horizon"):
        assert TrajCVAE.load("pedestrian").predict(tmp_path / "px.csv", k=2, homography=tmp_path / "H.txt").x.isna().any()
    with pytest.warns(TrajCVAEWarning, match=f"^{int(empty.sum())} of {len(out)} future points fall past"):
        predict_to_file("pedestrian", tmp_path / "px.csv", tmp_path / "api.csv", k=2, homography=tmp_path / "H.txt")
    # The rest lie on the camera's side: their pixels map back onto the metres predicted.
    back = read_tracks(out[~empty & (out["sample"] == 0)][["frame", "agent_id", "x", "y"]],
                       homography=tmp_path / "H.txt")
    assert back.y.between(-10.0, -3.0).all()  # walking away, short of the horizon at y = -10 m


# --- GPS tracks: longitude and latitude in degrees ------------------------------------------------------

def geodesic_degrees(east: np.ndarray, north: np.ndarray, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """Points `east`, `north` metres from (lat0, lon0), by Karney's geodesics on the WGS84 ellipsoid (an
    oracle independent of the projection under test): (lon, lat) in degrees."""
    g = Geodesic.WGS84
    out = [g.Direct(lat0, lon0, np.degrees(np.arctan2(e, n)), np.hypot(e, n)) for e, n in zip(east, north)]
    return np.array([p["lon2"] for p in out]), np.array([p["lat2"] for p in out])


def geodesic_metres(lon: np.ndarray, lat: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """The inverse of `geodesic_degrees`: (N, 2) metres east and north of (lat0, lon0)."""
    g = Geodesic.WGS84
    out = [g.Inverse(lat0, lon0, la, lo) for lo, la in zip(lon, lat)]
    s, az = np.array([p["s12"] for p in out]), np.radians([p["azi1"] for p in out])
    return np.stack([s * np.sin(az), s * np.cos(az)], axis=1)


def to_gps(plaza: pd.DataFrame, lat0: float, lon0: float) -> pd.DataFrame:
    lon, lat = geodesic_degrees(plaza.x.to_numpy(), plaza.y.to_numpy(), lat0, lon0)
    return plaza.drop(columns=["x", "y"]).assign(lon=lon, lat=lat)


@pytest.mark.parametrize("lat0, lon0", [(47.3769, 8.5417), (-16.5, 179.9997)])  # Zurich; Fiji, across 180
def test_gps_tracks_in_degrees_give_the_futures_of_the_same_tracks_in_metres(model, plaza, lat0, lon0):
    """Longitude and latitude columns are projected to metres about each scene's first position and the
    futures come back in degrees (`lon, lat`), at the places the same tracks in metres are predicted to go."""
    metres = model.predict(plaza, k=4, seed=2)
    degrees = model.predict(to_gps(plaza, lat0, lon0), k=4, seed=2)
    assert list(degrees.columns[-2:]) == ["lon", "lat"] and "x" not in degrees
    back = geodesic_metres(degrees.lon.to_numpy(), degrees.lat.to_numpy(), lat0, lon0)
    np.testing.assert_allclose(back, metres[["x", "y"]].to_numpy(), atol=1e-3, rtol=0)
    if lon0 > 179:  # across 180, futures come back in the convention the scene is written in, 0-360 or +-180,
        # also where its first position lies west of 180 (x = -7.6 m, 180 at x = 0)
        west = model.predict(to_gps(plaza, lat0, 180.0), k=4, seed=2)
        east = model.predict(to_gps(plaza, lat0, 180.0).assign(lon=lambda d: d.lon % 360), k=4, seed=2)
        assert (west.lon < 0).any() and (west.lon > 0).any() and (east.lon > 180).any() and (east.lon > 0).all()
        np.testing.assert_allclose(east.lon % 360, west.lon % 360, atol=1e-9, rtol=0)
        from trajcvae import OnlinePredictor  # and live, once a detection has been east of 180 in 0-360

        live = OnlinePredictor("pedestrian", k=2, lonlat=True, forget_after=100)
        last = plaza[plaza.frame >= sorted(set(plaza.frame))[-8]]  # the last 8 steps are history enough
        got = pd.concat([live.update(frame / 25, g[["agent_id", "lon", "lat"]]) for frame, g in
                         to_gps(last, lat0, 180.0).assign(lon=lambda d: d.lon % 360).groupby("frame")])
        assert (got.lon > 180).any() and (got.lon > 0).all()
        # An agent missed by the update that switched the scene to 0-360 has its futures written anew too.
        live, east = OnlinePredictor("pedestrian", k=2, lonlat=True), 1.3 / (111_320 * np.cos(np.radians(10)))
        for i in range(9):
            a = {"agent_id": "A", "lon": 180 - 5e-5 + east * 0.4 * i, "lat": 10.0}
            both = [a, {**a, "agent_id": "B", "lat": 10.00001}]
            got = live.update(0.4 * i, both if i < 8 else [{**a, "lon": 180.00002}])  # B missed as A crosses
        assert set(got.agent_id) == {"A", "B"} and (got.lon > 179).all()


def test_gps_walkers_are_read_at_their_speed_anywhere_on_earth():
    """1.3 m/s along geodesics, at any heading and latitude, in either longitude convention: read as 1.3
    m/s to 0.01%."""
    rows = []
    for a, (lat0, lon0, heading) in enumerate([(47.4, 8.5, 37), (-33.9, 151.2, 95), (69.6, 18.9, 10),
                                              (0.0, 179.9999, 90), (35.7, 220.3, 300), (47.405, 8.51, 200)]):
        g = Geodesic.WGS84
        for k in range(20):
            p = g.Direct(lat0, lon0, heading, 1.3 * 0.4 * k)
            rows.append((0.4 * k, a, p["lon2"] % 360 if lon0 > 180 else p["lon2"], p["lat2"], f"s{min(a, 5)}"))
    tracks = read_tracks(pd.DataFrame(rows, columns=["time", "agent_id", "longitude", "Latitude", "scene"]))
    for _, g in tracks.groupby("agent_id"):
        speed = np.hypot(*np.diff(g[["x", "y"]].to_numpy(), axis=0).T) / 0.4
        np.testing.assert_allclose(speed, 1.3, rtol=1e-4)


def test_gps_futures_are_written_to_a_tenth_of_a_millimetre_and_drawn(model, plaza, tmp_path):
    gps = tmp_path / "gps.csv"
    to_gps(plaza, 47.3769, 8.5417).to_csv(gps, index=False, float_format="%.10f")
    r = cli("predict", "pedestrian", gps, "-k", 3, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    header, first = (tmp_path / "p.csv").read_text().splitlines()[:2]
    assert header.endswith("frame,lon,lat") and all(len(v.split(".")[1]) == 9 for v in first.split(",")[-2:])
    r = cli("visualize", tmp_path / "p.csv", gps, "--out", tmp_path / "p.png")
    assert r.exit_code == 0 and (tmp_path / "p.png").stat().st_size > 0, r.output
    plaza.to_csv(tmp_path / "m.csv", index=False)
    one_line_error(cli("visualize", tmp_path / "p.csv", tmp_path / "m.csv", "--out", tmp_path / "q.png"),
                   "futures are in degrees but the tracks' positions are in x, y")


def test_gps_mistakes_are_one_line(plaza, tmp_path):
    gps = to_gps(plaza, 47.3769, 8.5417)
    gps.to_csv(tmp_path / "gps.csv", index=False)
    plaza.to_csv(tmp_path / "m.csv", index=False)
    out = tmp_path / "p.csv"
    bad = gps.copy()
    bad.loc[5, "lat"] = 95.0
    bad.to_csv(tmp_path / "bad.csv", index=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "bad.csv", "--out", out), "bad.csv line 7",
                   "is no longitude, latitude in degrees")
    assert "swapped" not in cli("predict", "pedestrian", tmp_path / "bad.csv", "--out", out).output
    swapped = to_gps(plaza, 8.5, 120.5).rename(columns={"lon": "lat", "lat": "lon"})  # 8.5 N 120.5 E, swapped
    swapped.to_csv(tmp_path / "swapped.csv", index=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "swapped.csv", "--out", out), "swapped.csv line 2",
                   "is no longitude, latitude in degrees", "are the longitude and latitude columns swapped?")
    one_line_error(cli("predict", "pedestrian", tmp_path / "gps.csv", "--scale", 2, "--out", out),
                   "--scale", "longitude and latitude in degrees", "drop it")
    one_line_error(cli("predict", "pedestrian", tmp_path / "gps.csv", tmp_path / "m.csv", "--out", out),
                   "give files of one kind at a time")
    far = gps.copy()
    far.loc[far.agent_id == far.agent_id.iloc[-1], "lat"] += 0.9  # 100 km north, in the same scene
    far.to_csv(tmp_path / "far.csv", index=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "far.csv", "--out", out), "km north or south",
                   "split the scene")
    zero = gps.copy()  # one fix missed and written as 0, 0: that row is the fault, not the scene's extent
    zero.loc[len(zero) // 2, ["lon", "lat"]] = 0.0
    zero.to_csv(tmp_path / "zero.csv", index=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "zero.csv", "--out", out),
                   f"zero.csv line {len(zero) // 2 + 2}", "a bad fix (a missed one written as 0, a typo)? Correct or "
                   "drop that row")
    first = gps.copy()  # ... written as the scene's first row, the origin every other row is far from
    first.loc[first.frame.idxmin(), ["lon", "lat"]] = 0.0
    first.to_csv(tmp_path / "first.csv", index=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "first.csv", "--out", out),
                   f"first.csv line {first.frame.idxmin() + 2}: the first position of scene 'test0' (0, 0) is",
                   "km north or south of most of its positions: a bad fix (a missed one written as 0, a typo)? Correct "
                   "or drop that row")
    flight = pd.DataFrame({"time": np.arange(25) * 300.0, "agent_id": 1, "lon": 10.0 + 0.001 * np.arange(25),
                           "lat": 45.0 + 0.675 * np.arange(25)})  # a fix every 75 km: a wide scene, no bad fix
    flight.to_csv(tmp_path / "flight.csv", index=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "flight.csv", "--max-gap", 400, "--out", out),
                   "flight.csv line 3: latitude 45.675 is 75 km north or south", "split the scene")
    polar = to_gps(plaza, 89.8, 0.0)
    polar.to_csv(tmp_path / "polar.csv", index=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "polar.csv", "--out", out), "too near a pole")
    # A GPS log at 1 Hz: every sample is further apart than the model bridges; the error says so.
    one_hz = to_gps(upsample(plaza, 1.0), 47.3769, 8.5417)
    one_hz.to_csv(tmp_path / "1hz.csv", index=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "1hz.csv", "--out", out),
                   "sampled every 1 s (median), longer than the 0.8 s gap the model bridges", "give --max-gap 1.5 (in "
                   "training: --set data.max_gap=1.5; in Python: TrajCVAE.load(..., max_gap=1.5))")
    assert not out.exists()
    with pytest.raises(TrajCVAEError, match=r"give TrajCVAE\.load\(\.\.\., max_gap=1\.5\) \(in training: the config's "
                                            r"data\.max_gap = 1\.5\) to bridge them"):  # Python's fix, not predict's
        TrajCVAE.load("pedestrian").predict(one_hz, k=3)
    r = cli("predict", "pedestrian", tmp_path / "1hz.csv", "--out", out, "--max-gap", 1.5)
    assert r.exit_code == 0 and len(pd.read_csv(out)) > 0, r.output
    r = cli("evaluate", "pedestrian", tmp_path / "1hz.csv", "--max-gap", 1.5, "-k", 5, "--calibration", 0)
    assert r.exit_code == 0 and "overall" in r.output, r.output
    one_line_error(cli("predict", "pedestrian", tmp_path / "1hz.csv", "--max-gap", -1), "--max-gap must be")
    # Live, the same detections need the same bridge, and then give predict's futures.
    from trajcvae import OnlinePredictor

    live = OnlinePredictor("pedestrian", k=3, lonlat=True, max_gap=1.5, forget_after=100)
    for t, g in one_hz.groupby("time"):
        got = live.update(t, g[["agent_id", "lon", "lat"]].to_dict("records"))
    want = TrajCVAE.load("pedestrian", max_gap=1.5).predict(one_hz, k=3)
    key = ["agent_id", "sample", "step"]
    got, want = (f.astype({"agent_id": str}).sort_values(key).reset_index(drop=True) for f in (got, want))
    assert len(got) == len(want) > 0
    np.testing.assert_allclose(got[["lon", "lat"]], want[["lon", "lat"]], atol=1e-9, rtol=0)
    # Frame ids of no known rate: a missing frame splits a track whatever --max-gap says, so it is refused.
    plaza.to_csv(tmp_path / "frames.csv", index=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "frames.csv", "--max-gap", 1.5, "--out", out),
                   "--max-gap 1.5: the frame ids have no known rate", "give --fps")
    # Frame ids 10 apart read at --fps 2.5 (samples a second, not frame ids): the rate is asked about first.
    r = cli("predict", "pedestrian", tmp_path / "frames.csv", "--fps", 2.5, "--out", out)
    assert r.exit_code == 1 and "frames.csv: no usable windows" in r.output and "Traceback" not in r.output
    assert "at --fps 2.5 the tracks' frame ids are 4 s apart" in r.output
    assert "is that the frame ids' rate (give --fps 25 if they are 0.4 s apart)?" in r.output
    # The same rate taken from a model trained at it: named as the model's, with the --fps that fixes it.
    m = TrajCVAE.load("pedestrian")
    m.config.data.fps = 2.5
    with pytest.raises(DataError, match=r"at the model's training rate \(2.5 frame ids a second\) the tracks' frame "
                                        r"ids are 4 s apart .* \(give fps=25 if they are 0.4 s apart\)"):
        m.predict(tmp_path / "frames.csv", k=2)
    # A --max-gap under the samples' interval makes every sample a track of its own: predict and evaluate
    # refuse it alike (predict could read histories whose samples fall on the model's grid, evaluate no
    # future), and so does the Python API.
    upsample(plaza, 2.5).to_csv(tmp_path / "seconds.csv", index=False)
    for command in (["predict", "--out", tmp_path / "q.csv"], ["evaluate", "-k", 5]):
        one_line_error(cli(command[0], "pedestrian", tmp_path / "seconds.csv", "--max-gap", 0.3, *command[1:]),
                       "--max-gap 0.3: shorter than the 0.4 s between the tracks' samples", "give --max-gap 0.6")
    with pytest.raises(DataError, match="every sample would start a new track"):
        TrajCVAE.load("pedestrian", max_gap=0.3).predict(upsample(plaza, 2.5), k=1)
    # Samples 400 s apart are no tracker's: the error asks about the time column, not for a longer gap.
    upsample(plaza, 2.5).assign(time=lambda d: d.time * 1000).to_csv(tmp_path / "ms.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "ms.csv", "--max-gap", 1.5, "--out", tmp_path / "q.csv")
    assert r.exit_code == 1 and "is the time column in seconds" in r.output and "give --max-gap" not in r.output
    assert not (tmp_path / "q.csv").exists()


def test_gps_degrees_are_projected_to_the_metres_a_wgs84_geodesic_measures():
    """A position 1 km north or east of its scene's origin, at the equator, at 45 and at 70 degrees, is 1 km
    from it in metres, to the millimetre (the WGS84 ellipsoid's radii, not a sphere's nor another's)."""
    from trajcvae.units import to_metres
    for lat0 in (0.0, 45.0, 70.0):
        for azimuth in (0.0, 90.0):
            g = Geodesic.WGS84.Direct(lat0, 10.0, azimuth, 1000.0)
            xy = to_metres(np.array([[g["lon2"], g["lat2"]]]), {"lonlat": {"s": [10.0, lat0]}}, np.array(["s"]))[0]
            assert abs(np.hypot(*xy) - 1000.0) < 1e-3, (lat0, azimuth, xy)


def test_a_gps_scenes_origin_is_its_earliest_position_whichever_agent_comes_first():
    """Longitude and latitude are projected about the scene's earliest position (agent 2's, at time 0), not
    about the first agent's first row, so a row keeps its metres whatever is observed later."""
    df = read_tracks(pd.DataFrame({"time": [1.0, 2.0, 0.0, 1.0], "agent_id": [1, 1, 2, 2],
                                   "lon": [8.5, 8.50001, 8.6, 8.60001], "lat": [47.3, 47.3, 47.4, 47.4]}))
    assert df.attrs["units"] == {"lonlat": {"input": [8.6, 47.4]}}


def test_gps_futures_keep_the_longitude_convention_their_scene_is_written_in():
    """A scene written in longitudes 0-360 (200 E) gets its futures back as 200.0009, not as -159.9991, the
    same place written the other way, which is how a scene written -180-180 gets them; both go back to the
    same metres."""
    from trajcvae.units import from_metres, to_metres
    units, scenes = {"lonlat": {"e": [200.0, 10.0], "w": [-160.0, 10.0]}}, np.array(["e", "w"])
    lonlat = from_metres(np.array([[100.0, 50.0], [100.0, 50.0]]), units, scenes)
    assert 200.0 < lonlat[0, 0] < 200.001 and -160.0 < lonlat[1, 0] < -159.999
    assert np.allclose(to_metres(lonlat, units, scenes), [[100.0, 50.0], [100.0, 50.0]])


def test_swapped_longitude_and_latitude_columns_are_named_where_most_rows_are_no_degrees():
    """Latitudes in the longitude column and longitudes near 90 E in the latitude column: the rows past 90 are
    no degrees, and since most are (6 of 10), and all would be degrees the other way round, the columns are
    asked about."""
    from trajcvae.units import check_lonlat
    lat, lon = np.full(10, 23.5), np.linspace(89.7, 90.6, 10)  # as read: lon column, lat column
    with pytest.raises(DataError, match=r"^line 6: \(23.5, 90.1\) is no longitude, latitude in degrees .*; are the "
                                        r"longitude and latitude columns swapped\?$"):
        check_lonlat(lat, lon, lon, lambda i: f"line {i + 2}", lambda i: "s")


def test_degrees_in_x_y_columns_or_as_float32_get_a_warning_that_names_the_fix(plaza, tmp_path):
    gps = to_gps(plaza, 47.3769, 8.5417)
    warning = plausibility(read_tracks(gps.rename(columns={"lon": "x", "lat": "y"})), 0.4)
    assert "name the columns lon, lat" in warning
    assert plausibility(read_tracks(gps), 0.4) is None
    km = plaza.assign(x=plaza.x / 1000, y=plaza.y / 1000)  # kilometres about a local origin crawl too
    warning = plausibility(read_tracks(km), 0.4)
    assert "--scale" in warning and "lon, lat" not in warning
    # Degrees in x, y given a scale of a degree's metres (of latitude, or of longitude there; a scene's too): at
    # 47 N a degree of longitude is 0.68 of one of latitude, which no one scale gives.
    xy = gps.rename(columns={"lon": "x", "lat": "y"})
    for scale in (111320, 75920, {"test0": 111320}):  # (and below, x the latitudes)
        said = (r"^positions x, y read with (scale=\d+|the scale of scene 'test0', 111320,) look like longitudes and "
                r"latitudes \(about 8.5417, 47.377\), where a degree of longitude is 0.68 of a degree of latitude \(at "
                r"latitude 47.4\), which no one scale gives: name the columns lon, lat \(columns lon=x,lat=y, or "
                r"lat=x,lon=y where x holds the latitudes\) and drop scale$")
        with pytest.warns(TrajCVAEWarning, match=said):  # (as Python names them)
            read_tracks(xy, scale=scale)
    with pytest.warns(TrajCVAEWarning, match=r"about 47.377, 8.5417\), where a degree of longitude is 0.68"):
        read_tracks(gps.rename(columns={"lat": "x", "lon": "y"}), scale=111320)
    near_equator = to_gps(plaza, 0.5, 0.6).rename(columns={"lon": "x", "lat": "y"})  # (x no latitude far from it)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_tracks(km, scale=111320)  # (kilometres at a local origin, so scaled: no degrees)
        read_tracks(near_equator, scale=111320)  # (a degree of longitude is one of latitude there, near enough)
    from trajcvae.server import replay_updates  # ... and a replay's log says it too
    xy.to_csv(tmp_path / "deg.csv", index=False)
    said = []
    replay_updates(tmp_path / "deg.csv", scale=111320, log=said.append)
    assert any(line.startswith(f"replay: {tmp_path / 'deg.csv'}: positions x, y read with --scale 111320 look like")
               for line in said), said
    # float32 degrees resolve about a metre: said, for a table and for Parquet.
    coarse = gps.astype({"lon": "float32", "lat": "float32"})
    assert "as float32, which resolve only about a metre" in plausibility(read_tracks(coarse), 0.4)
    coarse.to_parquet(tmp_path / "g.parquet")
    assert "store them as float64" in plausibility(read_tracks([tmp_path / "g.parquet"]), 0.4)
    # Two latitude columns, or a Parquet file without positions, are named as the file names its columns.
    with pytest.raises(DataError, match=r"2 latitude columns \(lat, latitude\): keep one"):
        read_tracks(gps.assign(latitude=gps.lat))
    gps.drop(columns="lat").to_parquet(tmp_path / "h.parquet")
    with pytest.raises(DataError, match=r"missing column\(s\) x, y \(or lon, lat in degrees\) \(have: .*lon"):
        read_tracks([tmp_path / "h.parquet"])


def test_a_given_frame_rate_is_shown_as_given():
    df = pd.DataFrame({"frame": np.arange(10), "agent_id": 1, "x": np.arange(10) * 0.04, "y": 0.0})
    assert summarize(read_tracks(df, fps=29.97)).line().endswith("input: 29.97 Hz")


def test_frame_ids_of_two_rates_in_one_scene_get_a_warning(plaza):
    """Frame ids of unknown rate: a scene whose later rows come twice as often takes the faster rate as its
    step, and every earlier move becomes a gap that splits its track; that is said, naming --fps."""
    assert plausibility(read_tracks(plaza), 0.4) is None
    half = int(plaza.frame.median())
    late = upsample(plaza[plaza.frame >= half], 5.0)  # 5 samples a second: 5 frame ids apart at 25 ids/s
    mixed = pd.concat([plaza[plaza.frame < half], late.assign(frame=np.round(late.pop("time") * 25))])
    warning = plausibility(read_tracks(mixed), 0.4)
    assert "moves 10 frame ids at a time" in warning and "not its step of 5" in warning and "--fps" in warning


def test_a_short_track_that_misses_a_few_frames_is_not_called_two_rates():
    """A scene of a dozen moves, 3 of them over a missed frame, is too short to tell frame ids of two rates
    from missed frames: no warning (twice as many moves missing as often are warned of)."""
    frames = [0, 10, 20, 40, 50, 60, 80, 90, 100, 120, 130, 140, 160]
    rows = lambda agents: [(f, a, f / 10 * 0.48 + 0.0137, 3.0 * a + 0.0137)  # noqa: E731  1.2 m/s
                           for a in range(agents) for f in frames]
    assert plausibility(read_tracks(pd.DataFrame(rows(1), columns=["frame", "agent_id", "x", "y"])), 0.4) is None
    warning = plausibility(read_tracks(pd.DataFrame(rows(2), columns=["frame", "agent_id", "x", "y"])), 0.4)
    assert warning.startswith("warning: scene 'input' moves 20 frame ids at a time in 33% of its moves, not its "
                              "step of 10"), warning


def test_tracks_read_without_the_units_or_classes_the_model_was_trained_with_are_warned_of(model, plaza, tmp_path):
    """A model trained on feet (--scale 0.3048) given feet read as metres: 3.3 times too fast, inside the
    speeds it knows, so the checkpoint's conversion is what tells; the same for a homography and for classes."""
    m = copy.copy(model)
    m.config = copy.deepcopy(model.config)
    m.config.data.scale = 0.3048
    feet = plaza.assign(x=plaza.x / 0.3048, y=plaza.y / 0.3048)
    assert m.check_speeds(m.read(feet), log=lambda line: None).startswith(
        "warning: the model was trained on positions converted with --scale 0.3048 (data.scale), but these are "
        "read as metres: if they are in the model's units, give --scale 0.3048")
    assert m.check_speeds(m.read(feet, scale=0.3048), log=lambda line: None) is None
    m.config.data.scale = 1.0  # metres per metre: tracks read as metres are in its units
    assert m.check_speeds(m.read(plaza), log=lambda line: None) is None
    # A file of each scene's scales (SDD's videos): given again where it names these tracks' scene, else their own.
    m.config.data.scale = str(write(tmp_path / "scales.yaml", "test0: 0.3048\n"))
    assert m.check_speeds(m.read(feet), log=lambda line: None).endswith(f"give --scale {tmp_path / 'scales.yaml'}")
    m.config.data.scale = str(write(tmp_path / "sdd.yaml", "deathCircle_video0: 0.04\n"))
    assert m.check_speeds(m.read(feet), log=lambda line: None).endswith(
        "if they are in other units (pixels), give their --scale (a number, or a file of each scene's)")
    m.config.data.scale, m.config.data.homography = None, str(tmp_path / "H.txt")
    assert "through a homography (data.homography H.txt), but these positions are read as metres" in \
        m.check_speeds(m.read(plaza), log=lambda line: None)
    m.config.data.homography, m.config.data.classes = None, "Pedestrian"
    labelled = plaza.assign(label=np.where(plaza.agent_id % 3 == 0, "Biker", "pedestrian"))
    assert m.check_speeds(m.read(labelled), log=lambda line: None) == (
        "warning: the model was trained on agents labelled Pedestrian (data.classes), and these tracks also hold "
        "Biker: give --classes Pedestrian to predict for those only")
    assert m.check_speeds(m.read(labelled, classes="Pedestrian"), log=lambda line: None) is None
    assert m.check_speeds(m.read(labelled, classes="Biker"), log=lambda line: None) == (  # none of its own left
        "warning: the model was trained on agents labelled Pedestrian (data.classes), and these tracks hold none of "
        "them (Biker): their futures move as its classes did; train a model on theirs")
    m.config.data.scale = 0.3048  # both left out: both said, a line each
    said = m.check_speeds(m.read(labelled.assign(x=labelled.x / 0.3048, y=labelled.y / 0.3048)),
                          log=lambda line: None).splitlines()
    assert "give --scale 0.3048" in said[0] and "give --classes Pedestrian" in said[1]
    # A layout read the same without the model's --columns (a name read as that role anyway) is no warning.
    m.config.data.scale, m.config.data.classes = None, None
    for columns, table, warned in (("agent_id=track_id", plaza.rename(columns={"agent_id": "track_id"}), False),
                                   ("agent_id=obj", plaza.assign(obj=plaza.agent_id), True),
                                   ("frame=time", plaza.rename(columns={"frame": "time"}), True)):  # else seconds
        m.config.data.columns = columns
        wide = m.bridging(20) if "time" in table else m  # (frame ids read as seconds: bridged, to be read at all)
        said = wide.check_speeds(wide.read(table), log=lambda line: None)
        assert (said is not None and "read with --columns" in said) == warned, said
    m.config.data.scale, m.config.data.classes = 0.3048, "Pedestrian"
    # Live detections come as agent_id, x, y rows: the units are said, and classes to post, but no columns.
    m.config.data.columns = "agent_id=track_id"
    live = OnlinePredictor(m, k=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(40):
            live.update(0.4 * i, [(str(a), 1.3 * 0.4 * i / 0.3048, 3.0 * a / 0.3048, "Biker") for a in range(10)])
    said = [str(w.message) for w in caught]
    assert any("give scale=0.3048" in line for line in said), said
    assert any(line.startswith("the model was trained on agents labelled Pedestrian (data.classes), and these tracks "
                               "hold none of them (Biker): their futures move as its classes did")
               for line in said), said
    assert not [line for line in said if "columns" in line or "give classes" in line], said


def test_frame_ids_a_few_apart_that_make_walkers_slow_ask_for_their_rate(plaza):
    """A 10 Hz tracker's frame ids (1 apart, or 3 apart on a 30 fps video) read without --fps make each 0.1 s
    a 0.4 s step: walkers at a quarter of their speed, inside the band's bottom but slow, get a line asking
    for --fps. Frame ids 1 apart are asked about at any speed (a frame counter most likely; cars at 10 Hz read
    as walkers at 2.5 Hz, hQA7), as ETH/UCY's are 10 apart: the same walkers numbered 1 apart at 2.5 Hz get
    the line without the slowness, and none with --fps 2.5."""
    tracker = upsample(plaza, 10.0)
    tracker = tracker.assign(frame=np.round(tracker.pop("time") * 10).astype(int))
    warning = plausibility(read_tracks(tracker), 0.4)
    assert warning.startswith("warning: the tracks' frame ids are 1 apart, each read as one 0.4 s step (no --fps)")
    assert warning.endswith("give --fps (their rate)") and "\n" not in warning
    assert plausibility(read_tracks(tracker), 0.4, time_step=1) is None  # a step said: no guess
    assert plausibility(read_tracks(tracker, fps=10), 0.4) is None
    counted = plausibility(read_tracks(plaza.assign(frame=plaza.frame // 10)), 0.4)
    assert counted == ("warning: the tracks' frame ids are 1 apart, each read as one 0.4 s step (no --fps: 2.5 a "
                       "second; at 10 a second their speeds are 4 times what is read): if they count a video's frames "
                       "or a tracker's updates, give --fps (their rate)"), counted
    assert plausibility(read_tracks(plaza.assign(frame=plaza.frame // 10), fps=2.5), 0.4) is None
    assert plausibility(read_tracks(plaza.assign(frame=plaza.frame // 5)), 0.4) is None  # 2 apart: no counter
    # A counter's file read with recorded ones (hQA9): its scene, named, at any speed.
    both = pd.concat([plaza, plaza.assign(scene="counter", frame=plaza.frame // 10)], ignore_index=True)
    assert plausibility(read_tracks(both), 0.4) == (
        "warning: scene 'counter' (of 2) has frame ids 1 apart, each read as one 0.4 s step (no --fps: 2.5 a second; "
        "at 10 a second their speeds are 4 times what is read): if they count a video's frames or a tracker's "
        "updates, read those files alone with --fps (their rate)")
    # A 30 fps video tracked every third frame: frame ids 3 apart, walkers read at a third of their speed.
    assert plausibility(read_tracks(tracker.assign(frame=tracker.frame * 3)), 0.4).startswith(
        "warning: the tracks' frame ids are 3 apart, each 3 read as one 0.4 s step (no --fps)")


def test_a_clock_far_too_fast_is_named_when_no_track_lasts_a_step(plaza, tmp_path):
    """Times in hours (or --fps 1000 times too high) make every track shorter than one model step: the
    no-window error says so and asks for seconds or the right rate, not for shorter windows."""
    hours = tmp_path / "hours.csv"
    plaza.assign(time=plaza.frame / 25 / 3600).drop(columns="frame").to_csv(hours, index=False,
                                                                            float_format="%.10f")
    one_line_error(cli("predict", "pedestrian", hours, "--out", tmp_path / "p.csv"), "no usable windows",
                   "no track lasts one 0.4 s step (the longest spans", "is the time column in seconds? Read with "
                   "--columns time_h=time, its samples would come 0.4 s apart")
    # Excel's date-time numbers are days since 1899-12-30: read with time_d, the same futures as in seconds.
    days = tmp_path / "days.csv"
    plaza.assign(time=46361 + plaza.frame / 25 / 86400).drop(columns="frame").to_csv(days, index=False,
                                                                                     float_format="%.12f")
    one_line_error(cli("predict", "pedestrian", days, "--out", tmp_path / "p.csv"),
                   "Read with --columns time_d=time, its samples would come 0.4 s apart")
    seconds = tmp_path / "seconds.csv"
    plaza.assign(time=plaza.frame / 25).drop(columns="frame").to_csv(seconds, index=False)
    got = {name: cli("predict", "pedestrian", f, *extra, "--out", tmp_path / f"p_{name}.csv") for name, f, extra in
           (("days", days, ["--columns", "time_d=time"]), ("seconds", seconds, []))}
    assert all(r.exit_code == 0 and "warning" not in r.output for r in got.values()), got
    a, b = (pd.read_csv(tmp_path / f"p_{name}.csv") for name in got)
    np.testing.assert_allclose(a[["x", "y"]], b[["x", "y"]], atol=2e-4)
    frames = tmp_path / "frames.csv"
    plaza.to_csv(frames, index=False)
    one_line_error(cli("evaluate", "pedestrian", frames, "--fps", 25000), "no track lasts one 0.4 s step",
                   "is --fps 25000 the frame ids' rate?")
    for name, rate in (("MOT17-02", 30000), ("MOT17-04", 25000)):  # sequences of their own rates, far too high
        write_mot(tmp_path / name / "gt" / "gt.txt", plaza.iloc[:len(plaza) - rate // 5000], ground_truth=True)
        write(tmp_path / name / "seqinfo.ini", f"[Sequence]\nname={name}\nframeRate={rate}\nseqLength=9000\n")
    one_line_error(cli("predict", "pedestrian", tmp_path / "MOT17-02", tmp_path / "MOT17-04", "--scale", 0.05,
                       "--out", tmp_path / "p.csv"), "no track lasts one 0.4 s step", "are the files' own frame "
                   "rates (their formats' or seqinfo.ini's) right? --fps overrides them")


def test_a_fast_trackers_short_tracks_at_a_walkers_pace_are_left_alone():
    """Samples 200 a second, most tracks shorter than a step: at a walker's pace (1.2 m/s) that is a fast
    tracker's, and nothing is said; at 12 m/s, over the band's top, its clock is asked about."""
    t = np.round(np.arange(0, 0.2, 0.005), 6)
    long = np.round(np.arange(0, 4.0, 0.005), 6)  # one track lasts steps
    table = pd.concat([pd.DataFrame({"time": t + 0.1 * a, "agent_id": a, "x": 1.2 * t + 0.0137, "y": 3.0 * a + 0.0137})
                       for a in range(9)] + [pd.DataFrame({"time": long, "agent_id": 99, "x": 1.2 * long + 0.0137,
                                                            "y": 50.0})], ignore_index=True)
    assert plausibility(read_tracks(table), 0.4) is None
    warning = plausibility(read_tracks(table.assign(x=table.x * 10)), 0.4)
    assert warning.startswith("warning: 9 of 10 agents' tracks last less than one 0.4 s step (median 0.195 s, at "
                              "12 m/s from first to last position; samples 0.005 s apart)"), warning


def test_a_time_step_the_tracks_do_not_take_is_named(plaza, tmp_path):
    """data.time_step (--time-step) counts frame ids of unknown rate: given for tracks whose times are known
    it would be ignored, so training refuses it, naming data.dt; frame ids that never move by it give no
    window, and the error names it with the step they do move by."""
    times = tmp_path / "times.csv"
    upsample(plaza, 2.5).to_csv(times, index=False)
    # A model's data.time_step does not restate the rate of tracks whose times are known.
    assert summarize(read_tracks(times), time_step=10).line().endswith(": 2.5 Hz")
    r = cli("train", times, "--time-step", 0.1, "--epochs", 1, "--out", tmp_path / "run")
    one_line_error(r, "data.time_step 0.1 (--time-step) counts frame ids of unknown rate", "(a time column in "
                   "seconds)", "data.dt (0.4 s)")
    assert not (tmp_path / "run").exists()
    frames = tmp_path / "frames.csv"
    plaza.to_csv(frames, index=False)  # frame ids 10 apart
    r = cli("train", frames, "--time-step", 0.1, "--epochs", 1, "--out", tmp_path / "run")
    assert r.exit_code == 1 and r.output.splitlines()[1].startswith("train: warning: scene 'test0' moves 10 frame ids "
                                                                    "at a time in 100% of its moves"), r.output
    error = r.output.splitlines()[2]  # after the summary and the warning
    assert len(r.output.splitlines()) == 3 and error.startswith("error: ") and "no usable windows" in error
    assert "a step is data.time_step = 0.1 frame ids, but the tracks' frame ids move 10 at a time: give --fps (the " \
        "frame ids' rate; in training, in place of --time-step), or train without --time-step" in error
    # A step the frame ids move by twice (20): half their rows are off its grid, and the option is at fault,
    # whether or not a frame id is also mistyped (named once the step is right).
    typo = tmp_path / "typo.csv"
    plaza.assign(frame=plaza.frame + 5 * (np.arange(len(plaza)) == 40)).to_csv(typo, index=False)
    for tracks in (frames, typo):
        one_line_error(cli("train", tracks, "--time-step", 20, "--epochs", 1, "--out", tmp_path / "run"),
                       "scene 'test0': its frame ids move 10 at a time, off the grid of data.time_step = 20 frame ids "
                       "a step: give --fps (the frame ids' rate; in training, in place of --time-step), or train "
                       "without --time-step")
    one_line_error(cli("train", typo, "--time-step", 10, "--epochs", 1, "--out", tmp_path / "run"),
                   f"{typo} line 42: frame {plaza.frame.iloc[40] + 5} is off the scene's time grid (step 10): a "
                   "mistyped frame id?")
    assert not (tmp_path / "run").exists()
    # A model trained with --time-step keeps it; predict has no --time-step, and the fix named is one it has.
    stepped = TrajCVAE.load("pedestrian")
    for step, said in ((5.0, "a step is data.time_step = 5 frame ids, but the tracks' frame ids move 10 at a time"),
                       (4.0, "scene 'test0': its frame ids move 10 at a time, off the grid of data.time_step = 4 "
                             "frame ids a step")):
        stepped.config.data.time_step = step
        with pytest.raises(TrajCVAEError, match=re.escape(said + ": give fps (the frame ids' rate; in training, in "
                                                          "place of data.time_step), or train without data.time_step")):
            stepped.predict(frames, k=1)


def test_samples_one_model_step_apart_but_further_apart_than_it_bridges_are_refused(plaza, tmp_path):
    """A model of 1 s steps bridging 0.8 s (trained on 2 Hz tracks) given 1 Hz tracks: each sample lands on a
    step of its own and is a track of its own, so no history may be stitched from them (evaluate finds no
    window in them either): refused, naming --max-gap."""
    from trajcvae.config import load_config
    from trajcvae.train import train

    cfg = load_config(None, ["data.dt=1.0", "data.obs_len=3", "data.pred_len=3", "data.memory_horizon=10",
                             "model.hidden=16", "model.z_dim=4", "model.heads=2", "train.epochs=1", "kset.epochs=0",
                             "train.k_eval=2", "train.variety_k=2"])
    train(upsample(plaza, 2.0), None, cfg, tmp_path / "run", progress=False, figures=False, log=lambda line: None)
    upsample(plaza, 1.0).to_csv(tmp_path / "1hz.csv", index=False)
    for command in (["predict", tmp_path / "run" / "best.pt", tmp_path / "1hz.csv", "--out", tmp_path / "p.csv"],
                    ["evaluate", tmp_path / "run" / "best.pt", tmp_path / "1hz.csv"]):
        one_line_error(cli(*command), "1hz.csv: no usable windows: no agent has 2 consecutive positions: ",
                       "sampled every 1 s (median), longer than the 0.8 s gap the model bridges", "give --max-gap 1.5")
    assert not (tmp_path / "p.csv").exists()


def test_frame_ids_of_unknown_rate_read_by_a_model_of_another_step_are_warned_of(plaza):
    """Each scene's most common difference of frame ids is one model step: a convention for ETH/UCY's 0.4 s,
    and a guess for a model of another step (cars' 2.5 Hz ids read as 10 Hz steps pass a car model's speeds)."""
    from trajcvae.checks import far_apart

    steps = read_tracks(plaza)
    assert plausibility(steps, 0.4) is None
    said = plausibility(steps, 0.1)
    assert said.startswith("warning: the tracks' frame ids have no known rate, so each scene's most common "
                           "difference is read as one 0.1 s model step") and "give --fps" in said
    known = plausibility(read_tracks(plaza, fps=25), 0.1, max_gap=0.8)  # a known rate: no guess
    assert known is None or "no known rate" not in known
    assert plausibility(steps, 0.1, time_step=10) is None  # --time-step says how many ids a step is
    # The guess is said first, not instead of the speeds: centimetres read as metres still name --scale.
    lines = plausibility(read_tracks(plaza.assign(x=plaza.x * 100, y=plaza.y * 100)), 0.1).splitlines()
    assert "have no known rate" in lines[0] and "--scale" in lines[1]
    # Samples 30 s apart are far apart for people (milliseconds?), not for a model of 30 s steps (ships).
    assert far_apart(30, 0.4) and not far_apart(30, 30.0) and far_apart(30_000, 30.0)


def test_tracks_of_mixed_rates_are_read_for_the_agents_that_can_be_predicted(plaza, tmp_path):
    """Most agents at 1 Hz (each sample a track of its own at 0.8 s bridged) and a few at 2.5 Hz: the file is
    not refused for the median's sake; the 2.5 Hz agents are predicted, the others counted as skipped."""
    agents = sorted(plaza.agent_id.unique())
    fast, slow = plaza[plaza.agent_id.isin(agents[:3])], plaza[plaza.agent_id.isin(agents[3:])]
    pd.concat([upsample(fast, 2.5), upsample(slow, 1.0)]).to_csv(tmp_path / "mixed.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "mixed.csv", "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    assert set(pd.read_csv(tmp_path / "p.csv").agent_id) <= set(agents[:3]) and "not predicted" in r.output


def test_a_time_column_that_counts_frames_is_named_as_a_likely_cause(model, plaza):
    """A tracker's frame counter in a `t` column reads as samples a second apart: the no-window message
    says to bridge them, and also, as its whole numbers suggest, to name it frame and give --fps."""
    video = upsample(plaza, 30.0)
    counter = video.assign(t=np.round(video.pop("time") * 30)).drop(columns=["scene"])
    with pytest.raises(TrajCVAEError, match=r"sampled every 1 s .* \(or, if the time column counts frames, name it "
                                            r"frame and give fps, their rate\)"):
        model.predict(counter, k=2)
    with pytest.raises(TrajCVAEError, match=r"counts frames"):  # frame ids over a wrong rate: 11.000000000000002
        model.predict(counter.assign(t=counter.t * 0.1 / 0.1 + (counter.t % 7 == 4) * 2e-15 * counter.t), k=2)
    with pytest.raises(TrajCVAEError) as plain:  # times of 1 s that are no counter: no such hint
        model.predict(counter.assign(t=counter.t + 0.5), k=2)
    assert "counts frames" not in str(plain.value)


ARGO = "frame=timestep,agent_id=track_id,x=position_x,y=position_y,label=object_type,scene=scenario_id"


def test_columns_of_other_names_are_read_as_their_roles(model, plaza, tmp_path):
    """--columns reads a layout of other names (Argoverse 2's, inD's) as the columns it names, in place of
    any column that would otherwise be read: here a `frame` counter, an `id`, a `type` and an `x` of
    something else, which are left alone."""
    plaza = plaza.assign(label=np.where(plaza.agent_id % 3 == 0, "cyclist", "pedestrian"))
    argo = pd.DataFrame({"scenario_id": plaza.scene, "timestep": plaza.frame, "track_id": plaza.agent_id,
                         "Position_X": plaza.x, "position_y": plaza.y, "object_type": plaza.label,
                         "frame": 7, "id": plaza.agent_id % 2, "type": "vehicle", "x": 0.0, "time": 1.0})
    argo.to_csv(tmp_path / "a.csv", index=False)
    argo.to_parquet(tmp_path / "a.parquet")
    expected = model.predict(plaza, k=3, seed=2, fps=25, classes="pedestrian")
    for data in ([tmp_path / "a.csv"], [tmp_path / "a.parquet"], argo):
        got = model.predict(data, k=3, seed=2, fps=25, classes="pedestrian", columns=ARGO)
        pd.testing.assert_frame_equal(got, expected)
    assert read_tracks(argo, columns={"frame": "timestep", "agent_id": "track_id", "x": "position_x",
                                      "y": "position_y"}).attrs["columns"]["x"] == "position_x"
    first, rest = ARGO.split(",", 1)  # repeated, its pairs add up
    r = cli("predict", "pedestrian", tmp_path / "a.csv", "--columns", first, "--columns", rest, "--fps", 25, "-k", 3,
            "--seed", 2, "--classes", "pedestrian", "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    written = pd.read_csv(tmp_path / "p.csv")
    np.testing.assert_allclose(written[["x", "y"]], expected[["x", "y"]], atol=1e-4)
    assert set(written.label) == {"pedestrian"}


def test_a_time_column_in_nanoseconds_is_read_as_seconds(model, plaza, tmp_path):
    """ROS and Argoverse stamp times in nanoseconds since 1970: `time_ns` (as `time_ms`, `time_us`) reads them
    as seconds, on the fast path, the row-by-row one, from Parquet and from a DataFrame alike."""
    seconds = upsample(plaza, 10.0).assign(time=lambda d: d.time + 1.7e9)
    ns = seconds.assign(time=(np.round(seconds.time * 10).astype("int64") * 100_000_000))
    ns = ns.rename(columns={"time": "%time", "agent_id": "field.child_frame_id"})
    spec = "time_ns=%time,agent_id=field.child_frame_id"
    ns.to_csv(tmp_path / "ros.csv", index=False)
    ns.to_parquet(tmp_path / "ros.parquet")
    expected = model.predict(seconds, k=2, seed=0)
    for data in ([tmp_path / "ros.csv"], [tmp_path / "ros.parquet"], ns):
        pd.testing.assert_frame_equal(model.predict(data, k=2, seed=0, columns=spec), expected, atol=1e-6)
    ms = seconds.assign(stamp=np.round(seconds.time * 1000).astype("int64")).drop(columns="time")
    got = read_tracks(ms, columns="time_ms=stamp")
    np.testing.assert_allclose(got.frame.unique()[:3], np.round(seconds.time.unique()[:3], 6), rtol=0, atol=1e-6)
    bad = (tmp_path / "ros.csv").read_text() + "test0,1700000100000000000,7,oops,0.0\n"
    r = cli("predict", "pedestrian", write(tmp_path / "bad.csv", bad), "--columns", spec, "--out", tmp_path / "p.csv")
    one_line_error(r, "bad.csv line", "column 'x' value 'oops' is not a number")
    r = cli("predict", "pedestrian", tmp_path / "ros.csv", "--columns", "agent_id=field.child_frame_id",
            "--out", tmp_path / "p.csv")  # %time is no time column's name: the nanoseconds are not guessed at
    one_line_error(r, "missing column(s) frame (or time in seconds)", "; add frame=<column> (frame ids) or "
                   "time=<column> (seconds) to --columns")
    stamp = ns.rename(columns={"%time": "timestamp"})
    with pytest.raises(DataError, match="read with columns time_ns=timestamp"):  # as seconds: 1.7e18 of them
        read_tracks(stamp, columns="agent_id=field.child_frame_id")
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("columns, expected", [
    ("x=position_x", "--columns: x without y: name both"),
    ("x=position_x,y=position_y,lon=a,lat=b", "x, y and lon, lat exclude each other"),
    ("frame=timestep,time_ns=stamp", "--columns: frame and time_ns: give one clock"),
    ("speed=v", "--columns speed=v: no role 'speed'; the roles are frame, time, time_ms, time_us, time_ns, "
                "time_min, time_h, time_d"),
    ("x=a,x=b", "--columns: x is given twice"),
    ("x=A,y=a", "--columns: column 'a' is given for two roles"),
    ("x:position_x", "--columns 'x:position_x': expected role=column pairs"),
    (",", "--columns '': expected role=column pairs"),
    ("frame=timestep,agent_id=track_id,x=position_x,y=pos_y", "a.csv: no column 'pos_y' (--columns y=pos_y); it "
     "has: timestep, track_id, position_x, position_y, stamp"),
    ("time_us=stamp,agent_id=track_id,x=position_x,y=position_y", "a.csv: column 'stamp' holds date-times, which "
     "say their own unit: give --columns time=stamp, not time_us"),
])
def test_column_mistakes_are_one_line(tmp_path, columns, expected):
    write(tmp_path / "a.csv", "timestep,track_id,position_x,position_y,stamp\n"
                              "0,1,0.0,0.0,2024-05-01T12:00:00Z\n1,1,0.5,0.0,2024-05-01T12:00:00.4Z\n")
    one_line_error(cli("predict", "pedestrian", tmp_path / "a.csv", "--columns", columns, "--out",
                       tmp_path / "p.csv"), expected)
    with pytest.raises(DataError, match=re.escape(worded(expected))):  # as the Python caller gave it: columns=
        read_tracks([tmp_path / "a.csv"], columns=columns)


def test_columns_name_a_headers_columns_and_a_replay_files(tmp_path, plaza):
    """A file without a header has its columns named by number; SDD and TrajNet++ files are read as their
    datasets write them, so --columns given with one is refused, naming it; `serve` takes --columns for its
    --replay file only."""
    eth = write(tmp_path / "biwi.txt", "0 1 0.0 0.0\n10 1 0.4 0.0\n")
    one_line_error(cli("evaluate", "pedestrian", eth, "--columns", "x=a,y=b"), "biwi.txt: no header, so --columns "
                   "names its columns by number (1 for the first of its 4): x=a names none")
    mot = write(tmp_path / "mot.txt", "1,1,10,20,5,9,0.9,-1,-1,-1\n")
    one_line_error(cli("visualize", "pedestrian", mot, "--fps", 30, "--columns", "x=3,y=11", "--out",
                       tmp_path / "f.png"), "mot.txt: --columns y=11: the file has 10 columns (line 1)")
    sdd = tmp_path / "deathCircle" / "video0" / "annotations.txt"
    write_sdd(sdd, plaza)
    one_line_error(cli("visualize", "pedestrian", sdd, "--columns", "x=2,y=3", "--out", tmp_path / "f.png"),
                   "annotations.txt: --columns names a header's columns (or a table's by number), but this file is "
                   "Stanford Drone Dataset annotations, read as their dataset writes them")
    one_line_error(cli("serve", "pedestrian", "--columns", "x=a,y=b"), "--columns x=a,y=b: names the --replay "
                   "file's columns (detections are posted as the API names them); give --replay")
    one_line_error(cli("serve", "pedestrian", "--columns", "x=a"), "--columns: x without y")
    assert not (tmp_path / "f.png").exists()
    from trajcvae.server import replay_updates
    plaza.to_csv(tmp_path / "plaza.csv", index=False)
    plaza.rename(columns={"x": "east", "y": "north"}).to_csv(tmp_path / "renamed.csv", index=False)
    assert replay_updates(tmp_path / "renamed.csv", fps=25, columns="x=east,y=north") == \
        replay_updates(tmp_path / "plaza.csv", fps=25)


def test_a_model_trained_with_columns_keeps_them_and_asks_for_them(tmp_path, plaza, model):
    """`train --columns` keeps data.columns in the checkpoint (and in the windows' cache key); tracks read
    without them by a model trained with them are warned of, naming the option."""
    argo = plaza.rename(columns={"frame": "timestep", "agent_id": "track_id"})
    argo.to_csv(tmp_path / "a.csv", index=False)
    r = cli("train", tmp_path / "a.csv", "--columns", "frame=timestep,agent_id=track_id", "--epochs", 1, "--set",
            "model.hidden=16", "--set", "kset.epochs=0", "--out", tmp_path / "run", "--quiet", "--no-figures",
            "--no-cache")
    assert r.exit_code == 0, r.output
    trained = TrajCVAE.load(tmp_path / "run" / "best.pt")
    assert trained.config.data.columns == "frame=timestep,agent_id=track_id"
    one_line_error(cli("predict", tmp_path / "run" / "best.pt", tmp_path / "a.csv", "--out", tmp_path / "p.csv"),
                   "missing column(s) frame", "(the model was trained on files read with --columns "
                   "frame=timestep,agent_id=track_id: give it if these are in that layout)")
    from trajcvae.windows import CACHE_KEYS
    assert "columns" in CACHE_KEYS
    m = copy.copy(model)
    m.config = copy.deepcopy(model.config)
    m.config.data.columns = "time_ms=stamp"
    assert m.check_speeds(m.read(plaza), log=lambda line: None) == (
        "warning: the model was trained on files read with --columns time_ms=stamp (data.columns), but these are "
        "read by their own column names: if they are in that layout, give --columns time_ms=stamp")


SCALES_YAML = """# OpenTraj's layout for the Stanford Drone Dataset
deathCircle:
  video0:
    certainty: 1.0
    scale: 0.05
  video1:
    certainty: 0.5
    scale: 0.025
bookstore:
  video0: {certainty: 1.0, scale: 0.038}
"""


def test_scales_per_scene_read_each_sdd_video_in_its_own_metres(model, plaza, tmp_path):
    """SDD's videos each have their scale: a file of scales per scene (OpenTraj's estimated_scales.yaml, a
    YAML or JSON {scene: scale}, a CSV of scene, scale; a dict in Python) reads every video in metres in one
    command, and futures come back in each video's pixels."""
    write_sdd(tmp_path / "sdd" / "deathCircle" / "video0" / "annotations.txt", plaza, px_per_m=20.0)
    write_sdd(tmp_path / "sdd" / "deathCircle" / "video1" / "annotations.txt", plaza, px_per_m=40.0)
    write(tmp_path / "scales.yaml", SCALES_YAML)
    write(tmp_path / "scales.json", '{"deathCircle_video0": 0.05, "deathCircle_video1": 0.025}')
    write(tmp_path / "scales.csv", "Scene,Scale\ndeathCircle_video0,0.05\ndeathCircle_video1,0.025\n")
    write(tmp_path / "videos.csv", "scene,video,scale\ndeathCircle,video0,0.05\ndeathCircle,1,0.025\n")  # SDD's way
    tracks = read_tracks([tmp_path / "sdd"], scale={"deathCircle_video0": 0.05, "deathCircle_video1": 0.025})
    with pytest.raises(DataError, match=r"^scene 'deathCircle_video0': no scale for it \(nor for 1 more scene\) in "
                       r"the scales given; it gives the scales of bookstore_video0$"):
        read_tracks([tmp_path / "sdd"], scale={"bookstore_video0": 0.04})
    one, two = (tracks[tracks.scene == f"deathCircle_video{i}"].reset_index(drop=True) for i in (0, 1))
    np.testing.assert_allclose(one[["x", "y"]], two[["x", "y"]], atol=3e-4)  # the same walkers (boxes to 0.01 px)
    metres = tracks[["scene", "frame", "agent_id", "x", "y"]].copy()
    metres.attrs = {}  # a plain table in metres (with the read table's attrs, it would be refused as edited)
    expected = model.predict(metres, k=3, seed=0, fps=30)
    for scale in ("scales.yaml", "scales.json", "scales.csv", "videos.csv"):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            got = model.predict([tmp_path / "sdd"], k=3, seed=0, scale=tmp_path / scale)
        estimate = [str(w.message) for w in said if "estimate" in str(w.message)]
        assert estimate == ([f"scale {tmp_path / scale}: the scale of scene deathCircle_video1 is an "
                             "estimate (its certainty is below 0.9), so its metres are as rough"]
                            if scale == "scales.yaml" else [])
        factor = np.where(got.scene == "deathCircle_video0", 0.05, 0.025)[:, None]
        np.testing.assert_allclose(got[["x", "y"]].to_numpy() * factor, expected[["x", "y"]], atol=1e-9)
    r = cli("predict", "pedestrian", tmp_path / "sdd", "--scale", tmp_path / "scales.csv", "-k", 3, "--out",
            tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    written = pd.read_csv(tmp_path / "p.csv")
    np.testing.assert_allclose(written[["x", "y"]], got[["x", "y"]], atol=1e-4)


@pytest.mark.parametrize("scales, expected", [
    ("bookstore_video0: 0.038\n", "scene 'deathCircle_video0': no scale for it in --scale S; it gives the scales "
     "of bookstore_video0"),
    ("deathCircle_video0: -1\n", "--scale S: scene 'deathCircle_video0': scale -1 is not a positive number"),
    ("deathCircle: {video0: {scale: wide}}\n", "scene 'deathCircle_video0': scale 'wide' is not a positive number"),
    ("deathCircle: {video0: {certainty: 1.0}}\n", "--scale S: scene 'deathCircle_video0': no 'scale' key (it has: "
     "certainty)"),
    ("deathCircle_video0: {certainty: 1.0}\n", "--scale S: scene 'deathCircle_video0': no 'scale' key (it has: "
     "certainty)"),  # (a scene's entry, not its videos)
    ("deathCircle_video0: '０.０５'\n", "--scale S: scene 'deathCircle_video0': scale '０.０５' is not a positive number "
     "of metres per unit (digits of another script or width: write ASCII digits, 0-9)"),
    ("- 0.05\n", "--scale S: expected scenes and their scales"),
    ("deathCircle_video0: [0.05\n", "--scale S: not YAML or JSON"),
    ("deathCircle_video0: 0.05\ndeathCircle_video0: 0.08\n", "--scale S line 2: 'deathCircle_video0' is given twice"),
    ("deathCircle: {video0: 0.05}\ndeathCircle_video0: 0.08\n", "--scale S: scene 'deathCircle_video0' is given twice"),
])
def test_scale_file_mistakes_are_one_line(plaza, tmp_path, scales, expected):
    write_sdd(tmp_path / "deathCircle" / "video0" / "annotations.txt", plaza)
    path = write(tmp_path / "s.yaml", scales)
    one_line_error(cli("predict", "pedestrian", tmp_path / "deathCircle", "--scale", path, "--out",
                       tmp_path / "p.csv"), expected.replace("S", str(path), 1))
    assert not (tmp_path / "p.csv").exists()


def test_a_scale_table_row_short_of_its_video_and_a_nearly_singular_homography_are_refused(tmp_path):
    """A scale table with a video column whose row lacks its video is refused by its line, never an
    IndexError; a homography whose axes differ in length by 1e14 cannot map metres back to pixels and is refused
    as singular, as one of determinant 0 is; a georeferenced one, whose metres lie millions of metres from its
    origin, is not, nor one of tiny pixels."""
    from trajcvae.units import scene_scales, unit_conversion
    table = write(tmp_path / "s.csv", "scene,scale,video\ndeathCircle,0.03,0\nhyang,0.04\n")
    with pytest.raises(DataError, match=r"s.csv line 3: no video for scene 'hyang' \(the table has a video column\)"):
        scene_scales(table)
    with pytest.raises(DataError, match="^homography: the matrix is singular"):
        unit_conversion(None, [[1, 0, 0], [0, 1e-14, 0], [0, 0, 1]])
    assert unit_conversion(None, [[100, 0, 0], [0, 100, 0], [0, 0, 1]]) == {
        "homography": [[100.0, 0.0, 0.0], [0.0, 100.0, 0.0], [0.0, 0.0, 1.0]]}
    # A homography is one up to its factor: pixels of half a micrometre, however written, are no singular matrix.
    for H in ([[5e-7, 0, 0], [0, 5e-7, 0], [0, 0, 1]], [[1, 0, 0], [0, 1, 0], [0, 0, 2e6]]):
        assert unit_conversion(None, H)["homography"] == np.asarray(H, dtype=float).tolist()
    # Georeferenced (pixels to UTM metres: an orthophoto's 5 cm pixels, a camera's matrix moved to its place):
    # millions of metres beside centimetres, as invertible as without them.
    camera = np.linalg.inv([[50.0, 5.0, 300.0], [3.0, -40.0, 600.0], [0.0005, -0.08, 1.0]])
    moved = np.array([[1, 0, 5e5], [0, 1, 5.4e6], [0, 0, 1]]) @ camera
    for H in ([[0.05, 0, 500000], [0, -0.05, 5400000], [0, 0, 1]], moved):
        assert unit_conversion(None, H)["homography"] == np.asarray(H, dtype=float).tolist()


def test_a_scale_that_is_no_number_and_no_file_is_named(plaza, tmp_path):
    plaza.to_csv(tmp_path / "plaza.csv", index=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "plaza.csv", "--scale", "0.o5", "--out", tmp_path / "p.csv"),
                   "--scale 0.o5: neither a number of metres per unit nor a file of scales per scene (no such file)")
    write(tmp_path / "t.csv", "name,metres\na,1\n")
    one_line_error(cli("predict", "pedestrian", tmp_path / "plaza.csv", "--scale", tmp_path / "t.csv", "--out",
                       tmp_path / "p.csv"), "t.csv: a table of scales needs a header with columns scene, scale "
                   "(have: name, metres)")
    one_line_error(cli("train", tmp_path / "plaza.csv", "--scale", tmp_path / "none.yaml", "--out", tmp_path / "r"),
                   "--scale: no such file")
    # The Python API's scale is a number: one given as text is named so, with the number to give.
    from trajcvae import OnlinePredictor
    with pytest.raises(DataError, match=r"^scale must be a positive number of metres per input unit, given as a "
                                        r"number, not as text \(got '0.01'; give 0.01\)$"):
        OnlinePredictor("pedestrian", scale="0.01")


def test_scales_per_scene_travel_through_training_and_the_live_predictor(plaza, tmp_path, model):
    """`train --scale FILE` keeps the file (its absolute path) as data.scale and in the windows' cache key;
    a live predictor takes its own scene's scale from a file or a dict, and refuses a scene without one."""
    write_sdd(tmp_path / "deathCircle" / "video0" / "annotations.txt", plaza)
    scales = write(tmp_path / "s.yaml", SCALES_YAML)
    r = cli("train", tmp_path / "deathCircle", "--scale", scales, "--epochs", 1, "--set", "model.hidden=16", "--set",
            "kset.epochs=0", "--out", tmp_path / "run", "--quiet", "--no-figures", "--no-cache")
    assert r.exit_code == 0, r.output
    assert TrajCVAE.load(tmp_path / "run" / "best.pt").config.data.scale == str(scales.resolve())
    from trajcvae.windows import cache_key
    cfg = Config().data
    cfg.scale = str(scales)
    before = cache_key([tmp_path / "deathCircle" / "video0" / "annotations.txt"], cfg, "windows")
    scales.write_text(SCALES_YAML.replace("0.05", "0.04"))
    assert cache_key([tmp_path / "deathCircle" / "video0" / "annotations.txt"], cfg, "windows") != before
    with pytest.warns(TrajCVAEWarning, match="the scale of scene deathCircle_video1 is an estimate"):
        guessed = OnlinePredictor(model, k=2, scene="deathCircle_video1", scale=scales)
    assert guessed.warnings == [f"scale {scales}: the scale of scene deathCircle_video1 is an estimate (its "
                                "certainty is below 0.9), so its metres are as rough"]
    live = OnlinePredictor(model, k=2, scene="deathCircle_video0", scale=scales)
    assert live.warnings == []
    metres = OnlinePredictor(model, k=2, scene="deathCircle_video0")
    for t in np.arange(0, 3.3, 0.4):
        futures = live.update(float(t), [{"agent_id": "a", "x": 25.0 * t, "y": 10.0}])
        plain = metres.update(float(t), [{"agent_id": "a", "x": t, "y": 0.4}])
    np.testing.assert_allclose(futures[["x", "y"]].to_numpy() * 0.04, plain[["x", "y"]], atol=1e-6)
    with pytest.raises(TrajCVAEError, match="scene .cam9.: no scale for it in scale .*s.yaml"):
        OnlinePredictor(model, scene="cam9", scale=scales)
    OnlinePredictor(model, scene="cam9", scale={"cam9": 0.02})


@pytest.mark.skipif(not ETH_UCY.is_dir(), reason="needs ../shared/datasets/eth_ucy")
def test_times_in_minutes_or_hours_are_warned_of_naming_the_role_that_reads_them(zara01, plaza, tmp_path):
    """A time column in minutes read as seconds makes most tracks shorter than one model step, so few agents
    would be predicted: the warning says so and names the time role that reads it (time_min, or time_h for
    hours), under the file's own column name; read with it, every agent is predicted as from seconds. A
    rate of frame ids given far too high is asked about instead."""
    seconds = zara01.assign(frame=zara01.frame / 25).rename(columns={"frame": "t"})
    seconds.to_csv(tmp_path / "s.csv", index=False)
    seconds.assign(t=seconds.t / 60).to_csv(tmp_path / "min.csv", index=False)
    upsample(plaza, 2.5).assign(time=lambda d: d.time / 3600).to_csv(tmp_path / "h.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "min.csv", "-k", 2, "--out", tmp_path / "p.csv")
    warning = next(line for line in r.output.splitlines() if "last less than one 0.4 s step" in line)
    assert r.exit_code == 0 and warning.startswith("warning: 142 of 148 agents' tracks last less than one 0.4 s "
                                                   "step (median 0.207 s, at 69.8 m/s from first to last position; "
                                                   "samples 0.00667 s apart)")
    assert "track jumps" not in r.output  # (the few tracks left are no guide to jumps)
    assert warning.endswith("so few of them can be predicted: is the time column in seconds? Read with --columns "
                            "time_min=t, its samples would come 0.4 s apart")
    assert pd.read_csv(tmp_path / "p.csv").agent_id.nunique() == 6
    one_line_error(cli("train", tmp_path / "min.csv", "--out", tmp_path / "run", "--no-cache"), "no usable windows",
                   "142 of 148 agents' tracks last less than one 0.4 s step", "--columns time_min=t")
    # Beside a file in seconds, the file in minutes is named as the one to read on its own.
    upsample(plaza, 2.5).rename(columns={"time": "t"}).to_csv(tmp_path / "plaza.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "min.csv", tmp_path / "plaza.csv", "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and f"warning: in scene 'min' ({tmp_path / 'min.csv'}), 142 of 148 agents' tracks last " \
        "less than one 0.4 s step" in r.output and "--columns time_min=t, its samples would come 0.4 s apart (its " \
        "file on its own)" in r.output, r.output
    upsample(plaza, 2.5).assign(time=lambda d: d.time / 3600).rename(columns={"time": "t"}).to_csv(
        tmp_path / "h2.csv", index=False)  # in hours: no track lasts a step, beside a file whose tracks do
    r = cli("predict", "pedestrian", tmp_path / "s.csv", tmp_path / "h2.csv", "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and "warning: in scene 'test0' (" in r.output and "so none of them can be predicted: is " \
        "the time column in seconds? Read with --columns time_h=t" in r.output, r.output
    r = cli("predict", "pedestrian", tmp_path / "min.csv", "-k", 2, "--columns", "time_min=t", "--out",
            tmp_path / "p.csv")
    assert r.exit_code == 0 and "warning" not in r.output, r.output
    assert cli("predict", "pedestrian", tmp_path / "s.csv", "-k", 2, "--out", tmp_path / "s_p.csv").exit_code == 0
    got, expected = pd.read_csv(tmp_path / "p.csv"), pd.read_csv(tmp_path / "s_p.csv")
    assert got.agent_id.nunique() == 148
    np.testing.assert_allclose(got[["x", "y"]], expected[["x", "y"]], atol=1e-4)
    r = cli("predict", "pedestrian", tmp_path / "h.csv", "--columns", "time_h=time", "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and "warning" not in r.output, r.output
    zara01.to_csv(tmp_path / "frames.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "frames.csv", "--fps", 1500, "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and "so few of them can be predicted: is --fps 1500 the frame ids' rate?" in r.output
    # A 120 Hz tracker whose many short tracks move at a walker's pace is no clock in minutes; in centimetres,
    # its speeds are warned of as ever, and no time role under which they would look right is offered.
    fast = upsample(plaza, 120.0)
    fast = pd.concat([fast, *(fast[fast.time.between(s, s + 0.2)].assign(agent_id=lambda d: d.agent_id + 1000 * s)
                              for s in range(1, 20, 2))])  # detections of 0.2 s that got ids of their own
    fast.to_csv(tmp_path / "m.csv", index=False)
    fast.assign(x=fast.x * 100, y=fast.y * 100).to_csv(tmp_path / "cm.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "m.csv", "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and "warning" not in r.output, r.output
    r = cli("predict", "pedestrian", tmp_path / "cm.csv", "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and "check --scale or --homography" in r.output and "time_min" not in r.output, r.output


def test_stamps_that_jitter_around_an_even_rate_are_warned_of_and_read_on_its_grid_with_fps(model, plaza,
                                                                                           tmp_path):
    """Detections made every 0.4 s but stamped on arrival (each stamp off by up to 0.1 s) put positions at the
    wrong times: a line says so and names --fps, which reads each track's times on that rate's grid, as
    recorded. Irregular stamps that are the detections' own times are no mistake."""
    rng = np.random.default_rng(0)
    exact = plaza.assign(time=plaza.frame / 25 + 1000.0).drop(columns="frame")
    jittered = exact.assign(time=exact.time + rng.uniform(-0.1, 0.1, len(exact)))
    irregular = []  # each track read at moments of its own, where it was then
    for _, g in exact.groupby("agent_id"):
        t = np.sort(np.clip(g.time + rng.uniform(-0.1, 0.1, len(g)), g.time.min(), g.time.max()))
        irregular.append(g.assign(time=t, x=np.interp(t, g.time, g.x), y=np.interp(t, g.time, g.y)))
    irregular = pd.concat(irregular)
    noisy = irregular.assign(x=irregular.x + rng.normal(0, 0.15, len(irregular)),
                             y=irregular.y + rng.normal(0, 0.15, len(irregular)))  # (noise flattens what moves show)
    by_distance = []  # a logger that detects each walker every 0.6 m it covers, speeding up and slowing down
    for a in range(12):
        fine = np.arange(0, 30, 0.001)
        covered = np.cumsum(1.0 + 0.5 * np.sin(0.5 * fine + a)) * 0.001
        at = np.searchsorted(covered, np.arange(0.6, covered[-1], 0.6))
        by_distance.append(pd.DataFrame({"time": 1000 + fine[at], "agent_id": a, "x": covered[at], "y": 2.0 * a}))
    by_distance = pd.concat(by_distance)
    for table, warned in ((exact, False), (jittered, True), (irregular, False), (noisy, False), (by_distance, False)):
        said = plausibility(read_tracks(table), 0.4) or ""
        assert ("give --fps 2.5 to read each track's times on a 2.5 Hz grid" in said) == warned, said
        assert ("times on a" in said) == warned, said
    snapped = read_tracks(jittered, fps=2.5)
    assert snapped.attrs["grid"]["moved"] <= 0.2 and snapped.attrs["grid"]["dropped"] == 0
    steps = snapped.groupby("agent_id")["frame"].diff().dropna() / 0.4
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-6)  # whole steps apart
    assert "times on a 2.5 Hz grid, --fps: moved up to" in summarize(snapped).line()
    assert plausibility(snapped, 0.4) is None
    # A tracker's frames stamped with jitter: the agents of one frame keep one time on the grid.
    frames = exact.assign(time=exact.time + exact.time.map(dict(zip(exact.time.unique(), rng.uniform(
        -0.1, 0.1, exact.time.nunique())))))
    assert read_tracks(frames, fps=2.5).frame.nunique() == exact.time.nunique()
    # Loggers out of step (each agent at its own phase), stamped with jitter: each keeps its own grid.
    phase = exact.agent_id.map(dict(zip(exact.agent_id.unique(), rng.uniform(0, 0.4, exact.agent_id.nunique()))))
    stepped = exact.assign(time=exact.time + phase + rng.uniform(-0.1, 0.1, len(exact)))
    moved = read_tracks(stepped, fps=2.5).groupby("agent_id").frame.first() - \
        (exact.assign(time=exact.time + phase).groupby("agent_id").time.first())
    assert np.abs(np.mod(moved + 0.2, 0.4) - 0.2).max() < 0.1, moved  # (the scene's phase: up to 0.2 s off)
    # A scene of another rate beside it keeps to no grid of that rate: named, to be given apart.
    ten = upsample(plaza, 10.0).assign(scene="ten", time=lambda d: d.time + 1000.0)
    with pytest.raises(DataError, match="fps=2.5: the times of scene 'ten' of dataframe keep to no 2.5 Hz grid .*: "
                                        "give its rows apart"):
        read_tracks(pd.concat([jittered.assign(scene="jittered"), ten]), fps=2.5)
    recorded = model.predict(exact, k=4, seed=0)
    by_grid = model.predict(jittered, k=4, seed=0, fps=2.5)
    assert len(by_grid) == len(recorded)
    far = np.hypot(by_grid.x.to_numpy() - recorded.x.to_numpy(), by_grid.y.to_numpy() - recorded.y.to_numpy())
    with pytest.warns(TrajCVAEWarning, match="give fps=2.5 to read each track's times on a 2.5 Hz grid"):
        as_stamped = model.predict(jittered, k=4, seed=0)
    assert len(as_stamped) != len(recorded) or far.mean() < 0.5 * np.hypot(
        as_stamped.x.to_numpy() - recorded.x.to_numpy(), as_stamped.y.to_numpy() - recorded.y.to_numpy()).mean()
    # Detections faster than the rate given put several on one grid point (two detectors' merged, 0.05 s apart),
    # and stamps that keep to no grid of it: refused.
    twice = pd.concat([exact, exact.assign(time=exact.time + 0.05, x=exact.x + 0.05)])
    with pytest.raises(DataError, match="fps=2.5: .* share a 2.5 Hz grid point with another of their agent's"):
        read_tracks(twice, fps=2.5)
    with pytest.raises(DataError, match="fps=1: the times of dataframe keep to no 1 Hz grid"):
        read_tracks(exact, fps=1)


def test_detections_stamped_in_bursts_are_warned_of_in_files_and_live(model, plaza):
    """A 10 Hz tracker's detections received three at a time every 0.3 s and stamped on arrival (0.5 ms apart)
    put positions at the wrong times, and no option reads them right: a line says so, for a file and a live
    feed alike. True stamps that come at random (a Poisson clock, two in a tenth of its mean interval now and
    then) or in pairs 5 ms apart (a logger taking two fixes a time), with noise of 0.15 m, or evenly, are no
    bursts."""
    rng = np.random.default_rng(0)
    even = upsample(plaza, 10.0).assign(time=lambda d: d.time + 1000.0)
    n = np.round((even.time - 1000.0) * 10).astype(int)
    batched = even.assign(time=1000.0 + (n // 3 * 3 + 3) / 10 + n % 3 * 0.0005)
    irregular = []
    for _, g in plaza.groupby("agent_id"):
        t = g.frame.to_numpy() / 25.0
        at = t[0] + np.cumsum(rng.exponential(0.1, int((t[-1] - t[0]) * 15) + 2))
        at = at[at <= t[-1]]
        irregular.append(pd.DataFrame({"time": 1000.0 + at, "agent_id": g.agent_id.iloc[0],
                                       "x": np.interp(at, t, g.x) + rng.normal(0, 0.15, len(at)),
                                       "y": np.interp(at, t, g.y) + rng.normal(0, 0.15, len(at))}))
    pairs = pd.concat([upsample(plaza, 5.0), upsample(plaza.assign(frame=plaza.frame + 0.125), 5.0)])
    pairs = pairs.assign(time=pairs.time + 1000.0, x=pairs.x + rng.normal(0, 0.15, len(pairs)),
                         y=pairs.y + rng.normal(0, 0.15, len(pairs)))
    reversed_ = even.assign(time=1000.0 + (n // 3 * 3 + 3) / 10 + (2 - n % 3) * 0.0005)  # each batch last first
    slow = upsample(plaza, 1.0).assign(time=lambda d: d.time + 1000.0)  # a 1 Hz logger's, ten at a time
    m = np.round(slow.time - 1000.0).astype(int)
    slow = slow.assign(time=1000.0 + (m // 10 * 10 + 10) + m % 10 * 0.001)
    said = "come in bursts: "
    for table, warned in ((batched, True), (reversed_, True), (slow, True), (even, False),
                          (pd.concat(irregular), False), (pairs, False)):
        line = plausibility(read_tracks(table), 0.4) or ""
        assert (said in line) == warned, line
    line = plausibility(read_tracks(batched), 0.4)
    assert re.search(r"bursts: [\d,]+ of the [\d,]+ detections that follow another of their agent's came 0.5 ms "
                     r"after it \(median\), yet their agents moved 0.\d+ m along their tracks since, as far as they go "
                     r"in (0.1\d? s|\d\d ms) .*; stamp each detection when it is made \(no option reads such times "
                     r"right\)$", line), line
    # Beside a scene whose stamps jitter, each is named on a line of its own.
    jittered = even.assign(scene="jittered", time=lambda d: d.time + rng.uniform(-0.03, 0.03, len(d)))
    lines = plausibility(read_tracks(pd.concat([batched.assign(scene="batched"), jittered])), 0.4).splitlines()
    assert any("scene 'batched' come in bursts" in x for x in lines), lines
    assert any("scene 'jittered' jitter by about" in x for x in lines), lines
    # ... and beside a scene of other units (named with its fix on a line of its own).
    cm = even.assign(scene="cm", x=lambda d: d.x * 100, y=lambda d: d.y * 100)
    lines = plausibility(read_tracks(pd.concat([batched.assign(scene="batched"), cm])), 0.4).splitlines()
    assert any("scene 'cm'" in x and "m/s" in x for x in lines) and any("'batched' come in bursts" in x
                                                                           for x in lines), lines
    live = OnlinePredictor(model, k=2)
    with pytest.warns(TrajCVAEWarning, match="come in bursts: .*; send each detection with the time it was made"):
        for time, detections in batched[batched.time < 1040].groupby("time"):
            live.update(time, detections[["agent_id", "x", "y"]])


def test_frame_ids_read_at_the_models_training_rate_whose_samples_come_far_apart_name_the_rate_that_fits(plaza):
    """A model trained with --fps reads frame ids at that rate where none is given: frame ids at 25 a second read
    at 12.5 put the samples 0.8 s apart, with speeds halved and windows twice as long, all within what a model
    knows; a line names --fps 25. At the right rate, with --fps given, or sampled every 0.8 s at the right rate
    (their speeds the model's), nothing is said."""
    moves = plaza.sort_values(["agent_id", "frame"]).groupby("agent_id")[["x", "y"]].diff().dropna()
    record = {"p90": float(np.percentile(np.hypot(moves.x, moves.y) / 0.4, 90)), "slow": 0.1}  # as trained
    said = "their frame ids read at the model's training rate, 12.5 a second, whose steps are 0.4 s: if the frame " \
           "ids count another rate, give --fps (at 25 a second, their samples come a step apart)"
    assert said in (plausibility(read_tracks(plaza, default_fps=12.5), 0.4, record) or "")
    sparse = plaza[plaza.frame % 20 == 0]
    for tracks in (read_tracks(plaza, default_fps=25), read_tracks(plaza, fps=12.5),
                   read_tracks(sparse, default_fps=25)):
        assert "training rate" not in (plausibility(tracks, 0.4, record) or "")


def test_time_unit_mistakes_name_the_role_that_fits(plaza, tmp_path):
    """Stamps read in the wrong unit under --columns: every message names the unit they were read in and the
    time role under which the samples would come as a tracker's (0.4 s apart here), whichever way it is off;
    other mistakes name the file's own column, not the role it was read as."""
    seconds = upsample(plaza, 2.5).assign(time=lambda d: d.time + 1.7e9)
    for unit, per_second in (("ns", 10 ** 9), ("us", 10 ** 6), ("ms", 10 ** 3)):
        stamps = seconds.assign(time=np.round(seconds.time * 10).astype("int64") * (per_second // 10))
        stamps.rename(columns={"time": "stamp"}).to_csv(tmp_path / f"{unit}.csv", index=False)
    cases = [("ns", "time_ms", "is it in milliseconds? Times since 1970 in milli-, micro- or nanoseconds (about "
                               "1e12, 1e15 or 1e18) are read with --columns time_ns=stamp"),
             ("ns", "time_us", "is the time column in microseconds (--columns time_us=stamp)? Read with --columns "
                               "time_ns=stamp, its samples would come 0.4 s apart"),
             ("ms", "time_us", "is the time column in microseconds (--columns time_us=stamp)? Read with --columns "
                               "time_ms=stamp, its samples would come 0.4 s apart"),
             ("ms", "time_ns", "Read with --columns time_ms=stamp, its samples would come 0.4 s apart")]
    for unit, role, expected in cases:  # (samples far apart come with a speed warning naming the same role)
        r = cli("predict", "pedestrian", tmp_path / f"{unit}.csv", "--columns", f"{role}=stamp", "--out",
                tmp_path / "p.csv")
        assert r.exit_code == 1 and "Traceback" not in r.output and expected in r.output.splitlines()[-1], r.output
    one_line_error(cli("predict", "pedestrian", tmp_path / "ms.csv", "--columns", "time_ms=stamp", "--fps", 0.3,
                       "--out", tmp_path / "p.csv"), "--fps 0.3: the times (--columns time_ms=stamp) of ",
                   "ms.csv keep to no 0.3 Hz grid")
    write(tmp_path / "d.csv", "when,oid,x,y\n2024-05-01T12:00:00Z,1,0,0\n2024-05-01T12:00:00.4Z,1,0.5,0\n")
    one_line_error(cli("predict", "pedestrian", tmp_path / "d.csv", "--columns", "frame=when,agent_id=oid", "--out",
                       tmp_path / "p.csv"), "column 'when' holds date-times, not frame ids; name it `time` (or give "
                   "--columns time=when) to read them as seconds")
    write(tmp_path / "e.csv", "t_s,oid,x,y\n0,1,0,0\n0.4,,0.5,0\n")
    one_line_error(cli("predict", "pedestrian", tmp_path / "e.csv", "--columns", "time=t_s,agent_id=oid", "--out",
                       tmp_path / "p.csv"), "e.csv line 3: empty 'oid' (every row needs its agent's id)")
    write(tmp_path / "px.csv", "time,agent_id,px,y\n0,1,0,0\n")
    one_line_error(cli("predict", "pedestrian", tmp_path / "px.csv", "--out", tmp_path / "p.csv"),
                   "missing column(s) x (have: time, agent_id, px, y); read a column of another name as it with "
                   "--columns x=<column>,y=<column>")
    write(tmp_path / "two.csv", "time,timestamp,agent_id,x,y\n0,0,1,0,0\n")
    one_line_error(cli("predict", "pedestrian", tmp_path / "two.csv", "--out", tmp_path / "p.csv"),
                   "2 time columns (time, timestamp): keep one, in seconds, or name the clock with --columns time=time")
    write(tmp_path / "f.csv", "t_s,oid,x,y\n0,1,0,0\n0.4,1,0.5,0\n")
    one_line_error(cli("predict", "pedestrian", tmp_path / "f.csv", "--columns", "time=t_s,agent_id=oid", "--classes",
                       "car", "--out", tmp_path / "p.csv"), "has no label column", "--columns label=<column> reads "
                   "another")
    assert not (tmp_path / "p.csv").exists()


def test_a_time_unit_is_suggested_only_where_it_brings_samples_a_trackers_interval_apart():
    """The unit a time column's question suggests brings its samples 0.01-2 s apart, as a tracker's come (4 ms
    stamps read as seconds, 4 s apart, are no such reading), and of two that do, the one nearer 0.1 s apart
    (0.5 ms read as minutes: 0.03 s; as hours: 1.8 s)."""
    from trajcvae.checks import time_unit_question
    from trajcvae.table import PER_SECOND

    df = pd.DataFrame({"frame": [0.0], "agent_id": [1], "x": [0.0], "y": [0.0], "scene": ["s"]})
    df.attrs.update(columns={"time_ms": "stamp"}, time_base="seconds")
    assert time_unit_question(df, 0.004) == "is the time column in milliseconds (--columns time_ms=stamp)?"
    df.attrs.update(columns={"time": "stamp"})
    assert time_unit_question(df, 0.0005, among=tuple(PER_SECOND)) == (
        "is the time column in seconds (--columns time=stamp)? Read with --columns time_min=stamp, its samples "
        "would come 0.03 s apart")


def test_scale_tables_keep_scene_names_as_written(plaza, tmp_path, monkeypatch):
    """Scene names in a scale file are kept as written (YAML's 01 and 010, a quoted or tab-separated 'cam 1');
    a table row without its scale or a scene given twice is refused by its line; the file inside the data's
    folder is not read as tracks; an empty --scale names no folder."""
    half = plaza.agent_id % 2 == 0
    data = tmp_path / "data"
    data.mkdir()
    plaza.assign(scene=np.where(half, "01", "010")).to_csv(data / "px.csv", index=False)
    write(data / "s.yaml", "01: 0.5\n010: 0.25\n")
    tracks = read_tracks([data], scale=data / "s.yaml")
    assert tracks.attrs["units"] == {"scales": {"01": 0.5, "010": 0.25}} and set(tracks.scene) == {"01", "010"}
    np.testing.assert_allclose(tracks[tracks.scene == "01"].x.abs().max(), 0.5 * plaza[half].x.abs().max())
    plaza.assign(scene=np.where(half, "cam 1", "cam 2")).to_csv(tmp_path / "cams.csv", index=False)
    write(tmp_path / "tabs.tsv", "scene\tscale\ncam 1\t0.5\ncam 2\t0.25\n")
    write(tmp_path / "blanks.txt", 'scene scale\n"cam 1" 0.5\n"cam 2" 0.25\n')
    for table in ("tabs.tsv", "blanks.txt"):
        assert read_tracks([tmp_path / "cams.csv"], scale=tmp_path / table).attrs["units"]["scales"] == \
            {"cam 1": 0.5, "cam 2": 0.25}
    for text, expected in (("scene,scale\ncam 1,0.5\ncam 2\n", "s.csv line 3: no scale for scene 'cam 2'"),
                           ("scene,scale\ncam 1,0.5\ncam 1,0.25\n", "s.csv line 3: scene 'cam 1' is given twice")):
        with pytest.raises(DataError, match=re.escape(expected)):
            read_tracks([tmp_path / "cams.csv"], scale=write(tmp_path / "s.csv", text))
    monkeypatch.chdir(data)
    write(data / "p.csv", "")
    r = cli("predict", "pedestrian", "px.csv", "--scale", "", "--out", "p.csv")  # not the folder's p.csv
    assert r.exit_code == 2 and "empty (an unset variable?)" in r.output, r.output


def test_scales_per_scene_reach_pictures_the_coarse_check_and_a_replay(plaza, tmp_path, model):
    """Each file's positions are judged coarse at its own scene's scale; a predictions table of more scenes
    than the tracks drawn is drawn for those scenes; a replayed file's scenes take their scales under their
    names or as the API writes them (cam1/tracks: cam1_tracks)."""
    from trajcvae.server import replay_updates
    half = plaza.agent_id % 2 == 0
    plaza[half].assign(scene="fine", x=lambda d: (d.x / 0.02).round(), y=lambda d: (d.y / 0.02).round()).to_csv(
        tmp_path / "fine.csv", index=False)
    plaza[~half].assign(scene="coarse", x=lambda d: (d.x / 0.1).round(), y=lambda d: (d.y / 0.1).round()).to_csv(
        tmp_path / "coarse.csv", index=False)
    scales = {"fine": 0.02, "coarse": 0.1}
    said = read_tracks([tmp_path / "fine.csv", tmp_path / "coarse.csv"], scale=scales).attrs["coarse"]
    assert said[0].startswith(f"{tmp_path / 'coarse.csv'} holds positions written as whole numbers, which resolve "
                              "only 0.1 m")
    with pytest.warns(TrajCVAEWarning, match="coarse.csv holds positions written as whole numbers"):
        futures = model.predict([tmp_path / "fine.csv", tmp_path / "coarse.csv"], k=2, scale=scales)
    futures.to_csv(tmp_path / "p.csv", index=False)
    r = cli("visualize", tmp_path / "p.csv", tmp_path / "fine.csv", "--scale", write(tmp_path / "s.json",
            json.dumps(scales)), "--grid", 2, "--out", tmp_path / "f.png")
    assert r.exit_code == 0, r.output
    plaza.assign(scene=np.where(half, "cam1/tracks", "cam2/tracks")).to_csv(tmp_path / "r.csv", index=False)
    by_name = replay_updates(tmp_path / "r.csv", fps=25, scale={"cam1/tracks": 0.5, "cam2/tracks": 0.25})
    by_api = replay_updates(tmp_path / "r.csv", fps=25, scale={"cam1_tracks": 0.5, "cam2_tracks": 0.25})
    assert by_name == by_api and {scene for scene, _, _ in by_name} == {"cam1_tracks", "cam2_tracks"}
    guessed = write(tmp_path / "s.yaml", "cam1_tracks: {scale: 0.5, certainty: 0}\ncam2_tracks: 0.25\n")
    with pytest.warns(TrajCVAEWarning, match="the scale of scene cam1/tracks is an estimate"):
        assert replay_updates(tmp_path / "r.csv", fps=25, scale=str(guessed)) == by_name


def test_a_table_without_a_header_is_read_by_column_number(model, plaza, tmp_path):
    """ETH's obsmat.txt (frame, id, x, z, y, vx, vz, vy, no header) or a 3-D tracker's rows: --columns names
    the columns by number, 1 for the first, and the tracks read as the same tracks in the canonical layout."""
    rows = [f"{r.frame:.8e} {r.agent_id:.8e} {r.x:.8e} 0.0 {r.y:.8e} 0.1 0.0 0.2" for r in plaza.itertuples()]
    write(tmp_path / "obsmat.txt", "\n".join(rows) + "\n")
    got = model.predict([tmp_path / "obsmat.txt"], k=2, seed=0, columns="frame=1,agent_id=2,x=3,y=5")
    pd.testing.assert_frame_equal(got.drop(columns="scene"), model.predict(plaza, k=2, seed=0).drop(columns="scene"))
    one_line_error(cli("predict", "pedestrian", tmp_path / "obsmat.txt", "--out", tmp_path / "p.csv"),
                   "line 1 has 8 columns and no header", "or be read by number with --columns (ETH's obsmat.txt: "
                   "frame=1,agent_id=2,x=3,y=5)")
    bad = write(tmp_path / "bad.txt", "\n".join(rows[:5] + [rows[5].replace("0.0 ", "zero ", 1)]) + "\n")
    one_line_error(cli("predict", "pedestrian", bad, "--columns", "frame=1,agent_id=2,x=3,y=4", "--out",
                       tmp_path / "p.csv"), "bad.txt line 6: column '4' value 'zero' is not a number")
    one_line_error(cli("predict", "pedestrian", bad, "--columns", "frame=1,x=3,y=5", "--out", tmp_path / "p.csv"),
                   "missing column(s) agent_id (have: 1, 2, 3, 4, 5, 6, 7, 8); add agent_id=<column> to --columns")
    (tmp_path / "seq_eth").mkdir()  # ETH's raw folder: obsmat.txt beside its H.txt
    (tmp_path / "seq_eth" / "obsmat.txt").write_text("\n".join(rows) + "\n")
    write(tmp_path / "seq_eth" / "H.txt", "2.8e-02 2.0e-03 -4.6\n8.0e-04 2.5e-02 -5.0\n3.4e-04 9.2e-05 4.6e-01\n")
    one_line_error(cli("predict", "pedestrian", tmp_path / "seq_eth", "--columns", "frame=1,agent_id=2,x=3,y=5",
                       "--out", tmp_path / "p.csv"),
                   "H.txt: --columns y=5: the file has 3 columns (line 1); if it holds no tracks (ETH's H.txt or "
                   "groups.txt beside obsmat.txt), give the track files by name")


def test_columns_by_number_count_from_one_in_files_tables_and_rows_with_text(model, plaza, tmp_path):
    """Numbered columns are the same columns whether the headerless table is a text file (with a class name
    among its numbers), a Parquet file or a DataFrame of pandas' labels 0, 1, ..., or a CSV under those labels
    as its header (pandas' `to_csv` of a table read without one, with its index or not); a numbered column that
    holds a name in the first row (a header), one counted from 0 and a number that is no ASCII digit are refused
    in one line."""
    table = pd.DataFrame({0: plaza.frame, 1: plaza.agent_id, 2: plaza.x, 3: 0.0, 4: plaza.y, 5: "Pedestrian"})
    table.to_csv(tmp_path / "rows.txt", index=False, header=False)
    table.to_parquet(tmp_path / "rows.parquet")
    spec = "frame=1,agent_id=2,x=3,y=5,label=6"
    expected = model.predict(plaza.assign(label="Pedestrian"), k=2, seed=0).drop(columns="scene")
    table.to_csv(tmp_path / "labelled.csv", index=False)  # (a first row 0,1,2,3,4,5)
    for data in ([tmp_path / "rows.txt"], [tmp_path / "rows.parquet"], table, [tmp_path / "labelled.csv"]):
        got = model.predict(data, k=2, seed=0, columns=spec).drop(columns="scene")
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert len(read_tracks([tmp_path / "labelled.csv"], columns=spec)) == len(plaza)  # (no row of its header)
    table.to_csv(tmp_path / "indexed.csv")  # (a first row ,0,1,2,3,4,5: its index column first)
    got = model.predict([tmp_path / "indexed.csv"], k=2, seed=0, columns="frame=2,agent_id=3,x=4,y=6,label=7")
    assert len(read_tracks([tmp_path / "indexed.csv"], columns="frame=2,agent_id=3,x=4,y=6")) == len(plaza)
    pd.testing.assert_frame_equal(got.drop(columns="scene"), expected, check_dtype=False)
    one_line_error(cli("predict", "pedestrian", tmp_path / "labelled.csv", "--columns", "frame=0,agent_id=1,x=2,y=4",
                       "--out", tmp_path / "p.csv"), "labelled.csv: --columns frame=0: its header numbers the columns "
                   "from 0 (as pandas writes a table read without one), and --columns counts them from 1")
    with pytest.raises(DataError, match=r"no column '0' \(columns frame=0\); it has: 1, 2, 3, 4, 5, 6 \(numbered "
                                        r"from 1\)$"):
        read_tracks(table, columns="frame=0,agent_id=1,x=2,y=4")
    write(tmp_path / "header.csv", "frame,id,x,y\n0,1,0,0\n10,1,0.4,0\n")
    one_line_error(cli("predict", "pedestrian", tmp_path / "header.csv", "--columns", "frame=1,agent_id=2,x=3,y=4",
                       "--out", tmp_path / "p.csv"), "header.csv: --columns frame=1: line 1 holds 'frame' there, a "
                   "header's name: --columns names columns by number only in a file without a header")
    one_line_error(cli("predict", "pedestrian", tmp_path / "rows.txt", "--columns", "frame=1,agent_id=2,x=3,y=\u00b2",
                       "--out", tmp_path / "p.csv"), "y=\u00b2 names none")
    ns = write(tmp_path / "ns.txt", "\n".join(f"{1700000000000000000 + i * 400000000},1,{0.5 * i},0" for i in range(9)))
    one_line_error(cli("predict", "pedestrian", ns, "--columns", "time=1,agent_id=2,x=3,y=4", "--out",
                       tmp_path / "p.csv"), "ns.txt line 1: column 1 value 1.7e+18 is too large", "--columns "
                   "time_ns=1 (or time_ms, time_us)")


def test_motchallenge_ground_truth_keeps_people_and_vehicles_and_drops_distractors_and_occluders(tmp_path):
    """MOT's classes 1-7 (pedestrians to static people: someone's neighbours) are kept under MOT's names; 8-13
    (distractors, occluders, reflections, crowds) are dropped, whether flagged 0 or 1."""
    from trajcvae.formats import MOT_CLASSES
    rows = [f"{f},{c},{10 * c + f},200,16,40,{c % 2},{c},1" for c in range(1, 14) for f in (1, 2)]
    gt = write(tmp_path / "gt.txt", "\n".join(rows) + "\n")
    tracks = read_tracks([gt], fps=30)
    assert sorted(set(tracks.agent_id)) == list(range(1, 8))
    assert dict(zip(tracks.agent_id, tracks.label)) == {c: MOT_CLASSES[c - 1] for c in range(1, 8)}
    # One row's class missing, or one flag neither 0 nor 1: which boxes to keep (and their labels) is in
    # doubt, so the row is named (it read the whole file as a tracker's, reflections kept as agents).
    for at, row, message in ((5, "3,3,40,200,16,40,1,,1", "no class id in column 8"),
                             (5, "3,3,40,200,16,40,1,nan,1", "no class id in column 8"),
                             (9, "5,5,60,200,16,40,2,5,1", "'2' in column 7 \\('consider'\\), where ground truth")):
        bad = rows[:at - 1] + [row] + rows[at:]
        with pytest.raises(DataError, match=rf"gt.txt line {at}: {message}"):
            read_tracks([write(tmp_path / "gt.txt", "\n".join(bad) + "\n")], fps=30)
    # A tracker's 9 columns (a confidence, a class, -1) keep every box, labelled by class id, whatever its
    # confidences (one of 0.9 among 1s is no ground truth's flag written wrong: no visibility there).
    scored = [f"{f},1,{10 + f},200,16,40,{0.9 if f == 2 else 1},1,-1" for f in range(1, 9)]
    assert len(read_tracks([write(tmp_path / "s.txt", "\n".join(scored) + "\n")], fps=30)) == 8
    tracker = [f"{f},{c},{10 * c + f},200,16,40,0.{c}{f},{c},-1" for c in range(1, 14) for f in (1, 2)]
    assert sorted(set(read_tracks([write(tmp_path / "t.txt", "\n".join(tracker) + "\n")], fps=30).agent_id)) \
        == list(range(1, 14))


def test_motchallenge_rows_separated_by_blanks_are_read_as_boxes_not_as_sdd(tmp_path):
    """A tracker's 10 numbers a row, written with spaces in place of commas, are MOT boxes (foot points, no
    label): not SDD annotations, whose 10th field is a quoted label."""
    rows = [f"{f},1,{100 + 2 * f},200,16,40,0.9,-1,-1,-1" for f in range(1, 8)]
    commas = read_tracks([write(tmp_path / "commas.txt", "\n".join(rows) + "\n")], fps=30)
    blanks = read_tracks([write(tmp_path / "blanks.txt", "\n".join(r.replace(",", " ") for r in rows) + "\n")],
                         fps=30)
    np.testing.assert_array_equal(blanks[["frame", "agent_id", "x", "y"]], commas[["frame", "agent_id", "x", "y"]])
    assert "label" not in blanks and blanks.x.iloc[0] == 110.0 and blanks.y.iloc[0] == 240.0


def test_a_seqinfo_frame_rate_of_zero_is_refused_naming_it(tmp_path):
    (tmp_path / "seq" / "gt").mkdir(parents=True)
    write(tmp_path / "seq" / "seqinfo.ini", "[Sequence]\nname=seq\nframeRate=0\n")
    gt = write(tmp_path / "seq" / "gt" / "gt.txt", "1,1,100,200,16,40,1,1,1\n2,1,101,200,16,40,1,1,1\n")
    with pytest.raises(DataError, match=r"seqinfo.ini: frameRate '0' is not a rate in frames per second"):
        read_tracks([gt])


def test_rows_of_ten_numbers_with_a_world_position_are_no_motchallenge_boxes(tmp_path):
    """A tracker's results carry -1 in all three of MOT's world coordinates; a row whose x is given (a 3-D
    tracker's) is not guessed to be boxes."""
    rows = "\n".join(f"{f},1,100,200,16,40,0.9,{1.5 + f},-1,-1" for f in range(1, 4)) + "\n"
    with pytest.raises(DataError, match=r"world.txt: line 1 has 10 columns and no header"):
        read_tracks([write(tmp_path / "world.txt", rows)], fps=30)


def test_a_file_named_det_txt_outside_a_det_folder_is_read_as_tracks(tmp_path):
    """Only a sequence's det/det.txt is skipped as detections; a tracker's det.txt elsewhere in it is tracks."""
    (tmp_path / "MOT17-09" / "tracker").mkdir(parents=True)
    write(tmp_path / "MOT17-09" / "seqinfo.ini", "[Sequence]\nframeRate=30\n")
    write(tmp_path / "MOT17-09" / "tracker" / "det.txt",
          "".join(f"{f},1,{100 + f},200,16,40,0.9,-1,-1,-1\n" for f in range(1, 6)))
    tracks = read_tracks([tmp_path / "MOT17-09"])
    assert len(tracks) == 5 and tracks.attrs["fps"] == 30.0


def test_trajnetplusplus_records_with_a_scene_id_are_predictions_not_tracks(tmp_path):
    """A predictor's records name their scene (scene_id), with or without a prediction_number: refused, never
    read as observations."""
    bad = write(tmp_path / "pred.ndjson", '{"track": {"f": 0, "p": 1, "x": 0, "y": 0}}\n'
                                          '{"track": {"f": 10, "p": 1, "x": 1, "y": 0, "scene_id": 3}}\n')
    with pytest.raises(DataError, match=r"pred.ndjson line 2: a TrajNet\+\+ prediction record \(scene_id\), not an "):
        read_tracks([bad])


def test_trajnetplusplus_prediction_records_end_no_earlier_than_their_last_forecast_frame(tmp_path):
    """A scene record whose end `e` falls short of the forecast frames is written with `e` moved up to the last
    of them (a reader of its frames finds them all); one that reaches past them keeps its own."""
    from trajcvae.formats import trajnet_predictions
    frames, futures = np.array([[90, 100]]), np.zeros((1, 2, 2, 2))
    for e, want in ((80, 100), (200, 200)):
        lines = trajnet_predictions([{"id": 0, "p": 1, "s": 0, "e": e}], frames, futures).splitlines()
        assert json.loads(lines[0])["scene"]["e"] == want
        assert [json.loads(line)["track"]["prediction_number"] for line in lines[1:]] == [0, 0, 1, 1]


def test_trajnetplusplus_scene_records_are_timed_as_their_rows_beside_files_of_other_rates(tmp_path):
    """Files of different own rates are timed in seconds; a TrajNet++ file's scene records (each primary's last
    observed frame, its step) are too, so that they name the rows' times."""
    paths = []
    for name, fps in (("slow", 2.5), ("fast", 5.0)):
        lines = [json.dumps({"scene": {"id": 0, "p": 1, "s": 0, "e": 200, "fps": fps}})]
        lines += [json.dumps({"track": {"f": f, "p": 1, "x": 0.1 * f, "y": 0.0}}) for f in range(0, 210, 10)]
        paths.append(write(tmp_path / f"{name}.ndjson", "\n".join(lines) + "\n"))
    tracks = read_tracks(paths)
    assert tracks.attrs["time_base"] == "seconds"
    records = tracks.attrs["scene_records"]
    got = {scene: (t0, step) for scene, t0, step in zip(records["scene"], records["t0"], records["step"])}
    assert got == {"slow": pytest.approx((80 / 25, 10 / 25)), "fast": pytest.approx((80 / 50, 10 / 50))}
    for scene, (t0, _) in got.items():  # the primary's row at its last observed sample
        assert np.isclose(tracks.frame[tracks.scene == scene], t0).sum() == 1


def test_classes_given_with_blanks_after_their_commas_keep_every_class_they_name(tmp_path):
    """--classes "Pedestrian, Biker" (as people write lists) keeps the bikers too, as "Pedestrian,Biker" does, and
    so does a list holding that text (as --classes given twice, each comma-separated), but for an item that is a
    label itself ("Car, parked")."""
    f = write(tmp_path / "l.csv", "frame,agent_id,x,y,label\n0,1,0,0,Pedestrian\n10,1,1,0,Pedestrian\n"
                                  "0,2,0,1,Biker\n10,2,3,1,Biker\n0,3,0,2,Car\n10,3,5,2,Car\n")
    for classes in ("Pedestrian, Biker", " pedestrian ,biker ", ["Pedestrian ", " Biker"], ["Pedestrian,Biker"]):
        assert sorted(set(read_tracks([f], classes=classes).agent_id)) == [1, 2]
    parked = write(tmp_path / "p.csv", f.read_text().replace(",Car", ',"Car, parked"'))  # a label with a comma
    assert sorted(set(read_tracks([parked], classes=["Car, parked"]).agent_id)) == [3]
    assert sorted(set(read_tracks([parked], classes=["Pedestrian,Biker"]).agent_id)) == [1, 2]


def test_pictures_run_as_the_input_does_y_down_for_a_videos_pixels(model, plaza, tmp_path, monkeypatch):
    """SDD's and MOT's positions are a video's pixels, v growing downwards: scaled to metres, they are drawn
    y-down as the video shows them (drawn y-up, the scene was its mirror image), and said to be; degrees are
    drawn in metres east and north; a CSV's metres y-up. The run's val_predictions.png and a window cache
    keep the way too."""
    import trajcvae.visualize as V
    from trajcvae.config import DataConfig
    from trajcvae.plots import AXIS_LABELS
    from trajcvae.windows import load_windows

    sdd = tmp_path / "deathCircle" / "video0" / "annotations.txt"
    write_sdd(sdd, plaza)
    mot = tmp_path / "MOT17-02" / "gt" / "gt.txt"
    write_mot(mot, plaza, ground_truth=True)
    gps = tmp_path / "gps.csv"
    to_gps(plaza, 48.1, 11.5).to_csv(gps, index=False)
    metres = tmp_path / "metres.csv"
    plaza.to_csv(metres, index=False)
    figures = []
    monkeypatch.setattr(V, "save_figure", lambda fig, out, *a: figures.append(fig) or Path(out))
    frame = float(plaza.frame.iloc[len(plaza) // 2])
    for files, given, orient in (([sdd], {"scale": 0.05}, "image"), ([mot], {"scale": 0.05, "fps": 30}, "image"),
                                 ([gps], {}, "east_north"), ([metres], {}, "xy")):
        assert read_tracks(files, **given).attrs["orient"] == orient
        at = frame / 25 * 30 + (files == [mot]) if orient == "image" else frame  # (MOT's frame ids start at 1)
        V.visualize(model, files, out=tmp_path / "grid.png", grid=2, seed=0, **given)
        V.visualize(model, files, out=tmp_path / "crowd.png", scene_frame=at, **given)
        for fig in figures[-2:]:
            ax = fig.axes[0]
            assert (ax.get_xlabel(), ax.get_ylabel()) == AXIS_LABELS[orient]
            assert ax.yaxis_inverted() == (orient == "image"), (files, ax.get_ylabel())
    assert AXIS_LABELS["image"][1] == "y (m, downwards in the image)" and AXIS_LABELS["east_north"][1] == "north (m)"
    homography = tmp_path / "H.txt"  # through a homography the pixels become the ground's own metres: y up
    homography.write_text("0.05 0 0\n0 0.05 0\n0 0 1\n")
    assert read_tracks([mot], fps=30, homography=homography).attrs["orient"] == "xy"
    # So do a GIF's frames, and the validation windows train draws (val_predictions.png).
    animated = []
    monkeypatch.setattr(V, "_save_animation", lambda fig, draw, n, out, seconds=None: animated.append((fig, draw))
                        or Path(out))
    for files, given, down in (([sdd], {"scale": 0.05}, True), ([metres], {}, False)):
        V.visualize(model, files, animate=tmp_path / "a.gif", frames=2, **given)
        fig, draw = animated[-1]
        draw(0)
        assert fig.axes[0].yaxis_inverted() == down and fig.axes[0].get_ylabel() == AXIS_LABELS[
            "image" if down else "xy"][1]
    run = tmp_path / "run"
    run.mkdir()
    (run / "best.pt").write_bytes((Path(V.__file__).parent / "models" / "pedestrian.pt").read_bytes())
    monkeypatch.setattr(V, "plot_training", lambda folder: folder / "curves.png")
    V.write_run_figures(run, load_windows([sdd], DataConfig(scale=0.05)), k=2, n=2)
    assert figures[-1].axes[0].yaxis_inverted() and figures[-1].axes[0].get_ylabel() == AXIS_LABELS["image"][1]
    cfg = DataConfig(scale=0.05)
    for cache in (tmp_path / "cache", tmp_path / "cache"):  # built, then read back from the cache
        assert load_windows([sdd], cfg, cache).orient == "image"
    assert load_windows([gps], DataConfig(), tmp_path / "cache").subset([0]).orient == "east_north"


def jittered(noise: float, seed: int = 0, apart: float = 9.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """20 agents `apart` metres apart, every other one standing, the rest walking at 1.3 m/s each its own way, 20 steps
    of 0.4 s: their tracks as they went, and as a tracker with `noise` metres (std per axis) detects them."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(20):
        heading, speed = rng.uniform(0, 2 * np.pi), 1.3 * (a % 2)
        rows += [(0.4 * i, a, apart * a + speed * 0.4 * i * np.cos(heading), speed * 0.4 * i * np.sin(heading))
                 for i in range(20)]
    clean = pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"])
    return clean, clean.assign(x=clean.x + noise * rng.standard_normal(len(clean)),
                               y=clean.y + noise * rng.standard_normal(len(clean)))


def dense_tracker(hz: float, noise: float, seed: int = 0, seconds: float = 12.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """20 agents 9 m apart, every other one standing, the rest walking at 1.3 m/s each its own way and turning
    gently (each at its own rate, up to 0.2 rad/s), detected `hz` times a second for `seconds`: their tracks as they
    went, and with `noise` metres (std per axis) on each."""
    rng, rows = np.random.default_rng(seed), []
    t = np.round(np.arange(0, seconds + 1e-9, 1 / hz), 4)
    for a in range(20):
        heading = rng.uniform(0, 2 * np.pi) + rng.uniform(-0.2, 0.2) * t[:-1]  # (n - 1,) between detections
        step = 1.3 * (a % 2) * np.diff(t)
        rows.append(pd.DataFrame({"time": t, "agent_id": a,
                                  "x": 9.0 * a + np.r_[0.0, np.cumsum(step * np.cos(heading))],
                                  "y": np.r_[0.0, np.cumsum(step * np.sin(heading))]}))
    clean = pd.concat(rows, ignore_index=True)
    return clean, clean.assign(x=clean.x + noise * rng.standard_normal(len(clean)),
                               y=clean.y + noise * rng.standard_normal(len(clean)))


def test_agents_whose_detections_no_gap_bridges_are_named_with_the_gap_to_give(plaza, tmp_path):
    """A fleet of 10 Hz devices and a few at 1 Hz (hQA7): the 1 Hz agents' detections are all further apart than
    the 0.8 s bridged, so they make no track and get no futures; a line names them and the --max-gap to give,
    which then predicts them."""
    tracker = upsample(plaza, 10.0)
    sparse = tracker.agent_id.isin(tracker.agent_id.unique()[:5])
    fleet = tracker[~sparse | np.isclose(tracker.time % 1.0, 0.0) | np.isclose(tracker.time % 1.0, 1.0)]
    fleet.to_csv(tmp_path / "fleet.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "fleet.csv", "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    line = [s for s in r.output.splitlines() if "gap the model bridges" in s]
    assert line == ["warning: 5 agents are detected every 1 s (median; '1', '2', '3', ...), over the 0.8 s gap the "
                    "model bridges, so no two of their detections make a track, and they are neither predicted nor "
                    "scored: give --max-gap 1.5 to bridge them"], r.output
    predicted = lambda out: set(pd.read_csv(out).agent_id)  # noqa: E731
    assert not predicted(tmp_path / "p.csv") & set(fleet.agent_id[sparse])
    r = cli("predict", "pedestrian", tmp_path / "fleet.csv", "--max-gap", 1.5, "--out", tmp_path / "q.csv")
    assert r.exit_code == 0 and "gap the model bridges" not in r.output, r.output
    assert set(fleet.agent_id[sparse]) <= predicted(tmp_path / "q.csv")


def test_gaps_just_over_the_one_bridged_are_named_with_the_gap_to_give(plaza, tmp_path):
    """At 2.5 Hz one missed detection leaves 0.8 s, the gap bridged by default; timestamps that jitter by a few
    hundredths of a second put about half of those gaps over it, each splitting its track (hQA9: zara1 kept 769
    of 1,755 windows). A line names them and the --max-gap to give, which bridges them."""
    rng = np.random.default_rng(0)
    seen = plaza[rng.random(len(plaza)) >= 0.1]
    seen = seen.assign(time=np.round(seen.frame / 25 + rng.uniform(-0.03, 0.03, len(seen)), 3)).drop(columns="frame")
    seen.to_csv(tmp_path / "jittered.csv", index=False)
    runs = {gap: cli("predict", "pedestrian", tmp_path / "jittered.csv", "--every-window", "-k", 1, "--out",
                     tmp_path / f"p{gap}.csv", *(["--max-gap", gap] if gap else [])) for gap in (None, 0.9)}
    assert all(r.exit_code == 0 for r in runs.values()), runs
    line = [s for s in runs[None].output.splitlines() if "just over" in s]
    assert len(line) == 1 and line[0].startswith("warning: ") and line[0].endswith(
        "s: a missed detection, with timestamps that jitter?), so each splits its track and the windows across it "
        "are lost: give --max-gap 0.9 to bridge them"), runs[None].output
    assert "just over" not in runs[0.9].output
    windows = {gap: pd.read_csv(tmp_path / f"p{gap}.csv").groupby(["agent_id", "t0"]).ngroups for gap in runs}
    assert windows[0.9] > 1.2 * windows[None], windows


def test_a_fix_that_gives_the_noise_names_how_the_function_at_hand_takes_it(model, plaza):
    """`predict` and `evaluate` take the noise from the model loaded: their jitter line names TrajCVAE.load(...,
    noise=), and the model it loads reads the tracks with no line; the live predictor, which takes noise= itself,
    names that."""
    rng = np.random.default_rng(0)
    noisy = plaza.assign(time=plaza.frame / 25, x=plaza.x + rng.normal(0, 0.2, len(plaza)),
                         y=plaza.y + rng.normal(0, 0.2, len(plaza))).drop(columns="frame")
    jitter = lambda said: [str(w.message) for w in said if "jitter by about" in str(w.message)]  # noqa: E731
    with pytest.warns(TrajCVAEWarning) as said:
        model.predict(noisy, k=2)
    fix = re.search(r"give TrajCVAE\.load\(\.\.\., noise=([\d.]+)\), or TrajCVAE\.load\(\.\.\., noise='auto'\)",
                    jitter(said)[0])
    assert fix, jitter(said)
    with warnings.catch_warnings(record=True) as after:
        warnings.simplefilter("always")
        TrajCVAE.load("pedestrian", noise=float(fix[1])).predict(noisy, k=2)
    assert not jitter(after), jitter(after)
    live = OnlinePredictor(model, k=2)
    with pytest.warns(TrajCVAEWarning) as said:
        for t in np.unique(noisy.time)[:40]:
            live.update(float(t), noisy[noisy.time == t][["agent_id", "x", "y"]])
    assert re.search(r"give noise=[\d.]+, or noise='auto'", jitter(said)[0]), jitter(said)


def test_timestamps_truncated_to_milliseconds_give_the_windows_and_futures_of_exact_ones(model, plaza):
    """Many loggers, and Parquet's timestamps, keep whole milliseconds, truncated: Unix seconds of 0.4 s steps
    then read 0.399 or 0.401 s apart. Every window of the exact times is made, with the same neighbours (one who
    left is not kept in view a step longer, its next detection due at t0), and the futures move by what a
    millisecond of walking does; in a file as live."""
    exact = plaza.assign(time=1.7e9 + plaza.frame / 25).drop(columns="frame")
    ms = exact.assign(time=pd.to_datetime(exact.time, unit="s").astype("datetime64[ms]"))
    assert (np.diff(np.sort(ms.time.unique())) != np.timedelta64(400, "ms")).any()  # 0.399 s and 0.401 s steps
    a, b = (model.make_windows(d, every_window=True) for d in (exact, ms))
    assert len(a) == len(b) > 300 and np.array_equal(a.agent_id, b.agent_id)
    np.testing.assert_allclose(b.t0, a.t0, atol=1e-3, rtol=0)
    for got, want in ((b.obs, a.obs), (b.nbr, a.nbr), (b.fut, a.fut)):
        assert np.array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got, want, atol=0.01, equal_nan=True)
    latest = [model.predict(d, k=5, seed=0) for d in (exact, ms)]
    assert np.array_equal(latest[0].agent_id, latest[1].agent_id)
    np.testing.assert_allclose(latest[1][["x", "y"]], latest[0][["x", "y"]], atol=0.05)
    live = []
    for d in (exact, ms):
        online = OnlinePredictor(model, k=5, seed=0)
        seconds = d.time.astype("datetime64[ns]").astype("int64") / 1e9 if d is ms else d.time
        for t in np.unique(seconds)[:40]:
            answer = online.update(float(t), d[seconds == t][["agent_id", "x", "y"]])
        live.append(answer)
    assert len(live[0]) and np.array_equal(live[0].agent_id, live[1].agent_id)
    np.testing.assert_allclose(live[1][["x", "y"]], live[0][["x", "y"]], atol=0.05)
    # A neighbour stamped a millisecond after the agent, in the same frames, is its neighbour at every t0 (hQA8):
    # its next detection is not yet due at t0.
    t = np.round(np.arange(0, 12.01, 0.4), 6)
    for late in (0.0, 0.001):
        pair = pd.concat([pd.DataFrame({"time": t, "agent_id": "A", "x": 1.3 * t, "y": 0.0}),
                          pd.DataFrame({"time": t + late, "agent_id": "B", "x": 1.3 * t, "y": 1.0})])
        w = model.make_windows(pair, every_window=True)
        beside = w.nbr[w.agent_id == "A"][:, :, -1, 0]  # (windows, M) at t0
        assert len(beside) == 12 and np.isfinite(beside).any(1).all(), late


def test_a_dense_trackers_steps_read_all_its_detections_when_the_model_is_told_of_noise(model, tmp_path):
    """A 10 Hz tracker detects an agent 4 times a 0.4 s step. Told of its noise, a history's every step is the
    least-squares line through the agent's detections within a step either side of it, those up to t0 alone
    (`resample.fitted`), not the two around it: the histories read are nearer the truth, and the futures' errors
    smaller than from the same detections kept at 2.5 Hz; nothing after t0 is read. The smoother is told the
    noise left on the t0 line; told "auto", the noise is measured on the detections, not on the lines. Not told
    of noise, or at 5 Hz, the steps are the detections as before; a window cache keeps the readings apart."""
    from trajcvae.checks import window_noise
    from trajcvae.metrics import min_ade_fde
    from trajcvae.windows import load_windows

    clean, noisy = dense_tracker(10, 0.15)
    told = TrajCVAE.load("pedestrian", noise=0.15)
    truth = model.make_windows(clean, every_window=True)
    lines, as_now = told.make_windows(noisy, every_window=True), model.make_windows(noisy, every_window=True)
    assert np.array_equal(lines.t0, truth.t0) and np.array_equal(as_now.t0, truth.t0) and len(truth) >= 200
    off = lambda w: np.sqrt(np.mean(((w.obs - truth.obs) ** 2).sum(-1)))  # noqa: E731  rms, metres
    assert off(lines) < 0.6 * off(as_now), (off(lines), off(as_now))
    at = noisy.set_index(["agent_id", "time"])
    np.testing.assert_array_equal(as_now.obs[:, -1], at.loc[list(zip(as_now.agent_id, as_now.t0))][["x", "y"]])
    np.testing.assert_array_equal(lines.fut, as_now.fut)  # the futures scored are the detections as they were
    sparse = noisy[np.isclose(noisy.time * 2.5, np.round(noisy.time * 2.5))]  # every 4th detection
    kept = told.make_windows(sparse, every_window=True)
    assert np.array_equal(kept.t0, truth.t0)
    # (minADE + minFDE) / 2 against the truth: 0.340 m from every detection, 0.362 m from every 4th
    score = {name: np.mean([e.mean() for e in min_ade_fde(told.sample(w, k=20), truth.fut)])
             for name, w in (("all", lines), ("4th", kept))}
    assert score["all"] < 0.98 * score["4th"], score
    # Nothing after t0: the windows at 6 s are those of the detections up to 6 s.
    now = np.isclose(lines.t0, 6.0)
    upto = told.make_windows(noisy[noisy.time <= 6.0])
    np.testing.assert_allclose(upto.obs, lines.obs[now], atol=1e-9)
    # In UTM metres and Unix seconds, the lines are the same (their sums are taken from each segment's start),
    # also over a scene of 60 agents' 10-minute tracks (360,000 detections).
    far = told.make_windows(noisy.assign(time=noisy.time + 1.7e9, x=noisy.x + 5e6, y=noisy.y + 4e6),
                            every_window=True)
    np.testing.assert_allclose(far.obs - [5e6, 4e6], lines.obs, atol=1e-6)
    t = 1.7e9 + np.tile(np.arange(0, 600, 0.1), 60)
    agent = np.repeat(np.arange(60), 6000)
    k, j, x, y = resample_rows(t, agent, 5e6 + 100.0 * agent + 1.3 * (t - 1.7e9), np.full(len(t), 4e6), 1.7e9 + 599.9,
                               0.4, 0.8, fit=True)
    np.testing.assert_allclose(x - 5e6, 100.0 * agent[k] + 1.3 * (599.9 + 0.4 * j), atol=1e-5)
    # The smoother is told the noise left on each step's line (`resample.line_spread`): 5 detections 0.1 s apart
    # leave 0.6 of a detection's variance at the last, t0 (and at a track's first); the 9 around a step, a ninth.
    np.testing.assert_allclose(lines.noise[:, -1], 0.15 * np.sqrt(0.6))
    first = np.isclose(lines.t0, 2.8)  # the history's first step is the track's first detection
    np.testing.assert_allclose(lines.noise[first, 0], 0.15 * np.sqrt(0.6))
    np.testing.assert_allclose(lines.noise[~first, :-1][lines.t0[~first] > 2.8], 0.15 / 3)
    # Told "auto", the steps are the same lines, and the noise is measured on each agent's detections: the lines
    # keep about a third of it, which is all a measure of the steps would find.
    auto = TrajCVAE.load("pedestrian", noise="auto")
    measured = auto.make_windows(noisy, every_window=True)
    np.testing.assert_array_equal(measured.obs, lines.obs)
    assert 0.13 < np.median(measured.noise / lines.noise) * 0.15 < 0.17
    assert np.median(window_noise(lines.obs, lines.nbr, "auto")) < 0.07
    score["auto"] = np.mean([e.mean() for e in min_ade_fde(auto.sample(measured, k=20), truth.fut)])
    assert score["auto"] < 0.98 * score["4th"], score
    # Not dense: at 5 Hz, told of noise or not, the steps are its detections.
    five = dense_tracker(5, 0.15)[1]
    np.testing.assert_array_equal(told.make_windows(five, every_window=True).obs,
                                  model.make_windows(five, every_window=True).obs)
    noisy.to_csv(tmp_path / "dense.csv", index=False)
    for m, want in ((model, as_now), (told, lines), (auto, measured), (model, as_now)):
        got = load_windows([tmp_path / "dense.csv"], m.config.data, cache_dir=tmp_path / "cache")
        np.testing.assert_allclose(got.obs, want.obs, atol=1e-5)
        assert (got.noise is None) == (want.noise is None) and (got.noise is None or np.allclose(got.noise, want.noise))


def test_a_dense_trackers_lines_follow_its_motion_and_only_its_own_detections():
    """`resample.fitted`'s lines: a walker's steady motion comes back exactly, at t0 too (a line through the
    detections before it, at 10 Hz and 30 Hz alike); on a 2 m circle they stay nearer the truth than the two
    detections around each step; a burst of detections a few milliseconds apart is not extrapolated a tenth of a
    second (a line kept only where it is no noisier than one detection); and a point a track's `lead` past its
    last detection (a slow logger bridged by a long --max-gap) reads its own track, not the next agent's."""
    for hz in (10, 30):
        t = np.round(np.arange(0, 3.2 + 1e-9, 1 / hz), 6)
        x, y = 1.3 * t, 0.2 * t
        k, j, xs, ys = resample_rows(t, np.zeros(len(t), int), x, y, 3.2, 0.4, 0.8, fit=True)
        np.testing.assert_allclose(np.c_[xs, ys], np.c_[1.3, 0.2] * (3.2 + 0.4 * j[:, None]), atol=1e-9)
    rng = np.random.default_rng(0)
    t = np.round(np.arange(0, 60, 0.1), 6)
    truth = np.c_[2 * np.cos(0.65 * t), 2 * np.sin(0.65 * t)]  # 1.3 m/s on a 2 m circle
    seen = truth + 0.15 * rng.standard_normal(truth.shape)
    off = {}
    for fit in (False, True):
        k, j, xs, ys = resample_rows(t, np.zeros(len(t), int), seen[:, 0], seen[:, 1], 59.9, 0.4, 0.8, fit=fit)
        at = 59.9 + 0.4 * j
        off[fit] = np.sqrt(np.mean((xs - 2 * np.cos(0.65 * at)) ** 2 + (ys - 2 * np.sin(0.65 * at)) ** 2))
    assert off[True] < 0.5 * off[False], off
    burst = np.round(np.concatenate([b + np.array([0, 0.005, 0.01]) for b in np.arange(0, 60, 0.7)]), 6)
    walk = np.c_[1.3 * burst, 0 * burst] + 0.15 * rng.standard_normal((len(burst), 2))
    k, j, xs, ys = resample_rows(burst, np.zeros(len(burst), int), walk[:, 0], walk[:, 1], burst[-1], 0.4, 0.8,
                                 fit=True)
    assert np.abs(xs - 1.3 * (burst[-1] + 0.4 * j)).max() < 1.0
    slow, walker = np.arange(0, 21.01, 3.0), np.round(np.arange(21.19, 23.99 + 1e-9, 0.1), 6)
    t, agent = np.r_[slow, walker], np.r_[np.zeros(len(slow), int), np.ones(len(walker), int)]
    x, y = np.r_[np.full(len(slow), 100.0), 1.3 * (walker - walker[0])], np.r_[np.full(len(slow), 5.0), 0 * walker]
    lead = np.r_[np.full(len(slow), 2.995), np.full(len(walker), 0.2)]
    k, j, xs, ys = resample_rows(t, agent, x, y, walker[-1], 0.4, 3.5, lead=lead, fit=True)
    np.testing.assert_array_equal(np.c_[xs, ys][agent[k] == 0], [[100.0, 5.0]] * int((agent[k] == 0).sum()))
    # A point over a line's reach past the last track's last detection (its lead) has no rows of its own: it is
    # extrapolated, as it would be without the lines.
    t = np.array([0.0, 0.4, 0.8, 1.2])
    ends = [resample_rows(t, np.zeros(4, int), 2 * t, 0 * t, 0.0, 0.4, 0.8, lead=0.8, fit=fit) for fit in (True, False)]
    assert list(ends[0][1]) == [0, 1, 2, 3, 4, 5] and np.allclose(ends[0][2], 0.8 * np.arange(6))
    np.testing.assert_array_equal(ends[0][2], ends[1][2])
    # Detections between two grid points make none, and nothing is fitted.
    assert len(resample_rows(np.array([0.1, 0.2]), np.zeros(2, int), np.zeros(2), np.zeros(2), 0.0, 0.4, 0.8,
                             fit=True)[0]) == 0


def test_a_jittery_trackers_histories_are_smoothed_by_the_noise_it_is_given(model, tmp_path):
    """Detections with 0.3 m of noise (a detector's boxes) make a standing person look like a slow walker and a
    walker's pace and heading unsure: read as recorded, their futures are twice as far off as from clean
    tracks. Given that noise (`--noise`, `load(noise=)`, `OnlinePredictor(noise=)`), every history the model reads
    (the agent's and its neighbours') is smoothed first, within its window (nothing after t0), and the futures'
    errors go more than half the way back to the clean tracks' (the jitter no longer cut as a winding walk); a
    tracker's id that jumped is still cut at its jump. Tracks that jitter, read without it, are warned of,
    naming the noise to give."""
    from trajcvae.batch import WindowTensors, make_batch
    from trajcvae.checks import cut_short, smoothed
    from trajcvae.metrics import min_ade_fde

    clean, noisy = jittered(0.3)
    smooth = TrajCVAE.load("pedestrian", noise=0.3)
    assert (smooth.config.data.noise, model.config.data.noise) == (0.3, 0.0)  # the model loaded before: as it was
    truth, w = model.make_windows(clean, every_window=True), model.make_windows(noisy, every_window=True)
    assert np.array_equal(truth.t0, w.t0) and len(w) == 20
    scores = {}
    for name, m in (("smoothed", smooth), ("recorded", model), ("clean", model)):
        futures = m.sample(truth if name == "clean" else w, k=20)
        scores[name] = [np.mean(s[standing]) for s in min_ade_fde(futures, truth.fut)
                        for standing in (truth.agent_id % 2 == 0, truth.agent_id % 2 == 1)]
    # (standing minADE, walking minADE, standing minFDE, walking minFDE), metres
    assert all(s < 0.7 * r for s, r in zip(scores["smoothed"], scores["recorded"])), scores
    assert all(r - s > 0.5 * (r - c) for s, r, c in zip(*scores.values())), scores  # half the way to clean or more
    dc = smooth.config.data
    assert cut_short(w.obs, dc.min_speed, smooth.top_step).sum() >= 5  # the standing ones' jitter winds
    assert not cut_short(w.obs, dc.min_speed, smooth.top_step, 0.3, dc.dt).any()  # smoothed, it does not
    # What the model reads is the smoothed history, its neighbours' too; training with data.noise reads so too.
    near = model.make_windows(jittered(0.3, apart=3.0)[1], every_window=True)  # neighbours within 5 m
    wt, pick = WindowTensors.from_windows(near), np.arange(3)
    assert (~np.isnan(near.nbr[pick, :, -1, 0])).sum() >= 2
    pre = WindowTensors(*(torch.from_numpy(smoothed(a.reshape(-1, 8, 2), 0.3, 0.4).reshape(a.shape)).float()
                          for a in (near.obs[pick], near.nbr[pick])), None, wt.mem[pick], wt.mem_lag[pick])
    for train in (False, True):
        read = make_batch(wt, pick, dc, top_step=None if train else smooth.top_step)
        pre_read = make_batch(pre, np.arange(3), model.config.data)
        assert torch.allclose(read.obs, pre_read.obs, atol=1e-3) and torch.allclose(read.nbr, pre_read.nbr, atol=1e-3)
    # A tracker's id that went to another agent 20 m away 1.2 s before t0 is still cut there, where it is cut
    # without noise (though the first step after it is fast too).
    switch = np.array([[[-11.64, -4.64], [-11.5, -4.52], [-11.51, -4.42], [-11.48, -4.03], [-1.21, 2.76],
                        [0.26, 0.82], [0.5, 0.94], [0.48, 1.24]]])
    from trajcvae.checks import readable
    for tiny in (1e-9, 0.05):
        np.testing.assert_array_equal(np.isnan(readable(switch, 0.2, smooth.top_step, tiny, 0.4)),
                                      np.isnan(readable(switch, 0.2, smooth.top_step)))
    jumped = noisy.assign(y=noisy.y + 20.0 * ((noisy.agent_id == 1) & (noisy.time < 6.0)))
    wj = model.make_windows(jumped[jumped.time <= 7.2])
    assert cut_short(wj.obs, dc.min_speed, smooth.top_step, 0.3, dc.dt)[list(wj.agent_id).index(1)]
    with pytest.warns(TrajCVAEWarning, match=r"observed a history .*: their detections jump or wind more than "
                                             r"noise=0.3 explains, and take"):
        one = smooth.predict(jumped[jumped.time <= 7.2], k=20)
    one = one[(one.agent_id == 1) & (one.step == 12)]
    at = jumped[(jumped.agent_id == 1) & (jumped.time == 7.2)].iloc[0]
    assert np.median(np.hypot(one.x - at.x, one.y - at.y)) < 9  # a 1.3 m/s walker's reach, not tens of metres
    # The command line, the Python API and the live predictor give the same futures.
    noisy.to_csv(tmp_path / "noisy.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "noisy.csv", "--out", tmp_path / "f.csv")  # the noise is named
    said = re.search(r"warning: the tracks jitter by about ([\d.]+) m a position \(std per axis, from how their "
                     r"velocity changes from one step to the next\), which the model reads as motion: give "
                     r"--noise ([\d.]+), or --noise auto \(each window's own, measured\), to smooth their histories",
                     r.output)
    assert r.exit_code == 0 and said and 0.25 < float(said[1]) == float(said[2]) < 0.35, r.output
    r = cli("predict", "pedestrian", tmp_path / "noisy.csv", "--noise", 0.3, "--out", tmp_path / "f.csv")
    assert r.exit_code == 0 and "cannot hold" not in r.output and "jitter by" not in r.output, r.output
    clean.to_csv(tmp_path / "clean.csv", index=False)
    assert "jitter by" not in cli("predict", "pedestrian", tmp_path / "clean.csv", "--out", tmp_path / "c.csv").output
    want = smooth.predict(noisy, k=20)
    np.testing.assert_allclose(pd.read_csv(tmp_path / "f.csv")[["x", "y"]], want[["x", "y"]], atol=1e-4)  # (4 decimals)
    server = pytest.importorskip("trajcvae.server")
    from fastapi.testclient import TestClient
    with TestClient(server.create_app(smooth, k=20)) as client:  # the server says what it smooths
        assert client.get("/v1/scenes").json()["noise"] == 0.3
    live = OnlinePredictor("pedestrian", k=20, noise=0.3)
    for t, rows in noisy.groupby("time"):
        got = live.update(t, rows[["agent_id", "x", "y"]].to_dict("records"))
    np.testing.assert_allclose(got[["x", "y"]].to_numpy(), want[["x", "y"]].to_numpy(), atol=1e-4)
    scored = {}
    for given in ((), ("--noise", 0.3)):  # the baselines read the histories as the model does
        r = cli("evaluate", "pedestrian", tmp_path / "noisy.csv", *given, "--calibration", 0, "--json",
                tmp_path / "e.json")
        assert r.exit_code == 0, r.output
        scored[given] = json.loads((tmp_path / "e.json").read_text())
    assert scored[("--noise", 0.3)]["noise"] == 0.3 and scored[()]["noise"] == 0.0
    line = [s["scenes"]["overall"]["cv_fde"] for s in scored.values()]
    assert line[1] < 0.8 * line[0], line
    # A noise far over the tracks' own (metres given in the input's units) is named; absurd ones refused.
    r = cli("predict", "pedestrian", tmp_path / "noisy.csv", "--noise", 20, "--out", tmp_path / "f20.csv")
    assert r.exit_code == 0 and re.search(r"warning: --noise 20 is more than 5 times the tracks' jitter \(about 0\.\d+ "
                                          r"m a position.*--noise is in metres, whatever the input's units: give about "
                                          r"--noise 0\.\d+$", r.output, re.M), r.output
    for bad in ("-1", "nan", "inf", "1e200"):
        one_line_error(cli("predict", "pedestrian", tmp_path / "noisy.csv", "--noise", bad, "--out",
                           tmp_path / "g.csv"), "--noise must be a number of metres from 0 to 10000")
    assert not (tmp_path / "g.csv").exists()
    one_line_error(cli("visualize", tmp_path / "f.csv", tmp_path / "noisy.csv", "--noise", 0.3, "--out",
                       tmp_path / "v.png"), "--noise 0.3:", "holds futures already")
    r = cli("visualize", tmp_path / "f.csv", tmp_path / "noisy.csv", "--noise", 0, "--out", tmp_path / "v.png")
    assert r.exit_code == 0, r.output  # (0: read as recorded, as the table's futures were)
    with pytest.raises(TrajCVAEError, match="data.noise must be a number of metres from 0 to 10000"):
        from trajcvae.config import load_config
        load_config(None, ["data.noise=-0.1"])


def test_noise_auto_smooths_each_window_by_the_jitter_of_its_own_past(model, tmp_path):
    """`--noise auto` (`load(noise="auto")`, `OnlinePredictor(noise="auto")`, `data.noise = "auto"`): each window is
    smoothed by the noise of its own observed positions, the agent's and its neighbours' up to t0
    (`checks.window_noise`): about 0.3 m where a tracker's boxes jitter by 0.3 m, about nothing on clean tracks
    (a steady curve included), each window its own (a noisy camera beside a clean one). Jittery tracks then get
    futures as good as with the noise given, and clean ones the futures they get read as recorded; nothing
    after t0 is read, and no jitter warning is said (the jitter is taken out)."""
    from trajcvae.checks import window_noise
    from trajcvae.metrics import min_ade_fde

    clean, noisy = jittered(0.3)
    w, truth = model.make_windows(noisy, every_window=True), model.make_windows(clean, every_window=True)
    sigma = window_noise(w.obs, w.nbr, "auto")
    assert 0.2 < np.median(sigma) < 0.4 and sigma.min() > 0.1, sigma
    np.testing.assert_array_equal(window_noise(w.obs, w.nbr, 0.3), np.full(len(w), 0.3))
    assert window_noise(truth.obs, truth.nbr, "auto").max() < 1e-6  # straight walks and standing people
    turn = np.arange(8) * 0.4 * 1.2 / 3.0  # a walker at 1.2 m/s on a circle of 3 m: a steady turn, no jitter
    curve = (3 * np.stack([np.cos(turn), np.sin(turn)], -1))[None]
    assert window_noise(curve, np.full((1, 0, 8, 2), np.nan), "auto")[0] < 0.03
    assert window_noise(curve[:, -3:], np.full((1, 0, 3, 2), np.nan), "auto")[0] == 0  # one difference: too few
    alone = np.full((1, 0, 8, 2), np.nan)  # a lone agent's noise is measured from its 5th position (3 differences)
    assert window_noise(np.where(np.arange(8)[None, :, None] >= 3, curve, np.nan), alone, "auto")[0] > 0
    assert window_noise(np.where(np.arange(8)[None, :, None] >= 4, curve, np.nan), alone, "auto")[0] == 0
    rng = np.random.default_rng(1)
    walker = np.stack([np.arange(8) * 0.5, np.zeros(8)], -1)[None] + rng.normal(0, 0.05, (1, 8, 2))
    beside = np.full((1, 1, 8, 2), np.nan)
    beside[0, 0, 2:] = walker[0, 2:] + [0.0, 2.0]  # the neighbours' positions count too ...
    short = np.where(np.arange(8)[None, :, None] >= 6, walker, np.nan)
    assert window_noise(short, beside, "auto")[0] > 0.02
    walker[0, 4] += [3.0, 0.0]  # ... and one position far off (an occlusion) moves the median little
    assert 0.02 < window_noise(walker, beside, "auto")[0] < 0.1
    two = pd.concat([noisy.assign(scene="noisy"), clean.assign(scene="clean")])  # each window its own
    both = model.make_windows(two, every_window=True)
    own = window_noise(both.obs, both.nbr, "auto")
    assert own[both.scene == "clean"].max() < 1e-6 and own[both.scene == "noisy"].min() > 0.1
    auto, given = TrajCVAE.load("pedestrian", noise="auto"), TrajCVAE.load("pedestrian", noise=0.3)
    # ... in a batch of both, whose windows have neighbours: each history and its neighbours read by its own noise.
    from trajcvae.batch import WindowTensors, make_batch
    near = pd.concat([jittered(0.3, apart=3.0)[1].assign(scene="noisy"),
                      jittered(0.0, apart=3.0)[0].assign(scene="clean")])
    wn = model.make_windows(near, every_window=True)
    wt = WindowTensors.from_windows(wn)
    assert ((~np.isnan(wn.nbr[:, :, -1, 0])).sum(1) >= 1).mean() > 0.8
    mixed = make_batch(wt, np.arange(len(wn)), auto.config.data, top_step=auto.top_step)
    for scene, cfg in (("noisy", auto.config.data), ("clean", model.config.data)):
        idx = np.flatnonzero(wn.scene == scene)
        alone = make_batch(wt, idx, cfg, top_step=auto.top_step)
        for a, b in ((mixed.obs[idx], alone.obs), (mixed.nbr[idx], alone.nbr)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    from trajcvae.checks import smoothed  # the neighbours smoothed by their window's noise, as its agent is
    sigma = window_noise(wn.obs, wn.nbr, "auto")
    nbr = smoothed(wn.nbr.reshape(-1, 8, 2), np.repeat(sigma, wn.nbr.shape[1]), 0.4).reshape(wn.nbr.shape)
    pre = WindowTensors(torch.from_numpy(smoothed(wn.obs, sigma, 0.4)).float(), torch.from_numpy(nbr).float(), None,
                        wt.mem, wt.mem_lag)
    every = np.arange(len(wn))
    pre_read, read = make_batch(pre, every, model.config.data), make_batch(wt, every, auto.config.data)
    assert torch.allclose(read.obs, pre_read.obs, atol=1e-3) and torch.allclose(read.nbr, pre_read.nbr, atol=1e-3)
    # evaluate's baselines read the histories so too, the clean windows' as recorded beside the noisy ones'.
    from trajcvae.evaluate import evaluate
    from trajcvae.metrics import ade_fde, constant_velocity
    assert 0 < (sigma == 0).sum() < len(sigma)
    cv = [e[:, 0].mean() for e in ade_fde(constant_velocity(smoothed(wn.obs, sigma, 0.4, auto.top_step), 12), wn.fut)]
    overall = evaluate(auto, near, k=2, calibration_draws=0)["scenes"]["overall"]
    np.testing.assert_allclose([overall["cv_ade"], overall["cv_fde"]], cv, rtol=1e-9)
    assert auto.config.data.noise == "auto" and model.config.data.noise == 0.0
    scores = {name: [np.mean(s) for s in min_ade_fde(m.sample(w, k=20), truth.fut)]
              for name, m in (("auto", auto), ("given", given), ("recorded", model))}
    assert all(a < 0.7 * r and a < 1.15 * g for a, g, r in zip(*scores.values())), scores
    np.testing.assert_allclose(auto.sample(truth, k=20), model.sample(truth, k=20), atol=1e-4)  # clean: as read
    # Only what was observed by t0: later detections moved 5 m leave earlier windows' futures as they were.
    later = noisy.assign(x=noisy.x + 5.0 * (noisy.time > 4.0))
    moved = auto.make_windows(later, every_window=True)
    before = np.flatnonzero(w.t0 <= 4.0 + 1e-9)
    assert len(before) and np.array_equal(moved.t0[before], w.t0[before])
    np.testing.assert_array_equal(auto.sample(moved.subset(before), k=20), auto.sample(w.subset(before), k=20))
    # The command line, the Python API, the live predictor and the server read it alike, and say nothing of jitter.
    noisy.to_csv(tmp_path / "noisy.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "noisy.csv", "--noise", "auto", "--out", tmp_path / "f.csv")
    assert r.exit_code == 0 and "jitter" not in r.output and "cannot hold" not in r.output, r.output
    want = auto.predict(noisy, k=20)
    np.testing.assert_allclose(pd.read_csv(tmp_path / "f.csv")[["x", "y"]], want[["x", "y"]], atol=1e-4)
    live = OnlinePredictor("pedestrian", k=20, noise="auto")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        for t, rows in noisy.groupby("time"):
            got = live.update(t, rows[["agent_id", "x", "y"]].to_dict("records"))
    cut = [str(w.message) for w in said if "cannot hold whole" in str(w.message)]  # early updates: too few to measure
    assert cut and all("more than their own noise (noise='auto', measured once a history holds 3 second" in c
                       for c in cut), cut
    np.testing.assert_allclose(got[["x", "y"]].to_numpy(), want[["x", "y"]].to_numpy(), atol=1e-4)
    server = pytest.importorskip("trajcvae.server")
    from fastapi.testclient import TestClient
    with TestClient(server.create_app(auto, k=20)) as client:
        assert client.get("/v1/scenes").json()["noise"] == "auto"
    r = cli("evaluate", "pedestrian", tmp_path / "noisy.csv", "--noise", "auto", "--calibration", 0, "--json",
            tmp_path / "e.json")
    assert r.exit_code == 0 and json.loads((tmp_path / "e.json").read_text())["noise"] == "auto", r.output
    from trajcvae.config import load_config
    assert load_config(None, ["data.noise=auto"]).data.noise == "auto"
    with pytest.raises(TrajCVAEError, match="data.noise must be a number of metres from 0 to 10000, or auto"):
        load_config(None, ["data.noise=automatic"])
    with pytest.raises(TrajCVAEError, match="noise must be a number of metres from 0 to 10000, or auto"):
        TrajCVAE.load("pedestrian", noise="automatic")


def test_jitter_is_judged_scene_by_scene_and_at_the_samples_spacing(tmp_path):
    """A noisy camera read beside a clean one is named on its own (one median over both would hide it), and
    clean walkers sampled every 0.8 s, whose own turns change their velocity more between samples, are not
    taken for noise; where noise makes the steps look too fast (1 Hz GPS fixes 3 m off), the jitter is said
    before the speeds, and once that noise is given the speeds are not taken for wrong units (though speeds too
    slow still are: noise makes no step slow)."""
    from trajcvae.checks import plausibility

    def walkers(hz: float, seconds: float, noise: float, seed: int, speed: float = 1.3) -> pd.DataFrame:
        rng, rows = np.random.default_rng(seed), []
        for a in range(20):
            t = np.arange(0, seconds, 1 / hz)
            heading = rng.uniform(0, 6.3) + 0.3 * np.sin(0.5 * t + a)  # gentle turns
            step = np.c_[np.cos(heading), np.sin(heading)] * speed / hz
            xy = np.cumsum(step, 0) + [30.0 * a, 0.0] + noise * rng.standard_normal((len(t), 2))
            rows.append(pd.DataFrame({"time": np.round(t, 3), "agent_id": a, "x": xy[:, 0], "y": xy[:, 1]}))
        return pd.concat(rows).sort_values(["time", "agent_id"])

    walkers(25, 20, 0.0, 1).to_csv(tmp_path / "camA.csv", index=False)
    walkers(2.5, 20, 0.25, 2).to_csv(tmp_path / "camB.csv", index=False)
    walkers(1.25, 60, 0.0, 3).to_csv(tmp_path / "sparse.csv", index=False)
    walkers(1.0, 60, 3.0, 4).to_csv(tmp_path / "gps.csv", index=False)
    judged = lambda names, noise=0.0, gap=0.8: plausibility(  # noqa: E731
        read_tracks([tmp_path / n for n in names]), 0.4, max_gap=gap, noise=noise) or ""
    assert re.search(r"warning: scene 'camB' jitters by about 0\.2\d m a position .*give --noise auto to smooth each "
                     r"window's history by its own jitter \(or --noise 0\.2\d for those scenes' files alone\)$",
                     judged(["camA.csv", "camB.csv"]))
    assert "jitter" not in judged(["camA.csv"]) and "jitter" not in judged(["sparse.csv"], gap=1.5)
    gps = judged(["gps.csv"], gap=1.5).splitlines()
    assert gps[0].startswith("warning: the tracks jitter by about 3") and "median speed" in gps[1], gps
    assert "speed" not in judged(["gps.csv"], noise=3.0, gap=1.5)
    # --noise auto measures each window's noise among positions interpolated between fixes 1 s apart, short of
    # it: the line names the noise to give, with auto too, at speeds within the band or not; with auto, jitter
    # measured is said of no other scene.
    sparse_fix = ("give --noise 3 to smooth their histories (--noise auto would measure about 12% of it: the "
                  "model's 0.4 s steps fall between their samples, and interpolated positions hide the rest)")
    assert sparse_fix in gps[0] and sparse_fix in judged(["gps.csv"], noise="auto", gap=1.5)
    walkers(1.0, 60, 0.6, 7).to_csv(tmp_path / "gps_mild.csv", index=False)
    mild = judged(["gps_mild.csv"], noise="auto", gap=1.5)
    assert "speed" not in mild and "give --noise 0.6 to smooth their histories (--noise auto would" in mild, mild
    # What auto would measure is measured on the tracks' own times: a 2 Hz tracker's windows keep half its noise;
    # a 7 Hz one's (a rate off a multiple of the steps) and a 10 Hz one's whose timestamps wobble by 30 ms (a
    # robot's clock) keep over 80%, for which auto is offered, as for a 10 Hz tracker in step.
    for hz, wobble, kept in [(2.0, 0.0, "47%"), (7.0, 0.0, None), (10.0, 0.03, None), (10.0, 0.0, None)]:
        tracker = walkers(hz, 30, 0.15, 10)
        wobbled = tracker.time + np.random.default_rng(11).uniform(-wobble, wobble, len(tracker))
        tracker.assign(time=wobbled.round(4)).to_csv(tmp_path / "tracker.csv", index=False)
        said, auto = judged(["tracker.csv"]), judged(["tracker.csv"], noise="auto")
        assert re.search(r"jitter by about 0\.1[4-6] m", said), (hz, wobble, said)
        assert "times on a" not in said + auto  # (30 ms of wobble is lost in 0.15 m of noise: no line of its own)
        if kept:
            assert f"(--noise auto would measure about {kept} of it" in said and said == auto, (hz, said)
        else:
            assert "or --noise auto (each window's own, measured)" in said and auto == "", (hz, wobble, said, auto)
    assert "jitter" not in judged(["camA.csv", "camB.csv"], noise="auto")
    # A dense tracker's noise is warned of from 5 cm, as --noise reads its steps as lines through its detections
    # (10 Hz); at the model's steps (2.5 Hz), where smoothing gains less, from 7 cm.
    for hz, said in [(10.0, True), (2.5, False)]:
        walkers(hz, 30, 0.055, 12).to_csv(tmp_path / "tracker.csv", index=False)
        assert bool(re.search(r"the tracks jitter by about 0\.0[56]\d? m", judged(["tracker.csv"]))) == said, hz
    # Tracks in centimetres jitter in centimetres: auto's noise explains no pace, so their units are still named.
    cm = walkers(25, 20, 0.1, 6)
    cm.assign(x=100 * cm.x, y=100 * cm.y).to_csv(tmp_path / "cm.csv", index=False)
    # ... and their pace over 3.2 s is too fast as well, which no noise makes it: not even the jitter named; so
    # too where most of them stand, jittering in place (the moving ones' pace is too fast).
    crowd = pd.concat([walkers(25, 20, 0.05, 8)] + [walkers(25, 20, 0.05, s, speed=0.0).assign(agent_id=lambda d, s=s:
                                                                                             d.agent_id + 100 * s)
                       for s in (1, 2)])
    crowd.assign(x=100 * crowd.x, y=100 * crowd.y).to_csv(tmp_path / "crowd_cm.csv", index=False)
    for name, noise in [("cm.csv", 0.0), ("cm.csv", "auto"), ("cm.csv", 10.0), ("crowd_cm.csv", 5.0),
                        ("crowd_cm.csv", "auto")]:
        said = judged([name], noise=noise)
        assert "check --scale or --homography" in said and "a position (std per axis" not in said, (name, noise, said)
    # Walkers in metres whose 1.2 m of jitter makes their steps look fast, their pace a walker's: the jitter is
    # said first; with that noise given, or auto, which measures it, nothing is.
    walkers(2.5, 60, 1.2, 9).to_csv(tmp_path / "shaky.csv", index=False)
    shaky = judged(["shaky.csv"]).splitlines()
    assert "jitter by about 1.2 m" in shaky[0] and "median speed" in shaky[1], shaky
    assert judged(["shaky.csv"], noise=1.2) == judged(["shaky.csv"], noise="auto") == ""
    walkers(25, 20, 0.1, 5, speed=0.0).to_csv(tmp_path / "waiting.csv", index=False)  # too slow: no noise's doing
    for noise in (0.0, 0.1):
        assert "90th-percentile speed of the tracks is" in judged(["waiting.csv"], noise=noise)
    odd = judged(["camA.csv", "camB.csv", "waiting.csv"], noise="auto")  # (speeds outside the band: as within)
    assert "90th-percentile speed" in odd and "a position (std per axis" not in odd, odd


def test_the_built_in_model_knows_people_who_stand(model):
    """A third of `pedestrian`'s training moves stood or queued (its record's `slow` share): a group of people
    standing and chatting is told that the model knows agents that slow, not to train a model of its own."""
    rng = np.random.default_rng(0)
    t = np.arange(0, 20, 0.1)
    group = pd.concat([pd.DataFrame({"time": t, "agent_id": a, "x": a + 0.05 * rng.standard_normal(len(t)),
                                     "y": 0.05 * rng.standard_normal(len(t))}) for a in range(8)])
    with pytest.warns(TrajCVAEWarning) as said:
        model.predict(group, k=2)
    slow = [str(w.message) for w in said if "90th-percentile speed" in str(w.message)]
    assert len(slow) == 1 and slow[0].endswith("if they are right, they stand or queue, as 35% of the model's "
                                               "training moves did (it knows agents that slow)"), slow


def test_a_model_of_shorter_steps_is_told_of_less_jitter():
    """A model reads a velocity over each of its steps: one of 0.1 s steps is hurt by noise a 0.4 s model
    shrugs off (a 10 Hz walker model lost 19% of its minADE to 3 cm, 46% to 5 cm, silently). The least noise
    warned of shrinks with the step: walkers at 10 Hz with 3 cm of noise are warned of to a 0.1 s model and not to
    a 0.4 s one; without noise, to neither."""
    from trajcvae.checks import plausibility

    rng = np.random.default_rng(0)
    t = np.arange(0, 30, 0.1)
    walkers = pd.concat([pd.DataFrame({"time": t.round(3), "agent_id": a, "x": 1.3 * t, "y": 2.0 * a})
                         for a in range(12)])
    noisy = walkers.assign(x=walkers.x + 0.03 * rng.standard_normal(len(walkers)),
                           y=walkers.y + 0.03 * rng.standard_normal(len(walkers)))
    said = lambda table, dt: plausibility(read_tracks(table), dt, noise=0.0) or ""  # noqa: E731
    assert "give --noise 0.03" in said(noisy, 0.1), said(noisy, 0.1)
    assert "jitter" not in said(noisy, 0.4) and "jitter" not in said(walkers, 0.1)


def test_the_share_of_noise_auto_measures_is_measured_on_each_scenes_own_times():
    """`checks._kept`: unit noise drawn at a scene's own detection times and resampled as a window is (each track
    on the steps of another's last detection, as a window's neighbours are put on its agent's): about all of it
    for a 10 Hz tracker whose clock starts off the steps, a fifth less at 7 Hz, about 60% where a 2.5 Hz tracker
    detects each agent at moments of its own, little of 1 Hz fixes; none said of a scene too short. With auto,
    the jitter line names the value to give where under 70% would be measured, and nothing where it is unknown."""
    from trajcvae.checks import Jitter, _spans, jitter_warning, plausibility

    def scene(name: str, hz: float, start: float, own: bool, agents: int = 12, seconds: float = 30.0):
        rng, rows = np.random.default_rng(len(name)), []
        for a in range(agents):
            t = start + (rng.uniform(0, 1 / hz) if own else 0.0) + np.arange(0, seconds, 1 / hz)
            rows.append(pd.DataFrame({"time": t.round(4), "agent_id": a, "x": 1.2 * t + 0.2 * rng.standard_normal(
                len(t)), "y": 2.0 * a + 0.2 * rng.standard_normal(len(t)), "scene": name}))
        return pd.concat(rows)

    table = read_tracks(pd.concat([scene("step", 10, 0.05, False), scene("seven", 7, 0.0, False),
                                   scene("own", 2.5, 0.0, True), scene("gps", 1, 0.0, False),
                                   scene("few", 2.5, 0.0, False, agents=1, seconds=2.0)]))
    kept = {s.scene: s.kept for s in _spans(table, 0.4, max_gap=1.5)}
    assert kept["step"] > 0.95 and 0.75 < kept["seven"] < 0.9 and 0.5 < kept["own"] < 0.7, kept
    assert kept["gps"] < 0.2 and np.isnan(kept["few"]), kept
    line = plausibility(read_tracks(scene("own", 2.5, 0.0, True)), 0.4, noise="auto") or ""
    assert re.search(r"give --noise 0\.\d+ to smooth their histories \(--noise auto would measure about [56]\d% of "
                     r"it", line), line
    assert plausibility(read_tracks(scene("step", 10, 0.05, False)), 0.4, noise="auto") is None
    assert jitter_warning([Jitter("unknown", 0.3, 0.4, float("nan"))], "auto", None, 0.4) is None
    # A scene is measured on its first tracks' latest 20,000 steps: a logger at 2.5 Hz for 5.5 hours, then at 1 Hz
    # for the last 2.3 (as long), is measured as it samples at the end.
    t = np.r_[np.arange(0, 20_000, 0.4), 20_000 + np.arange(0, 8_400, 1.0)]
    log = read_tracks(pd.DataFrame({"time": t, "agent_id": 1, "x": 1.2 * t, "y": 0.0}))
    assert _spans(log, 0.4, max_gap=1.5)[0].kept < 0.3


@pytest.mark.skipif(not ETH_UCY.is_dir(), reason="needs ../shared/datasets/eth_ucy")
def test_a_model_that_does_worse_than_the_noisy_line_says_the_units_or_rate_may_be_off(zara01, model):
    """Feet read as metres pass the speed check (3.3 times too fast, within the speeds the model knows), but
    the model's best of 20 then does worse than the noisy straight line's, which it beats by far on tracks
    read right: evaluate says so, naming --scale and --fps."""
    metres = zara01[zara01.frame < 3000]
    feet = metres.assign(x=metres.x / 0.3048, y=metres.y / 0.3048)
    for table, scale, warned in ((feet, None, True), (feet, 0.3048, False), (metres, None, False)):
        said = []
        scores = trajcvae_evaluate(model, table, k=20, scale=scale, calibration_draws=0, log=said.append)
        behind = [line for line in said if "does worse than the noisy straight line's" in line]
        assert len(behind) == warned and scores["scenes"]["overall"]["windows"] >= 50, said
        if warned:
            assert behind[0].startswith("warning: the model's best of 20 futures (") and behind[0].endswith(
                "check --scale or --homography and --fps (the units and the rate), or train a model on tracks "
                "like these (or train it longer)"), behind
    # Degrees take no scale: their columns may be swapped (both within range in much of the world), or radians.
    from trajcvae.evaluate import behind_the_line
    total = {"windows": 2356, "min_ade": 1.3, "min_fde": 2.52, "ncv_min_ade": 1.01, "ncv_min_fde": 1.9}
    assert "check that the lon and lat columns hold longitudes and latitudes in degrees, not swapped, and --fps " \
           "(the units and the rate)" in behind_the_line(total, 20, {"lonlat": {"s": [-60.0, -70.0]}})


def test_a_coordinate_alike_on_every_row_is_named_as_a_column_read_by_mistake(plaza, tmp_path):
    """ETH's obsmat.txt holds frame, id, x, z, y: read as x=3,y=4, its z (0 on every row) becomes y and every
    agent walks one line, which the speeds cannot tell. A line names the column."""
    obsmat = plaza.assign(z=0.0)[["frame", "agent_id", "x", "z", "y"]]
    obsmat.to_csv(tmp_path / "obsmat.txt", sep=" ", header=False, index=False)
    r = cli("predict", "pedestrian", tmp_path / "obsmat.txt", "--columns", "frame=1,agent_id=2,x=3,y=4", "-k", 1,
            "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and "warning: y is 0 (metres) on every one of the" in r.output and \
        "every agent moves along one line; if they do not, column '4' is not their y (--columns y=<column>)" in \
        r.output, r.output
    r = cli("predict", "pedestrian", tmp_path / "obsmat.txt", "--columns", "frame=1,agent_id=2,x=3,y=5", "-k", 1,
            "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and "warning" not in r.output, r.output


@pytest.mark.skipif(not ETH_UCY.is_dir(), reason="needs ../shared/datasets/eth_ucy")
def test_a_third_of_the_tracks_jittering_is_named_though_the_scenes_median_is_not(zara01):
    """A noisy detector's agents among clean ones: the scene's median jitter is the clean ones', but a line
    counts the tracks that jitter and names --noise auto, which smooths each window by its own; ETH/UCY's
    own annotations (eth's jitter by 0-4 cm) pass."""
    noisy = zara01.agent_id % 3 == 0
    rng = np.random.default_rng(0)
    jitter = noisy.to_numpy()[:, None] * rng.normal(0, 0.3, (len(zara01), 2))
    some = zara01.assign(x=zara01.x + jitter[:, 0], y=zara01.y + jitter[:, 1])
    said = (plausibility(read_tracks(some), 0.4, noise=0.0) or "").splitlines()[-1]  # (after any jump's line)
    assert re.fullmatch(r"warning: \d+ of the \d+ tracks jitter by about 0\.[23]\d? m a position \(std per axis, .*\), "
                        r"the others less, which the model reads as motion: give --noise auto to smooth each "
                        r"window's history by its own jitter", said), said
    assert "jitter" not in (plausibility(read_tracks(some), 0.4, noise="auto") or "")
    for split in ("eth", "zara1"):
        files = sorted((ETH_UCY / split / "test").glob("*.txt"))
        assert plausibility(read_tracks(files), 0.4, noise=0.0) is None
