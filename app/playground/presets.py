"""One-click setups: the tutorials' systems and a few "try this" ideas.

Each preset is a partial playground config (keys as in ``TrainConfig`` and the URL), its
``title`` and ``about`` text, and its ``promise``: what the text says, in figures a test can
check (``tests/app/test_presets_promise.py`` trains each preset on five seeds, its own seed
first where it has one, and asks that at least ``seeds`` of them keep it):

``epochs``
    how long it trains (what a learner watches);
``accuracy_at_least``
    the test accuracy reached by then;
``stuck_below`` and ``stuck_seeds``
    at least ``stuck_seeds`` of the five stay below this accuracy (a local minimum);
``slower_than``
    ``{"loss": other, "factor": f, "accuracy": a}``: reaching accuracy ``a`` takes at least
    ``f`` times the epochs it takes with the ``other`` loss;
``first_layer_share_below``
    layer 1's gradient norm over the output layer's (vanishing gradients);
``dead_units_at_least``
    rectifier units inactive on every training point;
``update_ratio_above`` and ``loss_rises_at_least``
    the largest update-to-weight ratio, and how many epochs the loss rises by over 5 %;
``against_init``
    ``{"init": other, "first_layer_grad_ratio_above": r}``: with the ``other`` initializer
    layer 1's gradient norm is over ``r`` times this one's.
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "xor_2_3_1": {
        "title": "XOR with a 2-3-1 net",
        "about": "The classic: no straight line separates XOR; three relu units bend the plane "
        "and most starts reach 100 % within 300 epochs. About one start in six gets stuck near "
        "75 %: the units' lines end up side by side, one quadrant keeps the wrong colour and "
        "more epochs do not help. No unit is dead, but all three are off on that quadrant "
        "and its neighbour, so Training health says stuck. Press Regenerate for a new start.",
        "promise": {
            "epochs": 300,
            "accuracy_at_least": 0.95,
            "seeds": 3,
            "stuck_below": 0.8,
            "stuck_seeds": 1,
        },  # fmt: skip
        "config": {
            "dataset": "xor",
            "hidden_layers": [3],
            "activation": "relu",
            "init": "he",
            "learning_rate": 0.1,
            "optimizer": "sgd",
            "batch_size": 10,
            "noise": 0.0,
        },
    },
    "flower_4_tanh": {
        "title": "Planar flower, 4 tanh units",
        "about": "The tutorials' flower: one hidden layer of 4 tanh units reaches about 90 %.",
        "promise": {"epochs": 300, "accuracy_at_least": 0.85, "seeds": 4},
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
        "about": "Nielsen's starting point: sigmoid units and the squared error. It learns the "
        "circle, but slowly, shown at 30 epochs a second: 90 % takes about 90 to 250 epochs, "
        "as the squared error's gradient carries the output's slope σ′(z) ≤ 0.25 (Nielsen's "
        "learning slowdown). Pin run, set Loss to Cross-entropy and Reset: the same network "
        "gets there in about half the epochs.",
        "promise": {
            "epochs": 300,
            "accuracy_at_least": 0.9,
            "seeds": 4,
            "slower_than": {"loss": "bce", "factor": 1.5, "accuracy": 0.9},
        },  # fmt: skip
        "config": {
            "dataset": "circle",
            "hidden_layers": [4],
            "activation": "sigmoid",
            "loss": "mse",
            "learning_rate": 0.1,
            "optimizer": "sgd",
            "batch_size": 10,
            "speed": 30,
        },
    },
    "spiral_deep": {
        "title": "Try this: the spiral",
        "about": "Hard for x1, x2 alone (TensorFlow Playground's default network stays near "
        "60 %). With sin features, three layers and Adam it passes 95 % within 100 epochs; "
        "switch the sin features off to see what they bring.",
        "promise": {"epochs": 100, "accuracy_at_least": 0.95, "seeds": 4},
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
        "promise": {"epochs": 100, "accuracy_at_least": 0.95, "seeds": 4},
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
        "promise": {"epochs": 100, "accuracy_at_least": 0.95, "seeds": 4},
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
        "promise": {"epochs": 10, "first_layer_share_below": 0.01, "seeds": 4},
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
        "get no gradient, and lowering the rate cannot revive it. Reset at 0.1 to compare. "
        "Seed 3 was chosen for this: on most other seeds all three units live.",
        "promise": {"epochs": 5, "dead_units_at_least": 1, "seeds": 1},
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
        "promise": {"epochs": 30, "update_ratio_above": 0.1, "loss_rises_at_least": 5, "seeds": 4},
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
        "gradient norms of the first layers (larger with He from the first epochs on) and "
        "the pinned loss curve.",
        "promise": {
            "epochs": 20,
            "against_init": {"init": "he", "first_layer_grad_ratio_above": 1.1},
            "seeds": 4,
        },  # fmt: skip
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
