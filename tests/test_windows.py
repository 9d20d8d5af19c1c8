"""Windows: runs of consecutive frames, neighbours and memory seen only up to t0, cached until the data changes."""
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trajcvae.benchmark import two_agents
from trajcvae.config import DataConfig
from trajcvae.errors import DataError, TrajCVAEError
from trajcvae.tracks import read_tracks
from trajcvae.windows import build_windows, concat_windows, iter_windows, load_windows

from tests.helpers import ETH_UCY


def test_windows_never_span_a_gap(track_table):
    w = build_windows(read_tracks(track_table), DataConfig(obs_len=4, pred_len=3))
    # agent 1: 25 frames -> 25 - 7 + 1 = 19 windows; agent 2: runs of 12 and 12 frames -> 6 + 6.
    assert (w.agent_id == 1).sum() == 19
    assert (w.agent_id == 2).sum() == 12
    a2 = w.t0[w.agent_id == 2]
    spans = [(t - 30, t + 30) for t in a2]
    assert not any(lo <= 120 <= hi for lo, hi in spans)
    assert np.isfinite(w.obs).all() and np.isfinite(w.fut).all()


def test_window_content_and_neighbours(track_table):
    w = build_windows(read_tracks(track_table), DataConfig(obs_len=4, pred_len=3))
    i = np.flatnonzero((w.agent_id == 1) & (w.t0 == 50))[0]
    np.testing.assert_allclose(w.obs[i, :, 0], [0.8, 1.2, 1.6, 2.0])
    np.testing.assert_allclose(w.fut[i, :, 0], [2.4, 2.8, 3.2])
    np.testing.assert_allclose(w.nbr[i, 0, :, 1], 1.0)  # agent 2, one metre away, seen up to t0 only
    np.testing.assert_allclose(w.nbr[i, 0, :, 0], [0.8, 1.2, 1.6, 2.0])


def test_neighbour_history_stops_at_its_gap(track_table):
    w = build_windows(read_tracks(track_table), DataConfig(obs_len=4, pred_len=3))
    i = np.flatnonzero((w.agent_id == 1) & (w.t0 == 140))[0]  # agent 2 restarted at frame 130
    assert np.isnan(w.nbr[i, 0, :2, 0]).all()
    np.testing.assert_allclose(w.nbr[i, 0, 2:, 0], [5.2, 5.6])


def test_neighbour_radius_and_count(track_table):
    w = build_windows(read_tracks(track_table), DataConfig(obs_len=4, pred_len=3, neighbor_radius=0.5))
    assert np.isnan(w.nbr).all()
    w = build_windows(read_tracks(track_table), DataConfig(obs_len=4, pred_len=3, max_neighbors=0))
    assert np.isnan(w.nbr).all()


def test_latest_mode_handles_short_histories(track_table):
    df = track_table[track_table.frame <= 20]  # 3 frames each
    df = pd.concat([df, pd.DataFrame([{"scene": "s", "frame": 20, "agent_id": 3, "x": 5.0, "y": 5.0}])])
    w = build_windows(read_tracks(df), DataConfig(obs_len=8, pred_len=12), mode="latest")
    assert sorted(w.agent_id) == [1, 2] and w.skipped == 1  # agent 3 has one position: counted
    assert w.fut is None
    assert np.isnan(w.obs[:, :5]).all() and np.isfinite(w.obs[:, 5:]).all()


def test_no_usable_windows_says_why(track_table):
    with pytest.raises(DataError, match="no track has 40 consecutive steps of 0.4 s"):
        build_windows(read_tracks(track_table), DataConfig(obs_len=20, pred_len=20))


def test_off_grid_frame_is_an_error(track_table, tmp_path):
    df = track_table.copy()
    df.loc[0, "frame"] = 5
    with pytest.raises(DataError, match="off the scene's time grid"):
        build_windows(read_tracks(df), DataConfig(time_step=10))
    # A mistyped frame id, even the scene's first, is named, not the frames it puts off its grid.
    df = track_table.sort_values(["frame", "agent_id"]).reset_index(drop=True)
    first = df.frame.min()
    df.loc[8, "frame"] = first - 5
    path = tmp_path / "typo.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError, match=rf"typo.csv line 10: frame {first - 5:g} is off the scene's time grid "
                                        r"\(step 10\): a mistyped frame id\?"):
        build_windows(read_tracks([path]), DataConfig(time_step=10))
    from trajcvae.checks import off_grid  # a millionth of a step either side of a grid point is on it

    for frames in ([0, 10, 20 - 8e-6, 30], [0, 10, 20 + 8e-6, 30], [8e-6, 10, 20, 30]):
        assert off_grid(pd.DataFrame({"scene": "s", "frame": frames}), 10.0) is None, frames
    assert off_grid(pd.DataFrame({"scene": "s", "frame": [0, 10, 20 - 2e-5, 30]}), 10.0) is not None


@pytest.mark.skipif(not ETH_UCY.is_dir(), reason="needs ../shared/datasets/eth_ucy")
def test_standard_eth_ucy_window_counts():
    windows = {s: build_windows(read_tracks([ETH_UCY / s / "test"]), DataConfig(memory=0))
               for s in ("eth", "hotel", "zara1", "zara2")}
    assert {s: len(w) for s, w in windows.items()} == {"eth": 364, "hotel": 1197, "zara1": 2356, "zara2": 5910}
    # Social GAN's loader keeps only the sequences with at least two pedestrians: the benchmark's second
    # convention gives its published counts.
    assert {s: int(two_agents(w).sum()) for s, w in windows.items()} == {"eth": 181, "hotel": 1053, "zara1": 2253,
                                                                         "zara2": 5833}
    # A tracker's detections carry stamps of their own (a few ms apart): agents at one moment still count.
    zara = read_tracks([ETH_UCY / "zara1" / "test"])
    jitter = np.random.default_rng(0).uniform(-0.005, 0.005, len(zara))
    timed = zara.assign(time=(zara.frame / 25.0 + jitter).round(4)).drop(columns=["frame"])
    w = build_windows(read_tracks(timed[["time", "agent_id", "x", "y"]]), DataConfig(memory=0))
    assert len(set(w.t0)) > len(w) / 2 and two_agents(w).mean() > 0.9  # (each t0 its own; nearly all in pairs)


def test_every_observation_of_a_walker_out_of_phase_with_the_grid_keeps_its_window():
    """Two walkers logged at the model's rate, the second's clock half a step behind the first's (exactly, where
    float noise tips the rounding to the grid either way, or jittered about it): each of its 40 observations
    with 8 steps before and 12 after is a window's t0 (21), as each of the first walker's; a 25 Hz or 3 Hz
    tracker's observations still give one t0 a step."""
    rng = np.random.default_rng(0)
    jittered = np.full(40, 0.2)
    jittered[8:27] += rng.uniform(-0.02, 0.02, 19)  # (the first and last windows' ends exact: not cut short)
    for lag in (np.full(40, 0.2), np.full(40, 0.19), jittered):
        rows = [(0.4 * i + d, a, 0.5 * i, 3.0 * a) for i in range(40) for a, d in ((1, 0.0), (2, lag[i]))]
        w = build_windows(read_tracks(pd.DataFrame(rows, columns=["time", "agent_id", "x", "y"])),
                          DataConfig(memory=0))
        assert (pd.Series(w.agent_id).value_counts().sort_index() == 21).all() and len(w) == 42, lag
        assert np.unique(np.round(w.t0[w.agent_id == 2] - w.t0[w.agent_id == 2].min(), 1)).size == 21
    video = pd.DataFrame([(f / 25, a, 0.05 * f, 3.0 * a) for f in range(1000) for a in (1, 2)],
                         columns=["time", "agent_id", "x", "y"])
    w = build_windows(read_tracks(video), DataConfig(memory=0))
    assert len(w) == 2 * (int(999 / 25 / 0.4 + 1e-9) + 1 - 19) and len(np.unique(w.t0)) == len(w) // 2
    # A 3 Hz walker (no steady phase against the grid) keeps one observation a step, the nearest: 20 s of it
    # holds 50 steps, of which the last 31 have 7 steps before and 12 after.
    three = pd.DataFrame([(i / 3, 1, 0.4 * i, 0.0) for i in range(61)], columns=["time", "agent_id", "x", "y"])
    w = build_windows(read_tracks(three), DataConfig(memory=0))
    assert len(w) == 30 and np.diff(w.t0).min() > 0.3


def _line_walkers() -> pd.DataFrame:
    """Agent 1 walks along y = 0 at 1 m a step (frames 0-190); agent 2 walks the same line later
    (frames 400-590); agent 3 walks the same line at the same time as agent 1 but 50 m away."""
    rows = [("s", f * 10, 1, float(f), 0.0) for f in range(20)]
    rows += [("s", 400 + f * 10, 2, float(f), 0.0) for f in range(20)]
    rows += [("s", f * 10, 3, float(f), 50.0) for f in range(20)]
    return pd.DataFrame(rows, columns=["scene", "frame", "agent_id", "x", "y"])


def test_memory_holds_the_paths_walked_from_here_before_t0():
    cfg = DataConfig(memory=3, memory_radius=1.0)
    w = build_windows(read_tracks(_line_walkers()), cfg)
    i = np.flatnonzero((w.agent_id == 2) & (w.t0 == 470))[0]  # agent 2 at x = 7
    # Agent 1's paths that start within 1 m of x = 7 and end by t0: from its rows at x = 7 (distance 0) and
    # x = 6 (distance 1; x = 8 has no 12 steps after it). Each path: the step before, the start, 12 after.
    np.testing.assert_allclose(w.mem[i, 0, :, 0], np.arange(6, 20))
    np.testing.assert_allclose(w.mem[i, 1, :, 0], np.arange(5, 19))
    np.testing.assert_allclose(w.mem[i, :2, :, 1], 0.0)
    np.testing.assert_allclose(w.mem_lag[i, :2], [47 - 7, 47 - 6])  # steps from the path's start to t0
    assert np.isnan(w.mem[i, 2]).all() and np.isnan(w.mem_lag[i, 2])  # no third path within 1 m
    # Agent 1 and agent 3 have no earlier walker near them: empty memories.
    assert np.isnan(w.mem_lag[w.agent_id != 2]).all()


def test_memory_paths_end_by_t0_and_ignore_later_frames(sim_files):
    """Cutting the file at t0 leaves each agent's memory at t0 unchanged."""
    cfg = DataConfig(memory=6, memory_radius=3.0)
    df = read_tracks([sim_files["val"]])
    full = build_windows(df, cfg)
    assert np.nanmin(full.mem_lag) >= cfg.pred_len  # every path is finished by t0
    assert np.isfinite(full.mem_lag).mean() > 0.3  # and there are paths to remember
    t0 = float(pd.Series(full.t0).mode().iloc[0])
    cut = build_windows(df[df.frame <= t0], cfg, mode="latest")
    at_full = np.flatnonzero(full.t0 == t0)
    assert len(at_full) > 0
    for i in at_full:  # each full window's agent, in the cut file's latest-frame windows
        j = np.flatnonzero((cut.t0 == t0) & (cut.agent_id == full.agent_id[i]))[0]
        np.testing.assert_array_equal(full.mem[i], cut.mem[j])
        np.testing.assert_array_equal(full.mem_lag[i], cut.mem_lag[j])


def test_a_single_frame_view_keeps_the_scene_memory(sim_files):
    """The windows a figure draws for one frame remember the same paths as the whole file's windows."""
    from trajcvae.visualize import SceneTracks

    cfg = DataConfig(memory=6, memory_radius=3.0)
    df = read_tracks([sim_files["val"]])
    full = build_windows(df, cfg)
    i = int(np.flatnonzero(np.isfinite(full.mem_lag).any(1))[-1])  # a late window with paths to remember
    view = SceneTracks(df).windows_at(cfg, str(full.scene[i]), float(full.t0[i]))
    j = np.flatnonzero(view.agent_id == full.agent_id[i])[0]
    np.testing.assert_array_equal(view.mem[j], full.mem[i])


def _norm(v: np.ndarray) -> float:
    return np.sqrt(v[0] * v[0] + v[1] * v[1])


def _memory_by_brute_force(df: pd.DataFrame, cfg: DataConfig, w):
    """The memory of every window of `w`, one pair (window, earlier row) at a time: -> paths, lags. Norms and
    cosines of 2-vectors are written out (products, then a sum), as elementwise array arithmetic does them on
    every machine: a BLAS dot may fuse them and move a tie by the last bit."""
    rows = df.sort_values(["agent_id", "frame"]).reset_index(drop=True)
    fi = (rows.frame.to_numpy() / 10).astype(int)
    ag, xy = rows.agent_id.to_numpy(), rows[["x", "y"]].to_numpy()
    lags = np.full((len(w), cfg.memory), np.nan)
    paths = np.full((len(w), cfg.memory, cfg.pred_len + 2, 2), np.nan)
    for n in range(len(w)):
        e = np.flatnonzero((ag == w.agent_id[n]) & (fi == w.t0[n] / 10))[0]
        k = min(cfg.obs_len - 1, int(np.sum((ag == ag[e]) & (fi < fi[e]))))  # no gaps in this scene
        head = xy[e] - xy[e - k]
        head = head / _norm(head) if _norm(head) > 1e-9 else np.zeros(2)
        found = []
        for r in range(1, len(rows) - cfg.pred_len):
            run = ag[r - 1:r + cfg.pred_len + 1] == ag[r]
            lag = fi[e] - fi[r]
            if ag[r] == ag[e] or not run.all() or not cfg.pred_len <= lag <= cfg.memory_horizon:
                continue
            d = _norm(xy[e] - xy[r])
            if d <= cfg.memory_radius:
                step = (xy[r] - xy[r - 1]) / max(_norm(xy[r] - xy[r - 1]), 1e-9)
                found.append((d + cfg.memory_radius * (1 - (head[0] * step[0] + head[1] * step[1])), fi[r], r, lag))
        for slot, (*_, r, lag) in enumerate(sorted(found)[:cfg.memory]):  # ties: the earlier frame, then row
            lags[n, slot] = lag
            paths[n, slot] = xy[r - 1:r + cfg.pred_len + 1]
    return paths, lags


@pytest.mark.parametrize("held", [256, 7])
def test_memory_matches_a_brute_force_search(held, monkeypatch):
    """Random walkers on a 0.8 m square, positions on a 0.1 m grid: many paths lie exactly at the radius
    (0.3-0.4-0.5 triangles), where rounding decides, and many tie. The same whether the windows' pairs are
    searched `held` windows at a time or all at once."""
    from trajcvae import windows

    monkeypatch.setattr(windows, "MEMORY_EGOS", held)
    rng = np.random.default_rng(0)
    rows = []
    for a in range(8):
        start = int(rng.integers(0, 10))
        p = rng.integers(0, 9, size=2)
        for f in range(start, start + 40):
            p = np.clip(p + rng.integers(-1, 2, size=2), 0, 8)
            rows.append(("s", f * 10, a, p[0] * 0.1, p[1] * 0.1))
    df = pd.DataFrame(rows, columns=["scene", "frame", "agent_id", "x", "y"])
    cfg = DataConfig(memory=5, memory_radius=0.5, memory_horizon=25)
    w = build_windows(read_tracks(df), cfg)
    assert np.isfinite(w.mem_lag).sum() > 500
    paths, lags = _memory_by_brute_force(df, cfg, w)
    np.testing.assert_array_equal(w.mem_lag, lags)
    np.testing.assert_array_equal(w.mem, paths)


def test_the_memory_search_of_a_scene_twice_as_long_costs_twice_as_much(monkeypatch):
    """Walkers who follow each other along one line for an hour: each window is paired only with the paths
    its horizon reaches, not with every path walked from its place since the recording began (which ran
    an hour of one camera out of memory)."""
    from trajcvae import windows

    pairs = []

    class Counted(windows.cKDTree):
        def query_ball_point(self, x, *args, **kwargs):
            assert len(x) <= windows.MEMORY_EGOS  # the pairs of a dense crowd's windows are never held all at once
            found = super().query_ball_point(x, *args, **kwargs)
            pairs[-1] += sum(map(len, found))
            return found

    monkeypatch.setattr(windows, "cKDTree", Counted)
    cfg = DataConfig(memory=2, memory_radius=0.5, memory_horizon=40)
    monkeypatch.setattr(windows, "MEMORY_EGOS", 100)
    for walkers in (30, 60):
        table = pd.DataFrame([("s", 150 * a + 10 * f, a, 0.5 * f, 0.0) for a in range(walkers) for f in range(25)],
                             columns=["scene", "frame", "agent_id", "x", "y"])
        pairs.append(0)
        w = build_windows(read_tracks(table), cfg)
        assert np.isfinite(w.mem_lag[w.agent_id >= 3]).all()  # each later walker remembers its leaders' paths
    assert pairs[1] < 2.2 * pairs[0], pairs


def test_a_copy_among_many_files_of_one_size_is_found_reading_each_file_once(tmp_path, monkeypatch):
    """`copy_of` (a test file copied into train/, --val a copy of a training file) compares files of one size
    by their bytes, each file's read once: fixed-width track files are all of one size."""
    from trajcvae import tracks, windows

    ours = [tmp_path / f"a{i}.txt" for i in range(30)]
    theirs = [tmp_path / f"b{i}.txt" for i in range(30)]
    for i, f in enumerate(ours + theirs):
        f.write_text(f"{i:08d} 1 0.0 0.0\n")
    reads = []
    real = tracks.hash_bytes
    monkeypatch.setattr(tracks, "hash_bytes", lambda f, h: reads.append(f) or real(f, h))
    assert windows.copy_of(ours, theirs) is None
    assert sorted(reads) == sorted(ours + theirs)
    theirs[7].write_bytes(ours[3].read_bytes())
    assert windows.copy_of(ours, theirs) == (ours[3], theirs[7])
    assert windows.copy_of([ours[3], ours[4]], [ours[4], theirs[7]]) == (ours[3], theirs[7])
    ours[5].write_bytes(ours[3].read_bytes())  # a copy among the files themselves is none of the others'
    assert windows.copy_of([ours[3], ours[5]], theirs[:7]) is None
    assert windows.copy_of([ours[5]], [ours[3], ours[5]]) == (ours[5], ours[5])  # itself first, not a copy


# --- the window cache ---------------------------------------------------------------------------------

def _same(a, b):
    assert len(a) == len(b)
    np.testing.assert_array_equal(a.obs, b.obs)
    np.testing.assert_array_equal(a.nbr, b.nbr)
    np.testing.assert_array_equal(a.fut, b.fut)
    assert list(a.scene) == list(b.scene) and list(a.agent_id) == list(b.agent_id)


def test_second_load_comes_from_the_cache(tmp_path, sim_files):
    cfg = DataConfig()
    first = load_windows([sim_files["val"]], cfg, cache_dir=tmp_path)
    entries = list(tmp_path.glob("windows-*.npz"))
    assert len(entries) == 1
    # The temp file of a save of this entry that was killed (an OOM kill) goes at the next hit.
    from trajcvae.atomic import _temp_stem
    stale = tmp_path / f"{_temp_stem(entries[0])}999999999-0.abcdefgh.tmp"
    stale.write_bytes(b"half of it")
    os.utime(stale, (0, 0))
    second = load_windows([sim_files["val"]], cfg, cache_dir=tmp_path)
    _same(first, second)
    assert list(tmp_path.glob("windows-*.npz")) == entries  # nothing rebuilt
    assert not stale.exists()


def test_cache_is_invalidated_by_data_or_windowing_changes(tmp_path, sim_files):
    data = tmp_path / "tracks.csv"
    data.write_bytes(sim_files["val"].read_bytes())
    cache = tmp_path / "cache"
    load_windows([data], DataConfig(), cache_dir=cache)
    load_windows([data], DataConfig(obs_len=6), cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 2
    load_windows([data], DataConfig(neighbor_radius=2.0), cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 3
    # Change one coordinate of the file: a new entry, with the new value in it.
    lines = data.read_text().splitlines()
    parts = lines[1].split(",")
    parts[-1] = str(float(parts[-1]) + 1.0)
    lines[1] = ",".join(parts)
    data.write_text("\n".join(lines) + "\n")
    changed = load_windows([data], DataConfig(), cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 4
    _same(changed, load_windows([data], DataConfig()))
    # A link of another name to the same bytes is another scene (its name is the file's as given): with scales
    # per scene, another scale, so not the linked file's windows.
    plain = tmp_path / "a.csv"
    pd.read_csv(sim_files["val"]).drop(columns="scene").to_csv(plain, index=False)
    (tmp_path / "b.csv").symlink_to(plain)
    scales = tmp_path / "s.yaml"
    scales.write_text("a: 1.0\nb: 0.5\n")
    cfg = DataConfig(scale=str(scales))
    a, b = (load_windows([tmp_path / name], cfg, cache_dir=cache) for name in ("a.csv", "b.csv"))
    assert set(b.scene) == {"b"} and np.allclose(np.nanmax(np.abs(b.fut)), 0.5 * np.nanmax(np.abs(a.fut)))


def test_string_agent_ids_round_trip(tmp_path):
    data = tmp_path / "s.csv"
    rows = ["frame,agent_id,x,y"] + [f"{f * 10},ped_{a},{0.4 * f},{a}" for f in range(20) for a in (1, 2)]
    data.write_text("\n".join(rows) + "\n")
    a = load_windows([data], DataConfig(), cache_dir=tmp_path / "c")
    b = load_windows([data], DataConfig(), cache_dir=tmp_path / "c")
    assert set(b.agent_id) == {"ped_1", "ped_2"}
    _same(a, b)


def test_the_cache_keeps_within_its_size_by_removing_the_least_recently_used(tmp_path, sim_files, monkeypatch):
    """Windows take far more bytes than their files: past $TRAJCVAE_CACHE_GB (20 by default) a new entry
    removes the entries used longest ago, never itself; a hit counts as a use."""
    import time

    cfg = DataConfig()
    load_windows([sim_files["val"]], cfg, cache_dir=tmp_path)
    val = next(tmp_path.glob("windows-*.npz"))
    old, older = tmp_path / "windows-old.npz", tmp_path / "windows-older.npz"
    for age, entry in ((3000, old), (4000, older)):
        entry.write_bytes(b"\0" * val.stat().st_size)
        os.utime(entry, (val.stat().st_mtime - age,) * 2)
    os.utime(val, (val.stat().st_mtime - 5000,) * 2)
    load_windows([sim_files["val"]], cfg, cache_dir=tmp_path)  # a hit: val is the most recently used now
    monkeypatch.setenv("TRAJCVAE_CACHE_GB", str(3.5 * val.stat().st_size / 1e9))  # room for three and a half
    load_windows([sim_files["val"]], DataConfig(neighbor_radius=4.0), cache_dir=tmp_path)  # as large: the oldest goes
    assert sorted(p.name for p in tmp_path.glob("windows-*.npz")) == sorted(
        [val.name, old.name, next(p.name for p in tmp_path.glob("windows-*.npz") if p not in (val, old))])
    assert not older.exists()
    monkeypatch.setenv("TRAJCVAE_CACHE_GB", "0")  # nothing fits: each new entry is kept alone
    load_windows([sim_files["train"]], cfg, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("windows-*.npz"))) == 1
    # A temp file a killed process left (its entry's key may never come again) goes with the next save; one a
    # live process is writing stays.
    dead = tmp_path / ".windows-gone.npz.999999999-0.abcdefgh.tmp"
    live = tmp_path / f".windows-busy.npz.{os.getpid()}-0.abcdefgh.tmp"
    for temp in (dead, live):
        temp.write_bytes(b"\0" * 100)
        os.utime(temp, (time.time() - 3600,) * 2)
    load_windows([sim_files["test"]], cfg, cache_dir=tmp_path)
    assert not dead.exists() and live.exists()
    monkeypatch.setenv("TRAJCVAE_CACHE_GB", "lots")
    with pytest.raises(TrajCVAEError, match=r"TRAJCVAE_CACHE_GB='lots': expected a number of gigabytes \(0 or more\)"):
        load_windows([sim_files["val"]], cfg, cache_dir=tmp_path)


def test_damaged_cache_entry_is_rebuilt(tmp_path, sim_files):
    cfg = DataConfig()
    first = load_windows([sim_files["val"]], cfg, cache_dir=tmp_path)
    entry = next(tmp_path.glob("windows-*.npz"))
    entry.write_bytes(b"garbage")
    _same(first, load_windows([sim_files["val"]], cfg, cache_dir=tmp_path))
    for damage in (b"", None):  # empty, or a single array where the archive was
        if damage is None:
            np.save(open(entry, "wb"), np.zeros(3))
        else:
            entry.write_bytes(damage)
        _same(first, load_windows([sim_files["val"]], cfg, cache_dir=tmp_path))


def test_a_file_rewritten_while_its_windows_are_built_is_not_cached_under_its_bytes(tmp_path, sim_files, monkeypatch):
    """A writer rewriting the data file (here: half of it while the windows read it, then the whole again) would
    leave, under the whole file's key, the windows of half of it: they are not cached, and a warning says why;
    the next load builds the whole file's windows."""
    import trajcvae.windows as windows

    data = tmp_path / "tracks.csv"
    whole = sim_files["val"].read_bytes()
    data.write_bytes(whole)
    os.utime(data, (0, 0))  # written long ago: a rewrite now has another time, however coarse the clock
    reader = windows.read_tracks

    def racing(paths, **options):  # the writer, half-way through rewriting the same bytes
        data.write_bytes(whole[:whole.index(b"\n", len(whole) // 2) + 1])
        try:
            return reader(paths, **options)
        finally:
            data.write_bytes(whole)

    monkeypatch.setattr(windows, "read_tracks", racing)
    said = []
    half = load_windows([data], DataConfig(), cache_dir=tmp_path / "cache", log=said.append)
    assert said[-1].startswith("warning: the data files changed while they were read (a writer still at work?)")
    assert not list((tmp_path / "cache").glob("windows-*.npz"))
    monkeypatch.setattr(windows, "read_tracks", reader)
    again = load_windows([data], DataConfig(), cache_dir=tmp_path / "cache")
    _same(again, load_windows([sim_files["val"]], DataConfig()))
    assert len(again) > len(half)


def test_an_unwritable_cache_costs_a_warning_not_the_run(tmp_path, sim_files):
    """One warning however many data sets a command reads (a benchmark reads three a split)."""
    blocked = tmp_path / "a_file"
    blocked.write_text("not a folder")
    said = []
    w = load_windows([sim_files["val"]], DataConfig(), cache_dir=blocked, log=said.append)
    _same(w, load_windows([sim_files["val"]], DataConfig()))
    assert said[-1].startswith(f"warning: the window cache {blocked} is not writable") and said[-1].endswith(
        "(set TRAJCVAE_CACHE to a writable folder; train also takes --no-cache)")
    for data in ("test", "train"):
        load_windows([sim_files[data]], DataConfig(), cache_dir=blocked, log=said.append)
    assert sum("not writable" in line for line in said) == 1, said


def test_the_cache_folder_is_the_environments_or_the_users(tmp_path, monkeypatch):
    from trajcvae.windows import default_cache_dir

    monkeypatch.setenv("TRAJCVAE_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    for unset in ("", " "):  # set but empty (`TRAJCVAE_CACHE= trajcvae ...`) or blank: not a folder in the cwd
        monkeypatch.setenv("TRAJCVAE_CACHE", unset)
        assert default_cache_dir() == Path.home() / ".cache" / "trajcvae"
    # No home folder to put it in (a container's user of no name, no $HOME), or a ~name of no user: one line.
    from trajcvae.errors import TrajCVAEError

    monkeypatch.setenv("TRAJCVAE_CACHE", "~nobody_here_xyz/cache")
    with pytest.raises(TrajCVAEError, match="^TRAJCVAE_CACHE ~nobody_here_xyz/cache: ~nobody_here_xyz names no "
                                            "home folder here; give the full path$"):
        default_cache_dir()
    monkeypatch.delenv("TRAJCVAE_CACHE")
    monkeypatch.delenv("HOME")
    monkeypatch.setattr("pwd.getpwuid", lambda uid: (_ for _ in ()).throw(KeyError(uid)))
    with pytest.raises(TrajCVAEError, match="there is no home folder here; set TRAJCVAE_CACHE to one \\(train also "
                                            "takes --no-cache\\)"):
        default_cache_dir()


def test_second_cli_training_run_reads_windows_from_the_cache(tmp_path, sim_files, monkeypatch):
    from typer.testing import CliRunner

    from trajcvae.cli import app

    monkeypatch.setenv("TRAJCVAE_CACHE", str(tmp_path / "cache"))
    args = ["train", str(sim_files["val"]), "--epochs", "1", "--quiet", "--set", "model.hidden=16",
            "--set", "kset.epochs=0", "--no-figures"]
    first = CliRunner().invoke(app, args + ["--out", str(tmp_path / "a")])
    second = CliRunner().invoke(app, args + ["--out", str(tmp_path / "b")])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "(windows from cache)" not in first.output
    assert "(windows from cache)" in second.output
    third = CliRunner().invoke(app, args + ["--out", str(tmp_path / "c"), "--no-cache"])
    assert third.exit_code == 0 and "(windows from cache)" not in third.output


def test_a_position_off_its_track_is_told_from_fast_agents_and_noisy_fixes():
    """`_impossible`: a span of a track whose longest move is faster than 12.5 m/s (5 m in a 0.4 s step) and four
    times the median of its other moves (those over a twentieth of that) holds a position its agent cannot have
    been at: a typo mid-track, at its first or last row, or spread over several rows by resampling; with no
    other move (a track of two positions, or of an agent standing), one faster than 100 m/s does. A car at
    30 m/s, one braking to a stop or starting from one, a GPS fix 3 m off a standing agent, and a typo before
    the span judged are not."""
    from trajcvae.windows import _impossible, _moves

    def judged(points, since=0, judged_from=None, dt=0.4):
        pos = np.asarray(points, dtype=float)
        move = _moves(pos, np.arange(1, len(pos) + 1))
        start = since if judged_from is None else judged_from
        return bool(_impossible(move, np.array([start]), np.array([since]), np.array([len(pos) - 1]), dt)[0])

    walk = [[0.5 * i, 0.0] for i in range(8)]
    assert not judged(walk)
    typo = [1.5, 1000.0]
    assert judged(walk[:3] + [typo] + walk[4:]) and judged([typo] + walk[1:]) and judged(walk[:7] + [typo])
    long = [[0.5 * i, 0.0] for i in range(14)]  # a remembered path's 13 moves
    assert judged(long[:3] + [[1.5, 400.0], [2.0, 800.0], [2.5, 400.0]] + long[6:])  # resampled: spread over 3
    assert not judged([[12.0 * i, 0.0] for i in range(8)])  # a car at 30 m/s
    stop_and_go = np.cumsum([0, 0, 0, 0, 0.01, 0.3, 1.0, 2.0, 3.0, 4.0, 5.1, 5.6, 6.0])  # standing, then 3.5 m/s^2
    assert not judged([[x, 0.0] for x in stop_and_go]) and not judged([[x, 0.0] for x in stop_and_go[::-1]])
    assert not judged([[0.0, 0.0]] * 3 + [[3.0, 0.0]] + [[0.0, 0.0]] * 4)  # 3 m of GPS noise
    assert judged([[0.0, 0.0]] * 3 + [typo] + [[0.0, 0.0]] * 4)  # a standing agent's typo: faster than 100 m/s
    assert judged([walk[0], typo]) and not judged([walk[0], [20.0, 0.0]])  # two positions: 40 m in 0.4 s is not
    assert not judged([[3.0 * i, 0.0] for i in range(8)], dt=0.1) and judged(walk[:3] + [typo] + walk[4:], dt=1.0)
    assert not judged([typo] + walk[1:], since=0, judged_from=1)  # judged from row 1 on: the typo's move is before
    assert judged([typo] + walk[1:], since=0, judged_from=0)


def test_windows_cached_by_other_code_are_built_anew(tmp_path, sim_files, monkeypatch):
    """An upgrade of trajcvae (the same version number spans many commits) may build windows otherwise: the
    cache key holds a digest of the package's code, so another code's windows are not read back."""
    from trajcvae import windows as windows_module
    from trajcvae._version import code_digest

    said = []
    load_windows([sim_files["val"]], DataConfig(), cache_dir=tmp_path / "cache", log=said.append)
    monkeypatch.setattr(windows_module, "code_digest", lambda: "another")
    load_windows([sim_files["val"]], DataConfig(), cache_dir=tmp_path / "cache", log=said.append)
    assert not any("(windows from cache)" in line for line in said), said
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2
    assert len(code_digest()) == 16 and code_digest() == code_digest.__wrapped__()


def test_the_cache_key_holds_the_files_a_mot_sequence_is_read_with(tmp_path, sim_files, monkeypatch):
    """A MOTChallenge file's rate is its seqinfo.ini's and its class names a labels.txt's: an edit to either
    (a rate corrected from 30 to 25) makes new windows, not the cached ones of the old rate. So does a file the
    options name (scales), and either one written anew while the windows are read leaves them uncached."""
    df = read_tracks([sim_files["val"]])
    seq = tmp_path / "MOT-01"
    (seq / "gt").mkdir(parents=True)
    # Boxes standing on each agent, 12 frame ids per 0.4 s step (10 per step in the source): 30 fps.
    rows = [f"{round(r.frame * 1.2)},{r.agent_id},{r.x * 50 - 10:.2f},{r.y * 50 - 40:.2f},20,40,1,1,1"
            for r in df.itertuples()]
    (seq / "gt" / "gt.txt").write_text("\n".join(rows) + "\n")
    (seq / "seqinfo.ini").write_text("[Sequence]\nframeRate=30\n")
    cfg = DataConfig(scale=0.02)
    said = []
    at30 = load_windows([seq / "gt" / "gt.txt"], cfg, cache_dir=tmp_path / "cache", log=said.append)
    (seq / "seqinfo.ini").write_text("[Sequence]\nframeRate=25\n")
    at25 = load_windows([seq / "gt" / "gt.txt"], cfg, cache_dir=tmp_path / "cache", log=said.append)
    assert not any("(windows from cache)" in line for line in said), said
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2 and len(at25) != len(at30)
    again = load_windows([seq / "gt" / "gt.txt"], cfg, cache_dir=tmp_path / "cache", log=said.append)
    assert "(windows from cache)" in said[-1] and len(again) == len(at25)
    import trajcvae.windows as windows

    scales = tmp_path / "scales.csv"
    scales.write_text("scene,scale\nMOT-01,0.02\n")
    reader = windows.read_tracks
    for side in (seq / "seqinfo.ini", scales):
        os.utime(side, (0, 0))  # written long ago: a rewrite now has another time, however coarse the clock

        def racing(paths, **options):  # a writer, rewriting the same bytes while the data is read
            side.write_bytes(side.read_bytes())
            return reader(paths, **options)

        monkeypatch.setattr(windows, "read_tracks", racing)
        cache = tmp_path / f"cache-{side.stem}"
        load_windows([seq / "gt" / "gt.txt"], DataConfig(scale=str(scales)), cache_dir=cache, log=said.append)
        assert said[-1].startswith("warning: the data files changed while they were read"), said[-1]
        assert not list(cache.glob("windows-*.npz"))


def test_scene_memory_round_trips_and_has_its_own_key(tmp_path, sim_files):
    cfg = DataConfig(memory=4, memory_radius=3.0)
    first = load_windows([sim_files["val"]], cfg, cache_dir=tmp_path)
    second = load_windows([sim_files["val"]], cfg, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    np.testing.assert_array_equal(first.mem, second.mem)
    np.testing.assert_array_equal(first.mem_lag, second.mem_lag)
    load_windows([sim_files["val"]], DataConfig(memory=4, memory_radius=2.0), cache_dir=tmp_path)
    plain = load_windows([sim_files["val"]], DataConfig(memory=0), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 3 and plain.mem is None


# --- big files: windows in pieces ---------------------------------------------------------------------

def test_iter_windows_pieces_add_up_to_build_windows(sim_files):
    df = read_tracks([sim_files["train"], sim_files["test"]])
    cfg = DataConfig()
    for mode in ("windows", "latest"):
        whole = build_windows(df, cfg, mode)
        pieces = list(iter_windows(df, cfg, mode, chunk=50))
        assert max(len(p) for p in pieces) == 50
        joined = concat_windows([p for p in pieces if len(p)], mode)
        assert sum(p.skipped for p in pieces) == whole.skipped
        for name in ("obs", "nbr", "fut", "agent_id", "t0", "step"):
            a, b = getattr(whole, name), getattr(joined, name)
            if a is None:
                assert b is None
            else:
                np.testing.assert_array_equal(a, b)


def test_a_cached_run_says_what_the_reading_said(tmp_path, sim_files, monkeypatch):
    """Warnings given while reading the files (here a file cut short mid-row) come with the windows from the
    cache too, after the summary line, as they came when the windows were built, naming the files as this
    run gives them (the first run gave a relative path, from its own folder)."""
    cut = tmp_path / "cut.csv"
    cut.write_text(pd.read_csv(sim_files["val"]).to_csv(index=False, float_format="%.3f").rstrip("\n")[:-1])
    said = []
    monkeypatch.chdir(tmp_path)
    load_windows([Path("cut.csv")], DataConfig(), cache_dir=tmp_path / "cache", log=said.append)
    load_windows([cut], DataConfig(), cache_dir=tmp_path / "cache", log=said.append)
    summary, warning = said[:2]
    assert warning.startswith("warning: cut.csv ends mid-line") and len(said) == 4, said
    assert said[2:] == [summary + " (windows from cache)", warning.replace("cut.csv", str(cut))]
    # Each name is replaced where it stands whole, in one pass: b/cut.csv is not found in cut.csv's new name,
    # nor a file named "a" in "agents" or "a step".
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "cut.csv").write_bytes(cut.read_bytes())
    pd.read_csv(sim_files["test"]).drop(columns="scene").to_csv(tmp_path / "a", index=False)  # its scene: a
    said.clear()
    for files in ([Path("b/cut.csv"), Path("cut.csv"), Path("a")], [tmp_path / "b" / "cut.csv", cut, tmp_path / "a"]):
        load_windows(files, DataConfig(), cache_dir=tmp_path / "cache", log=said.append)
    half = len(said) // 2
    now = [line.replace("b/cut.csv", str(tmp_path / "b" / "cut.csv")).replace(" cut.csv", f" {cut}")
           for line in said[1:half]]
    assert said[half:] == [said[0] + " (windows from cache)"] + now, said
    # Kept as written, a cached warning names options as the caller reading it from the cache gave them.
    from trajcvae.errors import cli_wording

    labelled = pd.read_csv(sim_files["val"])
    labelled["label"] = np.where(labelled.agent_id % 4 == 0, "Biker", "Pedestrian")
    labelled.to_csv(tmp_path / "l.csv", index=False)
    cfg = DataConfig(classes="Pedestrian,Car")
    said.clear()
    load_windows([tmp_path / "l.csv"], cfg, cache_dir=tmp_path / "cache", log=said.append)  # a Python caller's
    assert said[1].startswith("warning: classes: no agent of class Car"), said  # said in its wording
    said.clear()
    cli_wording(True)
    try:
        load_windows([tmp_path / "l.csv"], cfg, cache_dir=tmp_path / "cache", log=said.append)
    finally:
        cli_wording(False)
    assert said[0].endswith("(windows from cache)") and said[1].startswith("warning: --classes: no agent of class Car")


@pytest.mark.filterwarnings("ignore:the other thread's tracks")  # where the other thread's warning goes
def test_a_warning_another_thread_gives_while_windows_are_read_stays_that_threads(tmp_path, sim_files, monkeypatch):
    """Windows read (for train, with the cache) keep their data's warnings as lines, and only theirs: a
    warning another thread gives meanwhile (a service predicting beside a training) stays that thread's, out
    of the training's summary and of the cache, which would say it of the training data ever after."""
    import threading

    import trajcvae.windows as windows_module
    from trajcvae.errors import warn

    reading, given = threading.Event(), threading.Event()
    real = windows_module.read_tracks

    def read_slowly(*args, **kwargs):  # the other thread warns while this one reads
        reading.set()
        assert given.wait(10)
        return real(*args, **kwargs)

    def other():
        assert reading.wait(10)
        warn("warning: the other thread's tracks move at 112 m/s")
        given.set()

    monkeypatch.setattr(windows_module, "read_tracks", read_slowly)
    thread = threading.Thread(target=other)
    thread.start()
    said: list[str] = []
    load_windows([sim_files["val"]], DataConfig(), cache_dir=tmp_path, log=said.append)
    thread.join()
    assert not any("112 m/s" in line for line in said), said
    monkeypatch.setattr(windows_module, "read_tracks", real)
    said.clear()
    load_windows([sim_files["val"]], DataConfig(), cache_dir=tmp_path, log=said.append)  # from the cache
    assert said and not any("112 m/s" in line for line in said), said
