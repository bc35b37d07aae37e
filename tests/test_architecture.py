"""The layers of docs/architecture.md, checked on the code: dependencies point inward only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "verify"

LAYERS = ["domain", "application", "adapters", "demo", "entrypoints"]
"""Innermost first: a layer may import the layers before it, never one after it."""

FORBIDDEN_IN_DOMAIN = {"click", "fastapi", "starlette", "jinja2", "uvicorn", "sqlite3",
                       "psycopg", "os", "pathlib", "tomllib", "argon2", "matplotlib"}
"""What the pure domain never imports: no edge, no storage, no file system."""


def imports(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "verify" else None


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_is_its_layers() -> None:
    assert sorted(path.name for path in PACKAGE.iterdir() if path.name != "__pycache__") == \
        sorted(["__init__.py", *LAYERS])


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_dependencies_point_inward(path: Path) -> None:
    own = path.relative_to(PACKAGE).parts[0]
    if own not in LAYERS:
        return
    allowed = set(LAYERS[: LAYERS.index(own) + 1])
    outward = sorted(module for module in imports(path)
                     if (layer := layer_of(module)) is not None and layer not in allowed)
    assert not outward, f"{path.relative_to(PACKAGE)} imports outward: {outward}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "domain").glob("*.py")), ids=lambda p: p.name)
def test_the_domain_is_pure(path: Path) -> None:
    impure = sorted(module for module in imports(path)
                    if module.split(".")[0] in FORBIDDEN_IN_DOMAIN)
    assert not impure, f"domain/{path.name} imports {impure}"
