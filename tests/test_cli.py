"""The command line: train, predict, evaluate and benchmark end to end; every mistake is one line, no traceback."""
import json
import os
import re
import shutil
import threading
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from trajcvae import TrajCVAE, TrajCVAEWarning
from trajcvae.config import load_config
from trajcvae.checks import summarize
from trajcvae.tracks import read_tracks

from tests.helpers import ETH_UCY, app, cli, one_line_error, runner, write


def test_end_to_end_train_predict_evaluate(tmp_path, sim_files):
    """The real thing, small: simulate -> train -> predict -> evaluate, all through the CLI."""
    data = tmp_path / "plaza.csv"
    r = cli("simulate", data, "--scenes", 2, "--frames", 120, "--seed", 5)
    assert r.exit_code == 0, r.output
    out = tmp_path / "run"
    r = cli("train", data, "--val", sim_files["val"], "--out", out, "--epochs", 2, "--quiet",
            "--set", "model.hidden=32", "--set", "kset.epochs=1")
    assert r.exit_code == 0, r.output
    assert (out / "best.pt").exists() and (out / "last.pt").exists()
    # --quiet: no epoch lines, the K-set sampler's neither; its result is still said.
    assert "epoch 1:" not in r.output and "K-set sampler epoch" not in r.output and "K-set sampler: val" in r.output
    metrics = pd.read_csv(out / "metrics.csv")
    assert list(metrics.epoch) == [1, 2]
    for col in ("train_nll", "train_kl", "train_elbo", "val_nll", "val_kl", "val_elbo", "val_min_ade"):
        assert metrics[col].notna().all()

    preds = tmp_path / "preds.parquet"
    r = cli("predict", out / "best.pt", sim_files["test"], "-k", 4, "--out", preds, "--windows")
    assert r.exit_code == 0, r.output
    df = pd.read_parquet(preds)
    assert list(df.columns) == ["scene", "agent_id", "t0", "sample", "step", "frame", "x", "y"]
    assert df["sample"].max() == 3

    js = tmp_path / "eval.json"
    r = cli("evaluate", out / "best.pt", sim_files["test"], "-k", 4, "--json", js)
    assert r.exit_code == 0, r.output
    assert "min@4" in r.output and "overall" in r.output
    lines = r.output.splitlines()
    table = lines[next(i for i, x in enumerate(lines) if x.startswith("best of K")):
                  next(i for i, x in enumerate(lines) if x.startswith("overall")) + 1]
    assert max(len(line) for line in table) <= 80  # the table fits a terminal
    result = json.loads(js.read_text())
    assert (result["model"], result["data"], result["scale"]) == (str(out / "best.pt"), [str(sim_files["test"])],
                                                                  None)  # what was scored, beside the numbers
    assert result["max_gap"] == 0.8 and result["scenes_without_windows"] == [] and result["warning"] is None
    overall = result["scenes"]["overall"]
    assert overall["windows"] == len(df) // (4 * 12)
    # The table agrees with the predictions file: the mean over windows of the best of its 4 futures.
    truth = pd.read_csv(sim_files["test"])
    merged = df.astype({"scene": str}).merge(truth, on=["scene", "agent_id", "frame"], suffixes=("", "_true"))
    assert len(merged) == len(df)
    merged["err"] = ((merged.x - merged.x_true) ** 2 + (merged.y - merged.y_true) ** 2) ** 0.5
    ade = merged.groupby(["agent_id", "t0", "sample"]).err.mean().groupby(["agent_id", "t0"]).min()
    assert overall["min_ade"] == pytest.approx(ade.mean(), abs=1e-3)  # CSV rounding: 4 decimals
    assert overall["ncv_min_ade"] > 0 and overall["cv_ade"] > 0
    cal = result["calibration"]  # plain sampling's honesty, from 200 draws per window
    assert cal["draws"] == 200 and len(cal["final"]["coverage"]) == len(cal["final"]["p"]) == 10
    assert 0 <= cal["final"]["error"] <= 1 and "calibration of full draws of p(y|x) (200 draws)" in r.output
    # The run's learned K-set: 20 futures per agent, with weights.
    r = cli("predict", out / "best.pt", sim_files["test"], "--kset", "learned", "--out", preds)
    assert r.exit_code == 0, r.output
    kset = pd.read_parquet(preds)
    assert kset["sample"].nunique() == 20 and kset.groupby(["agent_id", "step"]).weight.sum().round(6).eq(1).all()

    r = cli("train", data, "--val", sim_files["val"], "--out", out, "--epochs", 3, "--quiet", "--resume",
            "--no-figures")
    assert r.exit_code == 0, r.output
    assert list(pd.read_csv(out / "metrics.csv").epoch) == [1, 2, 3]


def test_a_command_run_in_process_leaves_pythons_warnings_as_they_were(tmp_path, sim_files):
    """The CLI shows warnings as one line each, once a command; after a command run from Python (CliRunner, a
    notebook), that caller's own warnings show again as Python shows them."""
    import warnings
    shown = warnings.showwarning
    (tmp_path / "data").mkdir()
    shutil.copy(sim_files["test"], tmp_path / "data")
    write(tmp_path / "data" / "meta.json", "{}")
    r = cli("predict", "pedestrian", tmp_path / "data", "--out", tmp_path / "p.csv", "-k", 2)
    assert r.exit_code == 0 and r.output.count("skipped 1 JSON file (meta.json)") == 1, r.output
    assert warnings.showwarning is shown


def test_a_result_line_names_its_path_whole_however_long_and_a_link_to_a_folder_to_be_made_is_followed(tmp_path,
                                                                                                       sim_files):
    """A script reads the path from the "-> path" line: it is one line, not wrapped at 80 columns (nor at a
    space). train --out naming a link to a folder not made yet writes the run where it points."""
    out = tmp_path / ("a rather long folder name for the experiments " * 2).strip() / "sweep:x:1.csv"
    r = cli("simulate", out, "--scenes", 2, "--frames", 40, "--prefix", "cam")
    assert r.exit_code == 0 and f"agents -> {out}\n" in r.output, r.output  # no emoji for :x:
    assert set(pd.read_csv(out).scene) == {"cam0", "cam1"}  # files read together: scenes named apart
    (tmp_path / "runs").symlink_to(tmp_path / "made_later")
    r = cli("train", sim_files["val"], "--out", tmp_path / "runs", "--epochs", 1, "--set", "model.hidden=16",
            "--set", "kset.epochs=0", "--no-figures", "--quiet")
    assert r.exit_code == 0 and (tmp_path / "made_later" / "best.pt").is_file(), r.output
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    one_line_error(cli("train", sim_files["val"], "--out", tmp_path / "loop_a", "--epochs", 1),
                   f"--out {tmp_path / 'loop_a'}: a symbolic link in a loop (it leads back to itself)")


def test_a_narrow_terminal_folds_the_tables_numbers_rather_than_cutting_them(monkeypatch, capsys):
    from trajcvae.cli import print_table

    row = {f"{p}_{m}": 10.123456 for p in ("min", "ml", "cv", "ncv_min") for m in ("ade", "fde")}
    monkeypatch.setenv("COLUMNS", "40")
    print_table({"k": 20, "scenes": {"crowds_zara01": {"windows": 123456, **row},
                                     "overall": {"windows": 123456, **row}}})
    out = capsys.readouterr().out
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 40
    assert out.count("3") == 8 * 2 + 2  # every digit of the 8 ADE/FDE cells and 2 window counts is there


def test_a_table_too_narrow_for_its_pairs_stacks_them_rather_than_folding_a_number(monkeypatch, capsys):
    """Under 80 columns an ADE/FDE pair folded mid-number (`0.590/1.` over `073`) reads as other numbers: the
    pairs are stacked, `0.590/` over `1.073`, every number whole."""
    from trajcvae.cli import print_table

    row = {f"{p}_{m}": 0.5 + i / 7 for i, (p, m) in enumerate((p, m) for p in ("min", "ml", "cv", "ncv_min")
                                                             for m in ("ade", "fde"))}
    for name in ("zara1", "site_north_entrance_camera_2"):  # a long name folds; the numbers beside it do not
        monkeypatch.setenv("COLUMNS", "60")
        print_table({"k": 20, "scenes": {name: {"windows": 3139, **row}, "overall": {"windows": 3139, **row}}})
        lines = capsys.readouterr().out.splitlines()
        assert max(len(line) for line in lines) <= 60
        body = " ".join(lines[lines.index(next(line for line in lines if line.startswith(name[:5]))):]).split()
        numbers = [token for token in body if "." in token]
        assert all(re.fullmatch(r"\d\.\d{3}/?", token) for token in numbers), lines
        assert [t for t in numbers if t.endswith("/")] == [f"{v:.3f}/" for v in list(row.values())[::2]] * 2
        assert [t for t in numbers if not t.endswith("/")] == [f"{v:.3f}" for v in list(row.values())[1::2]] * 2


def test_a_piped_table_keeps_each_number_on_its_row_however_large(monkeypatch, capsys):
    """Vehicles or long horizons give errors of 100 m and more: piped to a log, no cell folds onto a line of
    its own (which reads as another row)."""
    from trajcvae.cli import print_table

    row = {f"{p}_{m}": 248.518 + i for i, (p, m) in enumerate((p, m) for p in ("min", "ml", "cv", "ncv_min")
                                                               for m in ("ade", "fde"))}
    monkeypatch.delenv("COLUMNS", raising=False)
    print_table({"k": 20, "scenes": {"crowds_zara01": {"windows": 123456, **row},
                                     "overall": {"windows": 123456, **row}}})
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if line.startswith(("crowds_zara01", "overall"))]) == 2
    assert all("248.518/249.518" in line for line in lines if line.startswith(("crowds_zara01", "overall")))


@pytest.mark.parametrize("args,message", [
    (["predict", "{model}", "{missing}"], "no such file or directory"),
    (["predict", "{model}", "{bad}"], "line 3: column 'x' value 'oops' is not a number"),
    (["predict", "nope.pt", "{test}"], "checkpoint not found"),
    (["predict", os.devnull, "{test}"], "not a regular file (a pipe or a device); give a checkpoint file (.pt)"),
    (["predict", "{model}", "{test}", "-k", "0"], "-k must be >= 1"),
    # A number as a file writes one: Python's float() would read 0_05 as 5.
    (["predict", "{model}", "{test}", "--scale", "0_05"], "--scale 0_05: neither a number of metres per unit nor"),
    (["train", "{test}", "--set", "model.hiden=3"], "unknown option 'model.hiden'"),
    (["train", "{test}", "--classes", "", "--out", "{run}"], "--classes names no label"),  # no unset
    (["train", "{test}", "--set", "train.epochs=2", "--epochs", "1", "--out", "{run}"],
     "--set train.epochs=2 and --epochs 1 both set train.epochs: give one"),
    (["train", "{test}", "--set", "train.epochs=abc"], "invalid value"),
    (["train", "{test}", "--config", "{missing}"], "config file not found"),
    (["evaluate", "{model}", "{test}", "--device", "cuda"], None),
    (["evaluate", "{model}", "{test}", "--device", "tpu"], "--device must be cpu, cuda or auto"),
    (["evaluate", "{model}", "{test}", "--seed", "-1"], "--seed must be between 0 and 2**63 - 1"),
    (["visualize", "{model}", "{test}", "--seed", str(2 ** 63), "--out", "{png}"], "--seed must be between"),
    (["predict", "{model}", "{test}", "--out", "{folder}"], "is a folder; give a file name"),
    (["predict", "{model}", "{test}", "--out", "{under_file}"], "is not a folder"),
    (["evaluate", "{model}", "{test}", "--json", "{folder}"], "--json"),
    (["train", "{test}", "--config", "{folder}"], "is a folder; give a TOML file"),
    (["train", "{test}", "--set", "model.heads=0"], "model.heads must be >= 1"),
    (["train", "{test}", "--set", "model.min_sigma=-1"], "model.min_sigma must be > 0"),
    (["train", "{test}", "--set", "model.encoder=gru"], "option removed from trajcvae"),
    (["train", "{test}", "--out", "{bad}"], "is a file; give a folder for the run"),
    (["predict", "{bad}", "{test}"], "not a trajcvae checkpoint"),
    (["demo", "--epochs", "0"], "--epochs must be >= 1"),
    (["evaluate", "{model}", "{test}", "--calibration", "50"], "--calibration needs at least 100 draws for its density "
     "estimate, or 0 for none (got 50)"),
    (["predict", "{model}", "{test}", "-k", "100000000000"], "futures for an agent needs about"),
    (["train", "{bad}", "--out", "{run}"], "column 'x' value 'oops' is not a number"),  # and no run folder left
    (["simulate", "{sim}", "--rate", "nan"], "--rate must be > 0 and at most 10"),
    (["simulate", "{sim}", "--rate", "1e9", "--frames", "3"], "--rate must be > 0 and at most 10"),  # not a hang
    (["simulate", "{sim}", "--scenes", "0"], "--scenes must be >= 1 (got 0)"),
    (["train", "{test}", "--set", "train.lr=inf"], "train.lr must be a finite number"),
    (["serve", "pedestrian", "--port", "70000"], "--port must be between 0 and 65535"),
    (["serve", "pedestrian", "--fps", "-1"], "--fps must be a positive number"),
    (["visualize", "{model}", "{test}", "--grid", "61", "--out", "{png}"], "--grid must be 1..60"),
    (["predict", "{model}", "{test}", "--out", "{windows}"], "a Windows path (backslashes), which this system reads as "
     "one name with backslashes in it; write its folders with /"),
    (["evaluate", "{model}", "{windows_test}"], "no such file or directory; a Windows path? Write "
     "its folders with /"),
])
def test_user_errors_are_one_line(tmp_path, trained, sim_files, args, message):
    bad = tmp_path / "bad.csv"
    bad.write_text("frame,agent_id,x,y\n0,1,0,0\n10,1,oops,0\n")
    fill = {"{model}": trained, "{missing}": tmp_path / "missing.csv", "{bad}": bad, "{test}": sim_files["test"],
            "{folder}": tmp_path, "{under_file}": bad / "out.csv", "{png}": tmp_path / "x.png",
            "{run}": tmp_path / "run", "{sim}": tmp_path / "sim.csv", "{windows}": tmp_path / "out\\win\\p.csv",
            "{windows_test}": f"{sim_files['test'].parent}\\{sim_files['test'].name}"}
    r = cli(*[fill.get(a, a) for a in args])
    if message is None:  # cuda: fine where a GPU exists, a clear error elsewhere
        import torch
        if torch.cuda.is_available():
            return
        message = "CUDA is not available"
    assert r.exit_code == 1
    assert message in r.output
    assert "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]  # nothing written, no temp file


def test_an_output_in_a_folder_whose_name_holds_a_backslash_is_written(tmp_path, sim_files):
    """A Windows path is refused (test_user_errors_are_one_line), but a folder that exists with a backslash
    in its name is one folder here, and written into."""
    (tmp_path / "a\\b").mkdir()
    r = cli("predict", "pedestrian", sim_files["test"], "-k", 1, "--out", tmp_path / "a\\b" / "p.csv")
    assert r.exit_code == 0 and (tmp_path / "a\\b" / "p.csv").exists(), r.output


def test_refuses_to_overwrite_a_run(tmp_path, sim_files, trained):
    r = cli("train", sim_files["test"], "--out", trained.parent, "--quiet")
    assert r.exit_code == 1 and "--resume" in r.output


def test_a_config_file_where_the_run_records_its_config_is_refused_not_overwritten(tmp_path, sim_files, trained):
    """train writes the run's config.toml into --out: a --config of that very file (the user's own, with its
    comments) would be replaced by the run's record, so it is refused before any work."""
    mine = "# my notes: a quick look\n[train]\nepochs = 1\n"
    (tmp_path / "run").mkdir()
    write(tmp_path / "run" / "config.toml", mine)
    r = cli("train", sim_files["test"], "--config", tmp_path / "run" / "config.toml", "--out", tmp_path / "run")
    one_line_error(r, f"--config {tmp_path / 'run' / 'config.toml'}: train writes the run's own record of its config "
                      "there", "keep your config file outside --out")
    assert (tmp_path / "run" / "config.toml").read_text() == mine and os.listdir(tmp_path / "run") == ["config.toml"]
    # A run's own record, given back with --resume, is the run's config: taken (a finished run: nothing to do).
    shutil.copytree(trained.parent, tmp_path / "done")
    r = cli("train", sim_files["train"], "--val", sim_files["val"], "--config", tmp_path / "done" / "config.toml",
            "--out", tmp_path / "done", "--resume", "--quiet")
    assert r.exit_code == 0 and "give --epochs" in r.output, r.output


def test_ctrl_c_says_in_one_line_what_is_kept_and_how_to_continue(tmp_path, sim_files, monkeypatch):
    """Ctrl-C exits 130, as a shell's interrupted command does, with one line: a run with a finished epoch is
    named with the --resume that continues it; a command that wrote nothing says so."""
    import trajcvae.predict
    import trajcvae.train

    def stopped(after_epoch):
        def run(*args, **kw):
            if after_epoch:
                out = args[3]
                Path(out).mkdir()
                (Path(out) / "last.pt").write_bytes(b"")
            raise KeyboardInterrupt
        return run

    monkeypatch.setattr(trajcvae.train, "train", stopped(False))
    r = cli("train", sim_files["train"], "--out", tmp_path / "a", "--quiet")
    assert r.exit_code == 130 and r.output.strip() == \
        "interrupted: no output was written, and no half-written file was left", r.output
    monkeypatch.setattr(trajcvae.train, "train", stopped(True))
    r = cli("train", sim_files["train"], "--out", tmp_path / "b", "--quiet")
    assert r.exit_code == 130 and r.output.strip().splitlines() == [
        f"interrupted: {tmp_path / 'b'} keeps its last finished epoch (last.pt); continue it with the same command "
        "and --resume"], r.output
    monkeypatch.setattr(trajcvae.predict, "predict_to_file", stopped(False))
    r = cli("predict", "pedestrian", sim_files["test"], "--out", tmp_path / "p.csv")
    assert r.exit_code == 130 and r.output.startswith("interrupted: no output was written"), r.output
    # A kill (a scheduler's time limit) says the same under its signal's name, with the shell's exit code.
    from trajcvae.cli import Killed

    def killed(*args, **kw):
        (Path(args[3]) / "last.pt").write_bytes(b"")
        raise Killed(15)

    (tmp_path / "c").mkdir()
    monkeypatch.setattr(trajcvae.train, "train", killed)
    r = cli("train", sim_files["train"], "--out", tmp_path / "c", "--quiet")
    assert r.exit_code == 143 and r.output.strip() == f"stopped by SIGTERM: {tmp_path / 'c'} keeps its last finished " \
        "epoch (last.pt); continue it with the same command and --resume", r.output
    # CPython can lose the exception a signal handler raises while it compiles a module (a command's first import
    # of it): the kill, recorded, still ends the command with its exit code, though the work got to its end.
    import signal

    before = signal.getsignal(signal.SIGTERM)
    try:  # the handler records the kill it raises, and the next command starts unkilled
        trajcvae.cli.unwind_on_kill()
        with pytest.raises(Killed):
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        assert trajcvae.cli._KILLS == [15]
        trajcvae.cli.unwind_on_kill()
        assert trajcvae.cli._KILLS == []
    finally:
        signal.signal(signal.SIGTERM, before)
    monkeypatch.setattr(trajcvae.cli, "_KILLS", [15])
    r = cli("simulate", tmp_path / "s.csv", "--scenes", 1, "--frames", 40)
    assert r.exit_code == 143 and r.output.strip().splitlines()[-1] == "stopped by SIGTERM: its work was done, and " \
        "its output written whole" and (tmp_path / "s.csv").is_file(), r.output


def test_a_resumed_run_keeps_its_config_and_refuses_options_that_would_change_it(sim_files, trained):
    """--resume continues the run as it was configured: an option that would change it is refused by name
    (not dropped in silence), and so is an --epochs the run has already passed; the run is left as it was."""
    run = trained.parent
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    done = int(pd.read_csv(run / "metrics.csv").epoch.max())
    one_line_error(cli("train", sim_files["train"], "--out", run, "--resume", "--quiet", "--set", "model.hidden=64"),
                   "--resume: model.hidden = 64 differs from the run's")
    one_line_error(cli("train", sim_files["train"], "--out", run, "--resume", "--quiet", "--epochs", done - 1),
                   f"has trained {done} epochs already; give --epochs {done + 1} or more to train it further")
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before


def test_help_lists_commands_and_the_version():
    r = cli("--help")
    for cmd in ("train", "predict", "evaluate", "simulate", "demo"):
        assert cmd in r.output
    # Each command is listed with its docstring's first paragraph as one line, whatever the source's wrapping.
    wide = runner.invoke(app, ["--help"], env={"COLUMNS": "300"}).output
    assert "frame (time for an input in seconds), x, y (lon, lat for an input in degrees), and weight" in wide
    assert "A demo run already in --out is continued" in wide
    from trajcvae import __version__
    r = cli("--version")
    assert r.exit_code == 0 and r.output.strip() == f"trajcvae {__version__}"


@pytest.mark.parametrize("args, message", [
    (["predict", "pedestrian", "x.csv", "-k", "abc"], "Invalid value for '-k' / '--k': "),
    (["predict", "pedestrian", "x.csv", "--fps", "2_5"], "Invalid value for '--fps': '2_5' is not a valid float."),
    (["simulate", "s.csv", "--rate", "0_5"], "Invalid value for '--rate': '0_5' is not a valid float."),  # not 5
    (["predict", "pedestrian", "x.csv", "--noise", "Auto"], "Invalid value for '--noise': 'Auto' is neither a number "
     "of metres nor auto."),
    (["predict", "pedestrian", "x.csv", "-k", "2_0"], "Invalid value for '-k' / '--k': '2_0' is not a valid integer."),
    (["predict", "pedestrian"], "Missing argument 'data'. (see trajcvae predict --help)"),
    (["predikt"], "No such command 'predikt'. Did you mean 'predict'? (see trajcvae --help)"),
    (["predict", "pedestrian", "x.csv", "--kk", "3"], "No such option: --kk"),
    # predict's --noise, or an option as a config file names it: train and benchmark take them as settings.
    (["train", "t.csv", "--noise", "0.1"], "; in train it is a config setting: --set data.noise=0.1 (see trajcvae "
     "train --help)"),
    (["benchmark", "eth-ucy", "--batch-size=64"], "; in benchmark it is a config setting: --set train.batch_size=64"),
    (["train", "t.csv", "--epochs"], "Option '--epochs' requires an argument. (see trajcvae train --help)"),
    (["predict", "pedestrian", "x.csv", "-k"], "(see trajcvae predict --help)"),
    # A shell's glob after --val (--val */val.csv) would train on all validation files but the first.
    (["train", "t.csv", "--val", "a/val.csv", "b/val.csv", "--out", "r"], "b/val.csv right after --val a/val.csv "
     "would be read as training data, as --val takes one path: to validate on it too, write --val a/val.csv --val "
     "b/val.csv; to train on it, put it before --val (see trajcvae train --help)"),
    (["train", "--val=v.csv", "t.csv"], "t.csv right after --val v.csv would be read as training data"),
    (["train", "t.csv", "--val", "", "d.csv"], "an empty path (an unset variable?)"),  # an unset "$VAL", as it is
    # Any path left empty: the current folder would be written into (a run's files) or named in the error.
    (["train", "t.csv", "--out", ""], "Invalid value for '--out': an empty path (an unset variable?)"),
    (["predict", "pedestrian", "x.csv", "--homography", ""], "Invalid value for '--homography': an empty path"),
    (["visualize", "pedestrian", "x.csv", "--background", " "], "Invalid value for '--background': an empty path"),
    (["benchmark", "eth-ucy", "--root", "nowhere", "--out", ""], "Invalid value for '--out': an empty path"),
    (["predict", "pedestrian", "x.csv", "--scale", ""], "Invalid value for '--scale': empty (an unset variable?)"),
    (["visualize", "pedestrian", "x.csv", "--scene-frame", "noon"], "Invalid value for '--scene-frame': 'noon' is "
     "neither a number nor an ISO 8601 date-time (e.g. 2024-05-01T12:00:00.4Z)"),
    (["visualize", "pedestrian", "x.csv", "--t0", "05/01/2024 12:00"], "'05/01/2024 12:00' is neither a number nor"),
])
def test_a_mistake_in_the_commands_use_is_one_line_naming_it(args, message, capsys):
    """The `trajcvae` command itself (`cli.main`, not Typer's test runner): an unknown command or option, a
    value of the wrong type or a missing argument is one line and exit code 2, not Typer's box."""
    from trajcvae.cli import main

    with pytest.raises(SystemExit) as done:
        main(args)
    out = capsys.readouterr()
    assert done.value.code == 2 and out.out == "" and len(out.err.strip().splitlines()) == 1, out.err
    assert out.err.startswith("error: ") and message in out.err, out.err
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("trajcvae ")


def test_a_font_without_a_names_characters_is_one_warning_line_once(monkeypatch, capsys):
    """A scene named 北京站: matplotlib warns of each character its font lacks, two lines each with its source
    line; the CLI says it once, in one line, with the fix."""
    from trajcvae import cli as cli_module

    monkeypatch.setattr(cli_module, "_MISSING_GLYPHS", [])
    for code in (21271, 20140):
        cli_module._warning_line(UserWarning(f"Glyph {code} (\\N{{CJK UNIFIED IDEOGRAPH}}) missing from font(s) "
                                             "DejaVu Sans."), UserWarning, "plots.py", 154)
    err = capsys.readouterr().err
    assert err.startswith("warning: the picture's font lacks some characters of its text (北 ...)") and \
        len(err.strip().splitlines()) == 1, err


def test_help_gives_the_default_of_each_option_that_overrides_the_config():
    """Typer shows no default for an option whose default is None (the config's value stands): its help text
    says that value, the same as the defaults and the demo's config hold."""
    from typer.main import get_command

    from trajcvae.cli import app
    from trajcvae.config import Config
    from trajcvae.demo import DEMO_CONFIG

    commands = get_command(app).commands
    train = {p.name: p.help for p in commands["train"].params}
    t = Config().train
    for name, value in (("epochs", t.epochs), ("seed", t.seed), ("device", t.device),
                        ("max_grad_norm", t.max_grad_norm)):
        assert f"(default: the config's train.{name}, {value} without --config)" in train[name], train[name]
    assert "default: inferred per scene" in train["time_step"]
    demo = {p.name: p.help for p in commands["demo"].params}
    assert f"(default: train.epochs of trajcvae/configs/demo.toml, {load_config(DEMO_CONFIG).train.epochs})" \
        in demo["epochs"]
    r = cli("train", "--help")
    assert r.exit_code == 0 and "--time-step" in r.output


def test_draws_without_a_value_are_the_1000_the_help_gives_and_without_a_kset_are_refused():
    """--draws, a K-set's pool: its help says 1000 by default, and 1000 it is; given without --kset (which alone
    reads it) it is refused, whatever the command."""
    from typer.main import get_command

    from trajcvae.cli import _draws
    from trajcvae.errors import TrajCVAEError

    commands = get_command(app).commands
    for command in ("predict", "evaluate", "visualize", "serve"):
        assert "default 1000" in {p.name: p.help for p in commands[command].params}["draws"]
    assert _draws(None, "kmeans") == _draws(None, "learned") == _draws(None, "none") == 1000
    assert _draws(40, "kmeans") == 40
    with pytest.raises(TrajCVAEError, match="^draws=40 sets the plain draws behind a K-set: add kset=.kmeans."):
        _draws(40, "none")


def test_the_packages_help_and_completion_list_its_two_classes():
    """TrajCVAE and OnlinePredictor load on first use (`import trajcvae` stays light), yet dir() and
    help(trajcvae) name them as they name the rest of __all__."""
    import pydoc

    import trajcvae

    assert set(trajcvae.__all__) <= set(dir(trajcvae))
    text = pydoc.render_doc(trajcvae, renderer=pydoc.plaintext)
    assert "class TrajCVAE" in text and "class OnlinePredictor" in text


def test_the_demo_config_ships_inside_the_package():
    """An installed package has no clone around it: the demo's configuration is package data, declared so
    in pyproject.toml, and differs from the defaults (the demo is the short run the README promises)."""
    import trajcvae
    from trajcvae.config import Config
    from trajcvae.demo import DEMO_CONFIG

    assert DEMO_CONFIG.is_file() and Path(trajcvae.__file__).parent in DEMO_CONFIG.parents
    assert "configs/*.toml" in (Path(trajcvae.__file__).parents[1] / "pyproject.toml").read_text()
    assert load_config(DEMO_CONFIG).train.epochs < Config().train.epochs


def test_benchmark_two_seeds_writes_both_and_resumes(tmp_path, sim_files, no_run_figures):
    """`benchmark eth-ucy` on a one-split stand-in root: the tables, the per-seed table, then a re-run skips."""
    root = tmp_path / "root"
    for part in ("train", "val", "test"):
        (root / "hotel" / part).mkdir(parents=True)
        (root / "hotel" / part / f"{part}.csv").write_bytes(sim_files[part].read_bytes())
    cfg = tmp_path / "tiny.toml"
    cfg.write_text("[model]\nhidden = 16\nz_dim = 4\n[train]\nepochs = 1\nvariety_k = 4\ndevice = \"cpu\"\n"
                   "[data]\nmemory = 2\n[kset]\nepochs = 1\n")  # cpu: the machine it names below
    args = ("benchmark", "eth-ucy", "--root", root, "--config", cfg, "--out", tmp_path / "res",
            "--splits", "hotel", "--seeds", 2, "--is-samples", 4, "--kde-samples", 30, "--calibration", 100,
            "--quiet")
    r = cli(*args, "--draws", 40)
    assert r.exit_code == 0, r.output
    for seed in (0, 1):  # each run's data and its K-set sampler, named by split and seed
        assert f"hotel seed {seed}: train: " in r.output and f"hotel seed {seed}: val: " in r.output
        assert f"hotel seed {seed}: K-set sampler: val minADE@20 " in r.output
    report = json.loads((tmp_path / "res" / "results.json").read_text())
    assert report["seeds"] == 2 and [row["seed"] for row in report["per_seed"]["hotel"]] == [0, 1]
    per_seed = report["per_seed"]["hotel"]
    assert report["splits"]["hotel"]["min_ade"] == pytest.approx((per_seed[0]["min_ade"] + per_seed[1]["min_ade"]) / 2)
    md = (tmp_path / "res" / "results.md").read_text()
    assert "seed 1 minADE/minFDE" in md and f"{per_seed[1]['min_ade']:.3f}/{per_seed[1]['min_fde']:.3f}" in md
    # Both K-set modes beside plain sampling, with their Brier-minFDE, on all windows and on those with
    # at least two agents present.
    assert "k-means of 40 draws" in md and "learned sampler" in md and report["draws"] == 40
    h = report["splits"]["hotel"]
    assert (f"| {h['min_ade']:.3f}/{h['min_fde']:.3f} | {h['km_min_ade']:.3f}/{h['km_min_fde']:.3f}, "
            f"{h['km_brier_fde']:.3f} |") in md
    assert f"{h['ks_min_ade_2']:.3f}/{h['ks_min_fde_2']:.3f}, {h['ks_brier_fde_2']:.3f}" in md
    assert 0 < h["windows_2"] <= h["windows"]
    # Plain sampling's calibration: its table and the reliability diagram.
    assert f"| hotel | {h['cal_error']:.3f} ({h['cal_error_all']:.3f}) |" in md
    # ... and that of the draws fitted to the scene's past, with their best-of-K.
    assert f"| {h['cs_cal_error']:.3f} ({h['cs_cal_error_all']:.3f}) | {h['cs_cal_signed']:+.3f} |" in md
    assert f"{h['min_ade']:.3f}/{h['min_fde']:.3f} -> {h['cs_min_ade']:.3f}/{h['cs_min_fde']:.3f} |" in md
    for picture in ("reliability.png", "reliability_scene.png"):
        assert (tmp_path / "res" / picture).read_bytes()[:4] == b"\x89PNG"
    # What the runs trained on (the same seed trains differently on another kind of machine).
    here = report["machines"]["hotel"][0]
    assert here.startswith(f"torch {torch.__version__}, CPU (") and report["machines"]["hotel"] == [here, here]
    assert f"Trained on {here}." in md
    again = cli(*args, "--draws", 40)
    assert again.exit_code == 0 and again.output.count("done earlier, skipped") == 2, again.output
    assert "warning" not in again.output
    # A run trained elsewhere (its result copied in, say): the table says it mixes machines, and warns.
    done = tmp_path / "res" / "hotel" / "seed1" / "result.json"
    done.write_text(json.dumps({**json.loads(done.read_text()), "machine": "torch 2.9.1, CPU (AVX2), 2 threads"}))
    mixed = cli(*args, "--draws", 40)
    listed = f"{here} (hotel seed 0); torch 2.9.1, CPU (AVX2), 2 threads (hotel seed 1)"
    assert mixed.exit_code == 0 and "trained on different machines" in mixed.output and listed in mixed.output
    assert f"Trained on {listed}." in (tmp_path / "res" / "results.md").read_text()
    # Another pool size: finished splits are re-scored from their checkpoints, not retrained.
    other = cli(*args, "--draws", 60)
    assert other.exit_code == 0 and other.output.count("done earlier; adding") == 2, other.output
    rows = [json.loads((tmp_path / "res" / "hotel" / f"seed{i}" / "result.json").read_text()) for i in (0, 1)]
    assert [r["km_draws"] for r in rows] == [60, 60] and rows[0]["min_ade"] == per_seed[0]["min_ade"]
    bad = cli(*args, "--draws", 5)
    one_line_error(bad, "--draws must be 0 (off) or at least the 20 futures each K-set keeps (got 5)")
    # A result cut short (a disk that filled up): one line naming it, no traceback.
    kept = done.read_text()
    done.write_text(kept[:20])
    r = cli(*args, "--draws", 60)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert f"error: {done}: not a readable result (JSONDecodeError: " in r.output and "; delete it" in r.output
    # ... or edited into JSON of another shape: named, not an AttributeError or a KeyError.
    for edited, what in (("null", "null, not an object"), ("[]", "an array, not an object"),
                         (json.dumps({**json.loads(kept), "min_ade": "0.2"}), "'min_ade' is \"0.2\", not a number"),
                         (json.dumps({k: v for k, v in json.loads(kept).items() if k != "min_fde"}),
                          "'min_fde' is missing, not a number"),
                         (json.dumps({k: v for k, v in json.loads(kept).items() if k != "seed"}),
                          "'seed' is missing, not a number")):
        done.write_text(edited)
        r = cli(*args, "--draws", 60)
        assert r.exit_code == 1 and "Traceback" not in r.output, r.output
        assert f"error: {done}: not a readable result (ValueError: {what}); delete it" in r.output
    done.write_text(kept)
    # A picture that cannot be written (a folder in its place) leaves both tables as they were.
    tables = [(tmp_path / "res" / name).read_bytes() for name in ("results.json", "results.md")]
    (tmp_path / "res" / "reliability_scene.png").unlink()
    (tmp_path / "res" / "reliability_scene.png").mkdir()
    assert cli(*args, "--draws", 60, "--kde-samples", 31).exit_code == 1
    assert [(tmp_path / "res" / name).read_bytes() for name in ("results.json", "results.md")] == tables
    (tmp_path / "res" / "reliability_scene.png").rmdir()
    # Finished runs are never reported as another configuration's: the defaults into the same --out.
    other_config = [a for a in args if a not in ("--config", cfg)]
    one_line_error(cli(*other_config, "--draws", 40), "was trained with data.memory = 2, not 8",
                   "benchmark another configuration in another --out")
    # ... nor as another data set's: the same --out on edited files.
    test = root / "hotel" / "test" / "test.csv"
    rows = test.read_text()
    test.write_text(rows + "\n")  # the same rows, other bytes
    r = cli(*args, "--draws", 60)
    assert r.exit_code == 1 and "was scored on another test set than" in r.output, r.output
    test.write_text(rows)
    # A run whose result.json and last.pt are both gone can be neither reused nor resumed: its folder is named.
    seed1 = tmp_path / "res" / "hotel" / "seed1"
    (seed1 / "result.json").unlink(), (seed1 / "last.pt").unlink()
    r = cli(*args, "--draws", 60)
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert f"error: {seed1} holds a best.pt but neither the last.pt a resume needs nor the result.json of a " \
           f"finished run; delete {seed1} to train the split's seed 1 again" in r.output, r.output


def test_benchmark_without_a_learned_sampler_skips_finished_splits_and_keeps_only_its_own_figures(tmp_path, sim_files,
                                                                                                     no_run_figures):
    """With kset.epochs = 0 a finished split has no learned sampler to score: a re-run with the same options
    skips it. A re-run without calibration leaves no reliability diagram of an earlier run beside its table."""
    root = tmp_path / "root"
    for part in ("train", "val", "test"):
        (root / "hotel" / part).mkdir(parents=True)
        (root / "hotel" / part / f"{part}.csv").write_bytes(sim_files[part].read_bytes())
    cfg = write(tmp_path / "tiny.toml", "[model]\nhidden = 16\nz_dim = 4\n[train]\nepochs = 1\nvariety_k = 4\n"
                "[data]\nmemory = 2\n[kset]\nepochs = 0\n")
    res = tmp_path / "res"
    args = ("benchmark", "eth-ucy", "--root", root, "--config", cfg, "--out", res, "--splits", "hotel",
            "--is-samples", 2, "--kde-samples", 20, "--draws", 30, "--quiet")
    r = cli(*args, "--calibration", 100)
    assert r.exit_code == 0 and "hotel seed 0: training" in r.output, r.output
    assert "k-means of 30 draws" in (res / "results.md").read_text()
    pictures = ("reliability.png", "reliability_scene.png")
    assert all((res / picture).exists() for picture in pictures)
    again = cli(*args, "--calibration", 100)
    assert again.exit_code == 0 and "hotel seed 0: done earlier, skipped" in again.output, again.output
    off = cli(*args, "--calibration", 0)
    assert off.exit_code == 0 and "hotel seed 0: done earlier, skipped" in off.output, off.output
    assert "Calibration" not in (res / "results.md").read_text()
    assert not any((res / picture).exists() for picture in pictures)


def test_benchmark_folders_scores_your_own_splits_in_your_units(tmp_path, sim_files, no_run_figures, monkeypatch):
    """`benchmark folders` runs the benchmark on your own splits, each a folder holding train/, val/ and test/
    (or --root itself is one), read with the data options given (--scale, --fps, --set data.*): the same
    tracks in centimetres with --scale 0.01 score as those in metres do."""
    def split(folder: Path, factor: float) -> Path:
        for part in ("train", "val", "test"):
            table = pd.read_csv(sim_files[part])
            table[["x", "y"]] *= factor
            (folder / part).mkdir(parents=True)
            table.to_csv(folder / part / f"{part}.csv", index=False)
        return folder

    split(tmp_path / "mine" / "walkers", 1.0)
    cm = split(tmp_path / "cm", 100.0)
    cfg = write(tmp_path / "tiny.toml", "[model]\nhidden = 16\nz_dim = 4\n[train]\nepochs = 1\nvariety_k = 4\n"
                "[data]\nmemory = 2\n[kset]\nepochs = 0\n")
    fast = ("--config", cfg, "--is-samples", 2, "--kde-samples", 20, "--draws", 0, "--calibration", 0, "--quiet")
    monkeypatch.chdir(tmp_path)
    r = cli("benchmark", "folders", "--root", tmp_path / "mine", *fast)
    assert r.exit_code == 0 and "walkers seed 0: training" in r.output, r.output
    metres = json.loads((tmp_path / "results" / "mine" / "results.json").read_text())  # results/ and --root's name
    assert metres["suite"] == "folders" and list(metres["splits"]) == ["walkers", "mean"]
    r = cli("benchmark", "folders", "--root", cm, "--scale", 0.01, "--set", "data.max_neighbors=12", "--out",
            tmp_path / "res_cm", *fast)
    assert r.exit_code == 0 and "cm seed 0: training" in r.output, r.output
    report = json.loads((tmp_path / "res_cm" / "results.json").read_text())
    assert report["config"]["data"]["scale"] == 0.01 and report["config"]["data"]["max_neighbors"] == 12
    for key in ("windows", "min_ade", "min_fde", "cv_ade"):
        assert report["splits"]["cm"][key] == pytest.approx(metres["splits"]["walkers"][key], abs=2e-3), key
    # Mistakes are one line, before any training.
    one_line_error(cli("benchmark", "folders", *fast), "benchmark folders needs --root")
    one_line_error(cli("benchmark", "eth-ucy", *fast), "benchmark eth-ucy: no --root given, and its default, "
                   "../shared/datasets/eth_ucy, is not here; give --root")  # (tmp_path has no ../shared)
    one_line_error(cli("benchmark", "folders", "--root", tmp_path / "mine", "--splits", "walkers,runners", *fast),
                   "--splits: no split 'runners' under --root", "(found: walkers)")
    one_line_error(cli("benchmark", "folders", "--root", tmp_path / "res_cm", *fast),
                   "no folder holding train/, val/ and test/")
    one_line_error(cli("benchmark", "folders", "--root", tmp_path / "none", *fast), "none: no such folder")
    for part in ("train", "val", "test"):  # a split laid out as files: how to lay it out
        shutil.copy(sim_files[part], tmp_path / "res_cm" / f"{part}.csv")
    one_line_error(cli("benchmark", "folders", "--root", tmp_path / "res_cm", *fast),
                   "move each of its train.csv, val.csv, test.csv into a folder of its part (train/train.csv, "
                   "val/val.csv, test/test.csv)")
    one_line_error(cli("benchmark", "folders", "--root", tmp_path / "mine", "--out", tmp_path / "seeded", *fast,
                       "--set", "train.seed=7"),  # each run's seed is the benchmark's: it would be dropped
                   "--set train.seed=7: the benchmark seeds its runs itself, 0 to N - 1 for --seeds N")
    assert not (tmp_path / "seeded").exists()


def test_benchmark_without_k_sets_trains_no_sampler_and_a_later_run_adds_it(tmp_path, sim_files, monkeypatch):
    """--draws 0 scores no K-set, so its runs train no learned sampler (most of a short run's time); run again
    with --draws, the finished runs get one, and both K-sets are scored. A window cache that cannot be written
    is said once, however many sets are read."""
    from trajcvae import checkpoint
    from trajcvae.benchmark import run_benchmark

    for part in ("train", "val", "test"):
        (tmp_path / "walkers" / part).mkdir(parents=True)
        pd.read_csv(sim_files[part]).to_csv(tmp_path / "walkers" / part / f"{part}.csv", index=False)
    cfg = write(tmp_path / "tiny.toml", "[model]\nhidden = 16\nz_dim = 4\n[train]\nepochs = 1\nvariety_k = 4\n"
                "[data]\nmemory = 2\n[kset]\nepochs = 1\n")
    said = []
    run = dict(config=cfg, out=tmp_path / "res", seeds=1, is_samples=2, kde_samples=20, calibration_draws=0,
               progress=False, suite="folders", log=said.append)
    monkeypatch.setenv("TRAJCVAE_CACHE", str(write(tmp_path / "a_file", "not a folder")))
    first = run_benchmark(tmp_path / "walkers", draws=0, **run)
    assert sum("window cache" in line and "not writable" in line for line in said) == 1, said
    assert "kset" not in checkpoint.load(tmp_path / "res" / "walkers" / "seed0" / "best.pt")
    for name in ("curves.png", "val_predictions.png"):  # each run's pictures, as train leaves them
        assert (tmp_path / "res" / "walkers" / "seed0" / name).read_bytes()[:4] == b"\x89PNG"
    assert not any("K-set sampler" in line for line in said) and "ks_min_ade" not in first["splits"]["walkers"]
    again = run_benchmark(tmp_path / "walkers", draws=20, **run)
    assert "kset" in checkpoint.load(tmp_path / "res" / "walkers" / "seed0" / "best.pt")
    assert {"km_min_ade", "ks_min_ade"} <= set(again["splits"]["walkers"])


def test_benchmark_folders_refuses_splits_it_would_score_wrongly_before_training_them(tmp_path, sim_files,
                                                                                        no_run_figures):
    """What would give a wrong table is refused in one line: a folder with a part missing (it would leave the
    mean in silence), a test file copied into train/ (scores of windows trained on), a validation file copied
    there (the best epoch picked on windows trained on), a bad row in a later
    split (named before the first split trains), and, in an --out holding runs, an edited homography or a
    run cut short under another recipe (their old numbers, or a resume that mixes two)."""
    def split(folder: Path) -> Path:
        for part in ("train", "val", "test"):
            table = pd.read_csv(sim_files[part])
            table[["x", "y"]] *= 50.0  # pixels of 2 cm
            (folder / part).mkdir(parents=True)
            table.to_csv(folder / part / f"{part}.csv", index=False)
        return folder

    cfg = write(tmp_path / "tiny.toml", "[model]\nhidden = 16\nz_dim = 4\n[train]\nepochs = 1\nvariety_k = 4\n"
                "[data]\nmemory = 2\n[kset]\nepochs = 0\n")
    homography = write(tmp_path / "H.txt", "0.02 0 0\n0 0.02 0\n0 0 1\n")
    fast = ("--config", cfg, "--homography", homography, "--is-samples", 2, "--kde-samples", 20, "--draws", 0,
            "--calibration", 0, "--quiet")
    root = tmp_path / "root"
    split(root / "a_lobby"), split(root / "b_station")
    (root / "b_station" / "val").rename(root / "val")
    one_line_error(cli("benchmark", "folders", "--root", root, "--splits", "b_station", "--out", tmp_path / "res",
                       *fast), f"--splits b_station: {root / 'b_station'} has no val/")
    (root / "val").rename(root / "b_station" / "val")
    shutil.copy(root / "b_station" / "test" / "test.csv", root / "b_station" / "train" / "more.csv")
    one_line_error(cli("benchmark", "folders", "--root", root, "--out", tmp_path / "res", *fast),
                   f"the test file {root / 'b_station' / 'test' / 'test.csv'} is a copy of "
                   f"{root / 'b_station' / 'train' / 'more.csv'}")
    shutil.copy(root / "b_station" / "val" / "val.csv", root / "b_station" / "train" / "more.csv")
    one_line_error(cli("benchmark", "folders", "--root", root, "--out", tmp_path / "res", *fast),
                   f"the validation file {root / 'b_station' / 'val' / 'val.csv'} is a copy of "
                   f"{root / 'b_station' / 'train' / 'more.csv'} (the same bytes): the best epoch would be picked on "
                   "windows the model trains on")
    write(root / "b_station" / "train" / "more.csv", "frame,agent_id,x,y\n10,1,0.0,0.0\n20,1,abc,0.1\n")
    one_line_error(cli("benchmark", "folders", "--root", root, "--out", tmp_path / "res", *fast),
                   "more.csv line 3: column 'x' value 'abc' is not a number")
    assert not (tmp_path / "res").exists()  # a_lobby was not trained first
    # A test set read at another rate or in other units than its training set (a quarter of its speed, which
    # people walking may still have) is warned of, before any training.
    test = root / "a_lobby" / "test" / "test.csv"
    kept = test.read_bytes()
    pd.read_csv(test).assign(x=lambda t: t.x / 4, y=lambda t: t.y / 4).to_csv(test, index=False)
    r = cli("benchmark", "folders", "--root", root, "--out", tmp_path / "res", *fast)
    assert r.exit_code == 1 and re.search(r"a_lobby test: warning: the test set's agents move at [\d.]+ m/s \(90th "
                                          r"percentile\), 0\.\d+ times the training set's", r.output), r.output
    test.write_bytes(kept)
    # So is a test set that is the training tracks saved anew (other decimals, another name): not the same bytes.
    pd.read_csv(root / "a_lobby" / "train" / "train.csv").to_csv(test, index=False, float_format="%.3f")
    r = cli("benchmark", "folders", "--root", root, "--out", tmp_path / "res", *fast)
    assert r.exit_code == 1 and re.search(r"a_lobby test: warning: 9\d% of the test set's windows are the training "
                                          r"set's \(the same agent, t0 and position\)", r.output), r.output
    test.write_bytes(kept)
    # An --out inside a later split's data: its runs would become that split's tracks.
    one_line_error(cli("benchmark", "folders", "--root", root, "--out", root / "b_station" / "train" / "res", *fast),
                   f"--out {root / 'b_station' / 'train' / 'res'} is inside the data folder "
                   f"{root / 'b_station' / 'train'}, whose files are read as tracks")
    assert not (root / "b_station" / "train" / "res").exists() and not (root / "a_lobby" / "seed0").exists()
    (root / "b_station" / "train" / "more.csv").unlink()
    (root / "b_station" / "test").rename(root / "test")  # no split now: said, and left out of the table
    pd.read_csv(sim_files["train"]).to_json(root / "a_lobby" / "train" / "cam.json")  # not read, and said once
    r = cli("benchmark", "folders", "--root", root, "--out", tmp_path / "res", *fast)
    assert r.exit_code == 0 and r.output.count("warning: ") == 2, r.output
    assert r.output.count(f"{root / 'b_station'} has no test/, so it is no split and is left out") == 1, r.output
    assert r.output.count("skipped 1 JSON file (cam.json)") == 1, r.output
    assert list(json.loads((tmp_path / "res" / "results.json").read_text())["splits"]) == ["a_lobby", "mean"]
    (root / "test").rename(root / "b_station" / "test")
    (root / "a_lobby" / "train" / "cam.json").unlink()
    write(homography, "0.04 0 0\n0 0.04 0\n0 0 1\n")  # corrected: the run's numbers are another data set's
    one_line_error(cli("benchmark", "folders", "--root", root, "--splits", "a_lobby", "--out", tmp_path / "res",
                       *fast), f"{tmp_path / 'res' / 'a_lobby' / 'seed0'} was trained with another homography than "
                   f"{homography.resolve()} (an edited file)")
    write(homography, "0.02 0 0\n0 0.02 0\n0 0 1\n")
    (tmp_path / "res" / "a_lobby" / "seed0" / "result.json").unlink()  # as if cut short after its last epoch
    one_line_error(cli("benchmark", "folders", "--root", root, "--splits", "a_lobby", "--out", tmp_path / "res",
                       *fast, "--set", "train.epochs=2"), "a_lobby/seed0 was trained with train.epochs = 1, not 2")
    # A reading option names itself as given: the run read frame ids of no known rate, not at --fps 25.
    one_line_error(cli("benchmark", "folders", "--root", root, "--splits", "a_lobby", "--out", tmp_path / "res",
                       *fast, "--fps", 25), "a_lobby/seed0 was trained with data.fps = None, not 25.0 (--fps 25)")


def test_a_splits_folder_name_keeps_its_row_whole_in_results_md_and_mean_is_the_means(tmp_path):
    """A folder named x|y is a row of as many cells as the heading in results.md; a folder named mean would
    be the mean's row: refused, before anything is read."""
    from trajcvae.benchmark import HEADINGS, markdown_table, split_folders
    from trajcvae.errors import TrajCVAEError
    row = {key: 1.0 for key in HEADINGS}
    table = markdown_table({"x|y": row, "mean": row}).splitlines()
    cells = lambda line: len(line.replace("\\|", "").split("|"))  # noqa: E731
    assert cells(table[2]) == cells(table[0]) == cells(table[3]) and table[2].startswith("| x\\|y |"), table
    for part in ("train", "val", "test"):
        (tmp_path / "mean" / part).mkdir(parents=True)
    with pytest.raises(TrajCVAEError, match="a split named 'mean' .* would be the table's mean row; rename its folder"):
        split_folders("folders", tmp_path, None)
    for part in ("train", "val", "test"):
        (tmp_path / "lobby" / part).mkdir(parents=True)
    assert split_folders("folders", tmp_path, ["lobby"]) == {"lobby": tmp_path / "lobby"}  # mean is not run
    # A folder named in decomposed Unicode (macOS's u + combining diaeresis) is the split typed composed (ü).
    decomposed = unicodedata.normalize("NFD", "Zürich")
    for part in ("train", "val", "test"):
        (tmp_path / decomposed / part).mkdir(parents=True)
    assert split_folders("folders", tmp_path, [unicodedata.normalize("NFC", "Zürich")]) == {
        decomposed: tmp_path / decomposed}


TRAINED_AS = ["train.epochs=3", "model.hidden=32", "model.z_dim=4", "train.kl_anneal_epochs=1", "kset.epochs=2",
              "kset.k=6"]  # conftest's `trained` fixture


def test_a_mean_of_counts_stays_a_whole_number_only_where_it_is_one():
    """results.json's counts (windows, epochs) are whole where every run has the same; a mean of other counts
    keeps its fraction (never truncated), a mean of measures is a float, and n/a stays n/a."""
    from trajcvae.benchmark import _mean
    assert _mean([417, 417]) == 417 and isinstance(_mean([417, 417]), int)
    assert _mean([417, 418]) == 417.5 and _mean([27, 28, 28]) == pytest.approx(27.667, abs=1e-3)
    assert isinstance(_mean([0.5, 0.5]), float) and isinstance(_mean([True, True]), float)
    assert _mean([1, None]) is None


def test_benchmark_mean_rows_average_the_splits_and_each_seed_over_the_splits(tmp_path, trained, sim_files):
    """Two splits of two seeds, finished before (their numbers as written): each split's row is the mean of its
    seeds, the table's mean row the mean over the splits, and the per-seed table's mean row each seed's mean
    over the splits (not seed 0's, not the first split's). A run whose numbers other trajcvae code made (an
    upgrade since) is reused as it is, and said so in a line and in results.md; one that does not record its
    test files (an older trajcvae's) is refused: nothing tells them from these."""
    from trajcvae import checkpoint
    from trajcvae._version import __version__, code_digest
    from trajcvae.benchmark import HEADINGS, run_benchmark
    from trajcvae.errors import TrajCVAEError
    from trajcvae.train import data_digest
    ckpt = checkpoint.load(trained)
    code = f"{__version__} (code {code_digest()})"
    for (split, seed), value in {("a", 0): 1.0, ("a", 1): 2.0, ("b", 0): 5.0, ("b", 1): 10.0}.items():
        for part in ("train", "val", "test"):
            (tmp_path / split / part).mkdir(parents=True, exist_ok=True)
            shutil.copy(sim_files[part], tmp_path / split / part / sim_files[part].name)
        run = tmp_path / "res" / split / f"seed{seed}"
        run.mkdir(parents=True)
        ckpt["config"]["train"]["seed"] = seed
        checkpoint.save(ckpt, run / "best.pt")
        write(run / "result.json", json.dumps({**{key: value for key in HEADINGS}, "windows_2": 1, "seed": seed,
                                               "is_samples": 2, "kde_samples": 20, "best_epoch": 3, "epochs": 3,
                                               "test_data": data_digest([tmp_path / split / "test"]),
                                               "code": "0.2.0 (code 0123)" if (split, seed) == ("b", 1) else code}))
    said = []
    report = run_benchmark(tmp_path, None, tmp_path / "res", seeds=2, is_samples=2, kde_samples=20, draws=0,
                           calibration_draws=0, suite="folders", overrides=TRAINED_AS, progress=False,
                           log=said.append)
    assert sum("done earlier, skipped" in line for line in said) == 4, said
    assert {s: r["min_ade"] for s, r in report["splits"].items()} == {"a": 1.5, "b": 7.5, "mean": 4.5}
    md = (tmp_path / "res" / "results.md").read_text()
    assert "| **mean** | 3.000/3.000 | 6.000/6.000 |" in md, md  # seed 0: (1 + 5) / 2, seed 1: (2 + 10) / 2
    made = f"he numbers of b seed 1 were made by other trajcvae code than this {code}"
    assert f"warning: {tmp_path / 'res'}: t{made} (an earlier version or commit), and are reused as they are; " \
        "benchmark in a new --out for this code's numbers" in said and f"T{made}." in md, said
    best = tmp_path / "res" / "b" / "seed1" / "best.pt"
    kept = best.read_bytes()
    best.write_bytes(kept[:5000])  # a finished run's checkpoint damaged: how to score that seed again
    with pytest.raises(TrajCVAEError, match=f"not a readable trajcvae checkpoint .*; delete "
                                            f"{re.escape(str(best.parent))} to train the split's seed 1 again$"):
        run_benchmark(tmp_path, None, tmp_path / "res", seeds=2, is_samples=2, kde_samples=20, draws=0,
                      calibration_draws=0, suite="folders", overrides=TRAINED_AS, progress=False, log=said.append)
    best.write_bytes(kept)
    row = json.loads((tmp_path / "res" / "b" / "seed1" / "result.json").read_text())
    del row["test_data"]
    write(tmp_path / "res" / "b" / "seed1" / "result.json", json.dumps(row))
    with pytest.raises(TrajCVAEError, match="b/seed1 does not record its test files \\(an older trajcvae made "
                                            "it\\), so it may be of other files than .*b's: benchmark in another "
                                            "out, or delete"):
        run_benchmark(tmp_path, None, tmp_path / "res", seeds=2, is_samples=2, kde_samples=20, draws=0,
                      calibration_draws=0, suite="folders", overrides=TRAINED_AS, progress=False, log=said.append)


def test_benchmark_tables_hold_what_was_asked_and_say_n_a_where_a_split_has_no_company(tmp_path, trained, sim_files,
                                                                                       capfd):
    """Finished splits scored with K-sets and calibration before, run again without them: their numbers stay
    out of the tables and results.json (not averaged in, as if asked). A split whose test set has no window
    with two agents present: its two-agent numbers are n/a (null), as is their mean, said in one line; no NaN.
    A test set that is the validation set saved anew (the best epoch picked on it) is warned of."""
    from trajcvae import checkpoint
    from trajcvae.benchmark import HEADINGS, run_benchmark
    from trajcvae.train import data_digest
    ckpt = checkpoint.load(trained)
    for split in ("a", "b"):
        for part in ("train", "val", "test"):
            (tmp_path / split / part).mkdir(parents=True, exist_ok=True)
            shutil.copy(sim_files[part], tmp_path / split / part / sim_files[part].name)
    (tmp_path / "a" / "test" / sim_files["test"].name).unlink()  # a's test set: its validation tracks, saved anew
    pd.read_csv(sim_files["val"]).to_csv(tmp_path / "a" / "test" / "val_again.csv", index=False, float_format="%.9f")
    back = [0, 1, 2, 3, 4, 5, 4, 3] + list(range(2, -12, -1))  # b's test set gains a walker who turned back
    pd.DataFrame({"scene": "back", "frame": 10 * np.arange(len(back)), "agent_id": 1, "x": 0.0,
                  "y": 0.5 * np.array(back)}).to_csv(tmp_path / "b" / "test" / "back.csv", index=False)
    for split, company in (("a", True), ("b", False)):
        run = tmp_path / "res" / split / "seed0"
        run.mkdir(parents=True)
        checkpoint.save(ckpt, run / "best.pt")
        row = {**dict.fromkeys(HEADINGS, 1.0), "seed": 0, "is_samples": 2, "kde_samples": 20, "best_epoch": 3,
               "epochs": 3, "windows_2": 5 if company else 0, "min_ade_2": 0.5 if company else None,
               "min_fde_2": 0.9 if company else None, "km_min_ade": 0.4, "km_draws": 40, "cal_error": 0.1,
               "test_data": data_digest([tmp_path / split / "test"])}
        write(run / "result.json", json.dumps(row))
    said = []
    report = run_benchmark(tmp_path, None, tmp_path / "res", seeds=1, is_samples=2, kde_samples=20, draws=0,
                           calibration_draws=0, suite="folders", overrides=TRAINED_AS, progress=False,
                           log=said.append)
    assert any(line.startswith("a test: warning: 100% of the test set's windows are the validation set's") for line in
               said), said
    # Kept where the numbers are read: a dashboard reading results.json, a reader of results.md.
    warned = json.loads((tmp_path / "res" / "results.json").read_text())["warnings"]
    assert list(warned) == ["a", "b"] and len(warned["a"]) == 1 and len(warned["b"]) == 1
    assert warned["a"][0].startswith("100% of the test set's windows are the validation set's")
    # The windows whose histories the model read in part (its only seed's), as evaluate names them.
    assert re.match(r"\d+ of [\d,]+ windows \(agent 1 of back at t0 70, .*\) observed a history the model's frame "
                    "cannot hold whole", warned["b"][0]), warned["b"]
    from trajcvae import TrajCVAE
    from trajcvae.predict import cut_windows
    model = TrajCVAE.load(tmp_path / "res" / "b" / "seed0" / "best.pt")
    w = model.make_windows([tmp_path / "b" / "test"], every_window=True)
    assert warned["b"][0].startswith(f"{cut_windows(w, model).sum()} of {len(w)} windows")
    md = (tmp_path / "res" / "results.md").read_text()
    assert f"Warnings on the test sets (their numbers may be wrong):\n\n- a test: {warned['a'][0]}\n" in md, md
    assert "warning: the test set of b has no window with another agent present (Social GAN's convention): its " \
           "two-agent numbers, and their mean over the splits, are n/a" in said
    splits = report["splits"]
    assert splits["a"]["min_ade_2"] == 0.5 and splits["b"]["min_ade_2"] is None and splits["mean"]["min_ade_2"] is None
    assert not any(key.startswith(("km_", "cal_")) for row in splits.values() for key in row)
    assert "NaN" not in (tmp_path / "res" / "results.json").read_text()
    # log=None (the Python API's quiet): no progress, the warnings as TrajCVAEWarnings.
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        run_benchmark(tmp_path, None, tmp_path / "res", seeds=1, is_samples=2, kde_samples=20, draws=0,
                      calibration_draws=0, suite="folders", overrides=TRAINED_AS, log=None)
    assert capfd.readouterr() == ("", "")
    assert {w.category for w in got} == {TrajCVAEWarning}, [str(w.message) for w in got]
    assert any(str(w.message).startswith("a test: 100% of the test set's windows") for w in got)


def test_the_two_agent_k_set_table_counts_and_scores_only_those_windows():
    """kset_table(..., "_2") is the table of the windows with at least two agents present: their count and
    their numbers, not all windows'."""
    from trajcvae.benchmark import kset_table
    row = {"windows": 100, "windows_2": 40, "min_ade": 0.5, "min_fde": 0.9, "min_ade_2": 0.2, "min_fde_2": 0.4}
    for p in ("km", "ks"):
        row |= {f"{p}_min_ade": 0.6, f"{p}_min_fde": 1.1, f"{p}_brier_fde": 1.5, f"{p}_min_ade_2": 0.3,
                f"{p}_min_fde_2": 0.7, f"{p}_brier_fde_2": 1.2, f"{p}_ms_per_window": 2.0}
    table = kset_table({"lobby": row, "mean": row}, 20, 100, "_2")
    assert "| lobby | 40 | 0.200/0.400 | 0.300/0.700, 1.200 | 2.00 | 0.300/0.700, 1.200 | 2.00 |" in table, table
    alone = row | {"windows_2": 0} | {key: None for key in row if key.endswith("_2") and key != "windows_2"}
    assert "| alone | 0 | n/a | n/a, n/a | 2.00 | n/a, n/a | 2.00 |" in kset_table({"alone": alone}, 20, 100, "_2")
    assert "| lobby | 100 | 0.500/0.900 | 0.600/1.100, 1.500 |" in kset_table({"lobby": row}, 20, 100, "")


def test_benchmark_two_agent_numbers_are_those_of_the_windows_with_company(trained, tmp_path):
    """A split's `*_2` numbers (Social GAN's convention) are those of its windows with another agent present:
    a scene of two walkers beside one of a lone walker scores, on `*_2`, as the pair's scene alone does."""
    from trajcvae.benchmark import evaluate_split
    rows = [(s, 10 * f, a, 0.45 * f + a, 0.02 * f * f + 1.5 * a) for s, agents in (("pair", (1, 2)), ("lone", (3,)))
            for a in agents for f in range(26)]
    both = tmp_path / "both.csv"
    pd.DataFrame(rows, columns=["scene", "frame", "agent_id", "x", "y"]).to_csv(both, index=False)
    pair = tmp_path / "pair.csv"
    pd.DataFrame([r for r in rows if r[0] == "pair"], columns=["scene", "frame", "agent_id", "x", "y"]).to_csv(
        pair, index=False)
    predictor = TrajCVAE.load(trained)
    options = dict(k=6, is_samples=1, kde_samples=5, draws=12, calibration_draws=0)
    mixed, alone = evaluate_split(predictor, [both], **options), evaluate_split(predictor, [pair], **options)
    assert mixed["windows_2"] == alone["windows"] < mixed["windows"]
    for key in ("min_ade", "min_fde", "km_min_ade", "km_min_fde", "km_brier_fde", "ks_min_ade", "ks_min_fde",
                "ks_brier_fde"):
        assert mixed[f"{key}_2"] == pytest.approx(alone[key], rel=1e-5), key
    assert mixed["min_fde"] != pytest.approx(mixed["min_fde_2"])
    lone = tmp_path / "lone.csv"  # no window with company: no two-agent numbers (null), no numpy warning
    pd.DataFrame([r for r in rows if r[0] == "lone"], columns=["scene", "frame", "agent_id", "x", "y"]).to_csv(
        lone, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        row = evaluate_split(predictor, [lone], **options)
    assert row["windows_2"] == 0 and all(row[f"{key}_2"] is None for key in ("min_ade", "km_min_ade", "ks_brier_fde"))


def test_benchmark_likelihoods_are_nats_per_window_and_importance_sampling_is_the_tighter_bound(trained, sim_files):
    """-ELBO and the importance-sampled NLL are means per window (however many windows a batch holds), and
    the importance-sampled one, an upper bound on -log p(y|x) tighter than -ELBO, lies below it (a tiny
    model's bounds are noisy: three batches draw other z than one)."""
    from trajcvae.batch import WindowTensors
    from trajcvae.benchmark import likelihoods
    from trajcvae.windows import load_windows, quiet
    predictor = TrajCVAE.load(trained)
    w = load_windows([sim_files["test"]], predictor.config.data, None, log=quiet)
    w = w.subset(list(range(30)))
    wt = WindowTensors.from_windows(w)
    torch.manual_seed(123)
    stream = torch.get_rng_state()
    whole = likelihoods(predictor, wt, w.fut, is_samples=50, kde_samples=10)
    assert torch.equal(torch.get_rng_state(), stream)  # the caller's torch stream is left as it was
    assert whole["is_nll"] < whole["neg_elbo"], whole
    pieces = likelihoods(predictor, wt, w.fut, is_samples=50, kde_samples=10, batch=11)
    assert pieces["neg_elbo"] == pytest.approx(whole["neg_elbo"], rel=0.5), (whole, pieces)  # other draws of z


def test_a_finished_split_asked_for_other_likelihood_samples_remeasures_them_and_keeps_its_errors(trained, sim_files,
                                                                                               tmp_path):
    """evaluate_split with the numbers of a run before (`known`) but other --is-samples measures the
    likelihoods again, with their new sample counts; its errors are kept as they were."""
    from trajcvae.benchmark import evaluate_split
    predictor = TrajCVAE.load(trained)
    test = pd.read_csv(sim_files["test"])
    test[test.frame < 300].to_csv(tmp_path / "short.csv", index=False)
    options = dict(k=6, kde_samples=10, draws=0, calibration_draws=0)
    first = evaluate_split(predictor, [tmp_path / "short.csv"], is_samples=2, **options)
    again = evaluate_split(predictor, [tmp_path / "short.csv"], is_samples=40, known=dict(first), **options)
    assert (first["is_samples"], again["is_samples"]) == (2, 40) and again["is_nll"] != first["is_nll"]
    assert again["min_ade"] == first["min_ade"] and again["predict_ms_per_window"] == first["predict_ms_per_window"]


def test_a_finished_split_scored_with_another_scene_fit_redoes_those_numbers(trained, sim_files, tmp_path):
    """A finished split whose `--calibrate scene` numbers were made by another map (`CS_MAP`, results.json's
    cs_map) is not complete: evaluate_split redoes them, and keeps the rest as it was."""
    from trajcvae.benchmark import CS_MAP, complete, evaluate_split
    predictor = TrajCVAE.load(trained)
    test = pd.read_csv(sim_files["test"])
    test[test.frame < 300].to_csv(tmp_path / "short.csv", index=False)
    options = dict(k=6, is_samples=2, kde_samples=10, draws=0, calibration_draws=20)
    first = evaluate_split(predictor, [tmp_path / "short.csv"], **options)
    assert first["cs_map"] == CS_MAP and complete(first, 0, 20, 2, 10, learned=False)
    old = dict(first, cs_map="quantile per step", cs_min_ade=9.0, min_ade=8.0)  # numbers of the earlier map
    assert not complete(old, 0, 20, 2, 10, learned=False)
    again = evaluate_split(predictor, [tmp_path / "short.csv"], known=old, **options)
    assert again["cs_map"] == CS_MAP and again["cs_min_ade"] == first["cs_min_ade"] and again["min_ade"] == 8.0


def test_benchmark_refuses_unknown_suite_and_split(tmp_path):
    for option, value, expected in (("--splits", "", "--splits names no split"),
                                    ("--is-samples", 0, "--is-samples must be >= 1 (got 0)"),
                                    ("--kde-samples", -1, "--kde-samples must be >= 1 (got -1)"),
                                    ("--kde-samples", 1, "--kde-samples must be >= 2: a density estimate needs a "
                                                         "spread (got 1)"),
                                    ("--is-samples", 10 ** 20, "--is-samples must be at most 2**63 - 1 (got about "
                                                               "2**66)"),  # refused before a split trains
                                    ("--draws", -1, "--draws must be 0 (off) or at least the 20 futures each K-set "
                                                    "keeps (got -1)")):
        one_line_error(cli("benchmark", "eth-ucy", "--root", ETH_UCY, option, value, "--out", tmp_path / "r0"),
                       expected)
    r = cli("benchmark", "kitti", "--out", tmp_path / "res")
    assert r.exit_code != 0 and "unknown benchmark suite 'kitti' (available: eth-ucy, folders)" in r.output
    r = cli("benchmark", "eth-ucy", "--splits", "mars", "--out", tmp_path / "res")
    assert r.exit_code != 0 and "unknown split 'mars'" in r.output
    # A K-set sampler of another K than the benchmark's is refused before any training, not after it.
    cfg = write(tmp_path / "k12.toml", "[kset]\nk = 12\n")
    one_line_error(cli("benchmark", "eth-ucy", "--root", ETH_UCY, "--splits", "hotel", "--config", cfg, "--out",
                       tmp_path / "res"), "kset.k = 12", "K = 20")
    assert not (tmp_path / "res" / "hotel").exists()
    # So is a test set that gives no window: named, before any training.
    root = tmp_path / "root"
    for part in ("train", "val", "test"):
        (root / "hotel" / part).mkdir(parents=True)
        (root / "hotel" / part / "a.txt").write_text("".join(f"{10 * f} 1 {0.5 * f} {part == 'val':d}\n"
                                                             for f in range(30 if part != "test" else 5)))
    one_line_error(cli("benchmark", "eth-ucy", "--root", root, "--splits", "hotel", "--out", tmp_path / "res"),
                   f"the test set ({root / 'hotel' / 'test'}): no usable windows")
    assert not (tmp_path / "res" / "hotel").exists()
    # More draws for one window than memory holds: named so, before the data are read (so before a split trains).
    for option in ("--kde-samples", "--calibration", "--is-samples"):
        one_line_error(cli("benchmark", "eth-ucy", "--root", root, "--splits", "hotel", option, 10 ** 12, "--out",
                           tmp_path / "res"), f"{option} 1000000000000: drawing that many futures for an agent needs "
                       "about")


# --- bad data and the data summary, through the CLI ---------------------------------------------------

def test_an_empty_model_path_is_refused_by_name_not_as_the_current_folder(tmp_path, sim_files):
    one_line_error(cli("predict", "", sim_files["test"], "--out", tmp_path / "p.csv"),
                   "an empty model path (an unset variable?); give a checkpoint (.pt) or a built-in model name")
    assert not (tmp_path / "p.csv").exists()


def test_cli_reports_bad_data_in_one_line(tmp_path, trained):
    f = tmp_path / "bad.csv"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    one_line_error(cli("predict", trained, f, "--out", tmp_path / "p.csv"), str(f), "not a text file")
    one_line_error(cli("evaluate", trained, f), str(f), "not a text file")
    one_line_error(cli("train", f, "--out", tmp_path / "run", "--quiet"), str(f), "not a text file")
    assert not (tmp_path / "p.csv").exists()


def test_a_file_name_with_a_line_break_keeps_its_error_and_warning_on_one_line(tmp_path, trained):
    """A name may hold a line break (Linux allows it): the message that quotes it is still one line, the
    break written as \\n."""
    f = write(tmp_path / "a\nb.csv", "frame,agent_id,x,y\n0,1,oops,0\n")
    r = cli("predict", trained, f, "--out", tmp_path / "p.csv")
    one_line_error(r, f"{tmp_path}/a\\nb.csv line 2: column 'x' value 'oops' is not a number")
    g = write(tmp_path / "c\nd.csv", "frame,agent_id,x,y\n" + "".join(f"{10 * i},1,{0.5 * i},0.25\n" for i in range(30))
              + "300,1,15,0.2")  # its last line still being written: warned of
    r = cli("predict", trained, g, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and f"warning: {tmp_path}/c\\nd.csv" in r.output, r.output
    # Lines said together (the data's summary, a reading's warning, the speeds' warnings) keep theirs too.
    walk = "".join(f"{10 * i},{a},{0.5 * i + a},{a}\n" for a in range(4) for i in range(30))
    files = [write(tmp_path / f"day{d}.csv", "frame,agent_id,x,y\n" + walk.replace("\n", f"{d}\n")) for d in range(3)]
    files.append(write(tmp_path / "c\nm.csv", "frame,agent_id,x,y\n" + "\n".join(  # a scene in centimetres
        ",".join(v if i < 2 else str(100 * float(v)) for i, v in enumerate(row.split(","))) for row in walk.split())))
    r = cli("predict", trained, *files, "--out", tmp_path / "p.csv")
    speeds = [line for line in r.output.splitlines() if "speed" in line]
    odd = f"warning: the median speed of scene 'c\\nm' ({tmp_path}/c\\nm.csv)"
    from trajcvae.errors import one_line  # every break str.splitlines makes, not only \n

    assert one_line("a\u2028b\x0cc\x85d\re") == "a\\u2028b\\x0cc\\x85d\\re"
    assert len(speeds) == 1 and speeds[0].startswith(odd) and speeds[0].endswith("(`trajcvae train`)"), r.output
    from trajcvae.windows import load_windows
    said = []
    load_windows([g, *files], TrajCVAE.load(trained).config.data, log=said.append)
    assert len(said) == 3 and said[1].startswith(f"warning: {tmp_path}/c\\nd.csv ends mid-line") \
        and said[2].startswith(odd), said


def test_messages_quoting_the_data_are_printed_verbatim(tmp_path, trained):
    """Values are echoed in errors: text like '[/]' must not be taken for terminal markup."""
    for value in ("[/]", "[bold]"):
        f = write(tmp_path / "m.csv", f"frame,agent_id,x,y\n0,1,{value},0\n")
        one_line_error(cli("predict", trained, f, "--out", tmp_path / "p.csv"), f"value '{value}' is not a number")


def test_a_read_the_system_refuses_is_one_line_naming_the_file_and_why(tmp_path, sim_files, monkeypatch):
    """An OSError the project does not word itself (a file made unreadable under the command, a network drive
    gone) is one line, exit 1: the file the system names, and the system's reason."""
    import trajcvae.predict as predict_mod

    gone = tmp_path / "share" / "tracks.csv"

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(gone))

    monkeypatch.setattr(predict_mod, "read_tracks", refused)
    one_line_error(cli("predict", "pedestrian", sim_files["test"], "--out", tmp_path / "p.csv"),
                   f"error: {gone}: Permission denied")
    assert not (tmp_path / "p.csv").exists()


def test_running_out_of_memory_is_one_line(tmp_path, trained, sim_files, monkeypatch):
    import trajcvae.predict as predict_mod

    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(predict_mod, "read_tracks", no_memory)
    one_line_error(cli("predict", trained, sim_files["test"], "--out", tmp_path / "p.csv"), "out of memory")
    # Each command names its own options (visualize has no --set, and draws one moment with --agent, --t0).
    r = cli("visualize", trained, sim_files["test"], "--out", tmp_path / "v.png")
    one_line_error(r, "out of memory: lower what sizes the work (-k or --draws; --agent and --t0, or --scene-frame")
    assert "--set" not in r.output and "-k or --draws)" in cli("predict", trained, sim_files["test"]).output
    import trajcvae.simulate

    monkeypatch.setattr(trajcvae.simulate, "simulate", no_memory)  # no -k, no files: the machine is too full
    one_line_error(cli("simulate", tmp_path / "s.csv"), "out of memory: free some memory (close other programs)")
    # A size no machine holds (model.hidden=1000000): torch's failed allocation, a RuntimeError, is one line
    # naming the sizes; torch's other errors are not taken for it.
    import trajcvae.train as train_mod

    def too_big(cfg):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
                           "memory: you tried to allocate 4000000000000 bytes. Error code 12 (Cannot allocate memory)")

    monkeypatch.setattr(train_mod, "CVAE", too_big)
    one_line_error(cli("train", sim_files["test"], "--epochs", 1, "--out", tmp_path / "run"),
                   "out of memory (an allocation of 3.73e+03 GiB failed)", "model.hidden")
    monkeypatch.setattr(train_mod, "CVAE", lambda cfg: torch.zeros(2) @ torch.zeros(3))
    r = cli("train", sim_files["test"], "--epochs", 1, "--out", tmp_path / "run")
    assert r.exit_code == 1 and isinstance(r.exception, RuntimeError) and "out of memory" not in r.output


def test_a_gpu_s_failed_allocation_names_its_size_and_a_server_the_limits_it_has():
    """CUDA says how much it tried to allocate in its own words (Tried to allocate 2.00 GiB): the line names it;
    `serve` reads no files, so its line names its own limits, not files to split."""
    from trajcvae.cli import memory_error

    cuda = RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.15 GiB total capacity)")
    assert memory_error(cuda, "predict") == ("out of memory (an allocation of 2.00 GiB failed): lower what sizes the "
                                             "work (-k or --draws), or give fewer or smaller files at a time (e.g. "
                                             "split them by scene)")
    assert memory_error(MemoryError(), "serve") == ("out of memory: lower what sizes the work (-k, --draws, "
                                                    "--max-agents, --max-scenes or --max-k)")


def test_a_kill_unwinds_a_command_unless_nohup_ignores_it_or_torchrun_started_the_process(monkeypatch):
    """SIGTERM and SIGHUP unwind a command (temp files removed); a signal that nohup set to be ignored stays
    ignored, and a process torchrun started (RANK, WORLD_SIZE and LOCAL_RANK all set) keeps the defaults."""
    import signal

    from trajcvae.cli import unwind_on_kill

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
            monkeypatch.delenv(name, raising=False)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as nohup leaves it
        monkeypatch.setenv("RANK", "0")  # (RANK alone: no torchrun)
        unwind_on_kill()
        assert callable(signal.getsignal(signal.SIGTERM)) and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        monkeypatch.setenv("WORLD_SIZE", "2")
        monkeypatch.setenv("LOCAL_RANK", "0")
        unwind_on_kill()
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def test_train_predict_evaluate_print_the_summary(tmp_path, trained, sim_files):
    expected = summarize(read_tracks([sim_files["test"]])).line()
    assert expected.startswith("read 1 file: ")
    r = cli("predict", trained, sim_files["test"], "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0 and expected in r.output, r.output
    r = cli("evaluate", trained, sim_files["test"], "-k", 2, "--calibration", 0)
    assert r.exit_code == 0 and expected in r.output, r.output


def test_scene_with_a_single_frame_is_counted_not_fatal(tmp_path, trained, sim_files):
    one = write(tmp_path / "one.csv", "frame,agent_id,x,y\n0,1,0,0\n0,2,3,3\n")
    n = summarize(read_tracks([sim_files["test"], one])).single_frame_agents
    assert n >= 2
    r = cli("predict", trained, sim_files["test"], one, "-k", 2, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    assert f"{n} single-frame agents" in r.output
    assert f"{n} agents with no position a model step before their latest one" in r.output
    assert "just after a missed frame (--fps bridges short gaps)" in r.output  # frame ids: no --max-gap to give
    assert "one" not in set(pd.read_csv(tmp_path / "p.csv").scene)


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_frame_off_the_grid_names_the_option_that_reads_it(tmp_path, trained, sim_files, command):
    """Frame ids of unknown rate must sit on one grid; a frame off it is refused, alone, with the fix these
    commands have (--fps resamples the tracks), and that fix works."""
    df = pd.read_csv(sim_files["test"])
    df.loc[10, "frame"] += 3
    off = tmp_path / "off.csv"
    df.to_csv(off, index=False)
    opts = ["--out", tmp_path / "p.csv"] if command == "predict" else ["--calibration", "0"]
    r = cli(command, trained, off, "-k", 2, *opts)
    one_line_error(r, "off the scene's time grid", "pass --fps")
    assert r.output.startswith("error: ")  # before the data's summary, which would count it as a gap
    r = cli(command, trained, off, "-k", 2, "--fps", 25, *opts)
    assert r.exit_code == 0, r.output


def test_a_validation_set_without_windows_is_named(tmp_path, sim_files):
    short = tmp_path / "short.csv"
    pd.read_csv(sim_files["val"]).query("frame <= 80").to_csv(short, index=False)
    r = cli("train", sim_files["train"], "--val", short, "--out", tmp_path / "run", "--epochs", 1, "--quiet")
    one_line_error(r, f"the validation set ({short}): no usable windows")
    assert not (tmp_path / "run").exists()


def test_evaluate_names_the_scenes_that_gave_no_window(tmp_path, trained, sim_files):
    df = pd.read_csv(sim_files["test"])
    tiny = df[df.frame <= df.frame.min() + 60].assign(scene="tiny")  # 7 steps: too short for any window
    pd.concat([df, tiny]).to_csv(tmp_path / "t.csv", index=False)
    r = cli("evaluate", trained, tmp_path / "t.csv", "-k", 2, "--calibration", 0, "--json", tmp_path / "e.json")
    assert r.exit_code == 0, r.output
    assert "note: 1 scene gave no window" in r.stderr and r.stderr.rstrip().endswith("not in the table: tiny")
    assert json.loads((tmp_path / "e.json").read_text())["scenes_without_windows"] == ["tiny"]
    # The Python API's result names them too (its scenes are the CLI's).
    from trajcvae.evaluate import evaluate
    model = TrajCVAE.load(trained)
    assert evaluate(model, [tmp_path / "t.csv"], k=2, calibration_draws=0)["scenes_without_windows"] == ["tiny"]
    assert evaluate(model, model.make_windows([tmp_path / "t.csv"], every_window=True), k=2,
                    calibration_draws=0)["scenes_without_windows"] == []


def test_evaluate_refuses_a_scene_named_overall_rather_than_hide_it_behind_the_total(tmp_path, trained, sim_files):
    """"overall" is the key of the mean over all scenes, in the table and the JSON: a scene of that name
    (its `scene` column, or its file's name) is named in one line, and no JSON is written."""
    df = pd.read_csv(sim_files["test"])
    df.assign(scene="overall").to_csv(tmp_path / "named.csv", index=False)
    df.drop(columns="scene").to_csv(tmp_path / "overall.csv", index=False)
    for data in ("named.csv", "overall.csv"):
        r = cli("evaluate", trained, tmp_path / data, "-k", 2, "--calibration", 0, "--json", tmp_path / "e.json")
        one_line_error(r, f"{tmp_path / data} line 2: scene 'overall'", "give the scene another name")
        assert not (tmp_path / "e.json").exists()
    from trajcvae.evaluate import evaluate
    from trajcvae.errors import DataError

    model = TrajCVAE.load(trained)
    with pytest.raises(DataError, match="scene 'overall': evaluate's tables name the mean over all scenes"):
        evaluate(model, model.make_windows(tmp_path / "named.csv", every_window=True), k=2, calibration_draws=0)


def test_a_plain_resume_runs_to_the_runs_own_epochs_and_a_hand_edited_record_is_refused(sim_files, trained, tmp_path):
    """--resume without --epochs continues to the epochs the run was started with (a finished run stays
    as it is), not to the default; config.toml is a record of the run's config, which lives in last.pt,
    so an edit of it is refused rather than overwritten."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained.parent, run)
    done = int(pd.read_csv(run / "metrics.csv").epoch.max())
    r = cli("train", sim_files["train"], "--val", sim_files["val"], "--out", run, "--resume", "--quiet", "--no-figures")
    assert r.exit_code == 0, r.output
    assert int(pd.read_csv(run / "metrics.csv").epoch.max()) == done
    record = (run / "config.toml").read_text()
    assert "lr = 0.002\n" in record
    (run / "config.toml").write_text(record.replace("lr = 0.002\n", "lr = 0.05\n", 1))
    one_line_error(cli("train", sim_files["train"], "--out", run, "--resume", "--quiet", "--epochs", done + 1),
                   f"{run / 'config.toml'} was edited (train.lr = 0.05)", f"the one in {run / 'last.pt'}")


def test_a_resume_refuses_what_it_would_drop_and_other_data(sim_files, trained, tmp_path):
    """An option given on --resume is held to the run's config whatever its value (the default's too), and
    --epochs at the default value runs to it; a resume on other training or validation data is refused,
    since the run's curves and best.pt would mix two data sets."""
    import shutil

    from trajcvae.config import Config
    from trajcvae.train import _resumed_config

    run = tmp_path / "run"
    shutil.copytree(trained.parent, run)
    hidden = TrajCVAE.load(run / "best.pt").config.model.hidden
    assert hidden != Config().model.hidden
    base = ["train", sim_files["train"], "--val", sim_files["val"], "--out", run, "--resume", "--quiet", "--no-figures"]
    one_line_error(cli(*base, "--set", f"model.hidden={Config().model.hidden}"),
                   f"model.hidden = {Config().model.hidden} differs from the run's {hidden}")
    stored = Config.from_dict(torch.load(run / "last.pt", weights_only=True)["config"])
    default = Config().train.epochs
    assert _resumed_config(load_config(None, [f"train.epochs={default}"]), stored, run, 1).train.epochs == default
    # The run records its data: another validation file is refused before anything is trained.
    assert (run / "curves.png").exists()
    r = cli(*base, "--epochs", stored.train.epochs + 1)
    assert r.exit_code == 0, r.output
    assert not (run / "curves.png").exists()  # --no-figures: no picture of the shorter run is left beside it
    rows = len(pd.read_csv(run / "metrics.csv"))
    other = tmp_path / "other_val.csv"
    pd.read_csv(sim_files["val"]).iloc[:-40].to_csv(other, index=False)
    one_line_error(cli("train", sim_files["train"], "--val", other, "--out", run, "--resume", "--quiet",
                       "--epochs", stored.train.epochs + 2), "the validation set is not the one the run in")
    assert len(pd.read_csv(run / "metrics.csv")) == rows and "\r" not in (run / "metrics.csv").read_text()
    # `demo` continues only its own run.
    one_line_error(cli("demo", "--out", run), f"{run} holds a run that is not the demo's", "give another --out")


def test_demo_says_when_it_continues_the_demo_run_in_its_folder(tmp_path, monkeypatch):
    """A second `demo` into the same --out continues the demo's run there (or uses it, with all its epochs):
    a line says so and how to train anew, before any training."""
    import trajcvae.demo as demo
    from trajcvae.demo import DEMO_CONFIG
    from trajcvae.errors import TrajCVAEWarning

    class Trained(Exception):
        pass

    def train(*args, **kwargs):
        raise Trained

    (tmp_path / "last.pt").write_bytes(b"")
    old = {"from_epoch": 1, "code": "0.3.0 (code 0123456789abcdef)"}
    here = {"code": [old, {"from_epoch": 3, "code": demo.made_by()}]}  # the last span's code is the run's
    older = {"code": [{"from_epoch": 1, "code": demo.made_by()}, {**old, "from_epoch": 3}]}
    for epoch, stats, said, warned in (
            (4, here, "holds a demo run of 4 epochs: continuing it for 6 more", None),
            (10, here, "holds a demo run of 10 epochs: using it as it is", None),
            # Continued runs are warned of by train; a finished one trains nothing, so the demo says whose it is.
            (4, older, "holds a demo run of 4 epochs: continuing it for 6 more", None),
            (10, older, "holds a demo run of 10 epochs: using it as it is", "trajcvae 0.3.0 (code 0123456789abcdef)"),
            (10, {}, "holds a demo run of 10 epochs: using it as it is",
             "an older trajcvae, which did not record its code")):
        monkeypatch.setattr(demo.checkpoint, "load", lambda path, e=epoch, s=stats: {
            "config": load_config(DEMO_CONFIG).to_dict(), "epoch": e, "stats": s})
        monkeypatch.setattr(demo, "train", train)
        lines = []
        with pytest.raises(Trained):
            demo.run_demo(tmp_path, log=lines.append)
        assert lines[0] == f"{tmp_path} {said} (delete the folder, or give another --out, to train anew)"
        assert lines[1:] == ([] if warned is None else [
            f"warning: {tmp_path} was trained by {warned}, not this code ({demo.made_by()}): its numbers are that "
            "code's; delete the folder to train anew"])
        if warned is not None:  # the Python API without a log: a Python warning
            with pytest.warns(TrajCVAEWarning, match=f"was trained by {re.escape(warned)}, not this code"), \
                    pytest.raises(Trained):
                demo.run_demo(tmp_path)


def test_the_demo_writes_its_plaza_for_an_installed_package_and_overwrites_no_other_file(tmp_path, monkeypatch):
    """The repository's data/demo is what `write_demo` writes, byte for byte; an installed package (no
    data/demo) writes the same files under --out/data, uses them there on a second run, and refuses, before
    writing anything, a file of that name holding the user's own data."""
    import trajcvae.demo as demo
    from trajcvae.simulate import write_demo

    write_demo(tmp_path / "made")
    for name in ("train.csv", "val.csv", "test.csv"):
        assert (demo.DEMO_DATA / name).read_bytes() == (tmp_path / "made" / name).read_bytes(), name

    class Trained(Exception):
        pass

    trained = []

    def train(files, val, *args, **kwargs):
        trained.append(Path(files[0]).parent)
        raise Trained

    monkeypatch.setattr(demo, "DEMO_DATA", tmp_path / "installed" / "data" / "demo")
    monkeypatch.setattr(demo, "train", train)
    out = tmp_path / "mine"
    (out / "data").mkdir(parents=True)
    (out / "data" / "val.csv").write_text("frame,agent_id,x,y\n0,1,0,0\n")  # the user's own
    one_line_error(cli("demo", "--out", out), f"{out / 'data' / 'val.csv'}: not the demo's data, which the demo "
                   "writes there; give another --out")
    assert sorted(p.name for p in (out / "data").iterdir()) == ["val.csv"] and not trained
    (out / "data" / "val.csv").unlink()
    (out / "data" / "val.csv").mkdir()
    one_line_error(cli("demo", "--out", out), f"{out / 'data' / 'val.csv'}: not the demo's data")
    (out / "data" / "val.csv").rmdir()
    (tmp_path / "file").mkdir()
    (tmp_path / "file" / "data").write_text("mine")
    one_line_error(cli("demo", "--out", tmp_path / "file"), f"{tmp_path / 'file' / 'data'}: a file where the demo "
                   "writes its data's folder; give another --out")
    for _ in range(2):  # written, then used as it is
        with pytest.raises(Trained):
            demo.run_demo(out)
        assert trained.pop() == out / "data" and sorted(p.name for p in (out / "data").iterdir()) == [
            "test.csv", "train.csv", "val.csv"]
        assert (out / "data" / "test.csv").read_bytes() == (tmp_path / "made" / "test.csv").read_bytes()


def test_the_python_simulate_refuses_what_the_command_refuses_in_one_line(tmp_path, monkeypatch):
    """`simulate.simulate` checks its counts, rate and seed as the command does: a TrajCVAEError naming
    the option, never a Python error from inside numpy, and nothing written (nor simulated: a crowd's cap
    counts every scene's arrivals, before the first is walked)."""
    import trajcvae.simulate
    from trajcvae.errors import TrajCVAEError
    from trajcvae.simulate import simulate

    monkeypatch.setattr(trajcvae.simulate, "simulate_scene", lambda *a, **kw: pytest.fail("a refused scene was walked"))
    for given, message in (({"scenes": 2.5}, "scenes must be a whole number (got 2.5)"),
                           ({"scenes": 0}, "scenes must be >= 1 (got 0)"),
                           ({"n_frames": 0}, "n_frames must be >= 1 (got 0)"),
                           # Scene i of seed s is walked from seed 1000 s + i: seed 0's 1001st would be seed 1's first.
                           ({"scenes": 1001}, "scenes is at most 1000 (scene i of seed s is walked from seed 1000 s "
                            "+ i: more would repeat the next seed's scenes; got 1001): give more n_frames"),
                           ({"prefix": ""}, "prefix must be a text of one line that names the scenes (got '')"),
                           ({"prefix": "a\nb"}, "prefix must be a text of one line that names the scenes (got "
                                                "'a\\nb')"),  # (a scene name no reader takes)
                           ({"spawn_rate": 0.0}, "spawn_rate must be > 0 and at most 10 new agents per step (got 0.0)"),
                           ({"scenes": 10, "n_frames": 800, "spawn_rate": 10.0},  # 8,000 steps, but 80,000 arrivals
                            "scenes x n_frames x spawn_rate is at most 70,000 arriving agents (a minute or two; got "
                            "80,000): fewer n_frames or scenes, or a lower spawn_rate"),
                           ({"n_frames": "10"}, "n_frames must be a whole number (got '10')"),
                           ({"spawn_rate": "5"}, "spawn_rate must be a number of new agents per step (got '5')"),
                           ({"seed": -1}, "seed must be between 0 and 2**63 - 1 (got -1)"),
                           ({"seed": 1.5}, "seed must be a whole number (got 1.5)"),
                           ({"n_frames": 10 ** 5000}, "scenes x n_frames is at most 200,000 steps (about a minute "
                            "and a half; got about 2**16609)")):  # (not Python's ValueError for a long int's digits)
        with pytest.raises(TrajCVAEError) as e:
            simulate(tmp_path / "s.csv", **{"n_frames": 20, **given})
        assert str(e.value) == message
    for out, message in ((None, "out must be a path (got None)"), (tmp_path, f"out {tmp_path}: is a folder; give a "
                                                                             "file name")):  # as its parameter
        with pytest.raises(TrajCVAEError) as e:
            simulate(out, n_frames=20)
        assert str(e.value) == message
    assert not any(tmp_path.iterdir())
    # Scenes too short for any agent to stay a window's 20 steps are written, and said to hold no window.
    monkeypatch.undo()
    with pytest.warns(TrajCVAEWarning, match=r"^n_frames=20: no agent stays 20 steps, the windows of the default "
                                             r"recipe \(8 observed \+ 12 predicted\), so training on the file finds "
                                             r"none; give more n_frames$"):
        simulate(tmp_path / "short.csv", n_frames=20)


def test_plaza_walkers_arrive_at_the_asked_rate_walk_at_walking_speed_keep_apart_and_leave_by_another_edge():
    """`simulate`'s plaza (metres, 0.4 s a step): about --rate new agents a step; walkers near 1.25 m/s; the
    crowd steers around itself (few pairs within half a metre); each walker leaves by one of the three edges
    it did not come in through (none turned back at the default rate), and those that came early have left."""
    from trajcvae.simulate import SIDES, simulate_scene
    df = simulate_scene(n_frames=300, seed=4)
    assert 300 * 0.35 * 0.7 < df["agent_id"].nunique() < 300 * 0.35 * 1.3
    crowd = simulate_scene(n_frames=150, spawn_rate=2.0, seed=1)
    assert 150 * 2.0 * 0.8 < crowd["agent_id"].nunique() < 150 * 2.0 * 1.2
    by_agent = df.sort_values("frame").groupby("agent_id")
    first, last = by_agent[["x", "y"]].first().to_numpy(), by_agent[["x", "y"]].last().to_numpy()
    gone = by_agent["frame"].last().to_numpy() < df["frame"].max()
    early = by_agent["frame"].first().to_numpy() < 1500
    assert gone[early].all()
    entry, out = (first @ SIDES.T).argmax(1), (last @ SIDES.T).argmax(1)
    assert (entry != out)[gone].all() and len(set(out[gone])) == 4
    steps = df.sort_values(["agent_id", "frame"]).groupby("agent_id")[["x", "y"]].diff().dropna()
    assert 1.0 < np.median(np.hypot(steps["x"], steps["y"])) / 0.4 < 1.5
    close = pairs = 0
    for _, now in df.groupby("frame"):
        p = now[["x", "y"]].to_numpy()
        gaps = np.linalg.norm(p[:, None] - p[None], axis=-1)[np.triu_indices(len(p), 1)]
        close, pairs = close + (gaps < 0.5).sum(), pairs + len(gaps)
    assert close < 0.01 * pairs


def test_plaza_walkers_enter_on_an_edge_near_its_middle_heading_in_at_their_pace():
    """`simulate_scene`: a walker comes in through one edge of the 16 m plaza, within 2 m of its middle, and
    its first move is into the plaza; walkers go at a pace near 1.25 m/s, which slows as they turn and
    steer, and never goes over it in the median."""
    from trajcvae.simulate import simulate_scene
    df = simulate_scene(n_frames=300, seed=4).sort_values(["agent_id", "frame"])
    df = df[df.groupby("agent_id")["frame"].transform("size") > 1]
    by_agent = df.groupby("agent_id")[["x", "y"]]
    first, second = by_agent.nth(0).to_numpy(), by_agent.nth(1).to_numpy()
    # One step (0.4 s at about 1.2 m/s) in from its edge, and within 2 m of its middle plus that step's sway.
    assert (np.abs(first).max(1) > 7.0).all() and (np.abs(first).max(1) < 8.0).all()
    assert (np.abs(first).min(1) < 2.5).all()
    assert (np.abs(second).max(1) < np.abs(first).max(1)).all()  # heading in, not out
    steps = df.groupby("agent_id")[["x", "y"]].diff().dropna()
    assert 1.0 < np.median(np.hypot(steps["x"], steps["y"])) / 0.4 < 1.25


def test_simulated_scenes_are_named_apart_and_no_seed_repeats_another_seeds_scene(tmp_path, monkeypatch):
    """Each scene of a file has its own name and its own walkers: no scene of one seed is a scene of another,
    so the demo's validation and test scenes (seeds + 1, + 2) are not scenes it trains on."""
    import trajcvae.simulate
    whole = trajcvae.simulate.simulate_scene
    monkeypatch.setattr(trajcvae.simulate, "simulate_scene", lambda n_frames, *a, **kw: whole(60, *a, **kw))  # short
    trajcvae.simulate.write_demo(tmp_path, seed=0)
    train, val, test = (pd.read_csv(tmp_path / f"{part}.csv") for part in ("train", "val", "test"))
    assert sorted(train["scene"].unique()) == ["train0", "train1", "train2", "train3"]
    tracks = lambda table: {tuple(g[["x", "y"]].round(3).to_numpy()[:5].ravel())  # noqa: E731
                            for _, g in table.groupby(["scene", "agent_id"])}
    assert not tracks(train) & tracks(val) and not tracks(train) & tracks(test) and not tracks(val) & tracks(test)


def test_tables_are_written_only_as_csv_or_parquet(tmp_path, sim_files):
    """An output name the writers do not write (.json, .csv.gz, .tsv) is refused, not filled with CSV
    (predict also writes TrajNet++'s .ndjson, with --primary, and names it only then)."""
    for name in ("p.json", "p.csv.gz", "p.tsv"):
        one_line_error(cli("predict", "pedestrian", sim_files["test"], "--out", tmp_path / name),
                       f"unsupported table format '{Path(name).suffix}' (use .csv or .parquet)")
        one_line_error(cli("simulate", tmp_path / name, "--frames", 20),
                       f"unsupported table format '{Path(name).suffix}' (use .csv or .parquet)")
        assert not (tmp_path / name).exists()
    one_line_error(cli("simulate", tmp_path / "big.csv", "--frames", 300_000), "--scenes x --frames is at most 200,000")
    # A crowd: each step costs more.
    one_line_error(cli("simulate", tmp_path / "crowd.csv", "--frames", 8000, "--rate", 10),
                   "--scenes x --frames x --rate is at most 70,000 arriving agents (a minute or two; got 80,000)")
    one_line_error(cli("simulate", tmp_path / "none.csv", "--frames", 1), "no agent entered the plaza")
    assert not (tmp_path / "none.csv").exists()
    one_line_error(cli("predict", "pedestrian", sim_files["test"], "--kset", "kmeans", "--draws", 10 ** 11,
                       "--out", tmp_path / "p.csv"), "--draws 100000000000: drawing that many futures",
                   "use a smaller --draws")


def test_paths_written_as_other_systems_and_shells_write_them_get_the_fix(tmp_path, sim_files, monkeypatch):
    """A folder given as --out (its trailing / is gone before we see it), a Windows path in a TOML config's
    double quotes, and a '~' a shell left unexpanded in quotes: each refused with what to write instead."""
    for stream in ("-", "/dev/stdout", "/dev/fd/1"):  # as some tools take them: the output is renamed into place
        one_line_error(cli("predict", "pedestrian", sim_files["test"], "--out", stream),
                       f"--out {stream}: the output is written as a file (renamed into place once whole), not to a "
                       "stream; give a file name")
    for command, option, name, example in (("predict", "--out", ".csv", "mine.csv"), ("predict", "--out", ".tsv",
                                                                                      "mine.csv"),
                                            ("evaluate", "--json", ".json", "mine.json"),
                                            ("visualize", "--out", ".png", "mine.png")):
        one_line_error(cli(command, "pedestrian", sim_files["test"], option, tmp_path / name),
                       f"{option} {tmp_path / name}: an ending with no name before it; give a file name (e.g. "
                       f"{tmp_path / example})")
    one_line_error(cli("predict", "pedestrian", sim_files["test"], "--out", f"{tmp_path / 'new'}/"),
                   f"--out {tmp_path / 'new'}: no .csv or .parquet ending; give a file name (e.g. "
                   f"{tmp_path / 'new'}.csv)")
    # TOML's escapes in double quotes: an unknown one (\d, \U...) is an error, a known one (\n, \t) a line
    # break or a tab in the name.
    for written in ("C:\\data\\H.txt", "C:\\Users\\me\\H.txt", "C:\\new\\test.txt"):
        config = write(tmp_path / "c.toml", f'[data]\nhomography = "{written}"\n')
        r = cli("train", sim_files["test"], "--config", config, "--out", tmp_path / "run")
        one_line_error(r, "; a Windows path: write it in single quotes ('C:\\data\\H.txt') or with /")
    monkeypatch.setenv("HOME", str(tmp_path))
    shutil.copy(sim_files["test"], tmp_path / "t.csv")
    one_line_error(cli("predict", "pedestrian", "~/t.csv", "--out", tmp_path / "p.csv"),
                   f"~/t.csv: no such file or directory; '~' is not expanded in quotes: give {tmp_path / 't.csv'}")
    one_line_error(cli("predict", "pedestrian", "~nobody_here_x/t.csv", "--out", tmp_path / "p.csv"),
                   "~nobody_here_x/t.csv: no such file or directory")  # no such user: no traceback
    assert not (tmp_path / "new").exists() and not (tmp_path / "run").exists() and not (tmp_path / "p.csv").exists()


def test_a_console_that_cannot_show_a_names_letters_gets_them_escaped_not_a_traceback(tmp_path):
    """An ASCII or cp1252 console (PYTHONIOENCODING, a Windows terminal) and a path with letters it lacks: the
    work was done, then printing its result line failed with a traceback and exit 1. They are escaped, as
    Python escapes them on stderr, and a table's columns are as wide as the escaped names."""
    from typer.testing import CliRunner

    from trajcvae.simulate import simulate

    out = tmp_path / "plaza_\u00e9\u5317.csv"
    r = CliRunner(charset="ascii").invoke(app, ["simulate", str(out), "--frames", "20"])  # a console's strict encoding
    assert r.exit_code == 0 and out.exists(), r.output
    assert r.stdout.strip().endswith("plaza_\\xe9\\u5317.csv") and r.exception is None
    # A scene so named in the evaluation's table: its columns line up as the escaped name shows.
    simulate(tmp_path / "s.csv", n_frames=120).assign(scene="\u5317\u4eac").to_csv(tmp_path / "s.csv", index=False)
    r = CliRunner(charset="cp1252").invoke(app, ["evaluate", "pedestrian", str(tmp_path / "s.csv"), "-k", "2",
                                                 "--calibration", "0"])
    rows = [line for line in r.stdout.splitlines() if "|" in line]
    assert r.exit_code == 0 and rows[1].startswith("\\u5317\\u4eac"), r.output
    assert len({tuple(i for i, c in enumerate(line) if c in "|+") for line in rows}) == 1, r.output


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full to stand for a full disk")
def test_a_full_disk_under_stdout_is_named_as_stdout_after_the_work(tmp_path):
    """`> log.txt` on a full disk: the output was written, then printing its line failed with the bare "No
    space left on device" naming no file, as if the output had failed."""
    import subprocess
    import sys

    out = tmp_path / "s.csv"
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "trajcvae", "simulate", str(out), "--frames", "30"], stdout=full,
                           stderr=subprocess.PIPE, text=True)
    assert r.returncode == 1 and out.exists()
    assert r.stderr.startswith("error: writing this line to stdout: No space left on device: ")
    assert f"-> {out}" in r.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full to stand for a full disk")
def test_a_full_disk_under_stderr_loses_the_lines_not_the_work(tmp_path, sim_files):
    """`2>> log.txt` on a full disk, or stderr closed (`2>&-`): the summary and warning lines are lost, the
    predictions are written, and the command succeeds (before, it stopped at its first line, exit 1, silent)."""
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "trajcvae", "predict", "pedestrian", str(sim_files["test"]),
                            "-k", "1", "--out", str(tmp_path / "p.csv")], stdout=subprocess.PIPE, stderr=full,
                           text=True)
    assert r.returncode == 0 and f"-> {tmp_path / 'p.csv'}" in r.stdout, r.stdout
    assert pd.read_csv(tmp_path / "p.csv")["sample"].max() == 0
    r = subprocess.run([sys.executable, "-c", "import os, sys; os.close(2); from trajcvae.cli import main; "
                        f"sys.argv = ['trajcvae', 'simulate', {str(tmp_path / 's.csv')!r}, '--frames', '20']; main()"],
                       stdout=subprocess.PIPE, text=True)
    assert r.returncode == 0 and (tmp_path / "s.csv").exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full to stand for a full disk")
def test_evaluate_writes_its_json_before_its_tables_whose_failure_names_stdout(tmp_path, trained, sim_files):
    """evaluate's tables come last: a full disk under stdout (or a pipe's reader gone) cost the --json that
    the work had scored, and said only "No space left on device"."""
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "trajcvae", "evaluate", str(trained), str(sim_files["test"]),
                            "-k", "2", "--calibration", "0", "--json", str(tmp_path / "e.json")], stdout=full,
                           stderr=subprocess.PIPE, text=True)
    assert r.returncode == 1 and json.loads((tmp_path / "e.json").read_text())["k"] == 2
    assert r.stderr.splitlines()[-1].startswith("error: writing this line to stdout: No space left on device: best of")


def test_lines_and_a_progress_bar_on_a_terminal_reach_it_without_printing_into_themselves(monkeypatch):
    """A progress bar on a terminal makes sys.stderr rich's proxy, which prints through a console: the
    commands' consoles (errors.Stderr) write the proxy's own stream, as rich's do, rather than the proxy (a
    console of the proxy printed into itself without end: `trajcvae train` in a terminal never finished)."""
    import io
    import sys

    from rich.console import Console
    from rich.progress import Progress

    from trajcvae.errors import Stderr

    terminal, proxied, done = io.StringIO(), [], threading.Event()
    monkeypatch.setattr(sys, "stderr", terminal)

    def train_a_little():
        with Progress(console=Console(file=Stderr(), force_terminal=True, width=80), auto_refresh=False) as bar:
            proxied.append(getattr(sys.stderr, "rich_proxied_file", None))  # (the proxy is on)
            task = bar.add_task("epoch", total=2)
            Console(file=Stderr(), width=80).print("read 1 file: a line about the data")
            bar.advance(task)
            bar.refresh()
        done.set()

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())  # (a terminal is told as one: the bar is drawn there)
    assert Stderr().isatty()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert not Stderr().isatty()
    threading.Thread(target=train_a_little, daemon=True).start()
    assert done.wait(30), "the consoles print into themselves"
    assert proxied == [terminal] and sys.stderr is terminal
    assert "read 1 file: a line about the data" in terminal.getvalue()
