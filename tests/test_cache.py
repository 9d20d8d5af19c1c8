import numpy as np

from trajcvae.windows import load_windows
from trajcvae.config import DataConfig


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
    second = load_windows([sim_files["val"]], cfg, cache_dir=tmp_path)
    _same(first, second)
    assert list(tmp_path.glob("windows-*.npz")) == entries  # nothing rebuilt


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


def test_string_agent_ids_round_trip(tmp_path):
    data = tmp_path / "s.csv"
    rows = ["frame,agent_id,x,y"] + [f"{f * 10},ped_{a},{0.4 * f},{a}" for f in range(20) for a in (1, 2)]
    data.write_text("\n".join(rows) + "\n")
    a = load_windows([data], DataConfig(), cache_dir=tmp_path / "c")
    b = load_windows([data], DataConfig(), cache_dir=tmp_path / "c")
    assert set(b.agent_id) == {"ped_1", "ped_2"}
    _same(a, b)


def test_damaged_cache_entry_is_rebuilt(tmp_path, sim_files):
    cfg = DataConfig()
    first = load_windows([sim_files["val"]], cfg, cache_dir=tmp_path)
    entry = next(tmp_path.glob("windows-*.npz"))
    entry.write_bytes(b"garbage")
    _same(first, load_windows([sim_files["val"]], cfg, cache_dir=tmp_path))


def test_second_cli_training_run_reads_windows_from_the_cache(tmp_path, sim_files, monkeypatch):
    from typer.testing import CliRunner

    from trajcvae.cli import app

    monkeypatch.setenv("TRAJCVAE_CACHE", str(tmp_path / "cache"))
    args = ["train", str(sim_files["val"]), "--epochs", "1", "--quiet", "--set", "model.hidden=16"]
    first = CliRunner().invoke(app, args + ["--out", str(tmp_path / "a")])
    second = CliRunner().invoke(app, args + ["--out", str(tmp_path / "b")])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "(windows from cache)" not in first.output
    assert "(windows from cache)" in second.output
    third = CliRunner().invoke(app, args + ["--out", str(tmp_path / "c"), "--no-cache"])
    assert third.exit_code == 0 and "(windows from cache)" not in third.output


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
