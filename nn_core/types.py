"""Shared type aliases."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

#: A floating-point array (float32 for training, float64 for gradient checks).
Array = npt.NDArray[Any]
FloatDType = type[np.floating[Any]]
