"""What every benchmark script does with bad input, as the trajcvae commands do: one line naming the option,
file or value at fault, exit 1, no traceback.

Each script ends with

    if __name__ == "__main__":
        from command_line import run
        run(main)

(imported there, as the script's own folder is on the path only when it runs as a script).
"""
from __future__ import annotations

import signal
import subprocess
import sys
import warnings
from typing import Callable

import numpy as np
import pandas as pd

from trajcvae.errors import TrajCVAEError, TrajCVAEWarning, cli_wording, in_cli, one_line


def eth_ucy_table(path, option: str = "--source") -> pd.DataFrame:
    """An ETH/UCY text file (rows of frame agent_id x y numbers, whitespace-separated) as its four columns;
    any other file is one line naming it."""
    try:
        table = pd.read_csv(path, sep=r"\s+", header=None)  # (ids as written: int64 keeps those beyond 2**53)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        table = None
    if table is None or table.shape[1] != 4 or not len(table) or not all(
            pd.api.types.is_numeric_dtype(c) and not pd.api.types.is_bool_dtype(c) for _, c in table.items()) \
            or not np.isfinite(table.to_numpy(np.float64)).all():
        raise TrajCVAEError(f"{option} {path}: not an ETH/UCY text file (rows of four numbers: frame agent_id x y)")
    table.columns = ["frame", "agent_id", "x", "y"]
    return table


def trajcvae(*args, show: bool = True) -> None:
    """Run `trajcvae ARGS`, its lines shown as they come (with `show`); a failure ends the script with its
    error line, said once."""
    with subprocess.Popen([sys.executable, "-m", "trajcvae", *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as done:
        last = None
        for line in done.stdout:  # each line once the next has come: the last may be the error
            if show and last is not None:
                sys.stdout.write(last)
                sys.stdout.flush()
            last = line
    if done.returncode < 0:  # killed (the system's out-of-memory killer, a signal): its last line is no error
        raise TrajCVAEError(f"trajcvae {args[0]}: killed by {signal.Signals(-done.returncode).name}")
    if done.returncode:
        said = (last or f"exit {done.returncode}").strip().removeprefix("error: ")
        raise TrajCVAEError(f"trajcvae {args[0]}: {said}")
    if show and last is not None:
        sys.stdout.write(last)
        sys.stdout.flush()


def run(main: Callable[[], None]) -> None:
    """Run a script's `main`: the project's refusals (options checked with `trajcvae.config`'s checks, data
    the library cannot read) and the system's refused reads and writes end it with one `error:` line, naming
    options as a command line does (-k, not the Python keyword k); the library's warnings are one line each."""
    python, wording = warnings.showwarning, in_cli()

    def warning_line(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, TrajCVAEWarning):  # as the commands give them
            print(f"warning: {one_line(str(message))}", file=sys.stderr)
        else:
            python(message, category, filename, lineno, file, line)

    cli_wording(True)
    warnings.showwarning = warning_line
    try:
        main()
    except TrajCVAEError as e:
        sys.exit(f"error: {one_line(str(e))}")
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        sys.exit(f"error: {one_line(where + (e.strerror or str(e)))}")
    except KeyboardInterrupt:
        sys.exit(130)
    finally:  # (a caller in the same process, a test, gets its own back)
        cli_wording(wording)
        warnings.showwarning = python
