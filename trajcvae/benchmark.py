"""The benchmark: leave-one-scene-out ETH/UCY (eth, hotel, univ, zara1, zara2), or your own splits (the
`folders` suite: each a folder holding train/, val/ and test/).

For each split: train on `train`, pick the checkpoint on `val`, then on `test` measure best-of-K errors,
the most-likely prediction, both straight-line baselines and three likelihoods: the test -ELBO and an
importance-sampled -log p(y|x) (nats per window), and Trajectron++'s KDE NLL (nats per position).
Finished splits are skipped on a re-run (each leaves `result.json`), and a split cut short resumes from
its last checkpoint.
Beside plain sampling: both K-set modes (k-means and the learned sampler, with Brier-minFDE), plain
sampling's calibration, the same for plain draws fitted to the scene's past (`--calibrate scene`,
`calibrate.py`), and every error also on the windows with at least two agents present.
With several seeds the table holds their mean, and a second table each seed's minADE/minFDE.
"""
from __future__ import annotations

import json
import time
import unicodedata
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from . import checkpoint
from ._version import made_by
from .atomic import write_text
from .batch import WindowTensors, make_batch
from .calibrate import ScenePast
from .checks import cut_warning, speed_record, top_step
from .config import (Config, _whole, check_calibration, check_config_inputs, check_count, check_k, check_log,
                     check_output, check_path, load_config, torch_seed)
from .errors import CheckpointError, NoWindowsError, TrajCVAEError, first_line, shown, warn
from .evaluate import calibration_of, window_errors
from .metrics import CALIBRATION_LEVELS, brier_fde, kde_nll, min_ade_fde
from .predict import TrajCVAE, check_draws_for_one, read_in_part, window_names
from .tracks import SUFFIXES, list_files
from .train import (UNRECORDED, beside_training, data_digest, finish_run, future_speeds, prefixed, recorded_as,
                    train, trained_on, unit_digests, window_keys)
from .windows import Windows, copy_of, default_cache_dir, load_windows, quiet

SPLITS = ("eth", "hotel", "univ", "zara1", "zara2")
SUITES = ("eth-ucy", "folders")
PARTS = ("train", "val", "test")
HEADINGS = {  # result key -> Markdown heading ({k}: the run's K)
    "windows": "windows", "min_ade": "minADE@{k}", "min_fde": "minFDE@{k}", "ml_ade": "ML ADE",
    "ml_fde": "ML FDE", "cv_ade": "CV ADE", "cv_fde": "CV FDE", "ncv_min_ade": "noisy line minADE@{k}",
    "ncv_min_fde": "noisy line minFDE@{k}", "neg_elbo": "-ELBO", "is_nll": "IS NLL", "kde_nll": "KDE NLL",
    "train_minutes": "train min", "predict_ms_per_window": "predict ms/window",
}


@torch.no_grad()
def likelihoods(predictor: TrajCVAE, wt: WindowTensors, fut: np.ndarray, is_samples: int = 100,
                kde_samples: int = 2000, seed: int = 0, batch: int = 256) -> dict[str, float]:
    """Mean test -ELBO and importance-sampled -log p(y|x), nats per window, and KDE NLL, nats per position
    (Trajectron++'s: the mean over the steps), in world units. The ELBO's and the importance sampler's draws
    come from torch's global stream, seeded here and the caller's restored."""
    neg_elbo, is_nll, kde = [], [], []
    with torch.random.fork_rng(devices=[predictor.device] if predictor.device.type == "cuda" else []):
        torch.manual_seed(torch_seed(seed))
        for lo in range(0, len(wt), batch):
            idx = torch.arange(lo, min(lo + batch, len(wt)))
            b = make_batch(wt, idx, predictor.config.data, predictor.device, top_step=predictor.top_step)
            neg_elbo.append(-predictor.model.loss(b)["elbo"].item() * len(idx))
            is_nll.append(predictor.model.importance_nll(b, is_samples).sum().item())
            part = wt.inputs(idx)
            samples = predictor.sample(part, k=kde_samples, seed=seed + lo, full=True)
            kde.append(kde_nll(samples, fut[idx.numpy()]).sum())
    n = len(wt)
    return {"neg_elbo": sum(neg_elbo) / n, "is_nll": sum(is_nll) / n, "kde_nll": float(sum(kde) / n)}


MODES = {"km": "kmeans", "ks": "learned"}  # result-key prefix -> K-set mode
PER_RUN = ("seed",)  # a run's own, left out of the means over seeds (the per-seed table holds it)
# How `--calibrate scene` maps draws (calibrate.py): numbers of another map are redone.
CS_MAP = "quantile per step, fitted per kind of draws"


def evaluate_split(predictor: TrajCVAE, test_paths: list[Path], k: int = 20, seed: int = 0,
                   is_samples: int = 100, kde_samples: int = 2000, draws: int = 1000,
                   calibration_draws: int = 200, known: dict | None = None,
                   cache_dir: Path | None = None) -> dict[str, float]:
    """Every number of one split's test set: plain sampling's errors beside the baselines, its time and
    likelihoods, each K-set mode's errors, Brier-minFDE and time (`draws` > 0; the learned one where the
    checkpoint has a sampler), and the calibration of plain sampling and of `--calibrate scene`. Errors are
    given for all windows and, as `*_2`, for the windows with at least two agents present (Social GAN's
    convention, `two_agents`). `known`: numbers measured before with the same options, kept as they are.
    `cache_dir`: the window cache (`windows.load_windows`)."""
    known = dict(known or {})
    # Built once (every number below shares them), read as the model's training files were: the config's
    # rate, units (scale, homography) and classes describe the benchmark's files.
    w = load_windows(test_paths, predictor.config.data, cache_dir, log=quiet)  # its warning was given before
    two = two_agents(w)
    row = known if "windows_2" in known else {}
    measured = row.get("is_samples") == is_samples and row.get("kde_samples") == kde_samples  # the likelihoods
    wt = None if row and measured else WindowTensors.from_windows(w)
    if not row:
        errors = window_errors(predictor, w, k=k, seed=seed)
        row = {"windows": len(errors), **{c: float(errors[c].mean()) for c in errors.columns
                                          if c not in ("scene", "agent_id", "t0")},
               "windows_2": int(two.sum()), "min_ade_2": of_two(errors.min_ade, two),
               "min_fde_2": of_two(errors.min_fde, two)}
        t = time.perf_counter()
        predictor.sample(wt, k=k, seed=seed)
        row["predict_ms_per_window"] = (time.perf_counter() - t) * 1000 / len(wt)
    if not measured:
        row.update(likelihoods(predictor, wt, w.fut, is_samples, kde_samples, seed),
                   is_samples=is_samples, kde_samples=kde_samples)
    for prefix, mode in MODES.items():
        if draws and (mode != "learned" or predictor.sampler is not None) and row.get(f"{prefix}_draws") != draws:
            row.update(kset_numbers(predictor, w, two, prefix, mode, k, seed, draws))
    if calibration_draws and row.get("cal_draws") != calibration_draws:
        row.update(calibrated(predictor, w, seed, calibration_draws))
    if calibration_draws and (row.get("cs_cal_draws") != calibration_draws or row.get("cs_map") != CS_MAP):
        row.update(scene_calibrated(predictor, w, two, k, seed, calibration_draws))
    return row


def two_agents(w: Windows) -> np.ndarray:
    """Windows with at least one other agent's whole window (observed and future) in the same scene at the
    same t0, within half a step (a tracker's detections carry stamps of their own, a few ms apart): the
    sequences Social GAN's loader keeps (it drops those with a single pedestrian). -> (N,) bool"""
    scene = pd.factorize(pd.Index(w.scene.astype(str)))[0]
    order = np.lexsort((w.t0, scene))
    t0, step = w.t0[order].astype(np.float64), w.step[order].astype(np.float64)
    pair = (scene[order][1:] == scene[order][:-1]) & (np.diff(t0) <= 0.5 * np.minimum(step[1:], step[:-1]))
    held = np.zeros(len(w), bool)
    held[:-1] |= pair
    held[1:] |= pair
    out = np.zeros(len(w), bool)
    out[order] = held
    return out


def of_two(values, two: np.ndarray) -> float | None:
    """The mean of `values` over the windows with two agents present (`two_agents`); None where there are
    none (a test set of one agent at a time: results.json's null, the tables' n/a)."""
    return float(np.asarray(values)[two].mean()) if two.any() else None


def kset_numbers(predictor: TrajCVAE, w: Windows, two: np.ndarray, prefix: str, mode: str, k: int, seed: int,
                 draws: int) -> dict[str, float]:
    """One K-set mode's numbers: minADE/minFDE and Brier-minFDE over all windows and over `two`, and the
    time per window."""
    t = time.perf_counter()
    samples, weights = predictor.sample_kset(w, k=k, seed=seed, kset=mode, draws=draws)
    ms = (time.perf_counter() - t) * 1000 / len(w)
    ade, fde = min_ade_fde(samples, w.fut)
    brier = brier_fde(samples, weights, w.fut)
    return {f"{prefix}_min_ade": float(ade.mean()), f"{prefix}_min_fde": float(fde.mean()),
            f"{prefix}_brier_fde": float(brier.mean()), f"{prefix}_min_ade_2": of_two(ade, two),
            f"{prefix}_min_fde_2": of_two(fde, two), f"{prefix}_brier_fde_2": of_two(brier, two),
            f"{prefix}_ms_per_window": ms, f"{prefix}_draws": draws}


def calibrated(predictor: TrajCVAE, w: Windows, seed: int, draws: int = 200, max_windows: int = 2000,
               past: ScenePast | None = None, prefix: str = "cal") -> dict:
    """Plain sampling's calibration (`evaluate.calibration_of`; with `past`, of the draws fitted to it)
    on at most `max_windows` windows spread evenly over the split (its KDE costs draws^2 per window and
    step), as flat numbers: the endpoint's and all steps' calibration error, the endpoint's signed error and
    its coverage at every level."""
    pick = np.unique(np.linspace(0, len(w) - 1, min(len(w), max_windows)).round().astype(int))
    cal = calibration_of(predictor, w.subset(pick), draws, seed, past)
    final = cal["final"]
    return {f"{prefix}_error": final["error"], f"{prefix}_error_all": cal["all_steps"]["error"],
            f"{prefix}_signed": final["signed_error"], f"{prefix}_draws": draws, f"{prefix}_windows": len(pick),
            **{f"{prefix}_cov_{round(100 * p)}": c for p, c in zip(final["p"], final["coverage"])}}


def scene_calibrated(predictor: TrajCVAE, w: Windows, two: np.ndarray, k: int, seed: int, draws: int) -> dict:
    """Plain draws fitted to each scene's past (`--calibrate scene`): minADE/minFDE@K of the mean paths
    (fitted to their own levels) over all windows and over `two`, the time per window (the past's levels
    included) and the calibration of full draws (fitted to theirs; `calibrated`), under the prefix "cs"."""
    t = time.perf_counter()
    past = predictor.scene_past(w, seed)
    samples = predictor.sample(w, k=k, seed=seed, past=past)
    ms = (time.perf_counter() - t) * 1000 / len(w)
    ade, fde = min_ade_fde(samples, w.fut)
    return {"cs_min_ade": float(ade.mean()), "cs_min_fde": float(fde.mean()), "cs_min_ade_2": of_two(ade, two),
            "cs_min_fde_2": of_two(fde, two), "cs_ms_per_window": ms, "cs_map": CS_MAP,
            **calibrated(predictor, w, seed, draws, past=predictor.scene_past(w, seed, futures="full"),
                         prefix="cs_cal")}


ROW_NUMBERS = ("windows", "min_ade", "min_fde", "cv_ade", "cv_fde", "seed", "train_minutes", "best_epoch",
               "epochs")  # what every finished split's row holds, as numbers


def _check_row(row) -> None:
    """A finished split's result.json as read: an object whose table numbers are numbers (a ValueError naming
    the first that is not), not null, a list, or an edited value of text."""
    if not isinstance(row, dict):
        kind = {type(None): "null", list: "an array", str: "a string", bool: "a boolean"}.get(type(row), "a number")
        raise ValueError(f"{kind}, not an object")
    bad = next((key for key in ROW_NUMBERS if isinstance(row.get(key), bool)
                or not isinstance(row.get(key), (int, float))), None)
    if bad is not None:
        raise ValueError(f"'{bad}' is {json.dumps(row.get(bad))[:40] if bad in row else 'missing'}, not a number")


def complete(row: dict, draws: int, calibration_draws: int, is_samples: int = 100, kde_samples: int = 2000,
             learned: bool = True) -> bool:
    """Whether a finished split's numbers hold everything this run asks for (`learned`: whether its run has,
    or is to have, a learned K-set sampler to score)."""
    return ((not draws or (row.get("km_draws") == draws and (not learned or row.get("ks_draws") == draws)))
            and row.get("is_samples") == is_samples and row.get("kde_samples") == kde_samples
            and (not calibration_draws or (row.get("cal_draws") == calibration_draws
                                           and row.get("cs_cal_draws") == calibration_draws
                                           and row.get("cs_map") == CS_MAP))
            and "windows_2" in row)


def split_folders(suite: str, root: Path, splits: list[str] | None) -> dict[str, Path]:
    """{split: its folder, holding train/, val/ and test/}. eth-ucy: `root`/{split} for ETH/UCY's splits (all
    five by default). folders: `root` itself where it holds the three parts (one split, named as the folder),
    else each of its folders that does (all by default, in name order)."""
    if suite not in SUITES:
        raise TrajCVAEError(f"unknown benchmark suite '{suite}' (available: {', '.join(SUITES)})")
    if isinstance(splits, str):  # "eth,hotel", as --splits gives them (not its letters)
        splits = [part.strip() for part in splits.split(",") if part.strip()]
    if splits is not None:
        splits = list(dict.fromkeys(splits))  # a split named twice is run once
        if not splits:
            raise TrajCVAEError("--splits names no split" + (f" (choose from {', '.join(SPLITS)})"
                                                              if suite == "eth-ucy" else ""))
    if suite == "eth-ucy":
        for split in splits or ():
            if split not in SPLITS:
                raise TrajCVAEError(f"--splits: unknown split '{split}' (choose from {', '.join(SPLITS)})")
        folders = {split: root / split for split in splits or SPLITS}
        for folder in folders.values():
            for part in PARTS:
                if not (folder / part).is_dir():
                    raise TrajCVAEError(f"--root: {folder / part} not found (expected the ETH/UCY splits)")
        return folders
    if not root.is_dir():
        raise TrajCVAEError(f"--root {root}: no such folder")
    whole = lambda folder: all((folder / part).is_dir() for part in PARTS)  # noqa: E731
    if whole(root):
        found = {root.resolve().name: root}
    else:
        folders = [f for f in sorted(root.iterdir()) if f.is_dir() and not f.name.startswith(".")]
        found = {f.name: f for f in folders if whole(f)}
        for folder in folders:  # a split with a part missing would be left out of the mean in silence
            lacks = [p + "/" for p in PARTS if not (folder / p).is_dir()]
            if len(lacks) in (0, len(PARTS)):  # a split, or a folder of something else (results/)
                continue
            missing = ", ".join(lacks)
            if splits is not None and folder.name in splits:
                raise TrajCVAEError(f"--splits {folder.name}: {folder} has no {missing} (a split is a folder "
                                    "holding train/, val/ and test/)")
            if splits is None:
                warn(f"warning: --root {root}: {folder} has no {missing}, so it is no split and is left out (a "
                     "split is a folder holding train/, val/ and test/)")
    if "mean" in found and (splits is None or "mean" in splits):  # the table's row of the mean over the splits
        raise TrajCVAEError(f"--root {root}: a split named 'mean' ({found['mean']}) would be the table's mean row; "
                            "rename its folder")
    if not found:
        files = [f"{part}{suffix}" for part in PARTS for suffix in SUFFIXES if (root / f"{part}{suffix}").is_file()]
        moved = ", ".join(f"{name.partition('.')[0]}/{name}" for name in files)
        hint = f"; move each of its {', '.join(files)} into a folder of its part ({moved})" if files else ""
        raise TrajCVAEError(f"--root {root}: no folder holding train/, val/ and test/ (each split of the folders "
                            f"suite is one such folder, or --root is){hint}")
    # A name typed in one Unicode form (NFC: a keyboard's ü) for a folder named in another (NFD: macOS's u + ¨).
    composed = {unicodedata.normalize("NFC", name): name for name in found}
    splits = None if splits is None else \
        [split if split in found else composed.get(unicodedata.normalize("NFC", split), split) for split in splits]
    for split in splits or ():
        if split not in found:
            raise TrajCVAEError(f"--splits: no split '{split}' under --root {root} (found: {', '.join(found)}); "
                                "a split is a folder holding train/, val/ and test/")
    return {split: found[split] for split in splits or found}


def _warnings_only(line: str) -> None:
    """`run_benchmark`'s log where none is given: its warning lines as `TrajCVAEWarning`s ("a test: warning: x" as
    "a test: x"), nothing else."""
    head, said, text = line.partition("warning: ")
    if said:
        warn(head + text)


def run_benchmark(root: str | Path, config: str | Path | None, out: str | Path, splits: list[str] | None = None,
                  seeds: int = 1, k: int = 20, is_samples: int = 100, kde_samples: int = 2000,
                  progress: bool = True, log: Callable[[str], None] | None = print, draws: int = 1000,
                  calibration_draws: int = 200, suite: str = "eth-ucy", overrides: list[str] | None = None,
                  options: dict[str, tuple[str, object]] | None = None) -> dict:
    """Train and evaluate every split (x seeds); writes results.json, results.md (and, with calibration,
    reliability.png) into `out`. `suite` and `splits` say which (`split_folders`; None: every split). `draws`
    > 0 scores both K-set modes (k-means and learned) on that many plain draws; `calibration_draws` > 0
    measures plain sampling's calibration (`calibrated`). The configuration: the defaults, then `config` (a
    TOML file), then `overrides` ("section.key=value" texts), then `options` ({section.key: (flag, value)}:
    the CLI's --fps, --scale, --homography, --classes, --columns), as `config.load_config` takes them; the
    data options say how to read every split's files (their rate, units, classes and columns). `log` gets the
    progress and warning lines; None: no progress, the warnings as `TrajCVAEWarning`s.

    A split finished before without some of these numbers gets them from its checkpoint, untrained (its
    second stage, `train.finish_run`, is run first where best.pt lacks the K-set sampler)."""
    check_k(k)
    _whole(draws, "--draws")
    if draws and not draws >= k:  # the benchmark's own options: --draws 0 is off, and there is no -k
        raise TrajCVAEError(f"--draws must be 0 (off) or at least the {k} futures each K-set keeps "
                            f"(got {shown(draws)})")
    check_calibration(calibration_draws)
    for name, value in (("--is-samples", is_samples), ("--kde-samples", kde_samples), ("--seeds", seeds)):
        check_count(value, name)
    if kde_samples < 2:  # a density estimate's spread is of two draws at least (`metrics.kde_nll`)
        raise TrajCVAEError(f"--kde-samples must be >= 2: a density estimate needs a spread (got {kde_samples})")
    check_log(log)
    check_config_inputs(config, overrides, options, "run_benchmark")
    if log is None:  # the Python API's quiet: no progress, the warnings as TrajCVAEWarnings
        log, progress = _warnings_only, False
    # Python ints from here on (numpy's are written to results.json, which JSON has no type for).
    k, draws, calibration_draws, is_samples, kde_samples, seeds = map(int, (k, draws, calibration_draws, is_samples,
                                                                          kde_samples, seeds))
    root, out = check_path(root, "--root"), check_path(out, "--out")
    folders = split_folders(suite, root, splits)
    splits = list(folders)
    check_output(out, folder=True)
    inside = next((folder / part for folder in folders.values() for part in PARTS if (folder / part).is_dir()
                   and out.resolve().is_relative_to((folder / part).resolve())), None)
    if inside is not None:  # (train checks its own run's folder only when that split's turn comes)
        raise TrajCVAEError(f"--out {out} is inside the data folder {inside}, whose files are read as tracks (the "
                            "runs' metrics.csv would be): choose an --out outside it")
    listed = {split: {part: list_files([folder / part]) for part in PARTS} for split, folder in folders.items()}
    for folder, files in zip(folders.values(), listed.values()):  # a part of no track file is named now
        if leak := copy_of(files["test"], files["train"] + files["val"]):  # windows trained or picked on
            raise TrajCVAEError(f"{folder}: the test file {leak[0]} is a copy of {leak[1]} (the same bytes): its "
                                "scores would be of windows the model trained or was picked on; remove one")
        if leak := copy_of(files["val"], files["train"]):  # the best epoch picked on windows trained on
            raise TrajCVAEError(f"{folder}: the validation file {leak[0]} is a copy of {leak[1]} (the same bytes): "
                                "the best epoch would be picked on windows the model trains on; remove one")
    overrides = list(overrides or [])
    configured = lambda *more: load_config(config, overrides + list(more), options)  # noqa: E731
    given = configured()  # checked now, not after the first split has trained
    seeded = next((f"--set {o.strip()}" for o in overrides if o.partition("=")[0].strip() == "train.seed"), None) or \
        next((f"{flag} {value}" for dotted, (flag, value) in (options or {}).items() if dotted == "train.seed"), None) \
        or (f"{config}: train.seed = {given.train.seed}" if given.train.seed != 0 else None)
    if seeded:  # (a config file's 0 is the first run's own)
        raise TrajCVAEError(f"{seeded}: the benchmark seeds its runs itself, 0 to N - 1 for --seeds N; leave "
                            "train.seed out")
    for option, n in (("--is-samples", is_samples), ("--kde-samples", kde_samples),
                      ("--calibration", calibration_draws), ("--draws", draws)):  # drawn a window at a time:
        check_draws_for_one(n, given, option)  # refused now, not after a split's training
    ks = given.kset
    if draws and ks.epochs > 0 and ks.k != k:
        where = "--set kset.k" if any(o.partition("=")[0].strip() == "kset.k" for o in overrides) else \
            f"{config}: kset.k" if config is not None else "kset.k"
        raise TrajCVAEError(f"{where} = {ks.k}, but the benchmark scores K = {k} futures and the learned K-set "
                            f"sampler makes kset.k; set kset.k = {k} (or kset.epochs = 0)")
    # The test sets' warnings (speeds, rates, units), said now and kept in results.json and results.md, since a
    # score of a set read in the wrong units is no score.
    warned: dict[str, list[str]] = {}

    def test_warning(split: str, line: str) -> None:
        warned.setdefault(split, []).append(line.removeprefix("warning: "))
        log(f"{split} test: {line}")

    for split, folder in folders.items():  # so is every set: a bad row, or no window, is named before training
        for part, role in (("train", "training"), ("val", "validation"), ("test", "test")):
            try:  # the windows stay in the cache, for training; the test set's speed warning is said now, and a
                # cache that cannot be written (said once a process), whichever set finds it
                w = load_windows(listed[split][part], given.data, default_cache_dir(), lambda line, s=split, p=part:
                                 (test_warning(s, line) if p == "test" else log(line)) if line.startswith("warning")
                                 and (p == "test" or line.startswith("warning: the window cache")) else None)
            except NoWindowsError as e:
                raise NoWindowsError(f"the {role} set ({folder / part}): {e}") from None
            dc = given.data
            if part == "train":  # what the test set is judged beside (train judges the validation set)
                record = speed_record(future_speeds(w, dc.dt))  # as the model records it: its top step
                p90, keys, top = record["p90"], window_keys(w), top_step(record, dc.dt)
            elif part == "val":
                picked = window_keys(w)
            else:
                for line in beside_training(p90, keys, w, dc.dt, "test", picked):
                    test_warning(split, line)
                cut = read_in_part(w, dc, top)  # read in part, as `evaluate` names
                if cut.any():
                    test_warning(split, cut_warning(int(cut.sum()), len(w), window_names(w, cut), noise=dc.noise))
            del w
    results: dict[str, list[dict]] = {}
    code, other_code = made_by(), []  # runs whose numbers other code made
    for split, folder in folders.items():
        for seed in range(seeds):
            run = out / split / f"seed{seed}"
            done = run / "result.json"
            said = prefixed(log, f"{split} seed {seed}: ")  # its lines, train's and finish_run's
            cfg = configured(f"train.seed={seed}")
            if done.exists():
                try:
                    row = json.loads(done.read_text())
                    _check_row(row)
                except (ValueError, OSError) as e:  # a run killed while another tool wrote it, or edited
                    raise TrajCVAEError(f"{done}: not a readable result ({type(e).__name__}: {first_line(e)}); "
                                        "delete it to score the split again") from None
                try:
                    ckpt = checkpoint.load(run / "best.pt")
                except CheckpointError as e:  # its numbers stand, but no K-set or likelihood could be added to them
                    raise CheckpointError(f"{e}; delete {run} to train the split's seed {seed} again") from None
                _check_same_config(run, ckpt, cfg, options)
                _check_same_data(run, ckpt, folder, row, cfg)
                if row.get("code") != code:
                    other_code.append(f"{split} seed {seed}")
                learned = "kset" in ckpt or cfg.kset.epochs > 0  # finish_run trains a missing one
                if complete(row, draws, calibration_draws, is_samples, kde_samples, learned):
                    said("done earlier, skipped")
                    results.setdefault(split, []).append(row)
                    continue
                said("done earlier; adding what it lacks (K-sets, calibration or likelihoods asked for otherwise)")
                cache = default_cache_dir()
                finish_run(run, load_windows([folder / "train"], cfg.data, cache, log=quiet),  # as trained
                           load_windows([folder / "val"], cfg.data, cache, log=quiet), log=said, progress=progress)
                meta = {key: row[key] for key in ("train_minutes", "seed", "best_epoch", "epochs")}
            else:
                if (run / "best.pt").exists() and not (run / "last.pt").exists():  # (train would name --out)
                    raise TrajCVAEError(f"{run} holds a best.pt but neither the last.pt a resume needs nor the "
                                        f"result.json of a finished run; delete {run} to train the split's seed "
                                        f"{seed} again")
                if (run / "last.pt").exists():  # cut short: resumed only as it was begun
                    ckpt = checkpoint.load(run / "last.pt")
                    _check_same_config(run, ckpt, cfg, options)
                    _check_same_data(run, ckpt, folder, None, cfg)
                said("training")
                train([folder / "train"], [folder / "val"], cfg, run, resume=(run / "last.pt").exists(),
                      progress=progress, log=said, cache_dir=default_cache_dir(),
                      learned_kset=bool(draws))  # (--draws 0 scores no K-set: a later run adds it)
                metrics = pd.read_csv(run / "metrics.csv")
                meta = {"train_minutes": float(metrics.seconds.sum()) / 60, "seed": seed,
                        "best_epoch": int(checkpoint.load(run / "best.pt")["epoch"]), "epochs": int(len(metrics))}
            predictor = TrajCVAE.load(run / "best.pt")
            stats = predictor.stats.get("kset", {})
            row = evaluate_split(predictor, [folder / "test"], k, seed, is_samples, kde_samples, draws,
                                 calibration_draws, known=row if done.exists() else None,
                                 cache_dir=default_cache_dir())
            row.update(meta, kset_minutes=stats.get("seconds", 0.0) / 60, machine=trained_on(predictor.stats),
                       test_data=data_digest([folder / "test"]), code=row.get("code") if done.exists() else code)
            write_text(done, json.dumps(row, indent=2))
            said(f"minADE@{k} {row['min_ade']:.3f} minFDE@{k} {row['min_fde']:.3f} "
                 f"(constant velocity {row['cv_ade']:.3f}/{row['cv_fde']:.3f})")
            results.setdefault(split, []).append(row)
    # Numbers every row has (a row written with other options may carry or lack some) of what this run asks
    # for: a finished split's K-sets or calibration, from an earlier run that asked for them, are left out.
    rows_all = [r for rows in results.values() for r in rows]
    unasked = ("km_", "ks_") * (not draws) + ("cal_", "cs_") * (not calibration_draws)
    keys = [key for key in rows_all[0] if all(key in r and (r[key] is None or isinstance(r[key], (int, float)))
                                              for r in rows_all) and key not in PER_RUN and not key.startswith(unasked)]
    summary = {split: {key: _mean([r[key] for r in rows]) for key in keys} for split, rows in results.items()}
    summary["mean"] = {key: _mean([summary[s][key] for s in results]) for key in summary[splits[0]]}
    alone = [split for split in results if summary[split].get("windows_2") == 0]
    if alone:
        log(f"warning: the test set of {', '.join(alone)} has no window with another agent present (Social GAN's "
            "convention): its two-agent numbers, and their mean over the splits, are n/a")
    report = {"k": k, "seeds": seeds, "is_samples": is_samples, "kde_samples": kde_samples,
              "draws": draws, "calibration_draws": calibration_draws,
              "suite": suite, "config": given.to_dict(), "splits": summary,
              "per_seed": {split: [{c: r[c] for c in ("seed", "min_ade", "min_fde") + tuple(
                  f"{p}_{m}" for p in MODES for m in ("min_ade", "min_fde") if f"{p}_{m}" in r and draws)}
                                   for r in rows]
                           for split, rows in results.items()}}
    trained, mixed = machine_line(results)
    if mixed:
        log(f"warning: {out}: {mixed}")
    if other_code:
        made = f"the numbers of {', '.join(other_code)} were made by other trajcvae code than this {code}"
        log(f"warning: {out}: {made} (an earlier version or commit), and are reused as they are; benchmark in a new "
            "--out for this code's numbers")
        trained += f" {made[0].upper()}{made[1:]}."
    report["machines"] = {split: [r.get("machine", UNRECORDED) for r in rows] for split, rows in results.items()}
    report["warnings"] = {split: warned.get(split, []) for split in results}
    md = markdown_table(summary, k) + "\n" + trained + "\n"
    said = [f"- {split} test: {line}" for split in results for line in warned.get(split, [])]
    if said:  # beside the numbers they qualify
        md += "\nWarnings on the test sets (their numbers may be wrong):\n\n" + "\n".join(said) + "\n"
    if seeds > 1:  # the table above averages the seeds; say how far apart they are
        md += "\n" + seed_table(results)
    if draws:
        md += "\n" + kset_table(summary, k, draws, "") + "\n" + kset_table(summary, k, draws, "_2")
    if not calibration_draws:  # no calibration, so no reliability diagram: none of an earlier run's is left
        for name in ("reliability.png", "reliability_scene.png"):
            (out / name).unlink(missing_ok=True)
    else:
        md += "\n" + calibration_table(summary)
        from .plots import plot_reliability  # matplotlib only once there is a picture to draw
        from .visualize import save_figure

        for prefix, name, title in (("cal", "reliability.png", "calibration of plain sampling"),
                                    ("cs_cal", "reliability_scene.png", "plain draws fitted to the scene's past")):
            save_figure(plot_reliability({s: [r[f"{prefix}_cov_{round(100 * p)}"] for p in CALIBRATION_LEVELS]
                                          for s, r in summary.items()}, CALIBRATION_LEVELS, title=title),
                        out / name)
    # The tables last, one after the other: a picture that cannot be written leaves both as they were.
    write_text(out / "results.json", json.dumps(report, indent=2))
    write_text(out / "results.md", md)
    return report


def _check_same_config(run: Path, ckpt: dict, cfg: Config, options: dict | None = None) -> None:
    """A finished run (its best.pt `ckpt`) is reused only under the configuration it was trained with: its
    numbers would otherwise be reported as another configuration's. `options`: the CLI's reading options, as
    `run_benchmark` takes them, named beside the value they set."""
    theirs = Config.from_dict(ckpt["config"], source=str(run / "best.pt"))
    for dotted, value, trained in cfg.differences(theirs, skip=("train.device", "train.num_threads")):
        flag, given = (options or {}).get(dotted, (None, None))
        said = f" ({flag} {f'{given:g}' if isinstance(given, float) else given})" if flag is not None else ""
        raise TrajCVAEError(f"{run} was trained with {dotted} = {trained!r}, not {value!r}{said}: benchmark another "
                            "configuration in another --out")


def _check_same_data(run: Path, ckpt: dict, split: Path, row: dict | None, cfg: Config) -> None:
    """A run (its checkpoint `ckpt`; finished: its `row` of numbers) is reused only on the files it was
    trained and tested on, read in the same units (as their digests say, where it recorded them): its
    numbers would otherwise be reported as another data set's."""
    trained = ckpt.get("stats", {}).get("inputs", {})
    now = {"training": data_digest([split / "train"]), "validation": data_digest([split / "val"]),
           **unit_digests(cfg.data)}
    if row is not None:
        trained, now = {**trained, "test": row.get("test_data")}, {**now, "test": data_digest([split / "test"])}
    unrecorded = [role for role in ("training", "validation", "test") if role in now and trained.get(role) is None]
    if unrecorded:  # an older trajcvae's run: nothing tells its files from these
        raise TrajCVAEError(f"{run} does not record its {' and '.join(unrecorded)} files (an older trajcvae made it), "
                            f"so it may be of other files than {split}'s: benchmark in another --out, or delete "
                            f"{run} to run it anew")
    parts = {"training": split / "train", "validation": split / "val", "test": split / "test"}  # (records of
    for role, digest in now.items():  # files only, before the files beside them counted, still tell them)
        same = trained.get(role, digest) == digest or (role in parts and recorded_as(trained[role], digest,
                                                                                      [parts[role]]))
        if not same:
            given = getattr(cfg.data, role, None)
            raise TrajCVAEError(f"{run} was trained with another {role} than {given} (an edited file): benchmark "
                                "with it in another --out" if given else
                                f"{run} was scored on another {role} set than {split}'s (other files, or edited "
                                "ones): benchmark these files in another --out")


def _mean(values: list) -> float | int | None:
    """The mean of a number over runs or splits; None (n/a) where one of them has none; a count (windows,
    epochs) stays a whole number where every run has the same."""
    if any(v is None for v in values):
        return None
    mean = float(np.mean(values))
    counts = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    return int(mean) if counts and mean.is_integer() else mean


def machine_line(results: dict[str, list[dict]]) -> tuple[str, str | None]:
    """results.md's line on what the runs trained on, and a warning where that differs between runs."""
    runs: dict[str, list[str]] = {}
    for split, rows in results.items():
        for r in rows:
            runs.setdefault(r.get("machine", UNRECORDED), []).append(f"{split} seed {r['seed']}")
    if len(runs) == 1:
        return f"Trained on {next(iter(runs))}.", None
    listed = "; ".join(f"{m} ({', '.join(names)})" for m, names in runs.items())
    return f"Trained on {listed}.", ("the runs trained on different machines, which train the same seed "
                                     f"differently (docs/results.md), so the table mixes them: {listed}")


def _row_name(split: str) -> str:
    """A split's name in a Markdown table's first cell: the mean in bold, a | of a folder's name escaped."""
    return "**mean**" if split == "mean" else split.replace("|", "\\|")


def markdown_table(summary: dict[str, dict[str, float]], k: int = 20) -> str:
    head = "| split | " + " | ".join(h.format(k=k) for h in HEADINGS.values()) + " |"
    lines = [head, "|" + "---|" * (len(HEADINGS) + 1)]
    for split, row in summary.items():
        cells = [f"{row[c]:.0f}" if c == "windows" else f"{row[c]:.1f}" if c == "train_minutes"
                 else f"{row[c]:.2f}" if c in ("neg_elbo", "is_nll", "kde_nll", "predict_ms_per_window")
                 else f"{row[c]:.3f}" for c in HEADINGS]
        name = _row_name(split)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def seed_table(results: dict[str, list[dict]]) -> str:
    """minADE/minFDE@K of each seed per split, and of the split mean for each seed."""
    seeds = [r["seed"] for r in next(iter(results.values()))]
    lines = ["| split | " + " | ".join(f"seed {s} minADE/minFDE" for s in seeds) + " |",
             "|" + "---|" * (len(seeds) + 1)]
    for split, rows in results.items():
        lines.append(f"| {_row_name(split)} | " + " | ".join(f"{r['min_ade']:.3f}/{r['min_fde']:.3f}" for r in rows)
                     + " |")
    means = [(np.mean([rows[i]["min_ade"] for rows in results.values()]),
              np.mean([rows[i]["min_fde"] for rows in results.values()])) for i in range(len(seeds))]
    lines.append("| **mean** | " + " | ".join(f"{a:.3f}/{f:.3f}" for a, f in means) + " |")
    return "\n".join(lines) + "\n"


def calibration_table(summary: dict[str, dict[str, float]]) -> str:
    """Plain sampling's calibration (how often the truth falls in the p highest-density region), beside
    that of the draws fitted to the scene's past (`--calibrate scene`) and their minADE/minFDE."""
    draws, most = summary["mean"]["cal_draws"], max(r["cal_windows"] for r in summary.values())
    lines = ["| split | plain: calibration error, endpoint (all steps) | signed | coverage of the 50% / 80% / 95% "
             "regions | fitted to the scene: calibration error (all steps) | signed | coverage 50% / 80% / 95% | "
             "minADE/minFDE@K, plain -> fitted |", "|---|---|---|---|---|---|---|---|"]
    for split, r in summary.items():
        name = _row_name(split)
        lines.append(f"| {name} | {r['cal_error']:.3f} ({r['cal_error_all']:.3f}) | {r['cal_signed']:+.3f} | "
                     f"{r['cal_cov_50']:.2f} / {r['cal_cov_80']:.2f} / {r['cal_cov_95']:.2f} | "
                     f"{r['cs_cal_error']:.3f} ({r['cs_cal_error_all']:.3f}) | {r['cs_cal_signed']:+.3f} | "
                     f"{r['cs_cal_cov_50']:.2f} / {r['cs_cal_cov_80']:.2f} / {r['cs_cal_cov_95']:.2f} | "
                     f"{r['min_ade']:.3f}/{r['min_fde']:.3f} -> {r['cs_min_ade']:.3f}/{r['cs_min_fde']:.3f} |")
    return (f"Calibration at the endpoint ({draws:.0f} full draws per window, at most {most:.0f} windows a split), "
            "of plain sampling and of `--calibrate scene`:\n\n" + "\n".join(lines) + "\n")


def kset_table(summary: dict[str, dict[str, float]], k: int, draws: int, which: str = "") -> str:
    """Plain sampling and both K-set modes side by side: minADE/minFDE@K, Brier-minFDE, ms per window;
    `which` = "_2": on the windows with at least two agents present."""
    learned = all("ks_min_ade" in r for r in summary.values())
    modes = [("km", f"k-means of {draws} draws")] + ([("ks", "learned sampler")] if learned else [])
    title = ("All windows" if not which else "Windows with at least two agents present (Social GAN's convention)")
    head = f"| split | windows | plain minADE/minFDE@{k} | " + " | ".join(
        f"{name}: minADE/minFDE, Brier-minFDE | ms/window" for _, name in modes) + " |"
    lines = [f"{title}:\n", head, "|" + "---|" * (3 + 2 * len(modes))]
    for split, r in summary.items():
        name = _row_name(split)
        numbers = lambda *keys: "n/a" if any(r[key] is None for key in keys) else "/".join(  # noqa: E731
            f"{r[key]:.3f}" for key in keys)  # (None: a split without two-agent windows)
        cells = [f"{r['windows' + which]:.0f}", numbers("min_ade" + which, "min_fde" + which)]
        for p, _ in modes:
            cells += [f"{numbers(f'{p}_min_ade{which}', f'{p}_min_fde{which}')}, {numbers(f'{p}_brier_fde{which}')}",
                      f"{r[f'{p}_ms_per_window']:.2f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
