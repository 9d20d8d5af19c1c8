"""The command line: thin Typer commands, each calling one library function."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import TrajCVAEError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Predict where agents go next: a conditional VAE drawing K futures per agent.")
err = Console(stderr=True)

DataArg = Annotated[list[Path], typer.Argument(help="Trajectory files or folders (CSV with frame, agent_id, x, "
                                                    "y [, scene]; or ETH/UCY text files).", show_default=False)]
ModelArg = Annotated[str, typer.Argument(help="A checkpoint (.pt) or a built-in model name (pedestrian).")]
KOpt = Annotated[int, typer.Option("-k", "--k", help="Futures (samples) per agent.")]
SeedOpt = Annotated[int, typer.Option(help="Random seed: same seed and data give the same numbers on CPU.")]
DeviceOpt = Annotated[str, typer.Option(help="cpu, cuda or auto.")]


def user_errors(fn):
    """Turn the project's own errors into a one-line message and exit code 1 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TrajCVAEError as e:
            err.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


@app.command()
@user_errors
def train(
    data: DataArg,
    val: Annotated[Optional[list[Path]], typer.Option(help="Validation files/folders (picks the best "
                   "checkpoint); default: the latest 10% of each training scene.")] = None,
    config: Annotated[Optional[Path], typer.Option(help="TOML config (see configs/).")] = None,
    out: Annotated[Path, typer.Option(help="Run folder for checkpoints and metrics.")] = Path("runs/default"),
    epochs: Annotated[Optional[int], typer.Option(help="Override train.epochs.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Override train.seed.")] = None,
    device: Annotated[Optional[str], typer.Option(help="Override train.device: cpu, cuda or auto.")] = None,
    time_step: Annotated[Optional[float], typer.Option(help="Frame-id step between samples (default: "
                         "inferred per scene).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Any config option, e.g. "
                    "--set model.hidden=64 (repeatable).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out from its last checkpoint.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
):
    """Train a CVAE on trajectory files; writes best.pt, last.pt and metrics.csv into --out."""
    from .config import load_config
    from .train import train as run

    overrides = list(set_ or [])
    for key, value in (("train.epochs", epochs), ("train.seed", seed), ("train.device", device),
                       ("data.time_step", time_step)):
        if value is not None:
            overrides.append(f"{key}={value}")
    cfg = load_config(config, overrides)
    r = run(data, val, cfg, out, resume=resume, progress=not quiet)
    Console().print(f"best epoch {r.best_epoch} (val minADE@{cfg.train.k_eval} {r.best_val_min_ade:.3f}) "
                      f"in {r.seconds:.0f} s -> {r.out_dir / 'best.pt'}")


@app.command()
@user_errors
def predict(
    model: ModelArg,
    data: DataArg,
    k: KOpt = 20,
    out: Annotated[Path, typer.Option(help="Output table: .csv, or .parquet.")] = Path("predictions.csv"),
    seed: SeedOpt = 0,
    windows: Annotated[bool, typer.Option(help="Predict every (agent, t0) with a full observed and future "
                                               "window (evaluation mode) instead of each agent's latest frame.")] = False,
    device: DeviceOpt = "cpu",
):
    """K futures per agent: columns scene, agent_id, t0, sample, step, frame, x, y."""
    from .predict import predict_to_file

    w = predict_to_file(model, data, out, k=k, seed=seed, windows=windows, device=device)
    note = f" ({w.skipped} agents with a single position at their latest frame were not predicted)" \
        if w.skipped else ""
    Console().print(f"{len(w)} windows x {k} samples -> {out}{note}")


@app.command()
@user_errors
def evaluate(
    model: ModelArg,
    data: DataArg,
    k: KOpt = 20,
    seed: SeedOpt = 0,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the numbers as JSON.")] = None,
    device: DeviceOpt = "cpu",
):
    """minADE/minFDE@K per scene and overall, beside constant-velocity baselines."""
    from .evaluate import evaluate as run
    from .predict import TrajCVAE

    result = run(TrajCVAE.load(model, device=device), data, k=k, seed=seed)
    print_table(result)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2))


def print_table(result: dict) -> None:
    from .evaluate import FIELDS

    k = result["k"]
    table = Table(title=f"best of K={k} (world units; lower is better)")
    table.add_column("scene")
    for name in FIELDS.values():
        table.add_column(name.replace("@K", f"@{k}"), justify="right")
    for scene, row in result["scenes"].items():
        table.add_row(scene, *(str(v) if c == "windows" else f"{v:.3f}" for c, v in row.items()),
                      end_section=scene == list(result["scenes"])[-2])
    Console(width=200).print(table)


@app.command()
@user_errors
def simulate(
    out: Annotated[Path, typer.Argument(help="CSV (or .parquet) to write.")],
    scenes: Annotated[int, typer.Option(help="Number of scenes.")] = 1,
    frames: Annotated[int, typer.Option(help="Steps per scene (0.4 s each).")] = 400,
    rate: Annotated[float, typer.Option(help="Expected new agents per step.")] = 0.35,
    seed: SeedOpt = 0,
):
    """Write a synthetic multi-agent dataset: a plaza where agents pick one of three exits."""
    from .simulate import simulate as run

    if scenes < 1 or frames < 1 or rate <= 0:
        raise TrajCVAEError("--scenes and --frames must be >= 1 and --rate > 0")
    df = run(out, scenes=scenes, n_frames=frames, spawn_rate=rate, seed=seed)
    Console().print(f"{len(df)} rows, {df.groupby('scene').agent_id.nunique().sum()} agents -> {out}")


@app.command()
@user_errors
def demo(
    out: Annotated[Path, typer.Option(help="Run folder.")] = Path("runs/demo"),
    epochs: Annotated[Optional[int], typer.Option(help="Override the demo's epochs.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
):
    """The whole job on the bundled synthetic data: train -> predict -> evaluate -> a picture."""
    from .demo import run_demo

    result = run_demo(out, epochs=epochs, progress=not quiet)
    print_table(result["evaluation"])
    for key in ("checkpoint", "predictions", "figure"):
        Console().print(f"{key}: {result[key]}")


@app.command()
@user_errors
def benchmark(
    suite: Annotated[str, typer.Argument(help="Benchmark suite: eth-ucy.")],
    root: Annotated[Path, typer.Option(help="ETH/UCY folder with {split}/{train,val,test}.")] =
        Path("../shared/datasets/eth_ucy"),
    config: Annotated[Optional[Path], typer.Option(help="TOML config, one for all splits.")] =
        Path("configs/eth_ucy.toml"),
    out: Annotated[Path, typer.Option(help="Results folder (results.json, results.md, runs).")] =
        Path("results/eth_ucy"),
    splits: Annotated[str, typer.Option(help="Comma-separated splits.")] = "eth,hotel,univ,zara1,zara2",
    seeds: Annotated[int, typer.Option(help="Seeds per split (0..N-1); the table shows their mean.")] = 1,
    is_samples: Annotated[int, typer.Option(help="Samples from q(z|x,y) for the importance-sampled NLL.")] = 100,
    kde_samples: Annotated[int, typer.Option(help="Samples per window for the KDE NLL.")] = 2000,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
):
    """Leave-one-scene-out ETH/UCY: train, select on val, report test; resumable (skips finished splits)."""
    from .benchmark import run_benchmark

    if suite != "eth-ucy":
        raise TrajCVAEError(f"unknown benchmark suite '{suite}' (available: eth-ucy)")
    if seeds < 1:
        raise TrajCVAEError("--seeds must be >= 1")
    report = run_benchmark(root, config, out, [s.strip() for s in splits.split(",") if s.strip()], seeds=seeds,
                           is_samples=is_samples, kde_samples=kde_samples, progress=not quiet,
                           log=lambda m: Console().print(m, highlight=False))
    Console().print((out / "results.md").read_text(), highlight=False)
    mean = report["splits"]["mean"]
    Console().print(f"mean minADE@20 {mean['min_ade']:.3f} minFDE@20 {mean['min_fde']:.3f} -> {out}")


def main() -> None:
    app()
