import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from trajcvae.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_end_to_end_train_predict_evaluate(tmp_path, sim_files):
    """The real thing, small: simulate -> train -> predict -> evaluate, all through the CLI."""
    data = tmp_path / "plaza.csv"
    r = run("simulate", data, "--scenes", 2, "--frames", 120, "--seed", 5)
    assert r.exit_code == 0, r.output
    out = tmp_path / "run"
    r = run("train", data, "--val", sim_files["val"], "--out", out, "--epochs", 2, "--quiet",
            "--set", "model.hidden=32")
    assert r.exit_code == 0, r.output
    assert (out / "best.pt").exists() and (out / "last.pt").exists()
    metrics = pd.read_csv(out / "metrics.csv")
    assert list(metrics.epoch) == [1, 2]
    for col in ("train_nll", "train_kl", "train_elbo", "val_nll", "val_kl", "val_elbo", "val_min_ade"):
        assert metrics[col].notna().all()

    preds = tmp_path / "preds.parquet"
    r = run("predict", out / "best.pt", sim_files["test"], "-k", 4, "--out", preds, "--windows")
    assert r.exit_code == 0, r.output
    df = pd.read_parquet(preds)
    assert list(df.columns) == ["scene", "agent_id", "t0", "sample", "step", "frame", "x", "y"]
    assert df["sample"].max() == 3

    js = tmp_path / "eval.json"
    r = run("evaluate", out / "best.pt", sim_files["test"], "-k", 4, "--json", js)
    assert r.exit_code == 0, r.output
    assert "minADE@4" in r.output and "overall" in r.output
    result = json.loads(js.read_text())
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

    r = run("train", data, "--val", sim_files["val"], "--out", out, "--epochs", 3, "--quiet", "--resume")
    assert r.exit_code == 0, r.output
    assert list(pd.read_csv(out / "metrics.csv").epoch) == [1, 2, 3]


@pytest.mark.parametrize("args,message", [
    (["predict", "{model}", "{missing}"], "no such file or directory"),
    (["predict", "{model}", "{bad}"], "line 3: column 'x' value 'oops' is not a number"),
    (["predict", "nope.pt", "{test}"], "checkpoint not found"),
    (["predict", "{model}", "{test}", "-k", "0"], "-k must be >= 1"),
    (["train", "{test}", "--set", "model.hiden=3"], "unknown option 'model.hiden'"),
    (["train", "{test}", "--set", "train.epochs=abc"], "invalid value"),
    (["train", "{test}", "--config", "{missing}"], "config file not found"),
    (["evaluate", "{model}", "{test}", "--device", "cuda"], None),
])
def test_user_errors_are_one_line(tmp_path, trained, sim_files, args, message):
    bad = tmp_path / "bad.csv"
    bad.write_text("frame,agent_id,x,y\n0,1,0,0\n10,1,oops,0\n")
    fill = {"{model}": trained, "{missing}": tmp_path / "missing.csv", "{bad}": bad, "{test}": sim_files["test"]}
    r = run(*[fill.get(a, a) for a in args])
    if message is None:  # cuda: fine where a GPU exists, a clear error elsewhere
        import torch
        if torch.cuda.is_available():
            return
        message = "CUDA is not available"
    assert r.exit_code == 1
    assert message in r.output
    assert "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output


def test_refuses_to_overwrite_a_run(tmp_path, sim_files, trained):
    r = run("train", sim_files["test"], "--out", trained.parent, "--quiet")
    assert r.exit_code == 1 and "--resume" in r.output


def test_help_lists_commands():
    r = run("--help")
    for cmd in ("train", "predict", "evaluate", "simulate", "demo"):
        assert cmd in r.output


def test_benchmark_two_seeds_writes_both_and_resumes(tmp_path, sim_files):
    """`benchmark eth-ucy` on a one-split stand-in root: the table, the per-seed table, then a re-run skips."""
    root = tmp_path / "root"
    for part in ("train", "val", "test"):
        (root / "hotel" / part).mkdir(parents=True)
        (root / "hotel" / part / f"{part}.csv").write_bytes(sim_files[part].read_bytes())
    cfg = tmp_path / "tiny.toml"
    cfg.write_text("[model]\nhidden = 16\nz_dim = 4\n[train]\nepochs = 1\nvariety_k = 4\n[data]\nmemory = 2\n")
    args = ("benchmark", "eth-ucy", "--root", root, "--config", cfg, "--out", tmp_path / "res",
            "--splits", "hotel", "--seeds", 2, "--is-samples", 4, "--kde-samples", 30, "--quiet")
    r = run(*args, "--cluster-from", 40)
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "res" / "results.json").read_text())
    assert report["seeds"] == 2 and [row["seed"] for row in report["per_seed"]["hotel"]] == [0, 1]
    per_seed = report["per_seed"]["hotel"]
    assert report["splits"]["hotel"]["min_ade"] == pytest.approx((per_seed[0]["min_ade"] + per_seed[1]["min_ade"]) / 2)
    md = (tmp_path / "res" / "results.md").read_text()
    assert "seed 1 minADE/minFDE" in md and f"{per_seed[1]['min_ade']:.3f}/{per_seed[1]['min_fde']:.3f}" in md
    # The test-time selection has its own table, beside plain sampling (not in place of it).
    assert "k-means of 40 draws -> 20" in md and report["cluster_from"] == 40
    km = report["splits"]["hotel"]
    assert f"{km['min_ade']:.3f}/{km['min_fde']:.3f} | {km['km_min_ade']:.3f}/{km['km_min_fde']:.3f}" in md
    again = run(*args, "--cluster-from", 40)
    assert again.exit_code == 0 and again.output.count("done earlier, skipped") == 2, again.output
    # Another pool size: finished splits are re-scored from their checkpoints, not retrained.
    other = run(*args, "--cluster-from", 60)
    assert other.exit_code == 0 and other.output.count("adding k-means of 60 draws") == 2, other.output
    rows = [json.loads((tmp_path / "res" / "hotel" / f"seed{i}" / "result.json").read_text()) for i in (0, 1)]
    assert [r["km_draws"] for r in rows] == [60, 60] and rows[0]["min_ade"] == per_seed[0]["min_ade"]
    bad = run(*args, "--cluster-from", 5)
    assert bad.exit_code == 1 and "--cluster-from must be at least -k = 20 (got 5)" in bad.output


def test_benchmark_refuses_unknown_suite_and_split(tmp_path):
    r = run("benchmark", "kitti", "--out", tmp_path / "res")
    assert r.exit_code != 0 and "unknown benchmark suite 'kitti'" in r.output
    r = run("benchmark", "eth-ucy", "--splits", "mars", "--out", tmp_path / "res")
    assert r.exit_code != 0 and "unknown split 'mars'" in r.output
