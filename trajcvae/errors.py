"""The project's own error type: every user mistake becomes one of these, and the CLI prints it as
one line (no traceback); and its warning type, for a result that may be wrong."""
import os
import sys
import warnings


class TrajCVAEError(Exception):
    """A problem with the user's input (file, row, option or checkpoint), stated in one line."""


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


class TrajCVAEWarning(UserWarning):
    """A result that may be wrong (e.g. tracks at speeds the model was not trained on), stated in one line:
    the CLI prints it after the data's summary; the Python API gives it as a Python warning."""


def warning_text(line: str) -> str:
    """A warning line without the CLI's "warning: " prefix: its text, as a `TrajCVAEWarning` says it."""
    return line.removeprefix("warning: ")


def warn(line: str) -> None:
    """Give a one-line warning of the CLI's kind ("warning: ...") to a Python caller as a `TrajCVAEWarning`,
    attributed to the caller's first line outside trajcvae (so it points at the user's call)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    warnings.warn(warning_text(line), TrajCVAEWarning, stacklevel=level)


def first_line(e: Exception) -> str:
    """An exception's message cut to its first line (200 characters at most), or its type's name."""
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__


def plural(count: int, word: str) -> str:
    """'1 file', '2 files': a count and its word, for messages."""
    return f"{count} {word}{'' if count == 1 else 's'}"
