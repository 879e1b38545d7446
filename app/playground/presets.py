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
    "vanishing_gradients": {
        "title": "Backprop: vanishing gradients",
        "about": "Six sigmoid layers of 8. Turn on Show gradients and watch Training health: "
        "each sigmoid multiplies the gradient by at most 0.25, so layer 1 gets a tiny "
        "fraction of the output layer's gradient and its links stay pale.",
        "config": {
            "dataset": "circle",
            "hidden_layers": [8, 8, 8, 8, 8, 8],
            "activation": "sigmoid",
            "init": "xavier",
            "learning_rate": 0.03,
            "optimizer": "sgd",
            "batch_size": 10,
            "noise": 0.0,
            "seed": 0,
        },
    },
    "dead_relus": {
        "title": "Backprop: dead ReLUs",
        "about": "XOR with 2-3-1 relu at learning rate 0.7, seed 3. Within five epochs one "
        "unit is pushed below zero on every training point: its badge says dead, its links "
        "get no gradient, and lowering the rate cannot revive it. Reset at 0.1 to compare.",
        "config": {
            "dataset": "xor",
            "hidden_layers": [3],
            "activation": "relu",
            "init": "xavier",
            "learning_rate": 0.7,
            "optimizer": "sgd",
            "batch_size": 10,
            "noise": 0.0,
            "seed": 3,
        },
    },
    "learning_rate_too_high": {
        "title": "Backprop: learning rate too high",
        "about": "The default network at learning rate 3. Watch the update-to-weight ratio in "
        "Training health leave the healthy band near 0.001 and the loss jump about; then "
        "type 0.03 and Reset.",
        "config": {
            "dataset": "circle",
            "hidden_layers": [4, 2],
            "activation": "tanh",
            "init": "xavier",
            "learning_rate": 3.0,
            "optimizer": "sgd",
            "batch_size": 10,
            "noise": 0.0,
            "seed": 0,
        },
    },
    "he_vs_xavier": {
        "title": "Backprop: He vs Xavier",
        "about": "Five relu layers of 8 started with Xavier's weights. Press Pin run after a "
        "few hundred epochs, switch Initialization to He (made for relu) and compare: the "
        "gradient norms of the first layers and the pinned loss curve.",
        "config": {
            "dataset": "spiral",
            "hidden_layers": [8, 8, 8, 8, 8],
            "activation": "relu",
            "init": "xavier",
            "learning_rate": 0.01,
            "optimizer": "sgd",
            "batch_size": 10,
            "noise": 0.0,
            "seed": 0,
        },
    },
}
