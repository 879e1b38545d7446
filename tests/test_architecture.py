"""The house rules: the core is pure, app/ has no import cycle, no module is too long."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB = (
    "fastapi",
    "starlette",
    "pydantic",
    "pydantic_settings",
    "anyio",
    "uvicorn",
    "jinja2",
    "app",
    "PIL",
    "threadpoolctl",
    "onnx",
)
MAX_LINES = 400


def _modules(package: str) -> dict[str, Path]:
    base = ROOT / package
    out = {}
    for path in base.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``path`` imports, at any depth of the file
    (``TYPE_CHECKING`` blocks and imports inside functions count: a cycle is a cycle)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph(package: str) -> dict[str, set[str]]:
    modules = _modules(package)
    known = set(modules)
    graph = {}
    for name, path in modules.items():
        # a package's __init__ is imported with each of its modules: count its edges only
        # where it really imports something
        graph[name] = _imports(path, name, known)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_nn_core_imports_only_numpy_and_the_standard_library() -> None:
    modules = sorted(_modules("nn_core"))
    code = (
        f"import sys, importlib\nfor m in {modules!r}: importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {WEB!r})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("package", ["app", "nn_core"])
def test_no_import_cycle(package: str) -> None:
    assert _cycle(_graph(package)) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_features_do_not_reach_into_each_other_s_sessions() -> None:
    """The session and serving layers know no page: pages plug into them."""
    graph = _graph("app")
    for name, deps in graph.items():
        if name.startswith(("app.session", "app.serving")):
            pages = {d for d in deps if d.startswith(("app.playground", "app.digits"))}
            assert not pages, f"{name} imports {sorted(pages)}"


@pytest.mark.parametrize(
    "pattern", ["nn_core/**/*.py", "app/**/*.py", "static/js/*.js", "bench/*.py"]
)
def test_no_module_passes_400_lines(pattern: str) -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in ROOT.glob(pattern)
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these by responsibility: {long}"


def test_the_page_copies_no_server_limit() -> None:
    """Limits live in ``app/validation.py`` (and the configs built from it): the scripts
    read them from ``/api/options``, the templates from the config's schema, so neither
    types one out. A copy is how a control drifts from what the server accepts."""
    from app.digits.inputs import LIMITS as PREDICT_LIMITS
    from app.digits.training import MnistConfig
    from app.validation import LIMITS

    mnist_batch = MnistConfig.model_json_schema()["properties"]["batch_size"]["maximum"]
    numbers = {
        int(LIMITS["neurons"][1]),
        int(LIMITS["neurons"][1]) - 1,
        int(LIMITS["points"][1]),
        int(LIMITS["points"][1]) - 1,
        int(LIMITS["max_epochs"][1]),
        int(LIMITS["seed"][1]),
        int(PREDICT_LIMITS["width"][1]),
        int(mnist_batch),
    }
    smallest_rate = f"{LIMITS['learning_rate'][0]:f}".rstrip("0")  # "0.000001"
    copied = re.compile(
        "|".join(
            [
                r"\b(" + "|".join(map(str, sorted(numbers))) + r")\b",
                re.escape(smallest_rate),
                rf"length\s*[<>]=?\s*{int(LIMITS['hidden_layers'][1])}\b",
            ]
        )
    )
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()[:80]}"
        for p in sorted([*ROOT.glob("static/js/*.js"), *ROOT.glob("templates/*.html")])
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if copied.search(line)
    ]
    assert not found, "derive these from /api/options or the config's schema:\n" + "\n".join(found)
    # no control's range is typed into a template: the page or the schema fills it in
    literal = re.compile(r'\b(min|max|maxlength)="-?[\d.]')
    typed = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in ROOT.glob("templates/*.html")
        for m in literal.finditer(p.read_text())
    ]
    assert not typed
