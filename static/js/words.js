// The page's words for the server's names: data sets, losses, menu choices and run states.
// A name missing here is shown as it is, so a new registry entry still appears.

export const DATASET_NAMES = {
  circle: "Circle", xor: "Exclusive or", gaussian: "Gaussian", spiral: "Spiral", moons: "Moons",
  flower: "Flower", blobs: "Blobs (multiclass)", multi_spiral: "Spirals (multiclass)",
  plane: "Plane (regression)", multi_gaussian: "Bumps (regression)", custom: "Your own points",
};

// the loss's name in the Output panel's caption
export const LOSS_NAMES = { bce: "binary cross-entropy", cross_entropy: "cross-entropy", mse: "squared error", quadratic: "½ squared error" };

// the menus' words, by config key and choice
export const MENU_WORDS = {
  init: { xavier: "Xavier", he: "He", normal: "normal × 0.01" },
  regularization: { none: "None", l1: "L1", l2: "L2" },
  loss: {
    auto: "Automatic", bce: "Cross-entropy (2 classes)", cross_entropy: "Cross-entropy (3+ classes)",
    mse: "Squared error", quadratic: "½ squared error (Nielsen)",
  },
  problem: { classification: "Classification", regression: "Regression" },
};

export const STATE_WORDS = { running: "running", paused: "paused", diverged: "diverged", done: "finished", stopped: "stopped by the server", busy: "refused: the server is full" };
