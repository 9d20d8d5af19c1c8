"""A real 2-process DistributedDataParallel run on CPU (gloo), launched by torchrun."""
import os
import subprocess
import sys

import pandas as pd
import torch

from trajcvae import TrajCVAE


def torchrun(*args, cwd):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "trajcvae", *map(str, args)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_two_process_ddp_run(tmp_path, sim_files):
    out = tmp_path / "run"
    common = ["--val", sim_files["val"], "--out", out, "--quiet", "--set", "model.hidden=32",
              "--set", "train.batch_size=64"]
    r = torchrun("train", sim_files["train"], "--epochs", 2, *common, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "DDP: 2 ranks finished with identical weights" in r.stdout + r.stderr
    assert (r.stdout + r.stderr).count("best epoch") == 1  # only rank 0 reports
    # Exactly one set of files, written by rank 0.
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "config.toml", "curves.png", "last.pt",
                                                     "metrics.csv", "val_predictions.png"]
    assert list(pd.read_csv(out / "metrics.csv").epoch) == [1, 2]
    # The checkpoint is an ordinary one: predict loads it.
    preds = TrajCVAE.load(out / "best.pt").predict([sim_files["test"]], k=3)
    assert len(preds) > 0 and preds[["x", "y"]].notna().all().all()
    first = torch.load(out / "last.pt", weights_only=True)["model"]

    # The same seed gives the same run twice.
    again = tmp_path / "again"
    r = torchrun("train", sim_files["train"], "--epochs", 2, *common[:3], again, *common[4:], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    second = torch.load(again / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(first[k], second[k]) for k in first)

    # --resume under DDP continues the same run.
    r = torchrun("train", sim_files["train"], "--epochs", 3, "--resume", *common, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert list(pd.read_csv(out / "metrics.csv").epoch) == [1, 2, 3]
    resumed = torch.load(out / "last.pt", weights_only=True)
    assert resumed["epoch"] == 3
    assert any(not torch.equal(first[k], resumed["model"][k]) for k in first)
