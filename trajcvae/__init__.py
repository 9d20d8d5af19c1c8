"""trajcvae: predict where agents go next with a conditional VAE; K plausible futures per agent.

`TrajCVAE` and `OnlinePredictor` are imported on first use, so `import trajcvae.checkpoint` (or the CLI's
`--help`) does not load pandas, scipy and the model code.
"""
from ._version import __version__

from .config import Config, load_config
from .errors import CheckpointError, DataError, TrajCVAEError, TrajCVAEWarning

__all__ = ["TrajCVAE", "OnlinePredictor", "Config", "load_config", "TrajCVAEError", "DataError", "CheckpointError",
           "TrajCVAEWarning", "__version__"]


def __getattr__(name: str):
    if name == "TrajCVAE":
        from .predict import TrajCVAE

        return TrajCVAE
    if name == "OnlinePredictor":
        from .online import OnlinePredictor

        return OnlinePredictor
    raise AttributeError(f"module 'trajcvae' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The lazy classes too, so completion and help(trajcvae) list them."""
    return sorted(set(globals()) | set(__all__))
