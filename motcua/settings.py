"""Settings for Một cửa.

Everything that differs between a laptop and a province's servers comes from the environment
(invariant 7: secrets never live in git). The defaults give the embedded setup: SQLite in ``var/``,
the database task backend, DEBUG on only when asked for.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MOTCUA_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else (never in production) a random key kept in var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    if env_bool("MOTCUA_PRODUCTION"):
        # Several web servers with per-machine keys would disagree on every session and signature.
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "MOTCUA_PRODUCTION=1 needs SECRET_KEY in the environment (50 random characters, the same on every "
            "server), e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "motcua.apps.ProjectConfig",  # project-wide checks (motcua/checks.py) and the owner-role migrate/flush
    "motcua.apps.BackgroundTasksConfig",
    "crontask",
    "simple_history",
    "rules.apps.AutodiscoverRulesConfig",
    "django_htmx",
    "motcua.org",
    "motcua.org.apps.LoginRecordsConfig",  # django-axes: limits and records of the staff log-ins
    "motcua.worktime",
    "motcua.catalog",
    "motcua.dossiers",
    "motcua.workflow",
    "motcua.documents",
    "motcua.integrations",
    "motcua.integrations.payments",
    "motcua.integrations.messaging",
    "motcua.reports",
    "motcua.portal",
    "motcua.api",
    # Citizen accounts (after motcua.portal, whose templates override allauth's).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "motcua.org.middleware.PasswordExpiryMiddleware",
    "motcua.org.middleware.SessionActivityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a staff log-in lock-out into our page (429)
]

ROOT_URLCONF = "motcua.urls"
WSGI_APPLICATION = "motcua.wsgi.application"
ASGI_APPLICATION = "motcua.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "motcua" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL selects the engine: sqlite:///path (default, embedded) or postgres://user@host/db.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'motcua.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a clerk writes; IMMEDIATE takes the write lock at BEGIN,
    # so concurrent intake waits instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# Two PostgreSQL roles (README "Production", scripts/db-roles.sh): DATABASE_URL names the app's
# DML-only role; DATABASE_OWNER_URL the role that owns the schema, used only by `manage.py migrate`
# and `flush` (motcua/dbroles.py) — its user, password, host and port; the database is DATABASE_URL's
# (the test runner renames it). Give it to the deploy step, not to the servers. Ignored on SQLite.
DATABASE_OWNER = {}
_owner_url = os.environ.get("DATABASE_OWNER_URL", "").strip()
if _owner_url and DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    _owner = dj_database_url.parse(_owner_url)
    if _owner["ENGINE"] != DATABASES["default"]["ENGINE"]:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("DATABASE_OWNER_URL must be a postgres:// address, like DATABASE_URL.")
    DATABASE_OWNER = {key: _owner[key] for key in ("USER", "PASSWORD", "HOST", "PORT")}
    DATABASE_APP_ROLE = DATABASES["default"]["USER"]  # kept: the test plugin connects as the owner to migrate

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and passwords ----------------------------------------------------------------------
AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address at /staff/login/ and /admin/login/ (django-axes);
    # it authenticates nobody and lets every other log-in (citizens, tests) through to the others.
    "motcua.org.login_limits.StaffLoginBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",  # staff at /staff/login/ (Django's own view)
    "allauth.account.auth_backends.AuthenticationBackend",  # citizens: e-mail or phone + password
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The seed: a password not changed for 6 months must be changed before work goes on.
MOTCUA_PASSWORD_MAX_AGE_DAYS = int(os.environ.get("MOTCUA_PASSWORD_MAX_AGE_DAYS", "180"))
LOGIN_URL = "dossiers:login"

# Staff log-in limits (django-axes; motcua/org/login_limits.py). An account with
# MOTCUA_LOGIN_FAILURE_LIMIT failed log-ins, or a client address with
# MOTCUA_LOGIN_FAILURE_LIMIT_PER_ADDRESS (across accounts), is refused, even with the right password,
# until MOTCUA_LOGIN_COOLOFF_MINUTES after the last failure or until a unit administrator unlocks it
# in the desk (Bản ghi đăng nhập). Citizens' log-ins are limited by allauth (ACCOUNT_RATE_LIMITS).
AXES_ENABLED = env_bool("MOTCUA_LOGIN_LIMITS", True)
AXES_FAILURE_LIMIT = int(os.environ.get("MOTCUA_LOGIN_FAILURE_LIMIT", "5"))
MOTCUA_LOGIN_FAILURE_LIMIT_PER_ADDRESS = int(os.environ.get("MOTCUA_LOGIN_FAILURE_LIMIT_PER_ADDRESS", "20"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("MOTCUA_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own; the order matters to the handler
AXES_HANDLER = "motcua.org.login_limits.StaffLoginHandler"
AXES_USERNAME_FORM_FIELD = "username"  # Django's AuthenticationForm (staff page and desk) posts the e-mail so
AXES_USERNAME_CALLABLE = "motcua.org.login_limits.username"
AXES_CLIENT_IP_CALLABLE = "motcua.org.client_address.client_ip"
AXES_LOCKOUT_CALLABLE = "motcua.org.login_limits.lockout_response"
AXES_RESET_ON_SUCCESS = False  # the handler forgets only the account's own failures on success
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure, with "locked out", kept for the desk
AXES_ENABLE_ADMIN = False  # our own scoped desk pages (motcua/org/admin.py)
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# The TLS proxy in front of the app (README "Production"): addresses or networks, comma-separated,
# whose X-Forwarded-For is believed. Without it every limit keyed on the client's address (staff
# log-ins, allauth, the public look-up) would count the proxy, i.e. the whole province, as one client.
MOTCUA_TRUSTED_PROXIES = env_list("MOTCUA_TRUSTED_PROXIES")

# Sessions: counter PCs are shared, so a session ends when the browser closes and after
# MOTCUA_SESSION_IDLE_MINUTES without a request (SessionActivityMiddleware keeps a used session
# alive, saving it at most every MOTCUA_SESSION_TOUCH_SECONDS). Citizens' sessions end with the
# browser too (ACCOUNT_SESSION_REMEMBER = False: there is no "remember me").
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("MOTCUA_SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_AGE = int(os.environ.get("MOTCUA_SESSION_IDLE_MINUTES", "480")) * 60
MOTCUA_SESSION_TOUCH_SECONDS = min(300, SESSION_COOKIE_AGE // 4)

# --- Cache ------------------------------------------------------------------------------------------
# Rate limits (allauth's, the public look-up's) must count across every web worker and server: the
# database cache by default (its table is made by a migration of motcua.org, `createcachetable`), or
# Redis with MOTCUA_CACHE_URL=redis://host:6379/1 (a Redis database of its own: clearing the cache
# empties it). A per-process memory cache would give each gunicorn worker its own count.
if _cache_url := os.environ.get("MOTCUA_CACHE_URL", "").strip():
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": "motcua",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "motcua_cache"}}

# --- Citizen accounts (django-allauth) -----------------------------------------------------------
# Citizens sign up and log in at /accounts/ (/login/ and /signup/ lead there); staff never do.
# Adapters in motcua/portal/adapters.py: phones live on portal.Citizen, codes go out by SMS from a task.
ACCOUNT_ADAPTER = "motcua.portal.adapters.CitizenAccountAdapter"
SOCIALACCOUNT_ADAPTER = "motcua.portal.adapters.NationalSSOAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "motcua.portal.forms.CitizenSignupForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
# E-mail and phone are each optional at sign-up (one of them is required by the form); whichever is
# given must be verified before the first log-in: the adapter's e-mail stage makes "optional" mandatory
# for real addresses (allauth's own "mandatory" would require an e-mail from everyone).
ACCOUNT_SIGNUP_FIELDS = ["email", "phone", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False  # a link in the e-mail
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # a password reset for an unknown address sends nothing to it
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 10 * 60  # a code is valid 10 minutes
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 5  # then the process ends: log in again for a new code
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = 3  # at most 3 new codes per attempt (and the rate limits)
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}  # 6 digits by SMS
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SIGNUP_REDIRECT_URL = "/my/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    "signup": "10/m/ip",
    "verify_phone": "1/60s/key,5/h/key,10/m/ip",  # one SMS a minute and five an hour per number
    "confirm_email": "1/180s/key",
    "reset_password": "20/m/ip,5/m/key",
}
# W001: neither e-mail nor phone is required by itself; CitizenSignupForm requires one of the two.
SILENCED_SYSTEM_CHECKS = ["account.W001"]
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
# The national SSO (VNeID / DVCQG) as allauth's OpenID Connect provider, from the environment:
# MOTCUA_SSO_SERVER_URL, MOTCUA_SSO_CLIENT_ID, MOTCUA_SSO_CLIENT_SECRET (none set: no SSO button).
PORTAL_SSO = {
    "server_url": os.environ.get("MOTCUA_SSO_SERVER_URL", ""),
    "client_id": os.environ.get("MOTCUA_SSO_CLIENT_ID", ""),
    "client_secret": os.environ.get("MOTCUA_SSO_CLIENT_SECRET", ""),
}


def sso_providers(conf: dict | None) -> dict:
    """SOCIALACCOUNT_PROVIDERS for one national SSO app (tests call it with the simulator's address)."""
    apps = []
    if conf and conf.get("server_url") and conf.get("client_id"):
        apps.append(
            {
                "provider_id": "vneid",
                "name": "VNeID",
                "client_id": conf["client_id"],
                "secret": conf.get("client_secret", ""),
                "settings": {"server_url": conf["server_url"], "fetch_userinfo": True, "oauth_pkce_enabled": True},
            }
        )
    return {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "SCOPE": ["openid"], "APPS": apps}}


SOCIALACCOUNT_PROVIDERS = sso_providers(PORTAL_SSO)

# --- Language and time ------------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
# The project-wide modules (settings, API errors) and the third-party overrides.
LOCALE_PATHS = [BASE_DIR / "motcua" / "locale", BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["motcua.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

# Default working time (DESIGN.md "Default time rules"); a province or agency can override
# them in the desk (worktime.WorkSchedule), these are only the fallback.
MOTCUA_WORKTIME = {
    "SESSIONS": [("07:30", "11:30"), ("13:30", "17:00")],
    "WORKING_WEEKDAYS": [0, 1, 2, 3, 4],
    "SAME_DAY_CUTOFF": "15:00",
    "HOLIDAY_COUNTRY": "VN",
}

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Attachments: PDF/JPEG/PNG checked by content, at most this per file and per dossier (bytes).
MOTCUA_MAX_FILE_SIZE = int(os.environ.get("MOTCUA_MAX_FILE_SIZE", 10 * 1024 * 1024))
MOTCUA_MAX_DOSSIER_SIZE = int(os.environ.get("MOTCUA_MAX_DOSSIER_SIZE", 50 * 1024 * 1024))
# Dossier codes: checked at start-up (motcua/dossiers/checks.py): URL-safe characters, {number}…
MOTCUA_DOSSIER_CODE_FORMAT = os.environ.get("MOTCUA_DOSSIER_CODE_FORMAT", "{agency}-{date:%y%m%d}-{number:04d}")
# Catalogue import: the upload, what its archive may unpack to (total, and compression ratio of
# any part over 1 MB), and the rows and columns read from a sheet (README, "Catalogue import").
MOTCUA_IMPORT_MAX_BYTES = int(os.environ.get("MOTCUA_IMPORT_MAX_BYTES", 10 * 1024 * 1024))
MOTCUA_IMPORT_MAX_UNPACKED_BYTES = int(os.environ.get("MOTCUA_IMPORT_MAX_UNPACKED_BYTES", 50 * 1024 * 1024))
MOTCUA_IMPORT_MAX_RATIO = int(os.environ.get("MOTCUA_IMPORT_MAX_RATIO", "100"))
MOTCUA_IMPORT_MAX_ROWS = int(os.environ.get("MOTCUA_IMPORT_MAX_ROWS", "10000"))
MOTCUA_IMPORT_MAX_COLUMNS = int(os.environ.get("MOTCUA_IMPORT_MAX_COLUMNS", "60"))
# Form template overrides: each render (the trial at save and every slip) stops past these
# (motcua/documents/sandbox.py; README, "Form templates").
MOTCUA_TEMPLATE_RENDER_SECONDS = float(os.environ.get("MOTCUA_TEMPLATE_RENDER_SECONDS", "5"))
MOTCUA_TEMPLATE_MAX_ITERATIONS = int(os.environ.get("MOTCUA_TEMPLATE_MAX_ITERATIONS", "100000"))
MOTCUA_TEMPLATE_MAX_OUTPUT_CHARS = int(os.environ.get("MOTCUA_TEMPLATE_MAX_OUTPUT_CHARS", "5000000"))
MOTCUA_TEMPLATE_MAX_LOOP_DEPTH = int(os.environ.get("MOTCUA_TEMPLATE_MAX_LOOP_DEPTH", "3"))
# A JSON API body carries a whole dossier's scans in base64 (4/3 of their size) plus the data.
DATA_UPLOAD_MAX_MEMORY_SIZE = MOTCUA_MAX_DOSSIER_SIZE * 4 // 3 + 1024 * 1024

# --- Tasks ------------------------------------------------------------------------------------------
# Embedded default: the database backend and `manage.py db_worker`. Beyond one machine: Redis-backed
# workers (django-tasks-redis on Django's own `django.tasks`, `manage.py run_redis_tasks`) with
# TASKS_BACKEND=redis and REDIS_URL=redis://host:6379/0 — a settings change only. TASKS_BACKEND also
# takes a backend's dotted path. A task is delivered at least once: a worker that dies mid-task
# leaves it pending, and another worker runs it again after TASKS_REDIS_CLAIM_TIMEOUT seconds, which
# must exceed the longest task (the periodic jobs' slot guard in motcua/schedule.py stops a second
# run of the same slot).
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
TASKS_BACKENDS = {"db": "django_tasks_db.DatabaseBackend", "redis": "django_tasks_redis.RedisTaskBackend"}
_tasks_backend = os.environ.get("TASKS_BACKEND", "").strip() or "db"
TASKS_BACKEND = TASKS_BACKENDS.get(_tasks_backend, _tasks_backend)
TASKS = {"default": {"BACKEND": TASKS_BACKEND}}
if TASKS_BACKEND == "django_tasks_redis.RedisTaskBackend":
    if not REDIS_URL:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("TASKS_BACKEND=redis needs REDIS_URL, e.g. redis://127.0.0.1:6379/0")
    INSTALLED_APPS.append("django_tasks_redis")  # its worker command and a read-only desk view
    TASKS["default"]["OPTIONS"] = {
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": os.environ.get("TASKS_REDIS_PREFIX", "motcua_tasks"),
        "REDIS_CLAIM_TIMEOUT": int(os.environ.get("TASKS_REDIS_CLAIM_TIMEOUT", "900")),
        "REDIS_MAX_DELIVERIES": int(os.environ.get("TASKS_REDIS_MAX_DELIVERIES", "5")),
        "REDIS_SOCKET_CONNECT_TIMEOUT": 5,
        "REDIS_HEALTH_CHECK_INTERVAL": 30,
    }
# With REDIS_URL set, crontask holds a Redis lock: only one `manage.py crontask` enqueues, another
# one started beside it waits LOCK_BLOCKING_TIMEOUT seconds and exits ("Another scheduler is
# already running"). Without Redis every scheduler enqueues and the slot guard runs each slot once.
CRONTASK = (
    {
        "REDIS_URL": REDIS_URL,
        "LOCK_BLOCKING_TIMEOUT": float(os.environ.get("CRONTASK_LOCK_WAIT", "15")),
    }
    if REDIS_URL
    else {}
)

# --- Security ------------------------------------------------------------------------------------
# MOTCUA_PRODUCTION=1 turns on the HTTPS-only defaults (then `check --deploy` reports nothing);
# each can still be overridden on its own. Off by default so the embedded setup works on http.
PRODUCTION = env_bool("MOTCUA_PRODUCTION")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", PRODUCTION) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- Outside services: addresses and secrets from the environment only ---------------------------------
# No secret has a default in code (invariant 7). In production `check --deploy` and every server start
# refuse a missing one or a known placeholder (motcua/checks.py); `make run` and the tests give the
# simulators their own.
# Payment gateway (KeyPay/PayGov-like): where to send the citizen, our merchant code, the checksum key.
MOTCUA_PAYMENT = {
    "base_url": os.environ.get("MOTCUA_PAYMENT_URL", "").strip(),
    "merchant_code": os.environ.get("MOTCUA_PAYMENT_MERCHANT_CODE", "").strip(),
    "secret": os.environ.get("MOTCUA_PAYMENT_SECRET", ""),
    "hash": os.environ.get("MOTCUA_PAYMENT_HASH", "hmac-sha256").strip(),
    "timeout": float(os.environ.get("MOTCUA_PAYMENT_TIMEOUT", "10")),
}
if MOTCUA_PAYMENT["hash"] not in ("hmac-sha256", "hmac-sha512"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("MOTCUA_PAYMENT_HASH must be hmac-sha256 or hmac-sha512.")
# SMS (MOTCUA_SMS_BACKEND=http: an eSMS-like gateway; smpp: an SMSC) and Zalo ZNS.
_sms_backend = os.environ.get("MOTCUA_SMS_BACKEND", "http").strip() or "http"
MOTCUA_MESSAGING = {
    "sms": {
        key: value
        for key, value in {
            "backend": _sms_backend,
            "url": os.environ.get("MOTCUA_SMS_URL", "").strip(),
            "api_key": os.environ.get("MOTCUA_SMS_API_KEY", ""),
            "secret_key": os.environ.get("MOTCUA_SMS_SECRET_KEY", ""),
            "brandname": os.environ.get("MOTCUA_SMS_BRANDNAME", ""),
            "host": os.environ.get("MOTCUA_SMPP_HOST", "").strip(),
            "port": int(os.environ.get("MOTCUA_SMPP_PORT", "2775")),
            "system_id": os.environ.get("MOTCUA_SMPP_SYSTEM_ID", ""),
            "password": os.environ.get("MOTCUA_SMPP_PASSWORD", ""),
        }.items()
        if value != ""
    },
    "zalo": {
        key: value
        for key, value in {
            "oauth_url": os.environ.get("MOTCUA_ZALO_OAUTH_URL", "https://oauth.zaloapp.com/v4/oa/access_token"),
            "api_url": os.environ.get("MOTCUA_ZALO_API_URL", "https://business.openapi.zalo.me/message/template"),
            "app_id": os.environ.get("MOTCUA_ZALO_APP_ID", "").strip(),
            "secret_key": os.environ.get("MOTCUA_ZALO_SECRET_KEY", ""),
        }.items()
        if value != ""
    },
}
# The national portal's credentials are read when a call is made, from the variables whose names the
# desk keeps (default MOTCUA_NATIONAL_USERNAME/_PASSWORD, _CLIENT_ID/_CLIENT_SECRET, _TOKEN,
# _INBOUND_TOKEN); the national SSO's above (MOTCUA_SSO_*); signing passphrases by env:NAME references.

# --- E-mail ------------------------------------------------------------------------------------------
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "EMAIL_BACKEND",
            "django.core.mail.backends.smtp.EmailBackend"
            if PRODUCTION
            else "django.core.mail.backends.console.EmailBackend",
        ),
        "OPTIONS": {
            key: value
            for key, value in {
                "host": os.environ.get("EMAIL_HOST"),
                "port": int(os.environ["EMAIL_PORT"]) if os.environ.get("EMAIL_PORT") else None,
                "username": os.environ.get("EMAIL_HOST_USER"),
                "password": os.environ.get("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS") or None,
            }.items()
            if value is not None
        },
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "motcua@localhost")

# --- Logging -----------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "pyhanko_certvalidator": {"level": "ERROR"},
        # The scheduler logs each run of its own lock-keeping job every 5 seconds; our jobs log their outcome.
        "apscheduler": {"level": "WARNING"},
        # Staff log-in limits: each failure is in the desk (Bản ghi đăng nhập); the log keeps lock-outs.
        "axes": {"level": "WARNING"},
    },
}

# --- Admin skin ----------------------------------------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": _("One-stop desk"),
    "SITE_HEADER": _("Một cửa"),
    "SITE_SYMBOL": "account_balance",
    "SHOW_LANGUAGES": True,
    "SIDEBAR": {"show_search": True, "show_all_applications": True},
    # The desk's menu under the site title leads to the staff screens outside the admin.
    "SITE_DROPDOWN": [
        {"title": _("Counter"), "icon": "point_of_sale", "link": reverse_lazy("dossiers:counter")},
        {"title": _("Find dossiers"), "icon": "search", "link": reverse_lazy("dossiers:search")},
    ],
}

NINJA_PAGINATION_PER_PAGE = 20
NINJA_PAGINATION_MAX_LIMIT = 100
