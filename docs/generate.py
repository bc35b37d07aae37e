"""Regenerate the parts of docs/ that are derived from code: `python docs/generate.py`.

- docs/rules.md renders features/*.feature for readers who never open Gherkin.
- docs/cli.md embeds every command's --help between its generated markers.
- docs/architecture.md lists every module of every layer, with what it is for
  (its docstring's first line) and the layers it imports.

tests/test_generated_docs.py fails when a committed file differs from what
this script would write, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- generated: command help (python docs/generate.py) -->"
END = "<!-- end of generated command help -->"
MAP_BEGIN = "<!-- generated: module map (python docs/generate.py) -->"
MAP_END = "<!-- end of generated module map -->"
LAYERS = ["domain", "application", "adapters", "demo", "entrypoints"]


def render_feature(path: Path) -> str:
    """One feature file as Markdown: headings, steps as lists, examples as tables."""
    out: list[str] = []
    in_description = False
    in_table = False
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("Feature:"):
            out += [f"## {line.removeprefix('Feature:').strip()}", ""]
            in_description = True
            continue
        if line.startswith(("Scenario Outline:", "Scenario:")):
            title = line.split(":", 1)[1].strip()
            out += ["", f"### {title}", ""]
            in_description = in_table = False
            continue
        if line.startswith("Examples:"):
            out += [""]
            in_table = False
            continue
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            out.append("| " + " | ".join(cells) + " |")
            if not in_table:
                out.append("|" + "|".join(" --- " for _ in cells) + "|")
                in_table = True
            continue
        if line.split(" ", 1)[0] in {"Given", "When", "Then", "And", "But"}:
            out.append("- " + re.sub(r"<(\w+)>", r"`<\1>`", line))
            continue
        if in_description:
            out.append(line)
    return "\n".join(out).strip() + "\n"


def rules_page() -> str:
    parts = [
        "# The rules, as specified",
        "",
        "Rendered from `features/*.feature` by `python docs/generate.py`; the feature",
        "files are executed by the test suite, so every table here is checked.",
        "In outlines, `<name>` stands for the column of that name in the table below it.",
        "",
    ]
    for feature in sorted((ROOT / "features").glob("*.feature")):
        parts += [f"<!-- from features/{feature.name} -->", "", render_feature(feature), ""]
    return "\n".join(parts).rstrip() + "\n"


def command_help() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from verify.entrypoints.cli import cli

    sections: list[str] = []

    def walk(command: click.Command, path: list[str]) -> None:
        with click.Context(
            command, info_name=" ".join(path), terminal_width=88, max_content_width=88,
            help_option_names=["-h", "--help"],
        ) as ctx:
            text = command.get_help(ctx)
            sections.append(f"### `{' '.join(path)}`\n\n```text\n{text}\n```\n")
            if isinstance(command, click.Group):
                for name in command.list_commands(ctx):
                    child = command.get_command(ctx, name)
                    assert child is not None, name
                    walk(child, [*path, name])

    walk(cli, ["verify"])
    return "\n".join(sections)


def cli_page(current: str) -> str:
    head, _, rest = current.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n\n{command_help()}\n{END}{tail}"


def module_map() -> str:
    """Each layer's modules: what each is for, and which layers it imports."""
    package = ROOT / "src" / "verify"
    out: list[str] = []
    for layer in LAYERS:
        out += [f"### `{layer}/`", "", "| module | for | imports |", "|---|---|---|"]
        for path in sorted((package / layer).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            doc = (ast.get_docstring(tree) or "").strip().splitlines()
            used = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and \
                        node.module.startswith("verify."):
                    used.add(node.module.split(".")[1])
            inner = ", ".join(name for name in LAYERS if name in used and name != layer) or "-"
            name = str(path.relative_to(package / layer))
            out.append(f"| `{name}` | {doc[0] if doc else ''} | {inner} |")
        out.append("")
    return "\n".join(out)


def architecture_page(current: str) -> str:
    head, _, rest = current.partition(MAP_BEGIN)
    _, _, tail = rest.partition(MAP_END)
    return f"{head}{MAP_BEGIN}\n\n{module_map()}\n{MAP_END}{tail}"


def main() -> None:
    (ROOT / "docs" / "rules.md").write_text(rules_page(), encoding="utf-8")
    cli_path = ROOT / "docs" / "cli.md"
    cli_path.write_text(cli_page(cli_path.read_text(encoding="utf-8")), encoding="utf-8")
    layers_path = ROOT / "docs" / "architecture.md"
    layers_path.write_text(architecture_page(layers_path.read_text(encoding="utf-8")),
                           encoding="utf-8")


if __name__ == "__main__":
    main()
