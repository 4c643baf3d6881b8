"""The ``khaibao`` command: serve, migrate, demo and administration tasks."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable

from khaibao import db
from khaibao.settings import Settings, SettingsError

log = logging.getLogger("khaibao")


def _fail(message: str, code: int = 1) -> int:
    print(f"khaibao: {message}", file=sys.stderr)
    return code


async def _with_database(settings: Settings, action: Callable):
    db.configure(settings)
    await db.connect()
    try:
        return await action()
    finally:
        await db.disconnect()


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    applied = asyncio.run(_with_database(settings, db.migrate))
    if applied:
        print(f"Applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        print("The database is up to date.")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    try:
        asyncio.run(_with_database(settings, db.require_migrated))
    except db.NotMigrated as error:
        return _fail(str(error))
    return _serve(args.host, args.port, args.workers)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate, add demo data once, then serve — the one command to try Khai Báo."""
    from khaibao import demo

    async def prepare():
        await db.migrate()
        return await demo.seed(settings)

    summary = asyncio.run(_with_database(settings, prepare))
    print(summary)
    if args.no_serve:
        return 0
    print(f"Khai Báo: {settings.base_url}")
    return _serve(args.host, args.port, args.workers)


def _serve(host: str, port: int, workers: int) -> int:
    from hypercorn.config import Config
    from hypercorn.run import run

    config = Config()
    config.application_path = "khaibao.asgi:app"
    config.bind = [f"{host}:{port}"]
    config.workers = 0 if workers <= 1 else workers
    config.graceful_timeout = 10.0
    config.keep_alive_timeout = 30.0
    config.accesslog = os.environ.get("KHAIBAO_ACCESS_LOG") or None
    config.errorlog = "-"
    return run(config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="khaibao", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add_serve_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        command.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        command.add_argument("--workers", type=int, default=1,
                             help="server processes (default 1)")

    serve = sub.add_parser("serve", help="serve the app with hypercorn")
    add_serve_options(serve)
    serve.set_defaults(handler=cmd_serve)

    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(handler=cmd_migrate)

    demo = sub.add_parser("demo", help="migrate, add demo data, and serve")
    add_serve_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="only prepare the demo data")
    demo.set_defaults(handler=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("piccolo").setLevel(logging.WARNING)
    if getattr(args, "port", None) and not os.environ.get("KHAIBAO_BASE_URL"):
        # A local server on another port: keep the base URL (WebAuthn origin, QR URLs) in step.
        os.environ["KHAIBAO_BASE_URL"] = f"http://localhost:{args.port}"
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        return _fail(str(error), 2)
    try:
        return args.handler(settings, args)
    except db.DatabaseUnavailable as error:
        return _fail(f"the database is unavailable: {error}")
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
