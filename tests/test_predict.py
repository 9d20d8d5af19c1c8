import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from trajcvae import TrajCVAE
from trajcvae.errors import CheckpointError
from trajcvae.predict import OUTPUT_COLUMNS


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


def test_prediction_at_t0_ignores_everything_after_t0(trained, sim_files):
    """Cutting the file at t0 and predicting gives exactly what the full file gives for that t0."""
    p = TrajCVAE.load(trained)
    tracks = pd.read_csv(sim_files["test"])
    full = p.predict(tracks, k=6, seed=1, every_window=True)
    t0 = int(full.t0.mode().iloc[0])  # the t0 with the most agents
    cut = tracks[tracks.frame <= t0]
    # Also disturb what happens after t0, to be sure none of it is used.
    tracks_noisy = tracks.copy()
    late = tracks_noisy.frame > t0
    tracks_noisy.loc[late, ["x", "y"]] += np.random.default_rng(0).normal(0, 5, (late.sum(), 2))
    from_cut = p.predict(cut, k=6, seed=1)
    from_cut = from_cut[from_cut.t0 == t0]
    from_full = full[full.t0 == t0]
    from_noisy = p.predict(tracks_noisy, k=6, seed=1, every_window=True)
    from_noisy = from_noisy[from_noisy.t0 == t0]
    assert len(from_full) > 0
    key = ["agent_id", "sample", "step"]
    merged = from_full.merge(from_cut, on=key, suffixes=("", "_cut"))
    assert len(merged) == len(from_full)
    np.testing.assert_allclose(merged.x, merged.x_cut, atol=1e-5)
    np.testing.assert_allclose(merged.y, merged.y_cut, atol=1e-5)
    np.testing.assert_allclose(from_full[["x", "y"]], from_noisy[["x", "y"]], atol=1e-5)


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
        pickle.dump({"format": 1, "config": {}, "x": Evil()}, f)
    with pytest.raises(CheckpointError, match="refused to load"):
        TrajCVAE.load(path)


def test_incompatible_or_foreign_checkpoints(tmp_path, trained):
    ckpt = torch.load(trained, weights_only=True)
    ckpt["format"] = 999
    torch.save(ckpt, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="incompatible"):
        TrajCVAE.load(tmp_path / "future.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a trajcvae checkpoint"):
        TrajCVAE.load(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="not a readable"):
        TrajCVAE.load(tmp_path / "junk.pt")
    with pytest.raises(CheckpointError, match="not found"):
        TrajCVAE.load(tmp_path / "missing.pt")


def test_builtin_pedestrian_model(sim_files):
    from typer.testing import CliRunner

    from trajcvae.cli import app

    model = TrajCVAE.load("pedestrian")
    df = model.predict([sim_files["test"]], k=3)
    assert len(df) > 0 and list(df.columns) == OUTPUT_COLUMNS
    out = sim_files["test"].parent / "ped.csv"
    r = CliRunner().invoke(app, ["predict", "pedestrian", str(sim_files["test"]), "-k", "2", "--out", str(out)])
    assert r.exit_code == 0, r.output
    pd.testing.assert_frame_equal(pd.read_csv(out), model.predict([sim_files["test"]], k=2).astype(
        {"scene": str}), check_dtype=False, atol=1e-3)


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
