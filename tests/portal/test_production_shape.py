"""The production shape a new operator starts with `docker compose up`: the web process serves its
own static files (WhiteNoise, hashed and compressed at image build), only the TLS proxy is
published, and /health/ does not fail a fresh install that has not ticked yet."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
CADDYFILE = (ROOT / "deploy" / "Caddyfile").read_text()
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "portal.settings_production",
    "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
    "FIELD_ENCRYPTION_KEYS": "q1Qd3dNRmzVIrGjWsxaJSm3vTo-Ks6bqn3d2bbKsiRU=",
    "DJANGO_ALLOWED_HOSTS": "localhost",
    "PORTAL_BASE_URL": "https://localhost",
    "DEFAULT_FROM_EMAIL": "Semine Connect <connect@localhost>",
    "CACHE_URL": "dbcache://semine_cache",
}


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def dockerfile_collectstatic():
    """The Dockerfile's RUN instruction that collects the static files, as one shell command."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    runs = [line[4:] for line in text.splitlines() if line.startswith("RUN ")]
    [command] = [run for run in runs if "collectstatic" in run]
    return command


# The WSGI application with production settings, asked for the admin's CSS the way the proxy
# forwards a browser's request. Prints what came back.
WSGI_GET_ADMIN_CSS = """
import json
from wsgiref.util import setup_testing_defaults

from portal.wsgi import application
from django.templatetags.static import static

url = static("admin/css/base.css")
answers = {}
for encoding in ("", "gzip"):
    environ = {}
    setup_testing_defaults(environ)
    environ.update(
        PATH_INFO=url, HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https",
        HTTP_ACCEPT_ENCODING=encoding,
    )
    seen = {}
    def start_response(status, headers, exc_info=None):
        seen.update(status=status, headers=dict(headers))
    body = b"".join(application(environ, start_response))
    answers[encoding or "identity"] = {**seen, "length": len(body)}
print(json.dumps({"url": url, "answers": answers}))
"""


@pytest.mark.e2e
def test_the_image_build_collects_static_files_that_production_serves(tmp_path):
    # The Dockerfile's own command, without secrets (none exist at build time)...
    env = clean_env(DJANGO_STATIC_ROOT=str(tmp_path / "static"))
    subprocess.run(
        ["sh", "-c", dockerfile_collectstatic()], cwd=ROOT, env=env, check=True, timeout=300
    )
    assert (tmp_path / "static" / "staticfiles.json").exists()  # the hashed names' manifest

    # ...and gunicorn's WSGI application with production settings serves what it collected.
    env = clean_env(
        **PRODUCTION,
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", WSGI_GET_ADMIN_CSS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert re.fullmatch(r"/static/admin/css/base\.[0-9a-f]{12}\.css", answer["url"]), answer
    plain, gzipped = answer["answers"]["identity"], answer["answers"]["gzip"]
    assert plain["status"] == "200 OK", answer
    assert plain["headers"]["Content-Type"].startswith("text/css")
    assert "immutable" in plain["headers"]["Cache-Control"]  # hashed: cached for good
    assert plain["length"] > 1000
    assert gzipped["status"] == "200 OK"
    assert gzipped["headers"].get("Content-Encoding") == "gzip"
    assert gzipped["length"] < plain["length"]


def test_development_and_tests_keep_djangos_default_static_storage(settings):
    """No collectstatic needed to develop or test; WhiteNoise right after SecurityMiddleware."""
    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    assert backend == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert settings.MIDDLEWARE[:2] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]


def test_only_the_tls_proxy_is_published():
    proxy = SERVICES["proxy"]
    assert proxy["image"] == "caddy:2"
    assert {"443:443", "80:80"} <= set(proxy["ports"])
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert any(volume.startswith("caddy_data:/data") for volume in proxy["volumes"])  # its CA
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"proxy"}
    assert [str(port) for port in SERVICES["web"]["expose"]] == ["8000"]
    assert "8000" in " ".join(SERVICES["web"]["command"])


def test_the_caddyfile_terminates_tls_and_forwards_to_web():
    assert re.search(r"^\{\$SITE_ADDRESS:localhost\} \{$", CADDYFILE, re.M)
    assert re.search(r"^\s+tls \{\$CADDY_TLS:internal\}$", CADDYFILE, re.M)
    # Caddy sets X-Forwarded-Proto itself (replacing a client's), which Django trusts.
    assert re.search(r"^\s+reverse_proxy web:8000$", CADDYFILE, re.M)
    assert CADDYFILE.count("{") == CADDYFILE.count("}")


def test_production_trusts_the_proxys_forwarded_proto_and_env_example_fits_localhost():
    settings_text = (ROOT / "portal" / "settings_production.py").read_text()
    assert 'SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")' in settings_text
    assert "whitenoise.storage.CompressedManifestStaticFilesStorage" in settings_text
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert example["DJANGO_ALLOWED_HOSTS"] == example["SITE_ADDRESS"] == "localhost"
    assert example["PORTAL_BASE_URL"] == "https://localhost"
    assert example["CADDY_TLS"] == "internal"


def test_the_image_keeps_secrets_and_local_files_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".git", "*.sqlite3*"} <= set(ignored)


def test_health_on_a_fresh_install_is_not_503(client, db):
    MigrationRecorder.Migration.objects.update(applied=timezone.now() - timedelta(seconds=30))
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["checks"]["dispatcher"]["waiting"] == "no tick yet"


@pytest.mark.e2e
def test_the_production_smoke_test_passes_on_sqlite(tmp_path):
    """.ci/smoke_production (CI runs it on PostgreSQL): gunicorn with production settings, every
    page, asset, /api/docs and /health/ 200; and nothing of gunicorn left running after it."""
    env = clean_env(DATABASE_URL="")
    script = [sys.executable, str(ROOT / ".ci" / "smoke_production")]
    proc = subprocess.Popen(
        [*script, f"sqlite:///{tmp_path / 'smoke.sqlite3'}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the script stops gunicorn's process group on its way out
        output, _ = proc.communicate(timeout=60)
        raise AssertionError(f"the smoke test timed out:\n{output}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "every page and asset answered 200" in output
    for path in ["/admin/login/", "/accounts/login/", "/api/docs", "/health/", "/api/openapi.json"]:
        assert f"  200  {path}\n" in output, output
    assert re.search(r"  200  /static/admin/css/base\.[0-9a-f]{12}\.css\n", output)
    assert re.search(r"  200  /static/ninja/swagger-ui-bundle\.[0-9a-f]{12}\.js\n", output)

    gunicorn = int(re.search(r"gunicorn \(pid (\d+)\)", output).group(1))
    with pytest.raises(ProcessLookupError):
        os.killpg(gunicorn, 0)  # neither the master nor a worker is left


def test_the_smoke_test_runs_in_ci_on_postgresql():
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    postgres_suite = lines.index(
        'DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/semine" make test'
    )
    [smoke] = [i for i, line in enumerate(lines) if ".ci/smoke_production" in line]
    assert smoke > postgres_suite
    assert shlex.split(lines[smoke])[-1].endswith("/semine_smoke")
    assert any(
        "createdb" in line and "semine_smoke" in line for line in lines[postgres_suite:smoke]
    )
