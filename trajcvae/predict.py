"""Model -> samples: the user-facing predictor `TrajCVAE` (load a checkpoint, draw K futures per agent).

Sampling is the model's test path, `CVAE.sample`: x -> p(z|x) -> z -> mean of p(y|x,z). A K-set mode
(`kset.py`) returns K futures with weights instead of K independent draws; `--calibrate scene` maps plain
draws to fit how the model has done on the scene so far (`calibrate.py`). Each batch draws its
standard-normal vectors from a generator seeded with `seed`, so every window gets the same draws
and an agent's futures do not depend on which other agents happen to be in the same file or batch.
`predict_to_file` streams the output table (`OUTPUT_COLUMNS`) piece by piece through `atomic.TableWriter`.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import torch

from . import checkpoint
from ._version import __version__
from .atomic import WINDOWS, TableWriter
from .batch import WindowTensors, make_batch
from .calibrate import DRAWS, ScenePast, level_map, radial_levels, too_little_past, unfitted
from .checks import (bridges_any, bridging_gap, check_grid, cut_short, cut_warning, far_apart, gap_without_rate,
                     overshoot, overshoot_warning, plausibility, sampling_interval, summarize, time_steps,
                     time_text, top_step, unbridged_warning, window_noise, TrackSummary)
from .config import (TABLE_SUFFIXES, TRAJNET_SUFFIX, Config, DataConfig, _whole, check_count, check_flags,
                     check_futures, check_log, check_max_gap, check_noise, check_output, check_primary, check_sampling,
                     check_seed, check_since, check_trajnet_output, read_paths, resolve_device, torch_seed)
from .errors import (OWN_GAP_AND_NOISE, CheckpointError, DataError, NoWindowsError, TrajCVAEError, in_cli,
                     keyword_names, names_its_data, not_found_hint, one_line, plural, warn)
from .formats import TRAJNET_PREDICTED, trajnet_predictions
from .kset import KSetSampler, kmeans_futures, nearest_shares
from .model import CVAE
from .resample import bridges
from .table import AGENT_COLUMNS, TIME_NAMES, column_aliases, column_map, seconds_per_unit
from .tracks import is_read, read_already, read_tracks
from .units import from_metres, output_decimals, past_horizon, position_columns, scene_scales, time_decimals
from .windows import (Windows, build_windows, concat_windows, cut_by, cut_difference, iter_windows, no_windows_error,
                      window_key, windows_at)

BUILTIN = {"pedestrian": Path(__file__).parent / "models" / "pedestrian.pt"}
# + "weight" with a K-set; `time` for `frame` (an input with a time column), `lon, lat` for `x, y` (one in degrees)
OUTPUT_COLUMNS = ["scene", "agent_id", "t0", "sample", "step", "frame", "x", "y"]
SAMPLE_BLOCK = 4096  # windows a `sample` call draws full draws' noise for at once (its batch_size)


class TrajCVAE:
    """A trained model ready to predict. `TrajCVAE.load("runs/x/best.pt").predict(df, k=20)`.

    sampler: the learned K-set sampler (`kset.KSetSampler`), where the checkpoint has one."""

    def __init__(self, model: CVAE, config: Config, stats: dict, device: torch.device | str = "cpu",
                 sampler: KSetSampler | None = None, source: str = "model"):
        self.model, self.config, self.stats = model.eval(), config, stats
        self._speeds_said: dict[int, tuple] = {}  # `check_speeds`' verdicts: id(table) -> (weakref, digest, line)
        self.device = torch.device(device)
        self.sampler, self.source = sampler, source
        self.max_gap_given = False  # `load(max_gap=)`: `read` refuses it where it would do nothing
        self.training_state = False  # loaded from a run's last.pt (`from_checkpoint`)

    @property
    def top_step(self) -> float:
        """The model's top speed over a step (`checks.top_step`), in metres: a step longer holds a jump."""
        return top_step(self.stats.get("speeds"), self.config.data.dt)

    def weights_digest(self) -> str:
        """A digest of the CVAE's weights and data settings: what a scene's past measured by this model is of."""
        h = hashlib.blake2b(repr(sorted(cut_by(self.config.data).items())).encode(), digest_size=16)
        for name, tensor in self.model.state_dict().items():
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
        return h.hexdigest()

    def __getstate__(self) -> dict:
        """A copy (pickle, deepcopy: another process's model) without the verdicts on this process's tables."""
        return {**self.__dict__, "_speeds_said": {}}

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", max_gap: float | None = None,
             noise: float | str | None = None) -> "TrajCVAE":
        """Load a checkpoint path or a built-in model name (e.g. "pedestrian"). max_gap: the longest gap
        (seconds) between two observations that resampling bridges in the data it is given, in place of
        the model's `data.max_gap` (0.8 s): GPS logs at 1 Hz need more than 1 s. noise: the std (metres) of
        the detections' noise in the data it is given, in place of the model's `data.noise` (0: none), or
        "auto", each window's own, measured from its observed positions (`checks.window_noise`): each history
        it reads is smoothed first (`checks.smoothed`)."""
        check_max_gap(max_gap)
        noise = check_noise(noise)
        if not isinstance(path, (str, os.PathLike)):
            raise TrajCVAEError(f"TrajCVAE.load: expected a checkpoint's path or a built-in model's name, got "
                                f"{type(path).__name__}")
        if str(path) not in BUILTIN and not Path(path).exists() and not not_found_hint(Path(path)):
            # "Pedestrian", "pedestrain" (a quoted "~/pedestrian.pt" that names a file is hinted as such)
            near = difflib.get_close_matches(str(path).lower(), BUILTIN, n=1, cutoff=0.75)
            if near:
                raise CheckpointError(f"{path}: checkpoint not found; the built-in model is '{near[0]}'")
        if str(path) in BUILTIN:
            if Path(path).is_file():  # (a path that is not the bare name, ./pedestrian, loads the file)
                warn(f"warning: '{path}' is a built-in model's name, so the file {path} here is not read; give "
                     f"./{path} to load that file")
            path = BUILTIN[str(path)]
            if not path.is_file():
                raise TrajCVAEError(f"built-in model '{path.stem}' is not installed in this package")
        dev = resolve_device(device)
        model = cls.from_checkpoint(checkpoint.load(path, map_location=dev), str(path), dev)
        if max_gap is not None:
            model.config.data.max_gap, model.max_gap_given = float(max_gap), True
        if noise is not None:
            model.config.data.noise = noise
        return model

    @classmethod
    def given(cls, model: "str | Path | TrajCVAE", device: str = "cpu", max_gap: float | None = None,
              noise: float | str | None = None) -> "TrajCVAE":
        """A function's `model`: a loaded one as it is (bridging `max_gap`, reading `noise`: `bridging`), else
        `load`ed. A loaded model stays on its device: another `device` named is refused."""
        if not isinstance(model, TrajCVAE):
            return cls.load(model, device=device, max_gap=max_gap, noise=noise)
        if device != "cpu" and resolve_device(device) != model.device:
            raise TrajCVAEError(f"--device {device}: the model given is loaded on {model.device}; load it on "
                                f"{device} (TrajCVAE.load(..., device={device!r}))")
        return model.bridging(max_gap, noise)

    def bridging(self, max_gap: float | None, noise: float | str | None = None) -> "TrajCVAE":
        """This model, or, for a `max_gap` (seconds) or a `noise` (metres, or "auto") other than its `data.max_gap` and
        `data.noise`, its nets with a config of their own that bridges that gap and smooths that noise, as
        `load(..., max_gap=, noise=)` gives them (this model is left as it is)."""
        gap = check_max_gap(max_gap) is not None and max_gap != self.config.data.max_gap
        noise = check_noise(noise)
        smooth = noise is not None and noise != self.config.data.noise
        if not (gap or smooth):
            return self
        model = copy.copy(self)  # (`__getstate__`: without this one's verdicts on tables)
        model.config = copy.deepcopy(self.config)
        if gap:
            model.config.data.max_gap, model.max_gap_given = float(max_gap), True
        if smooth:
            model.config.data.noise = noise
        return model

    @classmethod
    def from_checkpoint(cls, ckpt: dict, path: str, device: torch.device) -> "TrajCVAE":
        """A checkpoint read already (`checkpoint.load`), its nets put on `device`; `path` names it in errors."""
        cfg = Config.from_dict(ckpt["config"], source=str(path))
        with torch.random.fork_rng(devices=[]):  # initial weights the checkpoint's replace: the caller's stream stays
            model = CVAE(cfg).to(device)
        try:
            model.load_state_dict(ckpt["model"])
        except RuntimeError:
            made = ckpt.get("version", "?")
            other = f" (written by trajcvae {made}; this is {__version__})" if made != __version__ else ""
            raise TrajCVAEError(f"{path}: weights do not match the model in its config{other}") from None
        sampler = None
        if "kset" in ckpt:
            own = any(key.startswith("decoder.") for key in ckpt["kset"])  # older samplers have none
            with torch.random.fork_rng(devices=[]):
                sampler = KSetSampler.for_model(model, cfg, own_decoder=own).to(device)
            try:
                sampler.load_state_dict(ckpt["kset"])
            except RuntimeError:
                raise TrajCVAEError(f"{path}: the K-set sampler's weights do not match its config") from None
            sampler.eval()
        made = cls(model, cfg, dict(ckpt.get("stats", {})), device, sampler, str(path))
        made.training_state = "optimizer" in ckpt  # a run's last.pt (`checkpoint.RESUME_KEYS`), not its best.pt
        return made

    # --- windows -> samples -------------------------------------------------------------------
    def sample(self, w: Windows | WindowTensors, k: int = 20, seed: int = 0, most_likely: bool = False,
               full: bool = False, batch_size: int = SAMPLE_BLOCK, kset: str = "none", draws: int = 1000,
               past: ScenePast | None = None) -> np.ndarray:
        """K futures per window in world coordinates: -> (N, K, P, 2).

        Each future is the mean of p(y|x,z) for z ~ p(z|x) (`CVAE.sample`); `full=True` draws y ~ p(y|x,z)
        instead. `most_likely` uses z = prior mean (K = 1). `kset`: "kmeans" or "learned" returns a K-set
        (`sample_kset`, without its weights). `past` (`scene_past`; `w` must be `Windows`): plain draws
        mapped to fit their scene's past (`calibrate.py`). Every batch draws z from a generator
        seeded with `seed`, so a window's futures do not depend on which other windows share its call or
        batch, up to float rounding (which `past`'s map can stretch to millimetres, docs/model.md); `full`
        draws' noise is drawn per block of `batch_size` windows, so it depends on a window's
        place in the call, never on the memory free."""
        return self._draw(w, k, seed, most_likely, full, batch_size, kset, draws, past)[0]

    def sample_kset(self, w: Windows | WindowTensors, k: int = 20, seed: int = 0, kset: str = "kmeans",
                    draws: int = 1000, batch_size: int = SAMPLE_BLOCK, past: ScenePast | None = None,
                    pools: list | None = None, futures: str = "mean") -> tuple[np.ndarray, np.ndarray | None]:
        """A K-set per window (`kset.py`): K futures (N, K, P, 2) in world coordinates and their weights
        (N, K), each future's share of `draws` plain draws (summing to 1 per window), heaviest first.
        "kmeans": the K cluster means of the draws; "learned": the checkpoint's K-set sampler; "none": K
        plain draws (`sample`, with `past` calibrated) and no weights (None); with futures="full", draws of
        the whole p(y|x), whose noise is the same for every window (as z's draws are), so that a window's
        futures depend on it and `seed` alone (`sample(full=True)` draws it per block). `pools` (with `past`): a list
        that gets, pass by pass, the windows' inputs to the draws (context and constant-velocity path,
        (B, H + 2P)) and the `calibrate.DRAWS` draws their maps read (B, S, P, 2): once a window's future
        is known, its truth's levels are read among those (`scene_past(drawn=)`) instead of drawn again."""
        check_futures(futures, kset)
        return self._draw(w, k, seed, False, futures == "full", batch_size, kset, draws, past, pools, per_window=True)

    @torch.inference_mode()
    def _draw(self, w, k, seed, most_likely, full, batch_size, kset, draws, past=None, pools=None, per_window=False):
        """`sample` and `sample_kset`; per_window: full draws' noise is the same for every window
        (`_window_noise`)."""
        k, seed, draws = check_sampling(k, seed, kset, draws, "none" if past is None else "scene")
        check_flags(most_likely=most_likely, full=full)
        _check_past(past, "scene")  # (sample's past fits its draws)
        if not isinstance(w, (Windows, WindowTensors)):
            raise TrajCVAEError(f"sample: expected windows (from model.make_windows(data)), got {type(w).__name__}; "
                                "model.predict takes files or a DataFrame")
        self._check_cut(w)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise TrajCVAEError(f"batch_size must be a whole number >= 1 (got {batch_size!r})")
        batch_size = int(batch_size)
        asked = "the most likely future" if most_likely else f"-k {k}"
        fewer = ["a smaller -k"] * (not most_likely) + ["fewer windows a call (windows.subset)"] * (not in_cli())
        check_fits(len(w) * (1 if most_likely else k) * self.config.data.pred_len * SAMPLE_ROW_BYTES,
                   f"{asked}: {len(w):,} window{'s' * (len(w) != 1)} of {plural(1 if most_likely else k, 'future')} "
                   f"need{'s' * (len(w) == 1)}",
                   f"use {', or '.join(fewer) or 'fewer windows'}")
        if kset != "none" and (most_likely or full):
            raise TrajCVAEError("a K-set is made of the decoder means of prior draws: no most_likely or full")
        self.check_kset(k, kset)
        fit = past is not None and not most_likely  # each batch's maps are looked up as it is drawn
        if fit and not isinstance(w, Windows):
            raise TrajCVAEError("past: a scene's past is looked up by each window's scene and t0; pass Windows")
        kind = "full" if full and not most_likely else "mean"  # of the futures drawn, and of the maps they need
        if fit and past.model is not None and past.model != self.weights_digest():  # another model's draws' levels
            raise TrajCVAEError("past: it was measured by another model, whose draws its levels are among: give this "
                                "model's scene_past(...)")
        if fit and past.futures != kind:
            named = {"mean": "mean paths", "full": "full draws"}
            raise TrajCVAEError(f"past: its levels are among {named[past.futures]}, and these futures are "
                                f"{named[kind]}: give scene_past(..., futures={kind!r})")
        pool = draws if kset != "none" else k
        decoded = _decoded(k, kset, draws, fit)
        batch_size = noise_block(k, kset, draws, fit, batch_size)
        # Full draws' noise is drawn for a block of `batch_size` windows at a time and a pass takes its slice, so
        # a pass shrunk to fit the free memory draws the same numbers as on a machine with more.
        option, asked = _asked_draws(k, kset, draws)
        per_pass = min(batch_size, self._windows_that_fit(decoded, option, asked))
        full = full and not most_likely
        wt = w if isinstance(w, WindowTensors) else WindowTensors.from_windows(w)
        out, weights = [], []
        for start, lo, hi in _passes(len(wt), batch_size, per_pass):
            if full and lo == start:
                noise = self._window_noise(seed, k) if per_window else \
                    self._full_noise(seed, k, min(batch_size, len(wt) - start))  # (N_block or 1, K, P, 2)
            idx = torch.arange(lo, hi)
            part = (noise if per_window else noise[lo - start:hi - start]) if full else None  # (B or 1, K, P, 2)
            b = make_batch(wt, idx, self.config.data, self.device, top_step=self.top_step)
            gen = torch.Generator().manual_seed(torch_seed(seed))
            if most_likely:
                y = self.model.most_likely(b)  # (B, 1, P, 2)
            elif kset == "learned":
                eps = torch.randn(self.model.z_dim, generator=gen).to(self.device)  # one draw for all K
                ctx = self.model.context(b)  # (B, H), for the K-set and the draws behind its weights
                y = self.sampler.futures(self.model, b, eps, ctx)  # (B, K, P, 2)
                # In the agent frame, as k-means: distances there do not depend on a window's rotation and scale.
                weights.append(nearest_shares(y, self.model.sample(b, pool, gen, ctx=ctx)).cpu())
            elif kset == "kmeans":
                y, share = kmeans_futures(self.model.sample(b, pool, gen), k)  # (B, K, P, 2)
                weights.append(share.cpu())
            elif fit:  # c + f (y - c) about the most likely future c, f per draw and step (calibrate.py)
                ctx = self.model.context(b)  # (B, H)
                c = self.model.most_likely(b, ctx)  # (B, 1, P, 2)
                y = self.model.sample(b, k, gen, full=full, ctx=ctx, noise=part)  # (B, K, P, 2)
                at = idx.numpy()
                q = torch.from_numpy(past.quantiles(w.scene[at], w.t0[at])).float().to(self.device)  # NaN: unfitted
                pool = self._pool(b.cv, ctx, seed, full)  # (B, S, P, 2), of the kind drawn
                if pools is not None:
                    pools.append((_pool_key(ctx, b.cv), pool))
                y = c + level_map(pool, c[:, 0], y, q)[..., None] * (y - c)  # (B, K, P, 2)
            else:
                y = self.model.sample(b, k, gen, full=full, noise=part)  # (B, K, P, 2)
            out.append(b.to_world(y).float().cpu())
        if not out:  # no windows
            P = self.config.data.pred_len
            return np.zeros((0, 1 if most_likely else k, P, 2)), (np.zeros((0, k)) if kset != "none" else None)
        samples = torch.cat(out).numpy().astype(np.float64)  # (N, K, P, 2) relative to each window's offset
        if wt.offset is not None:
            samples += wt.offset[:, None, None, :]  # in float64: georeferenced positions keep their mm
        if not weights:
            return samples, None
        # Shares of `pool` draws, exactly: counts / pool in float64, so an agent's weights sum to 1; the heaviest
        # future first (ties as made): sample 0 stands for the largest share in every table, answer and TrajNet++ file.
        share = np.round(torch.cat(weights).numpy().astype(np.float64) * pool) / pool
        order = np.argsort(-share, axis=1, kind="stable")  # (N, K)
        return np.take_along_axis(samples, order[..., None, None], 1), np.take_along_axis(share, order, 1)

    def _full_noise(self, seed: int, k: int, n: int) -> torch.Tensor:
        """The standard-normal noise of full draws for a block of n windows: what `CVAE.sample(full=True)`
        draws after z's from a generator seeded with `seed`.  -> (n, K, P, 2)"""
        gen = torch.Generator().manual_seed(torch_seed(seed))
        torch.randn(k, self.model.z_dim, generator=gen)  # z's draws come first
        return torch.randn(n, k, self.config.data.pred_len, 2, generator=gen)

    def _window_noise(self, seed: int, k: int) -> torch.Tensor:
        """The standard-normal noise of `sample_kset`'s full draws, the same for every window: a stream of its
        own, apart from z's (a 32-bit digest of -1 - seed: seeds are >= 0), so that the first K of -k 200 are
        those of -k K, as z's are (for a z_dim of 16s: torch draws normals 16 at a time, and redraws a tail of
        fewer; each future's noise is drawn 16s wide, so it is).  -> (1, K, P, 2)"""
        P = self.config.data.pred_len
        gen = torch.Generator().manual_seed(torch_seed(-1 - int(seed)))
        return torch.randn(k, -(-2 * P // 16) * 16, generator=gen)[:, :2 * P].reshape(1, k, P, 2)

    def scene_past(self, data: pd.DataFrame | Iterable[str | Path] | Windows, seed: int = 0,
                   batch: int = 256, drawn: list | None = None, futures: str = "mean", fps: float | None = None,
                   scale: float | str | Path | dict | None = None, homography: str | Path | None = None,
                   classes: Iterable[str] | None = None, columns: str | dict | None = None) -> ScenePast | None:
        """What `--calibrate scene` reads: for every window of `data` (`Windows` built with every_window, or
        the tracks, whose windows are made a piece at a time) whose future is known, its truth's level at
        every future step among `calibrate.DRAWS` draws of the kind `futures` names (`predict`'s: "mean"
        paths, or "full" draws of p(y|x); `calibrate.radial_levels`), with its scene and the time its future
        was known (`Windows.known_at`): the past that maps draws of that kind. None when no window is. A
        window's level depends on it and `seed` alone. `fps`, `scale`, `homography`, `classes`, `columns`: the
        input's rate, units, classes and column names, as `predict` reads it (see `read`; not for Windows).
        `drawn` (`Windows` only): per window, None or the (inputs, draws) it was predicted with
        (`sample_kset(pools=)`, same seed and kind); where its inputs now are the same, those draws are reused."""
        check_seed(_whole(seed, "--seed"))  # a seed it must have: levels depend on it
        check_count(batch, "batch")
        check_futures(futures)
        full = futures == "full"
        if drawn is not None and not (isinstance(data, Windows) and len(drawn) == len(data)):
            raise TrajCVAEError("scene_past: `drawn` needs Windows and one entry per window")
        reading = {"fps": fps, "scale": scale, "homography": homography, "classes": classes, "columns": columns}
        if isinstance(data, Windows):
            given = [name for name, value in reading.items() if value is not None]
            if given:
                raise TrajCVAEError(f"scene_past: {given[0]} is how files or a DataFrame are read; windows were read "
                                    "already (give it to make_windows)")
            self._check_cut(data)
            parts = [data]
        else:
            tracks = self.read(data, **reading)
            self.check_speeds(tracks)  # (once per table: a table judged already is not warned of again)
            parts = iter_windows(tracks, self.config.data, "windows")
        scene, done, levels = [], [], []
        for part in parts:
            if not len(part):
                continue
            if part.fut is None:
                raise TrajCVAEError("scene_past reads windows with their futures: make_windows(..., every_window=True)")
            wt = WindowTensors.from_windows(part)
            levels += [self._truth_levels(make_batch(wt, torch.arange(lo, min(lo + batch, len(wt))), self.config.data,
                                                     self.device, top_step=self.top_step),
                                          seed, full, drawn and drawn[lo:lo + batch])
                       for lo in range(0, len(wt), batch)]
            scene.append(part.scene)
            done.append(part.known_at())
        if not scene:
            return None
        return ScenePast(np.concatenate(scene), np.concatenate(done), np.concatenate(levels), futures,
                         self.weights_digest())

    def _check_cut(self, w: Windows | WindowTensors) -> None:
        """Refuse windows another model made (`Windows.cut`): cut at another step, horizon, neighbour slots or
        memory, their arrays would be read as this model's, and score or predict at exit 0 what they are not."""
        cut, ours = getattr(w, "cut", None), cut_by(self.config.data)
        if cut is None or cut == ours:
            return
        key = cut_difference(ours, cut)
        raise TrajCVAEError(f"windows: they were made by a model of data.{key}={cut.get(key)!r}, and this model's is "
                            f"{ours.get(key)!r}: make them with this model (model.make_windows(data))")

    @torch.inference_mode()
    def _truth_levels(self, b, seed: int, full: bool, drawn: list | None = None) -> np.ndarray:
        """The truth's level at every future step among the window's draws there (`_pool`'s, full draws of
        p(y|x) or mean paths; `calibrate.radial_levels`), in the agent frame, which levels do not see (they
        are distances in the draws' own metric). `drawn`: per window, None or the (inputs, draws) drawn for it
        before.  -> (B, P)"""
        ctx = self.model.context(b)  # (B, H)
        c = self.model.most_likely(b, ctx)[:, 0]  # (B, P, 2)
        # Draws made from the same inputs (context and constant-velocity path) are reused: the same noise
        # decoded from them again would give them back. The tolerance admits the rounding of another batch.
        key = _pool_key(ctx, b.cv)  # (B, H + 2P)
        same = torch.tensor([d is not None and torch.allclose(d[0], k, rtol=0, atol=1e-5)
                             for d, k in zip(drawn or [None] * len(key), key)], dtype=torch.bool)
        if not same.any():
            pool = self._pool(b.cv, ctx, seed, full)  # (B, S, P, 2)
        else:
            pool = torch.empty(len(ctx), DRAWS, *b.cv.shape[1:], device=ctx.device)
            pool[same] = torch.stack([d[1] for d, s in zip(drawn, same.tolist()) if s]).to(ctx.device)
            if not same.all():
                pool[~same] = self._pool(b.cv[~same], ctx[~same], seed, full)
        return radial_levels(pool, c, b.fut[:, None])[:, 0].double().cpu().numpy()

    def _pool(self, cv: torch.Tensor, ctx: torch.Tensor, seed: int, full: bool) -> torch.Tensor:
        """`calibrate.DRAWS` draws per window, in the agent frame: full draws of p(y|x), or (full=False)
        their mean paths, the decoder's means of the same z's. Every window gets the same standard-normal
        draws, from a generator seeded with `seed`, as in `CVAE.sample`, so a window's pool does not depend on
        the others of its batch.  -> (B, S, P, 2)"""
        gen = torch.Generator().manual_seed(torch_seed(seed))
        eps = torch.randn(DRAWS, self.model.z_dim, generator=gen).to(self.device)  # (S, Z)
        p = self.model.prior(ctx).base_dist
        y = self.model.decode(ctx, p.loc.unsqueeze(1) + p.scale.unsqueeze(1) * eps, cv).base_dist  # (B, S, P, 2)
        if not full:
            return y.loc
        noise = torch.randn(DRAWS, self.config.data.pred_len, 2, generator=gen).to(self.device)  # (S, P, 2)
        return y.loc + y.scale * noise

    def check_kset(self, k: int, kset: str) -> None:
        """--kset learned needs this model's sampler, at its K: refused in one line otherwise."""
        if kset != "learned":
            return
        if self.sampler is None and self.config.kset.epochs > 0 and self.training_state:  # a run's last.pt
            raise TrajCVAEError(f"--kset learned: {self.source} is a run's training state (last.pt), which has no "
                                "learned K-set sampler: the run trains it into its best.pt; give that (or use "
                                "--kset kmeans)")
        if self.sampler is None and self.config.kset.epochs > 0:  # a run stopped in its second stage, or left it
            raise TrajCVAEError(f"--kset learned: {self.source} has no learned K-set sampler yet: its run stopped "
                                "before training it, or was a benchmark's of --draws 0; `trajcvae train ... "
                                "--resume` on the run (or the benchmark run again with --draws) trains it (or use "
                                "--kset kmeans)")
        if self.sampler is None:
            raise TrajCVAEError(f"--kset learned: {self.source} has no learned K-set sampler (trained before "
                                "trajcvae 0.3, or with kset.epochs = 0); use --kset kmeans")
        if k != self.sampler.k:
            raise TrajCVAEError(f"--kset learned: the sampler of {self.source} makes {self.sampler.k} futures; "
                                f"use -k {self.sampler.k}, or --kset kmeans for -k {k}")

    def check_draws_fit(self, k: int, kset: str = "none", draws: int = 1000) -> None:
        """Refuses, before any work, a -k (or a K-set's --draws) whose futures for one window do not fit in
        memory (`_windows_that_fit`), naming the option."""
        option, asked = _asked_draws(int(k), kset, int(draws))  # (numpy's uint8 200 times a size would wrap)
        self._windows_that_fit(asked, option)

    def _windows_that_fit(self, draws: int, option: str = "-k", given: int | None = None) -> int:
        """Windows per forward pass that fit in a quarter of the free memory, `draws` futures decoded per window;
        refuses a K (or `option`'s number, `given` where not `draws` itself: draws for a K-set or a scene fit
        come on top of K) that does not fit for a single window before anything is allocated."""
        free, need = check_draws_for_one(draws, self.config, option, given)
        return max(1, int((free if free is not None else 2 ** 32) / 4 // need))

    # --- tracks -> table ----------------------------------------------------------------------
    def read(self, data: pd.DataFrame | Iterable[str | Path], fps: float | None = None,
             scale: float | str | Path | dict | None = None,
             homography: str | Path | None = None, classes: str | Iterable[str] | None = None,
             columns: str | dict | None = None, *, replayed: bool = False) -> pd.DataFrame:
        """The track table of `data` (files, or a DataFrame), positions in metres. Frame ids are `fps` per
        second (default: a format's own rate, else the rate of the model's own training files, `data.fps`,
        where it had one; a time column in seconds needs none, and with one its stamps are read on that rate's
        grid, `tracks.on_grid`);
        `scale`, `homography`, `classes`, `columns`: see `tracks.read_tracks`. `replayed`: the caller makes
        frame ids of no known rate seconds, and bridges their gaps in seconds (`serve --replay`), so a
        `max_gap` given is not refused for them, nor a frame id off the grid of the others (`checks.check_grid`)."""
        # Read already: `read_tracks`' attributes stay with the table (and a part or copy of it) as pandas keeps them.
        if is_read(data):
            if data.attrs["time_base"] == "steps" and self.config.data.fps is not None:  # as files would be read
                raise TrajCVAEError(f"the data is a track table read without a rate (read_tracks), whose frame ids "
                                    f"this model would read at its training rate, {self.config.data.fps:g} a second: "
                                    f"give read_tracks(..., fps={self.config.data.fps:g}), or the files")
            return read_already(data, fps=fps, scale=scale, homography=homography, classes=classes, columns=columns)
        trained = self.config.data.columns
        try:
            tracks = read_tracks(data, fps=fps, scale=scale, homography=homography, classes=classes,
                                 default_fps=self.config.data.fps, columns=columns)
        except DataError as e:  # a file of the training files' layout, read without their --columns
            if columns is None and trained is not None and "missing column(s)" in str(e):
                raise DataError(f"{e} (the model was trained on files read with --columns {trained}: give it if "
                                "these are in that layout)") from None
            raise
        if self.max_gap_given and tracks.attrs["time_base"] == "steps" and not replayed:
            raise gap_without_rate(self.config.data.max_gap)
        if not replayed:  # (a replay's frame ids become seconds, which the live predictor resamples)
            check_grid(tracks, self.config.data.time_step)
        interval, dc = sampling_interval(tracks), self.config.data
        if interval is not None and not bridges(interval, dc.max_gap) and not far_apart(interval, dc.dt):
            # Every move would be a gap: histories on the model's grid would still be read where samples fall
            # on it, but no future could be, so `predict` and `evaluate` would disagree on the same data.
            # (Samples far apart are left to the no-window error, which asks about the time unit.)
            if self.max_gap_given:
                raise DataError(f"--max-gap {dc.max_gap:g}: shorter than the {interval:.3g} s between the tracks' "
                                f"samples (median), so every sample would start a new track; give --max-gap "
                                f"{bridging_gap(interval):g} or more")
            if not bridges_any(tracks, dc.max_gap):  # (agents sampled closer, among others, are predicted)
                raise no_windows_error(dc, "read", tracks)  # which asks about the rate first, then names --max-gap
        return tracks

    def check_speeds(self, tracks: pd.DataFrame, log: Callable[[str], None] | None = None,
                     jumps: bool = True, live: bool = False) -> str | None:
        """The warning line of a table from `read` whose speeds (or units, or rate) look wrong for this model
        (`checks.plausibility`, judged against the speeds it was trained on: its checkpoint's
        `speed_record`, or people walking for a checkpoint without one); None when all is well. It is given
        once per table: to `log`, or without one as a `TrajCVAEWarning` (so the Python API warns as the CLI
        does). The predictor remembers it for as long as that very table lives (not a table derived from
        it, nor another table at a freed one's address). `jumps`: False leaves tracks that jump unjudged
        (`checks.track_jumps`: `OnlinePredictor` judges them update by update); `live`: see `units_warning`."""
        judged = self._speeds_said.get(id(tracks)) if jumps else None  # a verdict without jumps is not kept
        if judged is not None and judged[0]() is tracks and judged[1] == _digest(tracks):  # (not edited since)
            return judged[2] or None
        dc = self.config.data
        speeds = plausibility(tracks, dc.dt, self.stats.get("speeds"), max_gap=dc.max_gap, jumps=jumps,
                              time_step=dc.time_step, noise=dc.noise)
        said = "\n".join(line for line in (self.units_warning(tracks, live), speeds) if line)
        if jumps:
            self._remember_speeds(tracks, said)
        for line in said.splitlines():  # a scene outside the band, then the other scenes' jumps
            log(line) if log is not None else warn(line)
        return said or None

    def units_warning(self, tracks: pd.DataFrame, live: bool = False) -> str | None:
        """The warning lines for tracks read without the conversion or the classes the model was trained with
        (a checkpoint keeps them, but a file's units are the file's to say: `read` does not reuse them), one
        a line, or None. Feet read as metres are only 3.3 times too fast, within the speeds a model knows.
        `live` (detections posted as agent_id, x, y rows): no columns to name there, and classes are picked by
        posting them."""
        dc, units, lines = self.config.data, tracks.attrs.get("units") or {}, []
        if dc.scale is not None and dc.scale != 1 and not units:  # --scale 1: metres, as read
            scale = dc.scale if isinstance(dc.scale, str) else f"{dc.scale:g}"  # a number, or a file of scales
            fix = f"if they are in the model's units, give --scale {scale}"
            if isinstance(dc.scale, str) and not self._scales_name(dc.scale, tracks):  # each trained scene's own
                fix = "if they are in other units (pixels), give their --scale (a number, or a file of each scene's)"
            lines.append(f"warning: the model was trained on positions converted with --scale {scale} "
                         f"(data.scale), but these are read as metres: {fix}")
        if dc.homography is not None and not units:
            lines.append(f"warning: the model was trained on pixels through a homography (data.homography "
                         f"{Path(dc.homography).name}), but these positions are read as metres: if they are that "
                         "camera's pixels, give --homography")
        if dc.columns is not None and not tracks.attrs.get("columns") and not live and not _read_so(dc.columns):
            lines.append(f"warning: the model was trained on files read with --columns {dc.columns} (data.columns), "
                         f"but these are read by their own column names: if they are in that layout, give "
                         f"--columns {dc.columns}")
        if dc.classes is not None:  # labels of any case, under any of the names a file may give them
            trained = {c.strip().lower() for c in dc.classes.split(",")}
            found = {v for c in AGENT_COLUMNS if c in tracks for v in tracks[c].astype(str).str.strip().unique()}
            others = sorted(v for v in found - {"", "nan", "None"} if v.lower() not in trained)
            shown = f"{', '.join(others[:3])}{' ...' if len(others) > 3 else ''}"
            if others and not any(v.lower() in trained for v in found):  # (--classes kept other classes alone)
                lines.append(f"warning: the model was trained on agents labelled {dc.classes} (data.classes), and "
                             f"these tracks hold none of them ({shown}): their futures move as its classes did; "
                             "train a model on theirs")
            elif others:
                fix = "post those of its classes only" if live else \
                    f"give --classes {dc.classes} to predict for those only"
                lines.append(f"warning: the model was trained on agents labelled {dc.classes} (data.classes), and "
                             f"these tracks also hold {shown}: {fix}")
        return "\n".join(map(one_line, lines)) or None

    @staticmethod
    def _scales_name(path: str, tracks: pd.DataFrame) -> bool:
        """Whether the file of scales per scene at `path` names a scene of `tracks` (one it cannot be read as
        naming none)."""
        try:
            return bool(set(scene_scales(path)["scales"]) & set(map(str, tracks["scene"].unique())))
        except (DataError, OSError):
            return False

    def speeds_judged(self, tracks: pd.DataFrame) -> pd.DataFrame:
        """`tracks`, marked as judged by `check_speeds` with no warning: for a caller that judges them itself
        (`OnlinePredictor` judges its history once, not every prediction's table)."""
        self._remember_speeds(tracks, "")
        return tracks

    def _remember_speeds(self, tracks: pd.DataFrame, said: str) -> None:
        key = id(tracks)  # forgotten when the table is freed, before another can take its id
        self._speeds_said[key] = (weakref.ref(tracks, lambda _, key=key: self._speeds_said.pop(key, None)),
                                  _digest(tracks), said)

    def make_windows(self, data: pd.DataFrame | Iterable[str | Path], every_window: bool = False,
                     fps: float | None = None, since: float | None = None,
                     scale: float | str | Path | dict | None = None,
                     homography: str | Path | None = None, classes: Iterable[str] | None = None,
                     columns: str | dict | None = None) -> Windows:
        """The windows `predict` samples: each agent's latest (with `since`, of the agents last seen at or
        after that time), or with `every_window` every full one; in metres, whatever the input's units
        (`fps`, `scale`, `homography`, `classes`, `columns`: see `read`)."""
        check_flags(every_window=every_window)
        check_since(since, every_window)
        tracks = self.read(data, fps, scale, homography, classes, columns)
        self.check_speeds(tracks)
        if not every_window and (note := scene_records_warning(tracks)):
            warn(note)
        w = build_windows(tracks, self.config.data, mode="windows" if every_window else "latest", since=since)
        w.cut = cut_by(self.config.data)
        return w

    @names_its_data
    def predict(self, data: pd.DataFrame | Iterable[str | Path], k: int = 20, seed: int = 0,
                every_window: bool = False, kset: str = "none", draws: int = 1000, fps: float | None = None,
                scale: float | str | Path | dict | None = None, homography: str | Path | None = None,
                classes: Iterable[str] | None = None, since: float | None = None,
                calibrate: str = "none", past: ScenePast | None = None,
                columns: str | dict | None = None, primary: bool = False, futures: str = "mean") -> pd.DataFrame:
        """K futures per agent as a long table (see `OUTPUT_COLUMNS`), in the input's time base and units.

        data: a DataFrame with `frame` (or `time` in seconds), `agent_id, x, y` (or `lon, lat` in degrees;
        and optionally `scene`), or paths of files. every_window=False: one forecast per agent from its
        latest observation (with `since`, only for the agents last seen at or after that time, in the
        input's time base). True: one for every (agent, t0) whose obs_len observed and pred_len future steps
        are present (evaluation mode). seed: the draws' (the same seed, the same futures). kset: "kmeans" or
        "learned" adds a `weight` column (`sample_kset`;
        `draws` plain draws behind each K-set). calibrate="scene": plain draws mapped to fit how the model has
        done on each scene of `data` so far (`calibrate.py`; it predicts every finished window of `data`
        first, unless `past`, a past measured already (`scene_past`, of the same kind of futures, with the
        input read as here; `OnlinePredictor` keeps its own), is given). fps, scale, homography, columns: the
        input's rate, units and column names (see `read`).
        primary: for TrajNet++ input, one forecast per scene record instead, of its primary pedestrian from the
        scene's last observed frame (`scene_records`), with the record's `scene_id` column. futures: "mean",
        each future the mean path of p(y|x,z) for one z ~ p(z|x) (smooth: what best-of-K scores), or "full", a
        draw of the whole p(y|x), the decoder's noise at every step added (jagged, spread as the distribution
        whose calibration `evaluate` measures; with calibrate="scene", as the scene's fit is made).
        """
        out, said = self._predict_table(data, k, seed, every_window, kset, draws, fps, scale, homography, classes,
                                        since=since, calibrate=calibrate, past=past, columns=columns,
                                        primary=primary, futures=futures)
        for line in said:
            warn(line)
        return out

    def _predict_table(self, data, k: int, seed: int, every_window: bool = False, kset: str = "none",
                       draws: int = 1000, fps=None, scale=None, homography=None, classes=None, since=None,
                       calibrate: str = "none", past: ScenePast | None = None,
                       columns=None, primary: bool = False, futures: str = "mean",
                       cut: list | None = None, far: list | None = None) -> tuple[pd.DataFrame, list[str]]:
        """`predict`'s table and its warning lines: windows whose scene had too little past to calibrate on
        (in `past`, given or measured here), whose histories are cut (their agents' ids added to `cut`), whose
        futures overshoot (added to `far`), and future points past a homography's horizon."""
        k, seed, draws = check_sampling(k, seed, kset, draws, calibrate, futures)
        check_flags(every_window=every_window, primary=primary)
        check_primary(primary, every_window, since)
        _check_past(past, calibrate)
        tracks = self.read(data, fps, scale, homography, classes, columns)
        w, of = self.primary_windows(tracks) if primary else (self.make_windows(tracks, every_window, since=since),
                                                               None)
        rows = len(w) * k * self.config.data.pred_len
        check_fits(rows * TABLE_ROW_BYTES, f"k {k}: a table of {rows:,} rows ({len(w)} windows) needs",
                    "use a smaller k, or trajcvae.predict.predict_to_file (as `trajcvae predict`), which writes "
                    "a piece at a time")
        said = []
        if calibrate == "none":
            past = None
        else:
            if past is None:
                past = self.scene_past(w if every_window else tracks, seed, futures=futures)
            n_unfitted = int(unfitted(past, w.scene, w.t0).sum())
            if n_unfitted:
                said.append(too_little_past(n_unfitted, len(w), self.config.data.obs_len, self.config.data.pred_len))
        if primary and w.skipped:  # the CLI says it as a note (`predict_to_file` counts them)
            said.append(f"warning: {unpredicted_records(w.skipped)}")
        elif (w.skipped or every_window) and (unbridged := unbridged_warning(tracks, self.config.data.max_gap)):
            said.append(unbridged)
        if (short := cut_windows(w, self)).any():
            said.append(cut_warning(int(short.sum()), len(w), window_names(w, short), noise=self.config.data.noise))
            if cut is not None:
                cut.extend(np.asarray(w.agent_id)[short].tolist())
        samples, weights = self.sample_kset(w, k=k, seed=seed, kset=kset, draws=draws, past=past, futures=futures)
        if (over := overshot(w, samples, self)).any():
            said.append(overshoot_warning(int(over.sum()), len(w), window_names(w, over)))
            if far is not None:
                far.extend(np.asarray(w.agent_id)[over].tolist())
        units = tracks.attrs.get("units")
        uv = from_metres(samples, units, w.scene)
        hidden = past_horizon(uv)
        if hidden:
            said.append(horizon_warning(hidden, uv[..., 0].size))
        extra = ({"scene_id": tracks.attrs["scene_records"]["scene_id"][of]} if primary else {}) | \
            agent_values(agent_table(tracks), w)
        return samples_to_frame(w, uv, time_column=time_column(tracks), extra=extra, weights=weights,
                                position=position_columns(units)), said

    def primary_windows(self, tracks: pd.DataFrame, full: bool = False) -> tuple[Windows, np.ndarray]:
        """One window per TrajNet++ scene record (`tracks.attrs["scene_records"]`, a table of `read`), in the
        records' order: its primary pedestrian's at the scene's last observed frame (`windows.windows_at`),
        and the records' positions in that table. Records whose primary is not observed there with a velocity
        are counted in `skipped`; a file of the input with no scene records is warned of (its agents are not
        predicted). full: the primaries' full windows instead (`every_window`'s, with their futures: what
        `evaluate` scores), where the input holds the future; records without one are counted in `skipped`."""
        records = tracks.attrs.get("scene_records")
        if records is None:
            files = list(map(str, tracks["_file"].cat.categories))
            named = files[0] + (f" and {len(files) - 1} more" if len(files) > 1 else "")
            instead = "every full window is scored" if full else "its agents are predicted from their latest positions"
            raise DataError(f"--primary: {named} holds no TrajNet++ scene records (`scene` lines naming a primary "
                            f"pedestrian); without --primary {instead}")
        key = pd.Series([f"{f}\0{i}" for f, i in zip(records["_file"], records["scene_id"])])
        if key.duplicated().any():  # TrajNet++'s tools keep one scene per id (its evaluator, the last)
            i = int(np.argmax(key.duplicated().to_numpy()))
            raise DataError(f"--primary: {records['_file'][i]}: scene id {records['scene_id'][i]} is given to two "
                            "scene records, and TrajNet++ reads one scene per id: keep one")
        self.check_speeds(tracks)
        without = sorted(set(map(str, tracks["_file"].cat.categories)) - set(records["_file"]))
        if without:
            which = f"{without[0]} and {len(without) - 1} more hold" if len(without) > 1 else f"{without[0]} holds"
            whose = "their" if len(without) > 1 else "its"
            done = "scored" if full else "predicted"
            warn(f"warning: --primary: {which} no TrajNet++ scene records, so none of {whose} agents is {done}")
        dc, n = self.config.data, len(records["scene_id"])
        wanted = window_key(records["scene"], records["agent_id"], records["t0"])
        primaries = f"none of the {n} scene records' primary pedestrians" if n != 1 else \
            "the scene record's primary pedestrian"
        if full:
            unscored = NoWindowsError(f"--primary: {primaries} {'has' if n != 1 else 'lacks'} its {dc.obs_len} "
                                      f"observed and {dc.pred_len} future samples in the input (a TrajNet++ test file "
                                      "holds no futures: score its test_private file, which does)")
            try:  # in a resampled scene, only the primaries' (as they are among all)
                w = build_windows(tracks, dc, mode="windows", only=wanted)
            except NoWindowsError:
                raise unscored from None
        else:
            w = windows_at(tracks, dc, records)
        found = pd.Series(np.arange(len(w)), index=window_key(w.scene, w.agent_id, w.t0))
        at = found[~found.index.duplicated()].reindex(wanted).to_numpy()
        ok = ~np.isnan(at)
        if not ok.any() and full:
            raise unscored
        if not ok.any():
            raise NoWindowsError(f"--primary: {primaries} is {'not ' * (n == 1)}observed at its scene's last observed "
                                 "frame (its start + 8 samples) with a position before it")
        w = w.subset(at[ok].astype(np.int64))  # two records of one primary at one time: one window each
        w.skipped, w.cut = int(np.sum(~ok)), cut_by(dc)
        return w, np.flatnonzero(ok)


def _read_so(columns: str) -> bool:
    """Whether a file of the layout `columns` (--columns) names is read the same without it: every column it
    names is one its role reads by name anyway (agent_id=track_id, time=t, lon=lng with lat=latitude)."""
    named = column_map(columns)
    read = dict(zip(named, column_aliases(list(named.values()))[0]))
    same = {"time": "frame", "lon": "x", "lat": "y"}
    clock = {"frame": lambda c: c not in TIME_NAMES, "time": lambda c: c in TIME_NAMES}  # frame ids, or seconds
    return all(read[role] == same.get(role, role) and clock.get(role, bool)(named[role]) for role in named)


def _asked_draws(k: int, kset: str, draws: int) -> tuple[str, int]:
    """The option that says how many futures are drawn per window, and its number: a K-set's --draws, else -k."""
    return ("--draws", draws) if kset != "none" else ("-k", k)


def draw_bytes(config: Config) -> int:
    """Rough memory of one future while a model of `config` draws it: the decoder's activations and the outputs."""
    hidden, P = config.model.hidden, config.data.pred_len
    return 4 * (3 * 2 * hidden + 8 * P * 2)


def check_draws_for_one(draws: int, config: Config, option: str = "-k", given: int | None = None
                        ) -> tuple[int | None, int]:
    """Refuses `draws` futures for one window that do not fit in half the free memory, before anything is
    allocated, naming `option` and its number (`given`, where not `draws` itself); -> (the free memory, None where
    unknown, and the bytes the draws need)."""
    free, need = free_memory(), draws * draw_bytes(config)
    if free is not None and need > free / 2:
        raise TrajCVAEError(f"{option} {draws if given is None else given}: drawing that many futures for an agent "
                            f"needs {over_half(need, free)}; use a smaller {option}")
    return free, need


TABLE_ROW_BYTES = 100  # memory of one row of a table of futures while it is built (columns, ids, copies)
SAMPLE_ROW_BYTES = 32  # memory of one (x, y) of `sample`'s array: float32 passes, their join, the float64 copy


def check_fits(need: int, what: str, fix: str) -> None:
    """Refuse, before it is drawn rather than killed midway, a result of `need` bytes over half the free
    memory: '`what` about N GiB, more than half of the M GiB free; `fix`'."""
    free = free_memory()
    if free is not None and need > free / 2:
        raise TrajCVAEError(f"{what} {over_half(need, free)}; {fix}")


def _digest(tracks: pd.DataFrame) -> bytes:
    """A digest of a track table's scenes, agents, times and positions: a table edited in place since it was
    judged (positions made centimetres, two agents' ids made one) is judged again."""
    h = hashlib.blake2b(digest_size=16)
    for c in ("scene", "agent_id", "frame", "x", "y"):
        values = tracks[c].cat.codes.to_numpy() if isinstance(tracks[c].dtype, pd.CategoricalDtype) else \
            tracks[c].to_numpy()
        h.update(pd.util.hash_array(values).tobytes() if values.dtype == object else
                 np.ascontiguousarray(values).tobytes())
    return h.digest()


def over_half(need: float, free: float) -> str:
    """A need of more than half the free memory (the most one result may take), in words: 'about 10.7 GiB,
    more than half of the 20.1 GiB free' (MiB below a GiB)."""
    size = lambda n: f"{n / 2 ** 30:.1f} GiB" if n >= 2 ** 30 else f"{n / 2 ** 20:.1f} MiB"  # noqa: E731
    of = "of memory" if isinstance(free, AllMemory) else "free"  # (macOS: all of it, not what is free)
    return f"about {size(need)}, more than half of the {size(free)} {of}"


def _check_past(past, calibrate: str) -> None:
    """`past`, where given, is a `ScenePast`, and is read: `predict` fits draws to it only with calibrate="scene"."""
    if past is not None and not isinstance(past, ScenePast):
        raise TrajCVAEError(f"past: expected a scene's past (from model.scene_past), got {type(past).__name__}")
    if past is not None and calibrate == "none":
        raise TrajCVAEError("past: draws are fitted to a scene's past with --calibrate scene; give it, or no past")


@dataclass
class PredictResult:
    n_windows: int  # windows predicted (agents, in latest-frame mode)
    skipped: int  # agents with a single position at their latest frame (not predicted)
    rows: int  # rows written
    tracks: TrackSummary  # what was read


@names_its_data
@keyword_names(OWN_GAP_AND_NOISE)
def predict_to_file(model: "str | Path | TrajCVAE", data: pd.DataFrame | Iterable[str | Path], out: str | Path,
                    k: int = 20, seed: int = 0, every_window: bool = False, device: str = "cpu",
                    log: Callable[[str], None] | None = None, chunk: int | None = None,
                    kset: str = "none", draws: int = 1000, fps: float | None = None,
                    scale: float | str | Path | dict | None = None,
                    homography: str | Path | None = None, classes: Iterable[str] | None = None,
                    calibrate: str = "none", max_gap: float | None = None,
                    columns: str | dict | None = None, primary: bool = False, futures: str = "mean",
                    noise: float | str | None = None) -> PredictResult:
    """Predict K futures for `data` with `model` (a checkpoint, a built-in model's name or a loaded `TrajCVAE`)
    and write the table to `out`, in the input's time base and units (`fps`, `scale`, `homography`, `columns`:
    see `TrajCVAE.read`).

    Streams: windows are made, sampled and written `chunk` at a time (default: about a million output rows
    a piece) and a scene at a time, so memory stays bounded however big the input and K; `out` appears
    only once complete. `log` gets the data summary and the speed warning, if any (without `log`, it is a
    `TrajCVAEWarning`). `kset`, `draws`, `calibrate`, `futures`: see `TrajCVAE.predict`
    (calibrate="scene" first predicts every finished window of the input, a piece at a time); `max_gap`, `noise`:
    see `TrajCVAE.load`. With `primary`, an `out` ending in .ndjson gets TrajNet++ prediction records
    (`formats.trajnet_predictions`) instead of a table."""
    k, seed, draws = check_sampling(k, seed, kset, draws, calibrate, futures)  # before any file is read or written
    check_log(log)
    if chunk is not None:
        check_count(chunk, "chunk")
    check_flags(every_window=every_window, primary=primary)
    check_primary(primary, every_window)
    column_map(columns)
    trajnet = check_trajnet_output(out, primary)  # TrajNet++ prediction records rather than a table
    # (.ndjson is named where it can be written: with --primary)
    check_output(out, table=TABLE_SUFFIXES + (TRAJNET_SUFFIX,) * primary, inputs=read_paths(model, data, homography,
                                                                                          scale))
    predictor = TrajCVAE.given(model, device, max_gap, noise)
    dc = predictor.config.data
    predictor.check_kset(k, kset)
    predictor.check_draws_fit(k, kset, draws)  # refused before any work
    # Output rows cost ~100 bytes each while a piece is built: keep a piece within a quarter of free memory.
    rows_per_window = k * dc.pred_len
    fits = (free_memory() or 2 ** 32) // 4 // (TABLE_ROW_BYTES * rows_per_window)
    if fits < 1:
        raise TrajCVAEError(f"-k {k}: the output for one agent alone would not fit in memory; use a smaller -k")
    chunk = chunk or int(min(max(64, 1_000_000 // rows_per_window), fits))
    tracks = predictor.read(data, fps, scale, homography, classes, columns)
    summary = summarize(tracks, dc.time_step, dc.max_gap)
    if log is not None:
        log(summary.line())
    predictor.check_speeds(tracks, log)
    mode = "windows" if every_window else "latest"
    if mode == "latest" and not primary and (note := scene_records_warning(tracks)):
        (log or warn)(note)
    batch = max(16, 81_920 // k)  # windows per forward pass: activations grow with windows x K
    if seconds_per_unit(tracks) is None:
        steps = np.array(list(time_steps(tracks, dc.time_step).step.values()))
    else:  # resampled onto the model's step: dt seconds, in the input's units
        steps = np.array([dc.dt / seconds_per_unit(tracks)])
    whole = time_column(tracks) == "frame" and bool(np.all(tracks["frame"].to_numpy() % 1 == 0))  # t0 as read
    integral = (whole, whole and bool(np.all(np.abs(steps - np.round(steps)) < 1e-9)))  # t0, the futures' frames
    scenes = sorted(str(s) for s in pd.unique(tracks["scene"]))
    units, column, labels = tracks.attrs.get("units"), time_column(tracks), agent_table(tracks)
    past = None if calibrate == "none" else predictor.scene_past(tracks, seed, futures=futures)
    n_unfitted = 0  # with --calibrate scene: agents whose scene had too little past to fit their draws
    n = skipped = hidden = 0  # hidden: future points past a homography's horizon (no pixel)
    cut, far = Picked(), Picked()  # windows whose histories are cut (`checks.cut_short`), whose futures overshoot
    decimals = dict.fromkeys(position_columns(units), output_decimals(units))  # the rest: 4 decimals
    times = time_decimals(tracks["frame"].to_numpy(), steps)  # times as read, so that t0 names the observation
    decimals.update({c: times for c, whole_numbers in zip(("t0", column), integral) if not whole_numbers})
    records = tracks.attrs.get("scene_records")
    with TableWriter(out, exact=("weight",), column_decimals=decimals) as writer:
        pending: list[tuple[Windows, np.ndarray | None]] = []  # with --primary, its records' positions

        def flush() -> None:
            nonlocal n_unfitted, hidden
            w = concat_windows([part for part, _ in pending], mode)
            of = np.concatenate([of for _, of in pending]) if primary else None  # each window's scene record
            pending.clear()
            cut.add(w, cut_windows(w, predictor))
            samples, weights = predictor.sample_kset(w, k=k, seed=seed, kset=kset, draws=draws, batch_size=batch,
                                                     past=past, futures=futures)
            far.add(w, overshot(w, samples, predictor))
            if calibrate != "none":
                n_unfitted += int(unfitted(past, w.scene, w.t0).sum())
            uv = from_metres(samples, units, w.scene)
            hidden += past_horizon(uv)
            if trajnet:
                _write_trajnet(writer, records["record"][of], w, uv, decimals[position_columns(units)[0]])
                return
            extra = ({"scene_id": records["scene_id"][of]} if primary else {}) | agent_values(labels, w)
            writer.write(samples_to_frame(w, uv, scenes, integral, column, extra, weights, position_columns(units)))

        pieces = [_primary_windows(predictor, tracks, out if trajnet else None)] if primary else \
            ((part, None) for part in iter_windows(tracks, dc, mode, chunk=chunk))
        for part, ids in pieces:
            skipped += part.skipped
            if len(part):
                pending.append((part, ids))
                n += len(part)
                if sum(len(p) for p, _ in pending) >= chunk:
                    flush()
        if pending:
            flush()
        if n == 0:
            raise no_windows_error(dc, mode, tracks)
    said = log if log is not None else warn  # the Python API warns as the CLI does
    if (skipped or mode == "windows") and (unbridged := unbridged_warning(tracks, dc.max_gap)):
        said(unbridged)
    if n_unfitted:
        said(too_little_past(n_unfitted, n, dc.obs_len, dc.pred_len))
    if hidden:
        said(horizon_warning(hidden, writer.rows))
    if cut.n:
        said(cut_warning(cut.n, n, cut.names, noise=dc.noise))
    if far.n:
        said(overshoot_warning(far.n, n, far.names))
    return PredictResult(n, skipped, writer.rows, summary)


def _primary_windows(predictor: TrajCVAE, tracks: pd.DataFrame, trajnet: str | Path | None = None):
    """`TrajCVAE.primary_windows`; for TrajNet++ prediction records written to `trajnet`, checked first: they
    answer one test file, every record of it (an evaluator pairs its scenes with the test file's in order), at
    the frames of its samples (the model's steps must be those)."""
    w, of = predictor.primary_windows(tracks)
    if trajnet is None:
        return w, of
    files = list(map(str, tracks["_file"].cat.categories))
    if len(files) > 1:
        raise DataError(f"--out {trajnet}: a TrajNet++ prediction file answers one test file, and {len(files)} were "
                        f"read ({files[0]}, {files[1]}{' ...' if len(files) > 2 else ''}): predict each to its own "
                        ".ndjson")
    records = tracks.attrs["scene_records"]
    if w.skipped:
        were = "is" if w.skipped == 1 else "are"
        raise DataError(f"--out {trajnet}: {w.skipped} of the {len(records['scene_id'])} scene records' primary "
                        f"pedestrians {were} not observed at their scene's last observed frame with a position before "
                        f"it (the first: scene {unwindowed_scene(tracks, of)}), and a TrajNet++ prediction file needs "
                        "a forecast for each; write a .csv to predict the others")
    beside = beside_samples(predictor, tracks, w, of)
    if beside:
        raise DataError(f"--out {trajnet}: {beside}: its forecasts would not be the samples TrajNet++ scores; "
                        "write a .csv")
    return w, of


def beside_samples(predictor: TrajCVAE, tracks: pd.DataFrame, w: Windows, of: np.ndarray) -> str | None:
    """How the primaries' windows `w` (of the scene records at `of`) step apart from their scenes' samples, or
    None where they step as the samples do. TrajNet++ scores the scene's 12 samples after its 9th, so the model's
    steps must be its samples, and 12 of them."""
    sample = tracks.attrs["scene_records"]["step"][of]
    off = ~np.isclose(w.step, sample, rtol=1e-9, atol=0)
    dt, pred_len, rate = predictor.config.data.dt, predictor.config.data.pred_len, tracks.attrs.get("fps")
    if off.any():
        i = int(np.argmax(off))
        seconds = f" ({sample[i] / rate:g} s at {rate:g} frame ids a second)" if rate else ""
        return (f"the scenes' samples are {sample[i]:g} frame ids apart{seconds}, and the model's {dt:g} s steps are "
                f"{w.step[i]:g}")
    if pred_len != TRAJNET_PREDICTED:
        return f"TrajNet++ scores the {TRAJNET_PREDICTED} samples after each scene's 9th, and the model predicts " \
            f"{pred_len}"
    return None


def unwindowed_scene(tracks: pd.DataFrame, of: np.ndarray):
    """The scene id of the first TrajNet++ scene record that `primary_windows` gave no window (`of`: the
    positions of those it did)."""
    ids = tracks.attrs["scene_records"]["scene_id"]
    return ids[np.setdiff1d(np.arange(len(ids)), of)[0]]


def _write_trajnet(writer: TableWriter, records: np.ndarray, w: Windows, uv: np.ndarray, decimals: int) -> None:
    """One piece of TrajNet++ prediction records (`formats.trajnet_predictions`), a K-set's futures heaviest first
    as `sample_kset` gives them: TrajNet++ scores prediction 0 alone as its single guess, the first three as its
    top 3."""
    if not np.isfinite(uv).all():
        raise DataError(f"--out {writer.path}: future points fall past the homography's horizon, where no pixel "
                        "shows them, and a TrajNet++ record needs a position; write a .csv")
    frames = w.t0[:, None] + np.arange(1, uv.shape[2] + 1) * w.step[:, None]  # (N, P)
    if not np.allclose(frames, np.round(frames), rtol=0, atol=1e-6):  # frame ids of a fraction: rounded, wrong
        odd = frames[np.abs(frames - np.round(frames)) > 1e-6][0]
        raise DataError(f"--out {writer.path}: the futures' frame ids are not whole numbers ({odd:.6g}), and a "
                        "TrajNet++ record's frame is one; write a .csv, or give the input whole frame ids")
    frames = np.round(frames)
    writer.write_lines(trajnet_predictions(records, frames, uv, decimals), uv.shape[0] + uv[..., 0].size)


def unpredicted_records(n: int) -> str:
    """What is said of `n` TrajNet++ scene records whose primary `primary_windows` could not predict."""
    return (f"{n} scene record{'s' * (n != 1)} whose primary pedestrian is not observed at the scene's last observed "
            f"frame, or has no position a model step before it, {'were' if n != 1 else 'was'} not predicted")


def scene_records_warning(tracks: pd.DataFrame) -> str | None:
    """The warning for TrajNet++ input predicted at each agent's latest observation: its scene records (each a
    primary pedestrian, to be predicted from its scene's last observed frame) are not what is predicted."""
    records = tracks.attrs.get("scene_records")
    if records is None:
        return None
    files, n = pd.unique(records["_file"]), len(records["_file"])
    where = f"{files[0]}: its" if len(files) == 1 else f"{files[0]} and {len(files) - 1} more: their"
    return (f"warning: {where} {n} TrajNet++ scene record{'s' * (n != 1)} {'are' if n != 1 else 'is'} not "
            "predicted: each pedestrian is predicted from its latest position in the input; --primary predicts "
            "each scene's primary pedestrian from the scene's last observed frame")


def cut_windows(w: Windows, predictor: TrajCVAE) -> np.ndarray:
    """(N,) whether each window's history is cut to the part the model can read (`checks.cut_short`)."""
    return read_in_part(w, predictor.config.data, predictor.top_step)


def read_in_part(w: Windows, dc: DataConfig, top: float) -> np.ndarray:
    """`cut_windows` for a model of data settings `dc` and top step `top` (`checks.top_step`), its noise
    measured per window where it is "auto" (`checks.window_noise`)."""
    return cut_short(w.obs, dc.min_speed, top, window_noise(w.obs, w.nbr, dc.noise, w.noise), dc.dt)


def overshot(w: Windows, samples: np.ndarray, predictor: TrajCVAE) -> np.ndarray:
    """(N,) whether each window's futures `samples` (metres) overshoot (`checks.overshoot`)."""
    return overshoot(w.obs, samples, predictor.config.data.min_speed)


@dataclass
class Picked:
    """Windows picked piece by piece (`cut_windows`, `overshot`): how many, and the first few named."""

    n: int = 0
    names: list[str] = field(default_factory=list)

    def add(self, w: Windows, picked: np.ndarray) -> None:
        self.n += int(picked.sum())
        self.names += window_names(w, picked, 3 - len(self.names))


def window_names(w: Windows, picked: np.ndarray, most: int = 3) -> list[str]:
    """The `picked` windows of `w` as 'agent A of S at t0 T', each agent's first only, `most` of them."""
    names, seen = [], set()
    for a, s, t in zip(*(np.asarray(c)[picked] for c in (w.agent_id, w.scene, w.t0))):
        if len(names) < most and (s, a) not in seen:
            seen.add((s, a))
            names.append(f"agent {a} of {s} at t0 {time_text(t)}")
    return names


def horizon_warning(hidden: int, points: int) -> str:
    """The warning of `hidden` of `points` future points past a homography's horizon (`units.past_horizon`)."""
    return (f"warning: {hidden} of {points} future points fall past the homography's horizon, where no pixel shows "
            "them; they are written empty (x, y missing)")


def _pool_key(ctx: torch.Tensor, cv: torch.Tensor) -> torch.Tensor:
    """What a window's `calibrate.DRAWS` draws are decoded from besides the seed's noise: its context and
    constant-velocity path.  ctx (B, H), cv (B, P, 2) -> (B, H + 2P)"""
    return torch.cat([ctx, cv.flatten(1)], 1)


def noise_block(k: int, kset: str = "none", draws: int = 1000, fit: bool = False,
                batch_size: int = SAMPLE_BLOCK) -> int:
    """The windows `sample` draws full draws' noise for at once (a block; a pass never crosses one):
    `batch_size`, shrunk to the same memory per pass as K plain draws where a pass decodes more futures a window
    (a K-set's pool of `draws`, a scene fit's `calibrate.DRAWS`)."""
    decoded = _decoded(k, kset, draws, fit)
    return max(1, batch_size * k // decoded) if decoded > k else batch_size


def sample_pieces(n: int, k: int, kset: str = "none", draws: int = 1000, fit: bool = False):
    """(start, end) of pieces of n windows, about SAMPLE_BLOCK each, made of whole blocks of `sample`'s
    passes (`noise_block`): drawn a piece at a time, they get the draws of one call. n = 0: one empty piece."""
    block = noise_block(k, kset, draws, fit=fit, batch_size=SAMPLE_BLOCK)
    chunk = block * max(1, SAMPLE_BLOCK // block)
    for lo in range(0, n or 1, chunk):
        yield lo, min(lo + chunk, n)


def _decoded(k: int, kset: str, draws: int, fit: bool) -> int:
    """Futures decoded per window in a pass: K plain draws, or a K-set's pool of `draws`, and a scene fit's
    `calibrate.DRAWS` on top."""
    return (draws if kset != "none" else k) + (DRAWS if fit else 0)


def _passes(n: int, block: int, per_pass: int) -> Iterator[tuple[int, int, int]]:
    """(block start, pass start, pass end) over n windows in blocks of `block`, each cut into passes of at
    most `per_pass` windows that never cross a block's end."""
    for start in range(0, n, block):
        end = min(start + block, n)
        for lo in range(start, end, per_pass):
            yield start, lo, min(lo + per_pass, end)


MEMINFO = "/proc/meminfo"  # Linux's account of memory (`free_memory`)


def free_memory() -> int | None:
    """Bytes of memory available to new allocations: Linux's MemAvailable; elsewhere Windows' available
    physical memory, or the system's available pages, or at least all of its memory (macOS tells no more
    through sysconf: what would not fit in all of it is refused all the same); None where unknown."""
    try:
        with open(MEMINFO) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if WINDOWS:
        return _windows_available_memory()
    for pages, kind in (("SC_AVPHYS_PAGES", int), ("SC_PHYS_PAGES", AllMemory)):
        try:
            return kind(os.sysconf(pages) * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            continue
    return None


class AllMemory(int):
    """A machine's whole memory, where its system tells no more of what is free (macOS): `over_half` says so."""


def _windows_available_memory() -> int | None:
    """Windows' available physical memory in bytes (GlobalMemoryStatusEx), or None."""
    import ctypes

    class MemoryStatus(ctypes.Structure):  # MEMORYSTATUSEX
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong)] + [
            (name, ctypes.c_ulonglong) for name in ("ullTotalPhys", "ullAvailPhys", "ullTotalPageFile",
                                                   "ullAvailPageFile", "ullTotalVirtual", "ullAvailVirtual",
                                                   "ullAvailExtendedVirtual")]

    status = MemoryStatus()
    status.dwLength = ctypes.sizeof(status)
    if not ctypes.WinDLL("kernel32").GlobalMemoryStatusEx(ctypes.byref(status)):
        return None
    return int(status.ullAvailPhys)


def agent_table(tracks: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The per-agent columns of the input (`table.AGENT_COLUMNS`, e.g. `label`): each column's non-empty values
    with their scene, agent and time, in time order. Built once per input; `agent_values` looks windows up."""
    columns = [c for c in AGENT_COLUMNS if c in tracks.columns]
    if not columns:
        return {}
    scene, agent = tracks["scene"].astype(str).to_numpy(), tracks["agent_id"].to_numpy()
    frame = tracks["frame"].to_numpy(dtype=np.float64)
    table = {}
    for c in columns:
        values = tracks[c].to_numpy()
        given = values != ""
        table[c] = pd.DataFrame({"scene": scene[given], "agent": agent[given], "frame": frame[given],
                                 "value": values[given]}).sort_values("frame", kind="stable")
    return table


def agent_values(table: dict[str, pd.DataFrame], w: Windows) -> dict[str, np.ndarray]:
    """Each window's value of every per-agent column in `table` (from `agent_table`): its agent's latest
    non-empty one at or before its t0, "" where it has none yet (a label given later never reaches a window
    made before it)."""
    if not table or not len(w):
        return {}
    windows = pd.DataFrame({"scene": w.scene.astype(str), "agent": w.agent_id, "frame": w.t0.astype(np.float64),
                            "row": np.arange(len(w))}).sort_values("frame", kind="stable")
    out = {}
    for c, rows in table.items():
        values = np.full(len(w), "", dtype=object)
        if len(rows):  # (a column empty on every row gives every window "")
            found = pd.merge_asof(windows, rows.astype({"agent": windows["agent"].dtype}), on="frame",
                                  by=["scene", "agent"], direction="backward")
            values[found["row"].to_numpy()] = found["value"].fillna("").to_numpy(dtype=object)
        out[c] = values
    return out


def time_column(tracks: pd.DataFrame) -> str:
    """The output's time column: `time` (seconds) for an input with a time column, else `frame`."""
    return "time" if tracks.attrs.get("time_base") == "seconds" else "frame"


def samples_to_frame(w: Windows, samples: np.ndarray, scenes: list[str] | None = None,
                     integral: tuple[bool, bool] | None = None, time_column: str = "frame",
                     extra: dict[str, np.ndarray] | None = None,
                     weights: np.ndarray | None = None, position: tuple[str, str] = ("x", "y")) -> pd.DataFrame:
    """(N, K, P, 2) samples of windows `w` -> the long output table (`OUTPUT_COLUMNS`, with `time_column`
    holding each future position's time in the input's time base, the positions under the names `position`
    (`units.position_columns`), and a K-set's (N, K) `weights` last).

    scenes: the categories of the `scene` column (default: those of `w`); integral: whether to write (t0,
    the time) as integers (default: t0 for frame ids that are all whole numbers, the time too when the
    steps are). Fix both when writing a table in pieces."""
    N, K, P, _ = samples.shape
    rep = K * P
    step = np.tile(np.arange(1, P + 1), N * K)
    t0 = np.repeat(w.t0, rep)
    frame = t0 + step * np.repeat(w.step, rep)
    if integral is None:  # t0 is an observation: a whole frame id is written as one
        whole = time_column == "frame" and bool(np.all(w.t0 == np.round(w.t0)))
        integral = (whole, whole and bool(np.all(w.step == np.round(w.step))))
    whole_t0, whole_frames = integral
    return pd.DataFrame({
        "scene": _repeat_categorical(w.scene, rep, scenes),
        "agent_id": _repeat_text(w.agent_id, rep),
        **{c: _repeat_text(v, rep) for c, v in (extra or {}).items()},
        "t0": np.round(t0).astype(np.int64) if whole_t0 else t0,
        "sample": np.tile(np.repeat(np.arange(K), P), N),
        "step": step,
        time_column: np.round(frame).astype(np.int64) if whole_frames else frame,
        position[0]: samples[..., 0].reshape(-1),
        position[1]: samples[..., 1].reshape(-1),
        **({} if weights is None else {"weight": np.repeat(weights.reshape(-1), P)}),
    })


def _repeat_text(values: np.ndarray, rep: int):
    """np.repeat(values, rep) as the table's column; text is made a column once per value, not per row."""
    if values.dtype == object and all(isinstance(v, str) for v in values.tolist()):
        return pd.array(values, dtype="str").take(np.repeat(np.arange(len(values)), rep))
    return np.repeat(values, rep)


def _repeat_categorical(values: np.ndarray, rep: int, categories: list[str] | None) -> pd.Categorical:
    """pd.Categorical(np.repeat(values, rep), categories), without hashing every repeated string."""
    per_window = pd.Categorical(values, categories=categories)
    return pd.Categorical.from_codes(np.repeat(per_window.codes, rep), dtype=per_window.dtype)
