"""Typed configuration: dataclasses with commented defaults, loaded from TOML, overridable from the CLI.

The whole `Config` is saved inside every checkpoint as a plain dict, so `predict` needs only the checkpoint.
"""
from __future__ import annotations

import contextlib
import dataclasses
import decimal
import difflib
import hashlib
import math
import numbers
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from .errors import TrajCVAEError, as_number_hint, home_path, in_cli, shown, small_text


@dataclass
class DataConfig:
    obs_len: int = 8  # observed steps, including t0 (8 x 0.4 s = 3.2 s on ETH/UCY)
    pred_len: int = 12  # predicted steps after t0 (12 x 0.4 s = 4.8 s)
    time_step: float | None = None  # frame-id step between samples of inputs of unknown rate; None = infer
    # Seconds per model step (ETH/UCY: 0.4). Inputs with a known rate (a time column in seconds, or frame
    # ids with --fps) are resampled onto it by linear interpolation.
    dt: float = 0.4
    max_gap: float = 0.8  # seconds: a gap in a track up to this is bridged when resampling; a longer one splits it
    fps: float | None = None  # frame ids per second of the training files (None: unknown, one step per frame step)
    # Metres per unit of the training files' positions (None: metres), or a file of scales per scene (SDD's
    # estimated_scales.yaml; see `units.scene_scales`).
    scale: float | str | None = None
    homography: str | None = None  # or a text file of a 3x3 matrix taking their pixels (u, v, 1) to metres
    classes: str | None = None  # comma-separated labels of the agents to train on (e.g. SDD's "Pedestrian")
    # The training files' columns of other names, as roles: "frame=timestep,agent_id=track_id,x=position_x,
    # y=position_y" (time_ns=stamp: a time column in nanoseconds; see `table.column_map`).
    columns: str | None = None
    # Metres (std per axis) of the detections' noise: each history the model reads (the agent's and its
    # neighbours') is smoothed first, within its window (`checks.smoothed`); 0 = read as recorded; "auto" = each
    # window's own, measured from its observed positions (`checks.window_noise`). `--noise` gives a model the
    # noise of the tracks it predicts.
    noise: float | str = 0.0
    neighbor_radius: float = 5.0  # metres: other agents closer than this at t0 enter the context
    max_neighbors: int = 12  # nearest neighbours kept per agent
    frame: str = "heading"  # "heading": rotate so the observed motion points along +x; "world": keep axes
    # Divide coordinates by the agent's observed speed (floored at min_speed): every agent then walks at
    # about unit speed, so a scene of fast walkers (ETH's eth, ~2.3 m/s) is not outside the training range.
    scale_norm: bool = True
    min_speed: float = 0.2  # metres per step: the scale floor, so standing agents are not blown up
    # Unit (metres) of the neighbours' positions; 0 = the agent's own scale, like its track. A fixed unit
    # keeps the gaps to neighbours metric, so a fast walker's neighbours do not look closer than they are.
    nbr_unit: float = 0.4
    # Scene memory: each window also gets the `memory` paths other agents walked from near its t0 position
    # earlier in the same scene (each finished by t0), ranked by distance and heading (0 = off).
    memory: int = 8
    memory_radius: float = 0.5  # metres: how near the agent's t0 position a remembered path must start
    memory_horizon: int = 1000  # steps: how far back the memory reaches (bounds the search on long scenes)
    # A track shorter than obs_len (an agent seen for 2-7 steps, as `predict` allows) is extended backwards
    # along its mean observed velocity before the model reads it: training windows all have full
    # histories, and a NaN-padded one is outside them (the model then predicts a stop).
    fill_short_history: bool = True
    augment_rotate: bool = True  # training only: random rotation of each window (only matters for frame="world")
    augment_flip: bool = True  # training only: random mirror image of each window (left/right symmetry)
    # Training only: mean std (metres) of Gaussian jitter on observed positions. Annotations are noisy (eth's
    # by ~3 cm, the spline-annotated UCY scenes hardly): a jittered history teaches the model not to trust
    # its last step blindly.
    augment_noise: float = 0.02
    # Each training window draws its own jitter std, uniformly from [0, 2 x augment_noise] (same mean), so the
    # model sees smooth and rough histories side by side and can tell from a history how far to trust it.
    augment_noise_spread: bool = True


@dataclass
class ModelConfig:
    hidden: int = 128  # width of every MLP and of the context (the decoder's MLP: twice it)
    z_dim: int = 32  # latent size
    heads: int = 4  # attention heads over neighbours (and over remembered paths)
    min_sigma: float = 0.01  # floor on the decoder's std (normalised units) so the NLL stays finite


@dataclass
class TrainConfig:
    epochs: int = 40  # passes over the training windows
    batch_size: int = 128
    lr: float = 2e-3  # AdamW learning rate, cosine-decayed to lr/20 over the run
    weight_decay: float = 1e-4
    beta: float = 1.0  # weight of KL(q || p) in the loss (1.0 = the true ELBO)
    kl_anneal_epochs: int = 10  # beta is `beta` x epoch / N in epochs 1..N (0.1, 0.2, ... for 10), then `beta`
    # Weight of the "variety" term beside the ELBO: the best-of-`variety_k` ADE of prior draws (0 = pure
    # ELBO). Best-of-K scores reward K draws that cover the futures; the ELBO alone leaves the prior narrow.
    variety_weight: float = 100.0
    variety_k: int = 20  # prior samples used by the variety term
    max_grad_norm: float = 1.0  # gradient clipping (0 = off)
    k_eval: int = 20  # K for the validation minADE that picks the best checkpoint
    seed: int = 0
    device: str = "auto"  # "cpu", "cuda" or "auto"
    num_threads: int = 0  # torch CPU threads (0 = torch's default)
    bf16: bool = False  # CUDA only: bfloat16 autocast for the forward pass


@dataclass
class KSetConfig:
    # The learned K-set sampler (`kset.py`), trained on the frozen CVAE at the end of `train`.
    k: int = 20  # futures per K-set: the sampler makes exactly this many (`--kset learned` needs -k = k)
    # Passes over the training windows (the encoder's contexts are computed once); the sampler's own decoder
    # still gained on val after the tenth (docs/lab-notes.md).
    epochs: int = 20
    batch_size: int = 256
    lr: float = 1e-3  # AdamW, cosine-decayed to lr/20
    # Weight of the maps' KL to the standard normal (their mean over the K maps) beside the best-of-K error:
    # it keeps every z_k likely under p(z|x), so the K futures stay inside the model's distribution instead of
    # chasing outliers.
    # Chosen on val (hotel, zara1): 0.001 beat 0.01 and 0.1 (docs/lab-notes.md).
    kl_weight: float = 0.001


# Options that were tried, measured and removed (docs/lab-notes.md), each with the value that meant "off".
# A config or checkpoint holding one at that value loads as before; any other value is refused.
REMOVED = {
    "data.nbr_encounter": False, "data.cv_steps": 1, "data.augment_reverse": False,
    "data.augment_drop_neighbors": 0.0, "data.augment_drop_memory": 0.0, "data.augment_noise_clean": 0.0,
    "model.dropout": 0.0, "model.encoder": "mlp", "model.path_basis": 0, "model.context_sigma": False,
    "model.prior_components": 1, "model.sigma_net": False, "train.variety_metres": False,
    "train.variety_endpoint": 0.0,
    "train.ema": 0.0, "train.free_bits": 0.0, "train.variety_score": "best_of_k",
}
# Temporary flags that became the recipe, each with the value the code now always has: a config holding
# one at that value loads as before (docs/results.md quotes the published runs' flag); another is refused.
ADOPTED = {"kset.own_decoder": True}
# The config values `trajcvae train`'s own options set ({section.key: option}); a Python caller of train sets
# them in its config, and train's messages name them so (data.fps=30 where the CLI says --fps 30).
TRAIN_OPTIONS = {"train.epochs": "--epochs", "train.seed": "--seed", "train.device": "--device",
                 "data.time_step": "--time-step", "train.max_grad_norm": "--max-grad-norm", "data.fps": "--fps",
                 "data.scale": "--scale", "data.homography": "--homography", "data.classes": "--classes",
                 "data.columns": "--columns"}
FILE_OPTIONS = ("homography", "scale")  # data options that may name a file (data.scale: scales per scene)


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    kset: KSetConfig = field(default_factory=KSetConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def given(self) -> set[str]:
        """The options this config was given: those set through `set_option` (a config file, `--set`, a CLI
        option), whatever their values, and any set away from its default."""
        return set(self.__dict__.get("_given", ())) | {dotted for dotted, _, _ in self.differences(Config())}

    def shown(self, dotted: str, value: Any) -> str:
        """An option's value as it was given: '--fps 10' where a command-line option set it, else
        'data.fps = 10.0'."""
        source = self.__dict__.get("_given", {}).get(dotted, "")
        if source.startswith("-") and source != "--set":
            return f"{source} {value}"
        return f"{dotted} = {str(value).lower() if isinstance(value, bool) else repr(value)}"  # (as TOML writes it)

    def differences(self, other: "Config", skip: tuple[str, ...] = ()) -> list[tuple[str, Any, Any]]:
        """(section.key, this value, the other's) for every option the two set differently, but those in `skip`."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [(f"{section}.{key}", value, theirs[section][key]) for section, values in mine.items()
                for key, value in values.items() if f"{section}.{key}" not in skip and value != theirs[section][key]]

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "config") -> "Config":
        cfg = cls()
        for section, values in d.items():
            if not isinstance(values, dict):
                raise TrajCVAEError(f"{source}: option '{section}' is outside any section: put it under [data], "
                                    "[model], [train] or [kset]")
            if not hasattr(cfg, section):
                raise TrajCVAEError(f"{source}: unknown section [{section}] (expected data, model, train, kset)")
            for key, value in values.items():
                if f"{section}.{key}" in REMOVED:
                    check_removed(f"{section}.{key}", value, source)
                elif f"{section}.{key}" in ADOPTED:
                    check_adopted(f"{section}.{key}", value, source)
                else:
                    set_option(cfg, f"{section}.{key}", value, source, typed=True)
        return cfg


def option_names(cfg: Config) -> list[str]:
    """Every option of `cfg` as `section.key`, section by section (data, model, train, kset)."""
    return [f"{c.name}.{f.name}" for c in dataclasses.fields(cfg) for f in dataclasses.fields(getattr(cfg, c.name))]


def set_option(cfg: Config, dotted: str, value: Any, source: str = "option", typed: bool = False) -> None:
    """Set `section.key` on `cfg`, converting `value` to the field's type; bad names or values raise. `typed`:
    a value of a TOML file or a checkpoint, whose numbers and flags are no text ("3" in quotes is refused, as
    the Python API refuses it)."""
    section, _, key = dotted.partition(".")
    sub = getattr(cfg, section, None)
    names = {f.name: f for f in dataclasses.fields(sub)} if dataclasses.is_dataclass(sub) else {}
    if key not in names:
        known = option_names(cfg)
        lower = dotted.lower()  # (any case: OBS_LEN is data.obs_len)
        close = [k for k in known if k.partition(".")[2] == lower.rpartition(".")[2]]  # epochs: train's or kset's
        close = close or [k for k in known if k == lower] or difflib.get_close_matches(lower, known, n=1)
        raise TrajCVAEError(f"{source}: unknown option '{dotted}'" + (
            "; did you mean " + " or ".join(f"'{k}'" for k in close) + "?" if close else ""))
    current, kind, given = getattr(sub, key), names[key].type, value
    if typed and isinstance(value, str) and (isinstance(current, bool) or kind in ("bool", "int", "float",
                                                                                    "float | None")):
        # A number or flag in quotes is refused with the TOML that means it; "none" (TOML has no null) unsets.
        plain = None
        with contextlib.suppress(TypeError, ValueError):
            if isinstance(current, bool) or kind == "bool":
                plain = str(_to_bool(value)).lower()
            elif value.strip().lower() not in ("none", ""):
                number = float(value)
                plain = f"{number:g}" if kind != "int" else str(int(number)) if number.is_integer() else None
        if plain is not None:
            raise TrajCVAEError(f"{source}: option '{dotted}' = {value!r} is text in quotes; write it without them "
                                f"({key} = {plain})")
    if source == "--set":
        value = _unquoted(value)
    try:
        if typed and (isinstance(current, bool) or kind == "bool") and not isinstance(value, bool):
            if not _numpy_bool(value):  # (numpy's: Config.from_dict's)
                raise ValueError(value)  # TOML's flags are true and false (0 and 1 are counts)
            value = bool(value)
        if isinstance(value, str) and not value.isascii() and kind != "str" and "str" not in kind.split(" | "):
            raise ValueError(value)  # digits of another script (٨, １２), which float() and int() read
        if isinstance(current, bool) or kind == "bool":
            value = _to_bool(value)
        elif isinstance(value, bool) and kind != "str":  # TOML's true is no number (int(True) would be 1)
            raise ValueError(value)
        elif kind in ("int",):
            if isinstance(value, str):  # --set text reads as TOML would: 2 and 2.0 are 2, 2.5 is no count
                value = float(value) if any(c in value for c in ".eE") else int(value)
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            value = int(value)
        elif kind in ("float", "float | None"):
            value = None if value in (None, "none", "None", "") else float(value)
        elif kind == "float | str | None":  # a number, or the name of a file (data.scale's scales per scene)
            value = None if value in (None, "none", "None", "") else _number_or_text(value, typed)
        elif kind == "float | str":  # a number, or a word (data.noise's "auto"; `validate` says which words)
            value = _number_or_text(value)
        elif kind == "str":
            value = str(value)
        elif kind == "str | None" and value is not None and not isinstance(value, str):  # a path or labels
            raise ValueError(value)
        elif kind == "str | None" and source == "--set" and value in ("none", "None", ""):  # unset a config file's
            value = None
    except (TypeError, ValueError):
        hint = " (a flag: true or false)" if isinstance(current, bool) or kind == "bool" else \
            " (write its digits 0-9)" if isinstance(given, str) and not given.isascii() and any(
                c.isdigit() for c in given) else ""
        raise TrajCVAEError(f"{source}: option '{dotted}' has invalid value {given!r}{hint}") from None
    setattr(sub, key, value)
    cfg.__dict__.setdefault("_given", {})[dotted] = source  # `Config.given`, `Config.shown`


def check_removed(dotted: str, value: Any, source: str) -> None:
    """A removed option is accepted only at its old "off" value (as old checkpoints and configs hold it)."""
    off = REMOVED[dotted]
    if not _equals(value, off, text=source == "--set"):
        if _equals(str(value), off, text=True):  # its "off" of another type (0 for false, "0" for 0.0)
            raise TrajCVAEError(f"{source}: option '{dotted}' = {value!r}, a removed option's old off written as "
                                f"another type: write {_toml(off)}, or remove the line")
        raise TrajCVAEError(f"{source}: option '{dotted}' = {value!r} was removed from trajcvae (tried, no "
                            f"gain): retrain without it, or use the trajcvae commits that have it "
                            f"(docs/lab-notes.md names them)")


def check_adopted(dotted: str, value: Any, source: str) -> None:
    """An adopted flag is accepted only at the value the code now always has."""
    if not _equals(value, ADOPTED[dotted], text=source == "--set"):
        raise TrajCVAEError(f"{source}: option '{dotted}' = {value!r} is no longer a choice: it was adopted as "
                            f"{ADOPTED[dotted]!r} (docs/lab-notes.md); remove it")


def _equals(value: Any, target: Any, text: bool = False) -> bool:
    """Whether `value` (from TOML or a checkpoint; `text`: --set's, read as its own value would be) is
    `target`, of its type: 1.5 is no count of 1, nor "0" in a file a 0.0, nor 0 a false."""
    if text and not isinstance(target, str):
        try:
            value = _to_bool(value) if isinstance(target, bool) else float(value) if value.isascii() else None
        except ValueError:
            return False
    if isinstance(target, bool) or isinstance(value, bool):
        return value is target
    if isinstance(target, numbers.Real):
        return isinstance(value, numbers.Real) and value == target and (isinstance(target, float) or value % 1 == 0)
    return value == target


def _numpy_bool(value: Any) -> bool:
    """Whether `value` is one numpy bool (np.True_, a 0-d array of one), not an array of several."""
    return getattr(value, "shape", None) == () and getattr(getattr(value, "dtype", None), "kind", "") == "b"


def _unquoted(value: Any) -> Any:
    """--set text without the quotes TOML writes text in: data.classes="Pedestrian"."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _toml(value: Any) -> str:
    """A value as TOML writes it: false, 0.0, "mlp"."""
    return str(value).lower() if isinstance(value, bool) else f'"{value}"' if isinstance(value, str) else repr(value)


def _number_or_text(value: Any, named: bool = False) -> float | str:
    """A number as a float, other text (a file's name) as it is; digits of another script (١٢) are a file's
    name where `named` (a config file's, found beside it later) or one is there, else neither."""
    if isinstance(value, (str, os.PathLike)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if not str(value).isascii():  # (a file of that name is read as the file)
            if named or Path(value).is_file():
                return str(value)
            raise ValueError(value)
        return number
    return float(value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def forget_trials(d: dict) -> dict:
    """A run's record of its config (its checkpoint's, its config.toml) without the flags it holds from while
    they were tried, at whatever value: `kset.own_decoder` (a saved sampler's state says whether it has one)."""
    if isinstance(d.get("kset"), dict):
        d["kset"].pop("own_decoder", None)
    return d


def check_config_inputs(path, overrides, options=None, caller: str = "load_config") -> None:
    """The Python API's makings of a config, as `load_config` takes them (`caller`: the function given them)."""
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TrajCVAEError(f"{caller}: expected the path of a TOML file, got {type(path).__name__}")
    if isinstance(overrides, dict) and overrides:  # (its keys alone are texts)
        raise TrajCVAEError(f"{caller}: expected overrides as a list of 'section.key=value' texts, got a dict; "
                            "give [f'{key}={value}' for key, value in overrides.items()]")
    if isinstance(overrides, str) or any(not isinstance(item, str) for item in overrides or []):
        raise TrajCVAEError(f"{caller}: expected overrides as a list of 'section.key=value' texts, got "
                            f"{overrides!r}")
    if options is not None and (not isinstance(options, dict) or not all(
            isinstance(key, str) and isinstance(value, tuple) and len(value) == 2 for key, value in options.items())):
        raise TrajCVAEError(f"{caller}: expected options as {{'section.key': (its flag, value)}}, e.g. "
                            f"{{'data.fps': ('--fps', 30)}}, got {options!r}; overrides=['data.fps=30'] sets one too")


def load_config(path: str | Path | None = None, overrides: list[str] | None = None,
                options: dict[str, tuple[str, Any]] | None = None, run_record: bool = False) -> Config:
    """Defaults, then the TOML file (if any), then `section.key=value` overrides (`--set`), then a command's
    own options, {section.key: (its flag, value)}, taken as given (an empty --classes is no unset); an option
    given both ways is refused.
    `run_record`: the file is a run's config.toml, read as its checkpoint's config is (`forget_trials`)."""
    check_config_inputs(path, overrides, options)
    if path is None:
        cfg = Config()
    else:
        path = Path(path)
        if path.is_dir():
            raise TrajCVAEError(f"--config {path}: is a folder; give a TOML file")
        try:
            table = tomllib.loads(small_text(path))
            cfg = Config.from_dict(forget_trials(table) if run_record else table, source=str(path))
        except FileNotFoundError:
            raise TrajCVAEError(f"{path}: config file not found") from None
        except tomllib.TOMLDecodeError as e:
            raise TrajCVAEError(f"{path}: not valid TOML ({e}{WINDOWS_HINT if _backslashed(str(e)) else ''})") from None
        except UnicodeError as e:  # (`small_text`'s: what the file holds, and the fix)
            if path.read_bytes()[:4].startswith((b"PK\x03\x04", b"\x80")):  # torch.save's zip, or a pickle
                raise TrajCVAEError(f"--config {path}: a zip archive or a pickle (a checkpoint?), not a TOML config; "
                                    "a run's config is the config.toml beside its checkpoints (train --resume goes on "
                                    "with a run)") from None
            raise TrajCVAEError(f"{path}: {e}") from None
        except PermissionError as e:
            raise TrajCVAEError(f"{path}: cannot read the config ({type(e).__name__})") from None
        for key in FILE_OPTIONS:
            named = getattr(cfg.data, key)
            if isinstance(named, str) and any(c in named for c in "\n\t\r\b\f"):  # "C:\new\t.txt": TOML escapes
                raise TrajCVAEError(f"{path}: data.{key} {named!r} holds control characters (TOML reads \\n, \\t, \\f, "
                                    f"\\b and \\r in double quotes as escapes){WINDOWS_HINT}")
            # A file named in a config file is found beside it, as the file was written; --set's from the cwd.
            if isinstance(named, str) and named:
                setattr(cfg.data, key, str(path.parent / home_path(named, f"{path}: data.{key}")))
    first: dict[str, str] = {}
    for item in overrides or []:
        key, eq, value = item.partition("=")
        if not eq:
            raise TrajCVAEError(f"--set {item!r}: expected section.key=value")
        if key.strip() in first:  # one of them would be dropped in silence
            raise TrajCVAEError(f"--set {first[key.strip()]} and {item} both set {key.strip()}: give one")
        first[key.strip()] = item
        value = _unquoted(value.strip())
        if key.strip() in REMOVED:
            if _equals(value, REMOVED[key.strip()], text=True):  # its old "off", as a config file holds it
                continue
            raise TrajCVAEError(f"--set {key.strip()}: option removed from trajcvae (tried, no gain; see "
                                "docs/lab-notes.md)")
        if key.strip() in ADOPTED:
            check_adopted(key.strip(), value, source="--set")
            continue
        set_option(cfg, key.strip(), value, source="--set")
    said = {item.partition("=")[0].strip(): item for item in overrides or []}
    for dotted, (flag, value) in (options or {}).items():
        if dotted in said:  # one of them would be dropped in silence
            raise TrajCVAEError(f"--set {said[dotted]} and {flag} {value} both set {dotted}: give one")
        set_option(cfg, dotted, value, source=flag)
    for key in FILE_OPTIONS:
        if isinstance(getattr(cfg.data, key), str) and getattr(cfg.data, key):
            # Kept as an absolute path: the run's config then names the same file from any folder (--resume).
            given = (options or {}).get(f"data.{key}", (f"data.{key}",))[0]  # as the command line named it
            setattr(cfg.data, key, str(home_path(getattr(cfg.data, key), given).resolve()))
    try:
        validate(cfg, flags={dotted: flag for dotted, (flag, _) in (options or {}).items()})
    except TrajCVAEError as e:  # a value out of range that the config file gave: named with the file
        said = str(e)
        given = {item.partition("=")[0].strip() for item in overrides or []} | set(options or {})
        keys = re.findall(r"\b(?:data|model|train|kset)\.[a-z_]+", said)
        if path is not None and said.startswith("invalid config: ") and keys and not given & set(keys):
            raise TrajCVAEError(f"{path}: {said.removeprefix('invalid config: ')}") from None
        raise
    return cfg


WINDOWS_HINT = "; a Windows path: write it in single quotes ('C:\\data\\H.txt') or with /"


def _backslashed(error: str) -> bool:
    """Whether TOML's error is about a backslash in double quotes (a Windows path's: C:\\Users, C:\\data)."""
    return any(what in error for what in ("Unescaped '\\'", "Invalid hex value", "Invalid escape"))


def validate(cfg: Config, files: bool = True, flags: dict[str, str] | None = None) -> None:
    """Raise a one-line `TrajCVAEError` naming the first option out of its range and its value; `files`: also
    check that data.homography names a file, and the bounds training alone needs (not for a checkpoint's config,
    which names the training machine's files, and was trained as it is); `flags`: the options a command line set,
    {section.key: its flag}, named as it gave them."""
    _check_types(cfg)
    d, m, t, ks = cfg.data, cfg.model, cfg.train, cfg.kset
    checks = [
        (d.obs_len >= 2, "data.obs_len must be >= 2"),
        (d.pred_len >= 1, "data.pred_len must be >= 1"),
        (d.time_step is None or d.time_step > 0, "data.time_step must be > 0"),
        (d.dt > 0 and d.max_gap >= 0, "data.dt must be > 0 and data.max_gap >= 0"),
        (d.fps is None or d.fps > 0, "data.fps must be > 0"),
        (d.scale is None or isinstance(d.scale, str) or d.scale > 0,
         "data.scale must be > 0 (metres per input unit) or a file of scales per scene"),
        (not isinstance(d.scale, str) or not files or Path(d.scale).is_file(), f"data.scale: no such file {d.scale}"),
        (d.scale is None or d.homography is None, "data.scale and data.homography exclude each other"),
        (d.homography is None or not files or Path(d.homography).is_file(),
         f"data.homography: no such file {d.homography}"),
        (d.classes is None or any(c.strip() for c in d.classes.split(",")),
         "data.classes names no label: give labels, e.g. Pedestrian,Biker"),
        (d.columns is None or all(p.partition("=")[1] and p.partition("=")[0].strip() and p.partition("=")[2].strip()
                                  for p in d.columns.split(",")),
         "data.columns must be role=column pairs, comma-separated, e.g. frame=timestep,x=position_x,y=position_y"),
        (d.noise == NOISE_AUTO or finite_number(d.noise) and 0 <= d.noise <= MAX_NOISE,
         f"data.noise must be a number of metres from 0 to {MAX_NOISE:g}, or {NOISE_AUTO}"),
        (d.neighbor_radius >= 0, "data.neighbor_radius must be >= 0"),
        (d.max_neighbors >= 0, "data.max_neighbors must be >= 0"),
        (d.memory >= 0, "data.memory must be >= 0"),
        (d.memory_radius > 0, "data.memory_radius must be > 0"),
        (d.memory_horizon >= d.pred_len, "data.memory_horizon must be >= data.pred_len"),
        (d.frame in ("heading", "world"), "data.frame must be 'heading' or 'world'"),
        (d.min_speed > 0, "data.min_speed must be > 0"),
        (d.nbr_unit >= 0, "data.nbr_unit must be >= 0"),
        (d.augment_noise >= 0, "data.augment_noise must be >= 0"),
        (m.hidden > 0 and m.z_dim > 0, "model.hidden and model.z_dim must be > 0"),
        (m.heads >= 1 and m.hidden % m.heads == 0, "model.heads must be >= 1 and divide model.hidden"),
        (0 < m.min_sigma <= (1 if files else math.inf), "model.min_sigma must be > 0 and at most 1 (the decoder's "
                                                          "std floor, in steps of the agent's observed pace)"),
        (t.epochs >= 1, "train.epochs must be >= 1"),
        (t.batch_size >= 1, "train.batch_size must be >= 1"),
        (t.lr > 0, "train.lr must be > 0"),
        (t.weight_decay >= 0 and t.beta >= 0, "train.weight_decay and train.beta must be >= 0"),
        (t.kl_anneal_epochs >= 0, "train.kl_anneal_epochs must be >= 0"),
        (t.variety_weight >= 0, "train.variety_weight must be >= 0"),
        (t.max_grad_norm >= 0, "train.max_grad_norm must be >= 0 (0 = off)"),
        (0 <= t.num_threads <= (MAX_THREADS if files else 2 ** 31 - 1),
         f"train.num_threads must be from 0 (torch's default) to {MAX_THREADS}"),
        (t.k_eval >= 1 and t.variety_k >= 1, "train.k_eval and train.variety_k must be >= 1"),
        (t.device in ("auto", "cpu", "cuda"), "train.device must be auto, cpu or cuda"),
        (0 <= t.seed <= MAX_SEED, "train.seed must be between 0 and 2**63 - 1"),
        (ks.k >= 1 and ks.batch_size >= 1, "kset.k and kset.batch_size must be >= 1"),
        (ks.epochs >= 0, "kset.epochs must be >= 0 (0 = no learned K-set)"),
        (ks.lr > 0 and ks.kl_weight >= 0, "kset.lr must be > 0 and kset.kl_weight >= 0"),
    ]
    for ok, message in checks:
        if not ok:
            keys = list(dict.fromkeys(re.findall(r"\b(?:data|model|train|kset)\.[a-z_]+", message)))
            values = {dotted: getattr(getattr(cfg, dotted.split(".")[0]), dotted.split(".")[1]) for dotted in keys}
            if " must be " in message:  # the value of each option it names (those of a two-option check too)
                message += (f" (got {values[keys[0]]!r})" if len(keys) == 1 else
                            " (got " + ", ".join(f"{dotted} = {value!r}" for dotted, value in values.items()) + ")")
            renamed = 0
            for dotted, flag in (flags or {}).items():  # as the command line gave it: --epochs must be >= 1 (got 0)
                message, n = re.subn(rf"\b{re.escape(dotted)}\b", flag, message)
                renamed += n
            raise TrajCVAEError(message if renamed else f"invalid config: {message}")
    for section, values in cfg.to_dict().items():  # inf and nan pass every comparison above as bounds
        for key, value in values.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise TrajCVAEError(f"invalid config: {section}.{key} must be a finite number (got {value})")
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SEED:  # as torch counts
                raise TrajCVAEError(f"invalid config: {section}.{key} must be at most 2**63 - 1 in magnitude (got "
                                    f"{shown(value)})")
            if isinstance(value, float) and abs(value) > FLOAT32_MAX:  # the model computes in float32
                raise TrajCVAEError(f"invalid config: {section}.{key} must be below 3.4e38 in magnitude, float32's "
                                    f"largest (got {value:g})")


def _check_types(cfg: Config) -> None:
    """Every option of the type its field declares (a Config built in Python may hold anything)."""
    if not isinstance(cfg, Config):
        raise TrajCVAEError(f"expected a Config (from load_config), got {type(cfg).__name__}")
    kinds = {"int": numbers.Integral, "float": numbers.Real, "str": str}
    for section in dataclasses.fields(cfg):
        sub = getattr(cfg, section.name)
        if type(sub).__name__ != section.type:  # cfg.data = {...}
            raise TrajCVAEError(f"invalid config: {section.name} must be a {section.type} (got {shown(sub)}); set "
                                f"its options one by one, e.g. cfg.{section.name}.<option> = value")
        fields = [f.name for f in dataclasses.fields(sub)]
        odd = next((name for name in vars(sub) if name not in fields), None)
        if odd is not None:  # cfg.train.epoch = 5: an attribute no option reads
            close = difflib.get_close_matches(odd, fields, n=1)
            raise TrajCVAEError(f"invalid config: unknown option '{section.name}.{odd}'" + (
                f"; did you mean '{section.name}.{close[0]}'?" if close else ""))
        for f in dataclasses.fields(sub):
            value, allowed = getattr(sub, f.name), f.type.split(" | ")
            if value is None and "None" in allowed:
                continue
            if "bool" in allowed and _numpy_bool(value):
                value = bool(value)
                setattr(sub, f.name, value)
            ok = isinstance(value, bool) if "bool" in allowed else \
                not isinstance(value, bool) and any(isinstance(value, kinds[k]) for k in allowed if k in kinds)
            if not ok:
                raise TrajCVAEError(f"invalid config: {section.name}.{f.name} must be of type {f.type} (got {value!r})")
            # Python's own numbers (numpy's and Fraction would make a checkpoint that no weights-only load reads).
            if isinstance(value, numbers.Integral) and not isinstance(value, bool) and "int" in allowed:
                setattr(sub, f.name, int(value))
            elif isinstance(value, numbers.Real) and not isinstance(value, bool):
                try:
                    setattr(sub, f.name, float(value))
                except OverflowError:  # 10**400
                    raise TrajCVAEError(f"invalid config: {section.name}.{f.name} must be a finite number (got "
                                        f"{shown(value)})") from None
            elif isinstance(value, str):  # (numpy's str_, a str subclass)
                setattr(sub, f.name, str(value))


# --- user options: every command checks its k, seed, device and pool size here, before any work -------

FLOAT32_MAX = 3.4028234663852886e38
MAX_SEED = 2 ** 63 - 1  # seeds and counts; torch_seed gives torch's 32-bit CPU generator a digest of larger seeds
KSETS = ("none", "kmeans", "learned")  # --kset: plain sampling (K draws, no weights) or a K-set (kset.py)


def _whole(value, option: str):
    """The Python API's counts and seeds are whole numbers (2.5 or "5" would fail deep inside torch)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TrajCVAEError(f"{option} must be a whole number (got {value!r})"
                            + (f": give it as an int, int({option})" if _whole_valued(value) else ""))
    return value


def _whole_valued(value) -> bool:
    """A number of another type that holds a whole number: 5.0, Decimal('5'), np.float64(5)."""
    try:
        return isinstance(value, (numbers.Real, decimal.Decimal)) and not isinstance(value, bool) \
            and value == int(value)
    except (ValueError, OverflowError):  # NaN, infinity
        return False


def _not_huge(value: int, option: str) -> int:
    """A count below 2**63, as torch counts things (the Python API could give 10**400, which no float holds)."""
    if value > MAX_SEED:
        raise TrajCVAEError(f"{option} must be at most 2**63 - 1 (got {shown(value)})")
    return value


def finite_number(value) -> bool:
    """A real number given as one (not a bool or text) that a float holds finitely (10**400 is none; numpy's
    timedelta64, an integer type no float() takes, is none either)."""
    try:
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))
    except (OverflowError, TypeError):
        return False


def positive_number(value) -> bool:
    """A `finite_number` above 0 (a rate, a scale, a span of seconds)."""
    return finite_number(value) and bool(value > 0)


def check_count(value: int, option: str) -> int:
    """A count of things (-k, or the Python API's chunk= and batch=): a whole number >= 1."""
    _whole(value, option)
    if value < 1:
        raise TrajCVAEError(f"{option} must be >= 1 (got {shown(value)})")
    return _not_huge(value, option)


def check_k(k: int) -> int:
    return check_count(k, "-k")


def torch_seed(seed: int) -> int:
    """The seed torch's CPU generator is given for `seed`: itself below 2**32, else a 32-bit digest of it.
    That generator keeps only a seed's low 32 bits, so 1 and 2**32 + 1 would draw the same numbers."""
    seed = int(seed)
    if 0 <= seed < 2 ** 32:
        return seed
    return int.from_bytes(hashlib.sha256(seed.to_bytes(16, "little", signed=True)).digest()[:4], "little")


def check_seed(seed: int | None) -> int | None:
    if seed is not None:
        _whole(seed, "--seed")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise TrajCVAEError(f"--seed must be between 0 and 2**63 - 1 (got {shown(seed)})")
    return seed


def check_max_gap(max_gap: float | None) -> float | None:
    """--max-gap: None (the model's) or a finite number of seconds >= 0."""
    if max_gap is not None and not (finite_number(max_gap) and max_gap >= 0):
        raise TrajCVAEError(f"--max-gap must be a number of seconds >= 0 (got {shown(max_gap)})")
    return None if max_gap is None else float(max_gap)


MAX_NOISE = 1e4  # metres: more noise than that is no tracker's
MAX_THREADS = 1024  # torch CPU threads: more than a machine's cores only slow it (10,000 crashed torch)
NOISE_AUTO = "auto"  # --noise auto: each window's noise measured from its own observed positions


def check_noise(noise: float | str | None) -> float | str | None:
    """--noise: None (the model's data.noise), a number of metres from 0 to MAX_NOISE, or NOISE_AUTO."""
    if noise is None or noise == NOISE_AUTO:
        return noise
    if not (finite_number(noise) and 0 <= noise <= MAX_NOISE):
        raise TrajCVAEError(f"--noise must be a number of metres from 0 to {MAX_NOISE:g}, or {NOISE_AUTO} (each "
                            f"window's own, measured) (got {shown(noise)})")
    return float(noise)


def check_kset(k: int, kset: str, draws: int) -> None:
    """--kset and --draws: a known mode, and a pool of plain draws larger than the K it condenses."""
    _not_huge(_whole(draws, "--draws"), "--draws")
    _one_of(kset, KSETS, "--kset")
    if kset != "none" and draws < k:
        raise TrajCVAEError(f"--draws must be at least -k = {k} (got {shown(draws)})")
    if draws < 1:  # a pool of no draws, also where no K-set reads it
        raise TrajCVAEError(f"--draws must be >= 1 (got {shown(draws)})")


CALIBRATE = ("none", "scene")  # --calibrate: plain draws as the model makes them, or fitted to the scene (calibrate.py)


def check_calibrate(calibrate: str, kset: str = "none") -> None:
    """--calibrate: a known mode, for plain draws only (a K-set's futures carry their own weights)."""
    _one_of(calibrate, CALIBRATE, "--calibrate")
    if calibrate != "none" and kset != "none":
        raise TrajCVAEError(f"--calibrate {calibrate} rescales plain draws; a K-set (--kset {kset}) carries its "
                            "own weights: drop one of them")


FUTURES = ("mean", "full")  # --futures: each z's mean path, or a draw of the whole p(y|x) (the decoder's noise too)


def check_futures(futures: str, kset: str = "none") -> None:
    """--futures: a known kind, for plain draws only (a K-set is made of mean paths)."""
    _one_of(futures, FUTURES, "--futures")
    if futures != "mean" and kset != "none":
        raise TrajCVAEError(f"--futures {futures} draws plain futures, and a K-set (--kset {kset}) is made of mean "
                            "paths: give --kset none with it")


def _one_of(value, choices: tuple[str, ...], option: str) -> None:
    """A mode option's value: one of `choices`, as text (an array or a list of them is no mode)."""
    if not isinstance(value, str) or value not in choices:
        raise TrajCVAEError(f"{option} must be one of {', '.join(choices)} (got {shown(value)})")


def check_sampling(k: int, seed: int | None = 0, kset: str = "none", draws: int = 1000,
                   calibrate: str = "none", futures: str = "mean") -> tuple[int, int | None, int]:
    """The options of every command that draws futures: -k, --seed, --kset, --draws, --calibrate, --futures;
    returns k, seed and draws as Python ints (numpy's uint8 200 times a size would wrap)."""
    check_k(k)
    _whole(seed, "--seed")  # futures are drawn from a seeded generator
    check_seed(seed)
    check_kset(k, kset, draws)
    check_calibrate(calibrate, kset)
    check_futures(futures, kset)
    return int(k), None if seed is None else int(seed), int(draws)


def check_log(log) -> None:
    """The Python API's `log`: None, or a function that takes each line (print, a logger's info)."""
    if log is not None and not callable(log):
        raise TrajCVAEError(f"log must be a function taking a line of text, such as print (got {type(log).__name__})")


def check_flags(**flags) -> None:
    """True/false options of the Python API, read as Python reads them, but for text: "no" would count as true."""
    for name, value in flags.items():
        try:
            bool(value)  # (an array of several, or pd.NA, has no truth)
        except (TypeError, ValueError):
            raise TrajCVAEError(f"{name} must be True or False (got {type(value).__name__})") from None
        if isinstance(value, (str, bytes)):
            raise TrajCVAEError(f"{name} must be True or False (got {value!r})")


def check_primary(primary: bool, every_window: bool = False, since: float | None = None) -> None:
    """--primary picks the windows itself: it goes with neither --every-window nor `since`."""
    if primary and every_window:
        raise TrajCVAEError("--primary predicts each TrajNet++ scene's primary pedestrian at the scene's last "
                            "observed frame; --every-window predicts every full window: give one of them")
    if primary and since is not None:
        raise TrajCVAEError("--primary picks each scene record's own time; since picks the latest windows: give "
                            "one of them")


def check_trajnet_output(out, primary: bool) -> bool:
    """Whether predict's `out` names a TrajNet++ prediction file (.ndjson): one forecast per scene record of a
    TrajNet++ test file, which --primary alone makes."""
    trajnet = check_path(out, "--out").suffix.lower() == TRAJNET_SUFFIX
    if trajnet and not primary:
        raise TrajCVAEError(f"--out {out}: a TrajNet++ prediction file answers each scene record of a TrajNet++ "
                            "test file: give --primary (or write a .csv or .parquet table)")
    return trajnet


def check_since(since: float | None, every_window: bool = False) -> None:
    """`since` (the Python API's predict and make_windows): a time in the input's time base, for latest windows."""
    if since is None:
        return
    if every_window:
        raise TrajCVAEError("since picks latest windows (the agents last seen at or after it): drop it, or "
                            "every_window")
    check_time(since, "since")


def check_time(value: float, option: str) -> float:
    """A moment (since, --t0, --scene-frame): a finite number in the input's time base (the Python API could
    give a Timestamp, a text or NaN)."""
    if not finite_number(value):
        raise TrajCVAEError(f"{option} must be a time in the input's time base, a finite number (got {shown(value)})"
                            + as_number_hint(value, option.lstrip("-").replace("-", "_"), time=True))
    return value


def check_forget_after(seconds: float) -> float:
    """--forget-after: how long an agent not seen again stays in view, a positive number of seconds."""
    if not positive_number(seconds):
        raise TrajCVAEError(f"--forget-after must be a positive number of seconds (got {shown(seconds)})")
    return float(seconds)


def check_calibration(draws: int) -> None:
    """--calibration: 0 (off), or enough draws per window for the density estimate behind it."""
    _not_huge(_whole(draws, "--calibration"), "--calibration")
    if draws and draws < 100:
        raise TrajCVAEError(f"--calibration needs at least 100 draws for its density estimate, or 0 for none "
                            f"(got {shown(draws)})")


TABLE_SUFFIXES = (".csv", ".parquet")  # what the table writer writes (`atomic.TableWriter`)
TRAJNET_SUFFIX = ".ndjson"  # TrajNet++ prediction records, which `predict --primary` writes


def check_path(path, option: str) -> Path:
    """A path the Python API was given (not None or a number, which the CLI cannot give)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TrajCVAEError(f"{option} must be a path (got {path!r})")
    return Path(path)


def check_output(path, option: str = "--out", folder: bool = False, table: bool | tuple[str, ...] = False,
                 inputs=()) -> None:
    """An output path must be writable before the work starts: a file name (not a folder) whose nearest
    existing parent is a writable folder, not write-protected and none of the command's `inputs` (files it
    reads: data, a model, a homography); with `folder`, a run folder (not a file); with `table`, a name
    ending in .csv or .parquet, or one of the endings `table` gives (missing folders on the way are made)."""
    given = check_path(path, option)  # as the user wrote it: its name picks a table's format, and messages show it
    if given.parts and given.parts[0].startswith("~"):  # `--out=~/x` reaches us unexpanded: it would make a '~'
        try:
            example = f", e.g. {given.expanduser()}"
        except RuntimeError:  # ~name of no user here
            example = ""
        where = f"in quotes or after '{option}='" if option.startswith("-") else "in quotes"
        why = f"no shell expanded (it leaves it {where})" if in_cli() else "Python does not expand"
        raise TrajCVAEError(f"{option} {given}: starts with '~', which {why}; give the full path{example}")
    # A Windows path names one file here: refused unless each part with a backslash is there already.
    if os.sep == "/" and any("\\" in part and not Path(*given.parts[:i + 1]).exists()
                             for i, part in enumerate(given.parts)):
        slashed = str(given).replace("\\", "/")
        raise TrajCVAEError(f"{option} {given}: a Windows path (backslashes), which this system reads as one "
                            f"name with backslashes in it; write its folders with / ({slashed})")
    path = Path(os.path.realpath(given))  # what will be written: links followed, `..` resolved
    if path.is_symlink():  # still a link once followed: links that lead to each other
        raise TrajCVAEError(f"{option} {given}: a symbolic link in a loop (it leads back to itself); remove it, or "
                            "give another path")
    if folder and path.exists() and not path.is_dir():
        raise TrajCVAEError(f"{option} {given}: is a file; give a folder for the run")
    if not folder and path.is_dir():
        raise TrajCVAEError(f"{option} {given}: is a folder; give a file name")
    if not folder and path.exists() and not path.is_file():  # written by renaming a file onto it: it would go
        raise TrajCVAEError(f"{option} {given}: is {'a pipe' if path.is_fifo() else 'a device or socket'}, not a "
                            "file; the output is written as a file (give a file name)")
    if not folder and re.fullmatch(r"-|/dev/(stdout|stderr|fd/\d+)|/proc/(self|\d+)/fd/\d+", str(given)):
        raise TrajCVAEError(f"{option} {given}: the output is written as a file (renamed into place once whole), not "
                            "to a stream; give a file name")
    endings = table if isinstance(table, tuple) else TABLE_SUFFIXES
    if table:
        check_named(given, option, endings)
    if table and given.suffix.lower() not in endings:
        named = ", ".join(endings[:-1]) + " or " + endings[-1]
        raise TrajCVAEError(f"{option} {given}: unsupported table format '{given.suffix}' (use {named})"
                            if given.suffix else f"{option} {given}: no {named} ending; give a file name "
                            f"(e.g. {given}.csv)")
    parent = path if folder and path.is_dir() else path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise TrajCVAEError(f"{option} {given}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TrajCVAEError(f"{option} {given}: {parent} is not writable")
    if not folder and path.is_file() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        raise TrajCVAEError(f"{option} {given}: is write-protected; give another name or make it writable")
    same = next((p for p in inputs if _same_file(path, p)), None)
    if same is not None:
        raise TrajCVAEError(f"{option} {given}: is {same} itself, an input of this command; give another name")
    within = next((p for p in inputs if _read_within(path, p)), None)
    if within is not None:
        raise TrajCVAEError(f"{option} {given}: is a table in {within}, a folder this command reads its tracks "
                            "from; give another name")


def check_named(path: Path, option: str, endings: tuple[str, ...]) -> None:
    """An output named by an ending alone (`.csv`, which Python reads as a hidden file's name of no ending) is
    refused with a name to give (one of `endings`, the command's)."""
    if not path.suffix and path.name.startswith(".") and len(path.name) > 1:
        ending = path.name if path.name.lower() in endings else endings[0]
        raise TrajCVAEError(f"{option} {path}: an ending with no name before it; give a file name (e.g. "
                            f"{path.parent / ('mine' + ending)})")


def read_paths(*given) -> list:
    """The files a command reads, from its arguments (paths, lists of paths, or tables and names that are
    no files, which are skipped): what its outputs must not be (`check_output`'s `inputs`)."""
    out = []
    for g in given:
        if isinstance(g, (str, Path)) and str(g).strip():  # an empty one (--scale "") names no file
            out.append(Path(g))
        elif isinstance(g, (list, tuple)):
            out += [Path(p) for p in g if isinstance(p, (str, Path))]
    return out


def _read_within(a: Path, folder) -> bool:
    """Whether output `a` (resolved) is a table in input folder `folder`, which reads it as tracks (next time,
    if it is not there yet)."""
    try:
        inside = Path(os.path.realpath(folder))
        return (Path(folder).is_dir() and not a.is_dir() and a.suffix.lower() in TABLE_SUFFIXES + (TRAJNET_SUFFIX,)
                and inside in a.parents  # (a hidden file or folder in it is not read: `tracks.list_files`)
                and not any(part.startswith(".") for part in a.relative_to(inside).parts))
    except (OSError, TypeError, ValueError):
        return False


def _same_file(a: Path, b) -> bool:
    """Whether output `a` (resolved; it may not exist yet) is input file `b`, by path or as a hard link."""
    try:
        return Path(b).is_file() and (str(a) == os.path.realpath(b) or (a.exists() and os.path.samefile(a, b)))
    except (OSError, TypeError, ValueError):
        return False


def resolve_device(name: str, said: str | None = None):
    """--device: "cpu", "cuda" (refused where CUDA is missing) or "auto" (CUDA when there is one). `said`: the
    option as its caller was given it, where not --device (train's config: "train.device = 'cuda'")."""
    import torch

    if name not in ("auto", "cpu", "cuda"):
        raise TrajCVAEError(f"--device must be cpu, cuda or auto (got {name!r})")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrajCVAEError(f"{said or '--device cuda'}: CUDA is not available on this machine (use cpu or auto)")
    return torch.device(name)
