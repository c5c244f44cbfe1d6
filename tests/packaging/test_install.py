"""The package works installed, not only from a checkout with PYTHONPATH=."""

import os
import shutil
import subprocess
import sys

from tests.helpers.support import REPO, TWISTD, FingerProcess, finger


def test_installedPackageProvidesTheTwistdPlugin(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", "tests"),
    )
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)],
        check=True,
        timeout=300,
    )
    assert (target / "twisted" / "plugins" / "finger_plugin.py").exists()
    assert not (target / "twisted" / "__init__.py").exists()
    assert (target / "finger" / "py.typed").exists()
    # Every package of the source tree is installed (pyproject.toml lists them by hand).
    packages = {p.parent.relative_to(REPO) for p in (REPO / "finger").rglob("__init__.py")}
    missing = [str(p) for p in packages if not (target / p / "__init__.py").exists()]
    assert missing == []

    # Run from elsewhere, with only the installed copy on the path.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    env["PYTHONUNBUFFERED"] = "1"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [sys.executable, "-c", "import finger; print(finger.__file__)"],
        cwd=elsewhere, env=env, capture_output=True, check=True,
    )
    assert where.stdout.decode().startswith(str(target))

    users = elsewhere / "users"
    users.write_text("alice: installed and well\n")
    service = FingerProcess(
        ["--file", str(users), "--finger", "tcp:0:interface=127.0.0.1"],
        cwd=elsewhere,
        env=env,
        command=[*TWISTD, "-n", "--pidfile=", "finger"],
    )
    try:
        assert finger(service.port(), "alice") == "installed and well\r\n"
    finally:
        service.stop()

    # The finger-admin command is installed, and runs from the installed copy.
    admin = target / "bin" / "finger-admin"
    assert admin.exists()
    made = subprocess.run(
        [str(admin), "--store", str(elsewhere / "s.db"), "adduser", "alice"],
        input="a password\n", cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60,
    )
    assert (made.returncode, made.stderr) == (0, "finger-admin: created account alice\n")
