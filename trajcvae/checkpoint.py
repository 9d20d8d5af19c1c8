"""Checkpoints: written atomically, read with `weights_only=True` so loading never runs code.

`save` writes through `atomic.write_bytes`: a crash or a kill at any moment leaves either the previous
checkpoint or the new one, never a truncated file.
`load` refuses anything but tensors and plain containers (a pickle that would import or call anything is
rejected before it runs), and says so when a checkpoint comes from an incompatible trajcvae.
"""
from __future__ import annotations

import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any, Iterable

import torch

from ._version import __version__
from .atomic import write_bytes
from .config import TABLE_SUFFIXES, TRAJNET_SUFFIX, Config, forget_trials, validate
from .errors import CheckpointError, TrajCVAEError, not_found_hint

FORMAT = 1  # bump when the checkpoint layout changes incompatibly
REQUIRED_KEYS = ("format", "config", "model")
RESUME_KEYS = ("optimizer", "scheduler", "rng", "gen_rng", "epoch", "best_val_min_ade", "best_epoch")
# torch.load(weights_only=True) could be made to run code before torch 2.6 (CVE-2025-32434).
SAFE_TORCH = (2, 6)


def save(obj: dict[str, Any], path: str | Path) -> None:
    """Write a checkpoint atomically (`atomic.write_bytes`): a kill leaves the old file intact; so does a write
    the system refuses (a full disk, under torch's own RuntimeError), which is one line naming the file."""
    write_bytes(path, lambda f: torch.save({"format": FORMAT, "version": __version__, **obj}, f))


def load(path: str | Path, map_location: str | torch.device = "cpu",
         require: Iterable[str] = ()) -> dict[str, Any]:
    """Read a trajcvae checkpoint without running any code in it; `require`: keys it must hold besides
    format, config and model (e.g. `RESUME_KEYS`). Every failure is a one-line `CheckpointError`."""
    if isinstance(path, str) and not path.strip():  # an unset "$MODEL": Path("") would be the current folder
        raise CheckpointError("an empty model path (an unset variable?); give a checkpoint (.pt) or a built-in "
                              "model name")
    path = Path(path)
    if path.is_dir():
        shown = (f"; give {path / 'best.pt'}" if (path / "best.pt").is_file() else
                 f"; give {path / 'last.pt'} (the run has no best.pt: stopped before its end, train --resume "
                 "goes on with it)"
                 if (path / "last.pt").is_file() else "")
        raise CheckpointError(f"{path}: a folder, not a checkpoint{shown}")
    if path.exists() and not path.is_file():  # a pipe, a device: no checkpoint is read from those
        raise CheckpointError(f"{path}: not a regular file (a pipe or a device); give a checkpoint file (.pt)")
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found{not_found_hint(path)}")
    if _torch_version() < SAFE_TORCH:
        raise CheckpointError(f"{path}: torch {torch.__version__} cannot load checkpoints safely (weights-only "
                              f"loading can run code before torch 2.6); install torch>=2.6")
    with open(path, "rb") as f:
        magic = f.read(4)
    if not (magic.startswith(b"PK\x03\x04") or magic[:1] == b"\x80"):  # a zip (torch.save) or a raw pickle
        table = path.suffix.lower() in (*TABLE_SUFFIXES, TRAJNET_SUFFIX, ".txt")  # (tracks, or predictions)
        raise CheckpointError(f"{path}: not a trajcvae checkpoint (not a file written by torch.save)" + (
            "; a model (a .pt, or a built-in name: pedestrian) goes first, the tracks after it; `trajcvae "
            "visualize` also takes a predictions table (.csv or .parquet) in the model's place" if table else ""))
    if magic.startswith(b"PK"):  # torch.save's zip keeps a CRC-32 of every member: flipped bits load as weights
        try:
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise CheckpointError(f"{path}: not a readable trajcvae checkpoint (truncated or corrupt: "
                                  f"{type(e).__name__})") from None
        if bad is not None:
            raise CheckpointError(f"{path}: corrupt checkpoint (damaged at {bad}; its checksums do not match): "
                                  "copy it again or use another one")
    if magic[:1] == b"\x80" and magic[1:2] != b"\x02":  # torch.save's own pickles are of protocol 2
        raise CheckpointError(f"{path}: not a trajcvae checkpoint (a Python pickle, not a file written by torch.save)")
    try:
        with warnings.catch_warnings():  # (torch's warning of a pickle's protocol: the error below says it)
            warnings.simplefilter("ignore", UserWarning)
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        # torch's message is a paragraph; the part that names what was refused is its "Unsupported ..." line.
        found = re.search(r"Unsupported [^\n.]*", str(e))
        what = f" ({found[0].strip()[:120]})" if found else ""
        raise CheckpointError(f"{path}: refused to load, the file holds more than weights{what}") from None
    except Exception as e:  # truncated or not a torch file at all
        raise CheckpointError(f"{path}: not a readable trajcvae checkpoint (not written by torch.save, or truncated "
                              f"or corrupt: {type(e).__name__})") from None
    if not isinstance(ckpt, dict) or "format" not in ckpt or "config" not in ckpt:
        raise CheckpointError(f"{path}: not a trajcvae checkpoint")
    made_by = f"trajcvae {ckpt.get('version', '?')} (format {ckpt['format']})"
    if ckpt["format"] != FORMAT:
        raise CheckpointError(f"{path}: checkpoint written by {made_by} is incompatible with this "
                              f"trajcvae {__version__} (format {FORMAT})")
    missing = [k for k in (*REQUIRED_KEYS, *require) if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path}: checkpoint written by {made_by} lacks {', '.join(missing)}"
                              + (" (not a run's last.pt?)" if set(missing) & set(RESUME_KEYS) else ""))
    try:
        if not isinstance(ckpt["config"], dict) or not isinstance(ckpt["model"], dict):
            raise TrajCVAEError("config or model is not a table")
        if not isinstance(ckpt.get("stats", {}), dict) or not isinstance(ckpt.get("kset", {}), dict):
            raise TrajCVAEError("stats or kset is not a table")
        for key, value in [*ckpt["model"].items(), *ckpt.get("kset", {}).items()]:
            if not isinstance(value, torch.Tensor) or not torch.isfinite(value).all():
                raise TrajCVAEError(f"weight {key} is not a tensor of finite numbers (a corrupt file?)")
    except TrajCVAEError as e:
        raise CheckpointError(f"{path}: checkpoint written by {made_by} is damaged: {e}") from None
    try:
        cfg = Config.from_dict(forget_trials(ckpt["config"]), source="its config")
    except TrajCVAEError as e:  # an option this code does not know (any more), or not at that value
        if ckpt.get("version") == __version__:  # (a version spans many commits)
            made_by, this = f"another build of {made_by}", "this one"
        else:
            this = f"this trajcvae {__version__}"
        raise CheckpointError(f"{path}: checkpoint written by {made_by} is incompatible with {this}: {e}") from None
    try:
        validate(cfg, files=False)
    except TrajCVAEError as e:  # a hand-edited or damaged config: no model could be built from it
        raise CheckpointError(f"{path}: the checkpoint holds an {e}") from None
    return ckpt


def _torch_version() -> tuple[int, int]:
    try:
        major, minor = torch.__version__.split("+")[0].split(".")[:2]
        return int(major), int(minor)
    except ValueError:  # an unusual build string: assume a current torch
        return SAFE_TORCH
