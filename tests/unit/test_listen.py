"""finger.listen: endpoint strings, and errors naming the endpoint and the fix."""

from __future__ import annotations

import errno
import socket

import pytest
from twisted.application import service
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactorClock

from finger.errors import FingerConfigurationError
from finger.listen import ListenError, ListeningService, _hint, endpointDescriptions, listen


def test_endpointDescriptions():
    assert endpointDescriptions([], ["tcp:79"]) == ["tcp:79"]
    assert endpointDescriptions(["none"], ["tcp:79"]) == []
    assert endpointDescriptions(["NONE", "tcp:1"], ["tcp:79"]) == ["tcp:1"]


@pytest.mark.parametrize(
    "code, advice",
    [
        (errno.EACCES, "CAP_NET_BIND_SERVICE"),
        (errno.EADDRINUSE, "another program is using that port"),
        (errno.EADDRNOTAVAIL, "interface="),
    ],
)
def test_listenHints(code, advice):
    error = CannotListenError("", 79, OSError(code, "x"))
    assert advice in _hint(error)


def test_badEndpointIsAListenError():
    with pytest.raises(ListenError) as caught:
        listen(service.MultiService(), "finger", "tcpx:79", Factory(), reactor=MemoryReactorClock())
    assert str(caught.value).startswith("bad finger endpoint 'tcpx:79': ")
    assert not isinstance(caught.value, SystemExit)


def test_unreadableEndpointFileIsAListenError(tmp_path):
    description = f"ssl:0:privateKey={tmp_path / 'missing.pem'}"
    with pytest.raises(ListenError, match=r"^cannot use web endpoint 'ssl:0:privateKey=.*missing\.pem"):
        listen(service.MultiService(), "web", description, Factory(), reactor=MemoryReactorClock())


def test_endpointParsersOwnErrorsPassThrough(monkeypatch):
    class ParserSays(FingerConfigurationError):
        pass

    def parser(reactor, description):
        raise ParserSays("the parser's own message")

    monkeypatch.setattr("twisted.internet.endpoints.serverFromString", parser)
    with pytest.raises(ParserSays, match="^the parser's own message$"):
        listen(service.MultiService(), "https", "x:0", Factory(), reactor=MemoryReactorClock())


def test_portInUseIsAListenError():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        from twisted.internet import reactor

        top = service.MultiService()
        listener = listen(top, "finger", f"tcp:{port}:interface=127.0.0.1", Factory(), reactor=reactor)
        assert isinstance(listener, ListeningService)
        with pytest.raises(ListenError) as caught:
            top.privilegedStartService()
        assert str(caught.value) == (
            f"cannot listen for finger on 'tcp:{port}:interface=127.0.0.1': "
            "Address already in use; another program is using that port; "
            "stop it or choose another port"
        )
    finally:
        busy.close()
