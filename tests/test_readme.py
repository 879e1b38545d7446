"""The README's notebook example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_example(marker: str) -> str:
    """The README's first Python block that contains ``marker``."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return next(b for b in blocks if marker in b)


def test_readme_python_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = readme_example("from nn_core import")
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    assert (tmp_path / "spiral.npz").exists()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6 and lines[0].startswith("1 ")


def test_the_backprop_walkthrough_holds_what_the_code_prints() -> None:
    """docs/backprop.md's numbers come from a real run; they must not drift from the code."""
    import subprocess
    import sys

    printed = subprocess.run(
        [sys.executable, "scripts/backprop_walkthrough.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    doc = (ROOT / "docs" / "backprop.md").read_text()
    block = doc.split("<!-- walkthrough:begin -->")[1].split("<!-- walkthrough:end -->")[0]
    assert block.strip() == printed
    assert "matches" in printed and "**Update**" in printed


def test_readme_many_seeds_example_runs_and_matches_each_seed_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = readme_example("from nn_core import")
    stacked = readme_example("from nn_core.stack import Stack")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(first, "README.md", "exec"), scope)
    exec(compile(stacked, "README.md", "exec"), scope)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ of 100 seeds stuck: \[.*\]", line), line
    trainers = scope["trainers"]
    assert isinstance(trainers, list)
    from nn_core import SGD, Network, Trainer

    for t in trainers[:3]:  # the stack's curves are each seed's own
        alone = Trainer(
            Network([2, 3, 1], activation="sigmoid", seed=t.network.seed), SGD(1.0),
            t.x_train, t.y_train, t.x_test, t.y_test,
            batch_size=None, seed=t.network.seed, exact_train_loss=True,
        )  # fmt: skip
        assert alone.fit(500) == t.history
