import pandas as pd
import pytest
import torch

from trajcvae.config import load_config
from trajcvae.batch import WindowTensors
from trajcvae.predict import TrajCVAE
from trajcvae.train import train, validate
from trajcvae.windows import load_windows

TINY = ["model.hidden=32", "model.z_dim=4", "train.kl_anneal_epochs=1"]


def test_best_checkpoint_is_picked_only_once_the_kl_weight_is_full(sim_files, tmp_path, monkeypatch):
    # A val minADE that is best at epoch 1 and worsens after: during the KL anneal (3 epochs here) no
    # epoch may become best.pt, so the pick is epoch 3, the first at full weight.
    import trajcvae.train as train_module
    real = train_module.validate
    calls = []

    def worsening(*args, **kwargs):
        calls.append(1)
        return {**real(*args, **kwargs), "min_ade": 0.1 * len(calls)}

    monkeypatch.setattr(train_module, "validate", worsening)
    cfg = load_config(None, ["model.hidden=32", "model.z_dim=4", "train.kl_anneal_epochs=3", "train.epochs=4"])
    train([sim_files["train"]], [sim_files["val"]], cfg, tmp_path / "run", progress=False)
    best = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    assert best["epoch"] == 3 and best["val_min_ade"] == pytest.approx(0.3)
    last = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert last["best_epoch"] == 3
