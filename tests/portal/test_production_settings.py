import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "DJANGO_SETTINGS_MODULE": "portal.settings_production",
    "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
    "FIELD_ENCRYPTION_KEYS": "q1Qd3dNRmzVIrGjWsxaJSm3vTo-Ks6bqn3d2bbKsiRU=",
    "DJANGO_ALLOWED_HOSTS": "connect.semine.example",
    "DATABASE_URL": "sqlite:////tmp/semine-check-deploy.sqlite3",
}


def run_check(env_overrides, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_"))}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_check_deploy_with_real_secrets():
    result = run_check(GOOD, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_refuses_to_start_without_a_secret_key():
    env = dict(GOOD)
    del env["DJANGO_SECRET_KEY"]
    result = run_check(env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_it_refuses_to_start_without_encryption_keys():
    env = dict(GOOD)
    del env["FIELD_ENCRYPTION_KEYS"]
    result = run_check(env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr
