"""What every benchmark script does with bad input, as the trajcvae commands do: one line naming the option,
file or value at fault, exit 1, no traceback.

Each script ends with

    if __name__ == "__main__":
        from command_line import run
        run(main)

(imported there, as the script's own folder is on the path only when it runs as a script).
"""
from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Callable

import numpy as np
import pandas as pd

from trajcvae.errors import TrajCVAEError, TrajCVAEWarning, cli_wording, one_line


def eth_ucy_table(path, option: str = "--source") -> pd.DataFrame:
    """An ETH/UCY text file (rows of frame agent_id x y numbers, whitespace-separated) as its four columns;
    any other file is one line naming it."""
    try:
        table = pd.read_csv(path, sep=r"\s+", header=None, dtype=np.float64)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        table = None
    if table is None or table.shape[1] != 4 or not len(table) or not np.isfinite(table.to_numpy()).all():
        raise TrajCVAEError(f"{option} {path}: not an ETH/UCY text file (rows of four numbers: frame agent_id x y)")
    table.columns = ["frame", "agent_id", "x", "y"]
    return table


def trajcvae(*args, show: bool = True) -> None:
    """Run `trajcvae ARGS` (its lines shown, with `show`); a failure ends the script with its error line."""
    done = subprocess.run([sys.executable, "-m", "trajcvae", *map(str, args)], stdout=None if show else
                          subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if show and done.stderr:
        sys.stderr.write(done.stderr)
    if done.returncode:
        lines = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
        raise TrajCVAEError(f"trajcvae {args[0]}: {lines[-1].removeprefix('error: ')}")




def run(main: Callable[[], None]) -> None:
    """Run a script's `main`: the project's refusals (options checked with `trajcvae.config`'s checks, data
    the library cannot read) and the system's refused reads and writes end it with one `error:` line, naming
    options as a command line does (-k, not the Python keyword k); the library's warnings are one line each."""
    python = warnings.showwarning

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
        sys.exit(f"error: {e}")
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        sys.exit(f"error: {where}{e.strerror or e}")
    except KeyboardInterrupt:
        sys.exit(130)
    finally:  # (a caller in the same process, a test, gets its own back)
        cli_wording(False)
        warnings.showwarning = python
