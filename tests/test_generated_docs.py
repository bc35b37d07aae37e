"""docs/rules.md and the help in docs/cli.md are what docs/generate.py writes today."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rules_page_matches_the_feature_files() -> None:
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == generator().rules_page(), "run: python docs/generate.py"
    assert "| B2 (group a), B2 (group a) | weak | WEAK | s1, s2 |" in committed


def test_cli_page_embeds_current_help() -> None:
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == generator().cli_page(committed), "run: python docs/generate.py"
    assert "### `verify grade`" in committed


def test_architecture_page_lists_every_module() -> None:
    committed = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert committed == generator().architecture_page(committed), "run: python docs/generate.py"
    assert "| `incident.py` |" in committed
