"""The project's own error type: every user mistake becomes one of these, and the CLI prints it as
one line (no traceback); and its warning type, for a result that may be wrong."""
import contextvars
import datetime
import decimal
import functools
import io
import math
import numbers
import os
import re
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

from ._version import code_digest

# Messages name options as the CLI spells them (--max-gap 2). To a Python caller they name the keyword
# instead (max_gap=2): the same text, reworded where it is raised, unless a CLI command is running.
_CLI = [False]
# The CLI's options that a Python function takes as a keyword of another name (others: --max-gap is max_gap).
_KEYWORDS = {"-k": "k", "--k": "k", "--calibration": "calibration_draws", "--windows": "every_window",
             "--val": "val_paths", "--set": "overrides", "--cache": "cache_dir", "--rate": "spawn_rate",
             "--density-steps": "density", "--time-step": "data.time_step",
             "--max-grad-norm": "train.max_grad_norm"}
# ... and those that predict and evaluate take from the model loaded: a fix that gives one names TrajCVAE.load
# (where the function speaking takes them itself, it says so: `keyword_names`, `OWN_GAP_AND_NOISE`).
OWN_GAP_AND_NOISE = {"--noise": "noise", "--max-gap": "max_gap"}
_LOADED = frozenset(OWN_GAP_AND_NOISE)
_GIVE = re.compile(r"\b(give|give about|or)\s*$")
# ... and those that are switches there and True/False keywords here (--resume is resume=True).
_SWITCHES = {"--every-window", "--windows", "--lonlat", "--resume", "--worst", "--best", "--primary"}
# Every option of the CLI's commands (a test holds it to the CLI's own list): only these are reworded.
CLI_OPTIONS = frozenset(
    "-k --k --agent --animate --background --best --cache --calibrate --calibration --classes --columns --config "
    "--density --density-steps --device --draws --epochs --every-window --figures --forget-after --fps --frames "
    "--futures --grid --homography --host --is-samples --json --kde-samples --kset --lonlat --max-agents --max-body "
    "--max-gap --max-grad-norm --max-k --max-scenes --noise --out --port --prefix --primary --quiet --rate --replay "
    "--resume --root --scale --scene --scene-frame --scenes --seed --seeds --set --size --speed --splits --t0 "
    "--threads --time-step --val --windows --worst".split())
# ... and those the command line alone has: named as they are.
CLI_ONLY = frozenset({"--host", "--port", "--threads", "--json", "--replay", "--speed", "--quiet"})
_CHOICES = {"none", "kmeans", "learned", "scene", "mean", "full", "cpu", "cuda", "auto"}
# An option (not inside a path or a quoted value: run -k/a.csv, '-k'), and the word after it.
_OPTION = re.compile(r"(?<![\w./'\"`-])(-k|--[a-z][a-z0-9-]*)(?![\w/'-])( '[^']*'| [^\s'\"]+)?")
_NUMBER = re.compile(r"-?\d[\d.]*(e[+-]?\d+)?")
# A CLI argument, named as its usage line names it (MODEL x.pt: ..., the futures in MODEL x.csv), where a Python
# function has a parameter of that name.
# At the start, or after "in" or "but": a file or scene of such a name elsewhere keeps it (scenes: DATA, OUT).
_ARGUMENT = re.compile(r"(?:^|(?<=\bin )|(?<=\bbut ))(MODEL|DATA|OUT)(?=[\s,;:)]|$)")  # (not a path: DATA/x.csv)
_OWN = threading.local()  # `keyword_names`' names, each thread its own


def cli_wording(on: bool) -> None:
    """Name options as the CLI spells them (on, while a command runs) or as Python keywords (off)."""
    _CLI[0] = on


def in_cli() -> bool:
    """Whether a CLI command is running (messages name its options)."""
    return _CLI[0]


@contextmanager
def keyword_names(names: dict[str, str]):
    """Within it (in this thread), messages name these CLI options as the given keywords (train's --out is
    its out_dir)."""
    before = getattr(_OWN, "names", {})
    _OWN.names = {**before, **names}
    try:
        yield
    finally:
        _OWN.names = before


def worded(text: str) -> str:
    """A message as the caller should read it: as written under the CLI; else each CLI option it names is the
    Python keyword ("-k 3" is "k=3", "--calibrate scene" is "calibrate='scene'", --resume is "resume=True"; a fix
    that gives the noise or the gap bridged, "give --noise 0.2", gives it to the model: "TrajCVAE.load(...,
    noise=0.2)").
    An argument named as the CLI's usage line names it (MODEL, DATA, OUT) is the parameter (model, data, out).
    Text in backticks (a command line to run) is left as it is."""
    if _CLI[0] or ("-" not in text and not _ARGUMENT.search(text)):
        return text
    names = {**_KEYWORDS, **getattr(_OWN, "names", {})}

    def keyword(m: re.Match) -> str:
        option, after = m[1], m[2] or ""
        if option not in CLI_OPTIONS or option in CLI_ONLY:
            return m[0]
        name = names.get(option, option.lstrip("-").replace("-", "_"))
        if option in _SWITCHES:
            return f"{name}=True{after}"
        # The word after it is its value where it plainly is one: a number, a quoted text or a choice ("--seed
        # must be" has none; a path is left as written, as it may go on past a space). Trailing punctuation
        # is the text's.
        value = after.strip().rstrip(",.:;)")
        rest = after.strip()[len(value):]
        if not value or option == "--set" or not (value[0] == "'" or value in _CHOICES or _NUMBER.fullmatch(value)):
            return name + after  # (--set's are overrides' list of settings)
        if "." in name:  # a config value, as load_config's overrides set it: data.fps=30
            return f"{name}={value.strip(chr(39))}{rest}"
        given = f"{name}={value if value[0] == chr(39) or _NUMBER.fullmatch(value) else repr(value)}"
        if option in _LOADED and option not in getattr(_OWN, "names", {}) and _GIVE.search(m.string[:m.start()]):
            given = f"TrajCVAE.load(..., {given})"
        return given + rest

    parts = text.split("`")
    parts[::2] = [_OPTION.sub(keyword, part) for part in parts[::2]]
    parts[::2] = [_ARGUMENT.sub(lambda m: m[1].lower(), part) for part in parts[::2]]
    # A key said twice where the CLI said an option and its key: data.time_step=10 (data.time_step).
    return re.sub(r"\b([a-z]+\.[a-z_]+)(=\S+| \S+)? \(\1(; |\))", lambda m: m[1] + (m[2] or "") +
                  ("" if m[3] == ")" else " ("), "`".join(parts))


class TrajCVAEError(Exception):
    """A problem with the user's input (file, row, option or checkpoint), stated in one line (naming options
    as the CLI or as Python keywords, as the caller gave them)."""

    def __init__(self, *args):
        super().__init__(*_worded_args(args))


def _worded_args(args: tuple) -> tuple:
    """An error's or a warning's arguments, their texts `worded` for the caller."""
    return tuple(worded(a) if isinstance(a, str) else a for a in args)


class DataError(TrajCVAEError):
    """A trajectory file that cannot be read as tracks, or data that yields no usable windows."""


class CheckpointError(TrajCVAEError):
    """A checkpoint that is missing, unsafe to load, or from an incompatible version."""


class NoWindowsError(DataError):
    """Tracks that give no window to predict from (e.g. no agent with 2 positions yet). `said`: the lines
    said of the tracks before (their summary, then any warnings), for a caller that names them after it;
    `timed`: whether the tracks' times are known in seconds (not frame ids of unknown rate)."""
    said: str = ""
    timed: bool = False
    named: bool = False  # its data's files are named in it (`naming_data`)


@contextmanager
def naming_data(data):
    """A NoWindowsError of `data` (files) names them, before saying why; a table's names nothing."""
    try:
        yield
    except NoWindowsError as e:
        files = [data] if isinstance(data, (str, os.PathLike)) else data
        if e.named or not isinstance(files, (list, tuple)) or not files or \
                not all(isinstance(f, (str, os.PathLike)) for f in files):
            raise
        named = NoWindowsError(f"{', '.join(map(str, files[:3]))}{' ...' if len(files) > 3 else ''}: {e}")
        named.said, named.timed, named.named = e.said, e.timed, True
        raise named from None


def names_its_data(f):
    """`f(model, data, ...)`, whose NoWindowsError names `data`'s files (`naming_data`)."""
    @functools.wraps(f)
    def named(*args, **kwargs):
        with naming_data(kwargs["data"] if "data" in kwargs else args[1] if len(args) > 1 else None):
            return f(*args, **kwargs)
    return named


class TrajCVAEWarning(UserWarning):
    """A result that may be wrong (e.g. tracks at speeds the model was not trained on), stated in one line:
    the CLI prints it after the data's summary; the Python API gives it as a Python warning. `said`: its text
    as written, before any rewording for the caller (what a cache keeps, to say again to any caller)."""

    def __init__(self, *args):
        self.said = args[0] if args and isinstance(args[0], str) else None
        super().__init__(*_worded_args(args))


class Stderr(io.TextIOBase):
    """sys.stderr as it is at each write (a test runner swaps it), where a line that cannot be written (a log on
    a full disk, a closed stream) is lost alone: the command's work and its output go on. Under a progress bar,
    sys.stderr is rich's proxy, which prints through a console: its own stream is written, as rich's consoles
    do (through the proxy, a console of this stream would print into itself without end)."""

    @staticmethod
    def _stream():
        return getattr(sys.stderr, "rich_proxied_file", sys.stderr)

    def write(self, text: str) -> int:
        try:
            return self._stream().write(text)
        except (OSError, ValueError, AttributeError):  # full, closed, or none at all (Python started without it)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream().flush()
        except (OSError, ValueError, AttributeError):
            pass

    def isatty(self) -> bool:
        try:
            return self._stream().isatty()
        except (OSError, ValueError, AttributeError):
            return False

    @property
    def encoding(self) -> str:
        return getattr(self._stream(), "encoding", None) or "utf-8"


def warning_text(line: str) -> str:
    """A warning line without the CLI's "warning: " prefix: its text, as a `TrajCVAEWarning` says it (options
    named as the caller gave them)."""
    return worded(line.removeprefix("warning: "))


_GATHERED: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("gathered", default=None)


@contextmanager
def gathered_warnings():
    """`warn`'s lines (as written, without "warning: ") gathered in the list this yields instead of given, in
    this thread (and context) alone: another thread's warnings stay its own, as Python's process-wide warning
    filters would not keep them."""
    lines: list[str] = []
    token = _GATHERED.set(lines)
    try:
        yield lines
    finally:
        _GATHERED.reset(token)


# The files of decorators the package's functions are wrapped in (contextlib's, and torch's inference_mode):
# their frames lie between the caller and the package, and are no caller.
DECORATORS = ("contextlib.py", "_contextlib.py")


def warn(line: str) -> None:
    """Give a one-line warning of the CLI's kind ("warning: ...") to a Python caller as a `TrajCVAEWarning`,
    attributed to the caller's first line outside trajcvae (so it points at the user's call); inside
    `gathered_warnings`, add it to the lines gathered."""
    held = _GATHERED.get()
    if held is not None:
        held.append(line.removeprefix("warning: "))
        return
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 2
    while frame is not None and (os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep)
                                 or os.path.basename(frame.f_code.co_filename) in DECORATORS):
        frame, level = frame.f_back, level + 1
    warnings.warn(line.removeprefix("warning: "), TrajCVAEWarning, stacklevel=level)  # (it words it for the caller)


def not_found_hint(p: Path) -> str:
    """What a path that names nothing may have meant: a Windows path's folders, or a quoted ~ (no shell expanded
    it) that names something there; "" otherwise."""
    slashed = Path(str(p).replace("\\", "/"))
    try:
        home = p.parts[0].startswith("~") and p.expanduser() != p and p.expanduser().exists()
    except (RuntimeError, IndexError):  # ~name of no user here
        home = False
    return (f"; a Windows path? Write its folders with / ({slashed})" if os.sep == "/" and "\\" in str(p)
            and slashed.exists() else f"; '~' is not expanded in quotes: give {p.expanduser()}" if home else "")


def home_path(path, option: str) -> Path:
    """`path` with a leading ~ or ~name made the home folder it names; where there is none here (no such user,
    or no home folder at all), one line naming `option`."""
    try:
        return Path(path).expanduser()
    except RuntimeError:  # (Python's: "Could not determine home directory.")
        raise TrajCVAEError(f"{option} {path}: {Path(path).parts[0]} names no home folder here; give the full "
                            "path") from None


def small_text(path: Path) -> str:
    """A small text file (a config, a homography, scales) read as UTF-8, its byte-order mark dropped, or as
    UTF-16 or UTF-32 where a byte-order mark says so (Windows' Notepad and PowerShell write them). Anything
    else is a UnicodeError saying what it holds and the fix, for a message after the file's name."""
    raw = Path(path).read_bytes()
    for mark, codec in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
                        (b"\xfe\xff", "utf-16")):
        if raw.startswith(mark):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                raise UnicodeError(f"not {codec.upper()} text, though it starts as such; save it as UTF-8") from None
    if b"\x00" in raw:
        raise UnicodeError("it holds NUL bytes (UTF-16 without a byte-order mark, or not text); save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UnicodeError(f"not UTF-8 text (byte 0x{raw[e.start]:02X}: Windows-1252 or Latin-1?); save it as "
                           "UTF-8") from None


def first_line(e: Exception) -> str:
    """An exception's message cut to its first line (200 characters at most), or its type's name."""
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__


LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")  # where str.splitlines breaks a line


def one_line(message: str) -> str:
    """An error or warning as one line, whatever it quotes: a name's line breaks (a file "a\\nb.csv") written as
    \\n (\\r, \\x0c, \\u2028, ...). Lines said together are joined by line breaks, so each is made one first."""
    return LINE_BREAKS.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), message)


def plural(count: int, word: str) -> str:
    """'1 file', '2 files': a count and its word, for messages."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def odd_number_text(text) -> bool:
    """Text that Python's float() and int() read as a number but a file's reader would not: digits of another
    script (١٢) and "_" between digits (2_5, read as 25)."""
    return isinstance(text, str) and (not text.isascii() or "_" in text)


def as_written(convert):
    """`convert` (int or float) of number text as a file's numbers are read: `odd_number_text` (2_5) is a
    ValueError, not 25. Named as `convert` is, as argparse names a type in its message (invalid float value)."""
    def parse(text):
        if odd_number_text(text):
            raise ValueError(f"not a number as written: {text!r}")
        return convert(text)
    parse.__name__ = convert.__name__
    return parse


def as_number_hint(value, name: str, time: bool = False, positive: bool = False) -> str:
    """How to give the Python API's `name` a `value` refused for its type, as ': give ...'; '' where no
    conversion says (or none would do: a NaN; with `positive`, a number not above 0). `time`: a time in
    seconds, which a date-time (seconds since 1970) or a duration may give."""
    if time and (hasattr(value, "timestamp") or type(value).__name__ == "datetime64"):  # (pd.Timestamp, datetime)
        return f": give its seconds since 1970, pd.Timestamp({name}).timestamp()"
    if time and (isinstance(value, datetime.timedelta) or type(value).__name__ == "timedelta64"):
        return f": give its seconds, pd.Timedelta({name}).total_seconds()"
    if isinstance(value, (numbers.Real, decimal.Decimal)) and not isinstance(value, (bool, int, float)) \
            and type(value).__module__ != "numpy" and _float_ok(value, positive):  # a Fraction, a Decimal
        return f": give it as a float, float({name})"
    return ""


def _float_ok(value, positive: bool) -> bool:
    """Whether `value` as a float is finite (and, with `positive`, above 0)."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return math.isfinite(number) and (number > 0 or not positive)


def shown(value) -> str:
    """A value as a message quotes it: a Python or numpy int or float as written (1.5, not np.float64(1.5);
    float32's -0.1, not -0.10000000149011612), an integer beyond 2**64 as its power of two (Python writes
    none of over 4,300 digits, and a long one says no more), anything else as its repr ('five', Decimal('2'),
    array(1.5): of a type refused as such), or its type where that repr is long or of several lines."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and type(value).__name__ != "timedelta64" \
            and abs(value) >= 2 ** 64:
        return f"about {'-' if value < 0 else ''}2**{abs(value).bit_length() - 1}"
    plain = type(value) in (int, float) or (type(value).__module__ == "numpy" and isinstance(value, numbers.Real))
    text = str(value) if plain else repr(value)
    return text if "\n" not in text and len(text) <= 80 else f"a {type(value).__name__}"  # (a Series, a long list)


class PickledByThisCode:
    """A mixin for objects whose state holds this code's fields: pickled, the state records the code
    (`code_digest`), and a pickle made by other trajcvae code (another version or commit, whose fields may be
    missing, renamed or of another meaning) is refused in one line where it is read back."""
    REMAKE = "make it anew"  # how to get one of this code, as the refusal says it

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_code": code_digest()}

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        if state.pop("_code", None) != code_digest():
            raise TrajCVAEError(f"this {type(self).__name__} was pickled by other trajcvae code (another version or "
                                f"commit), whose state need not fit this one's: {self.REMAKE}")
        self.__dict__.update(state)
