"""Tessera settings: one file, driven by environment variables (see .env.example).

Development and the demo need no variables: SQLite under var/, tasks run in-process, emails
recorded in the outbox. Production sets DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis),
EMAIL_URL, SECRET_KEY and TESSERA_BASE_URL.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

from tessera_site.lib.env import env_bool, env_days, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TESSERA_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

VERSION = "0.1.0"

DEBUG = env_bool("DEBUG", False)
# Under pytest the site runs over plain HTTP (test client, live server) with a throwaway key.
TESTING = env_bool("TESSERA_TESTING", False) or "pytest" in sys.modules
# Schema and static-file commands sign nothing, so build tooling may run them without a key;
# everything else (servers, workers, `check --deploy`) needs one outside DEBUG.
_KEYLESS_COMMANDS = {"makemigrations", "migrate", "showmigrations", "sqlmigrate", "collectstatic"}
_running_keyless_command = (
    len(sys.argv) > 1 and sys.argv[0].endswith("manage.py") and sys.argv[1] in _KEYLESS_COMMANDS
)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and not TESTING and not _running_keyless_command:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = "insecure-dev-key-only-for-debug-and-tests-0123456789abcdefghijklmnop"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

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
    "ninja",
    "axes",
    "csp",
    "contracts",
    "audits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # First of ours: NUL input refused, JSON errors under /api/, 503 when the database is down.
    "tessera_site.lib.middleware.EdgeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tessera_site.urls"
WSGI_APPLICATION = "tessera_site.wsgi.application"

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
                "contracts.context_processors.tessera",
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'tessera.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
except Exception as exc:  # dj_database_url raises several types for a malformed URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs tasks in-process next to the web server; wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth, i18n, static ---------------------------------------------------------------------
# Tests create hundreds of users: PBKDF2's deliberate slowness would dominate the suite.
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"] if TESTING else global_settings.PASSWORD_HASHERS
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out user+IP is refused before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): after TESSERA_LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one IP, that pair is refused (even with the right password) for
# TESSERA_LOGIN_COOLOFF_MINUTES; failures older than that no longer count.
AXES_FAILURE_LIMIT = env_int("TESSERA_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("TESSERA_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tessera_site.lib.login_throttle.lockout_response"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# Tessera ships no translations and activates no language (no LocaleMiddleware): every page is
# in English whatever this says. Off, Django's translation machinery answers get_language() from
# this setting instead of a per-request (asgiref) local: each number, date and time a template
# prints asked it up to four times, 1-2 ms of CPU on a dashboard page. Same text either way.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and not TESTING
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploads: manifests of large projects are big (5,000 models ≈ 140 MB, 20,000 ≈ 570 MB). Files of
# a multipart form are streamed to disk by Django's upload handlers above FILE_UPLOAD_MAX_MEMORY_SIZE,
# the first of which refuses a file past TESSERA_MAX_UPLOAD_BYTES while it streams; the views named
# in TESSERA_STREAMED_BODY_VIEWS stream their raw body to disk the same way (tessera_site/lib/uploads.py)
# and the edge middleware leaves their body unread.
TESSERA_MAX_UPLOAD_BYTES = env_int("TESSERA_MAX_UPLOAD_BYTES", 200 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = TESSERA_MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "tessera_site.lib.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
TESSERA_STREAMED_BODY_VIEWS = frozenset({"api:sync_dbt", "api:sync_dbt_check", "api:audit_results_upload"})
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# --- Tessera -------------------------------------------------------------------------------
TESSERA_BASE_URL = env_str("TESSERA_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The model every email is recorded in before it is sent (tessera_site.lib.email imports no app).
TESSERA_OUTBOUND_EMAIL_MODEL = "contracts.OutboundEmail"
# The audit run model the dashboard's reads show (contracts imports nothing from audits, the app above it).
TESSERA_AUDIT_RUN_MODEL = "audits.AuditRun"
# The publish gate contracts' publishing services ask (tessera_site.lib.gate); no default on purpose.
TESSERA_PUBLISH_GATE = "audits.selectors.publish_allowed"
# What a sync hands its run_results to after commit (contracts.services.sync.finish); unset, the
# sync records "stored but not ingested" in its warnings.
TESSERA_RUN_RESULTS_INGEST = "audits.services.audit_ingest_run_results"
# Unauthenticated API calls from loopback only, so the demo README's curl lines work as written.
TESSERA_OPEN_API = env_bool("TESSERA_OPEN_API", False)
TESSERA_PROPOSAL_DEADLINE_DAYS = env_int("TESSERA_PROPOSAL_DEADLINE_DAYS", 14, minimum=1)
# Teams whose approval is missing are warned (email, Slack, webhook) this long before a deadline.
TESSERA_PROPOSAL_EXPIRING_HOURS = env_int("TESSERA_PROPOSAL_EXPIRING_HOURS", 48, minimum=1)
TESSERA_ANSWER_LINK_MAX_AGE = env_int("TESSERA_ANSWER_LINK_MAX_AGE", 14 * 24 * 3600, minimum=60)
# Reminders to the teams still reading a deprecated model version, days before its date.
TESSERA_DEPRECATION_REMINDER_DAYS = env_days("TESSERA_DEPRECATION_REMINDER_DAYS", [30, 7, 1])
TESSERA_SYNC_WAIT_SECONDS = env_int("TESSERA_SYNC_WAIT_SECONDS", 300, minimum=1)
# ?wait=true (lib/jobs.job_wait): on PostgreSQL the job's end wakes the waiter (LISTEN/NOTIFY) and
# the row is re-read every RECHECK seconds only as a safety net; on SQLite the row is polled.
TESSERA_JOB_WAIT_RECHECK_SECONDS = env_int("TESSERA_JOB_WAIT_RECHECK_SECONDS", 5, minimum=1)
TESSERA_JOB_WAIT_POLL_SECONDS = 0.05
TESSERA_DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tessera <tessera@localhost>")
DEFAULT_FROM_EMAIL = TESSERA_DEFAULT_FROM_EMAIL
SERVER_EMAIL = TESSERA_DEFAULT_FROM_EMAIL

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# No broker → tasks run in-process when enqueued (the demo needs no server); a broker → real workers.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
# Parallel test processes (pytest-xdist) share one Redis: each gets its own queue, and the real
# worker it starts inherits the variable, so a task never reaches another process's database.
_XDIST_WORKER = env_str("PYTEST_XDIST_WORKER") if TESTING else ""
CELERY_TASK_DEFAULT_QUEUE = f"celery-{_XDIST_WORKER}" if _XDIST_WORKER else "celery"
CELERY_RESULT_BACKEND = None  # the UI reads job rows, never Celery's result backend
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60, minimum=5)
# Durability on Redis. The job and outbox rows are the source of truth (lib/jobs.py); these
# settings make the broker lose as little as it can, and the sweep below recovers the rest.
# acks_late: a message is acknowledged after its task ran, not before, so a worker that dies
# mid-task leaves the message to be delivered again instead of taking it to the grave.
CELERY_TASK_ACKS_LATE = True
# When the pool process running a task is killed (SIGKILL, out of memory), requeue its message;
# Celery's default acknowledges it and the job is lost. A job that kills its worker every time
# cannot loop for ever: its row counts attempts and fails at TESSERA_JOB_MAX_ATTEMPTS.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message reserved per worker process: a long sync never holds other jobs' messages in its
# unacknowledged buffer, and a worker killed with its host strands at most one.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands an unacknowledged message to another worker after visibility_timeout. It must
# outlast the longest task (the hard time limit, plus the longest retry countdown), or a slow but
# alive sync would be started a second time; a worker that died is recovered sooner than this by
# its job's lease and the sweep.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 15 * 60,
    "socket_connect_timeout": 3,
}
# A request that enqueues must not hang while the broker is down: give up publishing quickly
# (the row stays pending and the sweep sends it once the broker is back).
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_IMPORTS = ("tessera_site.tasks",)
CELERY_TIMEZONE = TIME_ZONE
# Job leases and the sweep (lib/jobs.py, tessera_site/tasks.py): a running job's lease is renewed
# every third of its length; once it lapses (the worker died) the job is run again, at most
# TESSERA_JOB_MAX_ATTEMPTS times in all. The sweep re-sends pending work older than
# TESSERA_SWEEP_STALE_SECONDS (a message the broker never got) and expired leases.
TESSERA_JOB_LEASE_SECONDS = env_int("TESSERA_JOB_LEASE_SECONDS", 90, minimum=3)
TESSERA_JOB_MAX_ATTEMPTS = env_int("TESSERA_JOB_MAX_ATTEMPTS", 3, minimum=1)
TESSERA_SWEEP_SECONDS = env_int("TESSERA_SWEEP_SECONDS", 60, minimum=1)
TESSERA_SWEEP_STALE_SECONDS = env_int("TESSERA_SWEEP_STALE_SECONDS", 60, minimum=1)
# Attempts at one outbox message (an email, a webhook fan-out), with backoff 5 s, 10 s … 10 min.
TESSERA_OUTBOX_MAX_ATTEMPTS = env_int("TESSERA_OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "jobs-sweep": {"task": "tessera_site.tasks.jobs_sweep", "schedule": float(TESSERA_SWEEP_SECONDS)},
    "proposal-reminders": {
        "task": "contracts.tasks_workflow.proposal_reminders_task",
        "schedule": crontab(hour=8, minute=0),
    },
    "proposal-expiring": {
        "task": "contracts.tasks_workflow.proposal_expiring_task",
        "schedule": crontab(minute=5),
    },
    "proposal-expiry": {
        "task": "contracts.tasks_workflow.proposal_expire_due_task",
        "schedule": crontab(minute="*/15"),
    },
    "deprecation-reminders": {
        "task": "contracts.tasks_workflow.deprecation_reminders_task",
        "schedule": crontab(hour=8, minute=15),
    },
    "audit-failure-digest": {
        "task": "audits.tasks.audit_failure_digest",
        "schedule": crontab(hour=7, minute=30),
    },
}


# --- Email ------------------------------------------------------------------------------------
def _email_from_url(url: str) -> dict[str, object]:
    # Hand-written on purpose: dj-email-url (no release since 2022) reads ``smtps://`` as STARTTLS
    # (and deprecates it) and ``submission://`` as port 587, where Tessera documents implicit TLS on
    # 465 and port 25; django-environ would add a second settings reader beside lib/env.py. Keeping
    # the documented meaning of every EMAIL_URL in use wins over a dependency.
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    if parsed.scheme in ("smtp", "smtps", "submission"):
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parsed.hostname or "localhost",
            "EMAIL_PORT": parsed.port or (465 if parsed.scheme == "smtps" else 25),
            "EMAIL_HOST_USER": unquote(parsed.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
            "EMAIL_USE_SSL": parsed.scheme == "smtps",
            "EMAIL_USE_TLS": parsed.scheme == "submission" or query.get("tls", ["0"])[0] in ("1", "true"),
        }
    if parsed.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parsed.scheme in ("locmem", "memory"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parsed.scheme in ("dummy", "outbox"):
        # Nothing leaves the machine; every email is still recorded in the outbox table.
        return {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
    raise ImproperlyConfigured(
        f"EMAIL_URL={url!r}: unknown scheme {parsed.scheme!r} (smtp, smtps, console, outbox)"
    )


_email = _email_from_url(env_str("EMAIL_URL", "outbox://"))
if env_str("EMAIL_BACKEND"):
    _email["EMAIL_BACKEND"] = env_str("EMAIL_BACKEND")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 30

# --- Security (production) -------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): our pages load scripts and styles only from static/, with
# no inline script, handler or style attribute, and nothing may frame them. htmx is told not to
# inject its indicator <style> and not to eval (templates/base.html's htmx-config meta tag).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
