"""netral-nlp: flag likely partisan political activity by Indonesian civil servants (ASN)."""

from .labels import CATEGORY_NAMES, SCHEMA_VERSION
from .manifest import Manifest, ModelLoadError
from .model import Classifier, load_model
from .prediction import Prediction

__version__ = "0.1.0"

__all__ = [
    "CATEGORY_NAMES",
    "SCHEMA_VERSION",
    "Classifier",
    "Manifest",
    "ModelLoadError",
    "Prediction",
    "__version__",
    "load_model",
]
