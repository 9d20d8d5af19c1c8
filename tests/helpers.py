"""Plain helpers shared by several test files: where the data lives, the CLI runner, one-line errors."""
import functools
from pathlib import Path

import typer.testing
from typer.testing import CliRunner

from trajcvae.cli import app

ROOT = Path(__file__).resolve().parents[1]
ETH_UCY = ROOT.parent / "shared" / "datasets" / "eth_ucy"
runner = CliRunner()
# Typer's CliRunner builds the click command of the app anew for each invoke (about 30 ms of reading the
# commands' annotations): built once, for the few hundred invokes of a test run.
if hasattr(typer.testing, "_get_command"):
    typer.testing._get_command = functools.cache(typer.testing._get_command)


def cli(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, *parts):
    """Exit code 1 and one `error:` line holding `parts`; the only other lines allowed are the data
    summaries printed before the error."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    assert all(line.startswith(("read ", "train: read ", "val: read ")) for line in lines if line not in errors)
    for part in parts:
        assert part in errors[0], result.output


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def whole_cut(index, anchor, egos, after=0.0):
    """`windows._readable` reading every row of the cut: what its windows must equal."""
    return index.cut(anchor, after), None
