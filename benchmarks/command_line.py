"""What every benchmark script does with bad input, as the trajcvae commands do: one line naming the option,
file or value at fault, exit 1, no traceback.

Each script ends with

    if __name__ == "__main__":
        from command_line import run
        run(main)

(imported there, as the script's own folder is on the path only when it runs as a script).
"""
from __future__ import annotations

import sys
from typing import Callable

from trajcvae.errors import TrajCVAEError, cli_wording


def run(main: Callable[[], None]) -> None:
    """Run a script's `main`: the project's refusals (options checked with `trajcvae.config`'s checks, data
    the library cannot read) and the system's refused reads and writes end it with one `error:` line, naming
    options as a command line does (-k, not the Python keyword k)."""
    cli_wording(True)
    try:
        main()
    except TrajCVAEError as e:
        sys.exit(f"error: {e}")
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        sys.exit(f"error: {where}{e.strerror or e}")
    except KeyboardInterrupt:
        sys.exit(130)
