"""
The baseline for the web benchmark: a bare twisted.web resource returning
fixed bytes (the same body and headers as the service's page, fetched from
it by bench/run.py), from a plain C{Site} with the service's settings (the
same idle timeout, no access log), nothing else.

    python bench/bare_web.py RESPONSES_JSON

RESPONSES_JSON maps each path to C{{"headers": [[name, value], ...],
"body": text}}.  Prints C{listening on PORT} (a free loopback port) and
serves until killed.
"""

from __future__ import annotations

import json
import sys

from twisted.internet import endpoints, reactor
from twisted.web import resource, server

TIMEOUT = 60.0  # finger's --timeout default, which FingerSite uses


class Fixed(resource.Resource):
    isLeaf = True

    def __init__(self, responses: dict) -> None:
        super().__init__()
        self.responses = {
            path.encode(): ([(n.encode(), v.encode()) for n, v in r["headers"]], r["body"].encode())
            for path, r in responses.items()
        }

    def render_GET(self, request) -> bytes:
        found = self.responses.get(request.uri)
        if found is None:
            request.setResponseCode(404)
            return b"not here"
        headers, body = found
        for name, value in headers:
            request.responseHeaders.setRawHeaders(name, [value])
        return body


class QuietSite(server.Site):
    def log(self, request) -> None:
        pass  # no access log: the baseline is the bare resource


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        responses = json.load(f)
    site = QuietSite(Fixed(responses), timeout=TIMEOUT)
    site.noisy = False
    endpoint = endpoints.serverFromString(reactor, "tcp:0:interface=127.0.0.1")

    def listening(port) -> None:
        print(f"listening on {port.getHost().port}", flush=True)

    endpoint.listen(site).addCallback(listening)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1])
