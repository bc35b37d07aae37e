"""The command lines in README.md and docs/*.md run, in order, and say what the docs say.

A ``console`` block holds ``$ verify ...`` lines, each followed by lines its
output must contain. ``# exits N`` at the end of a command line states its exit
code (0 otherwise). A block fenced as ``file NAME`` is written to NAME before
the commands after it run, so examples can import the files they show. Each
document runs in a fresh directory with its own store.
"""

from __future__ import annotations

import json
import re
import runpy
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from verify.entrypoints.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SLOW_DOCUMENTS = {"publication.md"}
"""Documents whose examples run outside the inner loop (publishing the whole archive)."""


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
    "document",
    [pytest.param(d, marks=pytest.mark.slow) if d.name in SLOW_DOCUMENTS else d
     for d in DOCUMENTS if examples(d)],
    ids=lambda d: d.name,
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


# ------------------------------------------------ the proof checker in audit.md


def python_program(document: Path) -> str:
    """The first ```python block of a document: a program a reader copies as it is."""
    found = re.search(r"^```python\n(.*?)^```$", document.read_text(encoding="utf-8"),
                      re.MULTILINE | re.DOTALL)
    assert found, f"{document.name} has no python block"
    return found.group(1)


def mutations(value: object, where: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """The place of every number and string in a JSON document."""
    if isinstance(value, dict):
        return [place for key, item in value.items() for place in mutations(item, (*where, key))]
    if isinstance(value, list):
        return [place for index, item in enumerate(value)
                for place in mutations(item, (*where, index))]
    return [where]


def changed(document: Any, place: tuple[Any, ...]) -> Any:
    """The document with one byte of the value at ``place`` changed (a digit stays a digit)."""
    copy = json.loads(json.dumps(document))
    holder = copy
    for key in place[:-1]:
        holder = holder[key]
    value = holder[place[-1]]
    if isinstance(value, int):
        holder[place[-1]] = value ^ 1
    else:
        last = value[-1]
        holder[place[-1]] = value[:-1] + ("0" if last != "0" else "1")
    return copy


@pytest.mark.slow  # runs the checker as a separate Python, a dozen times
def test_the_proof_checker_in_the_audit_docs_checks_proofs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/audit.md's checker, run with Python's standard library alone (`-I -S`: no
    installed package within reach), holds for an incident's proof and a consistency proof
    made from the demo's store, and fails for another root, another size, and a byte
    changed in any field of either proof."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERIFY_STORE", raising=False)
    program = tmp_path / "check_proof.py"
    program.write_text(python_program(ROOT / "docs" / "audit.md"), encoding="utf-8")
    runner = CliRunner()

    def verify(*args: str) -> str:
        result = runner.invoke(cli, ["--actor", "docs", *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    def check(proof: Path, published: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-I", "-S", str(program), str(proof), published],
                              capture_output=True, text=True, timeout=60)

    verify("demo")
    old_seal = verify("audit", "seal").strip()
    verify("audit", "prove", "CS1080", "-o", "proof.json")
    verify("report", "CS1101", "--date", "2017-03-22", "--location", "Tabqa",
           "--country", "Syria", "--belligerent", "US-led Coalition")
    verify("audit", "prove", "--consistency", old_seal, "-o", "grew.json")
    seal = verify("audit", "seal").strip()
    root = json.loads(verify("audit", "seal", "--json"))["merkle_root"]

    held = check(tmp_path / "proof.json", old_seal)
    assert (held.returncode, held.stdout.strip()) == (0, "holds"), held.stdout + held.stderr
    assert check(tmp_path / "proof.json", root.removeprefix("sha256:")).returncode == 1
    assert check(tmp_path / "grew.json", seal).returncode == 0
    assert check(tmp_path / "grew.json", root).returncode == 0
    assert check(tmp_path / "proof.json", seal).returncode == 1  # a later root
    other_size = old_seal.replace("events=51", "events=52")
    assert check(tmp_path / "proof.json", other_size).returncode == 1
    assert "does not hold" in check(tmp_path / "grew.json", old_seal).stdout

    # Every field, with a byte changed: in process, the program as a module (it is the same
    # program; a process for each of the hundred changes would only be slower).
    checker = runpy.run_path(str(program))
    for name, published in (("proof.json", old_seal), ("grew.json", seal)):
        document = json.loads((tmp_path / name).read_text())
        assert checker["main"](str(tmp_path / name), published) is None
        places = mutations(document)
        assert len(places) > 10
        for place in places:
            (tmp_path / "changed.json").write_text(json.dumps(changed(document, place)))
            why = checker["main"](str(tmp_path / "changed.json"), published)
            assert why is not None, f"{name}: {place} changed and the proof still holds"


def test_the_quick_start_installs_what_the_readme_then_uses() -> None:
    """The README's first command installs every extra its later commands need (a newcomer
    ran `stats --chart` from it without matplotlib), and each Quick start command says how
    long it takes."""
    text = (ROOT / "README.md").read_text()
    quick = text[text.index("## Quick start"):text.index("\n## ", text.index("## Quick start") + 1)]
    first, second = re.findall(r"```sh\n(.+?)\n```", quick)
    installed = set(re.search(r'pip install "\.\[([a-z,]+)\]"', first)[1].split(","))  # type: ignore[index]
    needs = {"web": "verify serve", "chart": "--chart"}
    for extra, used in needs.items():
        assert used not in text or extra in installed, f"{used} needs the {extra} extra"
    assert "pytest" in second
    for command in (first, second):
        after = quick[quick.index(command) + len(command):][:700]
        assert re.search(r"\b(about|takes?)\b[^.]*\b(seconds?|minutes?)\b", after), command
