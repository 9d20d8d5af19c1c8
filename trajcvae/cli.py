"""The command line: thin Typer commands, each calling one library function."""
from __future__ import annotations

import functools
import json
import math
import os
import re
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import Stderr, TrajCVAEError, TrajCVAEWarning, as_written, cli_wording, naming_data, one_line

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Predict where agents go next: a conditional VAE drawing K futures per agent.")
err = Console(file=Stderr(), emoji=False)  # a path holding :x: is named as it is

def _given_path(value: str) -> Path:
    """A path option or argument as given: an empty one (an unset "$OUT") would be the current folder."""
    if not str(value).strip():
        raise typer.BadParameter("an empty path (an unset variable?); give a file or folder")
    return Path(value)


def path_option(*names: str, **kwargs):
    """typer.Option for a path (`_given_path`)."""
    return typer.Option(*names, parser=_given_path, **kwargs)


def path_argument(**kwargs):
    """typer.Argument for a path (`_given_path`)."""
    return typer.Argument(parser=_given_path, **kwargs)


DataArg = Annotated[list[Path], path_argument(help="Trajectory files or folders (CSV, Parquet or "
                                                    "JSON with frame, agent_id, x, y [, scene], or lon, lat in degrees "
                                                    "for x, y; ETH/UCY text; SDD, MOTChallenge or TrajNet++ files).",
                                                    show_default=False)]
ModelArg = Annotated[str, typer.Argument(help="A checkpoint (.pt) or a built-in model name (pedestrian).")]


def _as_written(convert, kind: str):
    """A number option's parser that reads the text as a file's numbers are read (`errors.as_written`: float()
    and int() alone would read 2_5 as 25), else the one line click gives a value of the wrong type."""
    read = as_written(convert)

    def parse(text):
        try:
            return read(text)
        except (TypeError, ValueError):
            raise typer.BadParameter(f"{text!r} is not a valid {kind}.") from None
    return parse


_number, _whole = _as_written(float, "float"), _as_written(int, "integer")


def _time(text: str) -> float:
    """--t0, --scene-frame: a number (frame id, or seconds), or an ISO 8601 date-time read as a time column's are
    (seconds since 1970, UTC where it names no zone)."""
    try:
        return _number(text)
    except typer.BadParameter:
        pass
    import pandas as pd

    from .values import iso_seconds
    # As a time column's ISO 8601 text is read (pandas' "now" and "today" are none).
    since = float(iso_seconds(pd.Series([text.strip()])).iloc[0]) if re.match(r"\d{4}", text.strip()) else math.nan
    if math.isnan(since):
        raise typer.BadParameter(f"{text!r} is neither a number nor an ISO 8601 date-time "
                                 "(e.g. 2024-05-01T12:00:00.4Z)") from None
    return since


def time_option(**kwargs):
    """typer.Option for a frame id or a time (`_time`)."""
    return typer.Option(parser=_time, **kwargs)


def number_option(**kwargs):
    """typer.Option for a number (`_number`)."""
    return typer.Option(parser=_number, **kwargs)


def whole_option(*names: str, **kwargs):
    """typer.Option for a whole number (`_whole`)."""
    return typer.Option(*names, parser=_whole, **kwargs)


KOpt = Annotated[int, whole_option("-k", "--k", help="Futures (samples) per agent.")]
SeedOpt = Annotated[int, whole_option(help="Random seed: same seed and data give the same numbers on CPU.")]
DeviceOpt = Annotated[str, typer.Option(help="cpu, cuda or auto.")]
FpsOpt = Annotated[Optional[float], number_option(help="Frames per second of the input's frame ids: the tracks are "
                   "resampled onto the model's step (its data.dt; 0.4 s for pedestrian). Not needed for a time "
                   "column in seconds (beside a frame column, --fps makes the frame ids the clock; alone, its stamps "
                   "are read on a grid of that rate, for detections made evenly but stamped on arrival). Default: the "
                   "format's own rate (SDD, MOT's seqinfo.ini, TrajNet++), else (reading with a model) the model's "
                   "training rate, else "
                   "each scene's frame step taken as one model step.", show_default=False)]


def _number_or_file(value: Optional[str]):
    """--scale: a number of metres per unit as a float; other text (a file of scales per scene) as it is."""
    if value is not None and not value.strip():
        raise typer.BadParameter("empty (an unset variable?); give a number of metres per unit or a file of scales")
    try:
        return None if value is None else _number(value)
    except typer.BadParameter:
        return value


ScaleOpt = Annotated[Optional[str], typer.Option(help="Metres per unit of the input's positions (0.01 for "
                     "centimetres, 0.3048 for feet), or a file of each scene's (SDD's estimated_scales.yaml, a "
                     "YAML/JSON {scene: scale}, or a CSV of scene, scale); predicted futures (predict, visualize, "
                     "serve) come back in the input's units, scores are in metres.", callback=_number_or_file,
                     show_default=False)]
HomographyOpt = Annotated[Optional[Path], path_option(help="Text file of a 3x3 matrix taking image pixels (u, v, 1) "
                          "to metres (as ETH/UCY's H.txt); predicted futures (predict, visualize, serve) come back "
                          "in pixels, scores are in metres.", show_default=False)]


def _as_given(given: dict) -> dict:
    """{config key: value} of a command's options -> load_config's {key: (the option's flag, value)}, for those
    given (not None)."""
    from .config import TRAIN_OPTIONS

    return {key: (TRAIN_OPTIONS[key], v) for key, v in given.items() if v is not None}


def _data_given(fps, scale, homography, classes, columns) -> dict:
    """The data options train and benchmark share, as `_as_given` gives them."""
    return _as_given({"data.fps": fps, "data.scale": scale, "data.homography": None if homography is None else
                      str(homography), "data.classes": classes, "data.columns": columns})


@contextmanager
def naming_config(config: Optional[Path], set_: Optional[list[str]], given: dict, data=None):
    """A data error quoting --classes, --columns or --fps (as `read_tracks` words them: '--classes: ...',
    '--columns x=a: ...', '--fps 25: ...') whose value the config file or a --set gave (`data`: the config's
    data section; None: judged by the error's start alone), not the command line (`given`: the values it gave,
    of the options judged), names the option as it was given; a --columns the error suggests stays."""
    from .errors import DataError

    try:
        yield
    except DataError as e:
        text = str(e)
        for key in ("data.classes", "data.columns", "data.fps"):
            name = key.partition(".")[2]
            if key not in given or given[key] is not None or (data is not None and getattr(data, name) is None):
                continue  # the command line's own, or not given at all
            value = None if data is None else getattr(data, name)
            values = "" if data is None else f"{value:g}" if name == "fps" else \
                "|".join(re.escape(v.strip()) for v in str(value).split(","))
            quoted = rf"^--{name}\b" if data is None else rf"--{name}(?=:| (?:{values})\b)"
            if re.search(quoted, text):
                by_set = any(s.partition("=")[0].strip() == key for s in set_ or [])
                named = f"--set {key}" if by_set or config is None else f"{config}: {key}"
                joint = "=" if named.startswith("--set") else " = "  # as given: --set key=value, a file's key = value
                text = re.sub(quoted + " ?", lambda m: named + (joint if m[0].endswith(" ") else ""), text, count=1)
                if name == "fps":  # its fixes too: 'drop --fps', 'give --fps 25 if ...'
                    text = re.sub(r"--fps(?: (\d[\w.+-]*))?", lambda m: (
                        f"--set {key}" + (f"={m[1]}" if m[1] else "") if named.startswith("--set") else
                        key + (f" = {m[1]}" if m[1] else "")), text)
                raise type(e)(text) from None
        raise


def _joined(values: Optional[list[str]]) -> Optional[str]:
    """A repeatable option's values as one comma-separated text: --columns x=a --columns y=b is x=a,y=b."""
    return None if not values else ",".join(values)


def _draws(draws: Optional[int], kset: str) -> int:
    """--draws, which only a K-set reads: given without --kset it would change nothing, so it is refused."""
    if draws is not None and kset == "none":
        raise TrajCVAEError(f"--draws {draws} sets the plain draws behind a K-set: add --kset kmeans (or learned), or "
                            "drop --draws")
    return 1000 if draws is None else draws


ClassesOpt = Annotated[Optional[list[str]], typer.Option(help="Comma-separated labels of the agents to keep, e.g. "
                       "Pedestrian,Biker (SDD's or MOT ground truth's classes, or a CSV `label`, `type`, `class` or "
                       "`category` column); repeatable.", show_default=False)]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", help="Any config option, e.g. --set model.hidden=64 "
                                                                   "(repeatable).")]
ColumnsOpt = Annotated[Optional[list[str]], typer.Option(help="The input's columns of other names, as role=column "
                       "pairs: frame, time (seconds; time_ms, time_us, time_ns for milli-, micro-, nanoseconds; "
                       "time_min, time_h, time_d for minutes, hours, days), "
                       "agent_id, x, y (or lon, lat), scene, label; e.g. "
                       "frame=timestep,agent_id=track_id,x=position_x,y=position_y; repeatable.", show_default=False)]
MaxGapOpt = Annotated[Optional[float], number_option(help="Seconds between two observations of an agent that "
                      "resampling bridges (default: the model's data.max_gap, 0.8 s for pedestrian); GPS logs "
                      "at 1 Hz need 1.5.", show_default=False)]
def _number_or_auto(text: str):
    """--noise: a number of metres as a float, or the word auto."""
    from .config import NOISE_AUTO
    try:
        return text if text == NOISE_AUTO else _number(text)
    except typer.BadParameter:
        raise typer.BadParameter(f"{text!r} is neither a number of metres nor {NOISE_AUTO}.") from None


NoiseOpt = Annotated[Optional[str], typer.Option(help="Metres (std per axis) of the detections' noise, or auto (each "
                     "window's own, measured from its observed positions): each history (the agent's and its "
                     "neighbours') is smoothed before the model reads it, which keeps a jittery tracker's futures "
                     "near a clean one's (default: the model's data.noise, 0: read as recorded).",
                     parser=_number_or_auto, show_default=False)]
KSetOpt = Annotated[str, typer.Option(help="none: K plain draws. kmeans: the K means of the k-means clusters of "
                   "--draws plain draws. learned: the model's trained K-set sampler (K = its kset.k, 20 for "
                   "pedestrian). Both K-sets weigh each future by its share of --draws plain draws (its `weight`, in "
                   "predict's table and serve's answers).")]
DrawsOpt = Annotated[Optional[int], whole_option(help="Plain draws per agent behind a --kset (its k-means pool and "
                                                      "its weights; default 1000).")]
CalibrateOpt = Annotated[str, typer.Option(help="none: plain draws as the model makes them. scene: each agent's "
                         "draws moved nearer to or farther from its most likely future, to fit how the model did "
                         "on the same scene before t0 (the input's finished windows are predicted first; see "
                         "docs/results.md).")]
FuturesOpt = Annotated[str, typer.Option(help="mean: each future is the mean path of p(y|x,z) for one z ~ p(z|x): "
                       "smooth, what best-of-K scores. full: a draw of the whole predictive distribution p(y|x), the "
                       "decoder's noise added at every step: jagged, but spread as the distribution whose calibration "
                       "evaluate measures (and --calibrate scene fits). Plain draws only (--kset none).")]
ScoredFuturesOpt = Annotated[str, typer.Option("--futures", help="The futures min@K scores: mean (each z's mean "
                             "path, predict's default) or full (draws of the whole p(y|x), predict --futures full). "
                             "The calibration is of full draws either way.")]
LiveCalibrateOpt = Annotated[str, typer.Option("--calibrate", help="none: plain draws as the model makes them. "
                             "scene: each agent's draws moved nearer to or farther from its most likely future, "
                             "to fit how the model has done on the scene's windows finished so far (docs/live.md).")]


def _version(value: bool) -> None:
    if value:
        from ._version import __version__

        print(f"trajcvae {__version__}")
        raise typer.Exit()


@app.callback()
def _options(ctx: typer.Context, version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False) -> None:
    """Predict where agents go next: a conditional VAE drawing K futures per agent."""
    python, warnings.showwarning = warnings.showwarning, _warning_line
    _SAID.clear()
    if hasattr(sys.stdout, "reconfigure"):  # a console that cannot show a name's letters (ASCII, cp1252) escapes
        sys.stdout.reconfigure(errors="backslashreplace")  # them, as Python's stderr does, rather than fail
    cli_wording(True)  # messages name options as this command line gives them, until the command ends

    def ended() -> None:  # a Python caller's own warnings after it (CliRunner) show as Python shows them
        cli_wording(False)
        warnings.showwarning = python
        _SAID.clear()

    ctx.call_on_close(ended)


def _warning_line(message, category, filename, lineno, file=None, line=None, _python=warnings.showwarning) -> None:
    """A `TrajCVAEWarning` (e.g. the live predictor's speed check under `serve`) as the CLI's other warnings:
    one line, without the Python source line, once a command (a folder listed again says its skipped files
    again); matplotlib's for each character its font lacks (a scene named 北京站) as one line, once; other
    warnings as Python shows them."""
    glyph = re.match(r"Glyph (\d+) .* missing from font", str(message))
    if issubclass(category, TrajCVAEWarning):
        if str(message) not in _SAID:
            _SAID.add(str(message))
            info(f"warning: {message}")
    elif glyph and not _MISSING_GLYPHS:
        _MISSING_GLYPHS.append(chr(int(glyph[1])))
        info(f"warning: the picture's font lacks some characters of its text ({_MISSING_GLYPHS[0]} ...), which show "
             "as boxes; install a font that has them and name it in a matplotlibrc (font.sans-serif)")
    elif not glyph:
        _python(message, category, filename, lineno, file, line)


_MISSING_GLYPHS: list[str] = []  # the first character a picture's font lacked (said once)
_SAID: set[str] = set()  # the warnings this command has given


def user_errors(fn):
    """Turn the project's own errors into a one-line message and exit code 1 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            done = fn(*args, **kwargs)
            if _KILLS:  # a kill whose exception was lost (below) ends the command as it would have
                raise Killed(_KILLS[0], finished=True)
            return done
        except TrajCVAEError as e:  # escaped: the message may quote the user's data, e.g. a value '[/]'
            err.print(f"[bold red]error:[/] {escape(one_line(str(e)))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except (MemoryError, RuntimeError) as e:  # torch's allocators fail with a RuntimeError
            if isinstance(e, RuntimeError) and not _out_of_memory(str(e)):
                raise
            err.print(f"[bold red]error:[/] {escape(one_line(memory_error(e, fn.__name__)))}", highlight=False,
                      soft_wrap=True)
            raise typer.Exit(1) from None
        except OSError as e:  # the system refused a read or a write: say which file, and why
            where = f"{e.filename}: " if e.filename else ""
            err.print(f"[bold red]error:[/] {escape(one_line(where + (e.strerror or str(e))))}", highlight=False,
                      soft_wrap=True)
            raise typer.Exit(1) from None
        except (KeyboardInterrupt, Killed) as e:  # the work has unwound: say what is kept, and how to go on
            import signal

            if fn.__name__ != "serve":  # (Ctrl-C is how a server is stopped); a kill is named by its signal
                how = f"stopped by {signal.Signals(e.signum).name}" if isinstance(e, Killed) else "interrupted"
                kept = "its work was done, and its output written whole" if getattr(e, "finished", False) else \
                    _kept(fn.__name__, kwargs)
                err.print(f"{how}: {escape(kept)}", highlight=False, soft_wrap=True)
            if isinstance(e, Killed):  # its exit code, 128 + the signal
                raise
            raise typer.Exit(130) from None

    return wrapper


def _kept(command: str, options: dict) -> str:
    """What a command stopped by Ctrl-C or a kill leaves, and how to continue it where it can be."""
    out = options.get("out")
    if command == "train" and out is not None and (Path(out) / "last.pt").is_file():
        return f"{out} keeps its last finished epoch (last.pt); continue it with the same command and --resume"
    if command == "benchmark":
        return "the same command continues from the splits and epochs that finished, if any (in its results folder)"
    if command == "demo" and out is not None and (Path(out) / "last.pt").is_file():
        return f"{out} keeps its last finished epoch; the same command continues from there"
    return "no output was written, and no half-written file was left"


def _out_of_memory(text: str) -> bool:
    """Whether torch's error `text` is an allocation that failed (CPU or CUDA)."""
    return "can't allocate memory" in text or "out of memory" in text.lower()


def memory_error(e: BaseException, command: str = "train") -> str:
    """The one line for an allocation that failed: how much was asked, where known, and the options of
    `command` that size the work (a config's sizes, -k and --draws, the files given at a time)."""
    asked = re.search(r"allocate (\d+) bytes", str(e))
    gib = re.search(r"[Tt]ried to allocate ([\d.]+ [KMGT]iB)", str(e))
    size = f" (an allocation of {int(asked[1]) / 2 ** 30:.3g} GiB failed)" if asked else \
        f" (an allocation of {gib[1]} failed)" if gib else ""
    config = "model.hidden, train.batch_size, train.variety_k, data.max_neighbors or data.memory with --set"
    sizes = {"train": config, "benchmark": f"{config}; --draws or --calibration",
             "evaluate": "-k, --draws or --calibration", "visualize": "-k or --draws; --agent and --t0, or "
                                                                     "--scene-frame, draw one moment",
             "predict": "-k or --draws"}
    if command == "serve":  # detections come over HTTP: no files to split
        return f"out of memory{size}: lower what sizes the work (-k, --draws, --max-agents, --max-scenes or --max-k)"
    if command not in sizes:  # simulate (--scenes, --frames are checked), demo, plot-training: a machine too full
        return f"out of memory{size}: free some memory (close other programs) and run it again"
    return (f"out of memory{size}: lower what sizes the work ({sizes[command]}), or give fewer or smaller files at a "
            "time (e.g. split them by scene)")


def info(message: str) -> None:
    """A line about the input (e.g. the data summary, a warning), on stderr so stdout keeps only results."""
    err.print(escape(one_line(message)), highlight=False, soft_wrap=True)


def result(line: str) -> None:
    """A line on stdout (a command's result, "-> path"), whole however long, as written: a script reads the
    path from it."""
    stdout(escape(line), line, console=Console(emoji=False), soft_wrap=True)


def stdout(what, shown: str = "a table", console: Console | None = None, **options) -> None:
    """Print `what` (text or a rich table) on stdout; a full disk under a redirection (> log.txt) is named
    as stdout's, with `shown`, what was not written (the work itself is done)."""
    try:
        (console or Console()).print(what, highlight=False, **options)
    except OSError as e:
        raise TrajCVAEError(f"writing this line to stdout: {e.strerror or e}: {shown}") from None


@app.command()
@user_errors
def train(
    data: DataArg,
    val: Annotated[Optional[list[Path]], path_option(help="A validation file or folder (picks the "
                   "best checkpoint); repeat it for more (--val a.csv --val b.csv); default: the latest 10% of each "
                   "training scene.")] = None,
    config: Annotated[Optional[Path], path_option(help="TOML config overriding the defaults (which are the "
                      "recipe the README's results come from).")] = None,
    out: Annotated[Path, path_option(help="Run folder for checkpoints and metrics.")] = Path("runs/default"),
    epochs: Annotated[Optional[int], whole_option(help="Override train.epochs (default: the config's "
                      "train.epochs, 40 without --config).")] = None,
    seed: Annotated[Optional[int], whole_option(help="Override train.seed (default: the config's train.seed, 0 "
                    "without --config).")] = None,
    device: Annotated[Optional[str], typer.Option(help="Override train.device: cpu, cuda or auto (default: the "
                      "config's train.device, auto without --config).")] = None,
    time_step: Annotated[Optional[float], number_option(help="Override data.time_step: the frame-id step between "
                         "samples, for frame ids of unknown rate (default: inferred per scene, its most common "
                         "frame difference); refused for a time column in seconds or --fps.")] = None,
    fps: FpsOpt = None,
    scale: ScaleOpt = None,
    homography: HomographyOpt = None,
    classes: ClassesOpt = None,
    columns: ColumnsOpt = None,
    set_: SetOpt = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out from its last checkpoint.")] = False,
    max_grad_norm: Annotated[Optional[float], number_option(help="Override train.max_grad_norm: clip the "
                             "gradient norm to this; 0 = off (default: the config's train.max_grad_norm, 1.0 "
                             "without --config).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    cache: Annotated[bool, typer.Option(help="Keep built windows in the cache folder ($TRAJCVAE_CACHE, "
                                             "default ~/.cache/trajcvae) for the next run on the same files.")] = True,
    figures: Annotated[bool, typer.Option(help="Draw curves.png and val_predictions.png at the end (a few "
                                               "seconds; skip them in sweeps).")] = True,
):
    """Train a CVAE on trajectory files; writes best.pt, last.pt and metrics.csv into --out."""
    classes, columns = _joined(classes), _joined(columns)
    from .config import load_config
    from .train import train as run

    if config is not None and not resume and config.resolve() == (out / "config.toml").resolve():
        raise TrajCVAEError(f"--config {config}: train writes the run's own record of its config there (--out {out}), "
                            "over this file: keep your config file outside --out")
    given = {"train.epochs": epochs, "train.seed": seed, "train.device": device, "data.time_step": time_step,
             "train.max_grad_norm": max_grad_norm}
    cfg = load_config(config, list(set_ or []),
                      _as_given(given) | _data_given(fps, scale, homography, classes, columns))
    from .windows import default_cache_dir

    with naming_config(config, set_, {"data.classes": classes, "data.columns": columns, "data.fps": fps}, cfg.data):
        r = run(data, val, cfg, out, resume=resume, progress=not quiet, log=info,
                cache_dir=default_cache_dir() if cache else None, figures=figures)
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 reports
        return
    if r.complete:  # (train said so; its epochs are the run's own, as --resume keeps them)
        info(f"give --epochs {r.epochs + 1} or more with --resume to train it further")
    last = f"; the last epoch: the run ends before its KL weight is full at epoch {r.kl_anneal_epochs}, from " \
        "which best.pt is picked" if r.epochs < r.kl_anneal_epochs else ""
    result(f"best epoch {r.best_epoch} (val minADE@{r.k_eval} {r.best_val_min_ade:.3f} m{last}) in {r.seconds:.0f} s "
           f"-> {r.out_dir / 'best.pt'}")


@app.command()
@user_errors
def predict(
    model: ModelArg,
    data: DataArg,
    k: KOpt = 20,
    out: Annotated[Path, path_option(help="Output table: .csv, or .parquet; with --primary also .ndjson, "
                                            "TrajNet++ prediction records.")] = Path("predictions.csv"),
    seed: SeedOpt = 0,
    every_window: Annotated[bool, typer.Option("--every-window", "--windows", help="Predict every (agent, t0) "
                            "with a full observed and future window (evaluation mode) instead of each agent's "
                            "latest frame.")] = False,
    device: DeviceOpt = "cpu",
    kset: KSetOpt = "none",
    draws: DrawsOpt = None,
    fps: FpsOpt = None,
    scale: ScaleOpt = None,
    homography: HomographyOpt = None,
    classes: ClassesOpt = None,
    columns: ColumnsOpt = None,
    calibrate: CalibrateOpt = "none",
    futures: FuturesOpt = "mean",
    max_gap: MaxGapOpt = None,
    noise: NoiseOpt = None,
    primary: Annotated[bool, typer.Option("--primary", help="TrajNet++ input: one forecast per scene record, of "
                       "its primary pedestrian from the scene's last observed frame (its start + 8 samples), with "
                       "the record's scene_id column, instead of each agent's from its latest frame.")] = False,
):
    """K futures per agent: columns scene, agent_id, t0, sample, step, frame (time for an input in seconds), x, y
    (lon, lat for an input in degrees), and weight with --kset."""
    classes, columns = _joined(classes), _joined(columns)
    draws = _draws(draws, kset)
    from .predict import predict_to_file, unpredicted_records

    r = predict_to_file(model, data, out, k=k, seed=seed, every_window=every_window, device=device, log=info,
                        kset=kset, draws=draws, fps=fps, scale=scale, homography=homography, classes=classes,
                        calibrate=calibrate, max_gap=max_gap, columns=columns, primary=primary, futures=futures,
                        noise=noise)
    many, were = r.skipped != 1, "were" if r.skipped != 1 else "was"
    gap = "a missed frame (--fps bridges short gaps)" if r.tracks.steps is not None else "a gap over --max-gap"
    # About the input: on stderr, so that the result line ends with the path a script reads from it.
    if r.skipped and primary:
        info(unpredicted_records(r.skipped))
    elif r.skipped:
        info(f"{r.skipped} agent{'s' * many} with no position a model step before {'their' if many else 'its'} "
             f"latest one (seen for less than a step, or just after {gap}) {were} not predicted")
    drawn = "full draw" if futures == "full" else "sample"
    result(f"{r.n_windows} window{'s' * (r.n_windows != 1)} x {k} {drawn}{'s' * (k != 1)} -> {out}")


@app.command()
@user_errors
def evaluate(
    model: ModelArg,
    data: DataArg,
    k: KOpt = 20,
    seed: SeedOpt = 0,
    json_out: Annotated[Optional[Path], path_option("--json", help="Also write the numbers as JSON.")] = None,
    device: DeviceOpt = "cpu",
    kset: KSetOpt = "none",
    draws: DrawsOpt = None,
    calibration: Annotated[int, whole_option(help="Draws per window (at least 100) for the calibration of plain "
                           "sampling: how often the truth falls in the p highest-density region of the whole "
                           "predictive distribution's draws (predict's --futures full; its mean paths are "
                           "narrower); 0 = off.")] = 200,
    fps: FpsOpt = None,
    scale: ScaleOpt = None,
    homography: HomographyOpt = None,
    classes: ClassesOpt = None,
    columns: ColumnsOpt = None,
    calibrate: CalibrateOpt = "none",
    futures: ScoredFuturesOpt = "mean",
    max_gap: MaxGapOpt = None,
    noise: NoiseOpt = None,
    primary: Annotated[bool, typer.Option("--primary", help="TrajNet++'s protocol: score only each scene record's "
                       "primary pedestrian, from the scene's last observed frame (its start + 8 samples); the "
                       "input holds the futures (a test_private file).")] = False,
):
    """minADE/minFDE@K per scene and overall, beside constant-velocity baselines."""
    classes, columns = _joined(classes), _joined(columns)
    draws = _draws(draws, kset)
    from .atomic import write_text
    from .config import check_calibration, check_named, check_output, check_sampling, read_paths
    from .evaluate import calibration_fits, evaluate as run
    from .predict import TrajCVAE
    from .table import column_map
    from .checks import summarize

    check_sampling(k, seed, kset, draws, calibrate, futures)
    column_map(columns)
    check_calibration(calibration)
    calibration_fits(calibration)
    if json_out is not None:
        check_named(json_out, "--json", (".json",))
        if json_out.suffix.lower() != ".json":
            raise TrajCVAEError(f"--json {json_out}: give a name ending in .json")
        check_output(json_out, "--json", inputs=read_paths(model, data, homography, scale))
    predictor = TrajCVAE.load(model, device=device, max_gap=max_gap, noise=noise)
    predictor.check_kset(k, kset)
    predictor.check_draws_fit(k, kset, draws)  # before the data is read
    with naming_data(data):
        tracks = predictor.read(data, fps, scale, homography, classes, columns)
    info(summarize(tracks, predictor.config.data.time_step, predictor.config.data.max_gap).line())
    warning = predictor.check_speeds(tracks, info)
    with naming_data(data):
        scores = run(predictor, tracks, k=k, seed=seed, kset=kset, draws=draws, calibration_draws=calibration,
                     calibrate=calibrate, log=info, primary=primary, futures=futures)
    records = tracks.attrs.get("scene_records")
    if records is not None and not primary:  # every full window is scored: TrajNet++'s protocol scores fewer
        n = len(records["scene_id"])
        info(f"note: the input holds {n} TrajNet++ scene record{'s' * (n != 1)}; every full window of every "
             "pedestrian is scored, and --primary scores only the records' primaries (TrajNet++'s protocol)")
    empty = scores["scenes_without_windows"]
    if empty:  # not in the table: say so rather than leave them out in silence
        dc = predictor.config.data
        info(f"note: {len(empty)} scene{'s' * (len(empty) != 1)} gave no window (no track of obs_len {dc.obs_len} + "
             f"pred_len {dc.pred_len} steps) and {'are' if len(empty) != 1 else 'is'} not in the table: "
             + ", ".join(empty[:5]) + (" ..." if len(empty) > 5 else ""))
    if json_out is not None:  # what was scored, beside the numbers
        read_at = tracks.attrs.get("fps") if tracks.attrs.get("rate_from") in ("model", "file") else fps
        inputs = {"model": str(model), "data": [str(p) for p in data], "fps": read_at, "scale": scale,
                  "homography": None if homography is None else str(homography), "classes": classes,
                  "columns": columns, "primary": primary,
                  "max_gap": predictor.config.data.max_gap, "noise": predictor.config.data.noise, "warning": warning}
        write_text(json_out, json.dumps({**inputs, **scores}, indent=2))  # atomically: never a half-written file
    # The tables last: a pipe's reader that stops early (or a full disk under a redirection) loses no file.
    print_table(scores)
    if calibration:
        print_calibration(scores["calibration"])


def print_wide(table: Table) -> None:
    """A table to a terminal (or to a width set by COLUMNS) as it fits there, its ADE/FDE pairs stacked where
    it is too narrow for them side by side (folded, `0.590/1.073` would read `0.590/1.` over `073`), its
    cells folded where it is narrower still; piped or captured (a log, CI), whole: rich's 80 columns for a
    non-terminal would fold a number of 100 m or more onto a line of its own."""
    console = Console()
    width = lambda t: console.measure(t, options=console.options.update(max_width=10_000)).maximum  # noqa: E731
    if not (console.is_terminal or os.environ.get("COLUMNS")):
        console = Console(width=1000)
    elif width(table) > console.width:
        names = max(len(text) for text in [str(table.columns[0].header), *map(str, table.columns[0].cells)])
        for headings in (True, False):  # number columns as wide as their headings' words, or their numbers
            stacked = _pairs_stacked(table, headings)  # of fixed widths: the names' column may fold
            if width(stacked) - names + min(names, len("overall")) <= console.width:
                table = stacked  # (narrower still: cells folded, every digit kept)
                break
    stdout(table, table.title or "a table", console)


def _pairs_stacked(table: Table, headings: bool = True) -> Table:
    """`table` with each number pair of its number columns (all but the first) on two lines: `0.590/` over
    `1.073`, each of those columns as wide as its widest number (and, with `headings`, its heading's words; at
    least 4 characters, for a heading to fold into)."""
    stacked = Table(title=table.title, title_justify=table.title_justify, box=table.box,
                    show_edge=table.show_edge, pad_edge=table.pad_edge)
    cells = [[str(c) for c in column.cells] for column in table.columns]
    cells[1:] = [[c.replace("/", "/\n") for c in column] for column in cells[1:]]
    for column, texts in zip(table.columns, cells):  # a number (or a word of its heading) is never folded
        widest = max(4, *(len(part) for part in "\n".join(texts + [str(column.header)] * headings).split()))
        fixed = None if column is table.columns[0] else widest
        stacked.add_column(column.header, justify=column.justify, overflow=column.overflow, width=fixed)
    for i, row in enumerate(table.rows):
        stacked.add_row(*[column[i] for column in cells], end_section=row.end_section)
    return stacked


def as_printed(name: str) -> str:
    """A name as stdout prints it: letters its encoding lacks (an ASCII or cp1252 console) escaped, as it escapes
    them (\\u6771), so that a table measures its cells as they show."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        return name.encode(encoding, "backslashreplace").decode(encoding)
    except (LookupError, UnicodeError):
        return name


def narrow_table(title: str, columns: list[str]) -> Table:
    """A table without borders or edge padding, so that its columns fit an 80-column terminal: the first
    column names the rows, the others hold numbers, right-justified. On a narrower terminal a cell folds
    onto a second line rather than losing digits."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for i, name in enumerate(columns):
        table.add_column(name, justify="right" if i else "left", overflow="fold")
    return table


def print_table(scores: dict) -> None:
    """The evaluation as ADE/FDE pairs, narrow enough for an 80-column terminal."""
    k, kset = scores["k"], scores.get("kset", "none")
    how = {"kmeans": f", K-set: k-means of {scores.get('draws')} draws", "learned": ", K-set: learned sampler"}
    how = how.get(kset, ", scene-fitted draws" if scores.get("calibrate") == "scene" else "")
    how += ", full draws of p(y|x)" if scores.get("futures") == "full" else ""
    pairs = {f"min@{k}": "min", "prior mean": "ml", "const-vel": "cv", f"line min@{k}": "ncv_min"}
    table = narrow_table(f"best of K={k}{how}, ADE/FDE (metres; lower is better)", ["scene", "windows", *pairs])
    scenes = list(scores["scenes"])
    for scene, row in scores["scenes"].items():
        cells = [f"{row[p + '_ade']:.3f}/{row[p + '_fde']:.3f}" for p in pairs.values()]
        table.add_row(as_printed(scene), str(row["windows"]), *cells,
                      end_section=len(scenes) > 1 and scene == scenes[-2])
    print_wide(table)
    overall = scores["scenes"]["overall"]
    if kset != "none":  # the weights' score: minFDE + (1 - weight of the future nearest the truth)^2
        result(f"Brier-minFDE@{k} of the K-set's weights: {overall['brier_fde']:.3f} (minFDE@{k} "
               f"{overall['min_fde']:.3f} m, plus (1 - the weight of the future nearest the truth)^2)")
    if "first_ade" in overall:  # evaluate --primary
        order = "heaviest first" if kset != "none" else "as drawn"
        result(f"TrajNet++'s scores (futures {order}): prediction 0 ADE/FDE {overall['first_ade']:.3f}/"
               f"{overall['first_fde']:.3f}, top-3 {overall['top3_ade']:.3f}/{overall['top3_fde']:.3f}")


@app.command()
@user_errors
def simulate(
    out: Annotated[Path, path_argument(help="CSV (or .parquet) to write.")],
    scenes: Annotated[int, whole_option(help="Number of scenes.")] = 1,
    frames: Annotated[int, whole_option(help="Steps per scene (0.4 s each); scenes x frames at most 200,000, "
                                              "and scenes x frames x rate (arrivals) at most 70,000.")] = 400,
    rate: Annotated[float, number_option(help="Expected new agents per step, at most 10 (the plaza is a dense crowd "
                                             "at 5, which pushes a third of the agents back out by the edge they "
                                             "came in through before they reach the centre).")] = 0.35,
    seed: Annotated[int, whole_option(help="Random seed: the same seed and options give the same dataset.")] = 0,
    prefix: Annotated[str, typer.Option(help="The scenes' names: PREFIX0, PREFIX1, ... (files read together need "
                                             "scenes of their own names: give each its own prefix).")] = "plaza",
):
    """Write a synthetic multi-agent dataset: a plaza where agents pick one of three exits (a dense crowd turns
    some back before they reach the centre: see --rate)."""
    from .simulate import simulate as run

    df = run(out, scenes=scenes, n_frames=frames, spawn_rate=rate, seed=seed, prefix=prefix)
    result(f"{len(df)} rows, {df.groupby('scene', observed=True).agent_id.nunique().sum()} agents -> {out}")


@app.command()
@user_errors
def demo(
    out: Annotated[Path, path_option(help="Run folder.")] = Path("runs/demo"),
    epochs: Annotated[Optional[int], whole_option(help="Override the demo's epochs (default: train.epochs of "
                      "trajcvae/configs/demo.toml, 10).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
):
    """The whole job on the bundled synthetic data: train -> predict -> evaluate -> a picture. A demo run
    already in --out is continued (or, with all its epochs, used as it is)."""
    from .demo import run_demo

    if epochs is not None and epochs < 1:
        raise TrajCVAEError(f"--epochs must be >= 1 (got {epochs})")
    done = run_demo(out, epochs=epochs, progress=not quiet, log=info)
    print_table(done["evaluation"])
    print_calibration(done["evaluation"]["calibration"])
    for key in ("data", "checkpoint", "predictions", "figure"):
        result(f"{key}: {done[key]}")


@app.command()
@user_errors
def benchmark(
    suite: Annotated[str, typer.Argument(help="eth-ucy: ETH/UCY's five leave-one-scene-out splits. folders: your "
                                              "own, each split a folder holding train/, val/ and test/.")],
    root: Annotated[Optional[Path], path_option(help="eth-ucy: the folder of {eth,hotel,univ,zara1,zara2}/"
                    "{train,val,test} (default: ../shared/datasets/eth_ucy). folders: the folder of your splits, "
                    "or one split itself.")] = None,
    config: Annotated[Optional[Path], path_option(help="TOML config overriding the defaults, one for all "
                                                        "splits (default: the defaults, i.e. the recipe).")] = None,
    out: Annotated[Optional[Path], path_option(help="Results folder (results.json, results.md, runs; default: "
                                                     "results/eth_ucy, or results/ and --root's name).")] = None,
    splits: Annotated[Optional[str], typer.Option(help="Comma-separated splits (default: all; eth-ucy's are "
                                                       "eth,hotel,univ,zara1,zara2, folders' their folder names).")]
        = None,
    seeds: Annotated[int, whole_option(help="Seeds per split (0..N-1); the table shows their mean, "
                                            "a second table each seed.")] = 1,
    is_samples: Annotated[int, whole_option(help="Samples from q(z|x,y) for the importance-sampled NLL.")] = 100,
    kde_samples: Annotated[int, whole_option(help="Samples per window for the KDE NLL.")] = 2000,
    draws: Annotated[int, whole_option(help="Also score both K-set modes (k-means and the learned sampler) on this "
                                            "many plain draws per window, in their own tables; 0 = off.")] = 1000,
    calibration: Annotated[int, whole_option(help="Draws per window (at least 100) for the calibration of plain "
                           "sampling (on up to 2000 windows per split; a finished split gets it from its checkpoint); "
                           "0 = off.")]
        = 200,
    fps: FpsOpt = None,
    scale: ScaleOpt = None,
    homography: HomographyOpt = None,
    classes: ClassesOpt = None,
    columns: ColumnsOpt = None,
    set_: SetOpt = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
):
    """Train, select on val and report test for each split, several seeds: ETH/UCY leave-one-scene-out, or your
    own splits; resumable (skips finished splits)."""
    from .benchmark import run_benchmark

    if root is None and suite == "folders":
        raise TrajCVAEError("benchmark folders needs --root: the folder of your splits (each holding train/, val/ "
                            "and test/)")
    default = Path("../shared/datasets/eth_ucy")
    if root is None and not default.is_dir():
        raise TrajCVAEError(f"benchmark eth-ucy: no --root given, and its default, {default}, is not here; give "
                            "--root, the folder of the ETH/UCY splits ({eth,hotel,univ,zara1,zara2}/{train,val,test})")
    root = root or default
    out = out or Path("results") / ("eth_ucy" if suite == "eth-ucy" else root.resolve().name)
    classes, columns = _joined(classes), _joined(columns)
    with naming_config(config, set_, {"data.classes": classes, "data.columns": columns, "data.fps": fps}):
        report = run_benchmark(root, config, out,
                               None if splits is None else [s.strip() for s in splits.split(",") if s.strip()],
                               seeds=seeds, is_samples=is_samples, kde_samples=kde_samples, draws=draws,
                               calibration_draws=calibration, progress=not quiet, suite=suite,
                               overrides=list(set_ or []),
                               options=_data_given(fps, scale, homography, classes, columns), log=info)
    modes = [(p, name) for p, name in (("km", "k-means"), ("ks", "learned"))
             if all(f"{p}_min_ade" in r for r in report["splits"].values())]
    table = narrow_table(f"test minADE/minFDE@{report['k']} (m); every column in results.md",
                         ["split", "windows", "plain"] + [name for _, name in modes] + ["const-vel"])
    for split, r in report["splits"].items():
        cells = [f"{r['windows']:.0f}", f"{r['min_ade']:.3f}/{r['min_fde']:.3f}"]
        cells += [f"{r[p + '_min_ade']:.3f}/{r[p + '_min_fde']:.3f}" for p, _ in modes]
        table.add_row(as_printed(split), *cells, f"{r['cv_ade']:.3f}/{r['cv_fde']:.3f}", end_section=split == list(
            report["splits"])[-2])
    print_wide(table)
    result(f"-> {out / 'results.md'}")


def print_calibration(cal: dict) -> None:
    """One line per region: how often the truth fell inside the p highest-density region of plain draws."""
    final, every = cal["final"], cal["all_steps"]
    shown = [i for i, p in enumerate(final["p"]) if p in (0.5, 0.8, 0.95)]
    cover = ", ".join(f"{final['p'][i]:.0%} region {final['coverage'][i]:.2f} ({every['coverage'][i]:.2f})"
                      for i in shown)
    of = cal.get("of", "full draws of p(y|x)")
    result(f"calibration of {of} ({cal['draws']} draws), truth inside the endpoint's (all steps') {cover}; error "
           f"{final['error']:.3f} ({every['error']:.3f}), signed {final['signed_error']:+.3f} "
           f"({every['signed_error']:+.3f})")


SizeOpt = Annotated[Optional[str], typer.Option(help="Image size WIDTHxHEIGHT in pixels (50-8000 each), e.g. "
                                                     "1200x900 (default: fitted to the picture).")]


@app.command()
@user_errors
def visualize(
    model: Annotated[str, typer.Argument(help="A checkpoint (.pt), a built-in model name, or a predictions "
                                              "file (.csv/.parquet) written by `trajcvae predict`.")],
    data: DataArg,
    out: Annotated[Optional[Path], path_option(help="Image to write: .png, .svg or .pdf (default: fig.png; an "
                                                "--animate GIF is written to its own path).")] = None,
    scene: Annotated[Optional[str], typer.Option(help="Scene to draw (default: the first).")] = None,
    agent: Annotated[Optional[str], typer.Option(help="Agent id (default: the first agent with a known "
                                                      "future, with --calibrate scene one whose scene's past "
                                                      "fits its draws; or a random one with --seed).")] = None,
    t0: Annotated[Optional[float], time_option(help="Frame id of the agent's last observed position, or its "
                                                   "time in seconds (or as an ISO 8601 date-time) for an input with a "
                                                   "time column or files of several frame rates (default: its first "
                                                   "full window).")] = None,
    k: Annotated[Optional[int], whole_option("-k", "--k", help="Futures (samples) per agent (default: 20 drawn "
                                             "from a model; all of a predictions table).")] = None,
    seed: Annotated[Optional[int], whole_option(help="Pick windows at random with this seed (also the "
                                                     "sampling seed; default 0 and no random pick).")] = None,
    density: Annotated[bool, typer.Option(help="Shade a kernel density of the predicted positions under "
                                               "the samples.")] = False,
    density_steps: Annotated[Optional[str], typer.Option(help="With --density: the positions it is made of, all "
                                                              "(every step, the default) or final (the last "
                                                              "step).")] = None,
    grid: Annotated[Optional[int], whole_option(help="Draw N windows (1-60) in one figure (spread over the data, "
                                                     "random with --seed, or --worst/--best).")] = None,
    worst: Annotated[bool, typer.Option(help="With --grid: the N windows with the largest minADE.")] = False,
    best: Annotated[bool, typer.Option(help="With --grid: the N windows with the smallest minADE.")] = False,
    scene_frame: Annotated[Optional[float], time_option(help="Every agent of --scene at this frame id (a time "
                                                            "in seconds, or an ISO 8601 date-time, for an input with "
                                                            "a time column or files of several frame rates), each "
                                                            "with its K futures (the crowd view).")] = None,
    animate: Annotated[Optional[Path], path_option(help="Write a GIF of the scene over time instead "
                       "(starts at --scene-frame, default: around the scene's busiest frame).")] = None,
    frames: Annotated[Optional[int], whole_option(help="Animation frames (--animate; default 40).")] = None,
    size: SizeOpt = None,
    device: DeviceOpt = "cpu",
    fps: FpsOpt = None,
    scale: ScaleOpt = None,
    homography: HomographyOpt = None,
    classes: ClassesOpt = None,
    columns: ColumnsOpt = None,
    kset: KSetOpt = "none",
    draws: DrawsOpt = None,
    calibrate: CalibrateOpt = "none",
    futures: FuturesOpt = "mean",
    max_gap: MaxGapOpt = None,
    noise: NoiseOpt = None,
    background: Annotated[Optional[Path], path_option(help="An image (a video frame) under the --scene-frame "
                          "picture or every frame of the --animate GIF, drawn in its pixels; or a folder of the "
                          "video's frames named by frame id (MOT's img1/000300.jpg), each under its moment. Tracks "
                          "in pixels, with --homography or --scale.", show_default=False)] = None,
):
    """Draw predicted futures: one agent, a --grid of windows, a --scene-frame crowd view or an --animate GIF."""
    classes, columns = _joined(classes), _joined(columns)
    draws = _draws(draws, kset)
    from .visualize import visualize as run

    if density_steps is not None and not density:
        raise TrajCVAEError(f"--density-steps {density_steps or repr('')} says what the density is made of: add "
                            "--density")
    path = run(model, data, out, scene=scene, agent=agent, t0=t0, k=k, seed=seed,
               density=(density_steps or "all") if density else None, grid=grid, worst=worst, best=best,
               scene_frame=scene_frame, animate=animate, frames=frames, size=size, device=device, fps=fps,
               scale=scale, homography=homography, classes=classes, kset=kset, draws=draws, calibrate=calibrate,
               log=info, max_gap=max_gap, background=background, columns=columns, futures=futures, noise=noise)
    result(f"-> {path}")


@app.command()
@user_errors
def serve(
    model: ModelArg,
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, whole_option(help="Port to listen on (0: a free one, named as the server starts).")] = 8000,
    k: KOpt = 20,
    kset: KSetOpt = "none",
    draws: DrawsOpt = None,
    calibrate: LiveCalibrateOpt = "none",
    futures: FuturesOpt = "mean",
    seed: SeedOpt = 0,
    fps: Annotated[Optional[float], number_option(help="Frame ids per second, for requests that send a frame "
                                                      "in place of a time in seconds, and of the --replay file's "
                                                      "frame ids.", show_default=False)] = None,
    scale: ScaleOpt = None,
    homography: HomographyOpt = None,
    columns: Annotated[Optional[list[str]], typer.Option(help="The --replay file's columns of other names, as "
                                                              "for predict's --columns.", show_default=False)] = None,
    classes: Annotated[Optional[list[str]], typer.Option(help="Comma-separated labels of the --replay file's agents "
                                                              "to replay, as for predict's --classes.",
                                                         show_default=False)] = None,
    forget_after: Annotated[Optional[float], number_option(help="Seconds after which an agent not seen again gets "
                                                               "no more futures (default: 2, or --max-gap where "
                                                               "longer: the model's data.max_gap).")] = None,
    max_gap: MaxGapOpt = None,
    noise: NoiseOpt = None,
    lonlat: Annotated[bool, typer.Option("--lonlat", help="Detections and futures in longitude and latitude "
                                                         "(lon, lat: WGS84 degrees) in place of x, y.")] = False,
    replay: Annotated[Optional[Path], path_option(help="Replay this recorded file into the server (its scenes "
                                                        "by name), for the live page without a tracker.",
                                                   show_default=False)] = None,
    speed: Annotated[float, number_option(help="Replay this many times faster than recorded.")] = 1.0,
    max_agents: Annotated[int, whole_option(help="Detections per request, at most.")] = 1000,
    max_body: Annotated[int, whole_option(help="Bytes per request body, at most.")] = 1 << 20,
    max_scenes: Annotated[int, whole_option(help="Scenes held at once, at most.")] = 100,
    max_k: Annotated[int, whole_option(help="Futures per agent a request may ask for with ?k=.")] = 100,
    threads: Annotated[int, whole_option(help="Torch threads for inference (1 leaves a core to the HTTP "
                                              "server on 2 cores).")] = 1,
):
    """Serve live predictions over HTTP: POST detections, get every agent's K futures; a live page at /."""
    columns, classes = _joined(columns), _joined(classes)
    draws = _draws(draws, kset)
    from .server import Limits, serve as run

    run(model, host, port, k=k, kset=kset, draws=draws, calibrate=calibrate, seed=seed, fps=fps, scale=scale,
        homography=homography, forget_after=forget_after, limits=Limits(max_agents, max_body, max_scenes, max_k),
        replay_file=replay, speed=speed, threads=threads, log=info, lonlat=lonlat, max_gap=max_gap, columns=columns,
        classes=classes, futures=futures, noise=noise)


@app.command("plot-training")
@user_errors
def plot_training(
    run: Annotated[Path, path_argument(help="Run folder written by `trajcvae train` (or its metrics.csv).")],
    out: Annotated[Optional[Path], path_option(help="Image to write: .png, .svg or .pdf (default: "
                                                     "RUN/curves.png).")] = None,
    size: SizeOpt = None,
):
    """Training curves per epoch: NLL, KL and ELBO (train and val), val minADE/minFDE."""
    from .visualize import plot_training as run_plot

    result(f"-> {run_plot(run, out, size=size)}")


# `trajcvae --help` lists each command with its docstring's first paragraph; rich help would keep that
# paragraph's source line breaks, so the list gets it as one line, wrapped to the terminal.
for _command in app.registered_commands:
    _command.short_help = " ".join(_command.callback.__doc__.split("\n\n")[0].split())


# The kills `unwind_on_kill` has seen. An exception a signal handler raises while CPython compiles a module (a
# command's first import of it, every time where no bytecode is written) can be lost, and the command would go
# on to exit 0: `user_errors` then ends it with the kill's exit code.
_KILLS: list[int] = []


class Killed(SystemExit):
    """A kill (`unwind_on_kill`'s signal) unwinding the command: it exits with the shell's 128 + the signal."""

    def __init__(self, signum: int, finished: bool = False):
        super().__init__(128 + signum)
        self.signum, self.finished = signum, finished  # finished: raised after the command's work was done


def unwind_on_kill() -> None:
    """A kill (SIGTERM, as from `kill` or a job scheduler, or a closed terminal's SIGHUP) unwinds like Ctrl-C,
    so temp files and a run's lock are removed and no half-written output is left; the exit code is the
    shell's 128 + signal number."""
    import signal

    # Under torchrun (`distributed.launched_by_torchrun`, not imported: it would load torch for --help) a rank
    # waiting in a collective would never run the handler: the default stays.
    if all(k in os.environ for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK")):
        return

    _KILLS.clear()  # (a command run again in the same process starts unkilled)

    def unwind(signum, frame):
        _KILLS.append(signum)
        raise Killed(signum)

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:  # nohup's choice stands
            signal.signal(sig, unwind)


def _command_path(error, args: list[str] | None) -> str:
    """'trajcvae predict': the command a usage error is about, from its context, or (the parser's own errors,
    -k without its value, carry none) from the command line's first word that names a command."""
    if getattr(error, "ctx", None) is not None:
        return error.ctx.command_path
    named = next((a for a in (sys.argv[1:] if args is None else args) if not a.startswith("-")), None)
    commands = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    return f"trajcvae {named}" if named in commands else "trajcvae"


def _as_setting(error, args: list[str] | None) -> str:
    """'; in train it is a config setting: --set data.noise=0.1' for an option `train` or `benchmark` does not
    take (`--noise 0.1`, as `predict` does; `--lr`) that names a config setting, which their --set gives; else ''."""
    name = getattr(error, "option_name", None)  # (click's NoSuchOption: an option of another command, or a typo)
    command = _command_path(error, args)
    if type(error).__name__ != "NoSuchOption" or not isinstance(name, str) or not name.startswith("--") \
            or command not in ("trajcvae train", "trajcvae benchmark"):
        return ""
    from .config import Config, option_names

    key = name.lstrip("-").replace("-", "_")
    dotted = next((n for n in option_names(Config()) if n.partition(".")[2] == key), None)
    if dotted is None:
        return ""
    given = list(sys.argv[1:] if args is None else args)
    value = next((a.partition("=")[2] for a in given if a.startswith(name + "=")), None)
    if value is None and name in given and given.index(name) + 1 < len(given):
        value = given[given.index(name) + 1]
    value = value if value and not value.startswith("--") else "<value>"
    return f"; in {command.split()[1]} it is a config setting: --set {dotted}={value}"


def _val_followed(args: list[str]) -> str | None:
    """The usage error of `train --val A B`, where B (a shell's glob of validation files gives several) would
    be read as training data: --val takes one path, and a path right after its value is refused."""
    words = args[:args.index("--")] if "--" in args else args  # (after "--", every word is a path)
    if next((a for a in words if not a.startswith("-")), None) != "train" or "--help" in words:
        return None
    for i, word in enumerate(words):
        value = word.partition("=")[2] if word.startswith("--val=") else \
            words[i + 1] if word == "--val" and i + 1 < len(words) else None
        after = words[i + (1 if word.startswith("--val=") else 2):][:1]
        if value and after and not after[0].startswith("-"):
            return (f"{after[0]} right after --val {value} would be read as training data, as --val takes one "
                    f"path: to validate on it too, write --val {value} --val {after[0]}; to train on it, put it "
                    "before --val")
    return None


def main(args: list[str] | None = None) -> None:
    """The `trajcvae` command. A mistake in its use (an unknown command or option, a value of the wrong type,
    a missing argument) is one line naming it and exit code 2, as Typer's own box would say it."""
    # Click's error type, as the Typer installed uses it (its own copy of click since 0.24, else click's).
    usage = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    unwind_on_kill()
    followed = _val_followed(sys.argv[1:] if args is None else list(args))
    if followed is not None:
        err.print(f"[bold red]error:[/] {escape(followed)} (see trajcvae train --help)", highlight=False,
                  soft_wrap=True)
        sys.exit(2)
    try:
        code = app(args, prog_name="trajcvae", standalone_mode=False)  # click's errors come here, not printed
    except usage as e:
        if e.format_message().strip():  # (none: no command at all, and the help was shown)
            err.print(f"[bold red]error:[/] {escape(e.format_message())}{escape(_as_setting(e, args))} (see "
                      f"{_command_path(e, args)} --help)", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except typer.Abort:  # end of input at a prompt
        err.print("aborted", highlight=False)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
