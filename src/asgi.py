"""ASGI entry point for hypercorn: ``hypercorn khaibao.asgi:app``.

A configuration that cannot work (bad settings, a database that cannot be opened or is not
migrated, another secret key) ends the process here, at import, with one line and exit
status 2 — before hypercorn starts serving or prints a start-up traceback.
"""

import asyncio
import sys

from khaibao.app import check_ready_to_serve, create_app
from khaibao.core import db, log_setup
from khaibao.core.db_errors import DatabaseUnavailable, NotMigrated
from khaibao.core.key_fingerprint import SecretKeyChanged
from khaibao.core.proxies import behind_proxies
from khaibao.core.settings import Settings, SettingsError

log_setup.install_masking()  # also in worker processes started by hypercorn (Procfile)


async def _check(settings: Settings) -> None:
    async with db.lifespan_connection():
        await check_ready_to_serve(settings)


try:
    settings = Settings.from_env()
    app = behind_proxies(create_app(settings), settings)
    asyncio.run(_check(settings))
except (SettingsError, DatabaseUnavailable, NotMigrated, SecretKeyChanged) as error:
    print(f"khaibao: {error}", file=sys.stderr)
    raise SystemExit(2) from None
