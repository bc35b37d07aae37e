"""The command lines in README.md and docs/*.md run, in order, and say what the docs say.

A ``console`` block holds ``$ verify ...`` lines, each followed by lines its
output must contain. ``# exits N`` at the end of a command line states its exit
code (0 otherwise). A block fenced as ``file NAME`` is written to NAME before
the commands after it run, so examples can import the files they show. Each
document runs in a fresh directory with its own store.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from verify.entrypoints.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass
class Example:
    line: int
    command: str
    exit_code: int = 0
    expected: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """Files written (name: text) before the command runs."""


def examples(document: Path) -> list[Example]:
    found: list[Example] = []
    inside = False
    writing: str | None = None
    files: dict[str, str] = {}
    for number, text in enumerate(document.read_text(encoding="utf-8").splitlines(), start=1):
        if text.startswith("```"):
            fence = text.strip().removeprefix("```")
            inside = fence == "console"
            writing = fence.removeprefix("file ").strip() if fence.startswith("file ") else None
            if writing is not None:
                files[writing] = ""
            continue
        if writing is not None:
            files[writing] += text + "\n"
            continue
        if not inside:
            continue
        if text.startswith("$ "):
            command = text[2:]
            exit_code = 0
            marker = re.search(r"\s+# exits (\d)\s*$", command)
            if marker:
                exit_code = int(marker.group(1))
                command = command[: marker.start()]
            found.append(Example(number, command, exit_code, files=dict(files)))
            files.clear()
        elif text.strip() and found:
            found[-1].expected.append(text.strip())
    return found


@pytest.mark.parametrize(
    "document", [d for d in DOCUMENTS if examples(d)], ids=lambda d: d.name
)
def test_documented_commands_work(
    document: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERIFY_STORE", raising=False)
    monkeypatch.setenv("VERIFY_ACTOR", "docs")
    runner = CliRunner()
    for example in examples(document):
        for name, text in example.files.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        words = shlex.split(example.command)
        assert words[0] == "verify", f"{document.name}:{example.line} runs {words[0]}"
        result = runner.invoke(cli, words[1:])
        where = f"{document.name}:{example.line}: {example.command}"
        output = result.stdout + result.stderr
        assert result.exit_code == example.exit_code, f"{where}\n{output}"
        for expected in example.expected:
            assert expected in output, f"{where}\nexpected: {expected}\ngot:\n{output}"


def test_every_document_with_examples_is_checked() -> None:
    assert examples(ROOT / "README.md"), "the README's walk-through has no console examples"
