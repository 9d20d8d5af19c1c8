"""The benchmark scripts' selection logic (not their timings): benchmarks/ is not a package, so load by path."""
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from trajcvae import TrajCVAE
from trajcvae.windows import load_windows
from trajcvae.batch import WindowTensors

from tests.helpers import ETH_UCY

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not ETH_UCY.is_dir(), reason="needs ../shared/datasets/eth_ucy")
@pytest.mark.parametrize("holdout,key", [("hotel", "biwi_hotel"), ("students", "students")])
def test_cross_scene_files_hold_out_one_group_and_never_read_test(holdout, key):
    cs = load_script("cross_scene")
    split = ETH_UCY / "eth"
    tr, va, held = cs.cross_scene_files(split, holdout)
    assert tr and va and held
    assert all(key not in f.name for f in tr + va) and all(key in f.name for f in held)
    assert {f.parent.name for f in tr} == {"train"} and {f.parent.name for f in va} == {"val"}
    assert {f.parent.name for f in held} == {"train", "val"}  # the held-out group's own train + val files
    # Together they are exactly the split's train and val files: nothing from test, nothing lost.
    everything = sorted((split / "train").glob("*.txt")) + sorted((split / "val").glob("*.txt"))
    assert sorted(tr + va + held) == sorted(everything)


def test_cross_scene_refuses_an_unknown_group(tmp_path):
    cs = load_script("cross_scene")
    with pytest.raises(SystemExit, match="--holdout must be one of"):
        cs.cross_scene_files(tmp_path, "nowhere")


def test_cross_scene_summary_scores_each_fold_over_its_seeds(tmp_path):
    cs = load_script("cross_scene")
    runs = [{"holdout": "students", "seed": 1, "min_ade": 0.3, "min_fde": 0.5},
            {"holdout": "students", "seed": 0, "min_ade": 0.2, "min_fde": 0.4},
            {"holdout": "hotel", "seed": 0, "min_ade": 0.1, "min_fde": 0.2}]
    table = cs.summary_table(runs).splitlines()
    assert table[2] == "| students | 0, 1 | 0.2000/0.4000, 0.3000/0.5000 | 0.3500 |"  # (0.3 + 0.4) / 2
    assert table[3] == "| hotel | 0 | 0.1000/0.2000 | 0.1500 |"
    # A finished run is read back, not retrained (its files are only read for their digests) ...
    import shutil

    from trajcvae.train import data_digest

    for part, name in (("train", "biwi_hotel"), ("train", "students001"), ("val", "students003")):
        (tmp_path / "eth" / part).mkdir(parents=True, exist_ok=True)
        (tmp_path / "eth" / part / f"{name}.txt").write_text("0 1 0.0 0.0\n10 1 0.5 0.0\n")
    shutil.copytree(tmp_path / "eth", tmp_path / "hotel")
    tr, va, held = cs.cross_scene_files(tmp_path / "eth", "hotel")
    data = {"train": data_digest(tr), "val": data_digest(va), "held_out": data_digest(held)}
    done = {"split": "eth", "holdout": "hotel", "seed": 3, "config": None, "overrides": ["model.hidden=8",
            "train.lr=0.001"], "k": 20, "data": data, "min_ade": 0.1, "min_fde": 0.2}
    (tmp_path / "cross_scene.json").write_text(__import__("json").dumps(done))
    for overrides in (["model.hidden=8", "train.lr=0.001"], ["train.lr=1e-3", "model.hidden=8"]):  # the same config
        assert cs.run_fold(tmp_path / "eth", "hotel", None, overrides, 3, tmp_path, 1, 20) == done
    older = {"holdout": "hotel", "seed": 3, "overrides": [], "data": data, "min_ade": 0.1,
             "min_fde": 0.2}  # no split, config, k
    (tmp_path / "older").mkdir()
    (tmp_path / "older" / "cross_scene.json").write_text(__import__("json").dumps(older))
    assert cs.run_fold(tmp_path / "eth", "hotel", None, [], 3, tmp_path / "older", 1, 20) == older
    # ... but not where its files are others now (an edited held-out file, a --root of other data).
    (tmp_path / "eth" / "train" / "biwi_hotel.txt").write_text("0 1 0.0 0.0\n10 1 0.6 0.0\n")
    with pytest.raises(SystemExit, match="cross_scene.json: a finished run whose held-out files were not these"):
        cs.run_fold(tmp_path / "eth", "hotel", None, [], 3, tmp_path / "older", 1, 20)
    del older["data"]  # a report from before they were recorded: its files cannot be checked
    (tmp_path / "older" / "cross_scene.json").write_text(__import__("json").dumps(older))
    with pytest.raises(SystemExit, match="a finished run made before reports recorded their files"):
        cs.run_fold(tmp_path / "eth", "hotel", None, [], 3, tmp_path / "older", 1, 20)
    for damaged in ('{"split": "eth"', "[]", '{"data": null}'):
        (tmp_path / "older" / "cross_scene.json").write_text(damaged)
        with pytest.raises(SystemExit, match="cross_scene.json: not a cross_scene.py report"):
            cs.run_fold(tmp_path / "eth", "hotel", None, [], 3, tmp_path / "older", 1, 20)
    # Overrides add up, one --set or several.
    assert cs.parser().parse_args(["--set", "a=1", "--set", "b=2", "c=3"]).set == ["a=1", "b=2", "c=3"]
    # A finished run is read back only under the settings it was made with (its numbers are not another run's).
    (tmp_path / "c.toml").write_text("[train]\nlr = 0.0005\n")
    for split, config, overrides, k in (("eth", None, ["model.hidden=16"], 20), ("eth", tmp_path / "c.toml",
                                        ["model.hidden=8"], 20), ("eth", None, ["model.hidden=8"], 5),
                                        ("hotel", None, ["model.hidden=8", "train.lr=0.001"], 20)):
        with pytest.raises(SystemExit, match="cross_scene.json: a finished run of split eth, -k 20, .*not this "
                                             "one's: give another --out"):
            cs.run_fold(tmp_path / split, "hotel", config, overrides, 3, tmp_path, 1, k)


def test_cross_scene_trains_one_fold_scores_the_held_out_group_and_writes_its_report(tmp_path, no_run_figures):
    """A fold end to end on tiny ETH-style files: trained on the other groups' train files, its epoch picked
    on their val files, scored on the held-out group's files; the report is written and read back."""
    import json

    import pandas as pd
    from trajcvae.simulate import simulate_scene

    cs = load_script("cross_scene")
    split = tmp_path / "split"
    for i, (part, name) in enumerate([("train", "students001"), ("train", "crowds_zara01"),
                                      ("val", "students003"), ("val", "crowds_zara02")]):
        (split / part).mkdir(parents=True, exist_ok=True)
        df = simulate_scene(n_frames=60, seed=i, scene=name)
        df[["frame", "agent_id", "x", "y"]].to_csv(split / part / f"{name}.txt", sep=" ", header=False, index=False)
    out = tmp_path / "fold"
    run = cs.run_fold(split, "zara", None, ["train.epochs=1", "model.hidden=16", "model.z_dim=2", "kset.epochs=0"],
                      0, out, 1, 3)
    assert run["held_out_files"] == ["crowds_zara01.txt", "crowds_zara02.txt"] and run["windows"] > 0
    assert json.loads((out / "cross_scene.json").read_text()) == run
    assert not list(out.glob("*.tmp"))
    assert run["min_ade"] > 0 and pd.notna(run["min_fde"])


def test_noise_script_scores_a_model_with_scene_memory_far_from_the_origin_as_near_it(trained, sim_files, tmp_path):
    """benchmarks/noise.py jitters the windows it is given and nothing else: their remembered paths go along
    and their float64 offsets stay (UTM-sized coordinates score as the same tracks near the origin)."""
    import pandas as pd

    noise = load_script("noise")
    model = TrajCVAE.load(trained)
    assert model.config.data.memory > 0
    far = pd.read_csv(sim_files["test"]).assign(x=lambda d: d.x + 5e5, y=lambda d: d.y + 5e6)
    far.to_csv(tmp_path / "far.csv", index=False)
    scores = {}
    for name, path in (("near", sim_files["test"]), ("far", tmp_path / "far.csv")):
        w = load_windows([path], model.config.data)
        wt = WindowTensors.from_windows(w)
        scores[name] = [noise.noisy_min_ade(model, wt, w.fut, sigma, k=5) for sigma in (0.0, 0.05)]
    np.testing.assert_allclose(scores["far"], scores["near"], atol=1e-3)
    assert scores["near"][0] != scores["near"][1] and np.all(np.asarray(scores["near"]) < 5)


def test_a_benchmark_scripts_refusal_is_one_line_and_exit_1_from_a_real_process(tmp_path):
    """What a user sees: the script's own process ends with exit 1 and one `error:` line on stderr, no
    traceback (the refusals of every script, in-process, are the next test's)."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "window_building.py"), "--source", "missing.txt"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr == "error: missing.txt: No such file or directory\n", r.stderr


def test_benchmark_scripts_refuse_what_they_cannot_use_before_any_work(tmp_path, monkeypatch):
    """A --source that is no ETH/UCY text file, a number of a script's own out of range, a source that gives
    nothing to measure, an option the script sets itself: one line, before anything is run or written. The
    library's warnings are one `warning:` line, as the commands give them."""
    import sys
    import warnings

    from trajcvae.errors import TrajCVAEError, TrajCVAEWarning

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from command_line import run

    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # (noise.py's --threads: this process's own)
    csv = tmp_path / "tracks.csv"
    csv.write_text("frame,agent_id,x,y\n0,1,0.0,0.0\n10,1,0.5,0.0\n")
    eth = tmp_path / "eth.txt"
    eth.write_text("".join(f"{10 * i} 1 {0.5 * i} 0.0\n" for i in range(15)))  # one track of 15 samples
    big = tmp_path / "big.txt"  # two agents of ids no float tells apart, each walking 21 steps
    big.write_text("".join(f"{10 * i} {2 ** 53 + a} {0.5 * i} {a}\n" for i in range(21) for a in (0, 1)))
    from command_line import eth_ucy_table, trajcvae

    assert eth_ucy_table(big).agent_id.nunique() == 2
    for script, args, message in (
            ("noise", ["--threads", "0"], r"--threads must be >= 1 \(got 0\)$"),
            ("noise", ["-k", "0"], r"-k must be >= 1 \(got 0\)$"),  # named as the command line names it
            ("short_history", ["--model", "pedestrian"], r"--model pedestrian: its split folder \(none\) has no val "
                                                         "folder in --split-data [^\\n]*$"),
            ("window_building", ["--source", csv], f"--source {csv}: not an ETH/UCY text file"),
            ("window_building", ["--source", eth, "--jitter", "-1"], "--jitter must be a number of seconds >= 0"),
            ("trajnet", ["--source", eth, "--out", tmp_path / "tn"],
             f"--source {eth}: no pedestrian has 21 samples 10 "),
            ("your_data", ["--source", eth, "--until", "nan", "--out", tmp_path / "yd"], "--until must be a frame id"),
            ("your_data", ["--source", eth, "--at", "5000", "--out", tmp_path / "yd"], "--at 5000: outside the "),
            ("your_data", ["--source", eth, "--at", "0", "--out", tmp_path / "yd"], "--at 0: no agent of .* is seen "
                                                                                  "there for 8 steps"),
            ("live_latency", ["--memory-minutes", "-1"], "--memory-minutes must be a number of minutes >= 0"),
            ("live_latency", ["--calibrate", "foo"], "--calibrate must be one of"),
            ("live_latency", ["--replay", csv], f"--replay {csv}: not an ETH/UCY text file"),
            ("noise", [], "give --scenes .* or --model"),
            ("noise", ["--model", "pedestrian", "--data", eth, "--sigmas"], "--sigmas: give at least one noise std"),
            ("window_building", ["--source", eth, "--seed", "-1"], r"--seed must be between 0 and 2\*\*63 - 1"),
            ("your_data", ["--source", eth, "--until", "-5", "--at", "10", "--out", tmp_path / "yd"],
             "--until -5: before every frame id of "),
            ("trajnet", ["--source", big, "--out", tmp_path / "tn", "--model", "none.pt"], "none.pt: checkpoint not "),
            ("cross_scene", ["--set", "train.seed=3", "--out", tmp_path / "cs"],
             "--set train.seed=3: the script sets it for each run; use --seeds")):
        if script == "cross_scene" and not ETH_UCY.is_dir():
            continue
        monkeypatch.setattr(sys, "argv", [script, *map(str, args)])
        with pytest.raises(SystemExit, match=f"^error: {message}"):
            run(load_script(script).main)
    assert not any((tmp_path / name).exists() for name in ("tn", "yd", "cs"))
    out = __import__("io").StringIO()  # a trajcvae command's failure: its error line, once
    monkeypatch.setattr(sys, "stdout", out)
    with pytest.raises(TrajCVAEError, match=r"^trajcvae predict: .*none.pt: checkpoint not found"):
        trajcvae("predict", tmp_path / "none.pt", eth, "--out", tmp_path / "p.csv")
    assert "checkpoint not found" not in out.getvalue()
    killed = tmp_path / "killed.sh"  # a command the system kills (out of memory): said so, not its last line
    killed.write_text("#!/bin/sh\necho read 1 file\nkill -9 $$\n")
    killed.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(killed))
    with pytest.raises(TrajCVAEError, match=r"^trajcvae predict: killed by SIGKILL$"):
        trajcvae("predict", "x")
    monkeypatch.undo()
    err = __import__("io").StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        monkeypatch.setattr(sys, "stderr", err)
        run(lambda: warnings.warn("the tracks' speeds\nlook wrong", TrajCVAEWarning))
    assert err.getvalue() == "warning: the tracks' speeds\\nlook wrong\n"

    def refuse():
        raise TrajCVAEError("a file named a\nb")

    with pytest.raises(SystemExit, match=r"^error: a file named a\\nb$"):  # a refusal is one line too
        run(refuse)


def test_benchmark_scripts_refuse_inputs_and_outputs_before_the_work_they_would_cost(tmp_path, monkeypatch):
    """benchmarks/README.md: bad input is one `error:` line "before any work". A model or data make_gallery.py
    cannot use, before the demo model trains or a picture is drawn; a --json that cannot be written, before
    the measuring (not after it); bigfile.py's --model, before the file is simulated; cross_scene.py's missing
    --root or --split, named as missing."""
    import shutil
    import subprocess
    import sys

    import trajcvae.demo
    from trajcvae.predict import BUILTIN

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from command_line import run

    def work(*args, **kwargs):
        raise AssertionError("the work started before the refusal")

    monkeypatch.setattr(trajcvae.demo, "run_demo", work)  # make_gallery.py's training of the demo model
    monkeypatch.setattr(subprocess, "Popen", work)  # live_latency.py's server
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # (speed.py's --threads: this process's own)
    run_folder, bare = tmp_path / "run", tmp_path / "bare"
    for folder in (run_folder, bare):
        folder.mkdir()
        shutil.copy(BUILTIN["pedestrian"], folder / "best.pt")
    (run_folder / "metrics.csv").write_text("epoch,train_loss\n1,1.0\n")
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("")
    (tmp_path / "old_fork" / "run").mkdir(parents=True)
    shutil.copy(BUILTIN["pedestrian"], tmp_path / "old_fork" / "run" / "best.pt")
    root = tmp_path / "eth_ucy"
    (root / "eth" / "train").mkdir(parents=True)
    gallery, missing_demo = tmp_path / "gallery", tmp_path / "demo" / "best.pt"
    for script, args, message in (
            ("make_gallery", ["--model", bare / "best.pt", "--data", tmp_path, "--demo-model", missing_demo,
                              "--out", gallery], f"--model {bare / 'best.pt'}: its folder has no metrics.csv"),
            ("make_gallery", ["--model", run_folder / "best.pt", "--data", tmp_path / "none", "--demo-model",
                              missing_demo, "--out", gallery], f"--data {tmp_path / 'none'}: no such file or folder"),
            ("make_gallery", ["--model", run_folder / "best.pt", "--data", ROOT / "data" / "demo" / "test.csv",
                              "--demo-model", missing_demo, "--out", not_a_folder],
             f"--out {not_a_folder}: is a file; give a folder"),
            ("live_latency", ["--replay", "", "--json", not_a_folder / "live.json"],
             f"--json {not_a_folder / 'live.json'}: {not_a_folder} is not a folder"),
            ("branching", ["--model", "pedestrian", "--out", tmp_path / "fork", "--json", tmp_path],
             f"--json {tmp_path}: is a folder; give a file name"),
            ("branching", ["--model", tmp_path / "none.pt", "--out", tmp_path / "fork"],
             f"{tmp_path / 'none.pt'}: checkpoint not found"),
            ("branching", ["--out", tmp_path / "fork", "--set", "train.bogus=1"],
             "--set: unknown option 'train.bogus'"),
            ("branching", ["--out", tmp_path / "old_fork"],  # its data would be written over, then training refused
             f"--out {tmp_path / 'old_fork'}: holds a fork run already"),
            ("speed", ["--model", "pedestrian", "--root", root, "--json", not_a_folder / "speed.json"],
             f"--json {not_a_folder / 'speed.json'}: {not_a_folder} is not a folder"),
            ("bigfile", ["--model", tmp_path / "none.pt", "--rows", "100", "--dir", tmp_path / "big"],
             f"{tmp_path / 'none.pt'}: checkpoint not found"),
            ("cross_scene", ["--root", tmp_path / "none", "--out", tmp_path / "cs"],
             f"--root {tmp_path / 'none'}: no such folder; give --root the ETH/UCY datasets' folder"),
            ("cross_scene", ["--root", root, "--split", "hotel", "--out", tmp_path / "cs"],
             rf"--split hotel: no such folder in --root {root}; give one of its splits \(eth\)$")):
        module = load_script(script)
        for name in ("branching_scene", "train", "load_windows", "make_csv"):  # the scripts' own work
            if hasattr(module, name):
                monkeypatch.setattr(module, name, work)
        monkeypatch.setattr(sys, "argv", [script, *map(str, args)])
        with pytest.raises(SystemExit, match=f"^error: {message}"):
            run(module.main)
    assert not any((tmp_path / name).exists() for name in ("gallery", "demo", "fork", "big", "cs"))
    assert [p.name for p in (tmp_path / "old_fork").iterdir()] == ["run"]


def test_your_data_script_says_what_each_option_is(monkeypatch, capsys):
    """`benchmarks/your_data.py --help`: every option with its help text (what it is, its default)."""
    import sys

    monkeypatch.setenv("COLUMNS", "200")  # (each option's help on its own line)
    monkeypatch.setattr(sys, "argv", ["your_data.py", "--help"])
    with pytest.raises(SystemExit):
        load_script("your_data").main()
    shown = capsys.readouterr().out
    for option in ("--source SOURCE", "--out OUT", "--gallery GALLERY", "--until UNTIL", "--at AT"):
        assert re.search(rf"^  {option} +\S", shown, re.M), f"{option}: no help"
    for option in ("--source SOURCE", "--out OUT"):
        assert re.search(rf"^  {option} +\S.*\(default: ", shown, re.M), f"{option}: no default said"


def test_the_docs_simulate_commands_name_the_file_they_write():
    """docs/scaling.md's `trajcvae simulate ...` commands run as written: each names its OUT file."""
    commands = re.findall(r"`trajcvae simulate([^`]*)`", (ROOT / "docs" / "scaling.md").read_text())
    assert commands
    for given in commands:
        words = given.split()
        assert words and not words[0].startswith("-"), f"trajcvae simulate{given}: no OUT file"


def test_benchmark_scripts_read_numbers_as_the_command_line_does(monkeypatch, capsys):
    """2_0 is no 20 to a script either (Python's int() would read it so): argparse's own refusal."""
    import sys

    monkeypatch.setattr(sys, "argv", ["noise.py", "-k", "2_0"])
    with pytest.raises(SystemExit) as e:
        load_script("noise").main()
    err = capsys.readouterr().err
    assert e.value.code == 2 and "argument -k: invalid int value: '2_0'" in err and "Traceback" not in err
    from trajcvae.errors import as_written  # (the scripts' float options: the same reader)

    with pytest.raises(ValueError):
        as_written(float)("0.0_3")
    assert as_written(float)("-1e-2") == -0.01 and as_written(float).__name__ == "float"


def test_short_history_script_cuts_histories_and_restores_the_config(trained, sim_files):
    sh = load_script("short_history")
    obs = torch.arange(16.0).reshape(1, 8, 2)
    cut = sh.cut_history(obs, 3)
    assert torch.isnan(cut[0, :5]).all() and torch.equal(cut[0, 5:], obs[0, 5:])
    model = TrajCVAE.load(trained)
    w = load_windows([sim_files["test"]], model.config.data)
    wt = WindowTensors.from_windows(w)
    full = [sh.short_history_errors(model, wt, w.fut, 8, fill, k=3) for fill in (False, True)]
    assert full[0] == full[1]  # nothing to fill in a full history
    short = [sh.short_history_errors(model, wt, w.fut, 3, fill, k=3) for fill in (False, True)]
    assert short[0] != short[1] and np.isfinite(short).all()
    assert model.config.data.fill_short_history is True  # the script leaves the model as it found it


def test_window_building_writes_one_file_four_ways_with_the_same_tracks():
    """benchmarks/window_building.py: the four inputs it times hold the same tracks, and each makes windows
    whose t0s are its own observations."""
    import pandas as pd

    wb = load_script("window_building")
    rows = [(f, a, 0.1 * f + a, 0.05 * f) for a in range(3) for f in range(0, 400, 10)]
    d = pd.DataFrame(rows, columns=["frame", "agent_id", "x", "y"])
    model = TrajCVAE.load("pedestrian")
    made = wb.kinds(d, jitter=0.1, seed=0)
    assert list(made) == ["frame ids of unknown rate", "25 fps frame ids", "seconds, jittered frame by frame",
                          "seconds, jittered detection by detection"]
    for name, (table, fps) in made.items():
        w = model.make_windows(table, every_window=True, fps=fps)
        times = table["time"] if "time" in table else table["frame"]
        assert len(w) > 0 and np.isin(np.round(w.t0, 6), np.round(times, 6)).all(), name
    shared = made["seconds, jittered frame by frame"][0]
    assert shared.groupby(d["frame"])["time"].nunique().max() == 1  # a frame's agents share its time
    np.testing.assert_allclose(made["25 fps frame ids"][0].set_index(["agent_id", "frame"]).loc[
        list(zip(d.agent_id, d.frame)), ["x", "y"]].to_numpy(), d[["x", "y"]].to_numpy())
