"""The project's own error type: every user mistake becomes one of these, and the CLI prints it as
one line (no traceback)."""


class TrajCVAEError(Exception):
    """A problem with the user's input (file, row, option or checkpoint), stated in one line."""


class DataError(TrajCVAEError):
    """A trajectory file that cannot be read as tracks, or data that yields no usable windows."""


class CheckpointError(TrajCVAEError):
    """A checkpoint that is missing, unsafe to load, or from an incompatible version."""


class NoWindowsError(DataError):
    """Tracks that give no window to predict from (e.g. no agent with 2 positions yet)."""


class TrajCVAEWarning(UserWarning):
    """A result that may be wrong (e.g. tracks at speeds the model was not trained on), stated in one line:
    the CLI prints it after the data's summary; the Python API gives it as a Python warning."""
