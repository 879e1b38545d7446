"""One-click setups: the tutorials' systems and a few "try this" ideas.

Each preset is a partial playground config (keys as in ``TrainConfig`` and the URL).
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "xor_2_3_1": {
        "title": "XOR with a 2-3-1 net",
        "about": "The classic: no straight line separates XOR; three relu units bend the plane.",
        "config": {
            "dataset": "xor",
            "hidden_layers": [3],
            "activation": "relu",
            "learning_rate": 0.1,
            "optimizer": "sgd",
            "batch_size": 10,
            "noise": 0.0,
        },
    },
    "flower_4_tanh": {
        "title": "Planar flower, 4 tanh units",
        "about": "The tutorials' flower: one hidden layer of 4 tanh units reaches about 90 %.",
        "config": {
            "dataset": "flower",
            "hidden_layers": [4],
            "activation": "tanh",
            "learning_rate": 0.3,
            "optimizer": "sgd",
            "batch_size": 400,
            "n_samples": 400,
            "train_ratio": 0.8,
        },
    },
    "sigmoid_mse": {
        "title": "Sigmoid neurons with MSE",
        "about": "Nielsen's starting point: sigmoid units and the squared error.",
        "config": {
            "dataset": "gaussian",
            "hidden_layers": [3],
            "activation": "sigmoid",
            "loss": "mse",
            "learning_rate": 1.0,
            "optimizer": "sgd",
            "batch_size": 10,
        },
    },
    "spiral_deep": {
        "title": "Try this: the spiral",
        "about": "Hard for x1, x2 alone: add sin features or go deeper with Adam.",
        "config": {
            "dataset": "spiral",
            "hidden_layers": [8, 8, 6],
            "activation": "tanh",
            "features": ["x1", "x2", "sin_x1", "sin_x2"],
            "learning_rate": 0.01,
            "optimizer": "adam",
            "batch_size": 10,
            "noise": 0.05,
        },
    },
    "circle_features": {
        "title": "Try this: no hidden layer",
        "about": "With x1² and x2² as inputs a single neuron draws a circle.",
        "config": {
            "dataset": "circle",
            "hidden_layers": [],
            "features": ["x1_sq", "x2_sq"],
            "learning_rate": 0.03,
            "optimizer": "sgd",
            "batch_size": 10,
        },
    },
    "blobs_softmax": {
        "title": "Try this: four classes",
        "about": "Softmax and cross-entropy separate four Gaussian blobs.",
        "config": {
            "dataset": "blobs",
            "n_classes": 4,
            "hidden_layers": [6],
            "activation": "relu",
            "learning_rate": 0.01,
            "optimizer": "adam",
            "batch_size": 10,
        },
    },
}
