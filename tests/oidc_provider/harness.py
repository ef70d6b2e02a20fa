"""Start the test OpenID Connect provider (`serve.py`) in a child process and sign in to it:

with running_provider(tmp_path) as provider:
    provider.set_user("anne@semine.example", "pw", groups=["semine-staff"], amr=["pwd", "mfa"])
    callback = provider.sign_in(authorize_url, "anne@semine.example", "pw")
"""

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Provider:
    def __init__(self, port: int, state_dir: Path, client_id: str, client_secret: str):
        self.origin = f"http://127.0.0.1:{port}"
        self.issuer = f"{self.origin}/o"
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self.client_id = client_id
        self.client_secret = client_secret
        self.users_file = state_dir / "users.json"
        self.log_file = state_dir / "provider.log"
        self._users: dict[str, dict] = {}
        self._write_users()

    def set_user(
        self,
        email: str,
        password: str,
        *,
        groups=(),
        email_verified: bool = True,
        amr: list[str] | None = None,
    ) -> None:
        """Add or replace a user; the provider sees it at the next login or token."""
        self._users[email] = {
            "password": password,
            "groups": list(groups),
            "email_verified": email_verified,
            "amr": list(amr) if amr is not None else None,
        }
        self._write_users()

    def sign_in(self, authorize_url: str, email: str, password: str) -> str:
        """Follow `authorize_url` through the provider's login page, as a browser with a fresh
        cookie jar would, and return the redirect that leaves the provider: the relying party's
        callback with ?code=...&state=... (or with ?error=... if the provider refused)."""
        # trust_env=False: a proxy from the environment must not get between us and loopback.
        with httpx.Client(timeout=30, trust_env=False) as http:
            response = http.get(authorize_url)
            submitted = False
            for _ in range(10):
                if response.is_redirect:
                    location = str(response.url.join(response.headers["location"]))
                    if not location.startswith(self.origin + "/"):
                        return location
                    response = http.get(location)
                elif response.status_code == 200 and not submitted:
                    token = CSRF_INPUT.search(response.text)
                    if token is None:
                        raise AssertionError(f"No login form at {response.url}:\n{response.text}")
                    response = http.post(
                        response.url,
                        data={
                            "csrfmiddlewaretoken": token.group(1),
                            "username": email,
                            "password": password,
                        },
                    )
                    submitted = True
                else:
                    refused = submitted and response.status_code == 200
                    why = "refused the credentials" if refused else "answered"
                    raise AssertionError(
                        f"Sign-in as {email} failed: the provider {why} "
                        f"({response.status_code} at {response.url}):\n{response.text[:2000]}"
                    )
        raise AssertionError(f"Sign-in as {email}: too many redirects on the provider")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_file.read_text(errors="replace")[-chars:] if self.log_file.exists() else ""

    def _write_users(self) -> None:
        # Written aside and renamed: the provider never reads half a file.
        partial = self.users_file.with_suffix(".partial")
        partial.write_text(json.dumps({"users": self._users}, indent=2))
        os.replace(partial, self.users_file)


@contextlib.contextmanager
def running_provider(
    tmp_path: Path,
    *,
    client_id: str = "semine-connect",
    client_secret: str | None = None,
    redirect_uris=("http://testserver/oidc/callback/",),
) -> Iterator[Provider]:
    state_dir = tmp_path / "oidc_provider"
    state_dir.mkdir()
    port = _free_port()
    provider = Provider(port, state_dir, client_id, client_secret or secrets.token_urlsafe(32))

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.oidc_provider.settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
        OIDC_PROVIDER_DIR=str(state_dir),
        OIDC_PROVIDER_CLIENT_SECRET=provider.client_secret,
    )
    command = [sys.executable, "-m", "tests.oidc_provider.serve", "--port", str(port)]
    command += ["--client-id", client_id]
    for uri in redirect_uris:
        command += ["--redirect-uri", uri]

    with open(provider.log_file, "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one
        )
    try:
        _wait_until_ready(provider, process)
        yield provider
    finally:
        _stop(process)


def _wait_until_ready(provider: Provider, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"The OIDC provider exited with {process.returncode} while starting:\n"
                f"{provider.log_tail()}"
            )
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(provider.discovery_url, timeout=2, trust_env=False)
            if response.status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(
        f"The OIDC provider was not ready after {START_TIMEOUT:.0f} s:\n{provider.log_tail()}"
    )


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)
    # Whatever is left of the group, the leader included if SIGTERM was not enough.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
