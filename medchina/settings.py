"""Settings for medChina Intake, read from the environment (see .env.example).

One module for every environment. ``DJANGO_ENV`` picks the shape:

* ``development`` (default): the embedded default — SQLite, files under ``var/``, Celery on
  kombu's filesystem transport, e-mail to the console.
* ``production``: DEBUG off, PostgreSQL and Redis from the environment, secure cookies,
  HSTS, SSL redirect, Argon2. A missing secret fails loudly at start-up.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import environ
from django.utils.csp import CSP

from medchina.storage_config import filesystem_storage, s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise environ.ImproperlyConfigured(
        f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}"
    )
PRODUCTION = DJANGO_ENV == "production"


def env_required(name: str) -> str:
    """A variable production cannot run without: missing or empty stops start-up."""
    value = env.str(name, default="").strip()
    if not value:
        raise environ.ImproperlyConfigured(
            f"{name} must be set when DJANGO_ENV=production (see .env.example)"
        )
    return value


def env_path(name: str, default: Path) -> Path:
    return Path(env.str(name, default=str(default))).resolve()


VAR_DIR = env_path("MEDCHINA_VAR_DIR", BASE_DIR / "var")
if not PRODUCTION:
    VAR_DIR.mkdir(parents=True, exist_ok=True)

if PRODUCTION:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY")
    # CACHE_URL too: rate limits must be shared by every web process.
    for _name in ("DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"):
        env_required(_name)
else:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY",
        default="development-only-key-never-used-in-production-7c1d0b4e9a2f4e8b",
    )

DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The public address of the site, used to build links in e-mails (no request there).
SITE_URL = env.str("MEDCHINA_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "simple_history",
    "axes",
    "cases",
    "intake",
]

MIDDLEWARE = [
    # First: everything after it (rate limits, axes, audit) reads the real client address.
    "medchina.proxy.TrustedProxyMiddleware",
    "medchina.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "medchina.middleware.PermissionsPolicyMiddleware",
    # Before sessions and CSRF: an oversized upload is refused before its body is read.
    "medchina.middleware.RequestBodyLimitMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "intake.references.CanonicalReferenceMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "medchina.middleware.StaffSessionIdleMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Axes last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "medchina.urls"
WSGI_APPLICATION = "medchina.wsgi.application"

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
                "django.template.context_processors.csp",
                "intake.context_processors.organisation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default=None if PRODUCTION else f"sqlite:///{VAR_DIR / 'medchina.sqlite3'}",
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: opening a PostgreSQL connection (a new server process, the
# authentication round trips) cost more than the whole query work of a wizard step or
# the portal page. Health checks drop a connection the server closed meanwhile.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process and the worker read and write side by side.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://medchina")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "sesame.backends.ModelBackend",
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_path("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles")
# Outside production whitenoise serves straight from static/ (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# Health records never live under MEDIA_ROOT or any public URL: they are served only by
# permission-checked views, through storages["private"] (cases.storage). On the embedded
# default that is a folder; in production it may be an S3-compatible bucket, so web and
# workers share no disk.
PRIVATE_STORAGE = env.str("MEDCHINA_PRIVATE_STORAGE", default="filesystem")
PRIVATE_STORAGE_ROOT = env_path("MEDCHINA_PRIVATE_STORAGE_ROOT", VAR_DIR / "private")
if PRIVATE_STORAGE == "s3":
    _private_storage = s3_storage(
        bucket=env_required("MEDCHINA_S3_BUCKET"),
        prefix=env.str("MEDCHINA_S3_PREFIX", default=""),
        endpoint_url=env.str("MEDCHINA_S3_ENDPOINT_URL", default=""),
        region=env.str("MEDCHINA_S3_REGION", default=""),
        access_key=env.str("MEDCHINA_S3_ACCESS_KEY_ID", default=""),
        secret_key=env.str("MEDCHINA_S3_SECRET_ACCESS_KEY", default=""),
        addressing_style=env.str("MEDCHINA_S3_ADDRESSING_STYLE", default=""),
        kms_key_id=env.str("MEDCHINA_S3_KMS_KEY_ID", default=""),
    )
elif PRIVATE_STORAGE == "filesystem":
    _private_storage = filesystem_storage(PRIVATE_STORAGE_ROOT)
else:
    raise environ.ImproperlyConfigured(
        f"MEDCHINA_PRIVATE_STORAGE must be filesystem or s3, not {PRIVATE_STORAGE!r}"
    )
STORAGES = {
    "private": _private_storage,
    # Nothing should use the default storage; if something does, it stays private too.
    "default": _private_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}
# Local working space for copies of private files (checks, case-file rendering). Each
# process has its own: it is never shared between web and workers.
MEDCHINA_SCRATCH_DIR = env_path("MEDCHINA_SCRATCH_DIR", VAR_DIR / "scratch")

# Summary edits go through the service (permissions, optimistic locking); history's
# one-click revert would bypass both.
SIMPLE_HISTORY_REVERT_DISABLED = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Record uploads -------------------------------------------------------------------
# Uploads stream to a temporary file (never whole in memory), hashed on the way; on the
# filesystem default it sits next to private storage so the finished file is renamed into
# place, with S3 it is streamed up from there.
FILE_UPLOAD_HANDLERS = ["intake.uploads.HashingUploadHandler"]
FILE_UPLOAD_TEMP_DIR = env_path(
    "MEDCHINA_UPLOAD_TEMP_DIR",
    PRIVATE_STORAGE_ROOT / ".incoming" if PRIVATE_STORAGE == "filesystem" else VAR_DIR / "incoming",
)
# If this fails, Django's check (files.E001) says which folder is missing.
with contextlib.suppress(OSError):
    FILE_UPLOAD_TEMP_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
MEDCHINA_MAX_RECORD_SIZE = env.int("MEDCHINA_MAX_RECORD_SIZE", default=200 * 1024 * 1024)
MEDCHINA_CASE_QUOTA = env.int("MEDCHINA_CASE_QUOTA", default=2 * 1024 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("MEDCHINA_MAX_FILES_PER_UPLOAD", default=100)
# The largest request body accepted, judged from Content-Length before reading it: one
# file at the limit plus the form around it. The uploader sends one file per request;
# without JavaScript, larger selections are asked to go in smaller batches. nginx's
# client_max_body_size (deploy/nginx/medchina.conf.template) must be the same.
MEDCHINA_MAX_UPLOAD_REQUEST_SIZE = env.int(
    "MEDCHINA_MAX_UPLOAD_REQUEST_SIZE", default=MEDCHINA_MAX_RECORD_SIZE + 8 * 1024 * 1024
)

# --- Retention and the patient's data (the privacy notice promises these) --------------
# Closed, withdrawn and declined cases are erased this many days after they ended.
MEDCHINA_RETENTION_DAYS = env.int("MEDCHINA_RETENTION_DAYS", default=2 * 365)
# "Who has seen my case" shows staff roles; names only if the operator's policy says so.
MEDCHINA_SHOW_STAFF_NAMES = env.bool("MEDCHINA_SHOW_STAFF_NAMES", default=False)
# Where members' messages are announced when a case has no coordinator yet ("" = nobody).
MEDCHINA_COORDINATORS_EMAIL = env.str("MEDCHINA_COORDINATORS_EMAIL", default="")

# --- E-mail ---------------------------------------------------------------------------
_email = env.email_url(
    "EMAIL_URL", default="smtp://localhost:25" if PRODUCTION else "consolemail://"
)
# django-environ speaks the pre-6.1 EMAIL_* names; Django 6.1 configures mailers instead.
_mailer_options = {
    option: _email[key]
    for key, option in {
        "EMAIL_HOST": "host",
        "EMAIL_PORT": "port",
        "EMAIL_HOST_USER": "username",
        "EMAIL_HOST_PASSWORD": "password",
        "EMAIL_USE_TLS": "use_tls",
        "EMAIL_USE_SSL": "use_ssl",
        "EMAIL_FILE_PATH": "file_path",
    }.items()
    if _email.get(key) not in (None, "")
}
if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    _mailer_options["timeout"] = 20
else:
    _mailer_options = {k: v for k, v in _mailer_options.items() if k == "file_path"}
    if "file_path" in _mailer_options:
        # filemail:///var/mail is the folder /var/mail (django-environ drops the slash).
        _mailer_options["file_path"] = "/" + _mailer_options["file_path"].lstrip("/")
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _mailer_options}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="medChina Intake <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=None if PRODUCTION else "filesystem://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Sessions, cookies, security headers -----------------------------------------------
# Sessions are read on every signed-in request and on each wizard step: from the cache
# (Redis in production), written through to the database, which answers when the cache
# was flushed or restarted — nobody is signed out by a cache restart. A per-process
# local-memory cache would serve each web process its own stale copy, so without a
# shared cache sessions stay in the database alone.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.db"
    if CACHES["default"]["BACKEND"].endswith("LocMemCache")
    else "django.contrib.sessions.backends.cached_db"
)
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
MEDCHINA_STAFF_SESSION_IDLE = env.int("MEDCHINA_STAFF_SESSION_IDLE", default=30 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "intake.views.csrf_failure"
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)

# No inline script anywhere: pages load their JavaScript from /static/. Inline styles
# stay allowed because the Django admin still sets a few style attributes.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

# --- Staff two-factor sign-in (django-otp): on whenever DEBUG is off -------------------
# Unset: required whenever DEBUG is off (checked per request). Always on in production.
MEDCHINA_ADMIN_REQUIRE_2FA = (
    env.bool("MEDCHINA_ADMIN_REQUIRE_2FA") if env.str("MEDCHINA_ADMIN_REQUIRE_2FA", "") else None
)
OTP_TOTP_ISSUER = "medChina Intake"

# --- Operations ---------------------------------------------------------------------------
# /healthz/ answers {"status": ...} to everyone; the per-part detail only to a request
# from this machine (not through the proxy) or one carrying "Authorization: Bearer <token>".
MEDCHINA_HEALTH_TOKEN = env.str("MEDCHINA_HEALTH_TOKEN", default="")

# --- Client addresses behind the proxy --------------------------------------------------
# Addresses or networks of our own reverse proxies (comma-separated, e.g. the nginx
# container's address). Only a request arriving from one of them may name the client in
# X-Forwarded-For; empty means no proxy: the socket's address is the client's.
MEDCHINA_TRUSTED_PROXIES = env.list("MEDCHINA_TRUSTED_PROXIES", default=[])

# --- Staff login protection (django-axes) ----------------------------------------------
# The address TrustedProxyMiddleware resolved, never a header a client could write.
AXES_CLIENT_IP_CALLABLE = "medchina.proxy.client_address"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Lock out staff sign-in only; patients sign in with single-use links, rate-limited.
AXES_ONLY_ADMIN_SITE = True
# AXES_ONLY_ADMIN_SITE stops axes refusing patient links, but its stock handler still
# counts their failures and marks the response locked: this one ignores them entirely.
AXES_HANDLER = "medchina.axes_handler.AdminOnlyAxesHandler"
AXES_LOCKOUT_TEMPLATE = "locked_out.html"

# --- Who we are: the contact page, privacy notice, footer and e-mails ------------------
# Demo values out of the box; an operator sets the real ones (see .env.example).
MEDCHINA_ORGANISATION_NAME = env.str(
    "MEDCHINA_ORGANISATION_NAME", default="medChina Intake Demo Ltd"
)
MEDCHINA_ORGANISATION_ADDRESS = env.str(
    "MEDCHINA_ORGANISATION_ADDRESS", default="1 Example Street, London, EC1A 1AA"
)
MEDCHINA_CONTACT_EMAIL = env.str("MEDCHINA_CONTACT_EMAIL", default="help@intake.example.org")
# 020 7946 0xxx is Ofcom's range for drama: it never rings a real person.
MEDCHINA_CONTACT_PHONE = env.str("MEDCHINA_CONTACT_PHONE", default="020 7946 0123")
MEDCHINA_CONTACT_HOURS = env.str(
    "MEDCHINA_CONTACT_HOURS",
    default="Monday to Friday, 9am to 5pm UK time, except bank holidays",
)
MEDCHINA_DATA_CONTROLLER = env.str("MEDCHINA_DATA_CONTROLLER", default=MEDCHINA_ORGANISATION_NAME)
MEDCHINA_PRIVACY_EMAIL = env.str("MEDCHINA_PRIVACY_EMAIL", default="privacy@intake.example.org")
MEDCHINA_ICO_REGISTRATION = env.str("MEDCHINA_ICO_REGISTRATION", default="ZA000000")

# --- Passwordless sign-in links (django-sesame) ----------------------------------------
SESAME_MAX_AGE = env.int("MEDCHINA_SIGN_IN_LINK_MAX_AGE", default=60 * 30)
SESAME_ONE_TIME = True
SESAME_TOKEN_NAME = "token"  # noqa: S105 (a parameter name)

LOGIN_URL = "intake:sign_in"

# Printed by seed_demo; only ever used for the demo coordinator on a developer's machine.
DEMO_COORDINATOR_PASSWORD = env.str("MEDCHINA_DEMO_PASSWORD", default="demo-coordinator-2026")

# --- Our own limits ---------------------------------------------------------------------
MEDCHINA_RATELIMIT_ENQUIRY = env.str("MEDCHINA_RATELIMIT_ENQUIRY", default="5/h")
MEDCHINA_RATELIMIT_SIGN_IN = env.str("MEDCHINA_RATELIMIT_SIGN_IN", default="5/h")
# Invitations e-mail people who never asked us for anything: a few per case and per sender.
MEDCHINA_RATELIMIT_INVITATION_CASE = env.str("MEDCHINA_RATELIMIT_INVITATION_CASE", default="10/d")
MEDCHINA_RATELIMIT_INVITATION_SENDER = env.str(
    "MEDCHINA_RATELIMIT_INVITATION_SENDER", default="20/d"
)
RATELIMIT_ENABLE = env.bool("MEDCHINA_RATELIMIT_ENABLE", default=True)

# --- Logging: one JSON object a line, with the request id; never request bodies --------
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "medchina.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "medchina.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The development server logs every request line; that is noise, not data.
        "django.server": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
