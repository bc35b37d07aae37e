"""A member's pages while others flood `verify serve` with wrong passwords (real Argon2).

The adversarial pass measured a member's median latency rise from 8 ms to
166 ms under one thread of wrong passwords, and to 12.5 s under 24, because
each check ran on the event loop. Here a real server (uvicorn, the default
Argon2 parameters) is flooded by 1 and then 24 threads, each guess under a new
name and from a new address (``X-Forwarded-For``, as many machines would), so
neither throttle stops them and every guess that is queued costs a full
Argon2 check. The member's latencies are printed beside the baseline without
a flood (a test never asserts on wall-clock time); what is asserted is that
every member request is served, and every guess is answered 401 or 429.
A second test prints how long a wrong password takes under a member's name
and under a name no member has (the pass told them apart: 363 ms and 44 ms).
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from verify.entrypoints.cli import cli

pytestmark = pytest.mark.slow

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
MEMBER_REQUESTS = 40
"""Pages the member reads in each phase."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    store, team = tmp_path / "demo.sqlite", tmp_path / "team.toml"
    run = CliRunner().invoke
    assert run(cli, ["--store", str(store), "demo"]).exit_code == 0
    added = run(cli, ["--team", str(team), "team", "add", "badr", "--role", "analyst",
                      "--password"], input="badr-passphrase\n")
    assert added.exit_code == 0, added.output
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from verify.entrypoints.cli import main; main()",
         "--store", str(store), "--team", str(team), "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "VERIFY_SECRET_KEY": secrets.token_hex(32)})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/sign-in", timeout=2)
            break
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError("verify serve did not start: "
                                     f"{process.communicate()[1].decode()}") from None
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=10)


def signed_in_csrf(client: httpx.Client) -> str:
    return CSRF.search(client.get("/sign-in").text).group(1)  # type: ignore[union-attr]


def flood(base: str, stop: threading.Event, answers: Counter[int], number: int) -> None:
    """Wrong passwords as fast as the server answers, each under a new name and address."""
    with httpx.Client(base_url=base, timeout=60) as client:
        csrf = signed_in_csrf(client)
        for attempt in itertools.count():
            if stop.is_set():
                return
            address = f"10.{number}.{attempt // 250 % 250}.{attempt % 250 + 1}"
            answer = client.post("/sign-in", headers={"X-Forwarded-For": address}, data={
                "csrf": csrf, "name": f"guess-{number}-{attempt}", "password": "wrong"})
            answers[answer.status_code] += 1


def member_latencies(client: httpx.Client) -> list[float]:
    took = []
    for _ in range(MEMBER_REQUESTS):
        started = time.perf_counter()
        answer = client.get("/api/incidents/CS1095")
        took.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.status_code
    return took


def test_a_flood_of_wrong_passwords_does_not_hold_up_members(server: str) -> None:
    member = httpx.Client(base_url=server, timeout=60)
    answer = member.post("/sign-in", data={"csrf": signed_in_csrf(member), "name": "badr",
                                           "password": "badr-passphrase"})
    assert answer.status_code == 303, answer.status_code
    lines = []
    baseline = None
    for threads in (0, 1, 24):
        stop = threading.Event()
        answers: Counter[int] = Counter()
        attackers = [threading.Thread(target=flood, args=(server, stop, answers, n))
                     for n in range(threads)]
        for attacker in attackers:
            attacker.start()
        time.sleep(1.0 if threads else 0)  # the flood under way, the queue filled
        took = member_latencies(member)
        stop.set()
        for attacker in attackers:
            attacker.join(timeout=120)
        median = statistics.median(took) * 1000
        baseline = baseline or median
        p95 = sorted(took)[int(len(took) * 0.95) - 1] * 1000
        lines.append(f"{threads:>2} threads of wrong passwords: member median {median:.1f} ms, "
                     f"p95 {p95:.1f} ms ({median / baseline:.1f}x the baseline); guesses "
                     f"answered {dict(sorted(answers.items()))}")
        assert set(answers) <= {401, 429}, answers
    member.close()
    print("\n" + "\n".join(lines))


def test_a_wrong_password_takes_as_long_for_any_name(server: str) -> None:
    """Names told apart by timing (363 ms for a member, 44 ms for a stranger) no longer are."""
    tries = 8  # under the per-name limit; each from an address of its own
    took: dict[str, list[float]] = {"badr": [], "nobody-by-this-name": []}
    with httpx.Client(base_url=server, timeout=60) as client:
        csrf = signed_in_csrf(client)
        addresses = (f"192.0.2.{n}" for n in itertools.count(1))
        for _ in range(tries):
            for name, times in took.items():  # alternately, so both meet the same load
                started = time.perf_counter()
                answer = client.post("/sign-in", headers={"X-Forwarded-For": next(addresses)},
                                     data={"csrf": csrf, "name": name,
                                           "password": "wrong password"})
                times.append(time.perf_counter() - started)
                assert answer.status_code == 401, answer.status_code
    medians = {name: statistics.median(times) * 1000 for name, times in took.items()}
    print("\nwrong password, median of " + str(tries) + ": " + ", ".join(
        f"{name} {median:.0f} ms" for name, median in medians.items()))
