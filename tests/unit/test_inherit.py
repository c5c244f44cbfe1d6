"""The adopt: endpoint and the parent watch (finger.inherit)."""

from __future__ import annotations

import os
import socket

import pytest
from twisted.internet import endpoints, protocol
from twisted.internet.testing import MemoryReactor

from finger.inherit import (
    AdoptedServerEndpoint,
    AdoptError,
    ParentWatch,
    adoptDescription,
    familyName,
)


def test_descriptionRoundTripsThroughTheEndpointParser():
    reactor = MemoryReactor()
    endpoint = endpoints.serverFromString(reactor, adoptDescription(7, socket.AF_INET6))
    assert isinstance(endpoint, AdoptedServerEndpoint)
    assert (endpoint.fd, endpoint.family) == (7, socket.AF_INET6)


@pytest.mark.parametrize("description", [
    "adopt:fd=x", "adopt:fd=3:family=APPLETALK", "adopt:fd=3:color=blue",
])
def test_badDescriptionsAreClearErrors(description):
    with pytest.raises(AdoptError):
        endpoints.serverFromString(MemoryReactor(), description)


def test_unknownFamilyCannotBePassed():
    with pytest.raises(AdoptError):
        familyName(12345)


def test_listenAdoptsTheDescriptorAndClosesOurs():
    reactor = MemoryReactor()
    listening = socket.socket()
    fd = os.dup(listening.fileno())
    listening.close()
    d = AdoptedServerEndpoint(reactor, fd, socket.AF_INET).listen(protocol.ServerFactory())
    assert d.called
    assert reactor.adoptedPorts[0][0] == fd
    with pytest.raises(OSError):
        os.fstat(fd)


def test_parentWatchCallsBackAtEndOfFile():
    reactor = MemoryReactor()
    read, write = os.pipe()
    gone: list[bool] = []
    watch = ParentWatch(reactor, read, lambda: gone.append(True))
    watch.start()
    assert watch in reactor.readers
    os.write(write, b"x")
    watch.doRead()
    assert gone == []
    os.close(write)
    watch.doRead()
    assert gone == [True]
    assert watch not in reactor.readers
