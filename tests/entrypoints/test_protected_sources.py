"""A source marked --protected never leaves through public output or an error message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from verify.entrypoints.cli import cli

SECRET_PUBLISHER = "Zahra Witness Circle"
SECRET_URL = "https://signal.invalid/zahra-7731"
SECRETS = (SECRET_PUBLISHER, "Zahra", SECRET_URL, "zahra-7731")


@pytest.fixture
def run(store_url: str) -> object:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["--store", store_url, "--actor", "amira", *args])

    invoke("init")
    invoke("report", "CS1", "--date", "2017-03-17", "--location", "Mosul", "--country", "Iraq",
           "--belligerent", "Coalition", "--lat", "36.34", "--lon", "43.13")
    invoke("source", "add", "CS1", "--url", SECRET_URL, "--publisher", SECRET_PUBLISHER,
           "--kind", "witness", "--reliability", "B", "--credibility", "2", "--protected",
           "--group", "zahra-circle")
    invoke("source", "add", "CS1", "--url", "https://news.example/1", "--publisher", "Daily",
           "--kind", "media", "--reliability", "C", "--credibility", "3")
    invoke("strike", "confirm", "CS1", "--belligerent", "Coalition", "--status", "declared")
    invoke("source", "rerate", "CS1", "s1", "--reliability", "A", "--credibility", "2",
           "--reason", f"{SECRET_PUBLISHER} was right before")
    invoke("grade", "CS1")
    invoke("note", "CS1", f"met {SECRET_PUBLISHER} in person")
    return invoke


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret.lower() not in text.lower(), f"{secret!r} leaked: {text[:500]}"


def test_the_private_history_keeps_everything(run: object) -> None:
    result = run("history", "CS1")  # type: ignore[operator]
    assert result.exit_code == 0 and SECRET_PUBLISHER in result.output


@pytest.mark.parametrize("form", [[], ["--json"]])
def test_the_public_history_withholds_the_protected_source(run: object, form: list[str]) -> None:
    result = run("history", "CS1", "--public", *form)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    assert_no_secret(result.output)
    assert "protected; details withheld" in result.output
    # Nor its group or rating: not where it was added, re-rated, or named in a reason.
    for detail in ("zahra-circle", "B2", "A2", "protected, "):
        assert detail not in result.output, detail
    assert "s1 (protected)" in result.output  # the grading reason, by id only
    if form:
        events = [entry["event"] for entry in json.loads(result.stdout)]
        assert events.count("SourceAdded") == 2 and "Graded" in events


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "geojson"])
def test_public_exports_leave_the_protected_source_out(run: object, fmt: str) -> None:
    result = run("export", "--format", fmt, "--public")  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    assert_no_secret(result.output)
    assert "CS1" in result.output
    if fmt != "geojson":  # GeoJSON carries no sources at all
        assert "Daily" in result.output


def test_grading_reasons_name_a_protected_source_by_id_only(run: object) -> None:
    for args in (["grade", "CS1", "--suggest"], ["show", "CS1", "--json"], ["explain", "CS1"]):
        result = run(*args)  # type: ignore[operator]
        assert result.exit_code == 0, result.output
        reasons = result.output.split('"sources"')[0] if "show" in args else result.output
        assert SECRET_PUBLISHER not in reasons.replace('"publisher": "' + SECRET_PUBLISHER, "")
    assert "s1 (protected, A2)" in run("grade", "CS1", "--suggest").output  # type: ignore[operator]


def test_error_messages_never_repeat_a_protected_source(run: object, tmp_path: Path) -> None:
    long_name = SECRET_PUBLISHER + "x" * 600
    attempts = [
        ["source", "add", "CS1", "--url", SECRET_URL, "--publisher", SECRET_PUBLISHER,
         "--kind", "witness", "--protected"],
        ["source", "add", "CS1", "--url", SECRET_URL + "/" + "x" * 9000, "--publisher", "P",
         "--kind", "witness", "--protected"],
        ["source", "add", "CS1", "--url", "https://other.example", "--publisher", long_name,
         "--kind", "witness", "--protected"],
        ["source", "add", "CS1", "--url", "https://other.example", "--publisher", "P",
         "--kind", "witness", "--group", long_name, "--protected"],
        ["source", "rerate", "CS1", "s1", "--reliability", "A", "--credibility", "2",
         "--reason", "again"],
        ["source", "withdraw", "CS1", "s9", "--reason", SECRET_PUBLISHER],
        ["source", "add", "CS404", "--url", SECRET_URL, "--publisher", SECRET_PUBLISHER,
         "--kind", "witness", "--protected"],
    ]
    for args in attempts:
        result = run(*args)  # type: ignore[operator]
        assert result.exit_code in (1, 2), (args, result.output)
        assert_no_secret(result.stderr)
    # An import whose protected source differs from the stored one names the field, not the value.
    exported = run("export", "--format", "jsonl").stdout  # type: ignore[operator]
    changed = tmp_path / "changed.jsonl"
    changed.write_text(exported.replace(SECRET_PUBLISHER, SECRET_PUBLISHER + " (renamed)"))
    result = run("import", str(changed))  # type: ignore[operator]
    assert result.exit_code == 0 and "differs from the store in sources" in result.output
    assert_no_secret(result.output)
    # A value that cannot be read is kept with its source, and the warning names only the field.
    unreadable = tmp_path / "unreadable.jsonl"
    unreadable.write_text(exported.replace(SECRET_URL, SECRET_URL + "/" + "x" * 9000)
                          .replace('"CS1"', '"CS2"'))
    result = run("import", str(unreadable), "--json")  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    assert "sources[0].url: longer than 8,192 characters" in result.stderr
    assert_no_secret(result.output)
    public = run("export", "--public").stdout  # type: ignore[operator]
    assert_no_secret(public)
    assert "x" * 9000 not in public
