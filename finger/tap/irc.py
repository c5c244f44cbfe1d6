"""The IRC bot's options of C{twistd finger}, and the bot built from them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from twisted.application import service
from twisted.internet.interfaces import IReactorTime
from twisted.python import usage

from finger.adapt import frontend
from finger.coerce import positiveSeconds
from finger.frontends.irc import (
    DEFAULT_NICK,
    IFingerIRCFactory,
    IRCEndpointError,
    IRCSettings,
    channelProblem,
    makeIRCService,
    nickProblem,
)
from finger.interfaces import IFingerService
from finger.reactors import globalReactor
from finger.tap.errors import StartupError

if TYPE_CHECKING:
    from finger.tap import Options

MAX_PASSWORD_FILE = 4096  # Bytes; a password is one short line.


class IRCOptions(usage.Options):
    """The IRC bot's options of C{twistd finger} (mixed into L{finger.tap.Options})."""

    optFlags = [
        ["irc-announce", None,
         "Post status changes to the IRC bot's channels (alice is now: ...), "
         "at most 4 a minute."],
    ]
    optParameters = [
        ["irc-server", None, None,
         "Run the IRC bot: a client endpoint string, e.g. tcp:irc.example.org:6667 or "
         "tls:irc.example.org:6697 (add :trustRoots=DIR for a private CA)."],
        ["irc-password", None, None,
         "The IRC server's password, if it needs one (visible in ps; see --irc-password-file)."],
        ["irc-password-file", None, None,
         "Read the IRC server's password from this file at start-up "
         "(one line; keep the file private)."],
        ["irc-max-retry-delay", None, 60.0,
         "Longest wait between the IRC bot's reconnection attempts, in seconds.", positiveSeconds],
    ]

    def opt_irc_nick(self, nick: str) -> None:
        """The IRC bot's nickname (default fingerbot)."""
        problem = nickProblem(nick)
        if problem:
            raise usage.UsageError(f"--irc-nick {nick!r}: {problem}")
        self["irc-nick"] = nick

    def opt_irc_channel(self, channel: str) -> None:
        """A channel for the IRC bot to join (repeatable)."""
        problem = channelProblem(channel)
        if problem:
            raise usage.UsageError(f"--irc-channel {channel!r}: {problem}")
        self.setdefault("irc-channels", []).append(channel)


def ircPassword(options: usage.Options) -> str | None:
    """
    The server password: C{--irc-password}, or the contents of
    C{--irc-password-file} without its trailing line end, read now (at
    start-up, before twistd drops privileges, so the file may be root's).
    """
    path = options.get("irc-password-file")
    if path is None:
        password: str | None = options["irc-password"]
        return password
    if options["irc-password"] is not None:
        raise StartupError("give --irc-password or --irc-password-file, not both")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PASSWORD_FILE + 1)
    except OSError as e:
        raise StartupError(f"cannot read the IRC password file {path}: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise StartupError(f"the IRC password file {path} is not UTF-8 text") from None
    if len(data) > MAX_PASSWORD_FILE or re.search(r"[\r\n\x00]", text):
        raise StartupError(f"the IRC password file {path} must hold just the password, on one line")
    if not text:
        raise StartupError(f"the IRC password file {path} is empty")
    return text


def addIRCBot(
    top: service.MultiService,
    backend: IFingerService,
    options: Options,
    reactor: IReactorTime | None = None,
) -> None:
    """Add the IRC bot to C{top} if the options name a server."""
    description = options["irc-server"]
    channels = tuple(options.get("irc-channels", ()))
    if not description:
        if channels:
            raise StartupError("--irc-channel needs --irc-server")
        if options.get("irc-password-file"):
            raise StartupError("--irc-password-file needs --irc-server")
        if options.get("irc-announce"):
            raise StartupError("--irc-announce needs --irc-server and --irc-channel")
        return
    if options.get("irc-announce") and not channels:
        raise StartupError("--irc-announce needs at least one --irc-channel")
    if reactor is None:
        reactor = globalReactor()
    settings = IRCSettings(
        nickname=options.get("irc-nick", DEFAULT_NICK),
        channels=channels,
        password=ircPassword(options),
        queryLog=options.queryLog,
        clock=reactor,
        announce=bool(options.get("irc-announce")),
    )
    factory = frontend(IFingerIRCFactory, backend, settings)
    try:
        bot = makeIRCService(factory, description, reactor, options["irc-max-retry-delay"])
    except OSError as e:
        raise StartupError(
            f"cannot use IRC server {description!r}: {e.filename or ''}: {e.strerror or e}"
        ) from None
    except IRCEndpointError as e:
        raise StartupError(f"bad IRC server endpoint {description!r}: {e}") from None
    bot.setServiceParent(top)
