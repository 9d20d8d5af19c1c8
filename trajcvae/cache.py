"""A cache of built windows, keyed by the input files' content and the windowing options.

Reading and windowing a large dataset takes longer than a short training run; the second run on the
same files loads the arrays from an `.npz` (no pickle) in about the time it takes to read them.
Any change to a file's bytes or to obs_len, pred_len, time_step, neighbor_radius, max_neighbors or the
scene memory's options gives a new key, so a stale cache is never used.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
import zipfile
from typing import Callable, Iterable

import numpy as np

from . import __version__
from .config import DataConfig
from .data import list_files, read_tracks
from .tracks import summarize
from .windows import Windows, build_windows, reversed_tracks

WINDOW_KEYS = ("obs_len", "pred_len", "time_step", "neighbor_radius", "max_neighbors")
MEMORY_KEYS = ("memory", "memory_radius", "memory_horizon")  # in the key only when memory is on


def default_cache_dir() -> Path:
    return Path(os.environ.get("TRAJCVAE_CACHE", Path.home() / ".cache" / "trajcvae"))


def cache_key(files: list[Path], cfg: DataConfig, mode: str) -> str:
    h = hashlib.sha256()
    keys = WINDOW_KEYS + (MEMORY_KEYS if cfg.memory > 0 else ())
    h.update(json.dumps({"version": __version__, "mode": mode, **{k: getattr(cfg, k) for k in keys}},
                        sort_keys=True).encode())
    for f in files:
        h.update(f.name.encode())  # the scene name comes from the file name
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:32]


def load_windows(paths: Iterable[str | Path], cfg: DataConfig, mode: str = "windows",
                 cache_dir: str | Path | None = None, log: Callable[[str], None] | None = None) -> Windows:
    """Windows of the files at `paths`, from the cache when it holds them (cache_dir=None: no cache).
    `log` gets the data's summary line (see `tracks.summarize`), kept in the cache with the windows."""
    if cache_dir is None:
        w, line = _build(paths, cfg, mode)
    else:
        files = list_files(paths)
        path = Path(cache_dir) / f"windows-{cache_key(files, cfg, mode)}.npz"
        try:
            w, line = _load(path)
            line += " (windows from cache)"
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # missing or damaged: rebuild
            w, line = _build(files, cfg, mode)
            _save(w, line, path)
    if log is not None:
        log(line)
    return w


def _build(paths, cfg: DataConfig, mode: str) -> tuple[Windows, str]:
    """mode "reversed": the "windows" of the tracks played backwards (training augmentation)."""
    tracks = read_tracks(paths)
    line = summarize(tracks, cfg.time_step).line()
    if mode == "reversed":
        return build_windows(reversed_tracks(tracks), cfg, "windows"), line
    return build_windows(tracks, cfg, mode), line


def _save(w: Windows, line: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = w.agent_id
    numeric = ids.dtype.kind in "iuf"
    arrays = {"obs": w.obs, "nbr": w.nbr, "scene": w.scene.astype(str), "t0": w.t0, "step": w.step,
              "agent_id": ids if numeric else ids.astype(str), "skipped": np.array(w.skipped),
              "summary": np.array(line)}
    for name in ("fut", "mem", "mem_lag"):
        if getattr(w, name) is not None:
            arrays[name] = getattr(w, name)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npz")
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _load(path: Path) -> tuple[Windows, str]:
    with np.load(path, allow_pickle=False) as z:
        ids = z["agent_id"]
        w = Windows(obs=z["obs"], nbr=z["nbr"], fut=z["fut"] if "fut" in z else None,
                    scene=z["scene"].astype(object), agent_id=ids if ids.dtype.kind in "iuf" else ids.astype(object),
                    t0=z["t0"], step=z["step"], skipped=int(z["skipped"]),
                    mem=z["mem"] if "mem" in z else None, mem_lag=z["mem_lag"] if "mem_lag" in z else None)
        return w, str(z["summary"])
