"""Openbook settings, read from the environment (django-environ).

Everything that differs between a laptop and production comes from environment variables;
see deploy/.env.example. With DEBUG off there is no default secret key: the process refuses
to start without one.
"""

import re
from pathlib import Path
from urllib.parse import unquote

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    env.read_env(str(env_file))

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str(
        "SECRET_KEY", default="openbook-insecure-debug-only-key-not-for-production"
    )
else:
    SECRET_KEY = env.str("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Our apps first, so their templates (sign-in, password pages) win over the admin's.
    "openbook",
    # Two-step verification's devices: an authenticator app (TOTP) and recovery codes.
    # Before accounts, whose admin takes their admin pages away (accounts/admin.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "plans",
    "payments",
    "notifications",
    "webhooks",
    "demo",  # the demo and national seeds and the benchmarks; no app imports it
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "openbook.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.sessions.SessionSeenMiddleware",
    # After sign-in: puts the session's second factor on request.user for the policy, and
    # sends a session still to confirm it to the code page (accounts/middleware.py).
    "accounts.middleware.SecondFactorMiddleware",
    "openbook.middleware.FigurePlacesMiddleware",
    "openbook.middleware.NoStoreMiddleware",
    # After CSRF and sign-in: process_view refuses a NUL once a request is on its way to a view.
    "openbook.middleware.RefuseNulMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so its transaction (and the person's row-security scope in it) holds exactly the
    # view and the rendering of its response.
    "accounts.rowsecurity.RowSecurityMiddleware",
]

ROOT_URLCONF = "openbook.urls"
WSGI_APPLICATION = "openbook.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "notifications.context_processors.unread",
                "plans.context_processors.places",
                "accounts.context_processors.second_factor_due",
            ],
        },
    },
]

# Databases: DATABASE_URL in production and CI; the embedded runtime sets it for its children.
# Without it, openbook/cli.py says it is falling back to this (FALLBACK_DATABASE_URL there).
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/openbook")
}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
# A Unix-socket directory arrives percent-encoded in the URL's host part.
DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST") or "")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Row-level security (accounts/rowsecurity.py): every request and task switches to this role,
# which owns no table, so PostgreSQL's policies on the tenant tables apply to what it reads
# and writes. The connecting role must be a member of it (the migrations make it and grant
# it to the role that runs them; deploy/README.md describes the roles for production).
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="openbook_app")
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", DATABASE_APP_ROLE):
    raise ImproperlyConfigured(
        "DATABASE_APP_ROLE is a PostgreSQL role name: lower-case letters, digits and _."
    )
DATABASES["default"].setdefault("TEST", {})
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"]["NAME"] = env.str("TEST_DATABASE_NAME")

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="openbook"),
    }
}


def _celery_url(url: str) -> str:
    """Kombu spells a Unix-socket Redis URL differently from redis-py."""
    if url.startswith("unix://"):
        return "redis+socket://" + url.removeprefix("unix://")
    return url


CELERY_BROKER_URL = _celery_url(env.str("CELERY_BROKER_URL", default=REDIS_URL))
CELERY_RESULT_BACKEND = _celery_url(env.str("CELERY_RESULT_BACKEND", default=REDIS_URL))
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="openbook")
# How long a task a worker took but never acknowledged (it died) waits before redelivery.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600)
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Europe/London"  # as TIME_ZONE: the digest's 07:00 is London's
CELERY_BEAT_SCHEDULE: dict = {
    "deadline-reminders": {
        "task": "plans.send_deadline_reminders",
        # Hourly, so a reminder goes out within the hour it falls due; each is sent once.
        "schedule": 3600.0,
    },
    # Notifications go at once after each change; this sweep sends any whose message to the
    # worker was lost (the broker down at that moment).
    "notification-emails": {"task": "notifications.send_pending", "schedule": 300.0},
    # Results computed by an older calculation version, after a deploy (also on worker start).
    "outdated-results": {"task": "payments.recompute_outdated", "schedule": 600.0},
    # Webhook deliveries whose message to the worker was lost (each attempt queues the next).
    "webhook-deliveries": {"task": "webhooks.sweep", "schedule": 120.0},
    # Large uploads whose task was never sent (the broker was away), or given up on, or old.
    "upload-sweep": {"task": "plans.sweep_uploads", "schedule": 120.0},
    "notification-digests": {
        "task": "notifications.send_digests",
        "schedule": crontab(hour=7, minute=0),  # each morning, London time
    },
    # Unused accounts: the warning, then deactivation (accounts/expiry.py).
    "account-expiry": {
        "task": "accounts.expire_unused",
        "schedule": crontab(hour=3, minute=30),  # each night, London time
    },
    # Invitations of a people import whose message to the worker was lost.
    "invitation-emails": {"task": "accounts.send_invitations", "schedule": 300.0},
    # A signed checkpoint of each audit chain that moved since its last (openbook/checkpoints.py).
    "audit-checkpoints": {
        "task": "openbook.issue_checkpoints",
        "schedule": crontab(hour=0, minute=15),  # each night, London time
    },
}
# Outgoing webhooks. Addresses on this machine or a private network are refused (a delivery
# must not reach services never meant to be called from outside) unless this says otherwise:
# on in development and the tests, which run their receivers locally.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=DEBUG)
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
# The waits before each retry, in seconds: about a day and a half in all, then it has failed.
WEBHOOKS_RETRY_SECONDS = env.list(
    "WEBHOOKS_RETRY_SECONDS", cast=int, default=[30, 120, 600, 1800, 7200, 21600, 43200, 86400]
)
# A recalculation still "running" after this long was cut off (the task's hard limit is 180 s):
# the run that takes its work again marks it abandoned.
RECALC_ABANDON_AFTER_SECONDS = env.int("RECALC_ABANDON_AFTER_SECONDS", default=180)
# The Ed25519 key that signs the audit trail's checkpoints (PEM, or the 32 raw bytes in
# base64). It must live outside the database (the environment, a secret store): a checkpoint
# is worth something because whoever can rewrite the database cannot sign. Unset, a key is
# derived from SECRET_KEY. Public keys of keys it replaced, so kept checkpoints still check:
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default="")
AUDIT_PREVIOUS_PUBLIC_KEYS = env.list("AUDIT_PREVIOUS_PUBLIC_KEYS", default=[])
# How long /healthz waits for the worker to answer its ping, in seconds.
HEALTHZ_WORKER_TIMEOUT = env.float("HEALTHZ_WORKER_TIMEOUT", default=5.0)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Every password check goes through the sign-in throttle (accounts/throttle.py); it
    # answers every e-mail-and-password sign-in itself, right or wrong.
    "accounts.backends.ThrottledModelBackend",
    # Never asked for a password; named so sessions begun under it (before the throttle)
    # still find their person.
    "django.contrib.auth.backends.ModelBackend",
    # Single sign-on (accounts/sso.py): asked only by its callback page. Listed even when not
    # configured, so sessions begun under it still find their person if it is switched off.
    "accounts.sso.Backend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ],
)
# Single sign-on by OpenID Connect (accounts/sso.py), on when an issuer is set: for NHS.net,
# Microsoft Entra ID's https://login.microsoftonline.com/<tenant id>/v2.0. The endpoints come
# from the issuer's discovery document. See deploy/README.md.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
# What the sign-in button calls the provider's account.
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="NHS.net")
# E-mail domains whose people may sign in this way (empty: any the provider vouches for).
OIDC_ALLOWED_EMAIL_DOMAINS = env.list("OIDC_ALLOWED_EMAIL_DOMAINS", default=[])
# Whether the ID token must say the e-mail address is verified (email_verified). Entra ID
# does not send that claim: turn this off there and limit the domains instead.
OIDC_REQUIRE_EMAIL_VERIFIED = env.bool("OIDC_REQUIRE_EMAIL_VERIFIED", default=True)
# Values of the ID token's amr claim (RFC 8176) that mean a second factor was used at the
# provider, and so count as Openbook's own two-step verification.
OIDC_SECOND_FACTOR_AMR = env.list("OIDC_SECOND_FACTOR_AMR", default=["mfa"])
# Sign-in with e-mail and password. Switch off where everyone signs in through the provider.
PASSWORD_SIGN_IN = env.bool("PASSWORD_SIGN_IN", default=True)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = None  # show the signed-out page

# Accounts unused for this many days are deactivated (0: never), each person e-mailed this many
# days before (accounts/expiry.py). Platform administrators never expire.
ACCOUNT_EXPIRY_DAYS = env.int("ACCOUNT_EXPIRY_DAYS", default=90)
ACCOUNT_EXPIRY_WARNING_DAYS = env.int("ACCOUNT_EXPIRY_WARNING_DAYS", default=7)

# Wrong passwords slow an account down rather than lock it (accounts/throttle.py): this many
# in a row are free, then each further attempt waits 1 s, 2 s, 4 s … up to the longest wait.
SIGNIN_FREE_ATTEMPTS = env.int("SIGNIN_FREE_ATTEMPTS", default=5)
SIGNIN_MAX_DELAY_SECONDS = env.int("SIGNIN_MAX_DELAY_SECONDS", default=300)
# Two-step verification (accounts/second_factor.py). Approvers, system leads, regional
# reviewers and administrators confirm it is them with a second factor in a session before
# they sign, submit, accept or decide there; an administrator can require it of everyone at
# sign-in (the product's setting; this is its answer until one first chooses). The
# requirement is not read from the environment: only the test suite turns it off, for its
# tests written before it (tests/conftest.py).
SECOND_FACTOR_REQUIRED = True
SECOND_FACTOR_FOR_EVERYONE = env.bool("SECOND_FACTOR_FOR_EVERYONE", default=False)
OTP_TOTP_ISSUER = "Openbook"
# Wrong codes slow a device down (1 s, 2 s, 4 s … after each): django-otp's own throttle, on.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Password reset e-mails asked for from one client address in an hour (many NHS staff share
# one address, so generous); each account also gets at most 3 an hour.
PASSWORD_RESETS_PER_ADDRESS = env.int("PASSWORD_RESETS_PER_ADDRESS", default=50)
# The proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed, for the client's
# address in limits and the audit trail (openbook/client_address.py). Empty: the connection's
# own address, and the header is ignored.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# Sessions and cookies.
SECURE = env.bool("SECURE", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SECURE)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: only our own origin; no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# A mail server that does not answer must not hold a web process (invitations send at once).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Where the file back-end (django.core.mail.backends.filebased.EmailBackend) writes e-mails: a
# trial without a mail server, and the tests reading what the worker sent.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default="") or None
# Where links in e-mails point: the address people use to reach Openbook.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Openbook <no-reply@openbook.invalid>")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
# Serve straight from the app directories when collectstatic has not run (the demo, tests).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous request is then answered 401 with a WWW-Authenticate header.
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # The first sets the request's row-security scope to the person found (by token too).
    "DEFAULT_PERMISSION_CLASSES": [
        "accounts.rowsecurity.ApiUserScope",
        "rest_framework.permissions.IsAuthenticated",
    ],
    # A JSON API: nested terms (an agreement's mechanisms) cannot be form-encoded, and one
    # content type keeps the published schema, and clients generated from it, simple.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "openbook.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "openbook.schema.Schema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "openbook.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="1200/minute"),
    },
}

REST_KNOX = {
    "TOKEN_TTL": None,  # each token carries the expiry its owner chose
    "AUTO_REFRESH": False,
    "TOKEN_PREFIX": "obk_",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Openbook API",
    "DESCRIPTION": "Collaborative operational planning for NHS integrated care systems.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Choice sets that share a field name ("status") get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "PairStatusEnum": ["agreed", "mismatch", "awaiting"],
        "SubmissionStatusEnum": "plans.models.Submission.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# The embedded runtime keeps its data (PostgreSQL, Redis) here.
OPENBOOK_HOME = env.path("OPENBOOK_HOME", default=BASE_DIR / ".openbook")
# The demo password, printed by `openbook demo` and listed in the README. Demo data only.
DEMO_PASSWORD = "openbook-demo-2026"  # noqa: S105
KNOX_TOKEN_MODEL = "accounts.PersonalToken"  # noqa: S105  (a model name)
# Knox's own migrations create its default token table even when the model is swapped for
# ours; we keep no such table.
MIGRATION_MODULES = {"knox": None}

# Plan uploads: the file itself, and what an .xlsx may unpack to (zip bombs are refused).
PLAN_UPLOAD_MAX_BYTES = env.int("PLAN_UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
PLAN_UPLOAD_MAX_UNPACKED_BYTES = env.int("PLAN_UPLOAD_MAX_UNPACKED_BYTES", default=60 * 1024 * 1024)
# One sheet's cells (or the shared text): a plan's largest is about 35 kB.
PLAN_UPLOAD_MAX_SHEET_BYTES = env.int("PLAN_UPLOAD_MAX_SHEET_BYTES", default=4 * 1024 * 1024)
# Files larger than this are checked and stored by the worker while the page shows progress,
# so a large file never holds a web process (a plan's own workbook is about 30 kB).
PLAN_UPLOAD_INLINE_BYTES = env.int("PLAN_UPLOAD_INLINE_BYTES", default=256 * 1024)
# A file the worker has not finished with by then is reported interrupted (nothing is stored);
# it may have waited behind long tasks on the one queue, so this is generous.
UPLOAD_ABANDON_AFTER_SECONDS = env.int("UPLOAD_ABANDON_AFTER_SECONDS", default=1800)
UPLOAD_KEEP_DAYS = env.int("UPLOAD_KEEP_DAYS", default=30)  # then a large file's record goes
# People imported from one file (accounts/people_import.py): a new system's people fit well
# within it; a larger file is split, or the limit raised.
PEOPLE_IMPORT_MAX_ROWS = env.int("PEOPLE_IMPORT_MAX_ROWS", default=1000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# A form's fields: a grid section saved without scripts posts two a cell (elective activity by
# specialty for an acute trust is about 2,500), a scheme list seventeen a row (200 rows:
# 3,400). Django's 1,000 would refuse both; the memory limit above still bounds the request.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
