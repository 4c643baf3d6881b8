"""The package as a deployment gets it: build the wheel, install it into a fresh virtual
environment, start its own ``khaibao serve`` and fetch /sw.js and every static file.

The fresh environment gets only the wheel; the dependencies come from the test environment's
site-packages on PYTHONPATH (no .pth runs from there, so the editable checkout stays out)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("src", "service_worker"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(dist), str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("khaibao-*.whl")
    return wheel


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_an_installed_wheel_serves_the_service_worker_and_every_static_file(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "khaibao/service_worker/sw.js" in names
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True
                          ).stdout.strip()
    with zipfile.ZipFile(wheel) as archive:  # what pip does for a pure-Python wheel
        archive.extractall(site)
    installed = Path(site) / "khaibao"
    static = sorted(p.relative_to(installed / "static").as_posix()
                    for p in (installed / "static").rglob("*")
                    if p.is_file() and p.suffix not in (".py", ".pyc"))
    expected = sorted(p.relative_to(ROOT / "src" / "static").as_posix()
                      for p in (ROOT / "src" / "static").rglob("*")
                      if p.is_file() and p.suffix not in (".py", ".pyc")
                      and "__pycache__" not in p.parts)
    assert static == expected and len(static) > 20

    port = free_port()
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"],
           "KHAIBAO_DATABASE_URL": f"sqlite:///{work / 'khaibao.sqlite3'}",
           "KHAIBAO_BASE_URL": f"http://localhost:{port}", "KHAIBAO_SMS_BACKEND": "console"}
    env.pop("KHAIBAO_TEST_DATABASE_URL", None)
    command = [str(python), "-m", "khaibao.cli"]
    located = subprocess.run([*command[:1], "-c", "import khaibao; print(khaibao.__file__)"],
                             env=env, cwd=work, check=True, capture_output=True, text=True)
    assert located.stdout.strip().startswith(str(installed))
    subprocess.run([*command, "migrate"], env=env, cwd=work, check=True, capture_output=True,
                   timeout=120)
    server = subprocess.Popen([*command, "serve", "--port", str(port)], env=env, cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(base + "/ping")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        status, body = _get(base + "/sw.js")
        assert status == 200 and b"__CACHE_VERSION__" not in body and b"caches" in body
        for path in static:
            assert _get(f"{base}/static/{path}")[0] == 200, path
    finally:
        server.terminate()
        server.wait(timeout=15)
