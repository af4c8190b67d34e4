"""Genboard settings: one module, read from the environment.

Development defaults just work (DEBUG on, a SQLite file under var/, a generated
encryption key kept in var/). Production (DEBUG=0) refuses to start without
SECRET_KEY and CREDENTIAL_ENCRYPTION_KEYS: see core/checks.py.
"""

import contextlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.csp import CSP


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: str) -> bool:
    return env(name, default).strip().lower() in ("1", "true", "yes", "on")


BASE_DIR = Path(__file__).resolve().parent.parent
# Where the dev database and the dev encryption key live (git-ignored).
VAR_DIR = Path(env("GENBOARD_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", "1")
# Empty in production without the variable: core.checks stops the start with a clear message.
SECRET_KEY = env("SECRET_KEY") or ("dev-only-insecure-key-" + "x" * 40 if DEBUG else "")
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "django_htmx",
    "django_filters",
    "django_q",
    "core",
    "providers",
    "teams",
    "history",
    "archive",
    "hooks",
    "preferences",
    "saved_views",
    "public_links",
    "annotations",
]

MIDDLEWARE = [
    "core.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a log-in unless its view says otherwise (allauth's views do).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.middleware.TimezoneMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # The history's pages, rows and regions (config/jinja.py says why).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "config.jinja.environment", "context_processors": ["config.jinja.csrf"]},
    },
]


def private_dir(path: Path) -> None:
    """Make `path` readable by its owner only (it holds the dev database and dev key)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """Create `path` empty and owner-only unless it exists: SQLite then keeps the file's mode,
    and gives its -wal and -shm files the same one."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


# --- Database ---------------------------------------------------------------------------
if not env("DATABASE_URL"):
    private_dir(VAR_DIR)
    private_file(VAR_DIR / "genboard.sqlite3")
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'genboard.sqlite3'}",
        # Each process keeps its one connection open between requests and tasks (see
        # README, "Database connections"): the count is processes, not requests.
        conn_max_age=int(env("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker share one file: WAL lets readers run beside the
    # writer, IMMEDIATE takes the write lock at BEGIN (no upgrade deadlocks), and the
    # timeout makes a writer wait for the lock instead of failing "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The planner's cost of reading a page at random (4 by default: a spinning disk's seek)
    # as PostgreSQL's documentation advises where the data is in memory or on SSD, as the
    # history's indexes are. At 4 it reads a person's 1,000 stars, or every errored job,
    # whole and sorts them for the first page rather than walk an index's first 51 entries:
    # 22 and 78 ms instead of 16 and 19 (bench/history_bench.py, docs/performance.md). An
    # `options` in DATABASE_URL's query string (dj-database-url puts it in OPTIONS) replaces
    # it, e.g. behind a PgBouncer that refuses startup options.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c random_page_cost=1.1")
    # Parameters sent apart from the statement (psycopg's server-side binding), and a statement
    # run a fifth time on a connection prepared: PostgreSQL then plans it once, where planning
    # was two thirds of its work for a history page (2.1 of 3.3 ms), and a rows fragment costs
    # it 1.7-2.0 ms instead of 4.0-4.8 (docs/performance.md). Django's default is neither.
    # Statements whose best plan depends on their values are planned each time
    # (core.sql.planned_each_time). Behind a PgBouncer in transaction mode older than 1.21, add
    # `?server_side_binding=off` to DATABASE_URL.
    DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
# Web requests only (core/dbtimeout.py): a query running longer is cancelled. 0 turns it off.
WEB_STATEMENT_TIMEOUT_MS = int(env("WEB_STATEMENT_TIMEOUT_MS", "15000"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared across processes (log-in throttling and locks rely on that) ----------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "genboard_cache"}}
if REDIS_URL:
    # Sessions read from Redis (and written through to the database, so none is lost when
    # Redis restarts): one database query less on every request.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# The history's rendered rows (history/row_cache.py): in each process's memory, since a row is
# read far more often than made and its key carries its version. About 1.5 KB a row.
CACHES["rows"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "genboard-rows",
    "OPTIONS": {"MAX_ENTRIES": int(env("ROW_CACHE_ENTRIES", "20000"))},
}

# --- Background work (django-q2) --------------------------------------------------------
# Recovery from a dead worker does not rest on django-q2's redelivery: the Redis broker has
# no acknowledgements at all (a task taken off the list dies with its cluster), and the ORM
# broker's `retry` only hands a task out again after 11 minutes. Genboard's own lease,
# recovery and requeue (history/lease.py, history/recovery.py, history/tasks.py) bring a
# dead worker's keys back within about a minute on either broker.
Q_CLUSTER = {
    "name": "genboard",
    "workers": int(env("Q_WORKERS", "2")),
    "timeout": 600,
    # Longer than timeout, so a task is never handed out twice while it still runs.
    "retry": 660,
    # A sync that failed is not run again by django-q2: the schedule queues its key again
    # when it is due, with the key's own backoff.
    "max_attempts": 1,
    # Tasks a cluster has taken off the queue but not started die with it (Redis has no
    # acknowledgements): take no more than one per worker process.
    "queue_limit": int(env("Q_WORKERS", "2")),
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 500,
    "poll": 1,
    **({"redis": REDIS_URL} if REDIS_URL else {"orm": "default"}),
}

# A sync holds its key for this long without renewing (history/lease.py): a killed worker's
# keys are free again this soon.
GENBOARD_LEASE_SECONDS = int(env("GENBOARD_LEASE_SECONDS", "30"))

# The share of the time a large export works in its worker (history/export_jobs.py): it
# rests the rest, leaving the CPU and the database to pages. 1 = flat out.
GENBOARD_EXPORT_PACE = float(env("GENBOARD_EXPORT_PACE", "0.5"))

# --- Accounts (django-allauth) ----------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", "optional")  # "mandatory" to require it
ACCOUNT_UNIQUE_EMAIL = True
# Failed log-ins are counted per login name (whether or not it exists) and per address,
# then refused for the rest of the window: allauth keeps the counters in the cache.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# The per-account count ("key") is the account, whichever of its names was typed.
ACCOUNT_ADAPTER = "core.login_limits.AccountAdapter"
ACCOUNT_SESSION_REMEMBER = None
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/history/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Genboard <noreply@genboard.local>")
_MAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _MAIL_BACKEND,
        "OPTIONS": {
            "host": env("EMAIL_HOST", "localhost"),
            "port": int(env("EMAIL_PORT", "25")),
            "username": env("EMAIL_HOST_USER"),
            "password": env("EMAIL_HOST_PASSWORD"),
            "use_tls": envbool("EMAIL_USE_TLS", "0"),
        }
        if _MAIL_BACKEND.endswith("smtp.EmailBackend")
        else {},
    }
}

# Argon2 first: a log-in costs a fraction of PBKDF2's CPU (bench/login_bench.py). Hashes
# made by the others still verify, and Django re-hashes them with Argon2 at the next log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Providers --------------------------------------------------------------------------
APIMALL_BASE_URL = env("APIMALL_BASE_URL", "https://gateway.apimall.ai")
APIKLEY_BASE_URL = env("APIKLEY_BASE_URL", "https://api.apikley.ru")
AUDIOPOD_BASE_URL = env("AUDIOPOD_BASE_URL", "https://api.audiopod.ai")
MUNSIT_BASE_URL = env("MUNSIT_BASE_URL", "https://api.munsit.com")
# Webhooks in (hooks/): the body cap, calls per key and minute, and how far a signed
# timestamp may be from now.
WEBHOOK_MAX_BODY_BYTES = int(env("WEBHOOK_MAX_BODY_BYTES", str(256 * 1024)))
WEBHOOK_RATE_LIMIT = int(env("WEBHOOK_RATE_LIMIT", "600"))
WEBHOOK_TOLERANCE_SECONDS = int(env("WEBHOOK_TOLERANCE_SECONDS", "300"))
# A key's balance is read with its syncs, at most this often (providers/balances.py).
BALANCE_REFRESH_SECONDS = int(env("BALANCE_REFRESH_SECONDS", "300"))
# Comma-separated Fernet keys; the first encrypts, all decrypt (providers/crypto.py).
CREDENTIAL_ENCRYPTION_KEYS = [k.strip() for k in env("CREDENTIAL_ENCRYPTION_KEYS").split(",") if k.strip()]

# --- Media archive (archive app) --------------------------------------------------------
# Finished jobs' media, and large exports (history/export_jobs.py), are kept in the storage
# named "archive", which web and worker machines share: files under MEDIA_ROOT by
# default, an S3-compatible bucket when AWS_STORAGE_BUCKET_NAME is set (django-storages; the
# AWS_* variables below are the ones it reads).
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME") or None
    AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID") or None
    AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY") or None
    AWS_DEFAULT_ACL = None  # private objects: handed out by signed URLs only
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = 300  # seconds a signed URL works
    # botocore signs URLs for the us-east-1 endpoint with the deprecated SigV2 unless told,
    # which newer regions and S3-compatible services (R2, MinIO) refuse.
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    AWS_S3_FILE_OVERWRITE = False
    _ARCHIVE_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _ARCHIVE_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# host:port pairs the archive may fetch from although private (the demo's simulator).
ARCHIVE_ALLOWED_HOSTS = [h.strip() for h in env("ARCHIVE_ALLOWED_HOSTS").split(",") if h.strip()]
ARCHIVE_MAX_FILE_SIZE = int(env("ARCHIVE_MAX_FILE_SIZE", str(500 * 1024 * 1024)))
# Bytes of archive per person (0: no limit); past it their files wait in "archive full".
ARCHIVE_USER_QUOTA = int(env("ARCHIVE_USER_QUOTA", str(10 * 1024**3)))
# Files fetched at once from one media host.
ARCHIVE_HOST_CONCURRENCY = int(env("ARCHIVE_HOST_CONCURRENCY", "4"))
ARCHIVE_CONNECT_TIMEOUT = float(env("ARCHIVE_CONNECT_TIMEOUT", "10"))
ARCHIVE_READ_TIMEOUT = float(env("ARCHIVE_READ_TIMEOUT", "30"))
# Seconds one file may take in all (a host that drips a byte at a time is cut off).
ARCHIVE_FETCH_DEADLINE = float(env("ARCHIVE_FETCH_DEADLINE", "900"))
# Jobs in one bulk download (zip).
ARCHIVE_ZIP_MAX_JOBS = int(env("ARCHIVE_ZIP_MAX_JOBS", "1000"))

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) ----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "archive": _ARCHIVE_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security ---------------------------------------------------------------------------
# How many proxies we run in front of Genboard (DESIGN: 0 = clients connect directly). Each
# one appends the address it was reached from to X-Forwarded-For, so the client is the entry
# that many places from the end; entries before it are whatever the client sent. allauth's
# per-address log-in limits count that entry.
TRUSTED_PROXY_COUNT = env("TRUSTED_PROXY_COUNT", "0").strip()
ALLAUTH_TRUSTED_PROXY_COUNT = int(TRUSTED_PROXY_COUNT) if TRUSTED_PROXY_COUNT.isdigit() else 0
# Production runs behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "1")
    # Load balancers and systemd probe the app directly over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# Generated media is played and shown straight from the providers' storage (any HTTPS
# host), and from plain-HTTP provider origins (the simulator in the demo).
_PROVIDER_URLS = (APIMALL_BASE_URL, APIKLEY_BASE_URL, AUDIOPOD_BASE_URL, MUNSIT_BASE_URL)
_MEDIA_SOURCES = [CSP.SELF, "https:", "data:", *sorted({_origin(u) for u in _PROVIDER_URLS if u.startswith("http:")})]
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": _MEDIA_SOURCES,
    "media-src": _MEDIA_SOURCES,
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

# --- Logging: to the console; provider secrets never reach a log (only last four). -----
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django_q": {"level": "WARNING", "propagate": True}},
}

# --- Errors to Sentry (core/sentry.py scrubs secrets before anything is sent) ----------------
SENTRY_DSN = env("SENTRY_DSN")
if SENTRY_DSN:
    from core import sentry

    sentry.init(SENTRY_DSN, environment=env("SENTRY_ENVIRONMENT", "development" if DEBUG else "production"))
