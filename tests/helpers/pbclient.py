"""
The classic Perspective Broker client, for the end-to-end tests:

    python pbclient.py PORT STEPS_JSON

STEPS is a list of steps run in order on one connection, each printed as
one JSON line:
  ["call", METHOD, ARG...]  callRemote; prints {"ok": result} or
                            {"remote": class name, "message": text} or
                            {"local": exception class} or {"lost": text}
  ["reconnect"]             a new connection and root object
  ["unlimited"]             raise this client's Banana size limit, as a
                            hostile client would, to send huge messages
  ["login", NAME, SECRET]   root.callRemote("login", ...); keeps the account
                            object it returns; prints {"ok": "logged in"} or
                            the error as for "call"
  ["account", METHOD, ARG...]  callRemote on that account object
  ["pause"]                 prints {"paused": true} and waits for a line on
                            stdin (the test changes something meanwhile),
                            keeping the connection
PORT may be tls:HOST:PORT:CAFILE: PB over TLS, verifying the server as HOST
with the CA in CAFILE.
An ARG {"repeat": VALUE, "times": N} stands for [VALUE] * N (or VALUE * N
for a string VALUE), so huge arguments need no huge command line.
"""

import json
import sys

from twisted.internet import defer, task, threads
from twisted.spread import banana, pb


def expand(arg):
    if isinstance(arg, dict) and "repeat" in arg:
        value = arg["repeat"]
        return value * arg["times"] if isinstance(value, str) else [value] * arg["times"]
    return arg


@defer.inlineCallbacks
def connect(reactor, port):
    factory = pb.PBClientFactory()
    if str(port).startswith("tls:"):
        from twisted.internet import ssl

        _, host, number, cafile = str(port).split(":", 3)
        with open(cafile) as f:
            authority = ssl.Certificate.loadPEM(f.read())
        options = ssl.optionsForClientTLS(host, trustRoot=authority)
        reactor.connectSSL("127.0.0.1", int(number), factory, options)
    else:
        reactor.connectTCP("127.0.0.1", int(port), factory)
    root = yield factory.getRootObject()
    return root


@defer.inlineCallbacks
def callOn(target, method, args):
    try:
        result = yield target.callRemote(method, *[expand(a) for a in args])
        return {"ok": result}
    except pb.RemoteError as e:
        remoteType = e.remoteType
        if isinstance(remoteType, bytes):
            remoteType = remoteType.decode()
        message = e.args[1] if len(e.args) > 1 else str(e)
        return {"remote": remoteType, "message": message}
    except pb.PBConnectionLost as e:
        return {"lost": str(e)}
    except Exception as e:
        return {"local": type(e).__name__, "message": str(e)}


@defer.inlineCallbacks
def main(reactor, port, steps):
    root = yield connect(reactor, port)
    account = None
    for step in json.loads(steps):
        kind, *rest = step
        if kind == "reconnect":
            root = yield connect(reactor, port)
            print(json.dumps({"reconnected": True}), flush=True)
        elif kind == "pause":
            print(json.dumps({"paused": True}), flush=True)
            yield threads.deferToThread(sys.stdin.readline)
        elif kind == "unlimited":
            banana.SIZE_LIMIT = 100 * 1024 * 1024
        elif kind == "login":
            outcome = yield callOn(root, "login", rest)
            if "ok" in outcome:
                account, outcome = outcome["ok"], {"ok": "logged in"}
            print(json.dumps(outcome), flush=True)
        elif kind == "account":
            method, *args = rest
            outcome = yield callOn(account, method, args)
            print(json.dumps(outcome), flush=True)
        elif kind == "call":
            method, *args = rest
            try:
                result = yield root.callRemote(method, *[expand(a) for a in args])
                outcome = {"ok": result}
            except pb.RemoteError as e:
                remoteType = e.remoteType
                if isinstance(remoteType, bytes):
                    remoteType = remoteType.decode()
                message = e.args[1] if len(e.args) > 1 else str(e)
                outcome = {"remote": remoteType, "message": message}
            except pb.PBConnectionLost as e:
                outcome = {"lost": str(e)}
            except Exception as e:
                outcome = {"local": type(e).__name__, "message": str(e)}
            print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    task.react(main, sys.argv[1:])
