"""Checkpoints: written atomically, read with `weights_only=True` so loading never runs code."""
from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import torch

from . import __version__
from .errors import CheckpointError

FORMAT = 1  # bump when the checkpoint layout changes incompatibly


def save(obj: dict[str, Any], path: str | Path) -> None:
    """Write to a temp file in the same folder, then rename: a kill leaves the old file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT, "version": __version__, **obj}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "unsafe content"
        raise CheckpointError(f"{path}: refused to load, the file holds more than weights ({first[:160]})") \
            from None
    except Exception as e:  # truncated or not a torch file at all
        raise CheckpointError(f"{path}: not a readable trajcvae checkpoint ({type(e).__name__})") from None
    if not isinstance(ckpt, dict) or "format" not in ckpt or "config" not in ckpt:
        raise CheckpointError(f"{path}: not a trajcvae checkpoint")
    if ckpt["format"] != FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {ckpt['format']} (trajcvae {ckpt.get('version')}) "
                              f"is incompatible with this trajcvae {__version__} (format {FORMAT})")
    return ckpt
