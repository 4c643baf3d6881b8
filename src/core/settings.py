"""Settings: one dataclass read from ``KHAIBAO_*`` environment variables.

A bad value stops the program at start with one line that names the variable.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_SQLITE_FILE = "khaibao.sqlite3"


class SettingsError(ValueError):
    """A setting is missing or malformed; ``str()`` is the one line shown at start."""


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{DEFAULT_SQLITE_FILE}"
    """``sqlite:///PATH`` (relative to the working directory) or ``postgresql://…``."""

    base_url: str = "http://localhost:8000"
    """Public origin. WebAuthn RP ID and origin, allowed hosts, cookie ``Secure`` flag and
    every URL inside a QR derive from it — never from the request's Host header."""

    secret_key: bytes = field(default=b"", repr=False)
    """Key for HMACs (tokens, ID hashes), encryption and session ids. When
    ``KHAIBAO_SECRET_KEY`` is unset it is generated once and kept beside the database."""

    sms_backend: str = "console"
    """``console`` (log), ``file:PATH`` (JSON lines, for tests) or ``http`` (gateway)."""

    sms_http_url: str = ""
    """Gateway URL for the ``http`` SMS backend (``KHAIBAO_SMS_HTTP_URL``)."""

    sms_http_token: str = field(default="", repr=False)
    """Bearer token for the gateway (``KHAIBAO_SMS_HTTP_TOKEN``)."""

    sms_sender: str = "DTTM_TTHUE"
    """Sender name shown on the citizen's phone (``KHAIBAO_SMS_SENDER``)."""

    redis_url: str = ""
    """Optional Redis for rate limits and OTP counters shared by several servers."""

    retention_days: int = 21
    """Check-ins, scans and declarations older than this are purged."""

    province_name: str = "Huế"
    """Short name of the province this deployment serves ("Khai báo về Huế")."""

    province_full_name: str = "Thừa Thiên Huế"
    """Full name used in headings ("Khai báo đến Thừa Thiên Huế")."""

    province_code: str = "VN-46"
    """Region code of the province (``KHAIBAO_PROVINCE_CODE``): arrivals must go inside it."""

    log_json: bool = False
    """Write logs as JSON lines (``KHAIBAO_LOG_JSON=1``)."""

    check_declaration_days: int = 7
    """The officer's result turns yellow when a person's last health declaration is older
    than this many days, or missing (``KHAIBAO_CHECK_DECLARATION_DAYS``)."""

    purge_daily: bool = True
    """Each server process checks hourly and one of them runs the day's retention purge
    (``KHAIBAO_PURGE_DAILY=0`` to leave it to ``khaibao purge`` from cron)."""

    checkin_stay_minutes: int = 120
    """A check-in without check-out is taken to end this many minutes later, for contact
    tracing (``KHAIBAO_CHECKIN_STAY_MINUTES``)."""

    officer_lookups_per_minute: int = 60
    """How many people one officer may look up per minute, on every route that shows a person
    (the check, assisted entry, the person page and card, tracing by person, the venue scanner
    fed a typed ID number); more is refused and audited (``KHAIBAO_OFFICER_LOOKUPS_PER_MINUTE``)."""

    venue_typed_ids_per_minute: int = 10
    """How many typed ID numbers venue staff may look up per minute at their scanner (within
    the officer budget above; a scanned QR is not a lookup)
    (``KHAIBAO_VENUE_TYPED_IDS_PER_MINUTE``)."""

    declarations_per_hour: int = 30
    """How many declarations (health or arrival; one may cover the whole family) one phone
    may send per hour; more is refused with a message by the submit button
    (``KHAIBAO_DECLARATIONS_PER_HOUR``)."""

    health_hotline: str = "1900 9095"
    """The health hotline the citizen is told to call after declaring symptoms or an exposure,
    and when their verdict is not green (``KHAIBAO_HEALTH_HOTLINE``; default the national
    COVID-19 hotline)."""

    forwarded_allow: tuple[str, ...] = ()
    """The reverse proxies (addresses or networks, ``KHAIBAO_FORWARDED_ALLOW``, comma
    separated) whose ``X-Forwarded-For``/``-Proto``/``-Host`` name the client; from any other
    peer those headers are ignored. Empty: the peer itself is the client."""

    proxy_hops: int = 1
    """How many trusted proxies each request passes through (``KHAIBAO_PROXY_HOPS``): the
    client is the address the outermost of them added."""

    shutdown_grace_seconds: int = 10
    """On SIGTERM or SIGINT each server process stops taking connections and lets requests
    already received finish for at most this long (``KHAIBAO_SHUTDOWN_GRACE_SECONDS``)."""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///").removeprefix("sqlite://"))

    @property
    def is_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def host(self) -> str:
        """Host name of the base URL (the WebAuthn RP ID)."""
        return urlsplit(self.base_url).hostname or "localhost"

    @property
    def netloc(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def loopback_netlocs(self) -> tuple[str, ...]:
        """The other spellings of a local base URL's host (localhost, 127.0.0.1, [::1]) on its
        port: the address a local server prints is one of them. Empty for a public base URL."""
        parts = urlsplit(self.base_url)
        if parts.hostname not in LOOPBACK_HOSTS:
            return ()
        port = f":{parts.port}" if parts.port else ""
        return tuple(f"{host}{port}" for host in ("localhost", "127.0.0.1", "[::1]")
                     if f"{host}{port}" != parts.netloc)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        database_url = _database_url(env.get("KHAIBAO_DATABASE_URL", "").strip())
        base_url = _base_url(env.get("KHAIBAO_BASE_URL", "").strip() or cls.base_url)
        sms_backend = _sms_backend(env)
        settings = cls(
            database_url=database_url,
            base_url=base_url,
            sms_backend=sms_backend,
            sms_http_url=env.get("KHAIBAO_SMS_HTTP_URL", "").strip(),
            sms_http_token=env.get("KHAIBAO_SMS_HTTP_TOKEN", "").strip(),
            sms_sender=env.get("KHAIBAO_SMS_SENDER", "").strip() or cls.sms_sender,
            redis_url=_redis_url(env.get("KHAIBAO_REDIS_URL", "").strip()),
            retention_days=_positive_int(env, "KHAIBAO_RETENTION_DAYS", 21),
            province_name=env.get("KHAIBAO_PROVINCE_NAME", "").strip() or cls.province_name,
            province_full_name=env.get("KHAIBAO_PROVINCE_FULL_NAME", "").strip()
            or cls.province_full_name,
            province_code=_province_code(env.get("KHAIBAO_PROVINCE_CODE", "").strip()),
            log_json=env.get("KHAIBAO_LOG_JSON", "").strip().lower() in {"1", "true", "yes"},
            check_declaration_days=_positive_int(env, "KHAIBAO_CHECK_DECLARATION_DAYS", 7),
            purge_daily=env.get("KHAIBAO_PURGE_DAILY", "1").strip().lower()
            not in {"0", "false", "no"},
            checkin_stay_minutes=_positive_int(env, "KHAIBAO_CHECKIN_STAY_MINUTES", 120),
            officer_lookups_per_minute=_positive_int(
                env, "KHAIBAO_OFFICER_LOOKUPS_PER_MINUTE", 60),
            venue_typed_ids_per_minute=_positive_int(
                env, "KHAIBAO_VENUE_TYPED_IDS_PER_MINUTE", 10),
            declarations_per_hour=_positive_int(env, "KHAIBAO_DECLARATIONS_PER_HOUR", 30),
            health_hotline=env.get("KHAIBAO_HEALTH_HOTLINE", "").strip() or cls.health_hotline,
            forwarded_allow=_networks(env.get("KHAIBAO_FORWARDED_ALLOW", "")),
            proxy_hops=_positive_int(env, "KHAIBAO_PROXY_HOPS", 1),
            shutdown_grace_seconds=_positive_int(env, "KHAIBAO_SHUTDOWN_GRACE_SECONDS", 10),
        )
        key = _secret_key(env.get("KHAIBAO_SECRET_KEY", "").strip(), settings)
        return cls(**{**settings.__dict__, "secret_key": key})


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _database_url(value: str) -> str:
    if not value:
        return Settings.database_url
    if value.startswith(("postgresql://", "postgres://")):
        if not urlsplit(value).hostname and "host=" not in value:
            raise SettingsError(
                "KHAIBAO_DATABASE_URL: a PostgreSQL URL needs a host, "
                "e.g. postgresql://user@127.0.0.1:5432/khaibao"
            )
        return value.replace("postgres://", "postgresql://", 1)
    if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
        return value
    raise SettingsError(
        "KHAIBAO_DATABASE_URL: expected sqlite:///PATH or postgresql://…, got "
        f"{value.split('@')[-1]!r}"
    )


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SettingsError(
            f"KHAIBAO_BASE_URL: expected an origin like https://khaibao.example.vn, got {value!r}"
        )
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise SettingsError(
            f"KHAIBAO_BASE_URL: must be an origin without a path, got {value!r}"
        )
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise SettingsError(
            "KHAIBAO_BASE_URL: plain http is only allowed for localhost; "
            f"use https:// for {parts.hostname}"
        )
    return f"{parts.scheme}://{parts.netloc}"


def _sms_backend(env: Mapping[str, str]) -> str:
    value = env.get("KHAIBAO_SMS_BACKEND", "").strip() or "console"
    if value == "console":
        return value
    if value.startswith("file:") and len(value) > len("file:"):
        return value
    if value == "http":
        if not env.get("KHAIBAO_SMS_HTTP_URL", "").strip().startswith(("http://", "https://")):
            raise SettingsError(
                "KHAIBAO_SMS_HTTP_URL: the http SMS backend needs the gateway URL"
            )
        if not env.get("KHAIBAO_SMS_HTTP_TOKEN", "").strip():
            raise SettingsError(
                "KHAIBAO_SMS_HTTP_TOKEN: the http SMS backend needs the gateway's token "
                "(every send would be refused without it)"
            )
        return value
    raise SettingsError(
        f"KHAIBAO_SMS_BACKEND: expected console, file:PATH or http, got {value!r}"
    )


def _redis_url(value: str) -> str:
    if value and not value.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"KHAIBAO_REDIS_URL: expected redis://HOST:PORT/DB, got {value!r}")
    return value


def _province_code(value: str) -> str:
    if not value:
        return Settings.province_code
    if not re.fullmatch(r"VN-\d{2}", value):
        raise SettingsError(
            f"KHAIBAO_PROVINCE_CODE: expected a region code like VN-46, got {value!r}"
        )
    return value


def _networks(value: str) -> tuple[str, ...]:
    networks = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise SettingsError(
                "KHAIBAO_FORWARDED_ALLOW: expected proxy addresses or networks like "
                f"127.0.0.1,10.0.0.0/8, got {part!r}") from None
    return tuple(networks)


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name}: must be at least 1, got {value}")
    return value


def _secret_key(value: str, settings: Settings) -> bytes:
    if value:
        if len(value) < 32:
            raise SettingsError("KHAIBAO_SECRET_KEY: must be at least 32 characters long")
        return value.encode()
    key_file = _key_file_for(settings)
    if key_file.exists():
        try:
            stored = key_file.read_text().strip()
        except OSError as error:
            raise SettingsError(
                f"KHAIBAO_SECRET_KEY: cannot read the key file {key_file} "
                f"({error.strerror or error})") from None
        if len(stored) < 32:
            raise SettingsError(
                f"KHAIBAO_SECRET_KEY: the key file {key_file} is damaged (too short)"
            )
        return stored.encode()
    try:
        return _new_key_file(key_file)
    except OSError as error:
        raise SettingsError(
            f"KHAIBAO_SECRET_KEY: unset, and no key file can be written at {key_file} "
            f"({error.strerror or error}): set KHAIBAO_SECRET_KEY or make that directory "
            "writable"
        ) from None


def _new_key_file(key_file: Path) -> bytes:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # Write a temporary file, then link it into place: a second worker starting at the
    # same moment either wins the link or reads the complete key, never a half-written one.
    tmp = key_file.with_name(f"{key_file.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(tmp, key_file)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return key_file.read_text().strip().encode()


def _key_file_for(settings: Settings) -> Path:
    """The key lives beside the SQLite file, or in the working directory for PostgreSQL."""
    if settings.is_sqlite:
        db_file = settings.sqlite_path
        return db_file.with_name(db_file.name + ".secret")
    return Path("khaibao.secret")
