"""
PB load for bench/run.py: C{CALLERS} classic clients' callers on one
connection, each calling C{getUser(NAME)} back to back for C{SECONDS};
prints {"calls": N, "seconds": S, "errors": E} as JSON.

    python bench/pbload.py PORT NAME CALLERS SECONDS
"""

import json
import sys
import time

from twisted.internet import defer, task
from twisted.spread import pb


@defer.inlineCallbacks
def main(reactor, port, name, callers, seconds):
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", int(port), factory)
    root = yield factory.getRootObject()
    counts = {"calls": 0, "errors": 0}
    started = time.monotonic()
    deadline = started + float(seconds)

    @defer.inlineCallbacks
    def caller():
        while time.monotonic() < deadline:
            try:
                yield root.callRemote("getUser", name)
                counts["calls"] += 1
            except Exception:
                counts["errors"] += 1

    yield defer.gatherResults([caller() for _ in range(int(callers))])
    counts["seconds"] = time.monotonic() - started
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    task.react(main, sys.argv[1:])
