"""Short-horizon mid-price direction models on L2 order-book and trade features.

Causal features (`features`, sampled on a clock grid by `sampling`), direction labels with a dead band
(`labels`), a purged chronological split (`split`, `dataset`), torch models and baselines (`models`,
`training`, `compare`), the optimisation pipeline (`prune`, `onnx_export`, `optimize`), and the live
signal (`signal.MLSignal`). Importing the package loads no torch or onnxruntime.
"""

from kimera.ml.features import FEATURE_NAMES, FeatureState
from kimera.ml.signal import MLSignal

__all__ = ["FEATURE_NAMES", "FeatureState", "MLSignal"]
