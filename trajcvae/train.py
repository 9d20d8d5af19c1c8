"""Training: windows -> batches -> minimise -ELBO, keep the best (val minADE@K, once the KL weight is full)
and last checkpoints; then, on the frozen best model, train the learned K-set sampler (`kset.py`) into
`best.pt`.

Run folder: `last.pt` (every epoch, with optimiser/scheduler/RNG state for `--resume`), `best.pt`,
`metrics.csv` (one row per epoch: train and val NLL, KL, ELBO; val minADE/minFDE), `config.toml`, and at the
end `curves.png` and `val_predictions.png` (unless `figures=False`, `train --no-figures`). Both checkpoints
record the machine the run trained on (`machine`) and the code that trained it (`code`), and each other one
it was resumed on.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

try:
    import fcntl  # POSIX: the run lock is an OS lock too
except ImportError:  # Windows
    fcntl = None

import numpy as np
import pandas as pd
import torch

from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from . import checkpoint, distributed
from ._version import __version__, made_by
from .atomic import process_alive, process_started, write_text
from .batch import WindowTensors, make_batch
from .checks import sets_apart, speed_record
from .config import (TRAIN_OPTIONS, Config, check_flags, check_log, check_output, load_config, resolve_device,
                     torch_seed, validate as validate_config)
from .errors import DataError, NoWindowsError, Stderr, TrajCVAEError, keyword_names, plural, warn, warning_text
from .kset import train_kset
from .metrics import fit_cv_noise, min_ade_fde
from .model import CVAE
from .predict import SAMPLE_ROW_BYTES, TrajCVAE, check_fits, draw_bytes
from .table import column_map
from .tracks import is_read, list_files, read_with
from .windows import Windows, copy_of, files_beside, files_digest, load_windows, no_windows_error, quiet

FIGURES = ("curves.png", "val_predictions.png")
RUN_FILES = ("config.toml", "metrics.csv", "best.pt", *FIGURES)  # what a run writes in its folder besides last.pt
METRICS = ["epoch", "beta", "lr", "train_loss", "train_nll", "train_kl", "train_elbo", "val_nll", "val_kl",
           "val_elbo", "val_min_ade", "val_min_fde", "seconds"]


@dataclass
class TrainResult:
    out_dir: Path
    best_epoch: int
    best_val_min_ade: float
    epochs_run: int
    seconds: float
    k_eval: int = 20  # the K of best_val_min_ade (the run's train.k_eval)
    epochs: int = 0  # the run's train.epochs (a resumed run's own, unless --epochs changed them)
    complete: bool = False  # a resumed run that had trained all its epochs before: nothing was trained
    kl_anneal_epochs: int = 0  # the run's train.kl_anneal_epochs: best.pt is picked from that epoch on


def future_speeds(w: Windows, dt: float) -> np.ndarray:
    """(N * T_pred,) m/s: each window's moves from t0 through its future, as a model's speed record
    (`checks.speed_record`) measures its training tracks."""
    moves = np.diff(np.concatenate([w.obs[:, -1:], w.fut], axis=1), axis=1)  # (N, T_pred, 2) metres
    return np.linalg.norm(moves, axis=-1).ravel() / dt


SHARED = 0.5  # a validation or test set this much of whose windows are the training set's is warned of


def window_keys(w: Windows) -> pd.MultiIndex:
    """Each window's agent id, t0 and position there (to the centimetre): what `windows_shared` compares."""
    return pd.MultiIndex.from_arrays([pd.Index(w.agent_id.astype(str)), np.round(w.t0.astype(float), 6),
                                      np.round(w.obs[:, -1, 0], 2), np.round(w.obs[:, -1, 1], 2)])


def windows_shared(trained: pd.MultiIndex, other: pd.MultiIndex, role: str, of: str = "training") -> str | None:
    """A one-line warning when over `SHARED` of the windows of a set (`role`: validation, test; `window_keys`)
    are windows of the training set (`trained`; `of`="validation": the validation set's, which picks the best
    epoch), whatever the files' names or formats (the tracks saved again, renamed, as Parquet): scores on it
    would be of windows the model trained, or was picked, on."""
    share = float(other.isin(trained).mean()) if len(other) else 0.0
    if share <= SHARED:
        return None
    how = "trained on" if of == "training" else "was picked on (its best epoch, its K-set sampler)"
    return (f"warning: {share:.0%} of the {role} set's windows are the {of} set's (the same agent, t0 and "
            f"position): is it the {of} tracks again (saved anew, renamed)? Scores on it would be of windows the "
            f"model {how}")


def step_counted(d) -> str | None:
    """A one-line warning when `d` (a DataConfig) changes the model's step (data.dt) but leaves an option
    counted in steps at the 0.4 s recipe's value: a history, horizon, speed floor or memory horizon of
    another length in seconds than the recipe's, which a run for another step most likely did not mean."""
    recipe = type(d)()
    if d.dt == recipe.dt:
        return None
    per = recipe.dt / d.dt
    said = {  # option -> (its value as the run has it, in seconds, and the value that keeps the recipe's time)
        "obs_len": (f"{d.obs_len} observed steps ({d.obs_len * d.dt:g} s of history)", round(d.obs_len * per)),
        "pred_len": (f"{d.pred_len} predicted steps ({d.pred_len * d.dt:g} s ahead)", round(d.pred_len * per)),
        "min_speed": (f"a speed floor of {d.min_speed:g} m a step ({d.min_speed / d.dt:.3g} m/s)",
                      f"{d.min_speed / per:.3g}"),
        "memory_horizon": (f"a memory reaching {d.memory_horizon} steps back ({d.memory_horizon * d.dt:g} s)",
                           round(d.memory_horizon * per)),
    }
    if d.memory == 0:
        del said["memory_horizon"]
    left = [name for name in said if getattr(d, name) == getattr(recipe, name)]
    if not left:
        return None
    names = [f"data.{name}" for name in left]
    named = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (f"warning: data.dt {d.dt:g} s, but {named} keep{'s' if len(left) == 1 else ''} the {recipe.dt:g} s "
            f"recipe's value{'s' if len(left) > 1 else ''}: {'; '.join(said[name][0] for name in left)}; for the "
            f"recipe's times give " + " ".join(f"--set data.{name}={said[name][1]}" for name in left) +
            " (docs/model.md, 'Another step')")


FEW_WINDOWS = 100  # fewer training windows than this are warned of as too few to learn from


def _said_of_sets(d, train_w: Windows, p90: float, val_w: Windows | None, copied: bool,
                  log: Callable[[str], None] | None) -> None:
    """What a new run says of its step and its sets once they are read: a step changed alone
    (`step_counted`), too few training windows, and a --val set (`val_w`; None: held out) whose speeds are not
    the training set's (its 90th percentile `p90`) or whose windows are mostly the training set's (unless
    `copied`: its files were said to be training files)."""
    if line := step_counted(d):
        (log or warn)(line)
    if len(train_w) < FEW_WINDOWS:
        _said_of("training", log)(
            f"warning: only {plural(len(train_w), 'training window')} (a window spans {d.obs_len} observed and "
            f"{d.pred_len} predicted steps, {(d.obs_len + d.pred_len - 1) * d.dt:g} s of one track): too few to learn "
            "from; give more or longer tracks, or shorter windows (--set data.obs_len=N, --set data.pred_len=N)")
    if val_w is not None:
        for line in beside_training(p90, None if copied else window_keys(train_w), val_w, d.dt, "validation"):
            _said_of("validation", log)(line)


FLOOR_SAID = 0.01  # metres a step: a decoder's noise floor below this is no harm, whatever the agents' pace


def noise_floor(cfg: Config, train_w: Windows) -> str | None:
    """A warning where the decoder's std floor (`model.min_sigma` in the frame's unit: `data.min_speed` metres
    a step for agents slower than that, else a metre) is FLOOR_SAID or more and over the training windows' median
    observed pace a step: most futures would be drawn wider than their agents move (data.min_speed 50 trained
    to a val minADE of 3.72 m where the recipe's gives 1.10 m)."""
    d, obs = cfg.data, train_w.obs  # (N, T_obs, 2)
    if not len(obs):
        return None
    floor = cfg.model.min_sigma * (d.min_speed if d.scale_norm else 1.0)
    pace = float(np.nanmedian(np.linalg.norm(obs[:, -1] - obs[:, 0], axis=-1)) / (obs.shape[1] - 1))
    if floor < FLOOR_SAID or not floor > pace:  # (a pace of NaN: no window holds two positions)
        return None
    given = [cfg.shown("model.min_sigma", cfg.model.min_sigma)]
    given += [cfg.shown("data.min_speed", d.min_speed)] * d.scale_norm
    return (f"warning: {' and '.join(given)} put the decoder's noise floor at {floor:.3g} m a step, more than most "
            f"training agents move in one (the median, {pace:.3g} m): their futures would be noise; lower "
            + ("data.min_speed (the recipe's 0.2 m a step is for walkers at 0.4 s steps) or " * d.scale_norm)
            + "model.min_sigma")


def beside_training(p90: float, keys: pd.MultiIndex | None, other: Windows, dt: float, role: str,
                    picked: pd.MultiIndex | None = None) -> list[str]:
    """The warnings of a set (`role`: validation, test) judged beside the training set, of 90th-percentile
    speed `p90` (m/s) and windows `keys` (`window_keys`; None: not compared): speeds of other motion
    (`checks.sets_apart`), windows mostly the training set's (`windows_shared`), or mostly the validation
    set's, `picked` (a benchmark's test set beside the windows its epoch is picked on)."""
    theirs = window_keys(other)
    lines = [sets_apart(p90, speed_record(future_speeds(other, dt))["p90"], role),
             None if keys is None else windows_shared(keys, theirs, role),
             None if picked is None else windows_shared(picked, theirs, role, "validation")]
    return [line for line in lines if line]


def holdout(w: Windows, frac: float = 0.1, said: Callable[[str], None] | None = None) -> tuple[Windows, Windows]:
    """No validation files given: hold out the latest `frac` of each scene's windows (by t0), and train on
    the scene's windows whose future ends before its first held-out window starts, so that no frame is in
    both sets; the windows in between are dropped (4% of the windows of ETH/UCY zara1's training files).
    Scenes too short for that gap (none of their windows would be left to train on: clips of a few seconds)
    go to one set whole: `frac` of them (one at least where no other scene gives validation windows), spread
    over their order, to validation, the others to training.
    Only where that leaves a set empty (a single short scene) is a short scene split at the cut alone, its
    held-out windows overlapping its last training windows in time: `said` (default: a warning) is told."""
    val, train = np.zeros(len(w), bool), np.zeros(len(w), bool)
    start = w.t0 - (w.obs.shape[1] - 1) * w.step  # each window's first observed frame
    end = w.known_at()  # and its future's last
    short = {}  # scene -> (its windows, those held out at the cut)
    for scene in np.unique(w.scene):
        idx = np.flatnonzero(w.scene == scene)
        t0 = w.t0[idx]
        held = t0 > np.quantile(t0, 1 - frac)
        if not held.any():  # the latest t0 holds more than `frac` of them (a clip of a few t0s): held out alone
            held = t0 == t0.max()
        before = ~held & (end[idx] < start[idx][held].min())
        if not before.any():
            short[scene] = (idx, held)
            continue
        val[idx[held]] = True
        train[idx[before]] = True
    names = list(short)
    n = max(round(frac * len(names)), int(len(names) > 1 and not val.any()))  # one at least, where none else is
    whole = {names[i] for i in np.linspace(0, len(names) - 1, n).round().astype(int)}
    for scene in names:
        (val if scene in whole else train)[short[scene][0]] = True
    if names and (not train.any() or not val.any()):  # a single scene, too short
        scene = names[0]
        idx, held = short[scene]
        val[idx], train[idx] = False, False
        val[idx[held]], train[idx[~held]] = True, True
        (said or warn)(f"warning: scene '{scene}' is too short to hold out validation windows that share no frame "
                       "with its training windows, so they overlap in time and the validation scores are "
                       "optimistic; give --val files (other scenes or recordings)")
    if not train.any() or not val.any():
        raise TrajCVAEError("too few windows to hold out a validation set; pass --val files")
    return w.subset(np.flatnonzero(train)), w.subset(np.flatnonzero(val))


# To a Python caller, its messages name --out as out_dir, --fps as data.fps (the config's), ...
@keyword_names({"--out": "out_dir", **{option: key for key, option in TRAIN_OPTIONS.items()}})
def train(train_paths: Iterable[str | Path], val_paths: Iterable[str | Path] | None, cfg: Config,
          out_dir: str | Path, resume: bool = False, progress: bool = True,
          log: Callable[[str], None] | None = None, cache_dir: str | Path | None = None,
          figures: bool = True, learned_kset: bool = True) -> TrainResult:
    """Train a CVAE on trajectory files; see the module docstring for what lands in `out_dir`.
    `log` gets one summary line per data set read (see `checks.summarize`); `cache_dir` keeps the built
    windows for the next run on the same files (see `windows.load_windows`; None = no cache); `progress`: a
    progress bar and a line per epoch on stderr; `figures`: draw curves.png and val_predictions.png at the end
    (about 3 s of matplotlib on a small run); `learned_kset`: train the learned K-set sampler at the end (with
    kset.epochs > 0; False leaves it to `finish_run`, for a caller that scores no K-set)."""
    check_flags(resume=resume, progress=progress, figures=figures, learned_kset=learned_kset)
    check_log(log)
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TrajCVAEError(f"out_dir: expected a folder's path, got {type(out_dir).__name__}")
    out = Path(out_dir)
    validate_config(cfg)  # the Python API's config, as load_config checks the CLI's
    check_output(out, folder=True)
    for name in ("last.pt", *RUN_FILES):  # each is written by renaming a file onto its name: a folder there fails
        if (out / name).exists() and not (out / name).is_file():
            what = "a folder" if (out / name).is_dir() else "not a regular file"
            raise TrajCVAEError(f"--out {out}: its {name} is {what}, where the run writes its {name}; move it away "
                                "or choose another --out")
    if out.is_symlink() and not out.exists():  # a link to a folder still to be made: made where it points
        out = Path(os.path.realpath(out))
    # Every path is checked before anything is read: a missing --val is named before the training set is read.
    # Files become lists here (one path is one file; no files for validation: the holdout), once.
    train_paths, val_paths = (p if p is None or hasattr(p, "columns") else _as_list(p)
                              for p in (train_paths, val_paths))
    if isinstance(val_paths, list) and not val_paths:
        val_paths = None
    for role, paths in (("", train_paths), ("--val ", val_paths)):  # its own files would be read as tracks
        folder = next((Path(p) for p in (paths if isinstance(paths, list) else []) if isinstance(p, (str, os.PathLike))
                       and Path(p).is_dir() and out.resolve().is_relative_to(Path(p).resolve())), None)
        if folder is not None:
            raise TrajCVAEError(f"--out {out} is inside the data folder {role}{folder}, whose files are read as tracks "
                                "(the run's metrics.csv would be, next time): choose an --out outside it")
    listed = [list_files(paths) if isinstance(paths, list) and paths else None for paths in (train_paths, val_paths)]
    split = next((Path(p) for p in (train_paths if isinstance(train_paths, list) else []) if isinstance(p, (
        str, os.PathLike)) and (Path(p) / "train").is_dir() and (Path(p) / "test").is_dir()), None)
    if split is not None and os.environ.get("RANK", "0") == "0":  # a dataset as downloaded: <scene>/{train,val,test}
        val = f" with --val {split / 'val'}" if (split / "val").is_dir() and val_paths is None else ""
        (log or warn)(f"warning: {split} holds train/ and test/ folders, and training reads them all: its test files "
                      f"would be scored on a model trained on them; give {split / 'train'}{val}")
    read_with = _read_with(train_paths, cfg.data) if is_read(train_paths) else None
    if read_with and os.environ.get("RANK", "0") == "0":
        (log or warn)(f"warning: the training set is a track table read with {read_with} (read_tracks), which the "
                      "model does not keep (its config's data options are how files are read): give them again to "
                      "predict, or the same in the config (data.fps, data.scale), which the model keeps")
    shared = copy_of(listed[1], listed[0]) if all(listed) else None
    if shared and os.environ.get("RANK", "0") == "0":
        val, trained = shared
        what = "a training file too" if val.resolve() == trained.resolve() else f"a copy of the training file {trained}"
        (log or warn)(f"warning: --val {val} is {what}: the best epoch would be picked on windows the model "
                      "trained on; give files it does not train on, or leave --val out (the latest 10% of each "
                      "scene is then held out)")
    with _run_lock(out, os.environ.get("RANK", "0") == "0"):
        return _locked_train(train_paths, val_paths, cfg, out, resume, progress, log, cache_dir, figures,
                             learned_kset, copied=bool(shared))


@contextmanager
def _run_lock(out: Path, take: bool):
    """One `train` at a time in a run folder: a lock file holding the owner's pid (and, where the system
    says, when that process started, so a pid reused by another process since is no owner). A lock whose
    process is gone (a killed run) is taken over. A run that stops before any epoch of it finished (no last.pt:
    an error, a NaN loss, Ctrl-C in epoch 1) leaves the folder as it found it: the run's files this call added
    are removed, and so are the folders this call made (when left empty)."""
    if not take:  # under torchrun only rank 0 holds the lock
        yield
        return
    made = [d for d in (out, *out.parents) if not d.exists()]  # the folders this call makes, deepest first
    out.mkdir(parents=True, exist_ok=True)
    found = {p.name for p in out.iterdir()}
    lock = out / ".lock"
    fd, new = _held(lock)
    if fd is None:  # another process holds it: a live run, whatever its pid says from another host or container
        raise _busy(out, lock, *_lock_owner(lock))
    owner, started = (0, "") if new else _lock_owner(lock)  # (a lock made now has no owner to wait for)
    if owner > 0 and owner != os.getpid() and process_alive(owner, started):  # (where no lock is held: Windows)
        os.close(fd)
        raise _busy(out, lock, owner, started)
    os.ftruncate(fd, 0)  # left by a run that is gone (a killed one), or new: ours
    os.write(fd, f"{os.getpid()} {process_started(os.getpid())}".strip().encode())
    try:
        yield
    finally:
        if not (out / "last.pt").exists():  # no epoch finished: the files the run wrote record nothing
            for name in RUN_FILES:
                if name not in found:
                    (out / name).unlink(missing_ok=True)
        lock.unlink(missing_ok=True)
        os.close(fd)  # (after the unlink: a run that opened this file meanwhile finds it gone, and makes its own)
        for folder in made:  # those left empty go, as a failed write leaves none of the folders it made
            try:
                if any(folder.iterdir()):
                    break
                folder.rmdir()
            except FileNotFoundError:  # gone already
                continue


def _epochs_recorded(metrics: Path) -> int:
    """How many epochs a run folder's metrics.csv records (0 where there is none)."""
    try:
        return max(len([line for line in metrics.read_text().splitlines() if line.strip()]) - 1, 0)
    except (OSError, UnicodeDecodeError):
        return 0


def _held(lock: Path) -> tuple[int | None, bool]:
    """The run's lock file, opened and held (an OS lock on it, which the system releases when its process
    ends, however it ends: two runs that find a killed run's lock never both take it), and whether this call
    made it; None where another process holds it. Without OS locks (Windows, and file systems that have none:
    NFSv3 without its lock service, some FUSE and SMB mounts) the file alone, its pid the check."""
    while True:
        try:
            fd, made = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644), True
        except FileExistsError:
            try:
                fd, made = os.open(lock, os.O_RDWR), False
            except FileNotFoundError:  # removed as we looked: made anew
                continue
        if fcntl is None:
            return fd, made
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # held
            os.close(fd)
            return None, False
        except OSError:  # a file system without locks (ENOLCK, EOPNOTSUPP): as on Windows
            return fd, made
        try:
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                return fd, made
        except FileNotFoundError:
            pass
        os.close(fd)  # its owner removed it as we opened it: the next one is made anew


def _busy(out: Path, lock: Path, owner: int, started: str) -> TrajCVAEError:
    """The refusal of a run folder another train writes."""
    # Where start times are unknown (macOS, Windows) a pid reused after a crash looks like the run.
    unsure = "" if started else f" (if no trajcvae train runs there, a killed one left its lock: delete {lock})"
    pid = f" (pid {owner})" if owner > 0 else ""
    return TrajCVAEError(f"{out}: another trajcvae train{pid} is writing this run; wait for it or choose another "
                         f"--out{unsure}")


def _lock_owner(lock: Path, wait: float = 2.0) -> tuple[int, str]:
    """The pid in a run's lock file and when that process started (0 and "" where unreadable). A lock made
    but not yet written (its owner is between the two steps) is read again for up to `wait` seconds before it
    counts as a killed run's."""
    give_up = time.monotonic() + wait
    while True:
        try:
            text = lock.read_text().strip()
        except OSError:
            return 0, ""
        if text or time.monotonic() > give_up:
            break
        time.sleep(0.05)
    owner, _, started = text.partition(" ")
    try:
        return int(owner or 0), started
    except ValueError:
        return 0, ""


def _locked_train(train_paths, val_paths, cfg: Config, out: Path, resume: bool, progress: bool, log,
                  cache_dir, figures: bool = True, learned_kset: bool = True, copied: bool = False) -> TrainResult:
    """`train`'s work, its run folder locked. `copied`: the validation files are training files (said)."""
    state = None
    if resume and not (out / "last.pt").exists():  # (a run stopped in its first epoch leaves none, nor its folder)
        raise TrajCVAEError(f"--resume: {out} holds no run to resume (no last.pt: no epoch of a run there "
                            "finished); run it again without --resume")
    if resume:
        state = checkpoint.load(out / "last.pt", require=checkpoint.RESUME_KEYS)
        cfg = _resumed_config(cfg, Config.from_dict(state["config"], source=str(out / "last.pt")), out,
                              state["epoch"])
    elif (out / "last.pt").exists():
        raise TrajCVAEError(f"{out}: already holds a run; pass --resume to continue it or choose another --out")
    elif (out / "best.pt").exists():  # a finished run whose last.pt was deleted to save room
        raise TrajCVAEError(f"{out}: already holds a trained model (best.pt, without the last.pt a resume needs); "
                            "choose another --out")
    elif epochs := _epochs_recorded(out / "metrics.csv"):  # a run kept as its record alone (checkpoints deleted)
        raise TrajCVAEError(f"{out}: already holds a run's record (metrics.csv of {plural(epochs, 'epoch')}, "
                            "without its checkpoints); choose another --out")
    tc = cfg.train
    threads = torch.get_num_threads()  # the caller's, given back at the end, as its random stream is
    if tc.num_threads > 0:
        torch.set_num_threads(tc.num_threads)
        if tc.num_threads > (cores := os.cpu_count() or tc.num_threads):
            (log or warn)(f"warning: {cfg.shown('train.num_threads', tc.num_threads)} is more threads than this "
                          f"machine's {plural(cores, 'CPU')}, which only slows training; set it to {cores} or fewer "
                          "(0: torch's default)")
    device = resolve_device(tc.device, cfg.shown("train.device", tc.device))
    if tc.bf16 and device.type != "cuda":
        (log or warn)(f"warning: {cfg.shown('train.bf16', tc.bf16)} is bfloat16 on CUDA alone; on the CPU this run "
                      "trains in float32")
    dist = distributed.setup(device)  # one process unless launched by torchrun
    if dist.enabled and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
        torch.cuda.set_device(device)
    main = dist.is_main  # only rank 0 writes files, logs and draws progress bars
    progress = progress and main
    log = log if main else quiet  # rank 0 says what the data is
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=cuda):
            return _train(train_paths, val_paths, cfg, out, state, device, dist, progress, log, cache_dir, figures,
                          learned_kset, copied)
    finally:
        distributed.cleanup(dist)
        torch.set_num_threads(threads)


def data_digest(paths, beside: bool = True) -> str | None:
    """What a data set is read from, as a digest: its files' names and bytes in order, then (`beside`) those of
    the files their reading consults beside them (a MOT sequence's seqinfo.ini and labels.txt: its rate and class
    names); a table's values; None for no files (the validation holdout)."""
    if paths is None:
        return None
    if hasattr(paths, "columns"):  # every column, as a file's every byte
        try:
            hashed = pd.util.hash_pandas_object(paths, index=False)
        except TypeError:  # a column of lists or dicts (which the reader ignores) is taken by its text
            table = pd.concat([c.astype(str) if c.dtype == object else c for _, c in paths.items()], axis=1)
            hashed = pd.util.hash_pandas_object(table, index=False)
        return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()[:32]
    files = list_files(paths)
    return files_digest(files + (files_beside(files) if beside else []), lambda f: f.name)


def recorded_as(recorded: str | None, digest: str | None, paths) -> bool:
    """Whether a run's record of a data set (`data_digest`) is of `paths` as they are now (`digest`, their
    `data_digest`): with the files read beside the tracks, or, for a record made before trajcvae counted them,
    without (hashed only where the two differ)."""
    return recorded == digest or (recorded is not None and not hasattr(paths, "columns")
                                  and recorded == data_digest(paths, beside=False))


def unit_digests(data) -> dict[str, str]:
    """{"homography"/"scale": its file's digest} for the data options that name a file (a matrix, scales per
    scene): they make the metres, so an edited one is another data set."""
    return {key: files_digest([Path(given)], lambda f: f.name) for key in ("homography", "scale")
            if isinstance(given := getattr(data, key), str) and Path(given).is_file()}


def _as_list(paths) -> list:
    """Files as a list: one path (str or Path) is one file, not a sequence of letters."""
    return [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)


def _windows_of(role: str, paths, cfg: Config, cache_dir, log) -> Windows:
    """`load_windows`, with a set that gives no window named as the training or the validation set, after
    its summary line (what was read, as `load_windows` gives it with windows) and with what to try; so is a
    table (a DataFrame) with a row at fault."""
    table = hasattr(paths, "columns")  # read_tracks also takes a DataFrame
    try:
        return load_windows(paths, cfg.data, cache_dir, log)
    except NoWindowsError as e:
        for text in e.said.split("\n") if e.said else []:  # the summary and warnings, but those the error says
            if not (text.startswith("warning: ") and warning_text(text) in str(e)):
                log(text)
        hint = ""
        if str(e) == str(no_windows_error(cfg.data, "windows")):  # no more specific cause was found
            clock = ", or give --fps (the frame ids' rate) if they are unevenly spaced" if not e.timed else ""
            hint = ("; try shorter windows (--set data.obs_len=N, --set data.pred_len=N), check that agent_id "
                    f"names one agent along its whole track (not one per row){clock}")
        shown = "a table" if table else ", ".join(str(p) for p in paths[:3]) + (" ..." if len(paths) > 3 else "")
        raise NoWindowsError(f"the {role} set ({shown}): {e}{hint}") from None
    except DataError as e:  # a DataFrame's row is named as 'dataframe.iloc[2]': which of the two is said here
        if not table:
            raise
        raise DataError(f"the {role} set (a table): {e}") from None


def _read_with(table, data) -> str | None:
    """The options a track table was read with (`tracks.read_with`) that the data config `data` does not give, as
    keywords, "fps=10, scale=0.01", or None."""
    given = read_with(table)
    said = [f"{key}={given[key]:g}" for key in ("fps", "scale") if key in given and getattr(data, key) is None]
    said += ["scale=<its scales per scene>"] * ("scales" in given)
    said += ["homography=<its matrix>"] * ("homography" in given)
    return ", ".join(said) or None


RESUME_OPTIONS = ("train.epochs", "train.device", "train.num_threads")  # what a resumed run may change


def _labels(classes: str | None) -> set[str] | None:
    """--classes as it filters: a set of labels, in any case and order."""
    return None if classes is None else {c.strip().lower() for c in classes.split(",") if c.strip()}


def _resumed_config(given: Config, run: Config, out: Path, done: int) -> Config:
    """The config a resumed run continues with: its own, with `given`'s epochs where given (and device and
    threads); else it runs to its own epochs. An option `given` sets (`Config.given`: at any value, the
    default's too) to another value than the run's is refused by name: the run's weights and optimiser were
    made under the run's config (kept in last.pt), and silently dropping the option would not be what was
    asked. So is a hand edit of the run's config.toml, which is a record of that config."""
    asked = given.given()
    for dotted, value, theirs in given.differences(run, skip=RESUME_OPTIONS):
        if dotted == "data.classes" and _labels(value) == _labels(theirs):  # the same classes, as they filter
            continue
        if dotted == "data.columns" and None not in (value, theirs) and column_map(value) == column_map(theirs):
            continue  # the same columns, given in another order
        if dotted in asked:
            shown = given.shown(dotted, value)
            theirs = f"{theirs!r}" if shown.startswith(dotted) else f"{dotted} = {theirs!r}"
            raise TrajCVAEError(f"--resume: {shown} differs from the run's {theirs} "
                                f"({out / 'last.pt'}); a resumed run keeps its config: drop the option, or "
                                "start a new run in another --out")
    record = out / "config.toml"
    if record.is_file():
        try:
            edited = [f"{dotted} = {value!r}" for dotted, value, _ in
                      load_config(record, run_record=True).differences(run, skip=RESUME_OPTIONS)][:1]
        except TrajCVAEError as e:
            edited = [f"it no longer loads: {e}"]
        if edited:
            raise TrajCVAEError(f"--resume: {record} was edited ({edited[0]}) but the run's config is "
                                f"the one in {out / 'last.pt'}; undo the edit, or start a new run with it as --config")
    epochs = given.train.epochs if "train.epochs" in asked else run.train.epochs
    if epochs < done:
        raise TrajCVAEError(f"--resume: the run in {out} has trained {done} epochs already; give --epochs {done + 1} "
                            "or more to train it further")
    run.train.epochs = epochs
    for dotted in RESUME_OPTIONS[1:]:  # the run's device and threads, unless others are asked for
        section, _, key = dotted.partition(".")
        if dotted in asked:
            setattr(getattr(run, section), key, getattr(getattr(given, section), key))
    return run


def _train(train_paths, val_paths, cfg: Config, out: Path, state: dict | None, device: torch.device,
           dist: distributed.DistInfo, progress: bool, log, cache_dir, figures: bool = True,
           learned_kset: bool = True, copied: bool = False) -> TrainResult:
    tc, main = cfg.train, dist.is_main
    inputs = {"training": data_digest(train_paths), "validation": data_digest(val_paths), **unit_digests(cfg.data)}
    before = (state or {}).get("stats", {}).get("inputs", {})
    read_from = {"training": train_paths, "validation": val_paths}
    changed = [role for role, digest in inputs.items() if role in before and before[role] != digest
               and not (role in read_from and recorded_as(before[role], digest, read_from[role]))]
    if changed:  # its curves and best.pt would mix two data sets
        what = {"homography": f"the homography {cfg.data.homography} (data.homography) is not the matrix",
                "scale": f"the scales of {cfg.data.scale} (data.scale) are not those"}.get(
            changed[0], f"the {changed[0]} set is not the one")
        how = "an edited file" if changed[0] in ("homography", "scale") else \
            "other files, edited ones, or the same in another order"
        raise TrajCVAEError(f"--resume: {what} the run in {out} was trained with ({how}); resume with the run's "
                            "files, or start a new run in another --out")
    if state is not None and state["epoch"] >= tc.epochs and _finished(out, cfg, figures):
        if log is not None:
            log(f"the run in {out} is complete: it has trained its {tc.epochs} epoch{'s' * (tc.epochs != 1)}")
        return TrainResult(out, state["best_epoch"], state["best_val_min_ade"], 0, 0.0, tc.k_eval, tc.epochs, True,
                           tc.kl_anneal_epochs)
    if state is not None and state["epoch"] >= tc.epochs and state["best_epoch"] > 0 and not (out / "best.pt").exists():
        raise TrajCVAEError(f"{out}: its epochs are all trained, and best.pt (epoch {state['best_epoch']}) was "
                            f"removed; predict with {out / 'last.pt'} (epoch {state['epoch']}), or train anew in "
                            "another --out")
    if state is not None and "training" not in before and log is not None:  # a run of a trajcvae before 2026-12-03
        log(f"warning: {out / 'last.pt'} does not record the data it was trained on (an older trajcvae made it), "
            "so this resume cannot check they are the files given; if they are not, start a new run in another --out")
    torch.manual_seed(torch_seed(tc.seed))  # same initial weights on every rank (DDP also broadcasts rank 0's)
    gen = torch.Generator().manual_seed(torch_seed(tc.seed + dist.rank))  # shuffling and augmentation

    train_w = _windows_of("training", train_paths, cfg, cache_dir, _said_of("training", log))
    val_w = None if val_paths is None else \
        _windows_of("validation", val_paths, cfg, cache_dir, _said_of("validation", log))
    if val_w is None:
        train_w, val_w = holdout(train_w, said=_said_of("training", log))
    k = tc.k_eval  # validation's draws, refused before any epoch where they would not fit in memory
    check_fits(max(len(val_w) * k * cfg.data.pred_len * SAMPLE_ROW_BYTES, k * draw_bytes(cfg)),
               f"{cfg.shown('train.k_eval', k)}: validating {len(val_w):,} windows by their best of {k:,} futures "
               "needs",
               "use a smaller train.k_eval")
    speeds = speed_record(future_speeds(train_w, cfg.data.dt))
    if state is None:  # (said once, not again on --resume)
        _said_of_sets(cfg.data, train_w, speeds["p90"], val_w if val_paths is not None else None, copied, log)
        if line := noise_floor(cfg, train_w):
            _said_of("training", log)(line)
    stats = {"cv_noise": fit_cv_noise(train_w.obs, train_w.fut, cfg.data.dt), "train_windows": len(train_w),
             "val_windows": len(val_w), "inputs": inputs,
             "speeds": speeds}  # what the speed warning judges other tracks by (`checks.speed_band`)
    tr, va = WindowTensors.from_windows(train_w), WindowTensors.from_windows(val_w)
    if device.type == "cuda":
        tr = tr.pinned()

    model = CVAE(cfg).to(device)
    loss_fn = ELBOModule(model)  # DDP needs the whole step in one forward() so it can sync gradients
    if dist.enabled:
        loss_fn = DistributedDataParallel(loss_fn, device_ids=[device.index] if device.type == "cuda" else None)
    sampler = DistributedSampler(range(len(tr)), dist.world_size, dist.rank, shuffle=True, seed=torch_seed(tc.seed)) \
        if dist.enabled else None
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=tc.epochs, eta_min=tc.lr / 20)
    start, best, best_epoch = 1, math.inf, 0
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        if sched.T_max != tc.epochs:
            # More --epochs stretch the cosine: the rate is put where the longer cosine is at the epochs done
            # (the scheduler steps from the current rate, so it would stay at its floor otherwise).
            sched.T_max, done = tc.epochs, sched.last_epoch
            for group, base in zip(opt.param_groups, sched.base_lrs):
                group["lr"] = sched.eta_min + (base - sched.eta_min) * (1 + math.cos(math.pi * done / tc.epochs)) / 2
        # Each rank's own streams where the run had as many ranks (else, and in older runs, rank 0's).
        ranks = state.get("rank_rngs")
        own = ranks is not None and len(ranks) == dist.world_size
        torch.set_rng_state(ranks[dist.rank] if own else state["rng"])
        gen.set_state(state["rank_gen_rngs"][dist.rank] if own else state["gen_rng"])
        start, best, best_epoch = state["epoch"] + 1, state["best_val_min_ade"], state["best_epoch"]
        if best_epoch < min(tc.kl_anneal_epochs, tc.epochs):
            best = math.inf  # a best picked before the KL weight was full gives way to the run's full-KL epochs
    # What the run trained on: the same seed and config give the same run only on the same kind of machine.
    here = machine(device, dist.world_size)
    stats["machine"] = list(state.get("stats", {}).get("machine", [])) if state is not None else []
    if not stats["machine"] or stats["machine"][-1]["machine"] != here:
        if state is not None and log is not None and start <= tc.epochs:  # a machine that trains epochs
            if stats["machine"]:
                log(f"warning: {out / 'last.pt'} was trained on {stats['machine'][-1]['machine']}; resumed on "
                    f"{here}, it rounds differently from epoch {start} on, so it matches no run trained on "
                    "either alone")
            else:
                log(f"warning: {out / 'last.pt'} was trained on {UNRECORDED}; resumed on {here}, it matches a run "
                    f"trained on one machine only if that was of this kind too (else it rounds differently from "
                    f"epoch {start} on)")
        stats["machine"].append({"from_epoch": start, "machine": here})
    # And by what code: one version spans many commits, and a run resumed after an upgrade is the new code's
    # from there on.
    code = made_by()
    stats["code"] = list(state.get("stats", {}).get("code", [])) if state is not None else []
    if not stats["code"] or stats["code"][-1]["code"] != code:
        if state is not None and log is not None and start <= tc.epochs:
            before = f"trajcvae {stats['code'][-1]['code']}" if stats["code"] else \
                "an older trajcvae, which did not record its code"
            log(f"warning: {out / 'last.pt'} was trained by {before}; resumed by trajcvae {code}, its epochs from "
                f"{start} on are this code's, so it matches an uninterrupted run of either only if training did not "
                "change between them")
        stats["code"].append({"from_epoch": start, "code": code})
    metrics_path = out / "metrics.csv"
    if main:
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / "config.toml", to_toml(cfg.to_dict()))
        kept = _truncate_metrics(metrics_path, start - 1)
        if state is not None and start > tc.epochs and state["best_epoch"] == 0:
            # No epoch left to train and none picked (best.pt was never written): all came before the KL weight
            # was full in the longer run it was. Under these --epochs, as in any run shorter than its anneal, its
            # last epoch is its best; last.pt records it so, for a resume that finds the run complete.
            best, best_epoch = float(kept.get(state["epoch"], {}).get("val_min_ade", "nan")), state["epoch"]
            checkpoint.save({"config": cfg.to_dict(), "model": state["model"], "stats": stats, "epoch": best_epoch,
                             "val_min_ade": best}, out / "best.pt")
            checkpoint.save({**state, "config": cfg.to_dict(), "stats": stats, "best_val_min_ade": best,
                             "best_epoch": best_epoch}, out / "last.pt")

    predictor = TrajCVAE(model, cfg, stats, device)
    n_local = len(sampler) if sampler is not None else len(tr)  # windows this rank sees per epoch
    n_batches = math.ceil(n_local / tc.batch_size)
    amp = torch.autocast("cuda", dtype=torch.bfloat16, enabled=tc.bf16 and device.type == "cuda")
    t_start = time.time()
    bar = _Progress(progress, tc.epochs * n_batches, (start - 1) * n_batches)
    with bar:
        for epoch in range(start, tc.epochs + 1):
            t_epoch = time.time()
            lr = opt.param_groups[0]["lr"]  # this epoch's rate (the scheduler steps at its end)
            beta = tc.beta * min(1.0, epoch / tc.kl_anneal_epochs) if tc.kl_anneal_epochs > 0 else tc.beta
            model.train()
            sums: dict[str, float] = {}
            if sampler is not None:
                sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
                perm = torch.tensor(list(sampler))
            else:
                perm = torch.randperm(len(tr), generator=gen)
            for step in range(n_batches):
                idx = perm[step * tc.batch_size:(step + 1) * tc.batch_size]
                batch = make_batch(tr, idx, cfg.data, device, augment=True, generator=gen)
                try:
                    with amp:
                        terms = loss_fn(batch, beta, tc.variety_weight, tc.variety_k)
                except ValueError as e:  # torch.distributions refuses NaN/inf parameters: the run diverged
                    if "found invalid values" not in str(e):
                        raise
                    terms = {"loss": torch.tensor(float("nan"))}
                loss = terms["loss"]
                if distributed.any_rank(not torch.isfinite(loss).item(), dist, device):  # all ranks stop together
                    raise _diverged(f"loss became {loss.item()} at epoch {epoch} step {step + 1}", epoch, out)
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
            val = validate(predictor, va, val_w.fut, tc.k_eval, dist)
            if not all(math.isfinite(v) for v in val.values()):  # the same on every rank: all stop together
                raise _diverged(f"the weights became NaN at epoch {epoch} (its last step)", epoch, out)
            keys = ("loss", "nll", "kl", "elbo")
            totals = distributed.all_sum([sums[k] for k in keys] + [float(len(perm))], dist, device)
            row = {"epoch": epoch, "beta": beta, "lr": lr,
                   **{f"train_{k}": v / totals[-1] for k, v in zip(keys, totals)},
                   **{f"val_{k}": v for k, v in val.items()}, "seconds": time.time() - t_epoch}
            rngs = distributed.all_states(torch.get_rng_state(), dist, device)  # every rank's, for last.pt
            gen_rngs = distributed.all_states(gen.get_state(), dist, device)
            if not main:
                continue
            _append_metrics(metrics_path, row)
            bar.log(f"epoch {epoch}: train nll {row['train_nll']:.2f} kl {row['train_kl']:.2f} | val elbo "
                    f"{val['elbo']:.2f} minADE {val['min_ade']:.3f} m minFDE {val['min_fde']:.3f} m")
            ckpt = {"config": cfg.to_dict(), "model": model.state_dict(), "stats": stats, "epoch": epoch}
            # best.pt is picked only once the KL weight is full: until then the model trains a looser bound
            # than the -ELBO it is reported on, and its prior lags the recognition net; such epochs can win
            # on val minADE by chance yet score worst on held-out scenes (docs/lab-notes.md).
            if val["min_ade"] < best and epoch >= min(tc.kl_anneal_epochs, tc.epochs):
                best, best_epoch = val["min_ade"], epoch
                checkpoint.save({**ckpt, "val_min_ade": best}, out / "best.pt")
            checkpoint.save({**ckpt, "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                             "rng": rngs[0], "gen_rng": gen_rngs[0], "rank_rngs": rngs, "rank_gen_rngs": gen_rngs,
                             "best_val_min_ade": best, "best_epoch": best_epoch}, out / "last.pt")
    if dist.enabled:
        distributed.check_same_weights(model, dist, device)
        if log is not None:
            log(f"DDP: {dist.world_size} ranks finished with identical weights")
        best, best_epoch = distributed.broadcast_best(best, best_epoch, dist, device)
    if main and learned_kset:
        finish_run(out, train_w, val_w, device, log, progress)
    if main:
        if figures:
            from .visualize import write_run_figures  # matplotlib is loaded only once a run has finished

            write_run_figures(out, val_w, k=tc.k_eval)  # curves.png and val_predictions.png
        elif start <= tc.epochs:  # pictures of an earlier part of the run would no longer show it
            for name in FIGURES:
                (out / name).unlink(missing_ok=True)
    distributed.barrier(dist)
    return TrainResult(out, best_epoch, best, tc.epochs - start + 1, time.time() - t_start, tc.k_eval, tc.epochs,
                       kl_anneal_epochs=tc.kl_anneal_epochs)


def _finished(out: Path, cfg: Config, figures: bool) -> bool:
    """Whether a run that has trained all its epochs has nothing left to do: best.pt holds the K-set
    sampler (or the run trains none), and the pictures asked for are drawn."""
    best = out / "best.pt"
    if not best.is_file() or (figures and not all((out / name).is_file() for name in FIGURES)):
        return False
    return cfg.kset.epochs == 0 or "kset" in checkpoint.load(best)


def machine(device: torch.device, world_size: int = 1) -> str:
    """The kind of machine a run trains on, in what decides its rounding: torch's version, the processor
    (a CPU's vector instructions, a GPU's name) and the CPU threads or processes (docs/results.md)."""
    if device.type == "cuda":
        where = torch.cuda.get_device_name(device)
    else:
        n = torch.get_num_threads()
        where = f"CPU ({torch.backends.cpu.get_cpu_capability()}), {n} thread{'s' if n != 1 else ''}"
    return f"torch {torch.__version__}, {where}" + (f", {world_size} processes" if world_size > 1 else "")


UNRECORDED = "an unrecorded machine"  # what ran a run trained before trajcvae recorded it


def trained_on(stats: dict) -> str:
    """A checkpoint's machine record (`stats["machine"]`) in words: each machine, from the epoch it took over."""
    parts = stats.get("machine", [])
    if not parts:
        return UNRECORDED
    return "; ".join(p["machine"] if p["from_epoch"] == 1 else f"from epoch {p['from_epoch']} {p['machine']}"
                     for p in parts)


def _said_of(role: str, log: Callable[[str], None] | None) -> Callable[[str], None]:
    """Where the lines said of the training or validation set go: to `log` after "train: " or "val: "; without
    a log (the Python API), its warnings as `TrajCVAEWarning`s that name the set."""
    if log is not None:
        return prefixed(log, {"training": "train: ", "validation": "val: "}[role])
    return lambda line: warn(f"the {role} set: {warning_text(line)}") if line.startswith("warning: ") else None


def prefixed(log: Callable[[str], None] | None, prefix: str) -> Callable[[str], None] | None:
    """`log` with `prefix` before every line (None stays None)."""
    return None if log is None else (lambda message: log(prefix + message))


def finish_run(out: Path, train_w: Windows, val_w: Windows, device: torch.device | str = "cpu",
               log: Callable[[str], None] | None = None, progress: bool = True) -> None:
    """A run's second stage, on its frozen best model: the learned K-set sampler (`kset.train_kset`, kept at
    its best val minADE@K), saved into best.pt. Nothing is done where best.pt has one or kset.epochs = 0.
    `log` gets its result and, with `progress`, a line per epoch (as the CVAE's epochs are shown)."""
    path = Path(out) / "best.pt"
    ckpt = checkpoint.load(path, map_location="cpu")
    cfg = Config.from_dict(ckpt["config"], source=str(path))
    if cfg.kset.epochs == 0 or "kset" in ckpt:
        return
    predictor = TrajCVAE.from_checkpoint(ckpt, str(path), torch.device(device))
    sampler, info = train_kset(predictor.model, cfg, WindowTensors.from_windows(train_w),
                               WindowTensors.from_windows(val_w), val_w.fut, log if progress else None)
    if log is not None:
        log(f"K-set sampler: val minADE@{cfg.kset.k} {info['val_min_ade']:.3f} m (epoch {info['epoch']}) "
            f"in {info['seconds']:.0f} s")
    kept = {key: v for key, v in ckpt.items() if key not in ("format", "version")}
    checkpoint.save({**kept, "kset": sampler.state_dict(), "stats": {**ckpt.get("stats", {}), "kset": info}}, path)


class ELBOModule(torch.nn.Module):
    """The training step's forward pass, `CVAE.loss`, as one module so DDP can wrap it."""

    def __init__(self, model: CVAE):
        super().__init__()
        self.model = model

    def forward(self, batch, beta: float, variety_weight: float, variety_k: int):
        return self.model.loss(batch, beta, variety_weight, variety_k)


def _diverged(what: str, epoch: int, out: Path) -> TrajCVAEError:
    """The error of a run whose loss or weights stopped being finite numbers, saying what is kept."""
    kept = f"last good checkpoint (epoch {epoch - 1}) kept in {out / 'last.pt'}" if epoch > 1 \
        else "no checkpoint was written"
    return TrajCVAEError(f"{what}; stopped, {kept} (try a lower train.lr or --max-grad-norm)")


@torch.no_grad()
def validate(predictor: TrajCVAE, wt: WindowTensors, fut: np.ndarray, k: int,
             dist: distributed.DistInfo | None = None, batch_size: int = 2048) -> dict[str, float]:
    """Val -ELBO terms (beta = 1) and minADE/minFDE@k, in world units. Under DDP each rank takes every
    world_size-th window and the sums are reduced, so all ranks get the same numbers."""
    dist = dist or distributed.DistInfo()
    model, cfg = predictor.model, predictor.config
    mine = torch.arange(dist.rank, len(wt), dist.world_size)
    keys = ("nll", "kl", "elbo")
    sums = dict.fromkeys(keys, 0.0)
    try:
        for lo in range(0, len(mine), batch_size):
            idx = mine[lo:lo + batch_size]
            # q(z|x,y) draws seeded by window, so the numbers do not depend on the number of ranks, and
            # forked, so validation leaves the training's random stream untouched.
            with torch.random.fork_rng(devices=[predictor.device] if predictor.device.type == "cuda" else []):
                torch.manual_seed(int(idx[0]))
                terms = model.loss(make_batch(wt, idx, cfg.data, predictor.device, top_step=predictor.top_step))
            for key in keys:
                sums[key] += terms[key].item() * len(idx)
        part = wt.inputs(mine)
        ade, fde = min_ade_fde(predictor.sample(part, k=k, seed=0), fut[mine.numpy()])
        mine_sums = [sums[key] for key in keys] + [float(ade.sum()), float(fde.sum())]
    except ValueError as e:  # weights gone NaN: torch.distributions refuses them (a NaN the sums carry to all)
        if "found invalid values" not in str(e):
            raise
        mine_sums = [math.nan] * (len(keys) + 2)
    totals = distributed.all_sum(mine_sums, dist, predictor.device)
    n = len(wt)
    return {**{key: v / n for key, v in zip(keys, totals)}, "min_ade": totals[3] / n, "min_fde": totals[4] / n}


def to_toml(d: dict) -> str:
    """Serialise a two-level config dict as TOML (None values are left out: TOML has no null)."""
    lines = [f"# written by trajcvae {__version__}"]
    for section, values in d.items():
        lines.append(f"\n[{section}]")
        for key, v in values.items():
            if v is None:
                continue
            # A JSON string is a TOML basic string (its escapes are TOML's; characters beyond ASCII kept as
            # they are, not as UTF-16 pairs, which TOML refuses), but for DEL, which TOML escapes.
            text = json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f") if isinstance(v, str) else v
            lines.append(f"{key} = {str(v).lower() if isinstance(v, bool) else text}")
    return "\n".join(lines) + "\n"


def _truncate_metrics(path: Path, last_epoch: int) -> dict[int, dict]:
    """On resume, drop rows of epochs after the checkpoint (they will be recomputed); fresh run: start over.
    Returns the rows kept, by epoch.

    Rewritten atomically; a row cut short by a kill mid-append, or any row that does not parse, is dropped."""
    rows: dict[int, dict] = {}
    if last_epoch > 0 and path.exists():
        with open(path, newline="") as f:
            for line in f.read().splitlines(keepends=True):
                r = next(csv.reader([line]), [])
                if not line.endswith("\n") or len(r) != len(METRICS) or not r[0].isdigit():
                    continue
                if 1 <= int(r[0]) <= last_epoch:
                    rows[int(r[0])] = dict(zip(METRICS, r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRICS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows[e] for e in sorted(rows))
    write_text(path, buf.getvalue())
    return rows


def _append_metrics(path: Path, row: dict) -> None:
    """Add a row by rewriting the (small) file atomically: a kill never leaves half a row in it."""
    buf = io.StringIO()
    csv.DictWriter(buf, fieldnames=METRICS, lineterminator="\n").writerow(row)
    write_text(path, path.read_text() + buf.getvalue())


class _Progress:
    """A rich progress bar with a live description, and a line per epoch, on stderr (stdout keeps the result
    line: a pipe's reader that stops early does not stop the training); or nothing (`train`'s progress=False,
    the CLI's --quiet)."""

    def __init__(self, enabled: bool, total: int, completed: int):
        self.enabled = enabled
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TimeRemainingColumn(), console=Console(file=Stderr()))
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
            self.p.console.print(message, soft_wrap=True)  # one line, however narrow the terminal (or a pipe's 80)
