"""finger.listen: endpoint strings, and errors naming the endpoint and the fix."""

from __future__ import annotations

import errno
import socket

import pytest
from twisted.application import service
from twisted.internet import defer
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import Logger, formatEvent

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


class Endpoint:
    """An endpoint whose listen() returns the Deferred the test controls."""

    def __init__(self, result=None) -> None:
        self.result = result
        self.cancelled = False
        self.calls = 0

    def listen(self, factory):
        self.calls += 1
        if self.result is not None:
            return self.result
        self.result = defer.Deferred(lambda d: setattr(self, "cancelled", True))
        return self.result


def test_listensOnceLogsAndStops():
    reactor = MemoryReactorClock()
    endpoint = TCP4ServerEndpoint(reactor, 0)
    listener = ListeningService("finger", "tcp:0", endpoint, Factory())
    events = []
    listener.log = Logger(observer=events.append)
    listener.privilegedStartService()
    listener.startService()
    assert len(reactor.tcpServers) == 1  # not twice
    ports = []
    listener.whenListening().addCallback(ports.append)
    (port,) = ports
    assert port.getHost().port == 0
    assert reactor.tcpServers[0][1] is listener.factory
    assert [formatEvent(e) for e in events] == ["finger listening on 0.0.0.0:0 (tcp:0)"]
    stopped = []
    listener.stopService().addCallback(stopped.append)
    assert stopped == [None] and not listener.running


def test_startServiceListensIfNotListeningYet():
    endpoint = Endpoint()
    listener = ListeningService("web", "x", endpoint, Factory())
    listener.startService()
    assert endpoint.calls == 1 and listener.running


def test_stoppingBeforeListeningCancels():
    endpoint = Endpoint()
    listener = ListeningService("web", "x", endpoint, Factory())
    listener.privilegedStartService()
    listener.startService()
    stopped = []
    listener.stopService().addCallback(stopped.append)
    assert endpoint.cancelled and stopped == [None] and not listener.running


def test_otherSynchronousFailuresAreRaisedAsTheyAre():
    endpoint = Endpoint(defer.fail(ZeroDivisionError("no")))
    listener = ListeningService("web", "x", endpoint, Factory())
    with pytest.raises(ZeroDivisionError):
        listener.privilegedStartService()


def test_laterFailuresAreLogged():
    endpoint = Endpoint()
    listener = ListeningService("web", "x", endpoint, Factory())
    events = []
    listener.log = Logger(observer=events.append)
    listener.privilegedStartService()
    endpoint.result.errback(ZeroDivisionError("later"))
    assert [formatEvent(e) for e in events] == ["web cannot listen"]
    assert events[0]["log_failure"].check(ZeroDivisionError)
    results = []
    listener.whenListening().addCallback(results.append)
    assert results == [None]


def test_whenListeningNeedsAStartedListener():
    listener = ListeningService("web", "x", Endpoint(), Factory())
    with pytest.raises(RuntimeError, match="the web listener is not started"):
        listener.whenListening()
