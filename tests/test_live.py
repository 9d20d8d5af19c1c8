"""Live prediction: the online predictor gives predict's futures on the data so far, forgets agents and
keeps a bounded history; the server answers every request, refuses bad ones in one line without
disturbing other scenes, and its live page draws tracks and futures in a real browser."""
import copy
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from trajcvae import TrajCVAE
from trajcvae.batch import WindowTensors, make_batch
from trajcvae.errors import DataError, TrajCVAEError, TrajCVAEWarning
from trajcvae import online as online_module
from trajcvae.online import OnlinePredictor
from trajcvae.tracks import read_tracks

from tests.helpers import cli, one_line_error, whole_cut, write
from tests.test_your_tracks import to_gps

K = 4
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def pedestrian() -> TrajCVAE:
    return TrajCVAE.load("pedestrian")


@pytest.fixture(autouse=True, scope="module")
def one_inference_thread():
    """Live inference runs on one torch thread, as `trajcvae serve` does by default (--threads 1)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def walkers(n_updates: int = 30, seed: int = 3) -> pd.DataFrame:
    """Detections of 7 agents in centimetres at irregular times (0.25-0.55 s apart): agents arrive and
    leave, about one detection in ten is missed, agent 6 is seen twice only, agent 0 carries a label."""
    rng = np.random.default_rng(seed)
    times = np.round(np.cumsum(rng.uniform(0.25, 0.55, n_updates)), 3)
    spans = {0: (0, 30), 1: (0, 30), 2: (2, 30), 3: (0, 14), 4: (5, 30), 5: (8, 30), 6: (20, 22)}
    rows = []
    for a, (first, stop) in spans.items():
        p0, heading = rng.uniform(-4, 4, 2), rng.uniform(0, 2 * np.pi)
        v = rng.uniform(0.8, 1.6) * np.array([np.cos(heading), np.sin(heading)])
        for i in range(first, min(stop, n_updates)):
            if a != 6 and i > first + 1 and rng.random() < 0.1:
                continue  # a missed detection
            x, y = 100 * (p0 + v * times[i])
            rows.append((times[i], a, x, y, "cyclist" if a == 0 else ""))
    return pd.DataFrame(rows, columns=["time", "agent_id", "x", "y", "label"])


def wandering(seed: int, starts, steps: int, box: float, speed: tuple[float, float]) -> pd.DataFrame:
    """Walkers that wander (their velocity drawn anew by 0.03 m a step: the model is not exact on them), agent a
    seen from step starts[a] to `steps`, 0.4 s apart, from within `box` metres of the origin."""
    rng = np.random.default_rng(seed)
    rows = []
    for a, first in enumerate(starts):
        p, v = rng.uniform(-box, box, 2), rng.uniform(*speed, 2) * rng.choice([-1, 1], 2)
        for i in range(first, steps):
            v = v + rng.normal(0, 0.03, 2)
            p = p + v
            rows.append((round(0.4 * i, 1), a, *p))
    return pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"])


def draws_counted(monkeypatch, model: TrajCVAE, sizes: bool = False) -> list:
    """Who (the calling function) drew calibrate.DRAWS draws, and with `sizes` for how many windows: a list
    that fills as `model._pool` is called."""
    drawn_for = []
    pool = model._pool

    def counted(cv, ctx, seed, full):
        caller = sys._getframe(1).f_code.co_name
        drawn_for.append((caller, len(ctx)) if sizes else caller)
        return pool(cv, ctx, seed, full)

    monkeypatch.setattr(model, "_pool", counted)
    return drawn_for


def with_memory_horizon(model: TrajCVAE, steps: int) -> TrajCVAE:
    """The model reading a scene memory of `steps` steps (a history that fills in a few updates)."""
    shorter = copy.copy(model)
    shorter.config = copy.deepcopy(model.config)
    shorter.config.data.memory_horizon = steps
    return shorter


def in_order(df: pd.DataFrame) -> pd.DataFrame:
    df = df.assign(agent_id=df["agent_id"].astype(str))
    return df.sort_values(["agent_id", "sample", "step"]).reset_index(drop=True)


@pytest.mark.parametrize("futures", ["mean", "full"])
def test_streaming_detections_gives_the_futures_of_predict_on_the_file_cut_there(pedestrian, tmp_path, futures):
    """Irregular times, missed detections, arrivals, departures, a short track, centimetres and a label:
    at every checked update, the online futures are those of `predict` on the file cut at that time, for
    the agents seen within forget_after; mean paths or full draws, and over HTTP as online."""
    data = walkers()
    online = OnlinePredictor(pedestrian, k=K, scale=0.01, forget_after=1.5, futures=futures)
    times = np.unique(data["time"])
    seen = {}
    for i, t in enumerate(times):
        k = K - 1 if i == 21 else K  # a request's own K: the scene's history predicted anew (`_predict`)
        got = online.update(t, data[data["time"] == t][["agent_id", "x", "y", "label"]], k=k)
        if i not in (3, 12, 17, 21, 29):
            continue
        path = tmp_path / f"cut{i}.csv"
        data[data["time"] <= t].to_csv(path, index=False)
        expected = pedestrian.predict([path], k=k, scale=0.01, futures=futures)
        expected = expected[expected["t0"] >= t - 1.5]
        assert len(got) and set(got["agent_id"]) == set(expected["agent_id"].astype(str))
        assert list(got.columns) == list(expected.columns)
        g, e = in_order(got), in_order(expected)
        assert (g[["sample", "step"]].to_numpy() == e[["sample", "step"]].to_numpy()).all()
        assert (g["label"] == e["label"]).all()
        np.testing.assert_allclose(g[["t0", "time"]].to_numpy(), e[["t0", "time"]].to_numpy(), atol=1e-9)
        np.testing.assert_allclose(g[["x", "y"]].to_numpy(), e[["x", "y"]].to_numpy(), atol=1e-3)  # 10 um
        seen[i] = set(got["agent_id"])
    # Agent 3 left after update 13 and is out of view 1.5 s later; agent 6, seen twice, is predicted.
    assert "3" in seen[12] and "3" not in seen[29] and "6" in seen[21] and "6" not in seen[17]
    server = pytest.importorskip("trajcvae.server")
    import httpx

    app = server.create_app(pedestrian, k=K, scale=0.01, forget_after=1.5, futures=futures)
    with server.running(app) as base, httpx.Client(base_url=base) as client:
        for t in times:
            now = data[data["time"] == t][["agent_id", "x", "y"]].to_numpy()
            r = client.post("/v1/scenes/s/observations", json={"time": float(t), "detections": [
                {"agent_id": str(a), "x": float(x), "y": float(y)} for a, x, y in now]})
        assert client.get("/v1/scenes").json()["futures"] == futures
        need_chromium()  # the live page says which it draws
        dom = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000",
                              "--dump-dom", f"{base}/?scene=s"], check=True, capture_output=True, text=True,
                             timeout=60).stdout
    assert re.search(rf"t = [\d.]+ s, \d+ agents, K = {K}", dom)
    assert ("full draws of p(y|x)" in dom) == (futures == "full")
    np.testing.assert_allclose(in_order(pd.DataFrame(r.json()["futures"]))[["x", "y"]].to_numpy(),
                               in_order(got)[["x", "y"]].to_numpy(), atol=1e-3)


def test_an_agent_stays_in_view_between_reports_as_far_apart_as_the_gaps_bridged(pedestrian):
    """By default an agent not seen again is out of view after 2 s, or after the longest gap bridged where that is
    longer: a logger that reports every 3 s (a model of 3 s steps bridges 4.5 s) keeps its agents between reports."""
    assert OnlinePredictor(pedestrian, k=2).forget_after == 2.0
    slow = OnlinePredictor(pedestrian, k=2, max_gap=4.5)
    assert slow.forget_after == 4.5 and OnlinePredictor(pedestrian, k=2, max_gap=4.5, forget_after=1).forget_after == 1
    assert OnlinePredictor(pedestrian, k=2, max_gap=4.5, fps=10).forget_after == 45  # in frame ids
    for t in (0.0, 3.0, 6.0):
        slow.update(t, [{"agent_id": "a", "x": t, "y": 0.0}])
        futures = slow.update(t + 2.5, [{"agent_id": "b", "x": 10 + t, "y": 0.0}])
    assert set(futures.agent_id) == {"a", "b"}, futures.agent_id.unique()


def test_a_detection_refused_against_a_scenes_stray_first_ones_says_how_to_start_the_scene_again(pedestrian):
    """A live scene's first detections set its origin (lon, lat) and the ground's side of a homography's horizon.
    Where they were stray (a missed fix written as 0, 0; a false detection in the sky), every later good
    detection is refused: the refusal says so, with the way out; one refused in the first update does not."""
    again = "; or, if the scene's first detections were stray (a bad fix, a false detection), start the scene again " \
            "(a new OnlinePredictor; on a server, DELETE the scene)"
    gps = OnlinePredictor(pedestrian, k=2, lonlat=True)
    gps.update(0.0, [{"agent_id": "ghost", "lon": 0.0, "lat": 0.0}])
    with pytest.raises(DataError, match="use a scene per area") as e:
        gps.update(0.4, [{"agent_id": "a", "lon": 10.0, "lat": 60.0}])
    assert str(e.value).endswith(again)
    with pytest.raises(DataError, match="is no longitude, latitude in degrees") as e:  # wrong whatever came first
        gps.update(0.4, [{"agent_id": "a", "lon": 10.0, "lat": 95.0}])
    assert again not in str(e.value)
    camera = np.array([[50.0, 5.0, 300.0], [3.0, -40.0, 600.0], [0.0005, -0.08, 1.0]])  # metres -> pixels

    def pixel(x, y, agent="a"):
        u, v, w = camera @ [x, y, 1.0]
        return {"agent_id": agent, "x": u / w, "y": v / w}

    live = OnlinePredictor(pedestrian, k=2, homography=np.linalg.inv(camera))
    live.update(0.0, [pixel(5, 20)])  # past the camera's horizon: the sky
    with pytest.raises(DataError, match="past the homography's horizon") as e:
        live.update(0.4, [pixel(2, 3)])
    assert str(e.value).endswith(again)
    with pytest.raises(DataError) as e:  # both in one (the first) update: the stray one is refused, as in a file
        OnlinePredictor(pedestrian, k=2, homography=np.linalg.inv(camera)).update(0.0, [pixel(2, 3), pixel(2.5, 3, "b"),
                                                                                        pixel(5, 20, "c")])
    assert "past the homography's horizon" in str(e.value) and again not in str(e.value)


def test_a_kset_mode_gives_weighted_futures_online_and_over_http(pedestrian, tmp_path):
    """With --kset kmeans each agent's K futures carry weights summing to 1, the same online as from
    `predict` on the file so far, and in the server's answers."""
    data = walkers(n_updates=8)
    online = OnlinePredictor(pedestrian, k=K, kset="kmeans", draws=50, scale=0.01)
    for t in np.unique(data["time"]):
        got = online.update(t, data[data["time"] == t][["agent_id", "x", "y"]])
    path = tmp_path / "so_far.csv"
    data.to_csv(path, index=False)
    expected = pedestrian.predict([path], k=K, kset="kmeans", draws=50, scale=0.01)
    expected = expected[expected["t0"] >= t - 2.0]
    g, e = in_order(got), in_order(expected)
    np.testing.assert_allclose(g[["x", "y", "weight"]].to_numpy(), e[["x", "y", "weight"]].to_numpy(), atol=1e-3)
    np.testing.assert_allclose(got.groupby(["agent_id", "sample"])["weight"].first().groupby(level=0).sum(), 1.0)
    server = pytest.importorskip("trajcvae.server")
    import httpx

    app = server.create_app(pedestrian, k=K, kset="kmeans", draws=K + 2)  # shares of 7ths: not to 6 decimals
    with server.running(app) as base, httpx.Client(base_url=base) as client:
        for t in (0.0, 0.4):
            r = client.post("/v1/scenes/w/observations", json={"time": t, "detections": [
                {"agent_id": "7", "x": 1.0 + t, "y": 2.0}, {"agent_id": "8", "x": -1.0, "y": 2.0 - t}]})
        agents = client.get("/v1/scenes/w/futures", params={"layout": "agents"}).json()["agents"]
    answer = pd.DataFrame(r.json()["futures"])
    assert r.status_code == 200 and len(answer) == 2 * K * 12
    # Sent whole, as the table holds them: they sum to 1 in both layouts.
    np.testing.assert_allclose(answer[answer.step == 1].groupby("agent_id")["weight"].sum(), 1.0, atol=1e-12)
    np.testing.assert_allclose([sum(a["weight"]) for a in agents], 1.0, atol=1e-12)


@pytest.mark.filterwarnings("ignore:.*the scene has \\d+ of the 10 finished windows")  # (draws not fitted yet)
def test_scene_calibration_online_learns_the_scene_past_and_gives_predicts_calibrated_futures(pedestrian, tmp_path,
                                                                                           monkeypatch):
    """calibrate="scene" online: each window whose future ends at an update joins the scene's past with the
    levels `scene_past` gives it from the file, read among the draws its own map read at its t0 (no new
    draws), and at every update the futures are those of `predict --calibrate scene` on the file cut there:
    the model's own draws until the scene has MIN_PAST finished windows, mapped after."""
    from trajcvae.calibrate import MIN_PAST

    drawn_for = draws_counted(monkeypatch, pedestrian, sizes=True)
    data = wandering(5, (0, 0, 0, 2, 3, 5), 30, 4, (0.2, 0.6))
    online = OnlinePredictor(pedestrian, k=K, calibrate="scene", forget_after=1.0)
    plain = OnlinePredictor(pedestrian, k=K, forget_after=1.0)
    times = np.unique(data["time"])
    for i, t in enumerate(times):
        now = data[data["time"] == t][["agent_id", "x", "y"]]
        drawn_for.clear()
        got, own = online.update(t, now), plain.update(t, now)
        # Draws only for the maps of the agents seen now (those with two positions): none for finished windows.
        twice = int((data[data["time"] <= t].groupby("agent_id").size()[now["agent_id"]] >= 2).sum())
        assert drawn_for == ([("_draw", twice)] if twice else []), i
        if i not in (18, 21, 29):
            continue
        path = tmp_path / f"cut{i}.csv"
        data[data["time"] <= t].to_csv(path, index=False)
        with warnings.catch_warnings():  # early cuts' windows have too little past, which the file's predict says
            warnings.simplefilter("ignore", TrajCVAEWarning)
            expected = pedestrian.predict([path], k=K, calibrate="scene")
        expected = expected[expected["t0"] >= t - 1.0]
        g, e = in_order(got), in_order(expected)
        np.testing.assert_allclose(g[["x", "y"]].to_numpy(), e[["x", "y"]].to_numpy(), atol=1e-3)
        finished = len(online.past.done)
        mapped = not np.allclose(got[["x", "y"]].to_numpy(), own[["x", "y"]].to_numpy(), atol=1e-4)
        assert mapped == (finished >= MIN_PAST), (i, finished)
    past = pedestrian.scene_past([path])
    assert len(online.past.done) == len(past.done) > MIN_PAST  # every finished window of the file
    order = lambda p: np.lexsort(np.round(p.levels.T, 3)[::-1])  # noqa: E731
    np.testing.assert_allclose(online.past.levels[order(online.past)], past.levels[order(past)], atol=1e-4)
    np.testing.assert_allclose(np.sort(online.past.done), np.sort(past.done), atol=1e-9)
    # Over HTTP: the scene's futures are scene-calibrated, as the server says.
    server = pytest.importorskip("trajcvae.server")
    import httpx

    app = server.create_app(pedestrian, k=K, calibrate="scene")
    with server.running(app) as base, httpx.Client(base_url=base) as client:
        for t in times:
            now = data[data["time"] == t][["agent_id", "x", "y"]]
            r = client.post("/v1/scenes/s/observations", json={"time": float(t), "detections": [
                {"agent_id": str(a), "x": float(x), "y": float(y)} for a, x, y in now.itertuples(index=False)]})
        info = client.get("/v1/scenes").json()
    answer = in_order(pd.DataFrame(r.json()["futures"]))
    assert info["calibrate"] == "scene" and r.status_code == 200
    np.testing.assert_allclose(answer[["x", "y"]].to_numpy(), in_order(got)[["x", "y"]].to_numpy(), atol=1e-3)
    # The past a live scene keeps is bounded: the latest PAST_HELD finished windows.
    monkeypatch.setattr(online_module, "PAST_HELD", 20)
    bounded = OnlinePredictor(pedestrian, k=K, calibrate="scene", forget_after=1.0)
    for t in times:
        bounded.update(t, data[data["time"] == t][["agent_id", "x", "y"]])
    assert len(bounded.past.done) == 20 and np.isclose(bounded.past.done.min(), np.sort(past.done)[-20])


def test_live_full_draws_are_fitted_to_the_levels_of_full_draws(pedestrian, tmp_path):
    """calibrate="scene" with futures="full" online: the scene's past holds the levels of full draws (those
    the fitted draws were predicted with), and the futures are `predict --futures full --calibrate scene`'s
    on the file cut there."""
    from trajcvae.calibrate import MIN_PAST

    data = wandering(5, (0, 0, 0, 2, 3, 5), 30, 4, (0.2, 0.6))
    online = OnlinePredictor(pedestrian, k=K, calibrate="scene", futures="full", forget_after=1.0)
    anew = OnlinePredictor(pedestrian, k=K, calibrate="scene", futures="full", forget_after=1.0)
    anew._drawn_at = lambda code, t0: None  # a finished window's draws are drawn again, not reused
    held = []  # per update, how many of the predictor's warnings say its draws are not fitted yet
    with pytest.warns(TrajCVAEWarning, match=r"^calibrate='scene': the scene has 0 of the 10 finished windows \(8 "
                      r"\+ 12 steps of one agent\) its fit needs, so its draws are the model's own until then"):
        for t in np.unique(data["time"]):
            got = online.update(t, data[data["time"] == t][["agent_id", "x", "y"]])
            anew.update(t, data[data["time"] == t][["agent_id", "x", "y"]])
            held.append(sum("its fit needs" in line for line in online.warnings))
    # Said once, at the first futures, and held among the scene's warnings (a server's answers carry them) only
    # until the scene's past fits its draws.
    assert held.count(1) > 0 and held[-1] == 0 and "".join(map(str, held)).strip("0") == "1" * held.count(1)
    data.to_csv(tmp_path / "all.csv", index=False)
    past = pedestrian.scene_past([tmp_path / "all.csv"], futures="full")
    order = lambda p: np.lexsort(np.round(p.levels.T, 3)[::-1])  # noqa: E731
    for live in (online, anew):
        assert live.past.futures == "full" and len(live.past.done) == len(past.done) > MIN_PAST
        np.testing.assert_allclose(live.past.levels[order(live.past)], past.levels[order(past)], atol=1e-4)
    expected = pedestrian.predict([tmp_path / "all.csv"], k=K, calibrate="scene", futures="full")
    expected = expected[expected["t0"] >= t - 1.0]
    np.testing.assert_allclose(in_order(got)[["x", "y"]].to_numpy(), in_order(expected)[["x", "y"]].to_numpy(),
                               atol=1e-3)
    mean = pedestrian.scene_past([tmp_path / "all.csv"])  # the mean paths' levels: another past
    assert not np.allclose(mean.levels, past.levels, atol=0.05)


@pytest.mark.filterwarnings("ignore:.*the scene has \\d+ of the 10 finished windows")  # (draws not fitted yet)
def test_a_window_whose_future_ends_on_a_missed_detection_joins_the_past_with_the_detection_that_bridges_it(
        pedestrian, tmp_path):
    """A window whose last future step fell between detections (resampling bridges the gap) is known only
    once the next detection arrives: on a file its `done` is that detection's time, so a prediction at the
    missed step reads nothing observed after it (the file cut there gives the same), and live it joins
    the scene's past at the update that brings that detection, with the file's levels."""
    from trajcvae.calibrate import MIN_PAST

    data = wandering(8, [0] * 8, 45, 6, (0.2, 0.5))
    missed = 10.4  # agent 0 unseen at step 26, agent 1 at step 27
    data = data[~(((data.agent_id == 0) & (data.time == missed))
                  | ((data.agent_id == 1) & (data.time == 10.8)))].reset_index(drop=True)
    path = tmp_path / "tracks.csv"
    data.to_csv(path, index=False)
    past = pedestrian.scene_past([path])
    # Agent 0's window ending at 10.4 s is done at 10.8 s, agent 1's ending at 10.8 s at 11.2 s.
    assert [int(np.isclose(past.done, t).sum()) for t in (missed, 10.8, 11.2)] == [7, 8, 9]
    assert (past.finished(np.array(["tracks"]), np.array([missed])) >= MIN_PAST).all()
    with pytest.warns(TrajCVAEWarning, match="calibrate='scene': 104 of 206 windows had fewer than 10"):
        full = pedestrian.predict([path], k=K, every_window=True, calibrate="scene")
    cut = data[data["time"] <= missed]
    cut.to_csv(tmp_path / "cut.csv", index=False)
    at_cut = pedestrian.predict([tmp_path / "cut.csv"], k=K, calibrate="scene")
    g = in_order(full[np.isclose(full.t0, missed) & (full.agent_id != 0)])  # agent 0 is not seen at 10.4 s
    e = in_order(at_cut[np.isclose(at_cut.t0, missed)])
    assert len(g) == len(e) == 7 * K * 12
    np.testing.assert_allclose(g[["x", "y"]].to_numpy(), e[["x", "y"]].to_numpy(), atol=1e-4)
    # Live: the bridged windows join at 10.8 s (agent 0) and 11.2 s (agent 1), as in the file; neither has a
    # window at a t0 its agent was missed at, and every window reads the scene as it was at its t0.
    online = OnlinePredictor(pedestrian, k=K, calibrate="scene", forget_after=2.0)
    for t in np.unique(data["time"]):
        online.update(t, data[data["time"] == t][["agent_id", "x", "y"]])
    w = pedestrian.make_windows([path], every_window=True)
    assert not (((w.agent_id == 0) & np.isclose(w.t0, missed)) | ((w.agent_id == 1) & np.isclose(w.t0, 10.8))).any()
    np.testing.assert_allclose(np.sort(online.past.done), np.sort(w.known_at()), atol=1e-9)
    order = lambda p: np.lexsort(np.vstack([np.round(p.levels.T, 3)[::-1], np.round(p.done, 6)]))  # noqa: E731
    assert len(past.levels) == len(online.past.levels) > 100
    np.testing.assert_allclose(online.past.levels[order(online.past)], past.levels[order(past)], atol=1e-4)


def test_agents_out_of_view_are_forgotten_and_the_history_stays_bounded(pedestrian):
    """An agent not seen for forget_after gets no futures; with a stable set of agents the rows held stop
    growing once the history the model reads (here a 10-step memory horizon) is full."""
    model = with_memory_horizon(pedestrian, 10)
    online = OnlinePredictor(model, k=2, forget_after=1.0)
    held = []
    for i in range(40):
        t = 0.4 * i
        dets = [(a, 1.2 * t, 2.0 * a) for a in range(3)] + ([("gone", 5.0, -1.2 * t)] if i < 20 else [])
        futures = online.update(t, dets)
        held.append(online.rows)
        seen = set(futures["agent_id"])
        assert ("gone" in seen) == (1 <= i <= 21), i  # last seen at 7.6 s, in view until 8.6 s
        assert {"0", "1", "2"} <= seen or i == 0
    # History read: 10 + 1 memory steps + max_gap 0.8 s, plus forget_after 1 s and a step of margin.
    keep = 11 * 0.4 + 0.8 + 1.0 + 0.4
    assert held[-1] == held[-3] <= 3 * (int(keep / 0.4) + 1) < max(held)
    assert online.tracks()["time"].min() >= online.time - 3.2


def test_an_agent_in_view_has_futures_and_tracks_alike_at_the_forget_after_boundary(pedestrian):
    """Updates 0.4 s apart on a float clock (1.2000000000000002): an agent last seen exactly forget_after
    ago is in view, for its futures and for tracks() alike."""
    online = OnlinePredictor(pedestrian, k=2, forget_after=0.4)
    for i in range(4):
        t = i * 0.4
        futures = online.update(t, [("a", 0.5 * t, 0.0)] + ([("b", 0.5 * t, 2.0)] if i <= 2 else []))
    assert set(futures.agent_id) == set(online.tracks().agent_id) == {"a", "b"}


def test_an_update_asking_another_k_gives_every_agent_in_view_that_many_futures(pedestrian):
    """update(k=3) after updates at k=2: the agents in view but not seen now are predicted again at the new K,
    as those seen now are, with the futures `predict` gives them."""
    online = OnlinePredictor(pedestrian, k=2, forget_after=2.0)
    rows = []
    for i in range(5):
        t = round(0.4 * i, 1)
        now = [("a", 0.5 * t, 0.0)] + ([("b", 0.4 * t, 2.0)] if i < 4 else [])
        rows += [(t, *r) for r in now]
        futures = online.update(t, now, k=3 if i == 4 else None)
    assert futures.groupby("agent_id")["sample"].nunique().to_dict() == {"a": 3, "b": 3}
    expected = pedestrian.predict(pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"]), k=3)
    g, e = in_order(futures), in_order(expected)
    np.testing.assert_allclose(g[["x", "y"]].to_numpy(), e[["x", "y"]].to_numpy(), atol=1e-6)


def test_an_agent_no_longer_held_is_forgotten_by_its_id_too(pedestrian):
    """Once an agent's last row is dropped from the history, its id goes too (a server seeing new ids all day
    holds only those in view): `state()` names only the agents held (here a 10-step memory horizon)."""
    model = with_memory_horizon(pedestrian, 10)
    online = OnlinePredictor(model, k=1, forget_after=0.4)
    for i in range(30):
        t = round(0.4 * i, 1)
        online.update(t, [("stays", 0.5 * t, 0.0)] + ([(f"passer{i}", 0.5 * t, 3.0)] if i < 3 else []))
    assert sorted(online.state()[2].values()) == ["stays"]


def test_a_detection_repeated_exactly_is_held_once_and_a_true_time_is_no_time(pedestrian):
    """As in a file, a row repeated exactly is dropped (the history holds it once); True is no time."""
    online = OnlinePredictor(pedestrian, k=1)
    online.update(0.0, [("a", 1.0, 2.0), ("b", 0.0, 0.0), ("a", 1.0, 2.0)])
    assert online.rows == 2 and sorted(online.tracks()["agent_id"]) == ["a", "b"]
    with pytest.raises(TrajCVAEError, match="^time must be a number \\(got bool\\)$"):
        online.update(True, [("a", 1.0, 2.0)])
    assert online.time == 0.0 and online.rows == 2
    import decimal

    # A number that is none of Python's floats or ints: named, with its conversion.
    for time, fix in ((pd.Timestamp("2024-05-01T12:00:00.4Z"), "Timestamp\\): give its seconds since 1970, "
                       "pd.Timestamp\\(time\\).timestamp\\(\\)$"),
                      (decimal.Decimal("0.4"), "Decimal\\): give it as a float, float\\(time\\)$")):
        with pytest.raises(TrajCVAEError, match=f"^time must be a number \\(got {fix}"):
            online.update(time, [("a", 1.4, 2.0)])
    with pytest.raises(TrajCVAEError, match=r"^time must be a number \(got timedelta64\): give its seconds, "
                       r"pd.Timedelta\(time\)"):
        online.update(np.timedelta64(1, "s"), [("a", 1.4, 2.0)])
    with pytest.raises(TrajCVAEError, match=r"^frame must be a number \(got Timestamp\)$"):  # frame ids: no seconds
        OnlinePredictor(pedestrian, k=1, fps=25).update(pd.Timestamp("2024-05-01"), [("a", 1.4, 2.0)])


def test_a_label_given_once_stays_with_its_agent_s_futures(pedestrian):
    """A tracker that names an agent's class only with its first detection (or from its second on): its
    futures carry the label from then on, as predict's carry the label of the agent's rows."""
    online = OnlinePredictor(pedestrian, k=1)
    online.update(0.0, [{"agent_id": "a", "x": 0.0, "y": 0.0, "label": "Pedestrian"}, {"agent_id": "b", "x": 0.0,
                                                                                         "y": 2.0}])
    for t in (0.4, 0.8, 1.2):
        futures = online.update(t, [{"agent_id": "a", "x": t, "y": 0.0},
                                    {"agent_id": "b", "x": t, "y": 2.0, "label": "Biker"}])
        assert dict(zip(futures.agent_id, futures.label)) == {"a": "Pedestrian", "b": "Biker"}


def test_labels_empty_on_every_detection_are_no_labels_live_and_in_a_file(pedestrian, tmp_path):
    """A tracker that sends "" (or None) for an unknown class on every detection: futures with an empty label, live
    and from a file, as where some agents have one."""
    online = OnlinePredictor(pedestrian, k=1)
    for i in range(4):
        futures = online.update(0.4 * i, [{"agent_id": "a", "x": 0.5 * i, "y": 0.0, "label": ""},
                                          {"agent_id": "b", "x": 0.5 * i, "y": 2.0, "label": None}])
    assert set(futures.agent_id) == {"a", "b"} and set(futures.label) == {""}
    rows = [f"{10 * i},{a},{0.5 * i},{2.0 * a}," for i in range(10) for a in range(3)]
    (tmp_path / "l.csv").write_text("frame,agent_id,x,y,label\n" + "\n".join(rows) + "\n")
    table = pedestrian.predict([tmp_path / "l.csv"], k=1)
    assert len(table) and set(table.label.fillna("")) == {""}


def test_frame_ids_give_the_futures_of_seconds_with_max_gap_and_forget_after_in_seconds(pedestrian):
    """At 25 frame ids a second, max_gap and forget_after are seconds still: a missed detection is bridged
    as in seconds, and an agent seen 50 frame ids (2 s) ago is in view."""
    got = {}
    for fps in (25.0, None):
        online = OnlinePredictor(pedestrian, k=2, fps=fps, forget_after=2.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning (a rate asked about) either
            for i in range(11):
                t = 10 * i if fps else 0.4 * i
                seen = [("a", 0.2 * i, 0.1 * (0.4 * i) ** 2)] * (i != 7) + [("b", 0.0, 0.2 * i)] * (i <= 5)
                futures = online.update(t, seen)
        got[fps] = futures.sort_values(["agent_id", "sample", "step"])
    assert set(got[25.0].agent_id) == {"a", "b"}  # b, last seen 5 updates (2 s) ago
    np.testing.assert_allclose(got[25.0][["x", "y"]], got[None][["x", "y"]], atol=1e-6)


@pytest.mark.parametrize("update, message", [
    (lambda p: p.update(float("nan"), [("a", 0, 0)]), "time must be finite"),
    (lambda p: p.update(0.0, [("a", 0, 0)]), "is not after the last update's 1: times must increase; if the clock "
                                              "started again, start a new OnlinePredictor"),
    (lambda p: p.update(2.0, [("a", 0, 0), ("a", 1, 0)]),
     "detections[1]: duplicate agent_id 'a' at another position; first seen at detections[0]"),
    (lambda p: p.update(2.0, [("a", "here", 0)]), "detections[0]: column 'x' value 'here' is not a number"),
    (lambda p: p.update(2.0, pd.DataFrame({"agent_id": ["a"], "x": [0], "y": [0], "frame": [3]})),
     "column 'frame' is not allowed"),
    (lambda p: p.update(2.0, [("a", 0, 0)], k=0), "k must be >= 1"),
    # Rows as the server passes them (dicts): the same checks and messages as a table's.
    (lambda p: p.update(2.0, [{"agent_id": "a", "x": 0, "y": 0}, {"agent_id": "a", "x": 1.0, "y": 0}]),
     "detections[1]: duplicate agent_id 'a' at another position; first seen at detections[0]"),
    (lambda p: p.update(2.0, [{"agent_id": "a", "x": "here", "y": 0}]),
     "detections[0]: column 'x' value 'here' is not a number"),
    (lambda p: p.update(2.0, [{"agent_id": "a", "x": 0, "y": float("inf")}]), "column 'y' value inf is not finite"),
    (lambda p: p.update(2.0, [{"agent_id": "", "x": 0, "y": 0}]), "detections[0]: column 'agent_id' is empty"),
    (lambda p: p.update(2.0, [(1, 0, 0), (2, 1, 0), ("nan", 2, 0)]),  # among numeric ids, as a file's
     "detections[2]: 'nan', a missing value's mark, as 'agent_id' (every detection needs its agent's id)"),
    (lambda p: p.update(2.0, [{"agent_id": "a", "x": 0}]), "missing column(s) y"),
    # Not rows at all, rows of two kinds, or of a length no row has: one line, not a Python error.
    (lambda p: p.update(2.0, None), "detections: expected a list of rows"),
    (lambda p: p.update(2.0, {"agent_id": "a", "x": 0, "y": 0}), "detections: expected a list of rows"),
    (lambda p: p.update(2.0, "abc"), "detections: expected a list of rows"),
    (lambda p: p.update(2.0, [1, 2]),
     "detections[0]: expected a dict or an (agent_id, x, y[, label]) tuple, all of one kind (got: int)"),
    (lambda p: p.update(2.0, [("a", 0, 0), {"agent_id": "b", "x": 0, "y": 0}]),
     "detections[1]: expected a dict or an (agent_id, x, y[, label]) tuple, all of one kind (got: dict; "
     "detections[0]: tuple of 3)"),
    (lambda p: p.update(2.0, [("a", 0, 0, "ped", 5)]), "detections[0]: expected"),
    (lambda p: p.update(2.0, [("a", 0, 0)], k=2.5), "k must be a whole number"),
    # Ids that are no single value, or no text a file could hold.
    (lambda p: p.update(2.0, [{"agent_id": ["x"], "x": 0, "y": 0}]), "an agent_id or label must be text or a number"),
    (lambda p: p.update(2.0, [{"agent_id": "\ud800", "x": 0, "y": 0}]), "is not valid Unicode text"),
    (lambda p: p.update(2.0, [("a", "\ud800", 0)]), "detections[0]: column 'x' value '\\ud800' is not a number"),
    # Numbers no float holds, and values pandas would read as numbers (the real part, microseconds).
    (lambda p: p.update(10 ** 400, [("a", 0, 0)]), "time must be finite (got about 2**1328)"),
    (lambda p: p.update(2.0, [("a", 0, 0)], k=10 ** 400), "k must be at most 2**63 - 1 (got about 2**1328)"),
    (lambda p: p.tracks(10 ** 400), "history must be a number of seconds >= 0 (got about 2**1328)"),
    (lambda p: p.tracks(pd.NA), "history must be a number of seconds >= 0 (got <NA>)"),
    (lambda p: p.update(2.0, [("a", 3 + 4j, 0)]), "detections: column 'x' holds complex numbers, not plain numbers"),
    (lambda p: p.update(2.0, pd.DataFrame({"agent_id": ["a"], "x": [0.0], "y": pd.to_timedelta([1], "s")})),
     "detections: column 'y' holds durations, not plain numbers"),
    (lambda p: p.update(np.float16(900.4), [("a", 0, 0)]), "times as float16, which near 900.5 resolve only 0.5"),
])
def test_online_refuses_bad_updates_in_one_line_and_keeps_its_state(pedestrian, update, message):
    online = OnlinePredictor(pedestrian, k=2)
    online.update(1.0, [("a", 0.0, 0.0)])
    with pytest.raises(TrajCVAEError) as e:
        update(online)
    assert message in str(e.value) and "\n" not in str(e.value)
    assert online.time == 1.0 and online.rows == 1


@pytest.mark.filterwarnings("ignore::trajcvae.TrajCVAEWarning")  # made-up speeds, warned as they should be
def test_rows_as_dicts_give_the_futures_of_the_same_rows_as_a_table(pedestrian):
    """The server's dict rows skip the table `update` builds for other inputs; the futures are the same."""
    data = walkers()
    as_dicts, as_table = OnlinePredictor(pedestrian, k=3), OnlinePredictor(pedestrian, k=3)
    for t in np.unique(data["time"])[:12]:
        rows = data[data["time"] == t][["agent_id", "x", "y", "label"]]
        got = as_dicts.update(t, [{**r, "agent_id": str(r["agent_id"])} for r in rows.to_dict("records")])
        expected = as_table.update(t, rows)
    assert len(got) and got.equals(expected)


@pytest.mark.parametrize("x, scale", [(1e16, 1e-9), (10 ** 400, None), (" ", None)],
                         ids=["beyond MAX_RAW", "an int beyond float64", "blank text"])
def test_detections_as_dicts_tuples_or_a_table_are_refused_with_the_message_a_table_of_them_gets(pedestrian, x, scale):
    """One check for rows however they come: a position beyond MAX_RAW whatever the units, a Python int beyond
    float64 or blank text is refused in one line, the line `read_tracks` gives for the same row in a table
    (not accepted as dicts, not an OverflowError)."""
    column = pd.Series([x], dtype=object if isinstance(x, int) else None)  # pandas < 3: no int beyond float64 else
    table = pd.DataFrame({"time": [0.0], "agent_id": ["1"], "x": column, "y": [0.0]})
    with pytest.raises(TrajCVAEError) as e:
        read_tracks(table, scale=scale)
    said = str(e.value).split("dataframe.iloc[0]: ", 1)[1]
    for rows, row in (([{"agent_id": "1", "x": x, "y": 0.0}], "detections[0]"), ([("1", x, 0.0)], "detections[0]"),
                      (table.drop(columns="time"), "detections.iloc[0]")):  # as Python counts a list's, a table's
        online = OnlinePredictor(pedestrian, k=2, scale=scale)
        with pytest.raises(TrajCVAEError) as e:
            online.update(0.0, rows)
        assert str(e.value) == f"{row}: {said}" and online.time is None


def test_live_reads_agent_ids_as_a_file_does_so_its_futures_are_predicts(pedestrian):
    """Ids "1" and "1.0" are one agent (1) in a file, and so they are live: the futures are those `predict`
    gives on the same rows, with the id as text."""
    t = np.round(0.4 * np.arange(12), 6)
    rows = pd.DataFrame({"time": t, "agent_id": ["1"] * 6 + ["1.0"] * 6, "x": 1.2 * t, "y": 0.0})
    live = OnlinePredictor(pedestrian, k=K)
    for r in rows.itertuples():
        got = live.update(r.time, [{"agent_id": r.agent_id, "x": r.x, "y": r.y}])
    expected = pedestrian.predict(rows, k=K)
    assert set(got["agent_id"]) == {"1"} and live.rows == 12
    np.testing.assert_allclose(got[["x", "y"]], expected[["x", "y"]], atol=1e-6, rtol=0)


def test_an_update_not_after_the_last_is_refused_naming_both_times_in_full_and_a_frame_as_a_frame(pedestrian):
    """Unix times 0.05 s apart are told apart in the refusal; a server run with --fps names the frame id
    the request gave, not the seconds it stands for."""
    live = OnlinePredictor(pedestrian, k=2)
    live.update(1700000000.40, [("1", 1.0, 2.0)])
    with pytest.raises(TrajCVAEError, match=r"^time 1700000000\.35 is not after the last update's 1700000000\.4: "):
        live.update(1700000000.35, [("1", 1.0, 2.0)])
    # Unix times under a microsecond apart are told apart too.
    live.update(1733560036.2847178, [("1", 1.0, 2.0)])
    with pytest.raises(TrajCVAEError, match=r"^time 1733560036\.2847176 is not after the last update's "
                                            r"1733560036\.2847178: times must increase; if the clock"):
        live.update(1733560036.2847176, [("1", 1.0, 2.0)])
    with pytest.raises(TrajCVAEError, match=r"^time 1733560036\.284718 is not after the last update's "  # (sent twice)
                                            r"1733560036\.284718: times must increase; an update at that time was "
                                            r"taken already \(a retry of one whose answer was lost\?\)$"):
        live.update(1733560036.284717842 + 42e-9, [("1", 1.0, 2.0)])
    from trajcvae.checks import time_text  # 16 digits only where 15 do not read back: 9.2, not 9.199999999999999
    assert [time_text(t) for t in (9.2, 0.69, 1733560036.2847178)] == ["9.2", "0.69", "1733560036.284718"]
    server = pytest.importorskip("trajcvae.server")
    import httpx

    with server.running(server.create_app(pedestrian, k=2, fps=10)) as base, httpx.Client(base_url=base) as client:
        assert client.post("/v1/scenes/s/observations", json={"frame": 109, "detections": []}).status_code == 200
        r = client.post("/v1/scenes/s/observations", json={"frame": 109, "detections": []})
    assert r.status_code == 409 and r.json()["detail"] == ("frame 109 is not after the last update's 109: times "
                                                           "must increase; an update at that time was taken already "
                                                           "(a retry of one whose answer was lost?)")


def test_float32_detections_are_judged_as_a_files_float32_columns(pedestrian):
    """UTM positions as float32 (0.5 m apart near 5,400 km) get the warning `predict` gives a table of them,
    once, as a `TrajCVAEWarning` kept in `warnings`; unix times as float32 (128 s apart) are refused as a
    file's time column is."""
    t = np.round(0.4 * np.arange(6), 6)
    rows = pd.DataFrame({"time": t, "agent_id": "1", "x": np.float32(500000.0 + 1.2 * t),
                         "y": np.float32(5400000.0 + 0 * t)})
    with pytest.warns(TrajCVAEWarning) as file_said:
        pedestrian.predict(rows, k=2)
    coarse = str(file_said[0].message).split("holds ", 1)[1]  # positions as float32, which near ...
    live = OnlinePredictor(pedestrian, k=2)
    with pytest.warns(TrajCVAEWarning) as said:
        for time, detections in rows.groupby("time"):
            live.update(time, detections[["agent_id", "x", "y"]])  # float32 columns, as from a ROS Point32
    assert [str(w.message) for w in said] == live.warnings == [f"an update holds {coarse} (scene 'live', time 0)"]
    # The float32 warning does not stand in for the speeds': cars in float32 UTM get both, each once.
    live = OnlinePredictor(pedestrian, k=1)
    cars = lambda t: pd.DataFrame({"agent_id": np.arange(250), "x": np.float32(500000.0 + 13.0 * t),  # noqa: E731
                                   "y": np.float32(5400000.0 + 3.0 * np.arange(250))})
    with pytest.warns(TrajCVAEWarning) as said:
        for time in (0.0, 0.4, 0.8):
            live.update(time, cars(time))
    assert [str(w.message)[:40] for w in said] == [f"an update holds {coarse}"[:40],
                                                   "the median speed of the tracks is 13 m/s"]
    with pytest.raises(TrajCVAEError, match=r"^time: times as float32, which near 1\.7e\+09 resolve only 128 of"):
        OnlinePredictor(pedestrian, k=2).update(np.float32(1.7e9), [("1", 1.0, 2.0)])
    # A float64 time too large to tell steps apart (1e300 + 0.4 == 1e300) is refused as a file's is.
    with pytest.raises(TrajCVAEError, match=r"^time 1e\+300 is too large to tell its steps apart"):
        OnlinePredictor(pedestrian, k=2).update(1e300, [("1", 1.0, 2.0)])
    # ... with its sign, and a fix a live caller can take (no --columns reads an update's time).
    with pytest.raises(TrajCVAEError, match=r"^time -1e\+20 is too large to tell its steps apart \(numbers near it "
                                            r"are 1.64e\+04 apart\): give times in seconds, since a start nearer 0$"):
        OnlinePredictor(pedestrian, k=2).update(-1e20, [("1", 1.0, 2.0)])


def test_nanosecond_frames_out_of_order_are_named_in_full_digits_and_why_they_tie(pedestrian):
    """A server of frames counting nanoseconds since 1970 (--fps 1e9): a refusal names them in their digits,
    not as 1.7000000004e+18 twice, and says why two frames 1 ns apart are one to 64-bit floats."""
    server = pytest.importorskip("trajcvae.server")
    import httpx

    app = server.create_app(pedestrian, k=1, fps=1e9)
    with server.running(app) as base, httpx.Client(base_url=base) as client:
        def post(frame):
            return client.post("/v1/scenes/a/observations", json={"frame": frame, "detections": [
                {"agent_id": "1", "x": 1.0, "y": 2.0}]})

        assert post(1_700_000_000_400_000_000).status_code == 200
        earlier, tie = post(1_700_000_000_300_000_000), post(1_700_000_000_400_000_001)
        huge = post(17_000_000_004_000_000_000_000)  # named as the request named it: a frame, not a time
    assert huge.status_code == 422 and huge.json()["detail"].startswith(
        "frame 1.7000000004e+22 is too large to tell its steps apart: at --fps 1e+09 it is 1.7e+13 s"), huge.text
    assert earlier.status_code == 409 and earlier.json()["detail"] == (
        "frame 1700000000300000000 is not after the last update's 1700000000400000000: times must increase; if the "
        "clock started again, DELETE /v1/scenes/a first")
    assert tie.status_code == 409 and tie.json()["detail"] == (
        "frame 1700000000400000000 is not after the last update's 1700000000400000000 (64-bit floats near it are "
        "256 apart: give frames from a start nearer 0): times must increase")


def test_a_fast_feed_has_its_speeds_judged_once_its_history_holds_moves_a_step_long(pedestrian):
    """At 30 updates a second, JUDGE_MOVES moves come before any track spans a model step, the speed check's
    measure: the check waits for those, so centimetres read as metres, or times in seconds read as frame ids
    at fps=30 (a step is 12 frame ids: 12 s of this feed, tried again a step after the first try), are
    warned of; metres are not. Times 10 times too small are asked about as the update times (no time column)."""
    def feed(live, seconds, unit=1.0, n_agents=20, clock=1.0):
        rng = np.random.default_rng(0)
        p0, v = rng.uniform(-5, 5, (n_agents, 2)), rng.normal(0, 1, (n_agents, 2))
        v = 1.2 * v / np.linalg.norm(v, axis=1, keepdims=True)  # walkers at 1.2 m/s
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            for i in range(round(seconds * 30)):
                live.update(i / 30 / clock, [(str(a), *(p0[a] + v[a] * i / 30) / unit) for a in range(n_agents)])
        return [str(w.message) for w in said]

    assert feed(OnlinePredictor(pedestrian, k=1), 1) == []
    said = feed(OnlinePredictor(pedestrian, k=1), 1, unit=0.01)
    assert len(said) == 1 and said[0].startswith("the median speed of the tracks is 120 m/s") and \
        "check scale or homography" in said[0]
    said = feed(OnlinePredictor(pedestrian, k=1, fps=30), 14, n_agents=4)
    assert len(said) == 1 and said[0].startswith("the median speed of the tracks is 36 m/s") and "fps=30" in said[0]
    said = feed(OnlinePredictor(pedestrian, k=1), 6, n_agents=4, clock=10)
    assert len(said) == 1 and said[0].startswith("the median speed of the tracks is 12 m/s") and \
        "and the update times (in seconds, not minutes?)" in said[0]


def test_live_speed_warnings_name_fixes_a_live_caller_can_take(pedestrian, tmp_path):
    """An update carries no columns to rename: times in milliseconds are asked to come in seconds (not with
    --columns time_ms=...), degrees sent as x, y to come as lon, lat with lonlat=True. A replayed file of frame
    ids of no known rate says how they are read, as predict's summary does."""
    def said(live, rows):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for t, dets in rows:
                live.update(t, dets)
        return [str(w.message) for w in caught]

    ms = said(OnlinePredictor(pedestrian, k=1), [(1.7e12 + 100.0 * i, [(str(a), 0.13 * i, 2.0 * a) for a in range(8)])
                                                 for i in range(80)])
    assert any("(in seconds? Read as milliseconds, its samples would come 0.1 s apart: send times in seconds)" in line
               for line in ms) and not any("columns" in line for line in ms), ms
    east = 1 / (111_320 * np.cos(np.radians(46.52)))
    degrees = said(OnlinePredictor(pedestrian, k=1), [(0.4 * i, [(str(a), 6.57 + 0.52 * i * east, 46.52 + a / 55_660)
                                                                 for a in range(8)]) for i in range(40)])
    assert any("Longitudes and latitudes in degrees: send them as lon, lat with lonlat=True (`trajcvae serve "
               "--lonlat`)" in line for line in degrees), degrees
    rows = [f"{3 * i},{a},{0.13 * i:.3f},{2.0 * a}" for i in range(40) for a in range(4)]
    (tmp_path / "f30.csv").write_text("frame,agent_id,x,y\n" + "\n".join(rows) + "\n")
    logged = []
    from trajcvae.server import replay_updates

    replay_updates(tmp_path / "f30.csv", model=pedestrian, log=logged.append)
    assert logged[0] == (f"replay: {tmp_path / 'f30.csv'}: frame ids of no known rate: each scene's most common "
                         "difference is read as one 0.4 s step; give --fps if they count a video's frames or a "
                         "tracker's updates"), logged
    assert any(line.startswith("warning: the tracks' frame ids are 3 apart, each 3 read as one 0.4 s step (no --fps)")
               for line in logged), logged
    # A frame id off the others' grid, which predict refuses, is a replay's time like any other.
    (tmp_path / "off.csv").write_text("frame,agent_id,x,y\n" + "\n".join(rows + ["59,9,0.0,9.0"]) + "\n")
    assert len(replay_updates(tmp_path / "off.csv", model=pedestrian, log=[].append)) == 41


def test_detections_posted_without_the_units_the_model_was_trained_in_are_warned_of_at_once(pedestrian):
    """A model trained on centimetres (data.scale 0.01) fed centimetres as metres: its first update with
    detections says so, naming scale=, long before the speeds could be judged (and not again when they are);
    with scale=0.01, nothing is said."""
    import copy

    cm = copy.deepcopy(pedestrian)
    cm.config.data.scale = 0.01
    for given, expected in (({}, 1), ({"scale": 0.01}, 0)):
        live = OnlinePredictor(cm, k=1, **given)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            live.update(-1.0, [])
            assert not caught
            for i in range(60):
                live.update(0.4 * i, [(str(a), 52.0 * i, 200.0 * a) for a in range(8)])
                if i == 1:
                    assert len(caught) == expected, [str(w.message) for w in caught]
        units = [str(w.message) for w in caught if "trained on positions converted" in str(w.message)]
        assert len(units) == expected and all("give scale=0.01 (scene 'live', time 0)" in u for u in units), units


def test_a_feed_no_gap_can_bridge_is_named_once_instead_of_giving_no_futures_in_silence(pedestrian):
    """Updates further apart than the model bridges (times in milliseconds, a 1 Hz tracker, a wrong fps)
    make every detection a new track: after JUDGE_UPDATES of them the predictor says so once, naming the
    fix, as `predict` names it for a file sampled so; a feed it can bridge is not warned of."""
    from trajcvae.online import JUDGE_UPDATES

    def feed(live, dt, n=3 * JUDGE_UPDATES):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            for i in range(n):
                out = live.update(dt * i, [(str(a), 0.52 * i / 0.4 * dt / (1000 if dt > 10 else 1), 2.0 * a)
                                           for a in range(3)])
        return [str(w.message) for w in said], out

    said, out = feed(OnlinePredictor(pedestrian, k=1), 400.0)  # milliseconds
    assert said == [f"the first {JUDGE_UPDATES} updates with detections came at least 400 s apart, longer than the "
                    "0.8 s gap the model bridges, so no agent they saw got futures: is time in seconds (not "
                    f"milliseconds)? (scene 'live', time {400 * (JUDGE_UPDATES - 1)})"] and not len(out)
    said, out = feed(OnlinePredictor(pedestrian, k=1), 1.0)  # 1 Hz
    assert said == [f"the first {JUDGE_UPDATES} updates with detections came at least 1 s apart, longer than the 0.8 s "
                    "gap the model bridges, so no agent they saw got futures; if detections come that far apart, give "
                    f"max_gap=1.5 to bridge them (scene 'live', time {JUDGE_UPDATES - 1})"] and not len(out)
    said, out = feed(OnlinePredictor(pedestrian, k=1, max_gap=1.5), 1.0)
    assert said == [] and len(out)
    # A gap bridged shorter than the feed's spacing, which is within half a step of a step: each detection
    # holds its grid step, so futures come, from speeds misread; the line says that instead.
    said, out = feed(OnlinePredictor(pedestrian, k=1, max_gap=0.3), 0.5)
    assert said == [f"the first {JUDGE_UPDATES} updates with detections came at least 0.5 s apart, longer than the "
                    "0.3 s gap the model bridges, so no detections are joined into tracks, and each is held for a "
                    "step: futures read detections 0.5 s apart as a step (0.4 s) apart, misreading speeds; if "
                    "detections come that far apart, give max_gap=0.8 to bridge them (scene 'live', time "
                    f"{0.5 * (JUDGE_UPDATES - 1):g})"] and len(out)
    said, out = feed(OnlinePredictor(pedestrian, k=1, max_gap=0.3), 0.7)
    assert "so no agent they saw got futures" in said[0] and not len(out)
    said, _ = feed(OnlinePredictor(pedestrian, k=1, fps=2.5), 10.0)  # frame ids 10 apart are 4 s at 2.5 a second
    assert len(said) == 1 and "at least 4 s apart" in said[0] and "is fps (2.5) the frame ids' rate?" in said[0]
    said, _ = feed(OnlinePredictor(pedestrian, k=1), 0.4)  # the model's own rate
    assert said == []


def test_a_feed_whose_agent_ids_never_repeat_is_named_once_and_stays_as_quick_as_its_first_updates(pedestrian,
                                                                                                  monkeypatch):
    """Detections numbered afresh in every update (a detector without a tracker) give no agent two positions:
    after JUDGE_UPDATES updates in a row the predictor says so once, and it does not build, update after
    update, the reason a file of such tracks would be refused with (which took longer the more ids it held)."""
    from trajcvae import windows
    from trajcvae.online import JUDGE_UPDATES

    def feed(live, ids, n=3 * JUDGE_UPDATES):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            for i in range(n):
                out = live.update(0.4 * i, [(ids(i, a), a + 0.5 * i, 0.0) for a in range(5)])
        return [str(w.message) for w in said], out

    monkeypatch.setattr(windows, "no_windows_error", lambda *a, **k: pytest.fail("the reason was built"))
    said, out = feed(OnlinePredictor(pedestrian, k=1), lambda i, a: f"{i}-{a}")
    assert said == [f"{JUDGE_UPDATES} updates in a row came at most 0.8 s apart (the gap the model bridges), and no "
                    f"agent_id came in two of them ({5 * JUDGE_UPDATES} ids held): each agent needs one id in every "
                    "update (a tracker's track id, not a detection's number), or it never gets futures (scene "
                    f"'live', time {0.4 * (JUDGE_UPDATES - 1):g})"] and not len(out)  # (the update that said it)
    said, out = feed(OnlinePredictor(pedestrian, k=1), lambda i, a: str(a))  # a tracker's ids
    assert said == [] and len(out)
    # A feed that gets a tracker's ids later: the scene's warnings (a server's answers) drop the line then.
    live = OnlinePredictor(pedestrian, k=1)
    feed(live, lambda i, a: f"{i}-{a}", JUDGE_UPDATES)
    assert len(live.warnings) == 1
    live.update(0.4 * JUDGE_UPDATES, [("x", 0.0, 0.0)])
    live.update(0.4 * JUDGE_UPDATES + 0.4, [("x", 0.5, 0.0)])
    assert live.warnings == []


def test_a_history_the_frame_cannot_hold_is_predicted_from_its_last_part_and_named(pedestrian, tmp_path):
    """A walker who turned back within its observed 3.2 s (or a standing person's tracker jitter) walked a path
    several times as long as its net motion, by which the model's frame measures it; a position off the track
    (a tracker on a neighbour for a frame) or an id switch makes a step faster than the model knows. The model
    saw almost no such history, and read whole their futures reached tens of metres. A prediction reads a
    position off the track at the middle of its neighbours, and of the rest only what follows a jump or a turn,
    as if the track began there (so the futures are those of that part alone); predict (Python and CLI),
    evaluate and the live predictor (once per agent) name it; a straight walk, or an agent setting off fast, is
    neither cut nor named, and training reads every history as it was recorded."""
    from trajcvae.checks import cut_short, readable, winding
    from trajcvae.evaluate import evaluate

    out_and_back = [0, 1, 2, 3, 4, 3, 2, 1]  # 0.51 m steps: 3.6 m walked, 0.5 m from where it started
    path = np.array([[[0.0, 0.5123 * y] for y in ys] for ys in (out_and_back, range(8), [0] * 8)])
    path[2, :-1] = np.nan  # a single position
    np.testing.assert_allclose(winding(path, 0.2), [7 * 0.5123 / (7 * 0.2), 1.0, 0.0])  # 7 steps at the 0.2 m floor
    out_and_back = [0, 1, 2, 3, 4, 5, 4, 3]  # winds 2.33; from its turn at 5 on, 1; from any step before, 2.56
    path[0] = [[0.0, 0.5123 * y] for y in out_and_back]
    np.testing.assert_array_equal(np.isnan(readable(path, 0.2, 2.0)[..., 0]),
                                  [[True] * 5 + [False] * 3, [False] * 8, [True] * 7 + [False]])
    straight = path[1:]
    assert readable(straight, 0.2, 2.0) is straight
    # Exactly 2 is within: the part from the fourth position, 4 steps walked and 2 net, is kept.
    twice = np.array([[[0.0, 0.5 * y] for y in [3, 2, 1, 0, 1, 2, 3, 2]]])
    assert winding(twice, 0.2)[0] == pytest.approx(2.5) and np.isnan(readable(twice, 0.2, 2.0)[0, :, 0]).sum() == 3
    # One position 3 m off a straight walk is read at the middle of its neighbours, as in a turned-back walk
    # (then cut at its turn); a jump at t0 leaves t0 alone; an agent that sets off at 5.5 m/s is read whole.
    off = np.array([[[0.5123 * i, 3.0 * (i == 2)] for i in range(8)], [[0.0, 0.5123 * y + 3.0 * (i == 1)]
                                                                         for i, y in enumerate(out_and_back)],
                    [[0.5123 * i, 3.0 * (i == 7)] for i in range(8)], [[2.2 * max(i - 4, 0), 0.0] for i in range(8)]])
    read = readable(off, 0.2, 2.0)
    np.testing.assert_array_equal(np.isnan(read[..., 0]).sum(1), [0, 5, 7, 0])
    np.testing.assert_allclose(read[0], [[0.5123 * i, 0.0] for i in range(8)])  # the straight walk's positions
    np.testing.assert_array_equal(cut_short(off, 0.2, 2.0), [True, True, True, False])
    wt = WindowTensors(torch.from_numpy(path[:1].astype(np.float32)), torch.full((1, 1, 8, 2), np.nan), None)
    dc = dataclasses.replace(pedestrian.config.data, memory=0)
    for top_step, unit in ((2.0, 0.5123), (None, 3 * 0.5123 / 7)):  # the frame's unit: the walk since the turn
        assert make_batch(wt, [0], dc, top_step=top_step).scale.item() == pytest.approx(unit)
    df = pd.DataFrame([{"time": 0.4 * i, "agent_id": a, "x": x, "y": 0.5123 * (y if a == "u" else i)}
                       for i, y in enumerate(out_and_back) for a, x in (("u", 0.0), ("s", 5.0))])
    line = "1 of 2 windows (agent u of input at t0 2.8) observed a history the model's frame cannot hold whole"
    with pytest.warns(TrajCVAEWarning, match=re.escape(line)):
        futures = pedestrian.predict(df, k=20)
    u = futures[futures.agent_id == "u"].reset_index(drop=True)
    ends = u[u.step == 12]
    assert np.hypot(ends.x, ends.y - 0.5123 * 3).max() < 10  # a 1.3 m/s walker's reach in 4.8 s, not tens of metres
    since_turn = df[(df.agent_id != "u") | (df.time > 1.9)]
    alone = pedestrian.predict(since_turn, k=20)
    pd.testing.assert_frame_equal(alone[alone.agent_id == "u"].reset_index(drop=True), u)
    # evaluate scores such a window on the part read, and names it too.
    on_back = pd.DataFrame([{"time": 0.4 * i, "agent_id": "u", "x": 0.0, "y": 0.5123 * y}
                            for i, y in enumerate(out_and_back + list(range(2, -10, -1)))])
    with pytest.warns(TrajCVAEWarning, match=re.escape("1 of 1 window (agent u of input at t0 2.8) observed a")):
        assert evaluate(pedestrian, on_back, k=2, calibration_draws=0)["cut"] == 1
    df.to_csv(tmp_path / "walks.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "walks.csv", "--out", tmp_path / "futures.csv")
    assert r.exit_code == 0 and "warning: 1 of 2 windows (agent u of walks at t0 2.8)" in r.output, r.output
    r = cli("visualize", "pedestrian", tmp_path / "walks.csv", "--agent", "u", "--out", tmp_path / "u.png")
    assert r.exit_code == 0 and "warning: 1 of 1 window (agent u of walks at t0 2.8) observed a history" in r.output, \
        r.output  # the picture draws the whole history the model read in part
    # A grid of the best or worst names the windows it draws, not every window scored to pick them.
    longer = pd.DataFrame([{"time": 0.4 * i, "agent_id": "u", "x": 0.0, "y": 0.5123 * y}  # 11 windows each
                           for i, y in enumerate(out_and_back + list(range(2, -20, -1)))])
    pd.concat([longer, longer.assign(agent_id="s", x=5.0, y=0.5123 * np.arange(len(longer)))]).to_csv(
        tmp_path / "back.csv", index=False)
    named = []
    for ranked in ("--best", "--worst"):
        r = cli("visualize", "pedestrian", tmp_path / "back.csv", "--grid", 2, ranked, "--out", tmp_path / "g.png")
        assert r.exit_code == 0, r.output
        named += re.findall(r"warning: (\d+) of (\d+) windows? \(([^)]*)\) observed a history", r.output)
    assert named and all(total == "2" for _, total, _ in named), named  # (4 of the 22 scored are cut)
    for ks in ([2] * 8, [2, 3] * 4):  # K the same at every update, or changed (every agent predicted again)
        live = OnlinePredictor(pedestrian, k=2)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            for k, (t, rows) in zip(ks, df.groupby("time")):
                live.update(t, rows[["agent_id", "x", "y"]].to_dict("records"), k=k)
            live.update(3.2, [{"agent_id": "u", "x": 0.0, "y": 0.0}])
        assert [str(w.message)[:59] for w in said] == ["1 of 2 agents ('u') observed a history the model's frame ca"]


def test_futures_far_beyond_their_agents_pace_are_named_wherever_they_are_given(pedestrian, tmp_path):
    """A walker slower than about 1 m/s who turned back winds too little to be cut (the 0.2 m floor takes up its
    net motion), yet the frame reads it as walking backwards and its futures end 2.5 times as far as its pace
    could take it: futures whose median end lies over REACH times as far as the agent's fastest observed step,
    kept up, are named by predict (Python and CLI) and the live predictor (once per agent); a straight walk's
    are not."""
    from trajcvae.checks import REACH, overshoot, winding

    obs = np.array([[[0.5 * i, 0.0] for i in range(8)]])  # 0.5 m steps: 12 of them reach 6 m
    ends = lambda d: np.array([[[[3.5 + d, 0.0]] * 12] * 3])  # noqa: E731  (1, 3, 12, 2), d metres on from t0
    assert overshoot(obs, ends(REACH * 6.0 + 0.01), 0.2)[0] and not overshoot(obs, ends(REACH * 6.0 - 0.01), 0.2)[0]
    slow = [0, 1, 2, 3, 4, 3, 2, 1]  # 0.32 m steps (0.8 m/s), turned back 3 steps ago: winds 1.6
    df = pd.DataFrame([{"time": 0.4 * i, "agent_id": a, "x": x, "y": 0.32 * (y if a == "u" else i)}
                       for i, y in enumerate(slow) for a, x in (("u", 0.0), ("s", 5.0))])
    assert winding(np.array([[[0.0, 0.32 * y] for y in slow]]), 0.2)[0] == pytest.approx(1.6)
    line = "1 of 2 windows (agent u of input at t0 2.8) got futures whose median end lies over 2 times as far as"
    with pytest.warns(TrajCVAEWarning, match=re.escape(line)):
        futures = pedestrian.predict(df, k=20)
    u = futures[(futures.agent_id == "u") & (futures.step == 12)]
    assert np.median(np.hypot(u.x, u.y - 0.32)) > REACH * 12 * 0.32  # what it names
    df.to_csv(tmp_path / "slow.csv", index=False)
    r = cli("predict", "pedestrian", tmp_path / "slow.csv", "--out", tmp_path / "futures.csv")
    assert r.exit_code == 0 and "warning: 1 of 2 windows (agent u of slow at t0 2.8) got futures" in r.output, r.output
    live = OnlinePredictor(pedestrian, k=20)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        for t, rows in df.groupby("time"):
            live.update(t, rows[["agent_id", "x", "y"]].to_dict("records"))
        live.update(3.2, [{"agent_id": "u", "x": 0.0, "y": 0.0}])
    assert [str(w.message)[:50] for w in said] == ["1 of 2 agents ('u') got futures whose median end l"]


def test_warnings_due_at_one_update_are_all_kept_where_a_warning_is_an_error(pedestrian):
    """Walkers at 6 m/s (beyond `pedestrian`'s speeds: warned of once its check has the moves, at the 40th
    update) of whom one jumps 30 m 1.4 s before (its history cut at the jump, and so named, at once): both
    lines come at that update. Where warnings are errors the first is raised and the other is still in
    `warnings`, as where they are warnings; neither is lost."""
    def feed(mode: str):
        live, raised = OnlinePredictor(pedestrian, k=1), []
        for i in range(60):
            t = round(0.1 * i, 6)
            with warnings.catch_warnings():
                warnings.simplefilter(mode, TrajCVAEWarning)
                try:
                    live.update(t, [(str(j), 6.0 * t, 3.0 * j + (30.0 if j == 0 and i >= 26 else 0.0))
                                    for j in range(5)])
                except TrajCVAEWarning as e:
                    raised.append(str(e))
        return raised, [line.split(":")[0] for line in live.warnings]

    assert feed("ignore") == ([], ["1 of 5 agents ('0') observed a history the model's frame cannot hold whole",
                                   "the median speed of the tracks is 6 m/s, outside the 0.31-4.9 m/s of the model's "
                                   "training tracks (90th percentile 1.2 m/s)", "1 track jumps"])
    raised, kept = feed("error")  # the first, at the jump; the two due at the 40th update, of which one is raised
    assert kept == feed("ignore")[1] and len(raised) == 2 and raised[1].startswith("the median speed"), raised


def test_answers_are_the_futures_table_as_json():
    """The answer's writer (`server.records`) gives what a JSON encoder gives for the same table: text
    escaped, whole numbers as integers, floats to 6 decimals, NaN and missing text as null."""
    server = pytest.importorskip("trajcvae.server")
    table = pd.DataFrame({"agent_id": ['7', 'a,"b"', "7", "ü"], "sample": [0, 1, 2, 3], "step": [1, 1, 1, 1],
                          "time": [1.2, 1.2, 1.2, 1.2], "x": [0.1234567, -3.0, np.nan, 1e6 + 0.25],
                          "label": ["car", None, "car", ""]})
    got = json.loads(server.records(table, list(table.columns)))
    expected = json.loads(table.to_json(orient="records", double_precision=6))
    assert got == expected
    assert [type(r["sample"]) for r in got] == [int] * 4 and got[2]["x"] is None and got[1]["label"] is None
    assert json.loads(server.answer_json(2.5, table.iloc[:0])) == {"time": 2.5, "futures": []}
    # The agents layout holds the same numbers, times to 6 decimals too (an update at an irregular time).
    t0 = 1.0001234
    fut = pd.DataFrame({"agent_id": "7", "t0": t0, "sample": np.repeat([0, 1], 3), "step": np.tile([1, 2, 3], 2),
                        "time": np.tile(t0 + 0.4 * np.arange(1, 4), 2), "x": np.arange(6) * 0.1234567, "y": 0.5})
    rows = json.loads(server.answer_json(t0, fut, "rows", pred_len=3))["futures"]
    agent = json.loads(server.answer_json(t0, fut, "agents", pred_len=3))["agents"][0]
    assert agent["time"] == [r["time"] for r in rows[:3]] == [1.400123, 1.800123, 2.200123]
    assert agent["t0"] == 1.000123 and np.ravel(agent["x"]).tolist() == [r["x"] for r in rows]


@pytest.mark.parametrize("column", ["frame", "time"])
def test_predict_since_gives_the_same_futures_for_the_agents_seen_since_then(pedestrian, column):
    """`since` (what the online predictor asks `predict` for): only agents last seen at or after it, each
    with the futures `predict` gives it without `since`; frame ids of unknown rate and times in seconds."""
    data = walkers(n_updates=16).drop(columns="label")
    data = data.assign(frame=np.unique(data["time"], return_inverse=True)[1] * 10).drop(columns="time") \
        if column == "frame" else data
    cut = 140 if column == "frame" else float(np.unique(data["time"])[14])  # agent 3 left at update 13
    every = pedestrian.predict(data, k=2, scale=0.01)
    some = pedestrian.predict(data, k=2, scale=0.01, since=cut)
    assert set(some["agent_id"]) == set(every.loc[every["t0"] >= cut, "agent_id"]) != set(every["agent_id"])
    e = every[every["t0"] >= cut].reset_index(drop=True)
    np.testing.assert_allclose(some[["x", "y"]].to_numpy(), e[["x", "y"]].to_numpy(), atol=1e-3)


def test_online_options_are_checked_when_made(pedestrian):
    for kwargs, message in (({"kset": "best"}, "^kset must be one of none, kmeans, learned"),
                            ({"forget_after": 0}, "^forget_after must be a positive"),
                            ({"scale": -1.0}, "^scale must be a positive"), ({"k": 0}, "^k must be >= 1")):
        with pytest.raises(TrajCVAEError, match=message):
            OnlinePredictor(pedestrian, **kwargs)


def test_serve_without_the_extra_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "trajcvae.server", raising=False)
    one_line_error(cli("serve", "pedestrian"), 'pip install "trajcvae[serve]"', 'pip install -e ".[serve]"')


# --- the server ---------------------------------------------------------------------------------------

def server_app(pedestrian, lonlat=False, **limits):
    server = pytest.importorskip("trajcvae.server")
    return server, server.create_app(pedestrian, k=K, limits=server.Limits(**limits), lonlat=lonlat)


def test_serve_bad_options_are_one_line_errors(monkeypatch):
    pytest.importorskip("fastapi")
    server = pytest.importorskip("trajcvae.server")
    # An option let through would serve until killed: fail instead of hanging the suite.
    monkeypatch.setattr(server, "_run", lambda app, sock: pytest.fail("serve started despite a bad option"))
    one_line_error(cli("serve", "pedestrian", "--kset", "best"), "--kset must be one of")
    one_line_error(cli("serve", "pedestrian", "--calibrate", "always"), "--calibrate must be one of")
    one_line_error(cli("serve", "pedestrian", "--futures", "full", "--kset", "kmeans"),
                   "--futures full draws plain futures")
    one_line_error(cli("serve", "pedestrian", "--calibrate", "scene", "--kset", "kmeans"),
                   "--calibrate scene rescales plain draws")
    one_line_error(cli("serve", "pedestrian", "--max-agents", 0), "--max-agents must be >= 1")
    one_line_error(cli("serve", "pedestrian", "-k", 500), "-k 500: more than --max-k 100")
    one_line_error(cli("serve", "pedestrian", "--replay", "nowhere.csv"), "nowhere.csv: no such file")
    one_line_error(cli("serve", "pedestrian", "--speed", 0), "--speed must be a positive number")
    one_line_error(cli("serve", "pedestrian", "--speed", 3), "--speed 3: the pace of a --replay")
    import socket
    with socket.socket() as taken:  # a port in use: one line, before any "serving on" line
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        one_line_error(cli("serve", "pedestrian", "--port", port), f"--port {port}: cannot listen there")
    server = pytest.importorskip("trajcvae.server")
    for reuse in (True, False):  # (False: Windows, where the option would let it share a port in use)
        monkeypatch.setattr(server, "REUSE_ADDRESS", reuse)
        with server._listen("127.0.0.1", 0) as s:
            assert bool(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)) == reuse
    with pytest.raises(TrajCVAEError, match="^max_k must be >= 1"):  # the Python API checks its limits too
        server.Limits(max_k=0)


def test_every_bad_request_is_a_one_line_4xx_that_leaves_other_scenes_alone(pedestrian):
    server, app = server_app(pedestrian, max_agents=50, max_body=20_000, max_scenes=2)
    import httpx

    with server.running(app) as base, httpx.Client(base_url=base) as client:
        check_refusals(client)


def check_refusals(client):
    for t in (0.0, 0.4):
        r = client.post("/v1/scenes/a/observations", json={"time": t, "detections": [
            {"agent_id": "7", "x": 1.0 + t, "y": 2.0}, {"agent_id": 8, "x": -1.0, "y": 2.0 - t, "label": "p"}]})
        assert r.status_code == 200, r.text
    before = client.get("/v1/scenes/a/futures").content
    answer = r.json()
    assert answer["time"] == 0.4 and len(answer["futures"]) == 2 * K * 12
    assert set(answer["futures"][0]) == {"agent_id", "sample", "step", "time", "x", "y", "label"}
    assert {f["agent_id"] for f in answer["futures"]} == {"7", "8"}
    ok = {"time": 9.0, "detections": [{"agent_id": "1", "x": 0.0, "y": 0.0}]}
    bad = [
        (client.post, "/v1/scenes/a/observations", {"headers": JSON, "content": b'{"time": 1.0, "detections": ['},
         422, "body: not valid JSON"),
        # Bodies the JSON parser gives up on (not UTF-8; nested 5000 deep, where Python's parser stops before
        # 3.12, while later ones read it and find a list where a detection goes): a 422, not a bare 400.
        (client.post, "/v1/scenes/a/observations", {"headers": JSON, "content": '{"time": 1.0, "detections": [{'
         '"agent_id": "é", "x": 1, "y": 1}]}'.encode("latin-1")}, 422, "body: not valid JSON"),
        (client.post, "/v1/scenes/a/observations", {"headers": JSON, "content": b'{"time": 1.0, "detections": ['
         + b"[" * 5000 + b"]" * 5000 + b"]}"}, 422,
         "body: not valid JSON" if sys.version_info < (3, 12) else "detections.0: Input should be a valid dictionary"),
        (client.post, "/v1/scenes/a/observations", {"headers": {"content-type": "text/plain"},
                                                    "content": b'{"time": 1.0, "detections": []}'}, 422,
         "body: send JSON with the header content-type: application/json (got text/plain)"),
        (client.post, "/v1/scenes/a/observations", {"json": {"time": "soon", "detections": []}}, 422, "time:"),
        # No type is guessed: a number as text, or true for 1, is refused as OnlinePredictor refuses it.
        (client.post, "/v1/scenes/a/observations", {"json": {"time": "2.0", "detections": []}}, 422, "time:"),
        (client.post, "/v1/scenes/a/observations", {"json": {"time": True, "detections": []}}, 422, "time:"),
        (client.post, "/v1/scenes/a/observations",
         {"json": {"time": 1.0, "detections": [{"agent_id": "1", "x": "1.5", "y": 0}]}}, 422, "detections.0.x"),
        (client.post, "/v1/scenes/a/observations",
         {"json": {"time": 1.0, "detections": [{"agent_id": "1", "x": 0, "y": 0, "time": 5}]}}, 422,
         "detections.0: 'time' is not allowed in a detection"),  # our own words, as pydantic's are
        (client.post, "/v1/scenes/a/observations",
         {"json": {"time": 1.0, "detections": [{"agent_id": [1], "x": 0, "y": 0}]}}, 422, "detections.0.agent_id"),
        (client.post, "/v1/scenes/a/observations", {"json": {"time": 1.0, "detections": [
            {"agent_id": 1.5, "x": 0, "y": 0}]}}, 422,
         "detections.0.agent_id: must be a text or a whole number (got 1.5)"),
        (client.post, "/v1/scenes/a/observations", {"json": {"time": 1.0, "detections": [
            {"agent_id": "1", "x": None, "y": 0}]}}, 422, "detections.0: column 'x' is empty"),  # sent, as null
        (client.post, "/v1/scenes/a/observations",
         {"json": {"time": 1.0, "detections": [{"agent_id": "1", "x": "abc", "y": 0}]}}, 422, "detections.0.x"),
        (client.post, "/v1/scenes/a/observations",
         {"headers": JSON, "content": b'{"time": 1.0, "detections": [{"agent_id": "1", "x": NaN, "y": 0}]}'}, 422,
         "detections.0.x: Input should be a finite number"),
        (client.post, "/v1/scenes/a/observations",
         {"headers": JSON, "content": b'{"time": 1e999, "detections": []}'}, 422,
         "time: Input should be a finite number"),
        (client.post, "/v1/scenes/a/observations", {"json": {"time": 0.2, "detections": []}}, 409,
         "times must increase; if the clock started again, DELETE /v1/scenes/a first"),
        (client.post, "/v1/scenes/a/observations", {"json": {"frame": 3, "detections": []}}, 422, "--fps"),
        (client.post, "/v1/scenes/a/observations", {"json": {"time": 1.0, "frame": 3, "detections": []}}, 422,
         "time: give either time (seconds) or frame, not both or neither"),
        (client.post, "/v1/scenes/a/observations", {"json": {"detections": []}}, 422,
         "time: give either time (seconds) or frame, not both or neither"),
        # The body limit counts bytes: one over it is refused, by its Content-Length or as it streams in.
        (client.post, "/v1/scenes/a/observations", {"headers": JSON, "content": padded(ok, 20_001)}, 413,
         "body: more than 20000 bytes"),
        (client.post, "/v1/scenes/a/observations", {"headers": JSON, "content": iter([padded(ok, 20_001)[:10_000],
                                                                                       padded(ok, 20_001)[10_000:]])},
         413, "body: more than 20000 bytes"),
        (client.post, "/v1/scenes/a/observations?k=101", {"json": ok}, 422, "k: must be between 1 and 100"),
        (client.post, "/v1/scenes/a/observations",
         {"json": {"time": 1.0, "detections": [{"agent_id": str(i), "x": i, "y": 0} for i in range(51)]}}, 413,
         "51 agents, more than the server's limit of 50"),
        (client.post, "/v1/scenes/a/observations",
         {"json": {"time": 1.0, "detections": [{"agent_id": "1", "x": 0, "y": 0, "pad": "x" * 30_000}]}}, 413,
         "body: more than 20000 bytes"),
        (client.post, "/v1/scenes/a/observations",
         {"json": {"time": 1.0, "detections": [{"agent_id": "1", "x": 0, "y": 0}, {"agent_id": "1", "x": 1, "y": 0}]}},
         422, "duplicate"),
        (client.post, "/v1/scenes/a/observations", {"json": [ok]}, 422, "body: Input should be a valid dictionary"),
        (client.post, "/v1/scenes/a/observations?k=0", {"json": ok}, 422, "k: must be between 1 and 100"),
        (client.post, "/v1/scenes/a b/observations", {"json": ok}, 422, "scene:"),
        (client.post, "/v1/scenes/cam1%2Ftracks/observations", {"json": ok}, 422, "scene: 'cam1/tracks' is not a name"),
        (client.get, "/v1/scenes/cam1%2Ftracks/futures", {}, 422, "scene: 'cam1/tracks' is not a name"),
        (client.delete, "/v1/scenes/cam1%2Ftracks", {}, 422, "scene: 'cam1/tracks' is not a name"),
        (client.get, "/v1/scenes/a/elsewhere", {}, 404, "Not Found"),
        (client.get, "/v1/scenes/a/tracks?seconds=0", {}, 422, "seconds: Input should be greater than 0"),
        # Numbers as the command line reads them: 2_0 is no 20 (Python's int() would say it is).
        (client.post, "/v1/scenes/a/observations?k=2_0", {"json": ok}, 422, "k: '2_0' is not a number as written"),
        (client.post, "/v1/scenes/a/observations?k=5.0", {"json": ok}, 422, "k: '5.0' is not a whole number"),
        (client.post, "/v1/scenes/a/observations?k=1e1", {"json": ok}, 422, "k: '1e1' is not a whole number"),
        (client.get, "/v1/scenes/a/tracks?seconds=1_0", {}, 422, "seconds: '1_0' is not a number as written"),
        # Names of dots alone, which a client's URL would collapse (/v1/scenes/../futures is /v1/futures), and a
        # name ending in a newline.
        (client.post, "/v1/scenes/%2e%2e/observations", {"json": ok}, 422, "scene: '..' is not a name"),
        (client.post, "/v1/scenes/a%0A/observations", {"json": ok}, 422, "scene: 'a\\n' is not a name"),
        (client.get, "/v1/scenes/nowhere/futures", {}, 404, "scene 'nowhere' does not exist"),
        (client.delete, "/v1/scenes/nowhere", {}, 404, "does not exist"),
    ]
    for call, url, kwargs, status, detail in bad:
        r = call(url, **kwargs)
        assert r.status_code == status and detail in r.json()["detail"], (url, kwargs, r.status_code, r.text)
        assert "\n" not in r.json()["detail"]
        assert client.get("/v1/scenes/a/futures").content == before  # scene a as it was
    twice = [{"agent_id": "1", "x": 0, "y": 0}, {"agent_id": "1", "x": 1, "y": 0}]
    r = client.post("/v1/scenes/b/observations", json={"time": 1.0, "detections": twice})
    assert r.status_code == 422 and client.get("/v1/scenes").json()["scenes"] == ["a"]  # no scene made
    r = client.post("/v1/scenes/b/observations", json=ok)
    assert r.status_code == 200 and r.json()["futures"] == []  # one detection: no velocity yet
    b_number = r.json()["scene_number"]
    r = client.post("/v1/scenes/c/observations", json=ok)
    assert r.status_code == 429 and "the server holds 2 scenes, its limit (--max-scenes)" in r.json()["detail"]
    r = client.post("/v1/scenes/a/observations?k=2", json={"time": 0.8, "detections": [
        {"agent_id": "7", "x": 2.2, "y": 2.0}]})
    assert r.status_code == 200 and {f["sample"] for f in r.json()["futures"]} == {0, 1}
    r = client.post("/v1/scenes/a/observations?k=100", headers=JSON, content=padded(
        {"time": 1.2, "detections": [{"agent_id": "7", "x": 2.6, "y": 2.0}]}, 20_000))  # at the limits: taken
    assert r.status_code == 200 and {f["sample"] for f in r.json()["futures"]} == set(range(100)), r.text
    a_numbers = {client.get(f"/v1/scenes/a/{what}").json()["scene_number"] for what in ("futures", "tracks")}
    assert a_numbers == {r.json()["scene_number"]} != {b_number}  # every answer of a scene names it, as one
    assert client.delete("/v1/scenes/b").json() == {"deleted": "b"}
    assert client.get("/healthz").json() == {"status": "ok", "scenes": 1}
    r = client.post("/v1/scenes/b/observations?layout=agents", json=ok)  # b made again: another scene
    assert r.json()["scene_number"] not in a_numbers | {b_number}
    assert client.get("/v1/scenes/b/tracks").json()["scene_number"] == r.json()["scene_number"]
    assert client.delete("/v1/scenes/b").json() == {"deleted": "b"}
    assert "/v1/scenes/{scene}/observations" in client.get("/openapi.json").json()["paths"]
    seconds = client.get("/openapi.json").json()["paths"]["/v1/scenes/{scene}/tracks"]["get"]["parameters"]
    assert {"maximum": 60, "exclusiveMinimum": 0}.items() <= seconds[-1]["schema"]["anyOf"][0].items()  # the bounds
    assert client.get("/docs").status_code == 200
    # The schema's error answers are the server's own: {"detail": "one line"}, for every code a route gives.
    schema = client.get("/openapi.json").json()
    problem = {"$ref": "#/components/schemas/Problem"}
    assert schema["components"]["schemas"]["Problem"]["properties"] == {"detail": {"type": "string", "title": "Detail"}}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    posted = schema["paths"]["/v1/scenes/{scene}/observations"]["post"]["responses"]
    assert {"408", "409", "413", "422", "429", "500"} <= set(posted)
    assert all(posted[code]["content"]["application/json"]["schema"] == problem for code in posted if code != "200")
    assert {"404", "422"} <= set(schema["paths"]["/v1/scenes/{scene}/futures"]["get"]["responses"])
    r = client.post("/v1/scenes/a/observations", json={"time": "x"})
    assert r.status_code == 422 and set(r.json()) == {"detail"} and isinstance(r.json()["detail"], str)
    # The body's example, which the API page's "Try it out" sends, is one the server takes.
    for example in schema["components"]["schemas"]["Observations"]["examples"]:
        assert client.post("/v1/scenes/example/observations", json=example).status_code == 200


def test_the_tracks_the_page_draws_span_the_models_observed_window(pedestrian):
    """GET .../tracks without `seconds` gives the model's observed window (8 steps of its data.dt), as the page
    asks it: a model of 1 s steps draws 8 s of each track, not the 3.2 s of 0.4 s steps."""
    server = pytest.importorskip("trajcvae.server")
    import httpx

    slow = copy.deepcopy(pedestrian)
    slow.config.data.dt, slow.config.data.max_gap = 1.0, 2.0
    with server.running(server.create_app(slow, k=2)) as base, httpx.Client(base_url=base) as client:
        for t in range(13):
            client.post("/v1/scenes/a/observations", json={"time": float(t), "detections": [
                {"agent_id": "7", "x": t, "y": 0}]})
        times = [row["time"] for row in client.get("/v1/scenes/a/tracks").json()["tracks"]]
        assert times == [row["time"] for row in client.get("/v1/scenes/a/tracks?seconds=8").json()["tracks"]]
    assert times[0] == 4.0 and times[-1] == 12.0, times


def padded(body: dict, size: int) -> bytes:
    """`body` as JSON of exactly `size` bytes (spaces after it)."""
    text = json.dumps(body).encode()
    return text + b" " * (size - len(text))


def test_two_scenes_at_once_each_get_their_own_futures(pedestrian):
    """Two trackers post to two scenes concurrently over HTTP on 127.0.0.1: each scene's answers hold its
    own agents only, and equal those of an OnlinePredictor fed the same detections alone."""
    server, app = server_app(pedestrian)
    import httpx

    answers = {}

    def tracker(name: str, offset: float, base: str):
        with httpx.Client(base_url=base) as c:
            for i in range(6):
                t = 0.4 * i
                dets = [{"agent_id": f"{name}{a}", "x": offset + 1.3 * t, "y": a * 1.5} for a in range(3)]
                r = c.post(f"/v1/scenes/{name}/observations", json={"time": t, "detections": dets})
                assert r.status_code == 200, r.text
            answers[name] = r.json()

    with server.running(app) as base:
        threads = [threading.Thread(target=tracker, args=(n, o, base)) for n, o in (("left", 0.0), ("right", 50.0))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert httpx.get(f"{base}/v1/scenes").json()["scenes"] == ["left", "right"]
    alone = OnlinePredictor(pedestrian, k=K, scene="right")
    for i in range(6):
        t = 0.4 * i
        expected = alone.update(t, [(f"right{a}", 50.0 + 1.3 * t, a * 1.5) for a in range(3)])
    for name in ("left", "right"):
        assert {f["agent_id"] for f in answers[name]["futures"]} == {f"{name}{a}" for a in range(3)}
    got = pd.DataFrame(answers["right"]["futures"])
    np.testing.assert_allclose(got[["x", "y"]].to_numpy(), expected[["x", "y"]].to_numpy(), atol=1e-5)


def test_updates_queued_on_one_scene_leave_other_scenes_and_healthz_answered(pedestrian, monkeypatch):
    """A client that posts to one scene without waiting for the answers queues its updates behind that scene's
    lock. They wait there without a worker thread (the server has 40), so another scene's update and /healthz
    are answered meanwhile, and the queued updates are answered once the scene is free."""
    server, app = server_app(pedestrian)
    import httpx

    free, update = threading.Event(), OnlinePredictor.update

    def slow(self, *args, **kwargs):  # the busy scene's first update holds its lock until the test frees it
        if self.scene == "busy":
            free.wait(60)
        return update(self, *args, **kwargs)

    monkeypatch.setattr(OnlinePredictor, "update", slow)
    codes = []

    def post(base: str, i: int):
        with httpx.Client(base_url=base, timeout=120) as c:
            codes.append(c.post("/v1/scenes/busy/observations", json={"time": 0.4 * i, "detections": [
                {"agent_id": "a", "x": 0.5 * i, "y": 0.0}]}).status_code)

    with server.running(app) as base:
        queue = [threading.Thread(target=post, args=(base, i)) for i in range(50)]
        try:
            for th in queue:
                th.start()
            threading.Event().wait(1.5)  # all 50 sent and waiting
            with httpx.Client(base_url=base, timeout=5) as c:
                assert c.get("/healthz").json()["status"] == "ok"
                r = c.post("/v1/scenes/quiet/observations", json={"time": 0.0, "detections": [
                    {"agent_id": "b", "x": 0.0, "y": 0.0}]})
                assert r.status_code == 200, r.text
        finally:
            free.set()
            for th in queue:
                th.join()
    assert len(codes) == 50 and set(codes) <= {200, 409} and 200 in codes, Counter(codes)


def test_the_agents_layout_holds_the_same_futures_one_object_per_agent(pedestrian):
    """?layout=agents (POST and GET) answers with one object per agent: its t0, the P times, x and y as
    K lists of P, its label and, with a K-set, its K weights: the numbers of the default rows layout."""
    server = pytest.importorskip("trajcvae.server")
    import httpx

    app = server.create_app(pedestrian, k=K, kset="kmeans", draws=50)
    with server.running(app) as base, httpx.Client(base_url=base) as client:
        empty = client.post("/v1/scenes/w/observations?layout=agents", json={"time": 0.0, "detections": []})
        assert empty.status_code == 200 and empty.json() == {"time": 0.0, "scene_number": 1, "agents": []}
        for i in range(1, 4):  # agent 9 is missed at the last update: it keeps its futures from 0.8 s
            t = 0.4 * i
            dets = [{"agent_id": "7", "x": 1.0 + t, "y": 2.0, "label": "cyclist"}, {"agent_id": 8, "x": -1.0, "y": 2 - t}]
            dets += [{"agent_id": "9", "x": 3.0, "y": 3.0 + t}] if i < 3 else []
            answer = client.post("/v1/scenes/w/observations?layout=agents", json={"time": t, "detections": dets})
        assert answer.status_code == 200 and client.get("/v1/scenes/w/futures?layout=agents").content == answer.content
        rows = pd.DataFrame(client.get("/v1/scenes/w/futures").json()["futures"])
        bad = client.get("/v1/scenes/w/futures?layout=columns")
    assert bad.status_code == 422 and bad.json()["detail"] == "layout: Input should be 'rows' or 'agents'"
    agents = answer.json()["agents"]
    assert answer.json()["time"] == pytest.approx(1.2) and [a["agent_id"] for a in agents] == ["7", "8", "9"]
    for a in agents:
        mine = rows[rows["agent_id"] == a["agent_id"]]
        assert np.shape(a["x"]) == np.shape(a["y"]) == (K, 12) and len(a["time"]) == 12 and len(a["weight"]) == K
        np.testing.assert_array_equal(np.ravel(a["x"]), mine["x"])
        np.testing.assert_array_equal(np.ravel(a["y"]), mine["y"])
        np.testing.assert_array_equal(np.tile(a["time"], K), mine["time"])
        np.testing.assert_array_equal(a["weight"], mine[mine["step"] == 1]["weight"])
        assert a["label"] == mine["label"].iloc[0]
    assert [a["t0"] for a in agents] == pytest.approx([1.2, 1.2, 0.8]) and agents[0]["label"] == "cyclist"


@pytest.mark.filterwarnings("ignore::trajcvae.TrajCVAEWarning")  # made-up speeds, warned as they should be
def test_a_server_bug_is_a_one_line_500_and_the_server_and_its_connections_go_on(pedestrian, monkeypatch):
    server, app = server_app(pedestrian)
    import httpx

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    ok = {"time": 0.0, "detections": [{"agent_id": "1", "x": 0.0, "y": 0.0}]}
    with server.running(app) as base, httpx.Client(base_url=base) as client:
        monkeypatch.setattr(server, "answer_json", broken)
        for _ in range(2):  # twice on the same kept-alive connection
            r = client.get("/v1/scenes/a/futures") if _ else client.post("/v1/scenes/a/observations", json=ok)
            assert r.status_code == 500 and r.json() == {"detail": "internal error: RuntimeError"}
        monkeypatch.undo()
        r = client.post("/v1/scenes/a/observations", json={**ok, "time": 0.4})  # the scene kept its first update
        assert r.status_code == 200 and len(r.json()["futures"]) == K * 12


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def need_chromium() -> None:
    """Skip a browser test on a machine without Chromium; fail it in CI, which installs it (.ci/run)."""
    if chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI: the browser tests need chromium (.ci/run installs it)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")


def test_api_docs_render_in_a_real_browser_from_the_package_alone(pedestrian):
    """/docs (Swagger UI) loads nothing from the internet, and headless Chromium renders every operation."""
    need_chromium()
    server, app = server_app(pedestrian)
    with server.running(app) as base:
        import httpx

        html = httpx.get(f"{base}/docs").text
        assert "swagger-ui-bundle.js" in html and "http://" not in html and "https://" not in html
        for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
            assert httpx.get(f"{base}/docs/{name}").status_code == 200
        assert httpx.get(f"{base}/docs/app.py").status_code == 404
        shown = httpx.get(f"{base}/docs/openapi.json").json()
        assert shown["paths"] == httpx.get(f"{base}/openapi.json").json()["paths"]
        example = shown["components"]["schemas"]["Observations"]["example"]  # (OpenAPI 3.0's one, for Try it out)
        assert httpx.post(f"{base}/v1/scenes/tried/observations", json=example).status_code == 200
        dom = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                              "--dump-dom", f"{base}/docs"], check=True, capture_output=True, text=True,
                             timeout=60).stdout
    assert "Unable to render" not in dom
    for path in ("/v1/scenes/{scene}/observations", "/v1/scenes/{scene}/futures", "/healthz"):
        assert path.replace("{", "").replace("}", "") in dom.replace("{", "").replace("}", "").replace("\u200b", "")


def test_the_live_page_names_its_script_and_the_api_relative_to_itself_so_a_proxy_may_serve_it_under_a_path():
    """Behind a reverse proxy's path (/live/ forwarded to the server's /), URLs from the root (/static/live.js,
    /v1/scenes) would miss the server: the page waited for a scene forever."""
    from trajcvae.server import STATIC
    page, script = (STATIC / "live.html").read_text(), (STATIC / "live.js").read_text()
    assert 'src="static/live.js"' in page and not re.search(r"""(src|href)=["']/""", page)
    assert re.findall(r"""getJSON\(["'`]([^"'`]*)""", script) and not re.search(r"""getJSON\(["'`]/""", script)
    assert not re.search(r"""fetch\(["'`]/""", script)


@pytest.mark.parametrize("lonlat", [False, True])
def test_live_page_draws_tracks_and_futures_in_a_real_browser(pedestrian, tmp_path, lonlat):
    """Replay a short recorded file (in metres, or in longitude and latitude) into a running server,
    screenshot the live page with headless Chromium, and find the future colour at the futures' end points
    and the track colour at the agents."""
    need_chromium()
    server, app = server_app(pedestrian, lonlat=lonlat)
    data = walkers(n_updates=12, seed=5)
    path = tmp_path / "recorded.csv"
    data = data.assign(x=data.x / 100, y=data.y / 100)
    if lonlat:
        data = to_gps(data, 47.3769, 8.5417)
    data.to_csv(path, index=False, float_format="%.10f")
    updates = server.replay_updates(path, lonlat=lonlat)
    assert [u[1] for u in updates] == sorted(set(data["time"])) and updates[0][0] == "recorded"
    assert server.replay(app.state.scenes, updates, speed=float("inf")) == len(updates)
    futures, tracks, image = page_shot(server, app, "recorded", tmp_path / "live.png")
    if lonlat:  # the page draws degrees in metres east and north of the first track point (static/live.js)
        lon0, lat0 = tracks[0]["lon"], tracks[0]["lat"]
        for p in futures + tracks:
            p["x"] = (p["lon"] - lon0) * 111320 * np.cos(np.radians(lat0))
            p["y"] = (p["lat"] - lat0) * 110574
    near = page_view(image, futures, tracks)[1]
    ends = [f for f in futures if f["step"] == 12]
    assert len(ends) >= 3 * K
    assert np.mean([near(SAMPLE_RGB, f["x"], f["y"]) for f in ends]) > 0.9
    last = pd.DataFrame(tracks).groupby("agent_id").last()
    assert np.mean([near(HISTORY_RGB, x, y) for x, y in zip(last.x, last.y)]) > 0.9
    red = (np.abs(image - np.array(SAMPLE_RGB)).sum(-1) < 60).sum()
    assert red > 200


@pytest.mark.parametrize("between_polls", [False, True])
def test_the_live_page_forgets_a_deleted_scene_and_draws_it_made_again_in_a_view_of_its_own(pedestrian, tmp_path,
                                                                                            between_polls):
    """The page watches a scene that is deleted (a camera's clock started again) and posted again 100 m away:
    the deleted scene's tracks and futures leave the page, and the new scene is drawn in a view fitted to it,
    not in the old one's corner. So too when it is deleted and posted again between two polls, its clock later
    than the old one's: its answers' scene_number tells it from the old scene."""
    need_chromium()
    server, app = server_app(pedestrian)
    scenes = app.state.scenes

    def walk(x0: float, apart: float, t0: float = 0.0):  # three walkers side by side, `apart` metres apart
        for i in range(10):
            scenes.observe("cam", t0 + 0.4 * i, [{"agent_id": a, "x": x0 + 0.5 * i, "y": apart * a} for a in range(3)])

    walk(0.0, 2.0)
    polls = []

    @app.middleware("http")
    async def script(request, call_next):  # the page's 3rd poll finds the scene deleted, its 5th made again
        if request.url.path.endswith("/futures"):
            polls.append(request.url.path)  # (the first: page_shot's own)
            if between_polls and len(polls) == 4:  # the 3rd poll finds the new scene, 10 s later than the old
                scenes.delete("cam")
                walk(100.0, 5.0, t0=10.0)
            elif len(polls) == 4:
                scenes.delete("cam")
            elif len(polls) == 6 and not between_polls:
                walk(100.0, 5.0)
        return await call_next(request)

    futures, tracks, image = page_shot(server, app, "cam", tmp_path / "live.png")
    assert len(polls) >= 7, polls
    futures, tracks = scenes.get("cam").shown.futures, scenes.get("cam").predictor.tracks()
    near = page_view(image, futures.to_dict("records"), tracks.to_dict("records"))[1]
    assert all(near(HISTORY_RGB, x, y) for x, y in tracks.groupby("agent_id")[["x", "y"]].last().to_numpy())
    ends = futures[futures.step == 12]
    assert np.mean([near(SAMPLE_RGB, x, y) for x, y in zip(ends.x, ends.y)]) > 0.9


def test_the_live_pages_view_lets_a_stray_detection_go_once_it_is_old(pedestrian, tmp_path):
    """One detection 500 m off (a tracker's ghost) widens the page's view while it is recent; 10 s of the
    scene's clock later the view holds the walkers again, drawn as large as in a scene without it."""
    need_chromium()
    blue = {}
    for stray in (False, True):
        server, app = server_app(pedestrian)
        scenes, polls, clock = app.state.scenes, [], [0.0]

        @app.middleware("http")
        async def script(request, call_next, stray=stray, scenes=scenes, polls=polls, clock=clock):
            if request.url.path.endswith("/futures"):  # each poll: 2 s more of three walkers, 2 m apart
                polls.append(1)
                for _ in range(5):
                    t = clock[0]
                    seen = [{"agent_id": a, "x": 1.25 * t, "y": 2.0 * a} for a in range(3)]
                    if stray and len(polls) == 3:
                        seen.append({"agent_id": "ghost", "x": 500.0, "y": 500.0})
                    scenes.observe("cam", t, seen)
                    clock[0] = round(t + 0.4, 6)
            return await call_next(request)

        shot = page_shot(server, app, "cam", tmp_path / "live.png")[2]
        assert clock[0] > 20, clock  # the ghost 4-6 s in, the page's last update 14 s after it or more
        blue[stray] = int((np.abs(shot - np.array(HISTORY_RGB)).sum(-1) < 60).sum())
    assert blue[True] > 0.5 * blue[False] > 0, blue  # (a view 500 m wide draws them in a few pixels)


SAMPLE_RGB, HISTORY_RGB = (214, 39, 40), (31, 119, 180)  # static/live.js: SAMPLE_COLOR #d62728, HISTORY_COLOR


def page_shot(server, app, scene: str, shot: Path):
    """The scene's futures and tracks as the API answers them, and the live page's screenshot (800 x 600,
    headless Chromium) as an (H, W, 3) array of 0-255 colours."""
    with server.running(app) as base:
        import httpx

        futures = httpx.get(f"{base}/v1/scenes/{scene}/futures").json()["futures"]
        tracks = httpx.get(f"{base}/v1/scenes/{scene}/tracks").json()["tracks"]
        subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=800,600", "--virtual-time-budget=4000", f"--screenshot={shot}",
                        f"{base}/?scene={scene}"], check=True, capture_output=True, timeout=60)
    import matplotlib.image

    return futures, tracks, (matplotlib.image.imread(shot)[..., :3] * 255).astype(int)


def page_view(image, futures: list[dict], tracks: list[dict], down: bool = False):
    """The page's view (static/live.js: the tracks and the future points within REACH times the tracks' extent
    (or the farthest-going track's length, or a quarter of the futures') of them, fitted into the canvas below
    the 40 px header, equal axes, y up, or `down` for an image's pixels): `to_pixel(x, y)` -> (row, column), and
    `near(colour, x, y)`: whether the colour is drawn there."""
    def gone(path):
        return float(np.hypot(path[-1]["x"] - path[0]["x"], path[-1]["y"] - path[0]["y"])) if len(path) > 1 else 0.0

    paths = {}
    for f in sorted(futures, key=lambda f: f["step"]):
        paths.setdefault((f["agent_id"], f["sample"]), []).append(f)
    paths = {key: path[:next((i for i, f in enumerate(path) if f["x"] is None), len(path))]
             for key, path in paths.items()}
    agents = {}
    for p in tracks:
        agents.setdefault(p["agent_id"], []).append(p)
    seen = np.array([[p["x"], p["y"]] for p in tracks])
    spans = sorted(map(gone, paths.values()))
    reach = 3 * max([float(np.hypot(*np.ptp(seen, axis=0))), *map(gone, agents.values()),
                     spans[len(spans) // 4] if spans else 0.0])  # live.js's REACH
    lo, hi = seen.min(0) - reach, seen.max(0) + reach
    points = tracks + [f for path in paths.values() for f in path
                       if (lo <= [f["x"], f["y"]]).all() and ([f["x"], f["y"]] <= hi).all()]
    pts = np.array([[p["x"], p["y"]] for p in points])
    lo, hi = pts.min(0), pts.max(0)
    W, H = 800, 600 - 40
    scale = min((W - 60) / (hi[0] - lo[0]), (H - 60) / (hi[1] - lo[1]))
    up = -1 if down else 1
    to_pixel = lambda x, y: (int(round(40 + H / 2 - up * (y - (lo[1] + hi[1]) / 2) * scale)),  # noqa: E731
                             int(round(W / 2 + (x - (lo[0] + hi[0]) / 2) * scale)))

    def near(colour, x, y):
        r, c = to_pixel(x, y)
        patch = image[max(r - 2, 0):r + 3, max(c - 2, 0):c + 3]
        return bool((np.abs(patch - np.array(colour)).sum(-1) < 60).any())
    return to_pixel, near


def test_the_live_page_draws_futures_up_to_a_homographys_horizon(pedestrian, tmp_path):
    """Futures that pass a camera's horizon have no pixel there (null): the page draws each up to it, with no
    end dot, and leaves the missing points out of its view (not at pixel (0, 0))."""
    need_chromium()
    server = pytest.importorskip("trajcvae.server")
    # Pixels -> metres, the horizon at v = 650, and pixel (0, 0) away from the agents.
    H = np.array([[0.02, 0, 0], [0, 0.02, 0], [0, -0.004, 1]]) @ np.array([[1, 0, -600], [0, 1, -400], [0, 0, 1]])
    np.savetxt(tmp_path / "H.txt", H)
    G = np.linalg.inv(H)
    app = server.create_app(pedestrian, k=K, homography=tmp_path / "H.txt")
    for i in range(10):  # a walks towards the horizon (metres y = -5), b across the ground well before it
        pixels = [G @ [1.0, -1.0 - 0.25 * i, 1.0], G @ [2.0 + 0.5 * i, 3.0, 1.0]]
        app.state.scenes.observe("cam", 0.4 * i, [{"agent_id": a, "x": p[0] / p[2], "y": p[1] / p[2]}
                                                  for a, p in zip("ab", pixels)])
    futures, tracks, image = page_shot(server, app, "cam", tmp_path / "live.png")
    cut = {(f["agent_id"], f["sample"]) for f in futures if f["x"] is None}
    assert any(a == "a" for a, _ in cut) and not any(a == "b" for a, _ in cut)
    drawn = [f for f in futures if f["x"] is not None]
    to_pixel, near = page_view(image, futures, tracks, down=True)  # a camera's pixels: y down, as its video
    assert near(HISTORY_RGB, tracks[-1]["x"], tracks[-1]["y"]) and not page_view(image, futures, tracks)[1](
        HISTORY_RGB, min(tracks, key=lambda p: p["y"])["x"], min(tracks, key=lambda p: p["y"])["y"])
    ends = [f for f in drawn if f["step"] == 12 and 40 <= to_pixel(f["x"], f["y"])[0] < 600
            and 0 <= to_pixel(f["x"], f["y"])[1] < 800]  # (one far past the tracks may lie off the canvas)
    assert len(ends) >= 3 and np.mean([near(SAMPLE_RGB, f["x"], f["y"]) for f in ends]) > 0.9
    rows, cols = zip(*(to_pixel(p["x"], p["y"]) for p in drawn + tracks))
    red = np.argwhere((np.abs(image - np.array(SAMPLE_RGB)).sum(-1) < 60))
    outside = (red[:, 0] < min(rows) - 5) | (red[:, 0] > max(rows) + 5) | (red[:, 1] < min(cols) - 5) | (
        red[:, 1] > max(cols) + 5)
    assert len(red) > 30 and outside.sum() == 0  # end dots, none where no future goes


def test_the_live_pages_view_keeps_the_tracks_in_sight_when_a_future_nears_a_low_cameras_horizon(pedestrian,
                                                                                                  tmp_path):
    """A low camera (its plane a metre from the walkers): a future point that nears it has pixels in the
    thousands or millions, and a view fitted to every point drew the tracks in a few pixels. Futures widen the
    view only a few times the tracks' extent past them."""
    need_chromium()
    server = pytest.importorskip("trajcvae.server")
    G = np.array([[100.0, 0, 400], [0, 100.0, 300], [0, 1.0, 1.0]])  # metres -> pixels: w = y + 1, 0 at y = -1
    np.savetxt(tmp_path / "H.txt", np.linalg.inv(G))
    app = server.create_app(pedestrian, k=K, homography=tmp_path / "H.txt")
    for i in range(10):  # a walks towards the camera's plane (y = -1), b across well before it
        metres = [(0.0, 3.0 - 0.2 * i), (-2.0 + 0.5 * i, 4.0)]
        pixels = [G @ [x, y, 1.0] for x, y in metres]
        app.state.scenes.observe("low", 0.4 * i, [{"agent_id": a, "x": p[0] / p[2], "y": p[1] / p[2]}
                                                  for a, p in zip("ab", pixels)])
    futures, tracks, image = page_shot(server, app, "low", tmp_path / "live.png")
    far = max(abs(f["x"]) + abs(f["y"]) for f in futures if f["x"] is not None)
    near = max(abs(p["x"]) + abs(p["y"]) for p in tracks)
    assert far > 20 * near  # a future point far beyond the tracks, as the camera's plane makes them
    blue = np.argwhere((np.abs(image - np.array(HISTORY_RGB)).sum(-1) < 60))
    assert len(blue) and np.ptp(blue[:, 1]) > 100  # the tracks drawn across the view, not in a few pixels


def test_serve_serves_the_futures_asked_for(monkeypatch):
    """`trajcvae serve --futures full` serves full draws: its scenes are predicted so, and /v1/scenes says so."""
    pytest.importorskip("fastapi")
    from trajcvae import server
    served = {}
    monkeypatch.setattr(server, "_run", lambda app, sock: served.update(app=app) or sock.close())  # no server
    for futures in ("full", "mean"):
        assert cli("serve", "pedestrian", "--port", 0, "--futures", futures).exit_code == 0
        with server.running(served["app"]) as base:
            import httpx
            assert httpx.get(f"{base}/v1/scenes").json()["futures"] == futures
        assert served["app"].state.scenes.get("lobby", create=True).predictor.future_kind == futures


def test_serve_warns_about_a_replay_file_whose_speeds_are_no_walkers(tmp_path, sim_files, monkeypatch):
    """A replayed file goes in as detections in the server's units: one in centimetres, replayed without
    --scale, gets the warning `predict` gives it, in the log and in its scene's answers."""
    pytest.importorskip("fastapi")
    from trajcvae import checks, errors, server
    served = {}
    monkeypatch.setattr(server, "_run", lambda app, sock: served.update(app=app) or sock.close())  # no server,
    monkeypatch.setattr(server, "replay", lambda *args, **kwargs: 0)  # and no replay thread left running
    df = pd.read_csv(sim_files["test"])
    both = pd.concat([df.assign(x=df.x * 100, y=df.y * 100)] + [df.assign(scene=f"metres{i}") for i in range(3)])
    both.to_csv(tmp_path / "cm.csv", index=False)
    r = cli("serve", "pedestrian", "--replay", tmp_path / "cm.csv", "--speed", 1000)
    assert r.exit_code == 0, r.output
    assert "warning: the median speed of scene 'test0' (" in r.output and "--scale" in r.output
    def observe(name):  # as the server answers while `trajcvae serve` runs (its messages name its options)
        errors.cli_wording(True)
        try:
            return json.loads(served["app"].state.scenes.observe(name, 0.0, [{"agent_id": "1", "x": 0.0, "y": 0.0}]))
        finally:
            errors.cli_wording(False)

    assert observe("test0")["warnings"][0].startswith("the median speed of the tracks is")
    assert "warnings" not in observe("metres0")  # each scene gets its own detections' warning (test0 is in cm)
    import httpx
    with server.running(served["app"]) as base:
        assert httpx.delete(f"{base}/v1/scenes/test0").status_code == 200
    assert "warnings" not in observe("test0")  # made again: a new scene, judged as one
    # A file of one scene: its scene's warning is the file's, judged once.
    df.assign(x=df.x * 100, y=df.y * 100).to_csv(tmp_path / "one.csv", index=False)
    judged = []
    monkeypatch.setattr(server, "plausibility", lambda *a, **k: judged.append(1) or checks.plausibility(*a, **k))
    r = cli("serve", "pedestrian", "--replay", tmp_path / "one.csv", "--speed", 1000)
    line = next(x for x in r.output.splitlines() if x.startswith("warning: the median speed of the tracks is"))
    assert observe("test0")["warnings"] == [line.removeprefix("warning: ")] and len(judged) == 1


@pytest.mark.filterwarnings("ignore::trajcvae.errors.TrajCVAEWarning")  # the server's log line: asked for here
def test_a_scenes_warnings_come_in_its_answers_and_on_the_live_page(pedestrian):
    """A scene's warnings (an id that jumped, as `OnlinePredictor` gives them: its history cut at the jump at
    once, the jump itself named once its check has the moves around it) come in every answer of the scene from
    the update that gave them on, in both layouts, and the live page shows them; a scene without any has no
    "warnings" in its answers."""
    server, app = server_app(pedestrian)
    import httpx

    with server.running(app) as base, httpx.Client(base_url=base) as c:
        for i in range(9):
            t = round(0.4 * i, 6)
            for name in ("calm", "jumpy"):
                jump = 6.0 if name == "jumpy" and i >= 5 else 0.0  # a1's id goes to someone 6 m away at t = 2
                dets = [{"agent_id": f"a{a}", "x": 1.2 * t, "y": 3.0 * a + jump * (a == 1)} for a in range(4)]
                answer = c.post(f"/v1/scenes/{name}/observations", json={"time": t, "detections": dets}).json()
                assert len(answer.get("warnings", [])) == (name == "jumpy") * ((i >= 5) + (i >= 8)), (name, i)
        said = answer["warnings"]
        assert said[0].startswith("1 of 4 agents ('a1') observed a history the model's frame cannot hold whole")
        assert said[1].startswith("1 track jumps: agent 'a1' in scene 'jumpy' moves 6.02 m")  # 1.2 s after it
        assert c.get("/v1/scenes/jumpy/futures?layout=agents").json()["warnings"] == said
        assert "warnings" not in c.get("/v1/scenes/calm/futures").json()
        need_chromium()
        dom = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000",
                              "--dump-dom", f"{base}/?scene=jumpy"], check=True, capture_output=True, text=True,
                             timeout=60).stdout
    assert "warning: 1 track jumps: agent 'a1' in scene 'jumpy'" in dom.replace("&#39;", "'")


def test_a_live_warning_naming_an_id_that_holds_a_line_break_is_one_line(pedestrian):
    """An agent id may hold a line break (an id is text as given); the warnings naming it write it as \\n."""
    live = OnlinePredictor(pedestrian, k=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(25):
            live.update(0.4 * i, [{"agent_id": "a\nb", "x": 0.5 * i + 60.0 * (i >= 10), "y": 0.0},
                                  {"agent_id": "c", "x": 3.0, "y": 0.5 * i}])
    said = [str(w.message) for w in caught]
    assert any("agent 'a\\nb' in scene 'live' moves 60.5 m" in line for line in said), said
    assert all("\n" not in line for line in said + live.warnings), said


def test_serve_refuses_a_replay_of_more_scenes_than_it_holds_at_start(tmp_path, sim_files, monkeypatch):
    """A replay of more scenes than --max-scenes is refused before the server starts (each update of the scenes
    past the limit was refused in the log, one line an update)."""
    pytest.importorskip("fastapi")
    from trajcvae import server

    monkeypatch.setattr(server, "_run", lambda app, sock: sock.close())  # (were it served: gone at once)
    monkeypatch.setattr(server, "replay", lambda *args: None)
    df = pd.read_csv(sim_files["test"])
    pd.concat([df.assign(scene=f"s{i}") for i in range(3)]).to_csv(tmp_path / "three.csv", index=False)
    r = cli("serve", "pedestrian", "--port", 0, "--replay", tmp_path / "three.csv", "--max-scenes", 2)
    assert r.exit_code == 1 and r.output.strip().splitlines()[-1] == (
        f"error: --replay {tmp_path / 'three.csv'}: 3 scenes, more than --max-scenes 2 held at once; give "
        "--max-scenes 3 or more"), r.output


def test_serve_ends_its_replay_before_it_exits(tmp_path, sim_files, monkeypatch):
    """When the server stops (Ctrl-C, SIGTERM), the replay is told to stop and waited for: a process that
    exits while the replay's thread is inside torch aborts (exit 134, "terminate called ...")."""
    pytest.importorskip("fastapi")
    from trajcvae import server
    ended = []

    def replay(scenes, updates, speed, log, stop):
        ended.append(stop.wait(10))  # until the server has stopped

    monkeypatch.setattr(server, "_run", lambda app, sock: sock.close())
    monkeypatch.setattr(server, "replay", replay)
    r = cli("serve", "pedestrian", "--port", 0, "--replay", sim_files["test"])
    assert r.exit_code == 0 and ended == [True], r.output


def test_a_replay_update_that_fails_unexpectedly_ends_the_replay_in_one_logged_line():
    """A replayed update refused (a 4xx) is logged and skipped; one that fails otherwise ends the replay with one
    line in the log, the server going on."""
    import math

    from fastapi import HTTPException

    from trajcvae.server import replay

    class Scenes:
        def observe(self, scene, t, detections, layout):
            if t == 0.4:
                raise HTTPException(409, "refused")
            if t == 1.2:
                raise RuntimeError("boom\nand more")

    logged = []
    updates = [("a", t, []) for t in (0.0, 0.4, 0.8, 1.2, 1.6)]
    assert replay(Scenes(), updates, speed=math.inf, log=logged.append) == 2
    assert logged == ["replay: a at 0.4 s refused: refused",
                      "replay: a at 1.2 s failed (RuntimeError: boom); the replay stops after 2 updates"], logged
    # A gap of a stray stamp (an unset clock's 0 before Unix times) is skipped, not waited through for 55 years.
    logged.clear()
    updates = [("a", 0.0, [])] + [("a", 1.7e9 + 0.4 * i, []) for i in range(3)]
    waits = []

    class Stop(threading.Event):
        def wait(self, timeout=None):
            waits.append(timeout)
            return False

    assert replay(Scenes(), updates, speed=1.0, log=logged.append, stop=Stop()) == 4
    assert max(waits) < 1.0 and logged == [
        "replay: a at 1700000000 s comes 1700000000 s after the update before it, at 0 s: sent at once (gaps over 60 "
        "s are not waited through)",
        "replay: done, 4 of 4 updates taken"], (waits, logged)


def test_a_stalled_request_body_gets_a_408_so_a_stopped_server_exits(pedestrian, monkeypatch):
    """A client that sends half a request body and stalls gets a one-line 408 after STALLED seconds (its
    connection holds nothing longer), so a server told to stop (SIGTERM, Ctrl-C) answers it and exits."""
    server, app = server_app(pedestrian)
    import socket

    monkeypatch.setattr(server, "STALLED", 0.25)
    sock = server._listen("127.0.0.1", 0)
    uv = server._server(app)
    serving = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    serving.start()
    body = b'{"time": 1.0, "detections": [{"agent_id": "1", "x": 1.0, "y": 2.0}]}'
    head = (b"POST /v1/scenes/a/observations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    with socket.create_connection(sock.getsockname()[:2], timeout=5) as client:
        client.sendall(head + body[:20])
        answer = ""
        while "}" not in answer:  # the head and the JSON body may come in separate packets
            part = client.recv(4096).decode()
            answer += part
            assert part, answer
        assert answer.startswith("HTTP/1.1 408") and '"detail":"body: no bytes for 0.25 s after 20 (a stalled ' \
            'client); send the whole body"' in answer, answer
    with socket.create_connection(sock.getsockname()[:2], timeout=5) as client:
        client.sendall(head + body[:20])
        while not uv.server_state.connections:
            threading.Event().wait(0.02)
        uv.should_exit = True  # what uvicorn's SIGTERM and SIGINT handlers do
        serving.join(10)
        assert not serving.is_alive()
    sock.close()


def test_serve_on_port_0_listens_on_a_free_port_and_names_it(monkeypatch):
    """The address the server names is listening by then: a client that connects as soon as it reads it
    waits in the backlog for the server, it is not refused. Its connections are TCP sockets, on which asyncio
    turns Nagle's algorithm off (else a small answer on a kept-alive connection waits ~40 ms for an ACK)."""
    pytest.importorskip("fastapi")
    import socket

    from trajcvae import server
    served = {}

    def run(app, sock):
        served["port"] = sock.getsockname()[1]
        with sock, socket.create_connection(("127.0.0.1", served["port"]), timeout=5):
            connection = sock.accept()[0]
            served["tcp"] = connection.proto == socket.IPPROTO_TCP  # what asyncio's _set_nodelay asks
            connection.close()

    monkeypatch.setattr(server, "_run", run)
    r = cli("serve", "pedestrian", "--port", 0)
    assert r.exit_code == 0 and served["port"] > 0 and f"http://127.0.0.1:{served['port']} " in r.output, r.output
    assert served["tcp"]
    # An IPv6 host is named as a browser takes it, in brackets.
    monkeypatch.setattr(server, "_run", lambda app, sock: served.update(port=sock.getsockname()[1]) or sock.close())
    try:
        with socket.socket(socket.AF_INET6) as v6:
            v6.bind(("::1", 0))
    except OSError:
        return  # no IPv6 here
    r = cli("serve", "pedestrian", "--host", "::1", "--port", 0)
    assert r.exit_code == 0 and f"http://[::1]:{served['port']} " in r.output, r.output


def test_live_futures_past_a_homographys_horizon_have_no_pixel_and_a_detection_past_it_is_refused(pedestrian, tmp_path):
    """As `predict --homography`: the first detections say which side of the horizon the ground is on, a
    detection on the other side is refused, and futures that cross it come back empty (null in JSON)."""
    from trajcvae.server import answer_json

    H = np.array([[0.02, 0, 0], [0, 0.02, 0], [0, -0.004, 1]])  # pixels -> metres; the horizon at v = 250
    np.savetxt(tmp_path / "H.txt", H)
    G = np.linalg.inv(H)
    live = OnlinePredictor(pedestrian, k=3, homography=tmp_path / "H.txt")
    for i in range(12):  # walking towards the horizon (metres y = -5)
        p = G @ [1.0, -1.0 - 0.2 * i, 1.0]
        futures = live.update(0.4 * i, [{"agent_id": "a", "x": p[0] / p[2], "y": p[1] / p[2]}])
    empty = futures.x.isna()
    assert empty.any() and (empty == futures.y.isna()).all()
    shown = futures[~empty]
    ground = np.c_[shown.x, shown.y, np.ones(len(shown))] @ H.T
    assert (ground[:, 2] > 0).all() and (ground[:, 1] / ground[:, 2] > -5.0).all()  # on the ground's side
    assert b"null" in answer_json(live.time, futures)
    with pytest.raises(TrajCVAEError, match="past the homography's horizon"):
        live.update(5.0, [{"agent_id": "b", "x": 10.0, "y": 300.0}])
    assert live.time == pytest.approx(4.4)
    # A replayed file's pixel past the horizon is refused by its line at start, as `predict` refuses it.
    pd.DataFrame({"time": [0.0, 0.4, 0.8], "agent_id": "a", "x": 10.0, "y": [100.0, 110.0, 300.0]}).to_csv(
        tmp_path / "r.csv", index=False)
    from trajcvae.server import replay_updates
    with pytest.raises(TrajCVAEError, match=r"^--replay .*r.csv line 4: position \(10, 300\) is past the "
                                            r"homography's horizon"):
        replay_updates(tmp_path / "r.csv", homography=tmp_path / "H.txt")


def test_a_state_taken_before_keeps_reading_after_agents_are_forgotten_and_types_stay_whole(pedestrian):
    live = OnlinePredictor(pedestrian, k=2)
    live.update(0.0, [("a", 0.0, 0.0)])
    live.update(0.4, [("a", 0.5, 0.0)])
    before = live.state()
    newcomer = live.update(1000.0, [("b", 3.0, 3.0)])  # "a" is forgotten
    assert len(live.tracks(state=before)) == 2
    # An update whose only agents are new keeps the futures' integer columns (JSON 0, not 0.0).
    live.update(1000.4, [("b", 3.5, 3.0)])
    assert newcomer.dtypes["sample"] == np.int64 and live.update(1000.8, [("c", 9.0, 9.0)]).dtypes["step"] == np.int64


@pytest.fixture(scope="module")
def never_failed(pedestrian):
    """The walkers' updates given to a predictor that never failed: its answers, and the predictor after them
    (the same for every failure the test below tries, so it is run once)."""
    data = walkers(30)
    clean = OnlinePredictor(pedestrian, k=3, calibrate="scene", forget_after=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajCVAEWarning)  # made-up speeds, warned as they should be
        answers = [clean.update(t, data[data["time"] == t][["agent_id", "x", "y", "label"]])
                   for t in np.unique(data["time"])]
    return data, answers, clean


@pytest.mark.filterwarnings("ignore::trajcvae.TrajCVAEWarning")  # made-up speeds, warned as they should be
@pytest.mark.parametrize("failure", [MemoryError, KeyboardInterrupt])
def test_an_update_that_fails_half_way_leaves_the_predictor_as_it_was(pedestrian, monkeypatch, failure, never_failed):
    """An update that fails after its checks (no memory, Ctrl-C in a notebook) changes nothing: the same
    detections given again give what a predictor that never failed gives, calibration's past included."""
    data, answers, clean = never_failed
    times = np.unique(data["time"])
    failed = OnlinePredictor(pedestrian, k=3, calibrate="scene", forget_after=1.0)
    for i, t in enumerate(times):
        rows = data[data["time"] == t][["agent_id", "x", "y", "label"]]
        if i in (5, 26):  # agents arrive at 5; windows finish by 26
            with monkeypatch.context() as m:
                m.setattr(OnlinePredictor, "_futures", lambda *a, **k: (_ for _ in ()).throw(failure()))
                with pytest.raises(failure):
                    failed.update(t, rows)
            assert failed.time == times[i - 1]
        got, expected = failed.update(t, rows), answers[i]
        assert got.equals(expected)
    assert failed.tracks(history=100).equals(clean.tracks(history=100)) and len(failed.past.done)
    assert all(np.array_equal(getattr(failed.past, f), getattr(clean.past, f)) for f in ("scene", "done", "levels"))


def test_a_k_the_k_set_sampler_cannot_make_is_refused_before_the_update_changes_anything(pedestrian):
    live = OnlinePredictor(pedestrian, k=20, kset="learned", draws=50)
    live.update(0.0, [("a", 0.0, 0.0)])
    with pytest.raises(TrajCVAEError, match="makes 20 futures"):
        live.update(0.4, [("a", 0.5, 0.0)], k=5)
    assert live.time == 0.0 and live.rows == 1
    # Over HTTP the refusal names the request's k, not a command-line option or the model's file.
    server = pytest.importorskip("trajcvae.server")
    import httpx

    with server.running(server.create_app(pedestrian, kset="learned", draws=50)) as base:
        r = httpx.post(f"{base}/v1/scenes/s/observations?k=5", json={"time": 0.0, "detections": []})
        scenes = httpx.get(f"{base}/v1/scenes").json()["scenes"]
    assert r.status_code == 422 and scenes == []
    assert r.json()["detail"] == "k: the server's learned K-set makes 20 futures per agent; send k=20 or no k"
    with server.running(server.create_app(pedestrian, kset="kmeans", draws=50)) as base:
        r = httpx.post(f"{base}/v1/scenes/s/observations?k=60", json={"time": 0.0, "detections": []})
    assert r.status_code == 422 and r.json()["detail"] == ("k: the server's K-sets are made of 50 plain draws "
                                                           "(--draws), so k must be at most 50; got 60")


def test_a_replay_reads_a_file_as_predict_does_with_the_models_training_rate(tmp_path):
    """A model's training rate (data.fps) reads frame ids of no known rate, as `predict` reads them: it does
    not make a frame counter beside a time column the clock; --fps does, its times rounded to the microsecond
    as the futures' are (0.3, not 0.30000000000000004)."""
    server = pytest.importorskip("trajcvae.server")
    log = pd.DataFrame({"frame": [0, 3, 6], "time": [0.0, 0.4, 0.8], "agent_id": 1, "x": [0.0, 0.5, 1.0], "y": 0.0})
    log.to_csv(tmp_path / "log.csv", index=False)
    assert [t for _, t, _ in server.replay_updates(tmp_path / "log.csv", default_fps=10)] == [0.0, 0.4, 0.8]
    assert [t for _, t, _ in server.replay_updates(tmp_path / "log.csv", fps=10)] == [0.0, 0.3, 0.6]


def test_a_replay_reads_a_file_as_the_served_model_reads_one_for_predict(pedestrian, tmp_path, sim_files):
    """Given the served model, a replay is read as `predict` reads a file: refused where no gap the model
    bridges joins two samples (a log every 2 s gave no futures, in silence), with its hints for a file read without
    the classes it was trained with (followed by --classes), and its training rate named where it reads frame
    ids."""
    server = pytest.importorskip("trajcvae.server")
    df = pd.read_csv(sim_files["test"])
    df[df.frame % 50 == 0].assign(time=lambda d: d.frame / 25).drop(columns="frame").to_csv(tmp_path / "2s.csv",
                                                                                            index=False)
    with pytest.raises(TrajCVAEError, match=r"^--replay .*2s.csv: no usable windows: .* sampled every 2 s .*give "
                                            r"TrajCVAE\.load\(\.\.\., max_gap=3\) "):
        server.replay_updates(tmp_path / "2s.csv", model=pedestrian)
    assert server.replay_updates(tmp_path / "2s.csv", model=pedestrian.bridging(3))
    df.assign(time=lambda d: d.frame * 40).drop(columns="frame").to_csv(tmp_path / "ms.csv", index=False)
    with pytest.raises(TrajCVAEError, match=r"^--replay .*ms.csv: no usable windows: .* sampled every 400 s .*Read "
                                            r"with columns time_ms=time, its samples would come 0.4 s apart"):
        server.replay_updates(tmp_path / "ms.csv", model=pedestrian)  # (samples far apart, as read in seconds)
    # Frame ids of no known rate become seconds in a replay, whose live predictors bridge their gaps: a
    # --max-gap is no mistake there, as it is for predict.
    df.to_csv(tmp_path / "frames.csv", index=False)
    with pytest.raises(TrajCVAEError, match="^max_gap=1.5: the frame ids have no known rate"):
        pedestrian.bridging(1.5).read([tmp_path / "frames.csv"])
    assert server.replay_updates(tmp_path / "frames.csv", model=pedestrian.bridging(1.5)) == \
        server.replay_updates(tmp_path / "frames.csv", model=pedestrian)
    cars = copy.copy(pedestrian)
    cars.config = copy.deepcopy(pedestrian.config)
    cars.config.data.classes, cars.config.data.fps = "car", 25.0
    df.assign(label=np.where(df.agent_id % 2 == 0, "car", "pedestrian")).to_csv(tmp_path / "l.csv", index=False)
    said, each = [], {}
    everyone = server.replay_updates(tmp_path / "l.csv", model=cars, log=said.append, scene_warnings=each)
    assert said[0] == (f"replay: {tmp_path / 'l.csv'}: frame ids read at the model's training rate, 25 a second: give "
                       "--fps if they count another")
    hint = ("warning: the model was trained on agents labelled car (data.classes), and these tracks also hold "
            "pedestrian: give --classes car to predict for those only")
    assert said[1] == hint and each == {"test0": [hint]}
    said = []
    only = server.replay_updates(tmp_path / "l.csv", model=cars, log=said.append, classes="car")
    assert len(said) == 1 and {d["label"] for _, _, ds in only for d in ds} == {"car"}
    assert sum(map(len, (ds for _, _, ds in only))) == (df.agent_id % 2 == 0).sum() < sum(
        map(len, (ds for _, _, ds in everyone)))
    one_line_error(cli("serve", "pedestrian", "--classes", "car"), "--classes: picks the --replay file's agents")


def test_a_replayed_files_scene_names_are_names_the_api_takes(tmp_path, sim_files):
    from trajcvae.server import SCENE_NAME, replay_updates
    import re

    odd = tmp_path / "crowd café (1).csv"
    pd.read_csv(sim_files["test"]).drop(columns="scene").to_csv(odd, index=False)
    scenes = {scene for scene, _, _ in replay_updates(odd)}
    assert scenes == {"crowd_caf___1_"} and all(re.fullmatch(SCENE_NAME, s) for s in scenes)
    # Scenes whose names differ only in characters the API refuses stay apart.
    df = pd.read_csv(sim_files["test"])
    two = pd.concat([df.assign(scene="a b"), df.assign(scene="a?b"), df.assign(scene="a_b_2")])
    two.to_csv(tmp_path / "two.csv", index=False)
    scenes = {scene for scene, _, _ in replay_updates(tmp_path / "two.csv")}
    assert len(scenes) == 3 and all(re.fullmatch(SCENE_NAME, s) for s in scenes)
    # A scene named "..", which a client's URL would collapse to the scenes' parent.
    df.assign(scene="..").to_csv(tmp_path / "dots.csv", index=False)
    assert {scene for scene, _, _ in replay_updates(tmp_path / "dots.csv")} == {"__"}


def test_gps_detections_give_the_futures_of_predict_on_the_gps_file_online_and_over_http(pedestrian, tmp_path):
    """With lonlat, detections and futures are longitudes and latitudes: the futures of `predict` on the
    same GPS file, to the last of 9 decimals over HTTP; x, y sent to such a predictor are refused by name,
    and a GPS file is replayed only into a server that takes degrees."""
    data = walkers(n_updates=10, seed=4)
    data = to_gps(data.assign(x=data.x / 100, y=data.y / 100), -33.86, 151.21).drop(columns="label")
    path = tmp_path / "gps.csv"
    data.to_csv(path, index=False, float_format="%.10f")
    data = pd.read_csv(path)
    online = OnlinePredictor(pedestrian, k=K, lonlat=True, forget_after=10)
    server, app = server_app(pedestrian, lonlat=True)
    import httpx

    with server.running(app) as base, httpx.Client(base_url=base) as client:
        for t, g in data.groupby("time"):
            dets = g[["agent_id", "lon", "lat"]].to_dict("records")
            got = online.update(t, dets)
            answer = client.post("/v1/scenes/gps/observations", json={"time": t, "detections": dets})
            assert answer.status_code == 200, answer.text
        wrong = client.post("/v1/scenes/gps/observations", json={"time": 99.0, "detections": [
            {"agent_id": 1, "x": 1.0, "y": 2.0}]})
        tracks = client.get("/v1/scenes/gps/tracks").json()["tracks"]
        # A detection's fields by any case, longitude and latitude by a file's names; one field twice refused.
        named = client.post("/v1/scenes/named/observations", json={"time": 0.0, "detections": [
            {"agent_id": 1, "Longitude": 151.2, "LAT": -33.8, "Label": "walker"}]})
        twice = client.post("/v1/scenes/named/observations", json={"time": 1.0, "detections": [
            {"agent_id": 1, "lon": 151.2, "lat": -33.8, "Lat": -33.9}]})
        odd_id = client.post("/v1/scenes/named/observations", json={"time": 2.0, "detections": [
            {"track_id": 1.5, "lon": 151.2, "lat": -33.8}]})
    assert named.status_code == 200, named.text
    from trajcvae.server import Detection  # fields of a tracker's own, in any cases, stay ignored

    assert Detection.model_validate({"agent_id": 1, "x": 1.0, "y": 2.0, "conf": 0.9, "Conf": 0.8, "lon": 3.0,
                                     "long": 4.0}).x == 1.0
    assert Detection.model_validate({"Track_ID": 7, "x": 1.0, "y": 2.0}).agent_id == 7  # a file's id names
    assert Detection.model_validate({"agent_id": 7, "id": 8, "x": 1.0, "y": 2.0}).agent_id == 7
    with pytest.raises(ValueError, match="'id' and 'object_id' both name the agent: give one"):
        Detection.model_validate({"id": 7, "object_id": 8, "x": 1.0, "y": 2.0})
    with pytest.raises(ValueError, match="'id' and 'Id' name one field"):
        Detection.model_validate({"id": 7, "Id": 8, "x": 1.0, "y": 2.0})
    # A field's error names it as the body sent it (pydantic's errors name the field it fills).
    from pydantic import ValidationError

    from trajcvae.server import Observations, one_line
    for det, said in (({"Track_ID": 1.5, "x": 1, "y": 2}, "detections.1.Track_ID: must be a text or a whole number "
                       "(got 1.5)"), ({"id": 1, "X": "a", "y": 2}, "detections.1.X: Input should be a valid number"),
                      ({"agent_id": 1, "Longitude": "a", "lat": 2}, "detections.1.Longitude: Input should be a valid"),
                      ({"agent_id": [1], "x": 1, "y": 2}, "detections.1.agent_id: must be a text or a whole number")):
        body = {"time": 0.0, "detections": [{"agent_id": 0, "x": 0, "y": 0}, det]}
        with pytest.raises(ValidationError) as e:
            Observations.model_validate(body)
        assert one_line(e.value.errors(), body).startswith(said)
    # A whole id sent as a float (json.dumps of numpy's float ids writes 7.0) is the agent 7, as in a file.
    assert Detection.model_validate({"agent_id": 7.0, "x": 1.0, "y": 2.0}).agent_id == 7
    assert twice.status_code == 422 and "'lat' and 'Lat' name one field (any case): give it once" in twice.text
    assert odd_id.status_code == 422 and odd_id.json()["detail"].startswith("detections.0.track_id: must be a text")
    assert wrong.status_code == 422 and wrong.json()["detail"] == \
        "detections: missing column(s) lon, lat (have: agent_id, x, y)"
    expected = pedestrian.predict([path], k=K)
    expected = expected[expected["t0"] >= data["time"].max() - 10]
    assert list(got.columns[-2:]) == ["lon", "lat"] and len(got) == len(expected)
    g, e = in_order(got), in_order(expected)
    np.testing.assert_allclose(g[["lon", "lat"]].to_numpy(), e[["lon", "lat"]].to_numpy(), atol=1e-9, rtol=0)
    http = in_order(pd.DataFrame(answer.json()["futures"]).assign(t0=0))
    np.testing.assert_allclose(http[["lon", "lat"]].to_numpy(), g[["lon", "lat"]].to_numpy(), atol=6e-10, rtol=0)
    assert {"lon", "lat"} <= set(tracks[0]) and "x" not in tracks[0]
    # The names a file's longitude and latitude may go by work live too; two of one kind are refused.
    aliases = OnlinePredictor(pedestrian, k=K, lonlat=True)
    assert list(aliases.update(0.0, [{"agent_id": 1, "Longitude": 151.2, "LAT": -33.8}]).columns[-2:]) == ["lon", "lat"]
    for dets, message in (([{"agent_id": 1, "lat": 151.2, "LAT": -33.8, "lon": 151.2}], "column 'lat' appears 2 times"),
                          ([{"agent_id": 1, "lon": 151.2, "lng": 151.2, "lat": -33.8}], "2 longitude columns")):
        with pytest.raises(TrajCVAEError, match=message):
            aliases.update(1.0, dets)
    with pytest.raises(TrajCVAEError, match=r"missing column\(s\) x, y \(have: agent_id, lon, lat\); longitudes and "
                       r"latitudes need lonlat=True \(`trajcvae serve --lonlat`\)$"):  # sent to a predictor of x, y
        OnlinePredictor(pedestrian, k=K).update(0.0, [{"agent_id": 1, "lon": 151.2, "lat": -33.8}])
    with pytest.raises(TrajCVAEError, match="^lonlat=True and scale exclude each other"):
        OnlinePredictor(pedestrian, lonlat=True, scale=0.01)
    with pytest.raises(TrajCVAEError, match="add lonlat=True"):
        server.replay_updates(path)
    walkers(n_updates=3).to_csv(tmp_path / "xy.csv", index=False)
    one_line_error(cli("serve", "pedestrian", "--lonlat", "--replay", tmp_path / "xy.csv"),
                   "holds x, y, not longitudes and latitudes")


def test_live_futures_do_not_move_with_microseconds_of_time_jitter(pedestrian, sim_files):
    """Times rounded to float32 (microseconds off, as a tracker may send them) give the futures of the exact
    times, for the same agents: a time within 1e-4 steps of a grid point, a gap or forget_after is on it."""
    sim = pd.read_csv(sim_files["test"])
    frames = sorted(set(sim.frame))[:30]

    def stream(clock) -> list[pd.DataFrame]:
        live = OnlinePredictor(pedestrian, k=2, forget_after=0.8)  # an agent missed twice is out of view
        return [live.update(clock(100 + f / 25), sim[sim.frame == f][["agent_id", "x", "y"]]) for f in frames]

    for exact, rounded in zip(stream(float), stream(lambda t: float(np.float32(t)))):
        assert list(exact.agent_id) == list(rounded.agent_id)
        np.testing.assert_allclose(rounded[["x", "y"]], exact[["x", "y"]], atol=1e-6, rtol=0)


@pytest.mark.filterwarnings("ignore:.*the scene has \\d+ of the 10 finished windows")  # (draws not fitted yet)
def test_live_scene_calibration_takes_irregular_update_times(pedestrian, sim_files, monkeypatch):
    """Updates up to 0.15 s late (a tracker's irregular times) finish windows whose agents were seen up to
    half a step before their t0: the scene's past grows from them, and no update fails. Each update adds the
    windows finished now, known now (their last step reads this update's detection), at most one per agent
    and step."""
    sim = pd.read_csv(sim_files["test"])
    late = np.random.default_rng(0).uniform(0.0, 0.15, sim.frame.nunique())
    live = OnlinePredictor(pedestrian, k=2, calibrate="scene")
    added = []  # (update time, agent code, t0, done) of every window added to the past
    scene_past = pedestrian.scene_past

    def spied(w, seed, drawn=None, futures="mean"):
        added.extend((live.time, a, t0, done) for a, t0, done in zip(w.agent_id.tolist(), w.t0, w.done))
        return scene_past(w, seed, drawn=drawn, futures=futures)

    monkeypatch.setattr(pedestrian, "scene_past", spied)
    for f, delay in zip(sorted(set(sim.frame))[:60], late):  # 60 updates: 90 finished windows
        live.update(f / 25 + delay, sim[sim.frame == f][["agent_id", "x", "y"]])
    assert len(live.past.levels) == len(added) > 50
    time, agent, t0, done = (np.array(c) for c in zip(*added))
    np.testing.assert_array_equal(done, time)  # known at the update that added it, not before
    for a in np.unique(agent):
        assert (np.diff(np.sort(t0[agent == a])) >= 0.4 * 0.999).all(), a  # one window per agent and step


def test_a_prediction_reads_nothing_observed_after_its_t0_however_close(pedestrian):
    """Another agent first seen 30 microseconds after an agent's t0 is not in that agent's window: its
    futures are those of the rows up to t0, in a file as live."""
    t = np.round(np.arange(26) * 0.4, 6)
    rows = pd.DataFrame({"time": t, "agent_id": "A", "x": 1.2 * t, "y": 0.0})
    later = pd.concat([rows, pd.DataFrame({"time": [t[-1] + 3e-5], "agent_id": ["B"], "x": [1.2 * t[-1] + 0.6],
                                           "y": [0.0]})], ignore_index=True)
    alone, beside = (pedestrian.predict(d, k=3, seed=1) for d in (rows, later))
    a = beside[beside.agent_id == "A"].reset_index(drop=True)
    np.testing.assert_allclose(a[["x", "y"]], alone[["x", "y"]], atol=1e-9, rtol=0)


def test_an_answer_without_futures_has_the_columns_and_types_of_one_with_them(pedestrian):
    """Answers are concatenated by callers (a log of a session): the empty one of a first update has the
    columns and column types of the ones that follow (the detections' labels, a K-set's weights included), so
    pandas joins them without a warning or a type change."""
    for kset, label in (("none", {}), ("kmeans", {"label": "cyclist"})):
        online = OnlinePredictor(pedestrian, k=2, kset=kset, draws=50)
        first = online.update(0.0, [{"agent_id": 0, "x": 1.0, "y": 2.0, **label}])
        later = [online.update(0.4 * t, [{"agent_id": 0, "x": 1.0 + 0.5 * t, "y": 2.0, **label}]) for t in range(1, 10)]
        assert first.empty and not later[-1].empty
        assert first.dtypes.to_dict() == later[-1].dtypes.to_dict()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert pd.concat([first, *later]).dtypes.to_dict() == later[-1].dtypes.to_dict()


def test_a_server_of_scales_per_scene_gives_each_scene_its_own_and_refuses_one_without(pedestrian, tmp_path):
    """`serve --scale scales.yaml` (SDD's videos, each of its own scale): a scene posted under a name the
    file scales gets futures in its pixels; one it does not is refused (422), naming the file, and not kept."""
    server = pytest.importorskip("trajcvae.server")
    import httpx

    scales = tmp_path / "scales.yaml"
    scales.write_text("deathCircle:\n  video0: {scale: 0.05, certainty: 1.0}\n  video1: {scale: 0.025, certainty: 0}\n"
                      "cam1/tracks: 0.01\ncam2/tracks: 0.01\ncam2 tracks: 0.02\n")
    dets = [{"agent_id": "a", "x": 20.0, "y": 40.0}]
    with server.running(server.create_app(pedestrian, k=2, scale=str(scales))) as base, \
            httpx.Client(base_url=base) as client:
        ok = client.post("/v1/scenes/deathCircle_video0/observations", json={"time": 0.0, "detections": dets})
        guessed = client.post("/v1/scenes/deathCircle_video1/observations", json={"time": 0.0, "detections": dets})
        r = client.post("/v1/scenes/cam9/observations", json={"time": 0.0, "detections": dets})
        # A file's scene whose name no URL holds is posted under the name the API gives it.
        for t in (0.0, 0.4, 0.8):
            cam = client.post("/v1/scenes/cam1_tracks/observations",
                              json={"time": t, "detections": [{"agent_id": "a", "x": 100.0 * t, "y": 40.0}]})
        clash = client.post("/v1/scenes/cam2_tracks/observations", json={"time": 0.0, "detections": dets})
        held = client.get("/v1/scenes").json()["scenes"]
    assert clash.status_code == 422 and clash.json()["detail"] == (f"scene 'cam2_tracks': scale {scales} gives "
                                                                   "scales to cam2/tracks and cam2 tracks, which both "
                                                                   "post under that name; rename one in the file")
    assert ok.status_code == 200 and "warnings" not in ok.json(), ok.text
    assert guessed.json()["warnings"] == [f"scale {scales}: the scale of scene deathCircle_video1 is an "
                                          "estimate (its certainty is below 0.9), so its metres are as rough"]
    assert r.status_code == 422 and r.json()["detail"] == (f"scene 'cam9': no scale for it in scale {scales}; "
                                                           "it gives the scales of deathCircle_video0, "
                                                           "deathCircle_video1, cam1/tracks, cam2/tracks ...")
    assert cam.status_code == 200 and "warnings" not in cam.json(), cam.text  # 1 m/s at 0.01 m a unit
    assert held == ["cam1_tracks", "deathCircle_video0", "deathCircle_video1"]


def test_a_replayed_scene_takes_its_own_scale_under_the_name_the_api_gives_it(pedestrian, tmp_path):
    """Scenes 'cam 1' and 'cam_1' of one replayed file become the API's cam_1 and cam_1_2: each takes its
    own scene's scale (the first was given the other's)."""
    server = pytest.importorskip("trajcvae.server")
    rows = pd.DataFrame({"scene": ["cam 1"] * 3 + ["cam_1"] * 3, "time": [0.0, 0.4, 0.8] * 2,
                         "agent_id": [1] * 6, "x": [0.0, 10.0, 20.0] * 2, "y": [0.0] * 6})
    rows.to_csv(tmp_path / "clash.csv", index=False)
    (tmp_path / "clash.yaml").write_text("cam 1: 0.04\ncam_1: 0.02\n")
    replayed: dict = {}
    server.replay_updates(tmp_path / "clash.csv", scale=str(tmp_path / "clash.yaml"), api_names=replayed)
    assert replayed == {"cam_1": "cam 1", "cam_1_2": "cam_1"}
    app = server.create_app(pedestrian, k=2, scale=str(tmp_path / "clash.yaml"), replayed=replayed)
    futures = {}
    for name in ("cam_1", "cam_1_2"):
        for t, x in ((0.0, 0.0), (0.4, 10.0), (0.8, 20.0)):
            app.state.scenes.observe(name, t, [{"agent_id": "1", "x": x, "y": 0.0}])
        futures[name] = app.state.scenes.get(name).predictor
    assert futures["cam_1"]._attrs["units"] == {"scale": 0.04}
    assert futures["cam_1_2"]._attrs["units"] == {"scale": 0.02}


def test_a_replays_written_decimals_are_judged_in_the_servers_units(pedestrian, tmp_path, sim_files):
    """Whole pixels at 0.04 m a pixel resolve 4 cm, which is fine: a replay with --scale says nothing of
    them (it said "resolve only 1 m", judging the pixels as metres), as predict says nothing; whole units
    of 0.2 m are warned of, as predict warns of them."""
    server = pytest.importorskip("trajcvae.server")
    df = pd.read_csv(sim_files["test"])
    for per_metre, coarse in ((25, False), (5, True)):
        df.assign(x=(df.x * per_metre).round(), y=(df.y * per_metre).round()).to_csv(tmp_path / "px.csv", index=False)
        said = []
        server.replay_updates(tmp_path / "px.csv", scale=1 / per_metre, model=pedestrian, log=said.append)
        assert any("written as whole numbers, which resolve only" in line for line in said) == coarse, said
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pedestrian.predict([tmp_path / "px.csv"], k=1, scale=1 / per_metre)
        assert any("written as whole numbers" in str(w.message) for w in caught) == coarse


def test_a_finished_window_reads_the_scene_memory_near_its_own_ego_seen_up_to_half_a_step_before_t0(pedestrian,
                                                                                                 monkeypatch):
    """Irregular update times: of two agents whose futures end now, A was seen at t0 and B 0.1 s before it (a
    tracker's late or early frame). Each finished window's memory holds the paths others walked near its own
    ego, as the whole scene cut at t0 gives them (here C walked B's way 8 s earlier, far from A, and E ran it,
    seen 0.6 m either side of where B was last seen): the rows left out as read by no window (`windows._readable`) are
    those far from every ego, B's as A's, by the segments between them, not only the rows themselves."""
    from trajcvae import windows

    cfg = pedestrian.config.data
    grid, t0 = np.round(np.arange(0, 24.01, 0.4), 6), 19.2
    rows = []
    for t in grid[grid >= 10]:  # A along y = 0, B 10 m away along y = 10, seen at 19.1 s, not 19.2 s
        tb = round(t - 0.1, 6) if np.isclose(t, t0) else t
        rows += [(t, 0, t - 15.0, 0.0), (tb, 1, tb - 15.0, 10.0)]
    for t in grid[grid <= 17]:  # C walked B's line 8 s ahead of it; D far from everyone
        rows += [(t, 2, t - 7.0, 10.0), (t, 3, 40.0 + t, -30.0)]
    for t in grid[grid <= 17] + 0.2:  # E ran it at 3 m/s, seen 0.6 m either side of B's last row (4.1 m)
        rows += [(round(t, 6), 4, 4.1 + 3.0 * (t - 11.2), 10.0)]
    rows.sort(key=lambda r: (r[1], r[0]))  # by agent and time, as the live history holds them
    t, agent, x, y = (np.array(c) for c in zip(*rows))
    agent = agent.astype(np.int64)

    def finished():
        return windows.finished_windows(t, agent, x, y, "live", 24.0, np.array([0, 1]), 0.4, 0.8, cfg, until=24.0)

    left_out = []  # how many rows of the cut `_readable` leaves out
    readable = windows._readable

    def spied(index, anchor, egos, after=0.0):
        rows, cut = readable(index, anchor, egos, after)
        left_out.append(len(index.cut(anchor, after)) - len(rows))
        return rows, cut

    monkeypatch.setattr(windows, "_readable", spied)
    got = finished()
    monkeypatch.setattr(windows, "_readable", whole_cut)
    whole = finished()  # every row of the cut read
    assert left_out[0] > 0  # rows were left out (D's, most of C's)
    assert list(got.agent_id) == list(whole.agent_id) == [0, 1] and np.allclose(got.t0, t0)
    # B's memory holds C's and E's paths from B's t0 position, 20 steps before (E's between two of its rows).
    starts = whole.mem[1][whole.mem_lag[1] == 20, 1]
    assert sorted(np.round(starts[:, 0], 6)) == [4.1, 4.2] and (starts[:, 1] == 10.0).all()
    for field in ("obs", "nbr", "fut", "mem", "mem_lag", "done"):
        np.testing.assert_allclose(getattr(got, field), getattr(whole, field), atol=1e-9, rtol=0, err_msg=field)


def test_a_finished_windows_memory_is_read_around_its_egos_t0_position_where_it_was_seen_before_t0(pedestrian,
                                                                                                   monkeypatch):
    """B, running at 3 m/s, was last seen 0.1 s before t0, so its position at t0 is 0.3 m past that detection. C
    walked across B's way 0.45 m past B's t0 position, 8 s earlier, seen at 10 Hz: within the memory's radius
    (0.5 m) of B's t0 position but 0.75 m from B's last detection. The rows left out of the cut are chosen around
    the egos' positions at t0, not their last detections: B's memory holds C's path, as with the whole cut."""
    from trajcvae import windows

    cfg = pedestrian.config.data
    t0 = 19.2
    seen = np.r_[np.arange(10, 19.0, 0.4), 19.1, np.arange(19.6, 24.01, 0.4)]  # B: not at t0, 0.1 s before it
    rows = [(round(t, 6), 1, 3.0 * (t - t0), 0.0) for t in seen]
    rows += [(round(t, 6), 2, 0.45, 0.5 * (t - 11.0)) for t in np.arange(6.0, 17.0, 0.1)]  # C crosses at 11 s
    rows += [(round(t, 6), 3, 0.0, 6.0) for t in np.arange(10, 24.01, 0.4)]  # someone standing, seen at t0 too
    rows.sort(key=lambda r: (r[1], r[0]))
    t, agent, x, y = (np.array(c) for c in zip(*rows))
    agent = agent.astype(np.int64)

    def finished():
        return windows.finished_windows(t, agent, x, y, "live", 24.0, np.array([1, 3]), 0.4, 0.8, cfg, until=24.0)

    got = finished()
    monkeypatch.setattr(windows, "_readable", whole_cut)
    whole = finished()
    assert list(got.agent_id) == list(whole.agent_id) and 1 in list(whole.agent_id)
    b = list(whole.agent_id).index(1)
    starts = whole.mem[b][np.isfinite(whole.mem_lag[b]), 1]  # the remembered paths' first positions
    assert len(starts) and np.allclose(starts[:, 0], 0.45)  # C's path, from near B's t0 position (0, 0)
    for field in ("obs", "nbr", "mem", "mem_lag"):
        np.testing.assert_allclose(getattr(got, field), getattr(whole, field), atol=1e-9, rtol=0, err_msg=field)


@pytest.mark.filterwarnings("ignore::trajcvae.TrajCVAEWarning")  # made-up speeds, warned as they should be
def test_an_update_that_fails_after_its_draws_leaves_none_behind_for_the_detections_given_again(pedestrian,
                                                                                              monkeypatch):
    """calibrate="scene": an update that fails once its maps' draws are kept (writing the futures, out of memory)
    keeps none of them: given again with a detection corrected, it gives a never-failed predictor's futures,
    and each window finished later has its levels read among the draws its own map read at its t0 (no new
    draws), not among the failed update's, which read the wrong detection."""
    data = wandering(5, [0] * 4, 24, 3, (0.2, 0.6))
    drawn_for = draws_counted(monkeypatch, pedestrian)
    clean = OnlinePredictor(pedestrian, k=2, calibrate="scene", forget_after=1.0)
    failed = OnlinePredictor(pedestrian, k=2, calibrate="scene", forget_after=1.0)
    for i, t in enumerate(np.unique(data["time"])):
        now = data[data["time"] == t][["agent_id", "x", "y"]]
        expected = clean.update(t, now)
        if i == 9:  # windows with a full history: their draws are kept, then writing the futures fails
            with monkeypatch.context() as m:
                m.setattr(online_module, "samples_to_frame", lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
                with pytest.raises(MemoryError):
                    failed.update(t, now.assign(x=now["x"] + 0.5 * (now["agent_id"] == 0)))  # 0.5 m off
        drawn_for.clear()
        assert failed.update(t, now).equals(expected), i
        assert set(drawn_for) <= {"_draw"}, i  # draws for the maps of the agents seen now alone
    assert len(failed.past.done) >= 12 and np.array_equal(failed.past.levels, clean.past.levels)


def test_an_update_that_fails_half_way_still_gives_its_warnings_when_given_again(pedestrian, monkeypatch):
    """The warnings an update owes (float32 positions too coarse, first brought now; a track that jumps, whose
    history an earlier update cut at the jump) are given once it is whole: one that fails half-way gives none
    and leaves them owed, so the same detections given again give them, as a never-failed predictor does. A
    warning made an error is raised once the update is whole, which stays: the same time again is not after the
    last."""
    def utm(t):  # positions as float32 near 5,400 km (0.5 m apart), as from a ROS Point32
        return pd.DataFrame({"agent_id": ["1"], "x": np.float32(500000.0 + 1.2 * t), "y": np.float32(5400000.0)})

    def jumpy(t):  # a1's id goes to another agent 6 m away at 4 s; the update at 500 s judges it
        return [(f"a{i}", 1.2 * t, 3.0 * i + 6.0 * (i == 1 and t >= 4.0)) for i in range(4)]

    for rows, times, fails, before in ((utm, (0.0, 0.4), 0.0, 0),
                                       (jumpy, (*np.round(np.arange(0, 4.8, 0.4), 6), 500.0), 500.0, 1)):
        clean, failed = OnlinePredictor(pedestrian, k=1), OnlinePredictor(pedestrian, k=1)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            for t in times:
                clean.update(t, rows(t))
        assert len(said) == len(clean.warnings) == before + 1
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            for t in times:
                if t == fails:  # the update that owes the warning
                    with monkeypatch.context() as m:
                        m.setattr(OnlinePredictor, "_futures", lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
                        with pytest.raises(MemoryError):
                            failed.update(t, rows(t))
                    assert failed.warnings == clean.warnings[:before]
                failed.update(t, rows(t))
        assert [str(w.message) for w in said] == failed.warnings == clean.warnings
    live = OnlinePredictor(pedestrian, k=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrajCVAEWarning)
        with pytest.raises(TrajCVAEWarning, match="^an update holds"):
            live.update(0.0, utm(0.0))
    assert live.time == 0.0 and live.rows == 1 and len(live.warnings) == 1
    with pytest.raises(TrajCVAEError, match="^time 0 is not after the last update's 0"):
        live.update(0.0, utm(0.0))


@pytest.mark.filterwarnings("ignore::trajcvae.TrajCVAEWarning")  # the cars: counted in `warnings` below
def test_live_speeds_are_judged_at_the_update_that_brings_the_judged_number_of_moves(pedestrian):
    """JUDGE_MOVES counts moves, detections of agents seen before (an agent's first detection is none): ten cars
    at 13 m/s that arrive together are warned of at the update that brings their 200th move, not before."""
    live = OnlinePredictor(pedestrian, k=1)
    warned = []
    for i in range(online_module.JUDGE_MOVES // 10 + 3):
        live.update(0.4 * i, [(f"car{a}", 13.0 * 0.4 * i, 3.0 * a) for a in range(10)])
        warned += [i] * (sum("median speed of the tracks is 13 m/s" in line for line in live.warnings) - len(warned))
    assert warned == [online_module.JUDGE_MOVES // 10]


def test_the_futures_an_update_gives_are_the_callers_to_edit(pedestrian):
    """An agent not seen now keeps the futures it had: the predictor keeps them itself, so a caller that edits
    the futures it got (to centimetres, reordered, ids renamed) changes none it gets later."""
    clean, edited = OnlinePredictor(pedestrian, k=2), OnlinePredictor(pedestrian, k=2)
    for i in range(12):
        t = round(0.4 * i, 1)
        seen = [("a", 0.5 * t, 0.0)] + [("b", 0.4 * t, 2.0)] * (i < 10)  # b unseen at the last two updates
        expected, got = clean.update(t, seen), edited.update(t, seen)
        pd.testing.assert_frame_equal(got, expected)
        got["x"] *= 100
        got["y"] = got["y"].to_numpy()[::-1]
        got["agent_id"] = "cam1-" + got["agent_id"]


def test_live_detections_name_their_ids_as_a_files_rows_may(pedestrian):
    """track_id, id or object_id name the agent in detections as in a file (a tracker's own name for it)."""
    def fed(name: str) -> pd.DataFrame:
        live = OnlinePredictor(pedestrian, k=1)
        for t in (0.0, 0.4):
            futures = live.update(t, [{name: a, "x": 0.5 * a + t, "y": 0.0} for a in range(3)])
        return futures

    expected = fed("agent_id")
    assert len(expected) == 3 * 12
    for name in ("track_id", "ID", "object_id"):
        pd.testing.assert_frame_equal(fed(name), expected)
    live = OnlinePredictor(pedestrian, k=1)
    live.update(0.0, [{"track_id": 1.0, "x": 0.0, "y": 0.0}])  # read as a file's id: 1.0 is agent 1
    assert live.update(0.4, [{"track_id": "1", "x": 0.4, "y": 0.0}]).agent_id.unique().tolist() == ["1"]
    for rows, said in (([{"id": 1, "track_id": 2, "x": 0.0, "y": 0.0}], "detections: 2 id columns (id, track_id): "
                        "keep one, or send it as agent_id"), ([{"track_id": "", "x": 0.0, "y": 0.0}],
                                                              "detections[0]: column 'track_id' is empty")):
        with pytest.raises(DataError, match=f"^{re.escape(said)}$"):
            live.update(0.8, rows)


@pytest.mark.filterwarnings("ignore:.*the scene has \\d+ of the 10 finished windows")  # (draws not fitted yet)
def test_an_agent_no_longer_held_leaves_nothing_behind(pedestrian):
    """A server seeing new ids all day holds only what its agents held need: once an agent's last row is dropped
    (here a 10-step memory horizon), its id goes (`state()`), and so do when its latest window finished
    (calibrate="scene"), the draws kept for its windows and whether its track was warned of as jumping; draws
    are kept only as long as a window can finish that reads them."""
    model = with_memory_horizon(pedestrian, 10)
    live = OnlinePredictor(model, k=1, calibrate="scene", forget_after=0.4)
    with pytest.warns(TrajCVAEWarning, match="1 track jumps: agent 'passer1'"):
        for i in range(60):
            t = round(0.4 * i, 1)
            passers = [(f"passer{p}", 0.5 * t, 3.0 * p + 6.0 * (p == 1 and i >= 10)) for p in range(3) if i < 25]
            live.update(t, [("stays", 0.5 * t, -3.0)] + passers)
            if i == 24:  # the passers' windows finished, their draws kept, passer1 warned of
                assert len(live._scored) == 4 and len(live._drawn) == 4 and len(live._jumped) == 1
    held = set(live.state()[2])
    assert sorted(live.state()[2].values()) == ["stays"]
    assert set(live._scored) <= held and set(live._drawn) <= held and not live._jumped
    # The draws of the windows predicted in the last pred_len steps and a bridged gap alone (5.6 s).
    assert min(t0 for kept in live._drawn.values() for t0, _, _ in kept) >= live.time - 5.6 - 1e-6


@pytest.mark.filterwarnings("ignore::trajcvae.TrajCVAEWarning")  # made-up speeds, warned as they should be
def test_a_window_finished_across_a_missed_detection_reads_the_draws_of_its_t0_whatever_came_between(
        pedestrian, monkeypatch):
    """calibrate="scene": X is missed at 10.4 s while another agent's detections come at 10.2 and 10.6 s (its
    own tracker's clock); X's window ending at 10.4 s joins the past at 10.8 s read among the draws its map
    read at its t0, 5.6 s, as every window here: the draws are kept pred_len steps and a bridged gap, and no
    finished window costs new draws."""
    drawn_for = draws_counted(monkeypatch, pedestrian)
    live = OnlinePredictor(pedestrian, k=1, calibrate="scene")
    updates = {round(0.4 * i, 1): [("V", 0.5 * 0.4 * i, 0.0)] + [("X", 3.0, 0.45 * 0.4 * i)] * (i != 26)
               for i in range(31)}
    updates.update({10.2: [("Y", -3.0, 0.6)], 10.6: [("Y", -3.0, 1.1)]})
    for t in sorted(updates):
        live.update(t, updates[t])
    assert set(drawn_for) == {"_draw"}
    assert np.isclose(live.past.done, 10.8).sum() == 3  # V's, X's and X's ending at 10.4 s


def test_tracks_give_each_agent_in_view_its_whole_history_and_none_to_the_others(pedestrian):
    """tracks(): every observed position within `history` of the agents in view (last seen forget_after ago or
    since), however long before forget_after it was observed; nothing of an agent out of view."""
    live = OnlinePredictor(pedestrian, k=1, forget_after=0.8)
    for i in range(20):  # b last seen at 6.4 s (out of view at 7.6 s), c at 6.8 s (in view)
        t = round(0.4 * i, 1)
        live.update(t, [("a", 0.5 * t, 0.0)] + [("b", 0.5 * t, 2.0)] * (i <= 16) + [("c", 0.5 * t, 4.0)] * (i <= 17))
    window = live.tracks()  # the model's observed window, 3.2 s: 4.4 s on
    assert window.groupby("agent_id")["time"].agg(["min", "max", "size"]).round(6).to_dict("index") == {
        "a": {"min": 4.4, "max": 7.6, "size": 9}, "c": {"min": 4.4, "max": 6.8, "size": 7}}
    assert live.tracks(history=100).groupby("agent_id").size().to_dict() == {"a": 20, "c": 18}


def test_a_label_first_given_while_an_agent_is_out_of_sight_gives_every_agent_s_futures_predict_s_columns(pedestrian):
    """The first label comes while b, in view, is not seen: b's futures (kept from when it was last seen) get
    the label column too, "" as predict writes it for an agent whose rows carry none, in predict's columns."""
    live = OnlinePredictor(pedestrian, k=1)
    rows = [(0.0, "a", 0.0, 0.0, ""), (0.0, "b", 0.0, 2.0, ""), (0.4, "a", 0.4, 0.0, ""), (0.4, "b", 0.4, 2.0, ""),
            (0.8, "a", 0.8, 0.0, "Pedestrian")]
    for t in (0.0, 0.4):
        live.update(t, [r[1:4] for r in rows if r[0] == t])
    futures = live.update(0.8, [{"agent_id": "a", "x": 0.8, "y": 0.0, "label": "Pedestrian"}])
    expected = pedestrian.predict(pd.DataFrame(rows, columns=["time", "agent_id", "x", "y", "label"]), k=1)
    assert list(futures.columns) == list(expected.columns)
    assert dict(zip(futures.agent_id, futures.label)) == {"a": "Pedestrian", "b": ""}
    np.testing.assert_allclose(in_order(futures)[["x", "y"]], in_order(expected)[["x", "y"]], atol=1e-6)


def test_an_agent_in_view_but_unseen_is_predicted_again_from_all_the_history_its_window_reads(pedestrian):
    """The history keeps forget_after more than a window reads: update(k=3) predicts c again, last seen 2 s
    (forget_after) ago, with the futures `predict` gives on the file so far, its scene memory included (d
    walked c's way 6 s before it, 15 steps: the memory horizon here)."""
    model = with_memory_horizon(pedestrian, 15)
    live = OnlinePredictor(model, k=2, forget_after=2.0)
    rows = []
    for i in range(46):
        t = round(0.4 * i, 1)
        now = [("a", 0.3 * t, 5.0), ("d", 0.5 * t, 0.0)] + [("c", 0.5 * (t - 6.0), 0.0)] * (6.0 <= t <= 16.0)
        rows += [(t, *r) for r in now]
        futures = live.update(t, now, k=3 if i == 45 else None)
    expected = model.predict(pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"]), k=3)
    assert set(futures.agent_id) == set(expected.agent_id) == {"a", "c", "d"}
    g, e = in_order(futures), in_order(expected)
    np.testing.assert_allclose(g[["x", "y"]].to_numpy(), e[["x", "y"]].to_numpy(), atol=1e-6)


def test_a_feed_the_model_bridges_is_not_warned_of_and_one_it_cannot_is_at_the_judged_update(pedestrian):
    """Updates exactly max_gap (0.8 s) apart are bridged (on a float clock: 2.4000000000000004 - 1.6): no
    warning, and futures. Updates 1 s apart get the rate's warning once JUDGE_UPDATES have come, at that one."""
    def warned_at(dt: float) -> tuple[list[int], pd.DataFrame]:
        live, at = OnlinePredictor(pedestrian, k=1), []
        for i in range(online_module.JUDGE_UPDATES + 3):
            before = len(live.warnings)
            futures = live.update(i * dt, [("a", 1.0 * i * dt, 0.0)])
            at += [i] * (len(live.warnings) - before)
        return at, futures

    at, futures = warned_at(0.8)
    assert at == [] and set(futures.agent_id) == {"a"}
    with pytest.warns(TrajCVAEWarning, match="updates with detections came at least 1 s apart"):
        assert warned_at(1.0)[0] == [online_module.JUDGE_UPDATES - 1]


@pytest.mark.filterwarnings("ignore::trajcvae.TrajCVAEWarning")  # made-up speeds, warned as they should be
def test_an_update_that_fails_half_way_leaves_no_label_column_behind(pedestrian, monkeypatch):
    """The first detections with a label fail half-way: the predictor has no label column, so updates without
    labels given instead give a never-failed predictor's futures, without one."""
    clean, failed = OnlinePredictor(pedestrian, k=1), OnlinePredictor(pedestrian, k=1)
    for live in (clean, failed):
        live.update(0.0, [("a", 0.0, 0.0)])
    with monkeypatch.context() as m:
        m.setattr(OnlinePredictor, "_futures", lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
        with pytest.raises(MemoryError):
            failed.update(0.4, [{"agent_id": "a", "x": 0.4, "y": 0.0, "label": "Pedestrian"}])
    for t in (0.4, 0.8):
        got, expected = failed.update(t, [("a", t, 0.0)]), clean.update(t, [("a", t, 0.0)])
        assert "label" not in got and got.equals(expected)


def test_a_scene_a_refused_request_made_is_made_anew_for_the_request_that_waited_for_it(pedestrian):
    """A new scene's first request, refused, drops the scene it made; a good request for that scene that came
    meanwhile and waited for its lock is served by a scene kept under that name (it got 200 for a scene
    then gone: 404 on the next GET, and the next update started without its history)."""
    server, app = server_app(pedestrian)
    scenes = app.state.scenes
    made, real_make = [], scenes.make
    entered, release = threading.Event(), threading.Event()

    def make(name):
        predictor = real_make(name)
        if not made:  # the first scene made: its (refused) update waits until the good request is waiting
            update = predictor.update

            def slow(*args, **kwargs):
                entered.set()
                release.wait(10)
                return update(*args, **kwargs)
            predictor.update = slow
        made.append(predictor)
        return predictor

    scenes.make = make
    bad = threading.Thread(target=lambda: pytest.raises(Exception, scenes.observe, "cam", 0.0,
                                                         [{"agent_id": "a", "x": 1.0, "y": 1.0},
                                                          {"agent_id": "a", "x": 2.0, "y": 1.0}]))
    bad.start()
    assert entered.wait(10)
    answers = []
    good = threading.Thread(target=lambda: answers.append(scenes.observe("cam", 0.0, [{"agent_id": "b", "x": 0.0,
                                                                                       "y": 0.0}])))
    good.start()
    threading.Event().wait(0.3)  # the good request waits for the scene's lock
    release.set()
    bad.join(10)
    good.join(10)
    assert answers and scenes.names() == ["cam"] and len(made) == 2
    assert scenes.get("cam").predictor is made[1] and made[1].time == 0.0


def test_the_live_page_is_told_when_positions_are_an_images_pixels(tmp_path, sim_files, monkeypatch):
    """The live page draws y down for an image's pixels, as the video shows them: a homography server's
    detections, or a replayed SDD file's; y up for positions in metres."""
    pytest.importorskip("fastapi")
    import httpx

    from trajcvae import server
    served = {}
    monkeypatch.setattr(server, "_run", lambda app, sock: served.update(app=app) or sock.close())
    monkeypatch.setattr(server, "replay", lambda *args, **kwargs: 0)
    sdd = tmp_path / "video0" / "annotations.txt"
    sdd.parent.mkdir()
    sdd.write_text("".join(f'{a} {100 + 5 * f + 40 * a} 200 {116 + 5 * f + 40 * a} 240 {12 * f} 0 0 0 "Pedestrian"\n'
                           for a in range(2) for f in range(30)))
    metres = tmp_path / "metres.csv"
    pd.read_csv(sim_files["test"]).to_csv(metres, index=False)
    homography = write(tmp_path / "H.txt", "0.05 0 0\n0 0.05 0\n0 0 1\n")
    for given, down in ((["--replay", sdd, "--scale", 0.05], True), (["--replay", metres], False),
                        (["--homography", homography], True), ([], False)):
        r = cli("serve", "pedestrian", *given)
        assert r.exit_code == 0, r.output
        with server.running(served["app"]) as base:
            assert httpx.get(f"{base}/v1/scenes").json()["y_down"] is down, given
