"""`khaibao create-admin` prints a link that opens on the server the admin will use."""

import os
import subprocess
import sys


def _khaibao(tmp_path, *args: str) -> str:
    env = {**os.environ, "KHAIBAO_DATABASE_URL": f"sqlite:///{tmp_path / 'admin.sqlite3'}"}
    env.pop("KHAIBAO_BASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "khaibao.cli", *args], env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_the_enrollment_link_follows_base_url(tmp_path):
    _khaibao(tmp_path, "migrate")
    default = _khaibao(tmp_path, "create-admin", "--name", "Trần Thị Bình")
    assert default.startswith("http://localhost:8000/can-bo/dang-ky/")
    other_port = _khaibao(tmp_path, "create-admin", "--name", "Lê Văn Cường",
                          "--base-url", "http://localhost:8765")
    assert other_port.startswith("http://localhost:8765/can-bo/dang-ky/")
