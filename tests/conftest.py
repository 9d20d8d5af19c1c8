"""Fixtures shared by the test files: a private window cache, small simulated data, a tiny trained model.

The suite runs on every core the machine gives it (pytest-xdist, `-n auto` in pyproject.toml): one worker
per core, each on one torch thread, so that workers do not fight over cores. `-n 0` runs it in one process."""
import os
from pathlib import Path

import pandas as pd
import pytest
import torch

from trajcvae.config import load_config
from trajcvae.simulate import simulate_scene
from trajcvae.train import train

pytest.register_assert_rewrite("tests.helpers")  # the shared checks report failures like the tests' own

if os.environ.get("PYTEST_XDIST_WORKER"):  # a worker: one thread, for torch here and for the runs it starts
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: without it (-p no:xdist) the suite runs in one process
def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto`: the cores this process may use (its CPU affinity, and a container's CPU quota), at most 4."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:  # cgroup v2: "max 100000" (no quota) or "200000 100000" (two cores' time)
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return min(cores, 4)


@pytest.fixture(autouse=True, scope="session")
def _private_window_cache(tmp_path_factory):
    """Tests never write into the user's ~/.cache: the window cache goes to a temporary folder."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TRAJCVAE_CACHE", str(tmp_path_factory.mktemp("window-cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def sim_files(tmp_path_factory) -> dict[str, Path]:
    """Small synthetic train/val/test CSVs."""
    d = tmp_path_factory.mktemp("sim")
    files = {}
    for i, split in enumerate(["train", "val", "test"]):
        df = simulate_scene(n_frames=150 if split == "train" else 80, seed=10 + i, scene=f"{split}0")
        files[split] = d / f"{split}.csv"
        df.to_csv(files[split], index=False)
    return files


@pytest.fixture(scope="session")
def trained(sim_files, tmp_path_factory) -> Path:
    """A tiny model trained for a few epochs: the checkpoint path."""
    out = tmp_path_factory.mktemp("run")
    cfg = load_config(None, ["train.epochs=3", "model.hidden=32", "model.z_dim=4", "train.kl_anneal_epochs=1",
                                "kset.epochs=2", "kset.k=6"])
    train([sim_files["train"]], [sim_files["val"]], cfg, out, progress=False)
    return out / "best.pt"


@pytest.fixture
def no_run_figures(monkeypatch):
    """Runs that end without curves.png and val_predictions.png (seconds of matplotlib each), for tests of what
    is around them: the runs of the benchmark and of its scripts, which train with figures (one benchmark test
    keeps them)."""
    import trajcvae.visualize

    monkeypatch.setattr(trajcvae.visualize, "write_run_figures", lambda *args, **kwargs: [])


@pytest.fixture
def track_table() -> pd.DataFrame:
    """Two agents walking in straight lines, 25 frames, one with a gap."""
    rows = []
    for f in range(25):
        rows.append(("s", f * 10, 1, 0.4 * f, 0.0))
        if f != 12:  # agent 2 misses frame 120
            rows.append(("s", f * 10, 2, 0.4 * f, 1.0))
    return pd.DataFrame(rows, columns=["scene", "frame", "agent_id", "x", "y"])
