import os
import stat

import pytest

from khaibao.core.settings import Settings, SettingsError


def env(tmp_path, **values):
    return {"KHAIBAO_DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}", **values}


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///khaibao.sqlite3"
    assert settings.base_url == "http://localhost:8000"
    assert settings.sms_backend == "console"
    assert settings.retention_days == 21
    assert settings.is_sqlite and not settings.is_https
    assert settings.health_hotline == "1900 9095"
    assert (tmp_path / "khaibao.sqlite3.secret").exists()


def test_secret_key_generated_once_and_kept_beside_database(tmp_path):
    first = Settings.from_env(env(tmp_path))
    second = Settings.from_env(env(tmp_path))
    key_file = tmp_path / "k.sqlite3.secret"
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    assert key_file.read_text().strip().encode() == first.secret_key
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_secret_key_from_environment(tmp_path):
    settings = Settings.from_env(env(tmp_path, KHAIBAO_SECRET_KEY="x" * 40))
    assert settings.secret_key == b"x" * 40
    assert not (tmp_path / "k.sqlite3.secret").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KHAIBAO_DATABASE_URL", "mysql://root@localhost/x"),
        ("KHAIBAO_DATABASE_URL", "postgresql:///nohost"),
        ("KHAIBAO_BASE_URL", "khaibao.example.vn"),
        ("KHAIBAO_BASE_URL", "https://khaibao.example.vn/app"),
        ("KHAIBAO_BASE_URL", "http://khaibao.example.vn"),
        ("KHAIBAO_SECRET_KEY", "short"),
        ("KHAIBAO_SMS_BACKEND", "carrier-pigeon"),
        ("KHAIBAO_REDIS_URL", "localhost:6379"),
        ("KHAIBAO_RETENTION_DAYS", "three weeks"),
        ("KHAIBAO_RETENTION_DAYS", "0"),
        ("KHAIBAO_FORWARDED_ALLOW", "127.0.0.1,nginx"),
        ("KHAIBAO_PROXY_HOPS", "0"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path, name, value):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env(tmp_path, **{name: value}))
    message = str(caught.value)
    assert message.startswith(name + ":")
    assert "\n" not in message


def test_health_hotline_from_environment(tmp_path):
    settings = Settings.from_env(env(tmp_path, KHAIBAO_HEALTH_HOTLINE=" 0234 3822 123 "))
    assert settings.health_hotline == "0234 3822 123"
    blank = Settings.from_env(env(tmp_path, KHAIBAO_HEALTH_HOTLINE="  "))
    assert blank.health_hotline == "1900 9095"


def test_trusted_proxies_from_environment(tmp_path):
    assert Settings.from_env(env(tmp_path)).forwarded_allow == ()
    settings = Settings.from_env(env(tmp_path, KHAIBAO_FORWARDED_ALLOW=" 127.0.0.1, 10.1.2.3/8,::1",
                                     KHAIBAO_PROXY_HOPS="2"))
    assert settings.forwarded_allow == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")
    assert settings.proxy_hops == 2


def test_http_sms_backend_needs_gateway_url(tmp_path):
    with pytest.raises(SettingsError, match=r"^KHAIBAO_SMS_HTTP_URL:"):
        Settings.from_env(env(tmp_path, KHAIBAO_SMS_BACKEND="http"))


def test_https_base_url_and_postgres(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({
        "KHAIBAO_BASE_URL": "https://khaibao.hue.gov.vn/",
        "KHAIBAO_DATABASE_URL": "postgres://u@db.internal:5432/khaibao",
        "KHAIBAO_SMS_BACKEND": "file:/tmp/outbox.jsonl",
        "KHAIBAO_RETENTION_DAYS": "28",
    })
    assert settings.base_url == "https://khaibao.hue.gov.vn"
    assert settings.is_https and settings.host == "khaibao.hue.gov.vn"
    assert settings.database_url.startswith("postgresql://")
    assert not settings.is_sqlite
    assert settings.retention_days == 28


def test_cli_reports_bad_setting_in_one_line(tmp_path, monkeypatch, capsys):
    from khaibao.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KHAIBAO_RETENTION_DAYS", "-5")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "khaibao: KHAIBAO_RETENTION_DAYS: must be at least 1, got -5"


def test_http_sms_backend_needs_a_token(tmp_path):
    """Without one every send would be refused by the gateway ("Bearer "): refuse to start."""
    with pytest.raises(SettingsError, match=r"^KHAIBAO_SMS_HTTP_TOKEN:") as raised:
        Settings.from_env(env(tmp_path, KHAIBAO_SMS_BACKEND="http",
                              KHAIBAO_SMS_HTTP_URL="https://sms.example.vn/send",
                              KHAIBAO_SMS_HTTP_TOKEN="  "))
    assert "\n" not in str(raised.value)
