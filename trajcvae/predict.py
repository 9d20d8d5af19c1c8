"""Model -> samples: the user-facing predictor `TrajCVAE` (load a checkpoint, draw K futures per agent).

Sampling follows the test path x -> p(z|x) -> z -> mean of p(y|x,z). The K standard-normal draws behind
z are made once per call from `seed` and shared by every window, so an agent's futures do not depend
on which other agents happen to be in the same file or batch.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import torch

from . import checkpoint
from .config import Config
from .data import read_tracks
from .errors import TrajCVAEError
from .features import WindowTensors, make_batch
from .model import CVAE
from .windows import Windows, build_windows

BUILTIN = {"pedestrian": Path(__file__).parent / "models" / "pedestrian.pt"}
COLUMNS = ["scene", "agent_id", "t0", "sample", "step", "frame", "x", "y"]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrajCVAEError("--device cuda: CUDA is not available on this machine (use cpu or auto)")
    return torch.device(name)


class TrajCVAE:
    """A trained model ready to predict. `TrajCVAE.load("runs/x/best.pt").predict(df, k=20)`."""

    def __init__(self, model: CVAE, config: Config, stats: dict, device: torch.device | str = "cpu"):
        self.model, self.config, self.stats = model.eval(), config, stats
        self.device = torch.device(device)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> "TrajCVAE":
        """Load a checkpoint path or a built-in model name (e.g. "pedestrian")."""
        if str(path) in BUILTIN:
            path = BUILTIN[str(path)]
            if not path.is_file():
                raise TrajCVAEError(f"built-in model '{path.stem}' is not installed in this package")
        dev = resolve_device(device)
        ckpt = checkpoint.load(path, map_location=dev)
        cfg = Config.from_dict(ckpt["config"], source=str(path))
        model = CVAE(cfg).to(dev)
        try:
            model.load_state_dict(ckpt["model"])
        except RuntimeError:
            raise TrajCVAEError(f"{path}: weights do not match the model in its config") from None
        return cls(model, cfg, dict(ckpt.get("stats", {})), dev)

    # --- windows -> samples -------------------------------------------------------------------
    @torch.inference_mode()
    def sample(self, windows: Windows | WindowTensors, k: int = 20, seed: int = 0,
               most_likely: bool = False, full: bool = False, batch_size: int = 4096) -> np.ndarray:
        """K futures per window in world coordinates: -> (N, K, P, 2).

        Each future is the mean of p(y|x,z) for z ~ p(z|x); `full=True` draws y ~ p(y|x,z) instead (the
        whole predictive distribution, for density estimates). `most_likely` uses z = prior mean (K = 1)."""
        if k < 1:
            raise TrajCVAEError(f"-k must be >= 1 (got {k})")
        wt = windows if isinstance(windows, WindowTensors) else WindowTensors.from_windows(windows)
        g = torch.Generator().manual_seed(seed)
        eps = torch.randn(k, self.model.z_dim, generator=g).to(self.device)  # (K, Z) shared by all windows
        out = []
        for lo in range(0, len(wt), batch_size):
            idx = torch.arange(lo, min(lo + batch_size, len(wt)))
            b = make_batch(wt, idx, self.config.data, self.device)
            ctx = self.model.context(b)
            prior = self.model.prior(ctx).base_dist
            if most_likely:
                z = prior.loc.unsqueeze(1)  # (B, 1, Z)
            else:
                z = prior.loc.unsqueeze(1) + prior.scale.unsqueeze(1) * eps  # (B, K, Z)
            if full:
                y = self.model.decode(ctx, z, b.cv).base_dist
                y = y.loc + y.scale * torch.randn(y.loc.shape, generator=g).to(self.device)
            else:
                y = self.model.decode_mean(ctx, z, b.cv)
            out.append(b.to_world(y).float().cpu())
        return torch.cat(out).numpy().astype(np.float64)

    # --- tracks -> table ----------------------------------------------------------------------
    def windows(self, data: pd.DataFrame | Iterable[str | Path], windows: bool = False) -> Windows:
        df = data if isinstance(data, pd.DataFrame) and "_src" in data else read_tracks(data)
        return build_windows(df, self.config.data, mode="windows" if windows else "latest")

    def predict(self, data: pd.DataFrame | Iterable[str | Path], k: int = 20, seed: int = 0,
                windows: bool = False) -> pd.DataFrame:
        """K futures per agent as a long table (see `COLUMNS`).

        data: a DataFrame with `frame, agent_id, x, y` (and optionally `scene`) or paths of files.
        windows=False: one forecast per agent from its latest frame. windows=True: one for every (agent, t0)
        whose obs_len observed and pred_len future frames are present (evaluation mode).
        """
        w = self.windows(data, windows)
        return samples_to_frame(w, self.sample(w, k=k, seed=seed))


def predict_to_file(model: str | Path, data: Iterable[str | Path], out: str | Path, k: int = 20, seed: int = 0,
                    windows: bool = False, device: str = "cpu") -> Windows:
    """Load a model, predict K futures for `data` and write the table to `out`; returns the windows used
    (their `skipped` counts agents too short to extrapolate)."""
    predictor = TrajCVAE.load(model, device=device)
    w = predictor.windows(data, windows=windows)
    write_table(samples_to_frame(w, predictor.sample(w, k=k, seed=seed)), out)
    return w


def samples_to_frame(w: Windows, samples: np.ndarray) -> pd.DataFrame:
    """(N, K, P, 2) samples of windows `w` -> the long output table."""
    N, K, P, _ = samples.shape
    rep = K * P
    step = np.tile(np.arange(1, P + 1), N * K)
    t0 = np.repeat(w.t0, rep)
    frame = t0 + step * np.repeat(w.step, rep)
    integral = np.all(w.t0 == np.round(w.t0)) and np.all(w.step == np.round(w.step))
    return pd.DataFrame({
        "scene": pd.Categorical(np.repeat(w.scene, rep)),
        "agent_id": np.repeat(w.agent_id, rep),
        "t0": t0.astype(np.int64) if integral else t0,
        "sample": np.tile(np.repeat(np.arange(K), P), N),
        "step": step,
        "frame": frame.astype(np.int64) if integral else frame,
        "x": samples[..., 0].reshape(-1),
        "y": samples[..., 1].reshape(-1),
    })


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write CSV (or Parquet when the name ends in .parquet) atomically: temp file, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if path.suffix.lower() == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False, float_format="%.4f")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
