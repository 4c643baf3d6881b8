"""Khai Báo — health declaration and QR check-in for a Vietnamese province."""

import os

os.environ.setdefault("PICCOLO_CONF", "khaibao.piccolo_conf")

__version__ = "0.1.0"
