"""trajcvae: predict where agents go next with a conditional VAE; K plausible futures per agent."""
__version__ = "0.1.0"

from .config import Config, load_config  # noqa: E402
from .errors import CheckpointError, DataError, TrajCVAEError  # noqa: E402
from .predict import TrajCVAE  # noqa: E402

__all__ = ["TrajCVAE", "Config", "load_config", "TrajCVAEError", "DataError", "CheckpointError", "__version__"]
