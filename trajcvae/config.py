"""Typed configuration: dataclasses with commented defaults, loaded from TOML, overridable from the CLI.

The whole `Config` is saved inside every checkpoint as a plain dict, so `predict` needs only the checkpoint.
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from .errors import TrajCVAEError


@dataclass
class DataConfig:
    obs_len: int = 8  # observed steps, including t0 (8 x 0.4 s = 3.2 s on ETH/UCY)
    pred_len: int = 12  # predicted steps after t0 (12 x 0.4 s = 4.8 s)
    time_step: float | None = None  # frame-id step between samples; None = infer per scene
    neighbor_radius: float = 5.0  # metres: other agents closer than this at t0 enter the context
    max_neighbors: int = 12  # nearest neighbours kept per agent
    frame: str = "heading"  # "heading": rotate so the observed motion points along +x; "world": keep axes
    scale_norm: bool = True  # divide coordinates by the agent's observed speed (floored at min_speed)
    min_speed: float = 0.2  # metres per step: the scale floor, so standing agents are not blown up
    # Unit (metres) of the neighbours' positions; 0 = the agent's own scale, like its track. A fixed unit
    # keeps the gaps to neighbours metric, so a fast walker's neighbours do not look closer than they are.
    nbr_unit: float = 0.0
    # Give each neighbour's track 4 more inputs: where and when it would pass closest to the agent if both
    # kept their velocity at t0 (the encounter a walker steers to avoid).
    nbr_encounter: bool = False
    # Scene memory: each window also gets the `memory` paths other agents walked from near its t0 position
    # earlier in the same scene (each finished by t0), ranked by distance and heading (0 = off).
    memory: int = 0
    memory_radius: float = 0.5  # metres: how near the agent's t0 position a remembered path must start
    memory_horizon: int = 1000  # steps: how far back the memory reaches (bounds the search on long scenes)
    # Steps behind t0 averaged for the velocity the decoder extrapolates from (1 = the last step alone).
    # More steps steady it where positions are noisy (eth's observed step speeds vary twice as much).
    cv_steps: int = 1
    # A track shorter than obs_len (an agent seen for 2-7 steps, as `predict` allows) is extended backwards
    # along its mean observed velocity before the model reads it: training windows all have full
    # histories, and a NaN-padded one is outside them (the model then predicts a stop).
    fill_short_history: bool = True
    augment_rotate: bool = True  # training only: random rotation of each window (only matters for frame="world")
    augment_flip: bool = True  # training only: random mirror image of each window (left/right symmetry)
    # Training only: add every training window played backwards (twice the windows, twice the epoch time).
    augment_reverse: bool = False
    augment_drop_neighbors: float = 0.0  # training only: chance that each neighbour is hidden from a window
    augment_drop_memory: float = 0.0  # training only: chance that each remembered path is hidden from a window
    augment_noise: float = 0.0  # training only: std (metres) of Gaussian jitter on observed positions
    # Each training window draws its own jitter std, uniformly from [0, 2 x augment_noise] (same mean), so the
    # model sees smooth and rough histories side by side and can tell from a history how far to trust it.
    augment_noise_spread: bool = False
    # Share of training windows left as recorded (no jitter at all), drawn per window after the std above:
    # more weight at zero for the smooth spline-annotated scenes without losing the rough end of the range.
    augment_noise_clean: float = 0.0


@dataclass
class ModelConfig:
    hidden: int = 128  # width of every MLP and of the context
    z_dim: int = 16  # latent size
    heads: int = 4  # attention heads over neighbours
    dropout: float = 0.0  # training only: dropout after the MLP track encoder's hidden layers (encoder = "mlp")
    encoder: str = "mlp"  # how a track is read: "mlp" over its flattened steps, or "gru" over the steps in turn
    # Velocity corrections limited to the slowest `path_basis` cosines over the future steps (0 = any, per step).
    path_basis: int = 0
    min_sigma: float = 0.01  # floor on the decoder's std (normalised units) so the NLL stays finite
    context_sigma: bool = False  # decoder std depends on [context, z] (False: one learned std per step)
    # Components of p(z|x): 1 = one diagonal Gaussian; more = a mixture of that many, with learned weights
    # (its KL to q has no closed form, so the loss uses a one-sample estimate).
    prior_components: int = 1


@dataclass
class TrainConfig:
    epochs: int = 60  # passes over the training windows
    batch_size: int = 256
    lr: float = 2e-3  # AdamW learning rate, cosine-decayed to lr/20 over the run
    weight_decay: float = 1e-4
    beta: float = 1.0  # weight of KL(q || p) in the loss (1.0 = the true ELBO)
    kl_anneal_epochs: int = 10  # beta rises linearly from 0 to `beta` over these epochs
    free_bits: float = 0.0  # nats per latent dim below which the KL is not penalised (0 = off)
    variety_weight: float = 0.0  # extra best-of-`variety_k` prior-sample loss (0 = pure ELBO)
    variety_k: int = 20  # prior samples used by the variety term
    variety_metres: bool = False  # weight each window's variety error by its speed scale, as metres do
    variety_endpoint: float = 0.0  # each sample's variety error is its ADE + this times its endpoint error
    max_grad_norm: float = 1.0  # gradient clipping (0 = off)
    ema: float = 0.0  # decay of an exponential moving average of the weights, validated and saved (0 = off)
    k_eval: int = 20  # K for the validation minADE that picks the best checkpoint
    seed: int = 0
    device: str = "auto"  # "cpu", "cuda" or "auto"
    num_threads: int = 0  # torch CPU threads (0 = torch's default)
    bf16: bool = False  # CUDA only: bfloat16 autocast for the forward pass


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "config") -> "Config":
        cfg = cls()
        for section, values in d.items():
            if not hasattr(cfg, section) or not isinstance(values, dict):
                raise TrajCVAEError(f"{source}: unknown section [{section}] (expected data, model, train)")
            for key, value in values.items():
                set_option(cfg, f"{section}.{key}", value, source)
        return cfg


def set_option(cfg: Config, dotted: str, value: Any, source: str = "option") -> None:
    """Set `section.key` on `cfg`, converting `value` to the field's type; bad names or values raise."""
    section, _, key = dotted.partition(".")
    sub = getattr(cfg, section, None)
    names = {f.name: f for f in dataclasses.fields(sub)} if dataclasses.is_dataclass(sub) else {}
    if key not in names:
        raise TrajCVAEError(f"{source}: unknown option '{dotted}'")
    current = getattr(sub, key)
    try:
        if isinstance(current, bool) or names[key].type == "bool":
            value = _to_bool(value)
        elif names[key].type in ("int",):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            value = int(value)
        elif names[key].type in ("float", "float | None"):
            value = None if value in (None, "none", "None", "") else float(value)
        elif names[key].type == "str":
            value = str(value)
    except (TypeError, ValueError):
        raise TrajCVAEError(f"{source}: option '{dotted}' has invalid value {value!r}") from None
    setattr(sub, key, value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Defaults, then the TOML file (if any), then `section.key=value` overrides."""
    if path is None:
        cfg = Config()
    else:
        path = Path(path)
        try:
            with open(path, "rb") as f:
                cfg = Config.from_dict(tomllib.load(f), source=str(path))
        except FileNotFoundError:
            raise TrajCVAEError(f"{path}: config file not found") from None
        except tomllib.TOMLDecodeError as e:
            raise TrajCVAEError(f"{path}: not valid TOML ({e})") from None
    for item in overrides or []:
        key, eq, value = item.partition("=")
        if not eq:
            raise TrajCVAEError(f"--set {item!r}: expected section.key=value")
        set_option(cfg, key.strip(), value.strip(), source="--set")
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    d, m, t = cfg.data, cfg.model, cfg.train
    checks = [
        (d.obs_len >= 2, "data.obs_len must be >= 2"),
        (d.pred_len >= 1, "data.pred_len must be >= 1"),
        (d.time_step is None or d.time_step > 0, "data.time_step must be > 0"),
        (d.neighbor_radius >= 0, "data.neighbor_radius must be >= 0"),
        (d.max_neighbors >= 0, "data.max_neighbors must be >= 0"),
        (d.memory >= 0, "data.memory must be >= 0"),
        (d.memory_radius > 0, "data.memory_radius must be > 0"),
        (d.memory_horizon >= d.pred_len, "data.memory_horizon must be >= data.pred_len"),
        (d.frame in ("heading", "world"), "data.frame must be 'heading' or 'world'"),
        (d.min_speed > 0, "data.min_speed must be > 0"),
        (d.nbr_unit >= 0, "data.nbr_unit must be >= 0"),
        (d.augment_noise >= 0, "data.augment_noise must be >= 0"),
        (0.0 <= d.augment_noise_clean < 1.0, "data.augment_noise_clean must be in [0, 1)"),
        (0.0 <= d.augment_drop_neighbors < 1.0, "data.augment_drop_neighbors must be in [0, 1)"),
        (0.0 <= d.augment_drop_memory < 1.0, "data.augment_drop_memory must be in [0, 1)"),
        (1 <= d.cv_steps < d.obs_len, "data.cv_steps must be between 1 and obs_len - 1"),
        (m.hidden > 0 and m.z_dim > 0, "model.hidden and model.z_dim must be > 0"),
        (m.hidden % m.heads == 0, "model.hidden must be divisible by model.heads"),
        (0.0 <= m.dropout < 1.0, "model.dropout must be in [0, 1)"),
        (m.encoder in ("mlp", "gru"), "model.encoder must be 'mlp' or 'gru'"),
        (0 <= m.path_basis <= d.pred_len, "model.path_basis must be between 0 and data.pred_len"),
        (m.dropout == 0 or m.encoder == "mlp",
         "model.dropout applies to the mlp track encoder only: set it to 0 with model.encoder = gru"),
        (t.epochs >= 1, "train.epochs must be >= 1"),
        (t.batch_size >= 1, "train.batch_size must be >= 1"),
        (t.lr > 0, "train.lr must be > 0"),
        (t.k_eval >= 1 and t.variety_k >= 1, "train.k_eval and train.variety_k must be >= 1"),
        (t.variety_endpoint >= 0, "train.variety_endpoint must be >= 0"),
        (m.prior_components >= 1, "model.prior_components must be >= 1"),
        (m.prior_components == 1 or t.free_bits == 0, "train.free_bits needs model.prior_components = 1"),
        (t.device in ("auto", "cpu", "cuda"), "train.device must be auto, cpu or cuda"),
        (0.0 <= t.ema < 1.0, "train.ema must be in [0, 1)"),
    ]
    for ok, message in checks:
        if not ok:
            raise TrajCVAEError(f"invalid config: {message}")
