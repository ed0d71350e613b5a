"""OKR Hub settings. Everything comes from the environment; see .env.example.

Embedded default (one machine, ``make demo``): SQLite under ./var and Celery's filesystem broker.
Production (``DJANGO_ENV=production``): refuses to start without a real SECRET_KEY and
FIELD_ENCRYPTION_KEYS, and passes ``manage.py check --deploy``.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OKRHUB_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()
if (BASE_DIR / ".env").exists() and not os.environ.get("OKRHUB_IGNORE_DOTENV"):
    env.read_env(str(BASE_DIR / ".env"))

DJANGO_ENV = env("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

DEV_SECRET_KEY = "dev-insecure-okrhub-key-change-me"  # noqa: S105 - refused in production
# A fixed development keyring so `make demo` works out of the box; refused in production.
DEV_ENCRYPTION_KEY = "b2tyaHViLWRldi1vbmx5LWtleS1kby1ub3QtdXNlLTE="

SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[DEV_ENCRYPTION_KEY])

if PRODUCTION:
    if not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 40:
        raise ImproperlyConfigured("Production needs a real SECRET_KEY (50+ random characters); see .env.example.")
    if not FIELD_ENCRYPTION_KEYS or DEV_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "Production needs FIELD_ENCRYPTION_KEYS (Fernet keys, newest first); "
            "generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    DEBUG = env.bool("DEBUG", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "ninja",  # read API: serves the Swagger UI assets for /api/v1/docs locally (no CDN)
    "dashboard.core",
    "dashboard.accounts",
    "dashboard.integrations",
    "dashboard.okrs",
    "dashboard.writeback",  # changes sent to vendors, and their audit log (issues #10, #19)
    "dashboard.alignment",  # cross-vendor links OKR Hub stores itself (issue #18)
    "dashboard.people",  # one person across vendors (issue #18)
    "dashboard.audit",
    "dashboard.digest",  # the weekly digest e-mail (issue #18)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dashboard.audit.context.AuditActorMiddleware",  # names the user in the audit trail
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.core.context_processors.okrhub",
            ],
        },
    }
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'okrhub.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the worker share the embedded database.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # recover after a PostgreSQL restart
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # An unreachable Redis costs a page at most this long, never a hung worker.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "okrhub"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "okrs:overview"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- single sign-on: OpenID Connect via mozilla-django-oidc (issue #21; README "Single sign-on") ---
# https://mozilla-django-oidc.readthedocs.io/en/stable/settings.html
OIDC_ISSUER = env("OIDC_ISSUER", default="")  # SSO is on when set; compared exactly with the id_token's iss
OIDC_RP_CLIENT_ID = env("OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_CLIENT_SECRET", default="")
OIDC_RP_SCOPES = env("OIDC_SCOPES", default="openid email profile groups")
OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", default="groups")
OIDC_ADMIN_GROUP = env("OIDC_ADMIN_GROUP", default="")  # members of it are admins (is_staff), others not
OIDC_BUTTON_LABEL = env("OIDC_BUTTON_LABEL", default="Sign in with single sign-on")
# Empty: taken from {OIDC_ISSUER}/.well-known/openid-configuration (dashboard/accounts/oidc.py).
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)  # seconds per request to the provider
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc:callback"
OIDC_CREATE_USER = True
# "on": everyone may sign in with a password; "break-glass": only BREAK_GLASS_USERS may (SSO for the rest).
LOCAL_LOGIN = env("LOCAL_LOGIN", default="on")
BREAK_GLASS_USERS = env.list("BREAK_GLASS_USERS", default=[])
if LOCAL_LOGIN not in ("on", "break-glass"):
    raise ImproperlyConfigured(f'LOCAL_LOGIN must be "on" or "break-glass", not {LOCAL_LOGIN!r}.')
if OIDC_ISSUER and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ISSUER is set: OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are needed too.")
if LOCAL_LOGIN == "break-glass" and not OIDC_ISSUER:
    raise ImproperlyConfigured("LOCAL_LOGIN=break-glass turns passwords off for everyone else: set OIDC_ISSUER first.")
if PRODUCTION and OIDC_ISSUER and not OIDC_ISSUER.startswith("https://"):
    raise ImproperlyConfigured("In production OIDC_ISSUER must be an https:// URL.")
AUTHENTICATION_BACKENDS = ["dashboard.accounts.oidc.PasswordBackend", "dashboard.accounts.oidc.OIDCBackend"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security headers (also in development, so tests see them).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Mask secrets on error pages and reports even with DEBUG on (sensitive_post_parameters et al.).
DEFAULT_EXCEPTION_REPORTER_FILTER = "dashboard.core.debug.AlwaysCleanseExceptionReporterFilter"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Celery -----------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # visibility_timeout above the hard time limit, so a redelivery never overlaps a live run.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_RESULT_BACKEND = None  # run state lives in SyncRun rows, not in a result backend
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"  # https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-serializer
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-acks-late
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # redeliver when a worker dies mid-task (upserts are idempotent)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # https://docs.celeryq.dev/en/stable/userguide/optimizing.html#prefetch-limits
CELERY_TASK_SOFT_TIME_LIMIT = env.int("SYNC_SOFT_TIME_LIMIT", default=1500)
CELERY_TASK_TIME_LIMIT = env.int("SYNC_HARD_TIME_LIMIT", default=1800)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

# --- OKR Hub ----------------------------------------------------------------------------------
STALE_AFTER_DAYS = env.int("STALE_AFTER_DAYS", default=10)
SYNC_LOCK_TTL = CELERY_TASK_TIME_LIMIT + 300  # lock expiry above the hard time limit
SYNC_CONCURRENCY = env.int("SYNC_CONCURRENCY", default=8)  # concurrent requests per vendor
SYNC_PAUSE_AFTER_FAILURES = env.int("SYNC_PAUSE_AFTER_FAILURES", default=5)
# Hosts allowed despite the https-only / no-internal-address rules (the sandboxes on loopback).
CONNECTOR_ALLOWED_HOSTS = env.list("CONNECTOR_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost"])
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
LOGIN_ATTEMPTS_PER_15_MINUTES = env.int("LOGIN_ATTEMPTS_PER_15_MINUTES", default=10)
# Where users open OKR Hub: absolute links in e-mails (the digest) start with it.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- e-mail (the weekly digest, docs/digest.md) -------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#email-backend. Development prints mail to
# the worker's console; production sends through SMTP.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="") or (
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")  # scrubbed from logs and stored errors
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)  # implicit TLS, usually port 465
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)  # seconds per SMTP operation
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="OKR Hub <okrhub@localhost>")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
# Digest sends: Celery retries of a refused send (exponential backoff from the base delay), and
# how long a delivery may stay "sending" before it is taken for lost (keep above the task's
# hard time limit, DIGEST_SEND_TIME_LIMIT).
DIGEST_MAX_RETRIES = env.int("DIGEST_MAX_RETRIES", default=5)
DIGEST_RETRY_BASE_DELAY = env.int("DIGEST_RETRY_BASE_DELAY", default=60)
DIGEST_SEND_TIME_LIMIT = env.int("DIGEST_SEND_TIME_LIMIT", default=300)
DIGEST_SENDING_TIMEOUT_MINUTES = env.int("DIGEST_SENDING_TIMEOUT_MINUTES", default=15)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "dashboard.core.logging.ScrubSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

# --- sync --------------------------------------------------------------------------------------
# The sync engine (issue #6): Celery retries for 429/transient failures, lock files, redelivery.
# Celery retries of a whole run (request-level retries live in connectors/http.py):
# capped exponential backoff with jitter; Retry-After honoured up to SYNC_RETRY_AFTER_CAP.
SYNC_MAX_RETRIES: int = env.int("SYNC_MAX_RETRIES", default=5)
SYNC_RETRY_BASE_DELAY: float = env.float("SYNC_RETRY_BASE_DELAY", default=30.0)
SYNC_RETRY_MAX_DELAY: float = env.float("SYNC_RETRY_MAX_DELAY", default=900.0)
SYNC_RETRY_AFTER_CAP: float = env.float("SYNC_RETRY_AFTER_CAP", default=600.0)
# A run whose worker stopped reporting progress for this long is treated as abandoned (its lock
# is taken over). Only matters when the lock holder cannot be checked directly (another host).
SYNC_HEARTBEAT_TIMEOUT = env.int("SYNC_HEARTBEAT_TIMEOUT", default=300)
SYNC_LOCK_DIR = Path(env("SYNC_LOCK_DIR", default="") or VAR_DIR / "locks")
SYNC_UPSERT_BATCH_SIZE = env.int("SYNC_UPSERT_BATCH_SIZE", default=500)
# Pages the background reader may fetch ahead of the writer (memory: one page of records each).
SYNC_READ_AHEAD_PAGES = env.int("SYNC_READ_AHEAD_PAGES", default=32)
# A complete read that would remove at least this many items and this share of what a credential
# sees is held back once (a vendor answering an empty list by fault); a second read confirms it.
SYNC_MASS_REMOVAL_MIN_ITEMS = env.int("SYNC_MASS_REMOVAL_MIN_ITEMS", default=20)
SYNC_MASS_REMOVAL_RATIO = env.float("SYNC_MASS_REMOVAL_RATIO", default=0.9)
# How often the beat scheduler looks for due credentials (each connector has its own interval).
SYNC_SCHEDULER_EVERY_SECONDS = env.int("SYNC_SCHEDULER_EVERY_SECONDS", default=60)
# A dedicated queue name lets tests (and split deployments) run their own worker.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
if not CELERY_BROKER_URL.startswith("filesystem://"):
    # How soon unacknowledged messages of a dead worker are swept back to the queue (kombu's
    # Redis transport: https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.redis.html).
    CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_interval"] = env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10)
    CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_throttle"] = env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10)
