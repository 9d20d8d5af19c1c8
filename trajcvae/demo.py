"""The demo: train on the bundled synthetic plaza, predict its test scene, evaluate, draw a picture."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

from . import checkpoint
from ._version import made_by
from .config import Config, check_log, load_config
from .errors import TrajCVAEError, warn
from .evaluate import evaluate
from .atomic import write_bytes, write_table
from .plots import plot_windows
from .predict import TrajCVAE, samples_to_frame
from .simulate import write_demo
from .train import RESUME_OPTIONS, train
from .visualize import save_figure, window_titles

DEMO_DATA = Path(__file__).resolve().parent.parent / "data" / "demo"  # in a clone of the repository
DEMO_CONFIG = Path(__file__).resolve().parent / "configs" / "demo.toml"  # package data


def run_demo(out: str | Path = "runs/demo", epochs: int | None = None, progress: bool = True,
             log: Callable[[str], None] | None = None) -> dict:
    """Run the whole job; returns the evaluation and the paths written (`data`: the folder of the plaza's
    files, the repository's data/demo, or, for an installed package, the same files generated under `out`).
    A demo run already in `out` is continued from its last.pt (trained no further where it has all its
    epochs), and `log` gets a line saying so."""
    check_log(log)
    out = Path(out)
    cfg = load_config(DEMO_CONFIG, [f"train.epochs={epochs}"] if epochs else [])
    resume = (out / "last.pt").exists()
    if resume:  # the demo's own run, continued; any other run in --out is left alone
        state = checkpoint.load(out / "last.pt")
        other = Config.from_dict(state["config"], source=str(out / "last.pt")).differences(cfg, skip=RESUME_OPTIONS)
        if other:
            dotted, theirs, mine = other[0]
            raise TrajCVAEError(f"{out} holds a run that is not the demo's ({dotted} = {theirs!r}, the demo's "
                                f"{mine!r}); give another --out")
        if epochs and epochs < state["epoch"]:
            raise TrajCVAEError(f"{out} holds a demo run of {state['epoch']} epochs; give --epochs "
                                f"{state['epoch']} or more, or another --out")
        left = cfg.train.epochs - state["epoch"]
        if log is not None:
            log(f"{out} holds a demo run of {state['epoch']} epoch{'s' if state['epoch'] != 1 else ''}: "
                + (f"continuing it for {left} more" if left else "using it as it is")
                + " (delete the folder, or give another --out, to train anew)")
        codes = state.get("stats", {}).get("code", [])
        if not left and (not codes or codes[-1]["code"] != made_by()):
            # Resumed epochs warn in train; a finished run trains none, so its numbers may be another code's.
            by = f"trajcvae {codes[-1]['code']}" if codes else "an older trajcvae, which did not record its code"
            (log or warn)(f"warning: {out} was trained by {by}, not this code ({made_by()}): its numbers are that "
                          "code's; delete the folder to train anew")
    in_clone = (DEMO_DATA.parent.parent / "pyproject.toml").is_file() and (DEMO_DATA / "train.csv").is_file()
    data = DEMO_DATA if in_clone else _plaza_under(out)
    train([data / "train.csv"], [data / "val.csv"], cfg, out, resume=resume, progress=progress)
    predictor = TrajCVAE.load(out / "best.pt")
    w = predictor.make_windows([data / "test.csv"], every_window=True)
    samples = predictor.sample(w, k=20)
    write_table(samples_to_frame(w, samples), out / "predictions.csv")
    result = evaluate(predictor, [data / "test.csv"], k=20, calibration_draws=100)
    # A picture of six test windows, spread over the scene's time line.
    pick = np.linspace(0, len(w) - 1, 6).astype(int)
    shown = w.subset(pick)
    fig = plot_windows(shown.obs, samples[pick], shown.fut, shown.nbr, titles=window_titles(shown),
                       suptitle="test windows of the plaza predicted by best.pt (20 futures each)", orient=shown.orient)
    save_figure(fig, out / "predictions.png")
    return {"evaluation": result, "data": data, "checkpoint": out / "best.pt", "predictions": out / "predictions.csv",
            "figure": out / "predictions.png"}


def _plaza_under(out: Path) -> Path:
    """The plaza's files under `out`/data, for an installed package without the repository's data/: written
    where missing, used where they are the plaza's own; a file of that name holding anything else (the
    user's own data) is refused, before any file is written."""
    data = out / "data"
    if data.exists() and not data.is_dir():
        raise TrajCVAEError(f"{data}: a file where the demo writes its data's folder; give another --out")
    with tempfile.TemporaryDirectory() as made:
        write_demo(made)
        plaza = {name: (Path(made) / name).read_bytes() for name in ("train.csv", "val.csv", "test.csv")}
    for name, text in plaza.items():
        mine = data / name
        if mine.exists() and (not mine.is_file() or mine.read_bytes() != text):
            raise TrajCVAEError(f"{mine}: not the demo's data, which the demo writes there; give another --out")
    for name, text in plaza.items():
        if not (data / name).exists():
            write_bytes(data / name, lambda f, text=text: f.write(text))
    return data
