"""
A classic Perspective Broker observer, for the end-to-end tests:

    python pbobserver.py PORT [block]

It subscribes an observer to the root and prints one JSON line per
C{statusChanged} call ({"name": ..., "status": ...}), after {"subscribed": true}.
With C{block}, the first call blocks the client for good (it never reads
again), as a hung client would.
"""

import json
import sys
import time

from twisted.internet import defer, task
from twisted.spread import pb


class Observer(pb.Referenceable):
    def __init__(self, block: bool) -> None:
        self.block = block

    def remote_statusChanged(self, name, status):
        print(json.dumps({"name": name, "status": status}), flush=True)
        if self.block:
            time.sleep(3600)


@defer.inlineCallbacks
def main(reactor, port, mode=""):
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", int(port), factory)
    root = yield factory.getRootObject()
    yield root.callRemote("subscribe", Observer(mode == "block"))
    print(json.dumps({"subscribed": True}), flush=True)
    yield defer.Deferred()  # until killed


if __name__ == "__main__":
    task.react(main, sys.argv[1:])
