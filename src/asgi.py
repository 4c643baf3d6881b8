"""ASGI entry point for hypercorn: ``hypercorn khaibao.asgi:app``."""

import sys

from khaibao.app import create_app
from khaibao.core import log_setup
from khaibao.core.settings import Settings, SettingsError

log_setup.install_masking()  # also in worker processes started by hypercorn (Procfile)

try:
    app = create_app(Settings.from_env())
except SettingsError as error:
    print(f"khaibao: {error}", file=sys.stderr)
    raise SystemExit(2) from None
