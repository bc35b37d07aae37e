"""A command loads only what it needs: the table of command modules is whole, and reading
an incident imports neither the web server, publishing, the audit nor the cipher."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from eventsourcing.utils import get_topic

import verify.entrypoints.cli as cli_package
from verify.adapters.encryption import PlaceBoundCipher, PlaceBoundMapper
from verify.adapters.store import CIPHER_TOPIC, MAPPER_TOPIC
from verify.entrypoints.cli import COMMAND_MODULES, cli

NOT_FOR_READING = (
    "cryptography", "fastapi", "jinja2", "uvicorn", "matplotlib", "psycopg", "boto3",
    "verify.entrypoints.web", "verify.entrypoints.publish", "verify.application.auditing",
    "verify.entrypoints.cli.auditing", "verify.entrypoints.cli.publish",
    "verify.entrypoints.cli.serve", "verify.entrypoints.cli.transfer",
    "verify.adapters.encryption", "verify.adapters.gazetteer",
    "verify.application.records", "verify.domain.strikes", "verify.domain.gazetteer",
    "tomllib", "difflib",
)
"""Modules a reading command must not import: each costs start-up and none is used."""


def test_every_command_module_is_in_the_table_and_nothing_else() -> None:
    found: dict[str, str] = {}
    for module in pkgutil.iter_modules(cli_package.__path__):
        commands = getattr(importlib.import_module(f"verify.entrypoints.cli.{module.name}"),
                           "COMMANDS", ())
        for command in commands:
            assert command.name not in found, f"{command.name} is defined twice"
            found[str(command.name)] = module.name
    assert found == COMMAND_MODULES


def test_help_lists_every_command_and_an_unknown_one_is_refused() -> None:
    listed = CliRunner().invoke(cli, ["--help"])
    assert listed.exit_code == 0
    for name in COMMAND_MODULES:
        assert f"\n  {name} " in listed.output
    unknown = CliRunner().invoke(cli, ["shwo"])
    assert unknown.exit_code == 2
    assert "No such command 'shwo'" in unknown.output


def test_each_command_is_found_by_its_name() -> None:
    with click.Context(cli) as ctx:
        for name in COMMAND_MODULES:
            command = cli.get_command(ctx, name)
            assert command is not None and command.name == name


def test_the_cipher_is_named_by_its_topic_without_importing_it() -> None:
    assert get_topic(PlaceBoundCipher) == CIPHER_TOPIC
    assert get_topic(PlaceBoundMapper) == MAPPER_TOPIC


@pytest.mark.slow
def test_reading_commands_import_only_what_they_need(tmp_path: Path) -> None:
    store = str(tmp_path / "verify.sqlite")
    for args in (["init"], ["report", "CS1", "--date", "2017-03-21", "--location", "Mosul",
                            "--country", "Iraq", "--belligerent", "Coalition",
                            "--killed", "3", "--summary", "strike"]):
        result = CliRunner().invoke(cli, ["--store", store, "--actor", "t", *args])
        assert result.exit_code == 0, result.output
    probe = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
        "from verify.entrypoints.cli import main\n"
        "sys.argv[0] = 'verify'\n"
        "main()\n"
    )
    for command in (["show", "CS1", "--json"], ["history", "CS1", "--json"],
                    ["queue", "--json"], ["stats", "--json"], ["search", "Mosul", "--json"]):
        run = subprocess.run([sys.executable, "-c", probe, "--store", store, *command],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        assert "CS1" in run.stdout or command[0] == "stats"
        modules = set(json.loads(run.stderr.strip().splitlines()[-1]))
        loaded = sorted(name for name in modules
                        if any(name == unwanted or name.startswith(f"{unwanted}.")
                               for unwanted in NOT_FOR_READING))
        assert loaded == [], f"{' '.join(command)} imports {loaded}"
