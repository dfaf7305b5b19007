"""Face engine: detection, alignment, quality gating and embedding behind small protocols.

One module per backend; `registry` builds them from settings; `engine.FaceEngine` runs them batched.
"""

from lfr_core.vision.errors import ImageError, ModelError
from lfr_core.vision.types import Detection, Face, ModelIdentity, QualityResult

__all__ = ["Detection", "Face", "ImageError", "ModelError", "ModelIdentity", "QualityResult"]
