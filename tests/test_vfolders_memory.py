"""A 200 MiB folder upload and download through the fake storage proxy with flat memory.

The client runs in a child process (``_vfolder_rss_child.py``) so that its peak resident
memory is its own; the embedded server, in this process, keeps serving meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backendai_async import Client
from backendai_async.testing import BackendAITestServer, vfolder_store

from .conftest import watch_secrets

MiB = 1024 * 1024
SIZE = 200 * MiB
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def big_dir(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path``, emptied afterwards (pytest keeps old temporary directories around)."""
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


def make_file(path: Path, size: int) -> str:
    """Pseudo-random content (a random MiB, a counter per MiB); returns its SHA-256."""
    block = os.urandom(MiB)
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(size // MiB):
            chunk = i.to_bytes(8, "big") + block[8:]
            f.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(MiB):
            digest.update(block)
    return digest.hexdigest()


async def test_a_200_mib_round_trip_keeps_the_clients_memory_flat(
    client: Client, server: BackendAITestServer, big_dir: Path
) -> None:
    store = vfolder_store(server)
    await client.vfolder.create("big")
    source = big_dir / "source.bin"
    expected = await asyncio.to_thread(make_file, source, SIZE)
    spec = {
        "endpoint": str(server.endpoint),
        "access_key": server.access_key,
        "secret_key": server.secret_key,
        "folder": "big",
        "source": str(source),
        "dest": str(big_dir / "back.bin"),
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests._vfolder_rss_child",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(json.dumps(spec).encode()), 120)
    watch_secrets(*store.proxy.tokens)
    assert child.returncode == 0, err.decode()[-2000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    print(f"\n200 MiB round trip: {result}")

    assert result["peak_reset"], "VmHWM could not be reset: the growth would not be measured"
    growth = result["growth_kib"] / 1024
    assert growth < 32, f"peak RSS grew by {growth:.1f} MiB during the transfers"
    assert store.proxy.received_bytes == SIZE
    assert await asyncio.to_thread(sha256_of, store.file("big", "big.bin")) == expected
    assert await asyncio.to_thread(sha256_of, big_dir / "back.bin") == expected
    assert sorted(os.listdir(big_dir)) == ["back.bin", "source.bin"]  # no temporary left
