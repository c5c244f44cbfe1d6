"""
The baseline for the finger benchmark: a bare Twisted LineReceiver that
answers one query from a dict and closes, with no logging, limits or
timeouts.

    python bench/bare_server.py USERS_FILE

Prints C{listening on PORT} (a free loopback port) and serves until killed.
"""

from __future__ import annotations

import sys

from twisted.internet import endpoints, protocol, reactor
from twisted.protocols.basic import LineReceiver


class BareFinger(LineReceiver):
    def lineReceived(self, line: bytes) -> None:
        status = self.factory.users.get(line.decode("utf-8", "replace"), "No such user")
        self.transport.write(status.encode("utf-8") + b"\r\n")
        self.transport.loseConnection()


def main(path: str) -> None:
    users = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            name, sep, status = line.partition(":")
            if sep:
                users[name.strip()] = status.strip()
    factory = protocol.ServerFactory.forProtocol(BareFinger)
    factory.users = users
    factory.noisy = False
    endpoint = endpoints.serverFromString(reactor, sys.argv[2] if len(sys.argv) > 2 else "tcp:0:interface=127.0.0.1")

    def listening(port):
        print(f"listening on {port.getHost().port}", flush=True)

    endpoint.listen(factory).addCallback(listening)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1])
