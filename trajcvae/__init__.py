"""trajcvae: predict where agents go next with a conditional VAE; K plausible futures per agent."""
from ._version import __version__

from .config import Config, load_config
from .errors import CheckpointError, DataError, TrajCVAEError
from .online import OnlinePredictor
from .predict import TrajCVAE

__all__ = ["TrajCVAE", "OnlinePredictor", "Config", "load_config", "TrajCVAEError", "DataError", "CheckpointError",
           "__version__"]
