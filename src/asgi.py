"""ASGI entry point for hypercorn: ``hypercorn khaibao.asgi:app``."""

import sys

from khaibao.app import create_app
from khaibao.core import log_setup
from khaibao.core.proxies import behind_proxies
from khaibao.core.settings import Settings, SettingsError

log_setup.install_masking()  # also in worker processes started by hypercorn (Procfile)

try:
    settings = Settings.from_env()
    app = behind_proxies(create_app(settings), settings)
except SettingsError as error:
    print(f"khaibao: {error}", file=sys.stderr)
    raise SystemExit(2) from None
