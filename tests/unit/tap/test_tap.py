"""Command-line options, start-up errors and the composition in makeService."""

import os
import socket

import pytest
from twisted.logger import LogLevel, formatEvent, globalLogPublisher

from finger import tap
from finger.backends.file import FileFingerService
from finger.backends.memory import MemoryFingerService
from finger.errors import FingerConfigurationError
from finger.listen import ListeningService
from finger.tap.errors import StartupError


def parse(*args: str) -> tap.Options:
    options = tap.Options()
    options.parseOptions(list(args))
    return options


def listeners(top):
    return [(s.frontend, s.description) for s in top if isinstance(s, ListeningService)]


def test_noBackendIsAUsageError():
    with pytest.raises(StartupError, match="choose a backend"):
        parse()


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_refreshAndTimeoutMustBePositive(value):
    with pytest.raises(StartupError):
        parse("--memory", "--refresh", value)
    with pytest.raises(StartupError):
        parse("--memory", "--timeout", value)


def test_userSeedsTheMemoryBackend():
    options = parse("--user", "alice=Happy = well", "--user", "bob=")
    assert options["backends"] == [("memory", None)]
    assert options["users"] == {"alice": "Happy = well", "bob": ""}


def test_userThatIsNotUtf8IsAUsageError():
    # Python hands undecodable command-line bytes over as surrogates.
    with pytest.raises(StartupError, match="not valid UTF-8"):
        parse("--user", "alice=caf\udce9")


def test_userWithoutEqualsIsAUsageError():
    with pytest.raises(StartupError, match="NAME=STATUS"):
        parse("--user", "alice")


def test_defaultsFileBackend(tmp_path):
    users = tmp_path / "users"
    users.write_text("alice: hi\n")
    top = tap.makeService(parse("--file", str(users)))
    backend, *_ = top
    assert isinstance(backend, FileFingerService)
    # Read once at start-up; a file backend cannot be written: no setter.
    assert backend.getUser("alice").result == "hi"
    assert listeners(top) == [("finger", "tcp:79"), ("web", "tcp:8000"), ("pb", "tcp:8889")]


def test_memoryBackendGetsTheDefaultSetter(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    top = tap.makeService(parse("--memory"))
    assert isinstance(list(top)[0], MemoryFingerService)
    # The local UNIX socket; nothing listens on TCP port 1079.
    assert listeners(top) == [
        ("finger", "tcp:79"),
        ("setter", "unix:/run/finger/setter.sock:mode=0666:lockfile=1"),
        ("web", "tcp:8000"),
        ("pb", "tcp:8889"),
    ]
    setter = next(s for s in top if getattr(s, "frontend", None) == "setter")
    assert setter.factory.wrappedFactory.settings.allowUnauthenticated is False


def test_anOrdinaryUsersSetterIsInTheirRuntimeDirectory(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    top = tap.makeService(parse("--memory", "--finger", "none", "--web", "none", "--pb", "none"))
    assert listeners(top) == [("setter", f"unix:{tmp_path}/finger/setter.sock:mode=0666:lockfile=1")]
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    with pytest.raises(StartupError, match="needs root, and XDG_RUNTIME_DIR is not set"):
        tap.makeService(parse("--memory"))


def test_aTcpSetterIsOpenAndWarnsAtStartUp():
    events = []
    globalLogPublisher.addObserver(events.append)
    try:
        top = tap.makeService(parse("--memory", "--setter", "tcp:0:interface=127.0.0.1",
                                    "--setter", "unix:/nonexistent/s.sock"))
    finally:
        globalLogPublisher.removeObserver(events.append)
    warnings = [formatEvent(e) for e in events if e.get("log_level") == LogLevel.warn]
    assert warnings == [
        "setter on tcp:0:interface=127.0.0.1: anyone who can connect can set any user's "
        "status (no authentication; the local UNIX socket checks who connects: "
        "--setter unix:PATH)"
    ]
    setters = [s for s in top if getattr(s, "frontend", None) == "setter"]
    assert [s.factory.wrappedFactory.settings.allowUnauthenticated for s in setters] == [True, False]


def test_repeatableEndpointsAndNone():
    top = tap.makeService(
        parse(
            "--memory", "--finger", "tcp:7979", "--finger", "tcp:7980", "--setter", "none",
            "--pb", "none", "--web", "none",
        )
    )
    assert listeners(top) == [("finger", "tcp:7979"), ("finger", "tcp:7980")]


def test_optionsReachTheFactories():
    top = tap.makeService(parse("--memory", "--no-list", "--timeout", "5", "--no-log-queries"))
    finger = next(s for s in top if isinstance(s, ListeningService))
    assert finger.factory.wrappedFactory.settings.listUsers is False
    assert finger.factory.wrappedFactory.settings.timeout == 5
    assert finger.factory.wrappedFactory.settings.queryLog.enabled is False


def test_missingFileIsAOneLineStartupError(tmp_path):
    with pytest.raises(StartupError) as caught:
        tap.makeService(parse("--file", str(tmp_path / "nope")))
    assert str(caught.value) == f"finger: cannot read {tmp_path / 'nope'}: No such file or directory"
    assert caught.value.code == f"finger: cannot read {tmp_path / 'nope'}: No such file or directory"


def test_setterOnAReadOnlyBackendIsAStartupError(tmp_path):
    users = tmp_path / "users"
    users.write_text("alice: hi\n")
    with pytest.raises(StartupError, match="--setter needs a settable backend"):
        tap.makeService(parse("--file", str(users), "--setter", "tcp:1079"))
    # Disabling it explicitly is fine.
    tap.makeService(parse("--file", str(users), "--setter", "none"))


def test_badEndpointIsAStartupError():
    with pytest.raises(StartupError, match="bad finger endpoint 'tcpx:79'"):
        tap.makeService(parse("--memory", "--finger", "tcpx:79"))


def test_portInUseNamesTheEndpointAndTheFix():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        top = tap.makeService(parse(
                "--memory", "--setter", "none", "--web", "none", "--pb", "none",
                "--finger", f"tcp:{port}:interface=127.0.0.1",
            ))
        with pytest.raises(StartupError) as caught:
            top.privilegedStartService()
        message = str(caught.value)
        assert f"cannot listen for finger on 'tcp:{port}:interface=127.0.0.1'" in message
        assert "Address already in use" in message
        assert "choose another port" in message
    finally:
        busy.close()


def test_componentsConfigurationErrorsAreStartupErrors(monkeypatch):
    """Whatever component raises a FingerConfigurationError, makeService gives one line."""

    class TemplatesSay(FingerConfigurationError):
        pass

    def templates(directory):
        raise TemplatesSay(f"--templates {directory}: not a directory")

    monkeypatch.setattr(tap, "Templates", templates)
    with pytest.raises(StartupError) as caught:
        tap.makeService(parse("--memory", "--templates", "/nowhere"))
    assert str(caught.value) == "finger: --templates /nowhere: not a directory"
