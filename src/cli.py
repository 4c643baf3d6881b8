"""The ``khaibao`` command: serve, migrate, demo and administration tasks."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable

from khaibao.core import db
from khaibao.core.db_errors import DatabaseUnavailable, NotMigrated
from khaibao.core.settings import Settings, SettingsError

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
    if bool(args.certfile) != bool(args.keyfile):
        return _fail("serve: give both --certfile and --keyfile, or neither", 2)
    from khaibao.app import check_ready_to_serve
    from khaibao.core.key_fingerprint import SecretKeyChanged

    try:
        asyncio.run(_with_database(settings, lambda: check_ready_to_serve(settings)))
    except (NotMigrated, SecretKeyChanged) as error:
        return _fail(str(error))
    return _serve(settings, args.host, args.port, args.workers, tls=(args.certfile, args.keyfile))


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate, add demo data once, then serve — the one command to try Khai Báo."""
    from khaibao.demo import demo

    async def prepare():
        await db.migrate()
        return await demo.seed(settings)

    summary = asyncio.run(_with_database(settings, prepare))
    if args.no_serve:
        print(summary)
        return 0
    # What to open comes last, once the server is listening (its own start-up lines are
    # quieted so that nothing follows it).
    return _serve(settings, args.host, args.port, args.workers, ready_message=summary)


def cmd_import_regions(settings: Settings, args: argparse.Namespace) -> int:
    """Vietnam's provinces and wards from the vietnam-provinces package, or villages from CSV."""
    from pathlib import Path

    from khaibao.regions import regions

    def progress(done: int, total: int) -> None:
        print(f"\r  {done}/{total}", end="", file=sys.stderr, flush=True)

    async def run():
        if args.vietnam:
            return await regions.import_vietnam(progress)
        return await regions.import_villages_csv(Path(args.file), progress)

    if not args.vietnam and not args.file:
        return _fail("import-regions: give --vietnam or a CSV file (ward_code,name,kind)", 2)
    report = asyncio.run(_with_database(settings, run))
    print(file=sys.stderr)
    print(report)
    return 0 if report.ok else 1


def cmd_import_insurance(settings: Settings, args: argparse.Namespace) -> int:
    """The health-insurance registry from CSV (bhyt,full_name,birth_year,sex[,address,region])."""
    from pathlib import Path

    from khaibao.citizens import insurance

    def progress(done: int) -> None:
        print(f"\r  {done} rows", end="", file=sys.stderr, flush=True)

    report = asyncio.run(_with_database(
        settings, lambda: insurance.import_csv(Path(args.file), settings, progress)))
    print(file=sys.stderr)
    if report.errors:
        print(f"Nothing imported: {len(report.errors)} bad row(s).")
        for line, message in report.errors:
            print(f"  line {line}: {message}")
        return 1
    print(f"Insurance registry: {report.added} added, {report.updated} updated.")
    return 0


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    """A new admin and a one-time enrollment URL (24 h) to add their passkey."""
    from khaibao.core.errors import FormErrors
    from khaibao.officers import enrollments, officers

    async def run():
        officer = await officers.create(args.name, officers.ADMIN)
        return enrollments.enrollment_url(settings, await enrollments.issue_enrollment(officer.id))

    try:
        url = asyncio.run(_with_database(settings, run))
    except FormErrors as errors:
        reasons = "; ".join(e.message("en") for e in errors.errors.values())
        return _fail("create-admin: " + reasons, 2)
    print(f"Admin {' '.join(args.name.split())!r} created. Open this link within 24 hours, "
          "once, to add a passkey:", file=sys.stderr)
    print(url)
    return 0


def cmd_import_declarations(settings: Settings, args: argparse.Namespace) -> int:
    """Merge declarations from another system (JSON lines, the API's schema), de-duplicated."""
    from pathlib import Path

    from khaibao.admin import imports

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"no such file: {path}")
    report = asyncio.run(_with_database(settings, lambda: imports.import_file(path)))
    print(f"Imported {report.added} declaration(s), {report.duplicates} already here, "
          f"{report.persons_added} new person(s), {len(report.errors)} line(s) with errors.")
    for line, message in report.errors[:20]:
        print(f"  line {line}: {message}")
    return 1 if report.errors and not report.added else 0


def cmd_purge(settings: Settings, _args: argparse.Namespace) -> int:
    """Delete what is older than the retention period now and print the deletion report."""
    from khaibao.admin import retention

    async def run():
        await db.require_migrated()
        return await retention.purge(settings)

    try:
        report = asyncio.run(_with_database(settings, run))
    except NotMigrated as error:
        return _fail(str(error))
    print(f"Retention {settings.retention_days} days: deleted what is older than "
          f"{report.cutoff.isoformat(timespec='seconds')}.")
    for kind, item in report.counts.items():
        oldest = f", oldest kept {item['oldest_kept']}" if item["oldest_kept"] else ""
        print(f"  {kind}: {item['deleted']} deleted{oldest}")
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """A consistent copy of the live database (SQLite online backup; pg_dump for PostgreSQL)."""
    from pathlib import Path

    from khaibao.admin import backup

    shown = [-1]

    def progress(done: int, total: int) -> None:
        """Every 10 % on stderr, for databases large enough to take a while."""
        tenth = done * 10 // max(total, 1)
        if total >= backup.PROGRESS_FROM_BYTES and tenth > shown[0]:
            shown[0] = tenth
            print(f"backup: {tenth * 10} % ({done >> 20} of {total >> 20} MB)", file=sys.stderr)

    try:
        report = backup.backup(settings, Path(args.path), progress=progress)
    except backup.BackupError as error:
        return _fail(f"backup: {error}")
    print(f"Backup written: {report}")
    print("Keep the secret key (KHAIBAO_SECRET_KEY or the .secret file) safe and separate: "
          "the backup is useless without it.", file=sys.stderr)
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Replace the database with a backup (stop the server first)."""
    from pathlib import Path

    from khaibao.admin import backup

    try:
        report = backup.restore(settings, Path(args.path))
    except backup.BackupError as error:
        return _fail(f"restore: {error}")
    print(f"Restored: {report}")
    return 0


def _serve(settings: Settings, host: str, port: int, workers: int, *,
           tls: tuple[str | None, str | None] = (None, None), ready_message: str = "") -> int:
    from hypercorn.config import Config

    config = Config()
    if ready_message:
        config.loglevel = "WARNING"
        _print_when_listening(host, port, ready_message)
    config.application_path = "khaibao.asgi:app"
    config.bind = [f"{host}:{port}"]
    config.certfile, config.keyfile = tls  # both set: TLS (HTTP/2 negotiated by ALPN)
    config.workers = 0 if workers <= 1 else workers
    config.graceful_timeout = float(settings.shutdown_grace_seconds)
    config.keep_alive_timeout = 30.0
    config.accesslog = os.environ.get("KHAIBAO_ACCESS_LOG") or None
    config.errorlog = "-"
    if workers <= 1:
        _serve_worker(config, None)
        return 0
    return _serve_processes(config)


def _print_when_listening(host: str, port: int, message: str) -> None:
    """Print ``message`` once the server accepts connections on host:port (the caller quiets
    hypercorn's own "Running on …" line: it shows the loopback address, not the base URL)."""
    import socket
    import threading
    import time

    def wait_and_print() -> None:
        for _ in range(600):
            try:
                socket.create_connection((host, port), timeout=0.5).close()
            except OSError:
                time.sleep(0.1)
                continue
            print(message, flush=True)
            return

    threading.Thread(target=wait_and_print, daemon=True).start()


def _serve_processes(config) -> int:
    """``config.workers`` server processes, each listening on its own socket of the same port
    (SO_REUSEPORT), so the kernel spreads connections evenly. Hypercorn's own workers share
    one socket, and one of them could end up holding most keep-alive connections: half the
    throughput of a 2-core box. SIGINT/SIGTERM to the parent, to any worker or to the whole
    process group (systemd, Procfile platforms, Ctrl-C) drain every worker; a worker that
    dies stops the others (the service manager restarts the whole)."""
    import multiprocessing
    import multiprocessing.connection
    import signal

    context = multiprocessing.get_context("spawn")
    shutdown = context.Event()
    processes = [context.Process(target=_serve_worker, args=(config, shutdown))
                 for _ in range(config.workers)]
    for process in processes:
        process.start()
    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), lambda *_: shutdown.set())
    multiprocessing.connection.wait([p.sentinel for p in processes])
    shutdown.set()
    for process in processes:
        process.join()
    return next((abs(p.exitcode) for p in processes if p.exitcode), 0)


def _serve_worker(config, shutdown) -> None:
    """One server process, until SIGTERM or SIGINT reaches it (or ``shutdown``, the other
    workers' event, is set): then it stops accepting, answers what it has received within
    the grace period, and closes keep-alive connections after their current answer."""
    from hypercorn.utils import load_application

    from khaibao import app as app_module

    app = load_application(config.application_path, config.wsgi_max_body_size)
    # With workers > 1, create_sockets() binds a new SO_REUSEPORT socket: this process's own.
    sockets = config.create_sockets()
    asyncio.run(_serve_until_signalled(app, config, sockets, shutdown, app_module))


async def _serve_until_signalled(app, config, sockets, shutdown, app_module) -> None:
    import contextlib
    import signal

    from hypercorn.asyncio import run as hypercorn_run

    loop = asyncio.get_running_loop()
    signalled = asyncio.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, signalled.set)

    async def until_shutdown() -> None:
        while not signalled.is_set() and not (shutdown is not None and shutdown.is_set()):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signalled.wait(), 0.1)
        app_module.begin_draining()
        if shutdown is not None:
            shutdown.set()  # the other workers drain too, whoever got the signal

    hypercorn_run.TCPServer = _lingering_tcp_server()  # type: ignore[misc]
    await hypercorn_run.worker_serve(app, config, sockets=sockets,
                                     shutdown_trigger=until_shutdown)


def _lingering_tcp_server():
    from hypercorn.asyncio.tcp_server import TCPServer

    class LingeringTCPServer(TCPServer):
        """At shutdown hypercorn closes idle keep-alive connections at once, dropping a
        request the client has just sent on one unread. Here an idle connection stays open
        for ``LINGER_SECONDS`` first: a request arriving then is served (its answer says
        ``Connection: close``, see app.begin_draining); only then is the connection closed."""

        LINGER_SECONDS = 1.0

        async def _idle_timeout(self) -> None:
            try:
                await asyncio.wait_for(self.context.terminated.wait(),
                                       self.config.keep_alive_timeout)
            except TimeoutError:
                pass
            else:  # shutting down: a request arriving now cancels this task and is served
                await asyncio.sleep(min(self.LINGER_SECONDS, self.config.graceful_timeout))
            await asyncio.shield(self._initiate_server_close())

    return LingeringTCPServer


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
    serve.add_argument("--certfile", help="TLS certificate (PEM), with --keyfile")
    serve.add_argument("--keyfile", help="TLS private key (PEM), with --certfile")
    serve.set_defaults(handler=cmd_serve)

    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(handler=cmd_migrate)

    demo = sub.add_parser("demo", help="migrate, add demo data, and serve")
    add_serve_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="only prepare the demo data")
    demo.set_defaults(handler=cmd_demo)

    admin = sub.add_parser("create-admin", help="create an admin; prints a one-time enrollment URL")
    admin.add_argument("--name", required=True, help="the admin's full name")
    admin.add_argument("--base-url", help="the address officers open (default: KHAIBAO_BASE_URL,"
                       " else http://localhost:8000); give the demo's when it runs on another port")
    admin.set_defaults(handler=cmd_create_admin)

    purge = sub.add_parser("purge", help="delete data older than the retention period now")
    purge.set_defaults(handler=cmd_purge)

    backup = sub.add_parser("backup", help="copy the live database to PATH (safe while serving)")
    backup.add_argument("path", help="the backup file to write")
    backup.set_defaults(handler=cmd_backup)

    restore = sub.add_parser("restore", help="replace the database with the backup at PATH")
    restore.add_argument("path", help="a file written by 'khaibao backup'")
    restore.set_defaults(handler=cmd_restore)

    regions = sub.add_parser("import-regions", help="load the region tree")
    regions.add_argument("--vietnam", action="store_true",
                         help="provinces and wards from the vietnam-provinces package")
    regions.add_argument("file", nargs="?", help="villages CSV: ward_code,name,kind")
    regions.set_defaults(handler=cmd_import_regions)

    insurance = sub.add_parser("import-insurance", help="load the health-insurance registry")
    insurance.add_argument("file", help="CSV: bhyt,full_name,birth_year,sex[,address,region]")
    insurance.set_defaults(handler=cmd_import_insurance)

    declarations = sub.add_parser(
        "import-declarations",
        help="merge health and arrival declarations from another system (JSON lines)")
    declarations.add_argument("file", help="JSON lines in the API's schema (/api/schema)")
    declarations.set_defaults(handler=cmd_import_declarations)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from khaibao.core import log_setup

    log_setup.configure(
        json_lines=os.environ.get("KHAIBAO_LOG_JSON", "").strip().lower() in {"1", "true", "yes"})
    if getattr(args, "base_url", None):
        os.environ["KHAIBAO_BASE_URL"] = args.base_url
    elif getattr(args, "port", None) and not os.environ.get("KHAIBAO_BASE_URL"):
        # A local server on another port: keep the base URL (WebAuthn origin, QR URLs) in step.
        os.environ["KHAIBAO_BASE_URL"] = f"http://localhost:{args.port}"
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        return _fail(str(error), 2)
    try:
        return args.handler(settings, args)
    except DatabaseUnavailable as error:
        return _fail(f"the database is unavailable: {error}")
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
