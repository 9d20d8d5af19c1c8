"""Training: windows -> batches -> minimise -ELBO, keep the best (val minADE@K) and last checkpoints.

Run folder: `last.pt` (every epoch, with optimiser/scheduler/RNG state for `--resume`), `best.pt`,
`metrics.csv` (one row per epoch: train and val NLL, KL, ELBO; val minADE/minFDE), `config.toml`.
"""
from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

from . import __version__, checkpoint
from .config import Config
from .data import read_tracks
from .elbo import elbo_loss
from .errors import TrajCVAEError
from .features import WindowTensors, make_batch
from .metrics import fit_cv_noise, min_ade_fde
from .model import CVAE
from .predict import TrajCVAE, resolve_device
from .windows import Windows, build_windows

METRICS = ["epoch", "beta", "lr", "train_loss", "train_nll", "train_kl", "train_elbo", "val_nll", "val_kl",
           "val_elbo", "val_min_ade", "val_min_fde", "seconds"]


@dataclass
class TrainResult:
    out_dir: Path
    best_epoch: int
    best_val_min_ade: float
    epochs_run: int
    seconds: float


def load_windows(paths: Iterable[str | Path], cfg: Config) -> Windows:
    return build_windows(read_tracks(paths), cfg.data, mode="windows")


def holdout(w: Windows, frac: float = 0.1) -> tuple[Windows, Windows]:
    """No validation files given: hold out the latest `frac` of each scene's windows (by t0)."""
    val = np.zeros(len(w), bool)
    for scene in np.unique(w.scene):
        idx = np.flatnonzero(w.scene == scene)
        cut = np.quantile(w.t0[idx], 1 - frac)
        val[idx[w.t0[idx] > cut]] = True
    if val.all() or not val.any():
        raise TrajCVAEError("too few windows to hold out a validation set; pass --val files")
    return w.subset(np.flatnonzero(~val)), w.subset(np.flatnonzero(val))


def train(train_paths: Iterable[str | Path], val_paths: Iterable[str | Path] | None, cfg: Config,
          out_dir: str | Path, resume: bool = False, progress: bool = True) -> TrainResult:
    """Train a CVAE on trajectory files; see the module docstring for what lands in `out_dir`."""
    out = Path(out_dir)
    state = None
    if resume:
        state = checkpoint.load(out / "last.pt")
        epochs = cfg.train.epochs
        cfg = Config.from_dict(state["config"], source=str(out / "last.pt"))
        cfg.train.epochs = epochs
    elif (out / "last.pt").exists():
        raise TrajCVAEError(f"{out}: already holds a run; pass --resume to continue it or choose another --out")
    tc = cfg.train
    if tc.num_threads > 0:
        torch.set_num_threads(tc.num_threads)
    device = resolve_device(tc.device)
    torch.manual_seed(tc.seed)
    gen = torch.Generator().manual_seed(tc.seed)

    train_w = load_windows(train_paths, cfg)
    val_w = load_windows(val_paths, cfg) if val_paths else None
    if val_w is None:
        train_w, val_w = holdout(train_w)
    stats = {"cv_noise": fit_cv_noise(train_w.obs, train_w.fut), "train_windows": len(train_w),
             "val_windows": len(val_w)}
    tr, va = WindowTensors.from_windows(train_w), WindowTensors.from_windows(val_w)

    model = CVAE(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=tc.epochs, eta_min=tc.lr / 20)
    start, best, best_epoch = 1, math.inf, 0
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        gen.set_state(state["gen_rng"])
        start, best, best_epoch = state["epoch"] + 1, state["best_val_min_ade"], state["best_epoch"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.toml").write_text(to_toml(cfg.to_dict()))
    metrics_path = out / "metrics.csv"
    _truncate_metrics(metrics_path, start - 1)

    predictor = TrajCVAE(model, cfg, stats, device)
    n_batches = math.ceil(len(tr) / tc.batch_size)
    t_start = time.time()
    bar = _Progress(progress, tc.epochs * n_batches, (start - 1) * n_batches)
    with bar:
        for epoch in range(start, tc.epochs + 1):
            t_epoch = time.time()
            beta = tc.beta * min(1.0, epoch / tc.kl_anneal_epochs) if tc.kl_anneal_epochs > 0 else tc.beta
            model.train()
            sums: dict[str, float] = {}
            perm = torch.randperm(len(tr), generator=gen)
            for step in range(n_batches):
                idx = perm[step * tc.batch_size:(step + 1) * tc.batch_size]
                batch = make_batch(tr, idx, cfg.data, device, augment=True, generator=gen)
                terms = elbo_loss(model, batch, beta, tc.free_bits, tc.variety_weight, tc.variety_k)
                loss = terms["loss"]
                if not torch.isfinite(loss):
                    raise TrajCVAEError(f"loss became {loss.item()} at epoch {epoch} step {step + 1}; stopped, "
                                        f"last good checkpoint kept in {out / 'last.pt'}")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if tc.max_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), tc.max_grad_norm)
                opt.step()
                for key, v in terms.items():
                    sums[key] = sums.get(key, 0.0) + v.item() * len(idx)
                bar.advance(f"epoch {epoch}/{tc.epochs} loss {loss.item():.2f}")
            sched.step()
            model.eval()
            val = validate(predictor, va, val_w.fut, tc.k_eval)
            row = {"epoch": epoch, "beta": beta, "lr": opt.param_groups[0]["lr"],
                   **{f"train_{k}": sums[k] / len(tr) for k in ("loss", "nll", "kl", "elbo")},
                   **{f"val_{k}": v for k, v in val.items()}, "seconds": time.time() - t_epoch}
            _append_metrics(metrics_path, row)
            bar.log(f"epoch {epoch}: train nll {row['train_nll']:.2f} kl {row['train_kl']:.2f} | val elbo "
                    f"{val['elbo']:.2f} minADE {val['min_ade']:.3f} minFDE {val['min_fde']:.3f}")
            ckpt = {"config": cfg.to_dict(), "model": model.state_dict(), "stats": stats, "epoch": epoch}
            if val["min_ade"] < best:
                best, best_epoch = val["min_ade"], epoch
                checkpoint.save({**ckpt, "val_min_ade": best}, out / "best.pt")
            checkpoint.save({**ckpt, "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                             "rng": torch.get_rng_state(), "gen_rng": gen.get_state(),
                             "best_val_min_ade": best, "best_epoch": best_epoch}, out / "last.pt")
    return TrainResult(out, best_epoch, best, tc.epochs - start + 1, time.time() - t_start)


@torch.no_grad()
def validate(predictor: TrajCVAE, wt: WindowTensors, fut: np.ndarray, k: int,
             batch_size: int = 2048) -> dict[str, float]:
    """Val -ELBO terms (beta = 1) and minADE/minFDE@k, in world units."""
    model, cfg = predictor.model, predictor.config
    sums = {"nll": 0.0, "kl": 0.0, "elbo": 0.0}
    for lo in range(0, len(wt), batch_size):
        idx = torch.arange(lo, min(lo + batch_size, len(wt)))
        terms = elbo_loss(model, make_batch(wt, idx, cfg.data, predictor.device))
        for key in sums:
            sums[key] += terms[key].item() * len(idx)
    ade, fde = min_ade_fde(predictor.sample(wt, k=k, seed=0), fut)
    return {**{key: v / len(wt) for key, v in sums.items()}, "min_ade": float(ade.mean()),
            "min_fde": float(fde.mean())}


def to_toml(d: dict) -> str:
    """Serialise a two-level config dict as TOML (None values are left out: TOML has no null)."""
    lines = [f"# written by trajcvae {__version__}"]
    for section, values in d.items():
        lines.append(f"\n[{section}]")
        for key, v in values.items():
            if v is None:
                continue
            lines.append(f"{key} = {str(v).lower() if isinstance(v, bool) else repr(v) if isinstance(v, str) else v}")
    return "\n".join(lines).replace("'", '"') + "\n"


def _truncate_metrics(path: Path, last_epoch: int) -> None:
    """On resume, drop rows of epochs after the checkpoint (they will be recomputed); fresh run: start over."""
    rows = []
    if last_epoch > 0 and path.exists():
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["epoch"]) <= last_epoch]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=METRICS)
        writer.writeheader()
        writer.writerows(rows)


def _append_metrics(path: Path, row: dict) -> None:
    with open(path, "a", newline="") as f:
        csv.DictWriter(f, fieldnames=METRICS).writerow(row)


class _Progress:
    """A rich progress bar with a live description, or nothing (for tests and non-terminals)."""

    def __init__(self, enabled: bool, total: int, completed: int):
        self.enabled = enabled
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TimeRemainingColumn())
            self.task = self.p.add_task("training", total=total, completed=completed)

    def __enter__(self):
        if self.enabled:
            self.p.__enter__()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.p.__exit__(*exc)

    def advance(self, description: str) -> None:
        if self.enabled:
            self.p.update(self.task, advance=1, description=description)

    def log(self, message: str) -> None:
        if self.enabled:
            self.p.console.print(message)
