"""
The Debian package, end to end: build it with dpkg-buildpackage from a copy
of the checkout, install it with apt-get, upgrade it over an edited conffile,
run the installed service the way its units do (socket activation on port
79, as the service user), ask it with the real finger client, then remove
and purge it and check that nothing is left behind.

There is no systemd here: systemd-socket-activate binds the socket unit's
port and setpriv becomes the unit's User/Group, then the unit's ExecStart
runs with the options from /etc/default/finger (see systemdunits.py).
"""

import grp
import os
import pwd
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.support import REPO, FingerProcess, port79Lock, setStatus
from tests.helpers.systemdunits import (
    activationAddresses,
    applySocketMode,
    asServiceUser,
    listenStreams,
    one,
    parseEnvironmentFile,
    parseUnit,
    procStatus,
    serviceCommand,
    socketActivate,
    withoutDefaultListeners,
)

pytestmark = [
    pytest.mark.deb,
    pytest.mark.skipif(os.geteuid() != 0, reason="installing a package needs root"),
]

PACKAGE = "twisted-finger"
# Debian's own tools and Python, whatever virtualenv or pyenv this runs in.
CLEAN_ENVIRONMENT = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
}
# Wait for a dpkg lock held by someone else rather than fail.
APT_GET = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=600"]
DIST_PACKAGES = Path("/usr/lib/python3/dist-packages")
PLUGINS = DIST_PACKAGES / "twisted" / "plugins"
UNITS = Path("/lib/systemd/system")
SERVICE_USER = "_finger"
ADMIN_LINE = "dave: Edited by the admin"
ADMIN_OPTIONS = (
    'FINGER_OPTS="--store=/var/lib/finger/statuses.db --file=/etc/finger/users '
    '--setter=tcp:0:interface=127.0.0.1"'
)

# Everything the package puts on the system (conffiles included), and what
# its maintainer scripts create besides.
LEFTOVERS = [
    Path("/etc/finger"),
    Path("/etc/default/finger"),
    DIST_PACKAGES / "finger",
    PLUGINS / "finger_plugin.py",
    UNITS / "finger.socket",
    UNITS / "finger.service",
    Path("/etc/systemd/system/sockets.target.wants/finger.socket"),
    Path("/var/lib/finger"),
    Path("/var/log/finger"),  # made by systemd (LogsDirectory=) when the service runs
]


def run(command: list[str], cwd: Path | None = None, timeout: float = 600) -> str:
    """Run a command with Debian's tools; fail with its output if it fails."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env=CLEAN_ENVIRONMENT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=timeout,
    )
    output = result.stdout.decode("utf-8", "replace")
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{output}"
    return output


def ignoreInCopy(directory: str, names: list[str]) -> set[str]:
    """Leave out what is not source: git, virtualenvs, build products, caches."""
    top = Path(directory) == REPO
    skipped = {".git", ".venv", "build", "dist", ".pybuild", ".pytest_cache", ".hypothesis"}
    return {
        name
        for name in names
        if (top and name in skipped)
        or name in ("__pycache__", "dropin.cache")
        or name.endswith((".pyc", ".egg-info"))
    }


def buildPackage(source: Path) -> Path:
    """dpkg-buildpackage in C{source}; return the .deb it wrote beside it."""
    before = set(source.parent.glob(f"{PACKAGE}_*_all.deb"))
    run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=source)
    [deb] = set(source.parent.glob(f"{PACKAGE}_*_all.deb")) - before
    return deb


def addChangelogEntry(source: Path, version: str) -> None:
    changelog = source / "debian" / "changelog"
    entry = (
        f"{PACKAGE} ({version}) unstable; urgency=medium\n\n"
        "  * Test upgrade.\n\n"
        " -- The finger developers <finger@example.org>  Sun, 22 Nov 2026 12:00:00 +0000\n\n"
    )
    changelog.write_text(entry + changelog.read_text())


def installedStatus() -> str:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, env=CLEAN_ENVIRONMENT
    )
    return result.stdout.decode()


def purge() -> None:
    if installedStatus() not in ("", "unknown ok not-installed"):
        run([*APT_GET, "purge", PACKAGE])


def removeServiceUser() -> None:
    """Remove the _finger account a previous installation left, if any."""
    if subprocess.run(["getent", "passwd", SERVICE_USER], capture_output=True).returncode == 0:
        run(["deluser", "--quiet", "--system", SERVICE_USER])
    if subprocess.run(["getent", "group", SERVICE_USER], capture_output=True).returncode == 0:
        run(["delgroup", "--quiet", "--system", SERVICE_USER])


def rebuildPluginCache() -> None:
    """Rebuild Twisted's plugin cache as python3-twisted's trigger does."""
    (PLUGINS / "dropin.cache").unlink(missing_ok=True)
    command = "from twisted.plugin import IPlugin, getPlugins; list(getPlugins(IPlugin))"
    run(["python3", "-c", command], cwd=Path("/"))


def pluginCacheMentionsFinger() -> bool:
    cache = PLUGINS / "dropin.cache"
    return cache.exists() and b"finger_plugin" in cache.read_bytes()


@pytest.fixture
def debs(tmp_path):
    """Two versions of the package, built from copies of this checkout."""
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=ignoreInCopy)
    first = buildPackage(source)
    addChangelogEntry(source, "0.1.0+upgrade1")
    second = buildPackage(source)
    return first, second


@pytest.fixture
def cleanSystem():
    """
    The package is not installed before the test (nor is the user its
    postinst creates, and Twisted's plugin cache is fresh), and it is purged
    after the test (the user stays, as the package leaves it).
    """
    purge()
    removeServiceUser()
    rebuildPluginCache()
    yield
    purge()


def runInstalledService(helpText: str) -> dict[str, str]:
    """
    Start the installed service as finger.socket + finger.service would;
    with Debian's finger client ask it for dave (from the users file), and
    for dave's web page on the web socket, set
    erin's status through the setter (stored in the state directory), ask
    for erin.  Return the answers.
    """
    service = parseUnit(UNITS / "finger.service")
    socketUnit = parseUnit(UNITS / "finger.socket")
    environmentFile = Path(one(service, "Service", "EnvironmentFile").lstrip("-"))
    command = serviceCommand(service, parseEnvironmentFile(environmentFile))
    command = asServiceUser(service, withoutDefaultListeners(command, helpText))
    # finger on its real port (the client knows no other), the rest anywhere.
    port, *_ = listenStreams(socketUnit)
    assert port == "79"
    sockets = Path(tempfile.mkdtemp(prefix="finger-deb-"))
    sockets.chmod(0o755)  # the UNIX ones (the local setter's) in a fresh directory
    addresses = [f"127.0.0.1:{port}", *activationAddresses(socketUnit, sockets)[1:]]
    serviceUser = pwd.getpwnam(one(service, "Service", "User"))
    answers = {}

    with port79Lock():
        process = FingerProcess(
            [], cwd=Path("/"), expect=(), command=socketActivate(socketUnit, addresses, command)
        )
        try:
            process.waitForLog(r"^Listening on 127\.0\.0\.1:79 as 3\.$")
            applySocketMode(socketUnit, addresses)
            # The first connection starts the service, which answers it.
            answers["dave"] = run(["finger", "dave@127.0.0.1"], timeout=60)
            process.waitForLog(r"finger query 'dave' from 127\.0\.0\.1:\d+: found")
            # Debian's twistd and Python ran the code: the environment (and
            # so this checkout's PYTHONPATH) does not reach the service.
            assert "twistd 22.4" in process.log and "(/usr/bin/python3 3." in process.log
            assert "finger listening on 127.0.0.1:79 (systemd:" in process.log
            status = procStatus(process.process.pid)
            assert status["Uid"] == [str(serviceUser.pw_uid)] * 4
            assert status["Gid"] == [str(serviceUser.pw_gid)] * 4
            assert status["NoNewPrivs"] == ["1"]
            assert status["CapEff"] == ["0000000000000000"]

            # The web socket (the unit's second ListenStream), with the
            # templates from the installed package.
            with urllib.request.urlopen(f"http://{addresses[1]}/dave", timeout=60) as response:
                answers["web dave"] = response.read().decode()
            process.waitFor(lambda: "setter" in process.ports, what="the setter")
            answers["set erin"] = setStatus(process.port("setter"), "erin", "Stored by _finger")
            answers["erin"] = run(["finger", "erin@127.0.0.1"], timeout=60)
        finally:
            process.stop()
    return answers


def test_debianPackageLifecycle(debs, cleanSystem):
    first, second = debs
    assert not pluginCacheMentionsFinger()

    # Install.
    run([*APT_GET, "install", str(first)])
    assert installedStatus() == "install ok installed"
    fields = run(["dpkg-query", "-W", "-f=${Provides}|${Conflicts}|${Replaces}", PACKAGE])
    assert fields == "finger-server|finger-server|finger-server"
    # What systemd would make for the service (there is none here).
    logs = Path("/var/log/finger")
    logs.mkdir(exist_ok=True)
    (logs / "finger.log").write_text("a log line\n")
    for path in LEFTOVERS:
        assert path.exists(), path
    assert pluginCacheMentionsFinger()  # python3-twisted's trigger rebuilt the cache
    serviceUser = pwd.getpwnam(SERVICE_USER)  # a system account that cannot log in
    assert serviceUser.pw_uid < 1000 and serviceUser.pw_shell == "/usr/sbin/nologin"
    assert serviceUser.pw_dir == "/nonexistent" and not Path("/nonexistent").exists()
    assert grp.getgrgid(serviceUser.pw_gid).gr_name == SERVICE_USER
    stateDirectory = os.stat("/var/lib/finger")
    assert (stateDirectory.st_uid, stateDirectory.st_mode & 0o777) == (serviceUser.pw_uid, 0o750)
    helpText = run(["/usr/bin/twistd3", "finger", "--help"], cwd=Path("/"))
    assert "--file=" in helpText
    for unit in ("finger.socket", "finger.service"):
        for link in parseUnit(UNITS / unit)["Unit"]["Documentation"]:
            assert Path(link.removeprefix("file://")).is_file(), (unit, link)
    assert Path("/usr/share/doc/twisted-finger/examples/finger.tac").is_file()
    assert Path("/usr/bin/finger-set").is_file()  # the console scripts (pyproject)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(UNITS / "finger.socket"), str(UNITS / "finger.service")],
        capture_output=True,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, b"")

    # The admin edits the conffiles: a user, and a SQLite store in the state
    # directory before the users file (the setter on a free port, for the
    # test).  An upgrade keeps the edits.
    users = Path("/etc/finger/users")
    users.write_text(users.read_text() + ADMIN_LINE + "\n")
    defaults = Path("/etc/default/finger")
    defaults.write_text(defaults.read_text() + ADMIN_OPTIONS + "\n")
    run([*APT_GET, "install", str(second)])
    assert installedStatus() == "install ok installed"
    assert "0.1.0+upgrade1" in run(["dpkg-query", "-W", "-f=${Version}", PACKAGE])
    assert ADMIN_LINE in users.read_text()
    assert ADMIN_OPTIONS in defaults.read_text()

    # The installed service answers on port 79, running as _finger, and
    # keeps what is set in its state directory.
    answers = runInstalledService(helpText)
    webPage = answers.pop("web dave")
    assert "<title>" in webPage and "Edited by the admin" in webPage
    assert answers == {
        "dave": "Edited by the admin\n",
        "set erin": "OK\r\n",
        "erin": "Stored by _finger\n",
    }
    database = os.stat("/var/lib/finger/statuses.db")
    assert database.st_uid == serviceUser.pw_uid

    # Removing keeps the configuration; the plugin and its cache entry go.
    run([*APT_GET, "remove", PACKAGE])
    assert users.exists() and defaults.exists()
    assert not (PLUGINS / "finger_plugin.py").exists()
    assert not (DIST_PACKAGES / "finger").exists()
    assert not pluginCacheMentionsFinger()

    # Purging removes everything the package and its scripts created.
    run([*APT_GET, "purge", PACKAGE])
    assert installedStatus() in ("", "unknown ok not-installed")
    assert [path for path in LEFTOVERS if path.exists() or path.is_symlink()] == []
    assert list(PLUGINS.glob("__pycache__/finger_plugin.*")) == []
    assert list(DIST_PACKAGES.glob("twisted_finger-*")) == []
    assert list(Path("/var/lib/systemd/deb-systemd-helper-enabled").rglob("finger.*")) == []
    assert not pluginCacheMentionsFinger()
