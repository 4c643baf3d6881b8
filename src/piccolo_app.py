"""Piccolo app registration: where migrations live and which tables they cover."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from khaibao.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="khaibao",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=list(ALL_TABLES),
    migration_dependencies=[],
    commands=[],
)
