"""Settings for both modes.

Embedded (no environment at all): SQLite under var/, dramatiq worker threads in
the web process, the in-memory channel layer, the sandbox. Services: DATABASE_URL
-> PostgreSQL, REDIS_URL -> dramatiq RedisBroker + channels_redis, workers run
as `python manage.py rundramatiq`.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from dashboard import logs

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("STRANDS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _flag("DEBUG", False)
_DEV_KEY = "embedded-dev-key-not-for-production-use-set-SECRET_KEY-in-the-environment"
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_KEY)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_dramatiq",
    "channels",
    # The REST API's Swagger page: its script and styles from our static files (CSP: self only).
    "ninja",
    "dashboard",
]

MIDDLEWARE = [
    # First, so that every line logged while answering carries the request's id.
    "dashboard.web.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "dashboard.web.middleware.RefuseControlCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dashboard.audit.middleware.AuditOriginMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "dashboard.web.middleware.SecurityHeadersMiddleware",
    "dashboard.web.middleware.LoginRateLimitMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.web.middleware.QueueUnavailableMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
ASGI_APPLICATION = "dashboard.asgi.application"
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
            ],
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "dashboard.sqlite3",
            # Worker threads write while pages read: wait for the lock rather than fail.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from finders until collectstatic fills it
# Found as the dashboard app's static/ (a link to the top-level folder, so that an installed
# wheel has it too); listing BASE_DIR / "static" as well would find every file twice.
STATICFILES_DIRS: list[Path] = []
WHITENOISE_USE_FINDERS = True

# --- task queue and live updates ---------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
EMBEDDED = not REDIS_URL
_DRAMATIQ_MIDDLEWARE = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Retries",
    "django_dramatiq.middleware.DbConnectionsMiddleware",
    # Changes a worker makes are recorded as made by a worker.
    "dashboard.audit.middleware.AuditWorkerMiddleware",
]
if REDIS_URL:
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.redis.RedisBroker",
        "OPTIONS": {"url": REDIS_URL},
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.stub.StubBroker",
        "OPTIONS": {},
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
DRAMATIQ_AUTODISCOVER_MODULES = ["runs.actors", "notifications.actors", "scheduling.actors"]
EMBEDDED_WORKER_THREADS = int(os.environ.get("EMBEDDED_WORKER_THREADS", "4"))

# --- the engine ----------------------------------------------------------------------------
SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "4566"))
SANDBOX_ENDPOINT_URL = os.environ.get(
    "SANDBOX_ENDPOINT_URL", f"http://{SANDBOX_HOST}:{SANDBOX_PORT}"
)
ENGINE_MAX_WORKERS = int(os.environ.get("ENGINE_MAX_WORKERS", "16"))
# Dependency layers are pip-installed from this index only (pip is run --isolated, so the
# variable is read here, once, and handed to the engine).
PIP_INDEX_URL = os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple"
# A team's own agent code is packaged only from under this root (uploads go to
# <root>/uploads/); paths elsewhere on the server (/etc, home directories) are refused.
AGENT_CODE_ROOT = Path(os.environ.get("AGENT_CODE_ROOT", VAR_DIR / "agent-code"))
AGENT_CODE_MAX_ZIP_MB = int(os.environ.get("AGENT_CODE_MAX_ZIP_MB", "50"))
# The sandbox cannot run Lambda code, so its chat runs a deployed package's handler on this
# machine, confined (provisioning/strands/isolation.py). Off: such runs are refused; AWS stages still chat.
LOCAL_AGENT_RUNS = _flag("STRANDS_LOCAL_AGENT_RUNS", True)
# Notification webhooks may post to private, loopback or link-local addresses (off: refused).
WEBHOOKS_ALLOW_PRIVATE = _flag("STRANDS_WEBHOOKS_ALLOW_PRIVATE", False)
# Notification deliveries: tries each, and the first wait between tries (it doubles).
NOTIFICATION_ATTEMPTS = int(os.environ.get("NOTIFICATION_ATTEMPTS", "5"))
NOTIFICATION_BACKOFF_S = float(os.environ.get("NOTIFICATION_BACKOFF_S", "30"))

# JSON lines in services mode (for a log pipeline), readable lines embedded; LOG_FORMAT=json or
# text chooses. Every line has the time, level, logger, and the run and request it belongs to.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if REDIS_URL else "text").strip().lower()
LOGGING = logs.logging_config(
    json_lines=LOG_FORMAT == "json", level=os.environ.get("LOG_LEVEL", "INFO")
)

# --- production hardening (python manage.py check --deploy) ----------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Our own pages need nothing from other origins and run no inline code.
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_REFERRER_POLICY = "same-origin"
CSRF_COOKIE_HTTPONLY = True  # pages and scripts read the token from <body hx-headers>
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))
LOGIN_ATTEMPTS_PER_MINUTE = 5
LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS = 30
# Login failures are counted in the cache: shared by every web process with Redis.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
# The REST API: requests per token per minute (a fixed window in the cache), then 429.
API_RATE_PER_MIN = int(os.environ.get("STRANDS_API_RATE_PER_MIN", "120"))
# The chat panel: agent runs per user per minute (a fixed window in the cache), then 429.
# Each run on AWS is a paid model call, and a local run holds a confined process.
CHAT_RATE_PER_MIN = int(os.environ.get("STRANDS_CHAT_RATE_PER_MIN", "10"))
# Re-checked by the websocket consumer at least this often (a removed member stops receiving).
WEBSOCKET_ACCESS_RECHECK_S = float(os.environ.get("WEBSOCKET_ACCESS_RECHECK_S", "30"))
# How often a followed log (the Logs tab, `manage.py logs --follow`) asks CloudWatch for new lines.
LOG_FOLLOW_POLL_S = float(os.environ.get("LOG_FOLLOW_POLL_S", "2"))
PRODUCTION = not DEBUG and SECRET_KEY != _DEV_KEY
# TLS is the reverse proxy's job: daphne serves plain HTTP. Both default off, so a stack with
# no TLS in front (`docker compose up` on localhost) answers instead of sending every page to
# an https:// that nothing serves. Behind a proxy that terminates TLS, set
# SECURE_PROXY_SSL_HEADER to the header it sets ("X-Forwarded-Proto", or 1 for that one) and
# SECURE_SSL_REDIRECT=1; then cookies travel only over TLS and browsers are told to stay on it.
SECURE_SSL_REDIRECT = _flag("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container's own probe speaks plain HTTP


def _proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """The proxy's header as Django wants it: X-Forwarded-Proto -> HTTP_X_FORWARDED_PROTO."""
    raw = raw.strip()
    if raw.lower() in {"", "0", "false", "no", "off"}:
        return None
    name = "X-Forwarded-Proto" if raw.lower() in {"1", "true", "yes", "on"} else raw
    return "HTTP_" + name.upper().replace("-", "_"), "https"


SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(os.environ.get("SECURE_PROXY_SSL_HEADER", ""))
SERVED_OVER_HTTPS = SECURE_SSL_REDIRECT or SECURE_PROXY_SSL_HEADER is not None
if PRODUCTION and SERVED_OVER_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- runs ----------------------------------------------------------------------------------
DEPLOYMENT_HEARTBEAT_S = float(os.environ.get("DEPLOYMENT_HEARTBEAT_S", "5"))
# A worker silent this long is taken for dead: its run is failed and the stage freed by the
# scheduler's sweep every DEPLOYMENT_SWEEP_PERIOD_S (0: off), so within 60 + 15 = 75 s
# (plus the wait for a free worker thread).
DEPLOYMENT_STALE_AFTER_S = float(os.environ.get("DEPLOYMENT_STALE_AFTER_S", "60"))
DEPLOYMENT_SWEEP_PERIOD_S = float(os.environ.get("DEPLOYMENT_SWEEP_PERIOD_S", "15"))
# The scheduler (`manage.py scheduler`, or a thread of the embedded web process) looks for due
# periodic jobs this often (0: the embedded one is off). Keep it at most the sweep period.
SCHEDULER_TICK_S = float(os.environ.get("SCHEDULER_TICK_S", "15"))
# dramatiq's default time limit is 10 minutes; a real-AWS deploy can take longer.
DEPLOYMENT_TIME_LIMIT_MS = int(os.environ.get("DEPLOYMENT_TIME_LIMIT_MS", str(3 * 3600 * 1000)))
