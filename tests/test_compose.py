"""docker-compose.yml cannot run here (no Docker engine), so it is parsed and checked for what the
product relies on: services, commands, environment, health checks and start order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def load() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_services_exist() -> None:
    services = load()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}


def test_app_services_use_production_settings_and_real_services() -> None:
    services = load()["services"]
    for name in ("migrate", "web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_ENV"] == "production"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379")
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        # Secrets are required from the environment, never defaulted in the file.
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert env["FIELD_ENCRYPTION_KEYS"].startswith("${FIELD_ENCRYPTION_KEYS:?")


def test_commands() -> None:
    services = load()["services"]
    assert services["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["web"]["command"][0] == "gunicorn" and "dashboard.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "dashboard", "worker"]
    beat = services["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "dashboard", "beat"] and "django_celery_beat.schedulers:DatabaseScheduler" in beat


def test_health_checks() -> None:
    services = load()["services"]
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert any("/healthz" in part for part in services["web"]["healthcheck"]["test"])


def test_start_order() -> None:
    services = load()["services"]
    for name in ("web", "worker"):
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert services["beat"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_image_installs_from_the_hashed_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile and "requirements.lock" in dockerfile
    lock = (ROOT / "requirements.lock").read_text()
    assert "--hash=sha256:" in lock
    assert "http://" not in lock and "https://" not in lock
