import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from integrations.xledger.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def command(request):
    extra = getattr(request, "param", [])
    process = subprocess.Popen(
        [sys.executable, "manage.py", "xledger_sandbox", "--port", "0", "--suppliers", "30",
         "--seed", "4", "--no-burst-limit", *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "revoked" in line:
            break
    yield process, "".join(lines)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # never left running behind the suite
        process.kill()
        process.wait()


@pytest.mark.e2e
def test_it_serves_and_prints_deterministic_tokens(command):
    process, output = command
    assert process.poll() is None, process.stderr.read()
    url = re.search(r"URL:\s+(\S+)", output).group(1)
    expected = Sandbox(seed=4, suppliers=1).demo_tokens
    for name, token in expected.items():
        assert re.search(rf"{name}\s+{re.escape(token)}\s", output)
    assert "owner entity ID:   10001" in output
    dialect = os.environ.get("XLEDGER_SANDBOX_DIALECT") or "ours"
    assert re.search(r"dialect:\s+(\S+)", output).group(1) == dialect
    response = httpx.post(
        url,
        json={"query": "{ suppliers(first: 100) { edges { cursor } } }"},
        headers={"Authorization": f"token {expected['full']}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert len(response.json()["data"]["suppliers"]["edges"]) == 30


@pytest.mark.e2e
@pytest.mark.parametrize("command", [["--dialect", "xledger"]], indirect=True)
def test_it_plays_the_dialect_it_is_given(command):
    process, output = command
    assert process.poll() is None, process.stderr.read()
    assert re.search(r"dialect:\s+xledger\s", output)
    url = re.search(r"URL:\s+(\S+)", output).group(1)
    token = Sandbox(seed=4, suppliers=1).demo_tokens["full"]
    response = httpx.post(
        url,
        json={"query": "{ suppliers(first: 1) { edges { node { dbId } } } }"},
        headers={"Authorization": f"token {token}"},
        timeout=10,
    )
    assert isinstance(response.json()["data"]["suppliers"]["edges"][0]["node"]["dbId"], str)


def test_it_refuses_an_unknown_dialect():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="ours, xledger"):
        call_command("xledger_sandbox", "--dialect", "marsian", "--port", "0")
