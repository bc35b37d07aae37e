"""The team file through the command line: keeping it, and working under it on both stores."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from verify.adapters.team_file import api_token_id, load_team, password_matches, token_digest
from verify.entrypoints.cli import cli

Run = Callable[..., Result]


@pytest.fixture
def team_file(tmp_path: Path) -> Path:
    path = tmp_path / "team.toml"
    runner = CliRunner()
    for name, role in [("amira", "analyst"), ("badr", "analyst"), ("rana", "reviewer"),
                       ("lina", "auditor"), ("omar", "reporter")]:
        result = runner.invoke(cli, ["--team", str(path), "team", "add", name, "--role", role])
        assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def run(store_url: str, team_file: Path) -> Run:
    runner = CliRunner()
    assert runner.invoke(cli, ["--store", store_url, "init"]).exit_code == 0

    def invoke(actor: str, *args: str, team: bool = True) -> Result:
        base = ["--store", store_url, "--actor", actor]
        if team:
            base += ["--team", str(team_file)]
        return runner.invoke(cli, [*base, *args])

    return invoke


def events(run: Run, code: str = "CS1") -> int:
    result = run("lina", "show", code, "--json")
    return int(json.loads(result.stdout)["version"])


def prepare(run: Run) -> None:
    steps = [
        ("omar", "report", "CS1", "--date", "2017-03-17", "--location", "Mosul",
         "--country", "Iraq", "--belligerent", "Coalition"),
        ("omar", "source", "add", "CS1", "--url", "https://a.example/1", "--publisher", "A",
         "--kind", "media", "--reliability", "B", "--credibility", "2"),
        ("omar", "source", "add", "CS1", "--url", "https://b.example/2", "--publisher", "B",
         "--kind", "ngo", "--reliability", "C", "--credibility", "3"),
        ("amira", "strike", "confirm", "CS1", "--belligerent", "Coalition",
         "--status", "declared"),
    ]
    for actor, *args in steps:
        result = run(actor, *args)
        assert result.exit_code == 0, result.output


def test_a_team_grade_is_proposed_then_approved_by_someone_else(run: Run) -> None:
    prepare(run)
    proposed = run("amira", "grade", "CS1", "--json")
    assert proposed.exit_code == 0, proposed.output
    assert json.loads(proposed.stdout)["proposed"] is True
    assert json.loads(run("lina", "show", "CS1", "--json").stdout)["grade"] is None
    queue = json.loads(run("lina", "queue", "--json").stdout)
    assert queue[0]["waiting_for"] == "grade fair proposed; needs a second person's approval"
    before = events(run)
    own = run("amira", "approve", "CS1")
    assert own.exit_code == 1
    assert own.stderr.strip() == (
        "error: amira proposed the grade of incident CS1; a different person must approve it")
    auditor = run("lina", "approve", "CS1")
    assert auditor.exit_code == 1 and "lina is an auditor and may not" in auditor.stderr
    assert events(run) == before
    approved = run("badr", "approve", "CS1")
    assert approved.exit_code == 0 and "approved by badr" in approved.output
    shown = json.loads(run("lina", "show", "CS1", "--json").stdout)
    assert shown["grade"] == "fair" and shown["grading"]["approved_by"] == "badr"
    assert shown["grading"]["by"] == "amira"


def test_without_the_team_file_a_grade_takes_effect_at_once(run: Run) -> None:
    prepare(run)
    result = run("amira", "grade", "CS1", "--json", team=False)
    assert result.exit_code == 0 and json.loads(result.stdout)["proposed"] is False
    assert json.loads(run("lina", "show", "CS1", "--json").stdout)["grade"] == "fair"


def test_grade_all_proposes_under_a_team(run: Run) -> None:
    prepare(run)
    result = run("amira", "grade", "--all", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["graded"] == 0 and summary["proposed"] == {"fair": 1}
    again = json.loads(run("amira", "grade", "--all", "--json").stdout)
    assert again["proposed"] == {} and again["graded"] == 0


def test_only_a_reviewer_imports(run: Run, tmp_path: Path) -> None:
    prepare(run)
    exported = run("lina", "export", "--format", "jsonl").stdout
    archive = tmp_path / "archive.jsonl"
    archive.write_text(exported.replace('"CS1"', '"CS2"'))
    refused = run("amira", "import", str(archive))
    assert refused.exit_code == 1
    assert "amira is an analyst and may not import incidents in bulk" in refused.stderr
    assert run("lina", "show", "CS2").exit_code == 2
    assert run("amira", "import", str(archive), "--dry-run").exit_code == 0
    assert run("lina", "show", "CS2").exit_code == 2
    assert run("rana", "import", str(archive)).exit_code == 0
    assert run("lina", "show", "CS2").exit_code == 0


def test_non_members_and_read_only_roles_change_nothing(run: Run) -> None:
    prepare(run)
    before = events(run)
    for actor, args in [("zoe", ["note", "CS1", "hello"]),
                        ("lina", ["note", "CS1", "hello"]),
                        ("omar", ["grade", "CS1"]),
                        ("amira", ["grade", "CS1", "--grade", "weak", "--rationale", "x"])]:
        result = run(actor, *args)
        assert result.exit_code == 1, (actor, args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert events(run) == before
    assert run("lina", "history", "CS1").exit_code == 0  # reading is open to every member


def test_the_team_file_keeps_hashes_not_passwords(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    runner = CliRunner()
    result = runner.invoke(cli, ["--team", str(path), "team", "add", "amira", "--role",
                                 "analyst", "--password"], input="a long passphrase\n")
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert "a long passphrase" not in text and "$argon2id$" in text
    assert path.stat().st_mode & 0o077 == 0
    member = load_team(path).members["amira"]
    assert password_matches(member.password_hash, "a long passphrase")
    assert not password_matches(member.password_hash, "a long passphrasf")
    short = runner.invoke(cli, ["--team", str(path), "team", "add", "badr", "--role",
                                "analyst", "--password"], input="short\n")
    assert short.exit_code == 2 and "at least 10 characters" in short.stderr
    listed = json.loads(runner.invoke(cli, ["--team", str(path), "team", "list", "--json"]).stdout)
    assert listed["members"] == [{"name": "amira", "role": "analyst", "can_sign_in": True}]


def test_the_team_file_is_never_readable_by_others_while_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under umask 0, the new file is already 0600 before it takes the team file's place."""
    path = tmp_path / "team.toml"
    seen: list[tuple[Path, int, str]] = []
    replace = os.replace

    def watched(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        seen.append((Path(source), os.stat(source).st_mode & 0o777, Path(source).read_text()))
        replace(source, target)

    previous = os.umask(0)
    try:
        monkeypatch.setattr(os, "replace", watched)
        result = CliRunner().invoke(cli, ["--team", str(path), "team", "add", "amira",
                                          "--role", "analyst", "--password"],
                                    input="a long passphrase\n")
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    [(temporary, mode, content)] = seen
    assert temporary.parent == tmp_path and mode == 0o600 and "$argon2id$" in content
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["team.toml"]


def test_a_failed_write_leaves_the_team_file_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "team.toml"
    runner = CliRunner()
    assert runner.invoke(cli, ["--team", str(path), "team", "add", "amira",
                               "--role", "analyst"]).exit_code == 0
    before = path.read_bytes()

    def full_disk(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    result = runner.invoke(cli, ["--team", str(path), "team", "add", "badr", "--role",
                                 "reviewer"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: the team file {path} cannot be written: "
                                     "No space left on device")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["team.toml"]


@pytest.mark.parametrize("content, sentence", [
    ("members = 3", "names no [members.NAME] with a role"),
    ("[members.x]\nrole = 'boss'", "members.x.role"),
    ("[members.x\n", "is not valid TOML"),
    ("[members.x]\nrole = 'analyst'\nshoe_size = 9", "shoe_size"),
])
def test_a_broken_team_file_is_one_sentence(tmp_path: Path, content: str, sentence: str) -> None:
    path = tmp_path / "team.toml"
    path.write_text(content)
    store = tmp_path / "s.sqlite"
    runner = CliRunner()
    runner.invoke(cli, ["--store", str(store), "init"])
    result = runner.invoke(cli, ["--store", str(store), "--team", str(path), "queue"])
    assert result.exit_code == 2 and sentence in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------ API tokens


def team_cli(path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--team", str(path), "team", *args])


def test_a_token_is_printed_once_and_kept_only_as_a_hash(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    assert team_cli(path, "add", "amira", "--role", "analyst").exit_code == 0
    made = team_cli(path, "token", "amira", "--label", "archive sync")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert re.fullmatch(r"verify_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", token)  # alone on stdout
    token_id = token.split("_")[1]
    assert f"API token {token_id} for amira" in made.stderr and "not shown again" in made.stderr
    text = path.read_text()
    assert token not in text and token.split("_", 2)[2] not in text
    assert hashlib.sha256(token.encode()).hexdigest() in text
    assert path.stat().st_mode & 0o777 == 0o600
    [kept] = load_team(path).members["amira"].tokens
    assert (kept.id, kept.label) == (token_id, "archive sync")
    assert kept.sha256 == token_digest(token) and api_token_id(token) == token_id
    listed = team_cli(path, "tokens")
    assert listed.exit_code == 0 and token_id in listed.stdout and "archive sync" in listed.stdout
    assert token not in listed.output
    document = json.loads(team_cli(path, "tokens", "amira", "--json").stdout)
    assert document == {"tokens": [{"member": "amira", "id": token_id, "label": "archive sync",
                                    "created": f"{kept.created:%Y-%m-%dT%H:%M:%SZ}"}]}
    again = team_cli(path, "token", "amira")
    assert again.exit_code == 0 and again.stdout.strip() != token  # a new one, never the old
    assert len(load_team(path).members["amira"].tokens) == 2


def test_a_token_is_revoked_by_its_id(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    team_cli(path, "add", "amira", "--role", "analyst")
    first, second = (team_cli(path, "token", "amira").stdout.strip() for _ in range(2))
    revoked = team_cli(path, "token", "amira", "--revoke", api_token_id(first) or "")
    assert revoked.exit_code == 0, revoked.output
    assert f"API token {api_token_id(first)} of amira is revoked" in revoked.stdout
    assert [t.id for t in load_team(path).members["amira"].tokens] == [api_token_id(second)]
    assert path.stat().st_mode & 0o777 == 0o600
    for odd, sentence in [(api_token_id(first), f"amira has no API token {api_token_id(first)}"),
                          ("zz", "a token's id is 8 hexadecimal digits"),
                          ("\x1b[2J", "a token's id is 8 hexadecimal digits")]:
        result = team_cli(path, "token", "amira", "--revoke", odd or "")
        assert result.exit_code == 2 and sentence in result.stderr, result.output
        assert len(result.stderr.strip().splitlines()) == 1
    both = team_cli(path, "token", "amira", "--revoke", api_token_id(second) or "",
                    "--label", "x")
    assert both.exit_code == 2 and "cannot go with --revoke" in both.stderr
    assert team_cli(path, "tokens", "amira").stdout.strip() != ""


def test_tokens_are_for_members_only_and_leave_with_them(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    for name in ("amira", "badr"):
        team_cli(path, "add", name, "--role", "analyst")
    stranger = team_cli(path, "token", "zoe")
    assert stranger.exit_code == 2 and "zoe is not a member of the team" in stranger.stderr
    assert team_cli(path, "tokens", "zoe").exit_code == 2
    team_cli(path, "token", "amira")
    changed = team_cli(path, "add", "amira", "--role", "reviewer")  # a new role keeps them
    assert changed.exit_code == 0 and len(load_team(path).members["amira"].tokens) == 1
    removed = team_cli(path, "remove", "amira")
    assert "their API tokens stop working" in removed.stdout
    team_cli(path, "add", "amira", "--role", "analyst")  # back, without the old tokens
    assert load_team(path).members["amira"].tokens == ()
    assert "no API tokens in" in team_cli(path, "tokens").stdout


def test_a_label_is_one_printable_line(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    team_cli(path, "add", "amira", "--role", "analyst")
    for label in ("a\nb", "\x1b[31mred", " padded", "x" * 201):
        result = team_cli(path, "token", "amira", "--label", label)
        assert result.exit_code == 2 and "Traceback" not in result.output, label
        assert result.stdout == "" and load_team(path).members["amira"].tokens == ()


def test_a_team_file_without_tokens_is_written_as_before(tmp_path: Path) -> None:
    """Files of earlier versions load; without tokens this version writes them unchanged."""
    path = tmp_path / "team.toml"
    earlier = ('separation_of_duties = true\n\n[members."amira"]\nrole = "analyst"\n'
               'password_hash = "$argon2id$x"\n')
    path.write_text(earlier)
    assert load_team(path).members["amira"].tokens == ()
    assert team_cli(path, "duties", "on").exit_code == 0
    assert path.read_text() == earlier


@pytest.mark.parametrize("entry, sentence", [
    ('id = "1234"\nsha256 = "' + "a" * 64 + '"\ncreated = 2025-01-01T00:00:00Z',
     "members.amira.tokens.0.id"),
    ('id = "12345678"\nsha256 = "secret"\ncreated = 2025-01-01T00:00:00Z',
     "members.amira.tokens.0.sha256"),
    ('id = "12345678"\nsha256 = "' + "a" * 64 + '"\ncreated = 2025-01-01T00:00:00',
     "timezone"),
    ('id = "12345678"\nsha256 = "' + "a" * 64 + '"\ncreated = 2025-01-01T00:00:00Z\n'
     'token = "verify_12345678_x"', "members.amira.tokens.0.token"),
])
def test_a_broken_token_entry_is_one_sentence(tmp_path: Path, entry: str, sentence: str) -> None:
    path = tmp_path / "team.toml"
    path.write_text(f'[members.amira]\nrole = "analyst"\n\n[[members.amira.tokens]]\n{entry}\n')
    result = team_cli(path, "list")
    assert result.exit_code == 2 and sentence in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_two_tokens_may_not_share_an_id(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    token = ('[[members.{}.tokens]]\nid = "12345678"\nsha256 = "{}"\n'
             "created = 2025-01-01T00:00:00Z\n")
    path.write_text('[members.amira]\nrole = "analyst"\n[members.badr]\nrole = "analyst"\n'
                    + token.format("amira", "a" * 64) + token.format("badr", "b" * 64))
    result = team_cli(path, "list")
    assert result.exit_code == 2 and "two API tokens have the id 12345678" in result.stderr
