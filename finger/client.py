"""
A finger client: the library function L{finger} and the command
C{python -m finger.client [-l] [--8bit] user@host[:port]}.

The client connects, sends the query and a CRLF, and reads until the server
closes.  One deadline covers connecting and reading, and the reply is capped,
so a server that never answers, or never stops answering, costs only this
query.  Failures are L{FingerClientError}s whose message names the server.
"""

from __future__ import annotations

import io
import re
import sys
from typing import Any

from twisted.internet import defer, endpoints, error, protocol
from twisted.internet.abstract import isIPv6Address
from twisted.internet.interfaces import IAddress, IReactorTime, IStreamClientEndpoint, ITCPTransport
from twisted.python import usage
from twisted.python.failure import Failure

from finger.reactors import globalReactor

DEFAULT_PORT = 79
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_SIZE = 1024 * 1024


class FingerClientError(Exception):
    """A finger query failed; the message says why, naming the server."""


class ConnectionRefused(FingerClientError):
    """The server refused the connection (nothing listens there)."""


class TimedOut(FingerClientError):
    """The server did not finish answering before the deadline."""


class ReplyTooLarge(FingerClientError):
    """The server sent more than the size cap; the connection was cut."""


class ConnectFailed(FingerClientError):
    """Any other failure to connect or to read the whole reply."""


def formatAddress(host: str, port: int) -> str:
    """C{host:port}, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_HOSTNAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?")


def parseHostPort(text: str, defaultPort: int = DEFAULT_PORT) -> tuple[str, int]:
    """
    Parse C{host}, C{host:port}, C{[v6]}, C{[v6]:port} or a bare IPv6
    address into C{(host, port)}; raise C{ValueError} with a reason.
    """
    port = str(defaultPort)
    if text.startswith("["):
        host, bracket, after = text[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise ValueError(f"bad host {text!r}")
        port = after[1:] if after else port
        valid = isIPv6Address(host)
    elif text.count(":") > 1:
        host = text
        valid = isIPv6Address(host)
    else:
        host, colon, after = text.partition(":")
        port = after if colon else port
        valid = bool(_HOSTNAME.fullmatch(host))
    if not valid:
        raise ValueError(f"bad host {text!r}")
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"bad port in {text!r}")
    return host, int(port)


class _Exchange(protocol.Protocol):
    """Sends one query, collects the reply up to C{maxSize} bytes."""

    transport: ITCPTransport | None

    def __init__(self, request: bytes, maxSize: int, address: str) -> None:
        self.request = request
        self.maxSize = maxSize
        self.address = address
        self.chunks: list[bytes] = []
        self.size = 0
        self.error: FingerClientError | None = None
        self.finished: defer.Deferred[bytes] = defer.Deferred(lambda d: self.abort(None))

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(self.request)

    def dataReceived(self, data: bytes) -> None:
        if self.error is not None:
            return
        self.size += len(data)
        if self.size > self.maxSize:
            self.abort(ReplyTooLarge(f"{self.address} sent more than {self.maxSize} bytes"))
            return
        self.chunks.append(data)

    def abort(self, reason: FingerClientError | None) -> None:
        """Stop reading now; the query fails with C{reason} (if not cancelled)."""
        self.error = reason or ConnectFailed("cancelled")
        self.chunks = []
        assert self.transport is not None  # only aborted once connected
        self.transport.abortConnection()

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if self.finished.called:
            return  # Cancelled by the caller.
        if self.error is not None:
            self.finished.errback(self.error)
        elif reason.check(error.ConnectionDone):
            self.finished.callback(b"".join(self.chunks))
        else:
            self.finished.errback(
                ConnectFailed(f"{self.address} closed the connection abnormally: "
                              f"{reason.getErrorMessage()}")
            )


class _ExchangeFactory(protocol.Factory):
    """Builds the one exchange of a query, quietly (no start/stop log lines)."""

    noisy = False

    def __init__(self, exchange: _Exchange) -> None:
        self.exchange = exchange

    def buildProtocol(self, addr: IAddress | None) -> _Exchange:
        return self.exchange


def queryEndpoint(
    endpoint: IStreamClientEndpoint,
    query: str,
    address: str,
    timeout: float = DEFAULT_TIMEOUT,
    maxSize: int = DEFAULT_MAX_SIZE,
    clock: IReactorTime | None = None,
) -> defer.Deferred[str]:
    """
    Finger through any client endpoint (L{finger} uses a
    C{HostnameEndpoint}); C{address} names the server in error messages.
    C{clock} times the deadline; C{None} is the global reactor.
    """
    if clock is None:
        clock = globalReactor()
    if "\r" in query or "\n" in query:
        return defer.fail(ValueError("a finger query is one line; it cannot contain CR or LF"))
    exchange = _Exchange(query.encode("utf-8") + b"\r\n", maxSize, address)
    timedOut = TimedOut(f"{address} did not answer within {timeout:g} seconds")
    state = {"timedOut": False}

    def onTimeout() -> None:
        state["timedOut"] = True
        if exchange.transport is None:
            connecting.cancel()
        else:
            exchange.abort(timedOut)

    def connectFailed(failure: Failure) -> Failure:
        if state["timedOut"]:
            raise timedOut
        if failure.check(error.ConnectionRefusedError):
            raise ConnectionRefused(f"{address} refused the connection")
        if failure.check(error.DNSLookupError):
            raise ConnectFailed(f"{address}: unknown host")
        if failure.check(defer.CancelledError, error.ConnectingCancelledError):
            raise defer.CancelledError()  # cancelled by the caller, whether connected or not
        raise ConnectFailed(f"cannot connect to {address}: {failure.getErrorMessage()}")

    def stopTimer(result: object) -> object:
        if timer.active():
            timer.cancel()
        return result

    timer = clock.callLater(timeout, onTimeout)
    connecting = endpoint.connect(_ExchangeFactory(exchange))
    reply: defer.Deferred[Any] = connecting.addCallbacks(lambda _: exchange.finished, connectFailed)
    reply.addBoth(stopTimer)
    return reply.addCallback(lambda data: data.decode("utf-8", "replace"))


def finger(
    query: str,
    host: str,
    port: int = DEFAULT_PORT,
    timeout: float = DEFAULT_TIMEOUT,
    maxSize: int = DEFAULT_MAX_SIZE,
    reactor: Any = None,
) -> defer.Deferred[str]:
    """
    Send C{query} (one line, e.g. C{"alice"}, C{""} for the list, C{"/W alice"})
    to the finger server at C{host:port}; fire with its whole reply, decoded
    as UTF-8 (invalid bytes replaced).

    Fails with L{ConnectionRefused}, L{TimedOut} (C{timeout} seconds for
    connecting and reading together), L{ReplyTooLarge} (more than C{maxSize}
    bytes) or L{ConnectFailed}; cancelling the Deferred closes the connection.

    C{reactor} connects and times the deadline (it must provide
    C{IReactorTCP} and C{IReactorTime}); C{None} is the global reactor.
    """
    if reactor is None:
        reactor = globalReactor()
    endpoint = endpoints.HostnameEndpoint(reactor, host, port)
    return queryEndpoint(endpoint, query, formatAddress(host, port), timeout, maxSize, reactor)


# Terminal hygiene (RFC 1288 section 3.3)

_LINE_END = re.compile(r"\r\n|\r|\n")


def _safeCharacter(character: str, eightBit: bool) -> str:
    code = ord(character)
    if 0x20 <= code < 0x7F or character == "\t":
        return character
    if code < 0x20:
        return "^" + chr(code + 0x40)  # ESC shows as ^[ (caret notation)
    if code == 0x7F:
        return "^?"
    if eightBit and code >= 0xA0 and character.isprintable():
        return character
    return "?"


def terminalSafe(text: str, eightBit: bool = False) -> str:
    """
    Make a reply safe to print: keep printable ASCII, TAB and line ends (any
    style, turned into newlines); show other control characters in caret
    notation (ESC as C{^[}) and anything else as C{?}.  With C{eightBit},
    printable non-ASCII text is kept too (C1 controls and invisible format
    characters still are not).
    """
    lines = _LINE_END.split(text)
    return "\n".join(
        "".join(_safeCharacter(c, eightBit) for c in line) for line in lines
    )


# The command


class ClientOptions(usage.Options):
    """The command line of C{python -m finger.client}."""

    synopsis = "Usage: python -m finger.client [-l] [--8bit] [user]@host[:port]"
    longdesc = (
        "Finger a user (user@host) or list everyone (@host); host:port and "
        "[ipv6]:port choose another port.  user@h1@h2 asks h2 to forward the "
        "query to h1.  Control characters in the reply are shown as ^X."
    )
    optFlags = [
        ["long", "l", "Ask for the long (verbose, /W) form."],
        ["8bit", "8", "Show printable non-ASCII text (the reply is read as UTF-8)."],
    ]
    optParameters = [
        ["timeout", "t", DEFAULT_TIMEOUT, "Seconds for connecting and reading.", float],
        ["max-size", None, DEFAULT_MAX_SIZE, "Largest reply accepted, in bytes.", int],
    ]

    def parseArgs(self, *arguments: str) -> None:
        """Take the one C{[user]@host[:port]} argument."""
        if len(arguments) != 1:
            raise usage.UsageError("Wrong number of arguments.")
        (target,) = arguments
        user, sep, hostPort = target.rpartition("@")
        if not sep:
            user, hostPort = target, "localhost"
        try:
            self["host"], self["port"] = parseHostPort(hostPort)
        except ValueError as e:
            raise usage.UsageError(str(e)) from None
        if "\r" in user or "\n" in user:
            raise usage.UsageError("the user name cannot contain line breaks")
        self["query"] = f"/W {user}".rstrip() if self["long"] else user

    def postOptions(self) -> None:
        if not self["timeout"] > 0:
            raise usage.UsageError("--timeout must be above zero")
        if not self["max-size"] > 0:
            raise usage.UsageError("--max-size must be above zero")


def _main(reactor: Any, options: ClientOptions) -> defer.Deferred[None]:
    d = finger(
        options["query"],
        options["host"],
        options["port"],
        timeout=options["timeout"],
        maxSize=options["max-size"],
        reactor=reactor,
    )

    def show(reply: str) -> None:
        text = terminalSafe(reply, eightBit=options["8bit"])
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        sys.stdout.flush()

    def failed(failure: Failure) -> None:
        failure.trap(FingerClientError)
        sys.stderr.write(f"finger: {failure.getErrorMessage()}\n")
        raise SystemExit(1)

    return d.addCallbacks(show, failed)


def main(argv: list[str] | None = None) -> None:
    """The C{python -m finger.client} command."""
    from twisted.internet import task

    options = ClientOptions()
    try:
        options.parseOptions(sys.argv[1:] if argv is None else argv)
    except usage.UsageError as e:
        sys.stderr.write(f"{options}\nfinger: {e}\n")
        raise SystemExit(2) from None
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")
    task.react(_main, (options,))


if __name__ == "__main__":
    main()
