"""Piccolo configuration (``PICCOLO_CONF=khaibao.piccolo_conf``).

``DB`` is looked up on every use, so it is always the engine ``khaibao.db`` configured from
the settings of this process.
"""

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(apps=["khaibao.piccolo_app"])


def __getattr__(name: str):
    if name == "DB":
        from khaibao.core import db

        return db.engine()
    raise AttributeError(name)
