"""finger.peercred: the kernel's word on who is at the other end of a UNIX socket."""

import os
import socket

from twisted.internet.testing import StringTransport

from finger.peercred import PeerCredentials, peerCredentials


class Handle:
    def __init__(self, handle):
        self.handle = handle

    def getHandle(self):
        return self.handle


def test_aUnixSocketPeerIsThisProcess():
    server, client = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with server, client:
        credentials = peerCredentials(Handle(server))
    assert credentials == PeerCredentials(os.getpid(), os.geteuid(), os.getegid())


def test_otherTransportsHaveNone():
    assert peerCredentials(StringTransport()) is None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        assert peerCredentials(Handle(tcp)) is None
    closed, other = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    closed.close()
    other.close()
    assert peerCredentials(Handle(closed)) is None


def test_describeNamesTheAccount():
    assert PeerCredentials(1, 0, 0).describe() == "uid 0 (root)"
    assert PeerCredentials(1, 3_999_999, 0).describe() == "uid 3999999"
    assert PeerCredentials(1, 0, 0).isRoot and not PeerCredentials(1, 1, 1).isRoot
