"""Robustness: messy input files, killed or diverging training runs, checkpoints from strangers, big output.

The loader's property-based tests are in test_hypothesis_loader.py.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from trajcvae import checkpoint, tracks
from trajcvae.cli import app
from trajcvae.config import DataConfig
from trajcvae.tracks import read_tracks
from trajcvae.errors import CheckpointError, DataError, TrajCVAEError
from trajcvae.predict import TrajCVAE, predict_to_file
from trajcvae.simulate import simulate_scene
from trajcvae.tracks import summarize
from trajcvae.windows import build_windows, concat_windows, iter_windows

from .conftest import write

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def cli(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, *parts):
    """Exit code 1 and one `error:` line holding `parts`; the only other lines allowed are the data
    summaries printed before the error."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    assert all(line.startswith(("read ", "train: read ", "val: read ")) for line in lines if line not in errors)
    for part in parts:
        assert part in errors[0], result.output


def read_error(path) -> str:
    with pytest.raises(DataError) as e:
        read_tracks([path])
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg
    return msg


# --- bad input: clear one-line errors ------------------------------------------------------------------

@pytest.mark.parametrize("content,expected", [
    (b'{"frame": 0, "agent_id": 1, "x": 0, "y": 0}\n', "missing column(s)"),  # JSON, not CSV
    (b"<html><body>404 not found</body></html>\n", "missing column(s)"),
    (b"\xff\xfef\x00r\x00a\x00m\x00e\x00,\x00a\x00", "NUL bytes"),  # UTF-16 text
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,\xe9,0\n", "not UTF-8"),  # a Latin-1 byte
    (b"frame,agent_id,x,y\n" + b"0,1,0,0\n" * (tracks.SNIFF_BYTES // 8) + b"10,1,\xe9,0\n", "not UTF-8"),  # after 1 MiB
    (b"PK\x03\x04" + bytes(range(256)) * 8, "NUL bytes"),  # a zip / .xlsx
    (b"   \n\t\n\n", "empty file"),
    (b"x" * (tracks.SNIFF_BYTES + 10), "longer than 1 MiB"),  # one endless line: not a table
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,1,0,7\n", "line 3: 5 fields where the first row has 4"),
    (b"frame,agent_id,x,y,speed\n0,1,0,0,a\n10,1,1,0,b,9\n", "line 3: 6 fields where the first row has 5"),
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,1,0,7\n20,1,nope,0\n", "line 3: 5 fields"),  # slow path too
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,1\n", "line 3: column 'y' value nan is missing"),
    (b"frame,agent_id,X,x,y\n0,1,0,0,0\n", "column 'x' appears 2 times"),
    (b"scene,frame,agent_id,x,y\na,0,1,0,0\n ,10,1,1,0\n", "line 3: empty 'scene'"),
    (b"frame,agent_id,x,y\n0, ,0,0\n", "line 2: column 'agent_id' is missing"),
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,NA,0\n", "line 3: column 'x' value 'NA' is not a number"),
    (b"frame,agent_id,x,y\n0,1,0,0\n10,1,-inf,0\n", "line 3: column 'x' value '-inf' is not finite"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_files_give_one_line_errors(tmp_path, content, expected):  # ids: the expected message
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    assert expected in read_error(f)


def test_error_line_numbers_count_blank_lines_and_chunks(tmp_path, monkeypatch):
    """The slow path re-reads in chunks; line numbers must still be the file's own."""
    monkeypatch.setattr(tracks, "SLOW_CHUNK", 3)
    rows = "".join(f"{i * 10},1,{i},0\n" for i in range(9))
    f = write(tmp_path / "a.csv", "\n\nframe,agent_id,x,y\n" + rows + "\n" + "90,1,oops,0\n")
    assert "a.csv line 14: column 'x' value 'oops' is not a number" in read_error(f)


def test_cli_reports_bad_data_in_one_line(tmp_path, trained):
    f = tmp_path / "bad.csv"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    one_line_error(cli("predict", trained, f, "--out", tmp_path / "p.csv"), str(f), "not a text file")
    one_line_error(cli("evaluate", trained, f), str(f), "not a text file")
    one_line_error(cli("train", f, "--out", tmp_path / "run", "--quiet"), str(f), "not a text file")
    assert not (tmp_path / "p.csv").exists()


def test_messages_quoting_the_data_are_printed_verbatim(tmp_path, trained):
    """Values are echoed in errors: text like '[/]' must not be taken for terminal markup."""
    for value in ("[/]", "[bold]"):
        f = write(tmp_path / "m.csv", f"frame,agent_id,x,y\n0,1,{value},0\n")
        one_line_error(cli("predict", trained, f, "--out", tmp_path / "p.csv"), f"value '{value}' is not a number")


def test_running_out_of_memory_is_one_line(tmp_path, trained, sim_files, monkeypatch):
    import trajcvae.predict as predict_mod

    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(predict_mod, "read_tracks", no_memory)
    one_line_error(cli("predict", trained, sim_files["test"], "--out", tmp_path / "p.csv"), "out of memory")


# --- messy but readable input: documented repairs --------------------------------------------------------

def test_excel_style_csv_bom_crlf_semicolons_quotes(tmp_path):
    f = tmp_path / "excel.csv"
    f.write_bytes(b'\xef\xbb\xbf"Frame";"Agent_ID";"X";"Y"\r\n0;7;1.5;2\r\n10;7;1.6;2.1\r\n')
    df = read_tracks([f])
    assert list(df.frame) == [0, 10] and list(df.agent_id) == [7, 7] and list(df.x) == [1.5, 1.6]


def test_headerless_file_in_scientific_notation_is_not_a_header(tmp_path):
    f = write(tmp_path / "eth.txt", "1.0e+01\t1.0e+00\t2.5e-01\t3\n2.0e+01\t1.0e+00\t3.5e-01\t3\n")
    df = read_tracks([f])
    assert list(df.frame) == [10, 20] and df.agent_id.dtype == np.int64 and list(df.x) == [0.25, 0.35]


def test_blank_lines_leading_and_inside_are_skipped(tmp_path):
    f = write(tmp_path / "a.csv", "\n\n  \nframe,agent_id,x,y\n0,1,0,0\n\n   \n10,1,1,0\n\n")
    df = read_tracks([f])
    assert len(df) == 2 and list(df["_line"]) == [5, 8]
    assert tracks.where(df, 1) == f"{f} line 8"


def test_exact_repeats_are_dropped_and_counted_conflicts_are_errors(tmp_path):
    f = write(tmp_path / "a.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,1,0\n0,1,0,0\n10,1,1,0\n20,1,2,0\n")
    df = read_tracks([f])
    assert list(df.frame) == [0, 10, 20] and df.attrs["duplicates_dropped"] == 2
    assert summarize(df).line().endswith("; 2 repeated rows dropped")
    g = write(tmp_path / "b.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,1,0\n10,1,1.5,0\n")
    assert f"{g} line 4: duplicate (scene, frame, agent_id) = (b, 10, 1) at another position; first seen " \
           f"at {g} line 3" in read_error(g)


def test_a_file_named_twice_is_read_once(tmp_path):
    (tmp_path / "d").mkdir()
    f = write(tmp_path / "d" / "a.csv", "frame,agent_id,x,y\n0,1,0,0\n10,1,1,0\n")
    df = read_tracks([tmp_path / "d", f])
    assert len(df) == 2 and df.attrs["duplicates_dropped"] == 0 and df.attrs["files"] == 1


def test_numeric_and_string_ids_across_files(tmp_path):
    a = write(tmp_path / "a.csv", "scene,frame,agent_id,x,y\ns,0,1,0,0\ns,10,1,1,0\n")
    b = write(tmp_path / "b.csv", "scene,frame,agent_id,x,y\ns,0,ped,0,1\ns,10,ped,1,1\n")
    df = read_tracks([a, b])
    assert sorted(df.agent_id.unique()) == ["1", "ped"]


def test_summary_counts_files_rows_agents_scenes_gaps_and_single_frames(tmp_path):
    a = write(tmp_path / "a.csv", "scene,frame,agent_id,x,y\n"
              "s1,20,1,2,0\ns1,0,1,0,0\ns1,10,1,1,0\ns1,40,1,4,0\ns1,50,1,5,0\n"  # agent 1: one gap (30)
              "s1,0,2,0,1\ns1,10,2,1,1\n"
              "s2,0,1,0,0\n"  # single-frame agent
              "s2,0,3,0,0\ns2,10,3,1,0\ns2,20,3,2,0\ns2,40,3,4,0\ns2,60,3,6,0\ns2,60,3,6,0\n")  # two gaps, a repeat
    b = write(tmp_path / "b.txt", "0 5 0 0\n10 5 1 0\n")
    df = read_tracks([a, b])
    s = summarize(df)
    assert (s.files, s.rows, s.agents, s.scenes) == (2, 15, 5, 3)
    assert (s.gaps, s.segments, s.single_frame_agents, s.duplicates_dropped) == (3, 8, 1, 1)
    assert s.line() == ("read 2 files: 15 rows, 5 agents, 3 scenes; 3 gaps split tracks into 8 segments; "
                        "1 single-frame agent; 1 repeated row dropped")
    assert list(df.frame[(df.scene == "s1") & (df.agent_id == 1)]) == [0, 10, 20, 40, 50]  # sorted


def test_train_predict_evaluate_print_the_summary(tmp_path, trained, sim_files):
    expected = summarize(read_tracks([sim_files["test"]])).line()
    assert expected.startswith("read 1 file: ")
    r = cli("predict", trained, sim_files["test"], "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and expected in r.output, r.output
    r = cli("evaluate", trained, sim_files["test"], "-k", 2)
    assert r.exit_code == 0 and expected in r.output, r.output


def test_scene_with_a_single_frame_is_counted_not_fatal(tmp_path, trained, sim_files):
    one = write(tmp_path / "one.csv", "frame,agent_id,x,y\n0,1,0,0\n0,2,3,3\n")
    n = summarize(read_tracks([sim_files["test"], one])).single_frame_agents
    assert n >= 2
    r = cli("predict", trained, sim_files["test"], one, "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    assert f"{n} single-frame agents" in r.output and f"({n} agents with a single position" in r.output
    assert "one" not in set(pd.read_csv(tmp_path / "p.csv").scene)


def test_clean_files_never_take_the_slow_path(tmp_path, monkeypatch, sim_files):
    """Big files: a clean file is parsed straight into numbers, never re-read as text."""
    def boom(*a, **k):
        raise AssertionError("slow path used")

    monkeypatch.setattr(tracks, "_read_slow", boom)
    df = read_tracks([sim_files["test"]])
    assert df.frame.dtype == np.float64 and df.x.dtype == np.float64 and df.agent_id.dtype == np.int64
    assert len(df) == len(pd.read_csv(sim_files["test"]))


# --- training that survives ----------------------------------------------------------------------------

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
    checkpoint.save({"config": {}, "model": {}, "epoch": 0}, path)  # the next good save tidies up
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp file of a killed writer left


def tiny_run_args(train_csv, val_csv, out, epochs):
    return [sys.executable, "-m", "trajcvae", "train", str(train_csv), "--val", str(val_csv), "--out", str(out),
            "--epochs", str(epochs), "--quiet", "--device", "cpu", "--set", "model.hidden=16",
            "--set", "model.z_dim=4", "--set", "model.heads=2", "--set", "train.batch_size=32",
            "--set", "train.k_eval=4", "--set", "train.kl_anneal_epochs=2", "--set", "train.num_threads=1"]


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


def test_exploding_learning_rate_is_caught_at_its_first_bad_step(tmp_path, tiny_files):
    r = cli("train", tiny_files[0], "--val", tiny_files[1], "--out", tmp_path / "run", "--epochs", 2, "--quiet",
            "--set", "model.hidden=16", "--set", "model.heads=2", "--set", "train.lr=1e30",
            "--set", "train.batch_size=16",
            "--max-grad-norm", 0)
    one_line_error(r, "at epoch 1 step 2", "no checkpoint was written")


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
            "--set", "model.hidden=16", "--set", "model.heads=2", "--set", "train.k_eval=2", *option)
    assert r.exit_code == 0, r.output
    if expected is None:
        assert seen == []  # 0 = off
    else:
        assert len(seen) > 0 and set(seen) == {expected}  # every step clipped, at that norm
    assert f"max_grad_norm = {expected or 0.0}" in (out / "config.toml").read_text()


def test_negative_max_grad_norm_is_refused(tmp_path, tiny_files):
    one_line_error(cli("train", tiny_files[0], "--out", tmp_path / "r", "--max-grad-norm", "-1"),
                   "train.max_grad_norm must be >= 0")


# --- checkpoints from strangers ------------------------------------------------------------------------

class _RunsCode:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.parametrize("force_unsafe_env", [False, True])
def test_zip_format_checkpoint_that_would_run_code_is_refused(tmp_path, monkeypatch, force_unsafe_env):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": 1, "version": "0.1.0", "config": {}, "model": {"w": torch.zeros(2)},
                "payload": _RunsCode(marker)}, path)
    torch.load(path, weights_only=False)  # proof that the file does run code when loaded unsafely
    assert marker.exists()
    marker.unlink()
    if force_unsafe_env:  # torch's escape hatch must not switch our loader to unsafe loading
        monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(CheckpointError, match="refused to load"):
        TrajCVAE.load(path)
    one_line_error(cli("predict", path, ROOT / "data" / "demo" / "test.csv", "--out", tmp_path / "p.csv"),
                   "refused to load")
    assert not marker.exists()


def test_checkpoint_from_an_incompatible_version_says_so(tmp_path, trained):
    ckpt = torch.load(trained, weights_only=True)
    newer = {**ckpt, "version": "9.0.0", "config": {**ckpt["config"], "model": {**ckpt["config"]["model"],
                                                                                  "mixture": 3}}}
    torch.save(newer, tmp_path / "newer.pt")
    with pytest.raises(CheckpointError, match=r"written by trajcvae 9\.0\.0 \(format 1\) is incompatible with this "
                                              r"trajcvae .*unknown option 'model\.mixture'"):
        TrajCVAE.load(tmp_path / "newer.pt")
    torch.save({k: v for k, v in ckpt.items() if k != "model"}, tmp_path / "nomodel.pt")
    with pytest.raises(CheckpointError, match="lacks model"):
        TrajCVAE.load(tmp_path / "nomodel.pt")
    raw = Path(trained).read_bytes()
    (tmp_path / "torn.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="not a readable trajcvae checkpoint"):
        TrajCVAE.load(tmp_path / "torn.pt")


def test_resume_from_a_checkpoint_without_training_state_says_so(tmp_path, trained, sim_files):
    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(Path(trained).read_bytes())  # a best.pt: weights only
    one_line_error(cli("train", sim_files["train"], "--out", run, "--resume", "--quiet"),
                   "lacks optimizer", "not a run's last.pt")


# --- big files: streamed, atomic output ----------------------------------------------------------------

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


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("every", [False, True])
def test_streamed_prediction_equals_the_in_memory_one(tmp_path, trained, sim_files, suffix, every):
    out = tmp_path / f"p{suffix}"
    r = predict_to_file(trained, [sim_files["test"], sim_files["val"]], out, k=3, seed=2, every_window=every,
                        chunk=500 if every else 20)  # several pieces, cutting through scenes
    ref = TrajCVAE.load(trained).predict([sim_files["test"], sim_files["val"]], k=3, seed=2, every_window=every)
    got = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert r.rows == len(ref) == len(got) and r.n_windows == len(ref) // (3 * 12)
    assert list(got.columns) == list(ref.columns)
    for col in ("agent_id", "t0", "sample", "step", "frame"):
        np.testing.assert_array_equal(got[col].to_numpy(), ref[col].to_numpy())
    assert list(got.scene.astype(str)) == list(ref.scene.astype(str))
    np.testing.assert_allclose(got[["x", "y"]].to_numpy(), ref[["x", "y"]].to_numpy(), atol=1e-4)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp file left behind


def test_failed_prediction_leaves_the_previous_output_untouched(tmp_path, trained, sim_files, monkeypatch):
    out = tmp_path / "p.csv"
    out.write_text("the previous, complete output\n")
    calls = []
    real = TrajCVAE.sample

    def fail_on_second_piece(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise TrajCVAEError("simulated failure mid-way")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(TrajCVAE, "sample", fail_on_second_piece)
    with pytest.raises(TrajCVAEError, match="mid-way"):
        predict_to_file(trained, [sim_files["test"]], out, k=2, every_window=True, chunk=20)
    assert out.read_text() == "the previous, complete output\n"
    assert [p.name for p in tmp_path.iterdir()] == ["p.csv"]
