import functools
import hashlib
from pathlib import Path

__version__ = "0.3.0"


@functools.lru_cache(maxsize=None)
def code_digest() -> str:
    """A digest of this package's Python source. A version spans many commits, so what a run, a window cache or
    a pickled object was made by is told apart by this: other code, other digest."""
    h = hashlib.sha256()
    root = Path(__file__).parent
    for f in sorted(root.rglob("*.py")):
        # Line ends read as \n: a checkout with CRLF line ends holds the same code.
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return h.hexdigest()[:16]


def made_by() -> str:
    """This trajcvae as a run's records name the code that made it: '0.3.0 (code 3215681ce50c7055)'."""
    return f"{__version__} (code {code_digest()})"
