"""nn_core: a neural network library written from scratch in NumPy.

    from nn_core import Network, Trainer, Adam
    net = Network([2, 4, 1], activation="tanh", output_activation="sigmoid", loss="bce")
    trainer = Trainer(net, Adam(0.01), x_train, y_train, x_test, y_test, batch_size=32)
    trainer.fit(100)

Pure NumPy and the standard library: import it in a notebook as it is.
"""

from __future__ import annotations

__version__ = "0.1.0"

from nn_core.activations import ACTIVATIONS
from nn_core.datasets import DATASETS, make_dataset, train_test_split
from nn_core.features import FEATURES, transform
from nn_core.initializers import INITIALIZERS
from nn_core.losses import LOSSES
from nn_core.model import ModelFileError, Network
from nn_core.optimizers import OPTIMIZERS, SGD, Adam, Momentum
from nn_core.regularization import REGULARIZERS
from nn_core.training import EpochReport, Trainer

__all__ = [
    "__version__",
    "ACTIVATIONS",
    "DATASETS",
    "FEATURES",
    "INITIALIZERS",
    "LOSSES",
    "OPTIMIZERS",
    "REGULARIZERS",
    "SGD",
    "Adam",
    "EpochReport",
    "ModelFileError",
    "Momentum",
    "Network",
    "Trainer",
    "make_dataset",
    "train_test_split",
    "transform",
]
