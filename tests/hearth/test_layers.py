"""The layers contract (pyproject.toml, [tool.importlinter]; docs/architecture.md): it holds,
it names every module, and no import hides inside a function to cross between apps."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("chat", "rooms", "moderation", "hearth", "frontend")


def _layers() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return [{name.strip() for name in layer.replace("|", ":").split(":") if name.strip()}
            for layer in contract["layers"]]


def _modules() -> list[str]:
    """Every module of the apps but package faces, migrations and management commands (they
    run as entry points, each on its own)."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts or "commands" in parts or parts[-1] == "__init__":
                continue
            found.append(".".join(parts))
    return found


def _layer_of(module: str, layers: list[set[str]]) -> int | None:
    for index, layer in enumerate(layers):
        if any(module == name or module.startswith(f"{name}.") for name in layer):
            return index
    return None


def test_the_layers_contract_is_kept():
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout


def test_every_module_has_a_layer():
    layers = _layers()
    unplaced = [module for module in _modules() if _layer_of(module, layers) is None]
    assert not unplaced, f"place these in a layer in pyproject.toml: {unplaced}"


def test_every_module_a_layer_names_exists():
    modules = set(_modules())
    for layer in _layers():
        for name in layer:
            assert name in modules or (ROOT / name.replace(".", "/")).is_dir(), name


def _function_local_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                found.extend((node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((node.lineno, node.module))
    return found


def test_no_function_local_import_crosses_apps():
    """An import inside a function hides a dependency from the contract above; between
    modules of one app (a cycle inside it, a module loaded on demand) it is allowed."""
    crossing = []
    for module in _modules():
        app = module.split(".")[0]
        path = ROOT / (module.replace(".", "/") + ".py")
        for line, imported in _function_local_imports(path):
            target = imported.split(".")[0]
            if target in APPS and target != app:
                crossing.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert not crossing, crossing


@pytest.mark.parametrize(("source", "expected"), [
    ("def f():\n    from rooms.models import Room\n", [(2, "rooms.models")]),
    ("async def f():\n    import moderation.duty\n", [(2, "moderation.duty")]),
    ("from rooms.models import Room\n", []),  # at module level: the contract sees it
    ("def f():\n    from . import sibling\n", []),  # relative: inside the package
])
def test_the_scan_finds_imports_inside_functions(tmp_path, source, expected):
    path = tmp_path / "module.py"
    path.write_text(source)
    assert _function_local_imports(path) == expected


def test_a_module_above_its_layer_is_found():
    layers = [{"chat.consumers"}, {"chat"}]
    assert _layer_of("chat.consumers", layers) == 0
    assert _layer_of("chat.models", layers) == 1
    assert _layer_of("rooms.models", layers) is None
