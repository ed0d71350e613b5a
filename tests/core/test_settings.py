"""Settings from the environment: production refuses weak secrets and passes check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
STRONG_SECRET = "s" * 20 + "-very-long-and-random-production-secret-key-0123456789"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_KEY", "FIELD_ENCRYPTION"))}
    base.update({"OKRHUB_IGNORE_DOTENV": "1", "DATABASE_URL": "sqlite:///:memory:"}, **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120)


def test_production_refuses_the_development_secret_key() -> None:
    result = manage("check", DJANGO_ENV="production", FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode())
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_missing_encryption_key() -> None:
    result = manage("check", DJANGO_ENV="production", SECRET_KEY=STRONG_SECRET)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_production_refuses_a_malformed_encryption_key() -> None:
    result = manage(
        "shell",
        "-c",
        "from dashboard.core import crypto; crypto.encrypt('x')",
        DJANGO_ENV="production",
        SECRET_KEY=STRONG_SECRET,
        FIELD_ENCRYPTION_KEYS="not-a-fernet-key",
    )
    assert result.returncode != 0
    assert "not a valid Fernet key" in result.stderr


def test_check_deploy_passes_with_production_settings() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY=STRONG_SECRET,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="okrhub.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_env_example_lists_every_variable_the_settings_read() -> None:
    settings_text = (ROOT / "dashboard" / "settings.py").read_text()
    example = (ROOT / ".env.example").read_text()
    import re

    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_text))
    listed = set(re.findall(r"^([A-Z_]+)=", example, flags=re.M))
    for required in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DEBUG", "ALLOWED_HOSTS"):
        assert required in listed
    assert read <= listed, f"not in .env.example: {sorted(read - listed)}"


def test_embedded_defaults_are_sqlite_and_the_filesystem_broker() -> None:
    code = "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    env["OKRHUB_IGNORE_DOTENV"] = "1"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["django.db.backends.sqlite3", "filesystem://"]


def test_email_backend_is_smtp_in_production_and_the_console_in_development() -> None:
    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND)"
    prod = {"DJANGO_ENV": "production", "SECRET_KEY": STRONG_SECRET, "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    result = manage("shell", "-c", code, **prod)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.core.mail.backends.smtp.EmailBackend"
    result = manage("shell", "-c", code)
    assert result.stdout.strip().splitlines()[-1] == "django.core.mail.backends.console.EmailBackend"
    both = manage("check", EMAIL_USE_TLS="true", EMAIL_USE_SSL="true")
    assert both.returncode != 0 and "EMAIL_USE_TLS or EMAIL_USE_SSL" in both.stderr


def test_check_deploy_passes_with_single_sign_on_configured() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY=STRONG_SECRET,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="okrhub.example.com",
        OIDC_ISSUER="https://login.example.com/realms/acme",
        OIDC_CLIENT_ID="okrhub",
        OIDC_CLIENT_SECRET="a-client-secret",
        LOCAL_LOGIN="break-glass",
        BREAK_GLASS_USERS="root",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_single_sign_on_settings_refuse_what_cannot_work() -> None:
    sso = {"OIDC_ISSUER": "https://login.example.com", "OIDC_CLIENT_ID": "okrhub", "OIDC_CLIENT_SECRET": "s"}
    cases = [
        ({"LOCAL_LOGIN": "off"}, "LOCAL_LOGIN must be"),
        ({"LOCAL_LOGIN": "break-glass"}, "set OIDC_ISSUER first"),
        ({"OIDC_ISSUER": "https://login.example.com"}, "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET"),
        ({**sso, "OIDC_ISSUER": "http://login.example.com", "DJANGO_ENV": "production", "SECRET_KEY": STRONG_SECRET,
          "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode()}, "must be an https:// URL"),
    ]  # fmt: skip
    for env, message in cases:
        result = manage("check", **env)
        assert result.returncode != 0 and message in result.stderr, (env, result.stderr[-500:])
