"""Training: the best epoch is picked fairly, runs survive kills bit-identical, and bad runs stop in one line."""
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from trajcvae import TrajCVAE, checkpoint
from trajcvae._version import __version__, code_digest
from trajcvae.config import load_config
from trajcvae.errors import DataError, NoWindowsError, TrajCVAEError, TrajCVAEWarning
from trajcvae.simulate import simulate_scene
from trajcvae.train import train

from tests.helpers import ROOT, cli, one_line_error, write


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
    cfg = load_config(None, ["model.hidden=32", "model.z_dim=4", "train.kl_anneal_epochs=3", "train.epochs=4",
                             "kset.epochs=0"])
    train([sim_files["train"]], [sim_files["val"]], cfg, tmp_path / "run", progress=False, figures=False)
    best = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    assert best["epoch"] == 3 and best["val_min_ade"] == pytest.approx(0.3)
    last = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert last["best_epoch"] == 3


# --- training that survives ---------------------------------------------------------------------------

def test_kill_during_checkpoint_writes_leaves_the_last_good_one_readable(tmp_path):
    """SIGKILL a process that writes checkpoints back to back, at random moments, again and again: the
    file on disk is always a complete checkpoint (one of those written), never a torn one."""
    path = tmp_path / "last.pt"
    script = textwrap.dedent(f"""
        import torch
        from trajcvae import checkpoint
        w = torch.zeros(8_000_000)  # 32 MB: most of the loop's time is spent writing
        i = 0
        while True:
            i += 1
            w.fill_(float(i))
            checkpoint.save({{"config": {{}}, "model": {{"w": w}}, "epoch": i}}, {str(path)!r})
            print(i, flush=True)
    """)
    rng = np.random.default_rng(0)
    mid_write = 0
    for _ in range(6):
        p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT)
        assert p.stdout.readline()  # one checkpoint done; the next ones are being written
        time.sleep(rng.uniform(0.0, 0.3))
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdout.close()
        mid_write += any(f.name.endswith(".tmp") for f in tmp_path.iterdir())  # killed while writing
        ckpt = checkpoint.load(path)
        w = ckpt["model"]["w"]
        assert w.shape == (8_000_000,) and bool((w == ckpt["epoch"]).all())
        if mid_write >= 2:
            break
    assert mid_write >= 1, "no kill landed while a checkpoint was being written; the test proved nothing"
    for f in tmp_path.glob("*.tmp"):  # a killed writer's temp file, once untouched for 10 minutes
        os.utime(f, (time.time() - 3600, time.time() - 3600))
    checkpoint.save({"config": {}, "model": {}, "epoch": 0}, path)  # the next good save tidies up
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp file of a killed writer left


def tiny_run_args(train_csv, val_csv, out, epochs):
    return [sys.executable, "-m", "trajcvae", "train", str(train_csv), "--val", str(val_csv), "--out", str(out),
            "--epochs", str(epochs), "--quiet", "--device", "cpu", "--set", "model.hidden=16",
            "--set", "model.z_dim=4", "--set", "model.heads=2", "--set", "train.batch_size=32",
            "--set", "train.k_eval=4", "--set", "train.kl_anneal_epochs=2", "--set", "train.num_threads=1",
            "--set", "kset.epochs=0", "--no-figures"]


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    simulate_scene(n_frames=60, seed=21, scene="tr").to_csv(d / "train.csv", index=False)
    simulate_scene(n_frames=45, seed=22, scene="va").to_csv(d / "val.csv", index=False)
    return d / "train.csv", d / "val.csv"


def test_resume_after_sigkill_ends_bit_identical_to_an_uninterrupted_run(tmp_path, tiny_files):
    epochs = 4
    full, cut = tmp_path / "full", tmp_path / "cut"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    a = subprocess.Popen(tiny_run_args(*tiny_files, full, epochs), cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    b = subprocess.Popen(tiny_run_args(*tiny_files, cut, epochs), cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (cut / "last.pt").exists() and b.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    b.send_signal(signal.SIGKILL)  # a real kill, part-way: right after the first checkpoint appeared
    b.wait()
    killed_at = checkpoint.load(cut / "last.pt")["epoch"]
    assert killed_at < epochs, "the run finished before the kill; the test proved nothing"
    out, errs = a.communicate(timeout=120)
    assert a.returncode == 0, errs
    assert "train: read 1 file:" in errs and "val: read 1 file:" in errs  # the data summary lines
    assert "best epoch" in out and "KL weight" not in out  # (4 epochs: its best picked from epoch 2 on)
    r = subprocess.run(tiny_run_args(*tiny_files, cut, epochs) + ["--resume"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr

    for name in ("last.pt", "best.pt"):
        x, y = checkpoint.load(full / name), checkpoint.load(cut / name)
        assert x["epoch"] == y["epoch"]
        assert x["model"].keys() == y["model"].keys()
        for key in x["model"]:
            assert torch.equal(x["model"][key], y["model"][key]), (name, key)
    x, y = checkpoint.load(full / "last.pt"), checkpoint.load(cut / "last.pt")
    for st_x, st_y in zip(x["optimizer"]["state"].values(), y["optimizer"]["state"].values()):
        for key in st_x:
            assert torch.equal(torch.as_tensor(st_x[key]), torch.as_tensor(st_y[key]))
    assert torch.equal(x["rng"], y["rng"]) and torch.equal(x["gen_rng"], y["gen_rng"])
    mx, my = pd.read_csv(full / "metrics.csv"), pd.read_csv(cut / "metrics.csv")
    assert list(my.epoch) == list(range(1, epochs + 1))
    pd.testing.assert_frame_equal(mx.drop(columns="seconds"), my.drop(columns="seconds"))


def test_a_run_records_its_machine_and_a_resume_on_another_says_so(tmp_path, tiny_files):
    """The same seed trains differently on another kind of machine (torch, processor, thread count:
    docs/results.md). A run records what it trained on; resumed on another, it warns and records both."""
    cfg = load_config(None, ["model.hidden=16", "model.z_dim=4", "model.heads=2", "train.epochs=1",
                             "train.kl_anneal_epochs=1", "train.k_eval=4", "kset.epochs=0",
                             "train.device=cpu"])
    run, lines, threads = tmp_path / "run", [], torch.get_num_threads()
    cpu = f"torch {torch.__version__}, CPU ({torch.backends.cpu.get_cpu_capability()})"
    try:
        torch.set_num_threads(1)
        train([tiny_files[0]], [tiny_files[1]], cfg, run, progress=False, log=lines.append, figures=False)
        assert checkpoint.load(run / "last.pt")["stats"]["machine"] == [
            {"from_epoch": 1, "machine": f"{cpu}, 1 thread"}]
        assert not any("warning" in line for line in lines)
        cfg.train.epochs = 2
        torch.set_num_threads(2)
        train([tiny_files[0]], [tiny_files[1]], cfg, run, resume=True, progress=False, log=lines.append, figures=False)
    finally:
        torch.set_num_threads(threads)
    warned = [line for line in lines if line.startswith("warning")]
    assert warned == [f"warning: {run / 'last.pt'} was trained on {cpu}, 1 thread; resumed on {cpu}, 2 threads, "
                      "it rounds differently from epoch 2 on, so it matches no run trained on either alone"]
    record = [{"from_epoch": 1, "machine": f"{cpu}, 1 thread"}, {"from_epoch": 2, "machine": f"{cpu}, 2 threads"}]
    assert TrajCVAE.load(run / "best.pt").stats["machine"] == record
    # Resumed again on the machine it last trained on: nothing to warn of, nothing new to record.
    cfg.train.epochs, lines = 3, []
    try:
        torch.set_num_threads(2)
        train([tiny_files[0]], [tiny_files[1]], cfg, run, resume=True, progress=False, log=lines.append, figures=False)
    finally:
        torch.set_num_threads(threads)
    assert not [line for line in lines if line.startswith("warning")], lines
    assert checkpoint.load(run / "last.pt")["stats"]["machine"] == record


def test_a_run_an_older_trajcvae_made_resumes_saying_what_it_cannot_check(tmp_path, tiny_files):
    """A run from before trajcvae recorded its machine, data and code: the resume warns that its data cannot be
    checked and that it may round differently, or train otherwise (an upgrade: so does one by recorded other
    code, recorded beside it); its config.toml, which holds the flag kset.own_decoder from
    while it was tried, is read as its checkpoint is (not as a hand edit)."""
    cfg = load_config(None, ["model.hidden=16", "model.z_dim=4", "model.heads=2", "train.epochs=1",
                             "train.kl_anneal_epochs=1", "train.k_eval=4", "kset.epochs=0", "train.device=cpu"])
    run, lines = tmp_path / "run", []
    train([tiny_files[0]], [tiny_files[1]], cfg, run, progress=False, figures=False)
    old = torch.load(run / "last.pt", weights_only=True)
    old["stats"] = {k: v for k, v in old["stats"].items() if k not in ("machine", "inputs", "code")}
    torch.save(old, run / "last.pt")
    record = (run / "config.toml").read_text()
    (run / "config.toml").write_text(record.replace("[kset]\n", "[kset]\nown_decoder = false\n", 1))
    cfg.train.epochs = 2
    train([tiny_files[0]], [tiny_files[1]], cfg, run, resume=True, progress=False, log=lines.append, figures=False)
    warned = [line for line in lines if line.startswith("warning")]
    assert len(warned) == 3 and "does not record the data it was trained on (an older trajcvae made it)" in warned[0]
    assert "trained on an unrecorded machine; resumed on" in warned[1] and "only if that was of this kind" in warned[1]
    assert f"{run / 'last.pt'} was trained by an older trajcvae, which did not record its code; resumed by trajcvae " \
        f"{__version__} (code {code_digest()}), its epochs from 2 on are this code's, so it matches an uninterrupted " \
        "run of either only if training did not change between them" in warned[2]
    assert int(pd.read_csv(run / "metrics.csv").epoch.max()) == 2
    # Resumed by other code (an upgrade): said, and recorded beside the first.
    old = torch.load(run / "last.pt", weights_only=True)
    old["stats"]["code"] = [{"from_epoch": 1, "code": "0.2.0 (code 0123)"}]
    torch.save(old, run / "last.pt")
    cfg.train.epochs, lines = 3, []
    train([tiny_files[0]], [tiny_files[1]], cfg, run, resume=True, progress=False, log=lines.append, figures=False)
    assert [line for line in lines if "0.2.0 (code 0123)" in line] == [
        f"warning: {run / 'last.pt'} was trained by trajcvae 0.2.0 (code 0123); resumed by trajcvae {__version__} "
        f"(code {code_digest()}), its epochs from 3 on are this code's, so it matches an uninterrupted run of either "
        "only if training did not change between them"], lines
    now = f"{__version__} (code {code_digest()})"
    assert TrajCVAE.load(run / "best.pt").stats["code"] == [{"from_epoch": 1, "code": "0.2.0 (code 0123)"},
                                                            {"from_epoch": 3, "code": now}]


def test_a_learned_sampler_trains_its_own_decoder_saves_and_uses_it(tmp_path, tiny_files):
    """The sampler trains beside its own copy of the CVAE's decoder, which best.pt keeps (loaded weights-only)
    and `--kset learned` decodes with; the CVAE's decoder is untouched. A sampler saved without a decoder
    of its own (and the temporary `kset.own_decoder` flag in its config) still loads and decodes with the
    CVAE's."""
    cfg = load_config(None, ["model.hidden=16", "model.z_dim=4", "model.heads=2", "train.epochs=1",
                             "train.kl_anneal_epochs=1", "train.k_eval=4", "kset.epochs=2", "kset.k=6"])
    run = tmp_path / "run"
    train([tiny_files[0]], [tiny_files[1]], cfg, run, progress=False, figures=False)
    assert any(key.startswith("decoder.") for key in checkpoint.load(run / "best.pt")["kset"])
    p = TrajCVAE.load(run / "best.pt")
    cvae = checkpoint.load(run / "last.pt")["model"]  # the CVAE before its sampler trained
    assert all(torch.equal(v, cvae[f"decoder.{key}"]) for key, v in p.model.decoder.state_dict().items())
    assert any(not torch.equal(v, cvae[f"decoder.{key}"]) for key, v in p.sampler.decoder.state_dict().items())
    w = p.make_windows([tiny_files[1]], every_window=True)
    own, _ = p.sample_kset(w, k=6, kset="learned")
    p.sampler.decoder = None  # the same maps through the CVAE's decoder
    shared, _ = p.sample_kset(w, k=6, kset="learned")
    assert not np.allclose(own, shared)

    old = torch.load(run / "best.pt", weights_only=True)  # as a sampler without its own decoder was saved
    old["kset"] = {key: v for key, v in old["kset"].items() if not key.startswith("decoder.")}
    old["config"]["kset"]["own_decoder"] = False
    torch.save(old, tmp_path / "old.pt")
    q = TrajCVAE.load(tmp_path / "old.pt")
    assert q.sampler.decoder is None
    assert np.array_equal(q.sample_kset(w, k=6, kset="learned")[0], shared)


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_the_learned_sampler_trains_on_the_device_the_model_trained_on(tmp_path, tiny_files, device, monkeypatch):
    """A run's second stage trains the K-set sampler where the CVAE trained (a GPU run's sampler once met
    CPU windows and the run died after its last epoch); the sampler it saves loads on the CPU."""
    import trajcvae.train as train_module

    cfg = load_config(None, ["model.hidden=16", "model.z_dim=4", "model.heads=2", "train.epochs=1",
                             "train.kl_anneal_epochs=1", "train.k_eval=4", "kset.epochs=1", "kset.k=4",
                             f"train.device={device}"])
    seen, real = [], train_module.train_kset

    def spy(model, *args, **kwargs):
        sampler, info = real(model, *args, **kwargs)
        seen.append((model.device.type, {p.device.type for p in sampler.parameters()}))
        return sampler, info

    monkeypatch.setattr(train_module, "train_kset", spy)
    run = tmp_path / "run"
    train([tiny_files[0]], [tiny_files[1]], cfg, run, progress=False, figures=False)
    assert seen == [(device, {device})]
    p = TrajCVAE.load(run / "best.pt")
    futures, weights = p.sample_kset(p.make_windows([tiny_files[1]]), k=4, kset="learned")
    assert np.isfinite(futures).all() and np.allclose(weights.sum(-1), 1.0)


def test_metrics_rows_cut_short_by_a_kill_are_dropped_on_resume(tmp_path):
    from trajcvae.train import METRICS, _truncate_metrics

    path = tmp_path / "metrics.csv"
    good = [",".join([str(e)] + ["0.5"] * (len(METRICS) - 1)) for e in (1, 2, 3)]
    path.write_text(",".join(METRICS) + "\n" + "\n".join(good) + "\n1,0.5,0.0")  # epoch 4's row, cut short
    _truncate_metrics(path, last_epoch=3)
    assert list(pd.read_csv(path).epoch) == [1, 2, 3]
    _truncate_metrics(path, last_epoch=2)
    assert list(pd.read_csv(path).epoch) == [1, 2]


def test_nan_loss_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path, tiny_files, monkeypatch):
    from trajcvae.model import CVAE

    out = tmp_path / "run"
    real = CVAE.loss

    def nan_after_first_epoch(model, batch, *args, **kwargs):
        terms = real(model, batch, *args, **kwargs)
        if model.training and (out / "last.pt").exists():
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    monkeypatch.setattr(CVAE, "loss", nan_after_first_epoch)
    r = cli("train", tiny_files[0], "--val", tiny_files[1], "--out", out, "--epochs", 3, "--quiet",
            "--set", "model.hidden=16", "--set", "model.heads=2", "--set", "train.k_eval=2")
    one_line_error(r, "loss became nan at epoch 2 step 1", f"last good checkpoint (epoch 1) kept in {out}")
    ckpt = checkpoint.load(out / "last.pt", require=checkpoint.RESUME_KEYS)
    assert ckpt["epoch"] == 1
    assert all(torch.isfinite(t).all() for t in ckpt["model"].values())
    assert list(pd.read_csv(out / "metrics.csv").epoch) == [1]


def test_exploding_learning_rate_is_caught_at_its_first_bad_step(tmp_path, tiny_files, monkeypatch):
    r = cli("train", tiny_files[0], "--val", tiny_files[1], "--out", tmp_path / "run", "--epochs", 2, "--quiet",
            "--set", "model.hidden=16", "--set", "model.heads=2", "--set", "train.lr=1e30",
            "--set", "train.batch_size=16",
            "--max-grad-norm", 0)
    one_line_error(r, "at epoch 1 step 2", "no checkpoint was written")
    # One step an epoch: its update makes the weights NaN, which the epoch's validation is the first to meet.
    r = cli("train", tiny_files[0], "--val", tiny_files[1], "--out", tmp_path / "run", "--epochs", 2, "--quiet",
            "--set", "model.hidden=16", "--set", "model.heads=2", "--set", "train.lr=1e30",
            "--set", "train.batch_size=100000", "--max-grad-norm", 0)
    one_line_error(r, "the weights became NaN at epoch 1 (its last step)", "no checkpoint was written")
    # So too where torch.distributions does not check its parameters (python -O): the NaN is in the numbers.
    monkeypatch.setattr(torch.distributions.Distribution, "_validate_args", False)
    r = cli("train", tiny_files[0], "--val", tiny_files[1], "--out", tmp_path / "run", "--epochs", 2, "--quiet",
            "--set", "model.hidden=16", "--set", "model.heads=2", "--set", "train.lr=1e30",
            "--set", "train.batch_size=100000", "--max-grad-norm", 0)
    one_line_error(r, "the weights became NaN at epoch 1 (its last step)", "no checkpoint was written")


def test_a_run_stopped_before_its_first_epoch_finished_leaves_its_folder_as_it_found_it(tmp_path, tiny_files,
                                                                                      monkeypatch):
    """A run that stops in epoch 1 (a NaN loss, Ctrl-C) has recorded nothing worth keeping: a run folder it
    made is removed, one that was there keeps only what it held, and --resume of a run that never finished
    an epoch says to start it again."""
    from trajcvae.model import CVAE

    out = tmp_path / "run"
    r = cli("train", tiny_files[0], "--val", tiny_files[1], "--out", out, "--epochs", 2, "--quiet", *TINY,
            "--set", "train.lr=1e30", "--set", "train.batch_size=16", "--max-grad-norm", 0)
    one_line_error(r, "loss became nan at epoch 1", "no checkpoint was written")
    assert not out.exists()

    out.mkdir()
    (out / "notes.txt").write_text("mine")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(CVAE, "loss", interrupted)
    cfg = load_config(None, ["model.hidden=16", "model.z_dim=4", "model.heads=2", "train.epochs=2", "kset.epochs=0"])
    with pytest.raises(KeyboardInterrupt):
        train([tiny_files[0]], [tiny_files[1]], cfg, out, progress=False, figures=False)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]

    # Nothing to resume there, nor where the run left no folder, nor where a SIGKILL left its config.toml.
    for folder in (out, tmp_path / "gone" / "runs" / "a"):
        one_line_error(cli("train", tiny_files[0], "--val", tiny_files[1], "--out", folder, "--resume", "--quiet"),
                       f"--resume: {folder} holds no run to resume (no last.pt: no epoch of a run there finished)",
                       "run it again without --resume")
    assert not (tmp_path / "gone").exists()  # nor the folders made on the way to it
    (out / "config.toml").write_text("[train]\nepochs = 2\n")
    one_line_error(cli("train", tiny_files[0], "--val", tiny_files[1], "--out", out, "--resume", "--quiet"),
                   f"--resume: {out} holds no run to resume")
    # A finished run whose last.pt was deleted (to save room) is not trained over.
    (out / "best.pt").write_bytes(b"a model")
    one_line_error(cli("train", tiny_files[0], "--val", tiny_files[1], "--out", out, "--quiet"),
                   f"{out}: already holds a trained model (best.pt, without the last.pt a resume needs)")
    assert (out / "best.pt").read_bytes() == b"a model" and (out / "config.toml").exists()
    # So is a run kept as its record alone (both checkpoints deleted): a new run would write over it.
    (out / "best.pt").unlink()
    (out / "metrics.csv").write_text("epoch,beta\n1,0.5\n2,1.0\n")
    one_line_error(cli("train", tiny_files[0], "--val", tiny_files[1], "--out", out, "--quiet"),
                   f"{out}: already holds a run's record (metrics.csv of 2 epochs, without its checkpoints)")
    assert (out / "metrics.csv").read_text() == "epoch,beta\n1,0.5\n2,1.0\n"
    # A folder where the run writes one of its files is named before any epoch (it failed after the first).
    (out / "metrics.csv").unlink()
    (out / "metrics.csv").mkdir()
    one_line_error(cli("train", tiny_files[0], "--val", tiny_files[1], "--out", out, "--quiet"),
                   f"--out {out}: its metrics.csv is a folder, where the run writes its metrics.csv")
    assert sorted(p.name for p in out.iterdir()) == ["config.toml", "metrics.csv", "notes.txt"]


def test_training_data_that_gives_no_window_is_named_with_what_was_read_and_what_to_try(tmp_path):
    short = tmp_path / "short.csv"
    simulate_scene(n_frames=15, seed=21, scene="tr").to_csv(short, index=False)  # tracks of 15 frames at most
    r = cli("train", short, "--out", tmp_path / "run", "--quiet", "--no-cache")
    one_line_error(r, f"the training set ({short}): no usable windows: no track has 20 consecutive steps of 0.4 s",
                   "--set data.obs_len=N", "agent_id", "give --fps")
    assert "train: read 1 file: " in r.output and "a step is 10 frame ids" in r.output
    assert not (tmp_path / "run").exists()
    # The speed warning said of the tracks comes before the error, to the CLI and to a Python caller.
    cm = tmp_path / "cm.csv"
    pd.read_csv(short).assign(x=lambda d: d.x * 100, y=lambda d: d.y * 100).to_csv(cm, index=False)
    r = cli("train", cm, "--out", tmp_path / "run", "--quiet", "--no-cache")
    lines = r.output.strip().splitlines()
    assert r.exit_code == 1 and lines[0].startswith("train: read 1 file: ") and len(lines) == 3, r.output
    assert lines[1].startswith("train: warning: the median speed of the tracks is 113 m/s ") and "--scale" in lines[1]
    assert lines[2].startswith(f"error: the training set ({cm}): no usable windows: no track has 20 consecutive")
    with pytest.warns(TrajCVAEWarning, match="the median speed of the tracks is 113 m/s"), \
            pytest.raises(NoWindowsError):
        train([cm], None, load_config(None, []), tmp_path / "run", progress=False, figures=False, cache_dir=None)
    # Of two DataFrames, the one with a row at fault is named, and the row as pandas finds it.
    table = simulate_scene(n_frames=40, seed=21, scene="tr")
    table.index = np.arange(100, 100 + len(table))
    bad = table.copy()
    bad.loc[102, "x"] = np.nan
    with pytest.raises(DataError, match=r"^the validation set \(a table\): dataframe\.iloc\[2\]: column 'x' is empty$"):
        train(table, bad, load_config(None, []), tmp_path / "run", progress=False, figures=False)
    assert not (tmp_path / "run").exists()
    # A Python caller's warnings name the set they are about.
    tiny = load_config(None, ["model.hidden=16", "model.z_dim=4", "model.heads=2", "train.epochs=1",
                              "train.k_eval=4", "train.num_threads=1", "kset.epochs=0"])
    cm = table.assign(x=table.x * 100, y=table.y * 100)
    threads = torch.get_num_threads()
    try:
        with pytest.warns(TrajCVAEWarning) as said:
            train(cm, cm.iloc[::-1], tiny, tmp_path / "run", progress=False, figures=False)
    finally:
        torch.set_num_threads(threads)
    assert [str(w.message)[:50] for w in said] == ["the training set: the median speed of the tracks i",
                                                   "the validation set: the median speed of the tracks",
                                                   "the training set: only 74 training windows (a wind",
                                                   "the validation set: 100% of the validation set's w"]


def test_a_resume_of_a_run_that_has_trained_all_its_epochs_says_it_is_complete_and_nothing_more(tmp_path,
                                                                                             tiny_files):
    """Nothing is trained, so nothing is read and no warning is given (a resume on another thread count
    would warn of its rounding, for epochs it does not train)."""
    run, threads = tmp_path / "run", torch.get_num_threads()
    cfg = load_config(None, ["model.hidden=16", "model.z_dim=4", "model.heads=2", "train.epochs=1",
                             "train.k_eval=4", "train.num_threads=1", "kset.epochs=0"])
    try:
        train([tiny_files[0]], [tiny_files[1]], cfg, run, progress=False, figures=False)
        last = (run / "last.pt").read_bytes()
        r = cli("train", tiny_files[0], "--val", tiny_files[1], "--out", run, "--resume", "--quiet", "--no-figures",
                "--set", "train.num_threads=2")
    finally:
        torch.set_num_threads(threads)
    assert r.exit_code == 0, r.output
    assert f"the run in {run} is complete: it has trained its 1 epoch\ngive --epochs 2 or more with --resume to " \
           "train it further" in r.output
    assert "warning" not in r.output and "read 1 file" not in r.output
    assert (run / "last.pt").read_bytes() == last and list(pd.read_csv(run / "metrics.csv").epoch) == [1]


def test_the_automatic_holdout_trains_on_no_frame_of_its_validation_windows(tmp_path):
    """Without --val the latest 10% of each scene's windows are held out, and training keeps only the
    windows whose future ends before the first held-out window starts. Scenes too short for that gap (clips
    of a few seconds) go to one set whole, 1 in 10 to validation (one at least where no other scene gives
    any); a single scene too short is split at the cut alone, and a warning says its scores are optimistic."""
    from trajcvae.train import holdout
    from trajcvae.windows import load_windows

    def windows(*scenes):
        data = tmp_path / "scenes.csv"
        pd.concat([simulate_scene(n_frames=n, seed=i + 3, scene=name) for i, (name, n) in enumerate(scenes)]
                  ).to_csv(data, index=False)
        return load_windows([data], load_config(None, []).data)

    first = lambda v: v.t0 - (v.obs.shape[1] - 1) * v.step  # noqa: E731 (a window's first observed frame)
    w = windows(("long", 150), ("short", 39))
    tr, va = holdout(w, said=pytest.fail)
    t0 = w.t0[w.scene == "long"]
    held = va.t0[va.scene == "long"]
    assert len(held) == (t0 > np.quantile(t0, 0.9)).sum() > 0  # the latest 10%, all kept
    assert (tr.t0[tr.scene == "long"] <= np.quantile(t0, 0.9)).all() and (tr.scene == "long").any()
    assert tr.known_at()[tr.scene == "long"].max() < first(va)[va.scene == "long"].min()
    assert len(tr) + len(va) < len(w)  # the long scene's windows between the two sets are dropped
    assert (tr.scene == "short").sum() == (w.scene == "short").sum() and not (va.scene == "short").any()
    clips = windows(*((f"clip{i:02d}", 39) for i in range(20)))  # 20 clips of 15 s: 2 to validation, whole
    tr, va = holdout(clips, said=pytest.fail)
    assert len(set(va.scene)) == 2 and not set(va.scene) & set(tr.scene)
    assert len(tr) + len(va) == len(clips)
    tr, va = holdout(windows(("a", 39), ("b", 39)), said=pytest.fail)
    assert len(set(va.scene)) == 1 and len(set(tr.scene)) == 1 and set(va.scene) != set(tr.scene)
    # Clips of 24 frames (9.6 s): 5 t0s, the latest holding more than 10% of the windows, are clips as well.
    few = windows(*((f"c{i:02d}", 24) for i in range(12)))
    assert len(np.unique(few.t0)) <= 5
    tr, va = holdout(few, said=pytest.fail)
    assert len(set(va.scene)) == 1 and len(tr) + len(va) == len(few)
    said = []
    tr, va = holdout(few.subset(np.flatnonzero(few.scene == "c00")), said=said.append)  # one: split at its last t0
    assert len(said) == 1 and set(va.t0) == {few.t0[few.scene == "c00"].max()} and len(tr)
    said = []
    tr, va = holdout(windows(("short", 39)), said=said.append)
    assert tr.known_at().max() >= first(va).min()  # they overlap in time, as said
    assert len(said) == 1 and said[0].startswith("warning: scene 'short' is too short to hold out validation "
                                                 "windows that share no frame with its training windows")


@pytest.mark.parametrize("option,expected", [([], 1.0), (["--max-grad-norm", "0.25"], 0.25),
                                             (["--max-grad-norm", "0"], None)])
def test_gradient_clipping_is_on_by_default_and_set_by_option(tmp_path, tiny_files, monkeypatch, option,
                                                              expected):
    seen = []
    real = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm, *args, **kwargs):
        seen.append(max_norm)
        return real(params, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    out = tmp_path / "run"
    r = cli("train", tiny_files[0], "--val", tiny_files[1], "--out", out, "--epochs", 1, "--quiet",
            "--set", "model.hidden=16", "--set", "model.heads=2", "--set", "train.k_eval=2", "--no-figures", *option)
    assert r.exit_code == 0, r.output
    assert not list(out.glob("*.png"))  # --no-figures
    if expected is None:
        assert seen == []  # 0 = off
    else:
        assert len(seen) > 0 and set(seen) == {expected}  # every step clipped, at that norm
    assert f"max_grad_norm = {expected or 0.0}" in (out / "config.toml").read_text()


def test_settings_that_train_to_no_avail_are_refused_before_training_or_said(tmp_path, tiny_files, monkeypatch):
    """A validation K too large for memory is refused before the first epoch (it was refused after it, as -k, an
    option train has not); a speed floor or a decoder floor that puts the decoder's noise above most training
    agents' pace (data.min_speed 1e30 trained to a val minADE of 9e28 m), more threads than the machine's CPUs
    (10,000 ran for minutes), and bf16 on the CPU (which it does not run) are said in a line."""
    args = tiny_run_args(*tiny_files, tmp_path / "r", 1)[3:]

    def given(out, *changes):
        changed = dict(c.split("=", 1)[0:2] for c in changes)  # {"train.k_eval": "1e8", ...}
        new = [f"{a.split('=')[0]}={changed.pop(a.split('=')[0])}" if a.split("=")[0] in changed else a for a in args]
        new[new.index(str(tmp_path / "r"))] = str(tmp_path / out)
        return cli(*new, *[x for key, value in changed.items() for x in ("--set", f"{key}={value}")])

    one_line_error(given("k", "train.k_eval=100000000"), "train.k_eval = 100000000: validating ",
                   "windows by their best of 100,000,000 futures needs about", "use a smaller train.k_eval")
    assert not (tmp_path / "k").exists()
    r = given("floor", "data.min_speed=1000000")
    said = re.search(r"train: warning: model.min_sigma = 0.01 and data.min_speed = 1000000.0 put the decoder's noise "
                     r"floor at 1e\+04 m a step, more than most training agents move in one \(the median, [\d.]+ m\): "
                     r"their futures would be noise", r.output)
    assert r.exit_code == 0 and said, r.output
    r = given("sigma", "model.min_sigma=1")
    assert r.exit_code == 0 and "noise floor" not in r.output, r.output  # (a walker's pace is over 0.2 m a step)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    r = given("threads", "train.num_threads=2", "train.bf16=true")
    assert r.exit_code == 0 and "warning: train.num_threads = 2 is more threads than this machine's 1 CPU, which " \
        "only slows training; set it to 1 or fewer (0: torch's default)" in r.output, r.output
    assert "warning: train.bf16 = true is bfloat16 on CUDA alone; on the CPU this run trains in float32" in r.output


def test_negative_max_grad_norm_is_refused(tmp_path, tiny_files):
    one_line_error(cli("train", tiny_files[0], "--out", tmp_path / "r", "--max-grad-norm", "-1"),
                   "--max-grad-norm must be >= 0 (0 = off) (got -1.0)")


def test_resume_from_a_checkpoint_without_training_state_says_so(tmp_path, trained, sim_files):
    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(Path(trained).read_bytes())  # a best.pt: weights only
    one_line_error(cli("train", sim_files["train"], "--out", run, "--resume", "--quiet"),
                   "lacks optimizer", "not a run's last.pt")


# --- DDP: a real 2-process DistributedDataParallel run on CPU (gloo), launched by torchrun ---------

def torchrun(*args, cwd, wait: bool = True):
    """`trajcvae ARGS` under torchrun, 2 processes: the finished run, or (wait=False) the running Popen."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "trajcvae", *map(str, args)]
    (cwd / "tmp").mkdir(exist_ok=True)  # torchrun's log folders, made under TMPDIR, go with the test's folder
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(cwd / "tmp"), "PYTHONPATH": str(ROOT)}  # this checkout
    if wait:
        return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_process_ddp_run(tmp_path, sim_files, tiny_files):
    out = tmp_path / "run"
    common = ["--val", tiny_files[1], "--out", out, "--quiet", "--set", "model.hidden=32",
              "--set", "train.batch_size=64", "--set", "train.variety_k=4", "--set", "data.memory=2",
              "--set", "kset.epochs=0", "--device", "cpu"]
    r = torchrun("train", tiny_files[0], "--epochs", 1, *common, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "DDP: 2 ranks finished with identical weights" in r.stdout + r.stderr
    assert (r.stdout + r.stderr).count("best epoch") == 1  # only rank 0 reports
    # Exactly one set of files, written by rank 0.
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "config.toml", "curves.png", "last.pt",
                                                     "metrics.csv", "val_predictions.png"]
    assert list(pd.read_csv(out / "metrics.csv").epoch) == [1]
    # The checkpoint is an ordinary one: predict loads it.
    preds = TrajCVAE.load(out / "best.pt").predict([sim_files["test"]], k=3)
    assert len(preds) > 0 and preds[["x", "y"]].notna().all().all()
    first = torch.load(out / "last.pt", weights_only=True)["model"]

    # The same seed gives the same run twice, and --resume under DDP continues the first as if it had never
    # stopped: each rank resumes its own random streams (both runs at once).
    again = tmp_path / "again"
    twice = torchrun("train", tiny_files[0], "--epochs", 2, *common[:3], again, *common[4:], "--no-figures",
                     cwd=tmp_path, wait=False)
    r = torchrun("train", tiny_files[0], "--epochs", 2, "--resume", *common, "--no-figures", cwd=tmp_path)
    _, errs = twice.communicate(timeout=300)
    assert twice.returncode == 0, errs[-3000:]
    assert r.returncode == 0, r.stderr[-3000:]
    resumed, uninterrupted = (torch.load(p / "last.pt", weights_only=True) for p in (out, again))
    assert resumed["epoch"] == uninterrupted["epoch"] == 2
    assert any(not torch.equal(first[k], resumed["model"][k]) for k in first)
    assert all(torch.equal(resumed["model"][k], uninterrupted["model"][k]) for k in first)
    a, b = (pd.read_csv(p / "metrics.csv") for p in (out, again))
    assert list(a.epoch) == [1, 2] and a["val_min_ade"].tolist() == b["val_min_ade"].tolist()


def test_more_processes_than_gpus_are_refused_in_one_line_by_every_rank(monkeypatch):
    """torchrun --nproc_per_node 2 on a one-GPU machine: each process would train on cuda:LOCAL_RANK, and the
    second has none. Every rank refuses before joining the group, naming the count that fits."""
    from trajcvae import distributed
    from trajcvae.errors import TrajCVAEError

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda *a, **k: pytest.fail("joined the group"))
    for rank in ("0", "1"):
        monkeypatch.setenv("RANK", rank)
        monkeypatch.setenv("LOCAL_RANK", rank)
        monkeypatch.setenv("WORLD_SIZE", "2")
        monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
        with pytest.raises(TrajCVAEError, match=r"torchrun started 2 processes on this machine, which has 1 GPU: "
                                                r"pass --nproc_per_node 1 \(one process per GPU\), or device='cpu'"):
            distributed.setup(torch.device("cuda"))


def test_a_machine_of_a_multi_machine_run_checks_its_own_processes_and_only_rank_0_is_main(monkeypatch):
    """torchrun --nnodes 2 --nproc_per_node 1 on machines of one GPU each: each machine runs one process (its
    LOCAL_WORLD_SIZE), which fits its GPU; the second machine's process (local rank 0, rank 1) is not the
    main one, which alone writes the run's files."""
    from trajcvae import distributed

    joined = []
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: bool(joined))
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda backend: joined.append(backend))
    monkeypatch.setattr(distributed.dist, "get_rank", lambda: 1)
    monkeypatch.setattr(distributed.dist, "get_world_size", lambda: 2)
    for name, value in (("RANK", "1"), ("LOCAL_RANK", "0"), ("WORLD_SIZE", "2"), ("LOCAL_WORLD_SIZE", "1")):
        monkeypatch.setenv(name, value)
    info = distributed.setup(torch.device("cuda"))
    assert joined == ["nccl"] and (info.rank, info.world_size, info.local_rank) == (1, 2, 0)
    assert info.enabled and not info.is_main
    # A RANK of some other launcher, without torchrun's WORLD_SIZE and LOCAL_RANK: one process, no group.
    joined.clear()
    for name in ("WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(name)
    assert distributed.setup(torch.device("cuda")) == distributed.DistInfo() and joined == []


TINY = ["--set", "model.hidden=16", "--set", "model.z_dim=4", "--set", "model.heads=2", "--set", "train.k_eval=4",
        "--set", "train.variety_k=4", "--set", "kset.epochs=0", "--no-figures"]


def test_a_run_folder_inside_its_data_folder_is_refused(tmp_path, tiny_files):
    """Its files (metrics.csv) would be read as tracks by the next run on the folder, and by --resume."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "t.csv").write_bytes(Path(tiny_files[0]).read_bytes())
    for out in (data / "runs" / "r", data):
        one_line_error(cli("train", data, "--out", out, "--quiet", *TINY), f"--out {out} is inside the data "
                       f"folder {data}, whose files are read as tracks")
    one_line_error(cli("train", tiny_files[0], "--val", data, "--out", data / "r", "--quiet", *TINY),
                   f"inside the data folder --val {data}")
    assert sorted(p.name for p in data.iterdir()) == ["t.csv"]


def test_a_second_train_into_the_same_run_folder_is_refused_while_the_first_lives(tmp_path, tiny_files):
    out = tmp_path / "run"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(str(sleeper.pid))  # as a live `train` leaves it where start times are unknown
        one_line_error(cli("train", tiny_files[0], "--out", out, "--quiet", *TINY),
                       f"another trajcvae train (pid {sleeper.pid}) is writing this run; wait for it or choose "
                       f"another --out (if no trajcvae train runs there, a killed one left its lock: delete "
                       f"{out / '.lock'})")
        if Path(f"/proc/{sleeper.pid}/stat").exists():  # where the system says when a process started
            from trajcvae.atomic import process_alive as _alive, process_started as _started

            (out / ".lock").write_text(f"{sleeper.pid} {_started(sleeper.pid)}")
            assert _alive(sleeper.pid, _started(sleeper.pid))
            # The same pid, started at another time: the lock's owner is gone and its pid reused.
            assert not _alive(sleeper.pid, str(int(_started(sleeper.pid)) - 1))
        # A lock made but not yet written (a train starting at the same moment) is waited for, not taken over.
        (out / ".lock").write_text("")
        threading.Timer(0.3, lambda: (out / ".lock").write_text(str(sleeper.pid))).start()
        one_line_error(cli("train", tiny_files[0], "--out", out, "--quiet", *TINY),
                       f"another trajcvae train (pid {sleeper.pid}) is writing this run")
    finally:
        sleeper.kill()
        sleeper.wait()
    if os.name == "posix":  # a run holding the lock whose pid means nothing here (another container, or host)
        (out / ".lock").write_text("1 0")
        holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], "
                                   "os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX); print(flush=True); time.sleep(60)",
                                   str(out / ".lock")], stdout=subprocess.PIPE, text=True)
        try:
            holder.stdout.readline()  # it holds the lock now
            one_line_error(cli("train", tiny_files[0], "--out", out, "--quiet", *TINY),
                           "another trajcvae train (pid 1) is writing this run; wait for it or choose another --out")
        finally:
            holder.kill()
            holder.wait()
    # Its process gone (killed), the lock is stale: the next run takes it over, and removes it at the end.
    r = cli("train", tiny_files[0], "--val", tiny_files[1], "--out", out, "--quiet", "--epochs", 1, *TINY)
    assert r.exit_code == 0, r.output
    assert (out / "best.pt").exists() and not (out / ".lock").exists()


@pytest.mark.skipif(os.name != "posix", reason="OS locks (flock) are Linux's and macOS's")
def test_a_file_system_without_locks_trains_with_the_pid_check_alone(tmp_path, tiny_files, monkeypatch):
    """flock refused by the file system (ENOLCK: NFS v3 without its lock service) is no other train holding the
    lock: the run trains, its pid the check (as on Windows), where it said "another train" and never could."""
    import errno
    import fcntl

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    out = tmp_path / "run"
    r = cli("train", tiny_files[0], "--val", tiny_files[1], "--out", out, "--quiet", "--epochs", 1, *TINY)
    assert r.exit_code == 0, r.output
    assert (out / "best.pt").exists() and not (out / ".lock").exists()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:  # a live run's pid in the lock still stops a second one
        (out / ".lock").write_text(str(sleeper.pid))
        one_line_error(cli("train", tiny_files[0], "--out", out, "--resume", "--epochs", 2, "--quiet", *TINY),
                       f"another trajcvae train (pid {sleeper.pid}) is writing this run")
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_run_stopped_before_its_kl_anneal_and_resumed_with_the_epochs_it_did_picks_its_last(tmp_path, tiny_files,
                                                                                              monkeypatch):
    """A 4-epoch run (KL weight full from epoch 3) stopped after its first epoch has no best.pt; resumed with
    --epochs 1, it is a run shorter than its anneal, whose last epoch is its best: best.pt from last.pt, as
    config.toml says, not an error after config.toml was rewritten."""
    import trajcvae.train as train_module

    cfg = load_config(None, ["model.hidden=16", "model.z_dim=4", "model.heads=2", "train.batch_size=32",
                             "train.k_eval=4", "train.kl_anneal_epochs=3", "train.epochs=4", "kset.epochs=0"])
    out, save = tmp_path / "run", checkpoint.save

    def stopped_after_epoch_1(ckpt, path):
        save(ckpt, path)
        if Path(path).name == "last.pt":
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module.checkpoint, "save", stopped_after_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        train([tiny_files[0]], [tiny_files[1]], cfg, out, progress=False, figures=False)
    monkeypatch.setattr(train_module.checkpoint, "save", save)
    assert (out / "last.pt").exists() and not (out / "best.pt").exists()
    cfg.train.epochs = 1
    result = train([tiny_files[0]], [tiny_files[1]], cfg, out, resume=True, progress=False, figures=False)
    best, last = checkpoint.load(out / "best.pt"), checkpoint.load(out / "last.pt")
    assert result.best_epoch == best["epoch"] == 1 and best["config"]["train"]["epochs"] == 1
    assert all(torch.equal(best["model"][k], last["model"][k]) for k in last["model"])
    assert best["val_min_ade"] == pytest.approx(pd.read_csv(out / "metrics.csv").val_min_ade.iloc[0])
    assert TrajCVAE.load(out / "best.pt").config.train.epochs == 1
    again = train([tiny_files[0]], [tiny_files[1]], cfg, out, resume=True, progress=False, figures=False)
    assert (again.best_epoch, again.best_val_min_ade) == (1, best["val_min_ade"])  # complete, as it was
    # A finished run whose best.pt was deleted does not make its last epoch its best: best.pt is named.
    (out / "best.pt").unlink()
    with pytest.raises(TrajCVAEError, match=r"run: its epochs are all trained, and best.pt \(epoch 1\) was removed; "
                                            r"predict with .*last.pt \(epoch 1\), or train anew in another out_dir$"):
        train([tiny_files[0]], [tiny_files[1]], cfg, out, resume=True, progress=False, figures=False)


def test_more_epochs_on_resume_follow_the_longer_cosine_and_pick_best_among_full_kl_epochs(tmp_path, tiny_files,
                                                                                          monkeypatch):
    """A run extended with --resume --epochs trains its new epochs on the cosine a run of that length
    follows (not at the old schedule's floor), and best.pt comes from the epochs with the full KL weight,
    as in a fresh run of that length: even where the short run's pick (its last epoch, before the KL weight
    was full) scored better than any of them."""
    import trajcvae.train as train_module
    real, calls = train_module.validate, []

    def worsening(*args, **kwargs):  # every epoch scores worse than the one before
        calls.append(1)
        return {**real(*args, **kwargs), "min_ade": 0.1 * len(calls)}

    monkeypatch.setattr(train_module, "validate", worsening)
    cfg = load_config(None, ["model.hidden=16", "model.z_dim=4", "model.heads=2", "train.batch_size=32",
                             "train.k_eval=4", "train.kl_anneal_epochs=3", "kset.epochs=0"])
    short, fresh = tmp_path / "short", tmp_path / "fresh"
    cfg.train.epochs = 2
    train([tiny_files[0]], [tiny_files[1]], cfg, short, progress=False, figures=False)
    assert checkpoint.load(short / "best.pt")["epoch"] == 2  # shorter than its anneal: its last epoch
    cfg.train.epochs = 4
    extended = train([tiny_files[0]], [tiny_files[1]], cfg, short, resume=True, progress=False, figures=False)
    assert extended.epochs_run == 2
    train([tiny_files[0]], [tiny_files[1]], cfg, fresh, progress=False, figures=False)
    a, b = pd.read_csv(short / "metrics.csv"), pd.read_csv(fresh / "metrics.csv")
    np.testing.assert_allclose(a.lr.iloc[2:], b.lr.iloc[2:], rtol=1e-9)  # the rates of epochs 3 and 4
    assert a.lr.iloc[0] == cfg.train.lr  # each row holds the rate its epoch trained at
    assert checkpoint.load(short / "best.pt")["epoch"] == checkpoint.load(fresh / "best.pt")["epoch"] == 3
    assert (extended.best_epoch, extended.best_val_min_ade) == (3, pytest.approx(0.3))


def test_a_resume_with_an_edited_homography_is_refused(tmp_path, tiny_files):
    """The homography makes the metres a run is trained and validated in: a resume after its matrix changed
    would mix two scales in the curves and best.pt, so it is refused as other data is."""
    H = tmp_path / "H.txt"
    np.savetxt(H, np.eye(3))
    args = lambda epochs: tiny_run_args(*tiny_files, tmp_path / "run", epochs)[3:] + ["--homography", H]  # noqa
    r = cli(*args(1))
    assert r.exit_code == 0, r.output
    np.savetxt(H, np.diag([1.3, 1.3, 1.0]))
    one_line_error(cli(*args(2), "--resume"), f"--resume: the homography {H} (data.homography) is not the matrix "
                   "the run in")


def test_a_resume_refuses_an_edited_scale_file_and_names_what_differs_as_it_was_given(tmp_path, tiny_files):
    """A file of scales per scene makes the metres as a homography does: edited, a resume is refused. The
    same --classes in another case and order is the same filter, and the same --columns in another order the
    same columns; an option given on the command line is
    named as given; other training files are said to be possibly the same in another order."""
    scales = tmp_path / "s.yaml"
    scales.write_text("tr: 1.0\nva: 1.0\n")
    files = [tmp_path / f.name for f in tiny_files]
    for f, labelled in zip(tiny_files, files):
        table = pd.read_csv(f)
        table.assign(label=np.where(table.agent_id % 2, "pedestrian", "cyclist")).to_csv(labelled, index=False)
    args = lambda epochs, *more: tiny_run_args(*files, tmp_path / "run", epochs)[3:] + [  # noqa: E731
        "--scale", scales, *more]
    r = cli(*args(1, "--classes", "pedestrian,Cyclist", "--columns", "frame=frame,agent_id=agent_id"))
    assert r.exit_code == 0, r.output
    assert re.search(r"best epoch 1 \(val minADE@4 [\d.]+ m; the last epoch: the run ends before its KL weight is "
                     r"full at epoch 2, from which best.pt is picked\)", r.stdout), r.output  # (1 epoch, 2 to anneal)
    assert cli(*args(1, "--classes", "cyclist,PEDESTRIAN"), "--resume").exit_code == 0  # complete: nothing to do
    assert cli(*args(1, "--columns", "agent_id=agent_id,frame=frame"), "--resume").exit_code == 0  # (so --columns)
    one_line_error(cli(*args(2, "--columns", "frame=frame"), "--resume"),
                   "--resume: --columns frame=frame differs from the run's data.columns = 'frame=frame,agent_id=")
    one_line_error(cli(*args(2, "--classes", "cyclist"), "--resume"),
                   "--resume: --classes cyclist differs from the run's data.classes = 'pedestrian,Cyclist'")
    one_line_error(cli(*args(2, "--classes", "cyclist,pedestrian", "--fps", 10), "--resume"),
                   "--resume: --fps 10.0 differs from the run's data.fps = None")
    scales.write_text("tr: 1.3\nva: 1.3\n")
    one_line_error(cli(*args(2, "--classes", "pedestrian,cyclist"), "--resume"),
                   f"--resume: the scales of {scales} (data.scale) are not those the run in", "(an edited file)")
    files[0].write_text(files[0].read_text() + "\n")  # the same rows, but another file: said to be possibly so
    scales.write_text("tr: 1.0\nva: 1.0\n")
    one_line_error(cli(*args(2, "--classes", "pedestrian,cyclist"), "--resume"),
                   "the training set is not the one", "(other files, edited ones, or the same in another order)")


def test_training_on_a_dataset_folder_as_downloaded_is_warned_to_read_its_test_files_too(tmp_path):
    """ETH/UCY's and most benchmarks' layout, <scene>/{train,val,test}/: training on the scene's folder trains
    on its test files, whose scores then flatter the model."""
    for part in ("train", "val", "test"):
        (tmp_path / "eth" / part).mkdir(parents=True)
        write(tmp_path / "eth" / part / f"{part}.csv", f"frame,agent_id,x,y\n0,1,0,0\n10,1,0.{len(part)},0\n")
    cfg = load_config(None, ["model.hidden=16", "train.epochs=1", "kset.epochs=0"])
    eth = re.escape(str(tmp_path / "eth"))
    with pytest.warns(TrajCVAEWarning, match=rf"^{eth} holds train/ and test/ folders, and training reads them all: "
                                             r"its test files would be scored on a model trained on them; give "
                                             rf"{eth}/train with val_paths {eth}/val$"), \
            pytest.raises(NoWindowsError):  # (said before the files are read)
        train([tmp_path / "eth"], None, cfg, tmp_path / "run", progress=False, figures=False)
    with pytest.warns(TrajCVAEWarning, match=rf"give {eth}/train$"), pytest.raises(NoWindowsError):  # --val given
        train([tmp_path / "eth"], [tmp_path / "eth" / "val"], cfg, tmp_path / "run", progress=False, figures=False)
    (tmp_path / "eth" / "test" / "test.csv").rename(tmp_path / "eth" / "val" / "more.csv")
    (tmp_path / "eth" / "test").rmdir()
    with warnings.catch_warnings():  # no test/: nothing said
        warnings.simplefilter("error", TrajCVAEWarning)
        with pytest.raises(NoWindowsError):
            train([tmp_path / "eth"], None, cfg, tmp_path / "run", progress=False, figures=False)


def test_a_validation_file_that_is_also_trained_on_is_warned_of_and_a_table_trains_with_a_cache(tmp_path, tiny_files):
    """--val naming a training file (or a copy of one) picks the best epoch on windows the model trained on:
    said in one line.
    The Python API trains on a DataFrame with a cache folder given (a table is built, not cached), and leaves
    the caller's torch threads and random stream as they were."""
    said = []
    cfg_overrides = ["model.hidden=16", "model.z_dim=4", "model.heads=2", "train.epochs=1", "kset.epochs=0"]
    cfg = load_config(None, cfg_overrides)
    train([tiny_files[0]], [tiny_files[0]], cfg, tmp_path / "same", progress=False, figures=False, log=said.append)
    assert [line for line in said if "--val" in line] == [
        f"warning: --val {tiny_files[0]} is a training file too: the best epoch would be picked on windows the "
        "model trained on; give files it does not train on, or leave --val out (the latest 10% of each scene is "
        "then held out)"]
    copy = tmp_path / "copy.csv"  # a copy under another name is a training file too
    copy.write_bytes(tiny_files[0].read_bytes())
    train([tiny_files[0]], [copy], cfg, tmp_path / "copied", progress=False, figures=False, log=said.append)
    assert [line for line in said if line.startswith(f"warning: --val {copy}")] == [
        f"warning: --val {copy} is a copy of the training file {tiny_files[0]}: the best epoch would be picked on "
        "windows the model trained on; give files it does not train on, or leave --val out (the latest 10% of each "
        "scene is then held out)"]
    table = pd.read_csv(tiny_files[0])
    threads = torch.get_num_threads()
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    r = train(table, [tiny_files[1]], load_config(None, [*cfg_overrides, f"train.num_threads={threads + 1}"]),
              tmp_path / "table", progress=False, figures=False, log=said.append, cache_dir=tmp_path / "cache")
    assert r.best_epoch == 1 and len(list((tmp_path / "cache").glob("windows-*.npz"))) == 1  # the val file's
    # The caller's threads and random stream are as they were (train() seeds and sets its own).
    assert torch.get_num_threads() == threads and torch.equal(torch.rand(3), expected)


def test_a_training_table_with_a_column_the_reader_ignores_is_recorded_whatever_that_column_holds():
    """train() records what it was trained on (for --resume); a DataFrame's extra column of lists or dicts,
    which the reader ignores, is no reason to fail, and a change to it is a change to the data, as in a file."""
    from trajcvae.train import data_digest

    table = pd.DataFrame({"frame": [0, 10], "agent_id": [1, 1], "x": [0.0, 0.5], "y": [0.0, 0.0],
                          "meta": [[1, 2], {"a": 1}]})
    assert data_digest(table) == data_digest(table.copy())
    assert data_digest(table) != data_digest(table.assign(meta=[[1, 3], {"a": 1}]))
    assert data_digest(table.drop(columns="meta")) != data_digest(table)


def test_a_data_set_s_record_changes_with_the_files_its_reading_consults_beside_it(tmp_path):
    """A MOT sequence's seqinfo.ini gives its rate and labels.txt its class names: an edited one reads the same
    gt.txt as other tracks, so a run (or a benchmark's finished split) recorded on the old ones is not reused."""
    from trajcvae.train import data_digest

    seq = tmp_path / "seq"
    (seq / "gt").mkdir(parents=True)
    (seq / "gt" / "gt.txt").write_text("1,1,10,20,5,10,1,1,1\n2,1,11,20,5,10,1,1,1\n")
    before = data_digest([seq])
    (seq / "seqinfo.ini").write_text("[Sequence]\nframeRate=25\n")
    rated = data_digest([seq])
    (seq / "seqinfo.ini").write_text("[Sequence]\nframeRate=30\n")
    assert len({before, rated, data_digest([seq])}) == 3
    (seq / "gt" / "labels.txt").write_text("pedestrian\nperson_on_vehicle\n")
    labelled = data_digest([seq])
    (seq / "gt" / "labels.txt").write_text("person_on_vehicle\npedestrian\n")
    assert data_digest([seq]) != labelled
    # A record made before the files beside the tracks counted (of the tracks alone) still tells them as they are.
    from trajcvae.train import recorded_as
    now = data_digest([seq])
    assert recorded_as(data_digest([seq], beside=False), now, [seq]) and recorded_as(now, now, [seq])
    assert not recorded_as(labelled, now, [seq]) and not recorded_as(None, now, [seq])  # (labels.txt since edited)


def test_a_line_per_epoch_stays_one_line_in_a_narrow_terminal_or_a_pipe_on_stderr(capsys):
    """A log piped to a file (rich's 80 columns) keeps each epoch's line whole, for grep. Progress goes to
    stderr: stdout keeps the result line, so `train ... | head -1` no longer stops the training at its next
    epoch (a closed pipe killed it half-trained, in silence)."""
    from trajcvae.train import _Progress

    line = "epoch 12: train nll -12.34 kl 5.67 | val elbo -10.11 minADE 0.737 m minFDE 1.331 m" + " x" * 20
    with _Progress(True, 10, 0) as bar:
        bar.p.console.width = 40
        bar.log(line)
    said = capsys.readouterr()
    assert line in said.err.splitlines() and said.out == ""


# --- what each epoch trains on, at what rate and weight, and what it records -------------------------

@pytest.fixture(scope="module")
def spied_run(tiny_files, tmp_path_factory):
    """A 3-epoch run (KL weight full from epoch 2) with each training batch's windows, its augmentation
    and its loss recorded: (run folder, TrainResult, [(window indices, (augmented, top_step), loss)] in training
    order); top_step None: the histories read as recorded (`batch.make_batch`)."""
    import trajcvae.train as train_module
    from trajcvae.model import CVAE

    steps, pending = [], []
    real_batch, real_loss = train_module.make_batch, CVAE.loss

    def batch(wt, idx, *args, **kwargs):
        if "generator" in kwargs:  # a training batch (validation draws none)
            pending.append((torch.as_tensor(idx).tolist(), (kwargs.get("augment", False), kwargs.get("top_step"))))
        return real_batch(wt, idx, *args, **kwargs)

    def loss(model, b, *args, **kwargs):
        terms = real_loss(model, b, *args, **kwargs)
        if model.training:
            steps.append((*pending.pop(0), terms["loss"].item()))
        return terms

    cfg = load_config(None, ["model.hidden=16", "model.z_dim=4", "model.heads=2", "train.batch_size=32",
                             "train.k_eval=4", "train.kl_anneal_epochs=2", "train.epochs=3", "kset.epochs=0",
                             "train.device=cpu"])  # evaluate (below) scores on the CPU
    out = tmp_path_factory.mktemp("spied") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(train_module, "make_batch", batch)
        mp.setattr(CVAE, "loss", loss)
        result = train([tiny_files[0]], [tiny_files[1]], cfg, out, progress=False, figures=False)
    return out, result, steps


def _epochs(steps, out):
    """The recorded steps, epoch by epoch."""
    n = checkpoint.load(out / "best.pt")["stats"]["train_windows"]
    per_epoch = -(-n // 32)  # batches of 32
    assert len(steps) == 3 * per_epoch
    return n, [steps[i:i + per_epoch] for i in range(0, len(steps), per_epoch)]


def test_each_epoch_trains_at_its_cosine_rate_and_kl_weight_as_metrics_csv_says(spied_run):
    """docs/model.md: AdamW at train.lr cosine-decayed to lr/20 over the run, and beta = train.beta *
    min(1, epoch / kl_anneal_epochs), epochs counted from 1; metrics.csv holds the rate and weight each epoch
    trained with."""
    out, result, _ = spied_run
    lr, eta, epochs = 2e-3, 2e-3 / 20, 3
    m = pd.read_csv(out / "metrics.csv")
    expected = [eta + (lr - eta) * (1 + np.cos(np.pi * (e - 1) / epochs)) / 2 for e in (1, 2, 3)]
    np.testing.assert_allclose(m.lr, expected, rtol=1e-9)
    assert m.beta.tolist() == [0.5, 1.0, 1.0]
    assert result.epochs_run == 3


def test_each_epoch_trains_on_every_window_once_in_an_order_of_its_own_augmented_as_recorded(spied_run):
    """Every window once an epoch, shuffled anew, augmented (data.augment_*), and its history as it was
    recorded: one that winds back on itself is not cut as predictions cut it (`checks.readable`)."""
    out, _, steps = spied_run
    n, epochs = _epochs(steps, out)
    orders = [[i for idx, _, _ in epoch for i in idx] for epoch in epochs]
    for order in orders:
        assert sorted(order) == list(range(n))  # each window once a epoch
    assert orders[0] != orders[1] and orders[1] != orders[2]  # shuffled anew each epoch
    assert all(read == (True, None) for _, read, _ in steps)


def test_the_training_columns_of_metrics_csv_are_means_over_the_epochs_windows(spied_run):
    """train_loss is the mean of the loss over the epoch's windows: each batch's loss weighs as many windows
    as the batch holds (the last batch is smaller)."""
    out, _, steps = spied_run
    n, epochs = _epochs(steps, out)
    assert len(epochs[0][-1][0]) < 32  # a short last batch, or this proves nothing
    means = [sum(loss * len(idx) for idx, _, loss in epoch) / n for epoch in epochs]
    np.testing.assert_allclose(pd.read_csv(out / "metrics.csv").train_loss, means, rtol=1e-6)


def test_the_validation_scores_a_run_records_are_what_evaluate_gives_on_its_validation_files(spied_run, tiny_files):
    """best.pt's val minADE@k_eval, and the val minADE/minFDE of its epoch in metrics.csv, are `evaluate`'s
    numbers for the model on the --val files at -k k_eval (seed 0, plain draws)."""
    from trajcvae.evaluate import evaluate

    out, result, _ = spied_run
    best = checkpoint.load(out / "best.pt")
    row = pd.read_csv(out / "metrics.csv").set_index("epoch").loc[best["epoch"]]
    scores = evaluate(TrajCVAE.load(out / "best.pt"), [tiny_files[1]], k=4, calibration_draws=0)["scenes"]["overall"]
    assert best["val_min_ade"] == pytest.approx(scores["min_ade"], rel=1e-9) == result.best_val_min_ade
    assert (row.val_min_ade, row.val_min_fde) == pytest.approx((scores["min_ade"], scores["min_fde"]), rel=1e-6)


def test_a_run_records_the_speeds_of_its_training_tracks_in_metres_per_second(spied_run, tiny_files):
    """What the speed warning judges other tracks by (`checks.speed_band`): the training tracks' 90th
    percentile speed in m/s (the simulated walkers: 10 frame ids a 0.4 s step)."""
    out, _, _ = spied_run
    t = pd.read_csv(tiny_files[0]).sort_values(["agent_id", "frame"])
    g = t.groupby("agent_id")
    step = g.frame.diff() == 10
    speeds = np.hypot(g.x.diff(), g.y.diff())[step] / 0.4
    recorded = checkpoint.load(out / "best.pt")["stats"]["speeds"]["p90"]
    assert recorded == pytest.approx(np.percentile(speeds, 90), rel=0.15)


def test_a_validation_set_of_other_speeds_or_of_the_training_tracks_is_warned_of(tmp_path, tiny_files):
    """A --val set read at another rate or in other units (the same walkers at a quarter of their speed: frame
    ids of a 4 times faster clock, or positions in other units) is judged against the training set's speeds,
    not against people walking, which it may pass: the epoch kept would be picked on other motion. So is one
    that holds the training tracks saved anew."""
    quarter = tmp_path / "quarter.csv"
    val = pd.read_csv(tiny_files[1])
    val.assign(x=val.x / 4, y=val.y / 4).to_csv(quarter, index=False)
    r = cli(*tiny_run_args(tiny_files[0], quarter, tmp_path / "run", 1)[3:])
    said = [line for line in r.output.splitlines() if "times the training set's" in line]
    assert r.exit_code == 0 and len(said) == 1, r.output
    assert re.match(r"val: warning: the validation set's agents move at [\d.]+ m/s \(90th percentile\), 0\.\d+ times "
                    r"the training set's [\d.]+ m/s: is one of them read at another rate or in other units \(--fps, "
                    r"--scale\)\?", said[0]), said
    r = cli(*tiny_run_args(*tiny_files, tmp_path / "same", 1)[3:])
    assert r.exit_code == 0 and "times the training set's" not in r.output
    from trajcvae.checks import sets_apart
    assert sets_apart(1.2, 2.3, "test") is None and "test set's agents move at 2.5 m/s" in sets_apart(1.2, 2.5, "test")
    # The training tracks again as validation, saved anew (another name, other decimals): not the same bytes.
    again = tmp_path / "again.csv"
    pd.read_csv(tiny_files[0]).to_csv(again, index=False, float_format="%.3f")
    r = cli(*tiny_run_args(tiny_files[0], again, tmp_path / "again", 1)[3:])
    assert r.exit_code == 0 and "val: warning: 100% of the validation set's windows are the training set's (the same " \
        "agent, t0 and position): is it the training tracks again (saved anew, renamed)?" in r.output, r.output
    part = tmp_path / "part.csv"  # a slice of them, to the centimetre: most of its windows are the training set's
    table = pd.read_csv(tiny_files[0])
    table[table.frame < table.frame.median()].to_csv(part, index=False, float_format="%.2f")
    r = cli(*tiny_run_args(tiny_files[0], part, tmp_path / "part", 1)[3:])
    assert r.exit_code == 0 and re.search(r"val: warning: \d+% of the validation set's windows are the training "
                                          r"set's", r.output), r.output


@pytest.mark.filterwarnings("ignore:the tracks' frame ids have no known rate")
def test_the_noisy_line_is_fitted_to_slow_agents_at_a_short_step(tmp_path, tiny_files):
    """Slow agents (0.24 m/s) at 0.1 s steps (2.4 cm a step) move by the noisy line's measure, a speed: its
    spread is fitted on them, not left at the reference line's (0.35, 0.4) as if they all stood still."""
    from trajcvae.metrics import fit_cv_noise

    for name, path in zip(("train", "val"), tiny_files):
        table = pd.read_csv(path)
        table.assign(x=table.x * 0.05, y=table.y * 0.05).to_csv(tmp_path / f"{name}.csv", index=False)
    r = cli(*tiny_run_args(tmp_path / "train.csv", tmp_path / "val.csv", tmp_path / "run", 1)[3:], "--set",
            "data.dt=0.1", "--set", "data.min_speed=0.01")
    assert r.exit_code == 0, r.output
    model = TrajCVAE.load(tmp_path / "run" / "best.pt")
    w = model.make_windows([tmp_path / "train.csv"], every_window=True)
    assert model.stats["cv_noise"] == fit_cv_noise(w.obs, w.fut, 0.1) != {"heading_std": 0.35, "log_speed_std": 0.4}


def test_a_step_changed_alone_is_warned_of_with_the_lengths_it_gives(tmp_path, tiny_files):
    """data.dt changed, an option counted in steps left at the 0.4 s recipe's: the history, horizon, speed
    floor and memory horizon left are said in seconds, with the settings that keep the recipe's times (README's
    own example for 10 Hz sets the horizon alone); all set, no line."""
    from trajcvae.config import DataConfig
    from trajcvae.train import step_counted

    r = cli(*tiny_run_args(*tiny_files, tmp_path / "run", 1)[3:], "--set", "data.dt=0.2")
    assert r.exit_code == 0 and "warning: data.dt 0.2 s, but data.obs_len, data.pred_len, data.min_speed and " \
        "data.memory_horizon keep the 0.4 s recipe's values: 8 observed steps (1.6 s of history); 12 predicted " \
        "steps (2.4 s ahead); a speed floor of 0.2 m a step (1 m/s); a memory reaching 1000 steps back (200 s); " \
        "for the recipe's times give --set data.obs_len=16 --set data.pred_len=24 --set data.min_speed=0.1 " \
        "--set data.memory_horizon=2000" in r.output, r.output
    assert step_counted(DataConfig(dt=0.1, pred_len=30)).startswith(
        "warning: data.dt 0.1 s, but data.obs_len, data.min_speed and data.memory_horizon keep the 0.4 s recipe's "
        "values: 8 observed steps (0.8 s of history); a speed floor of 0.2 m a step (2 m/s);")
    assert "data.memory_horizon keeps the 0.4 s recipe's value: a memory reaching 1000 steps back (100 s); for the " \
        "recipe's times give --set data.memory_horizon=4000 " in step_counted(
            DataConfig(dt=0.1, obs_len=32, pred_len=48, min_speed=0.05))
    assert step_counted(DataConfig(dt=0.1, obs_len=32, pred_len=48, min_speed=0.05, memory_horizon=4000)) is None
    assert step_counted(DataConfig(dt=0.1, obs_len=32, pred_len=48, min_speed=0.05, memory=0)) is None
    assert step_counted(DataConfig()) is None
