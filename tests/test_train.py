import pandas as pd
import pytest
import torch

from trajcvae.config import load_config
from trajcvae.features import WindowTensors
from trajcvae.predict import TrajCVAE
from trajcvae.train import load_windows, train, validate

TINY = ["model.hidden=32", "model.z_dim=4", "train.kl_anneal_epochs=1"]


def test_ema_weights_are_the_ones_validated_and_shipped(sim_files, tmp_path):
    cfg = load_config(None, TINY + ["train.epochs=2", "train.ema=0.9"])
    out = tmp_path / "run"
    train([sim_files["train"]], [sim_files["val"]], cfg, out, progress=False)
    last = torch.load(out / "last.pt", weights_only=True)
    assert any(not torch.equal(last["model"][k], last["raw_model"][k]) for k in last["model"])
    # The val minADE recorded for the best epoch is that of best.pt's (averaged) weights.
    metrics = pd.read_csv(out / "metrics.csv")
    best = torch.load(out / "best.pt", weights_only=True)
    va = load_windows([sim_files["val"]], cfg)
    got = validate(TrajCVAE.load(out / "best.pt"), WindowTensors.from_windows(va), va.fut, cfg.train.k_eval)
    assert got["min_ade"] == pytest.approx(metrics.set_index("epoch").val_min_ade[best["epoch"]], rel=1e-5)


def test_resume_keeps_averaging_rather_than_restarting_the_ema(sim_files, tmp_path):
    # A decay this close to 1 keeps the average at the initial weights while the raw weights move on.
    over = TINY + ["train.ema=0.99999", "train.lr=0.02"]
    out = tmp_path / "run"
    train([sim_files["train"]], [sim_files["val"]], load_config(None, over + ["train.epochs=1"]), out, progress=False)
    before = torch.load(out / "last.pt", weights_only=True)
    train([sim_files["train"]], [sim_files["val"]], load_config(None, over + ["train.epochs=2"]), out,
          resume=True, progress=False)
    after = torch.load(out / "last.pt", weights_only=True)
    assert after["epoch"] == 2
    for k in before["model"]:
        torch.testing.assert_close(after["model"][k], before["model"][k], atol=1e-4, rtol=0)
    assert any((after["raw_model"][k] - after["model"][k]).abs().max() > 1e-2 for k in after["model"])


def test_ema_must_be_a_decay():
    with pytest.raises(Exception, match="train.ema"):
        load_config(None, ["train.ema=1.5"])


def test_augment_reverse_trains_on_twice_the_windows(sim_files, tmp_path):
    runs = {}
    for flag in ("false", "true"):
        cfg = load_config(None, TINY + ["train.epochs=1", f"data.augment_reverse={flag}"])
        train([sim_files["train"]], [sim_files["val"]], cfg, tmp_path / flag, progress=False)
        runs[flag] = torch.load(tmp_path / flag / "best.pt", weights_only=True)
    n = {k: r["stats"]["train_windows"] for k, r in runs.items()}
    assert n["true"] == 2 * n["false"] > 0
    assert runs["true"]["config"]["data"]["augment_reverse"] is True
    # Without val files the held-out windows are cut first, and none of them enters training reversed.
    cfg = load_config(None, TINY + ["train.epochs=1", "data.augment_reverse=true"])
    train([sim_files["train"]], None, cfg, tmp_path / "holdout", progress=False)
    stats = torch.load(tmp_path / "holdout" / "best.pt", weights_only=True)["stats"]
    assert stats["train_windows"] + 2 * stats["val_windows"] == n["true"]


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
