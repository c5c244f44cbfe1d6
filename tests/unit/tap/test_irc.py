"""The --irc-* options and how makeService adds the IRC bot (finger.tap.irc)."""

import pytest
from twisted.application.internet import ClientService

from finger import tap
from finger.frontends.irc import FingerBotFactory, IRCBotService, IRCSettings
from finger.tap.errors import StartupError


def parse(*args: str) -> tap.Options:
    options = tap.Options()
    options.parseOptions(["--memory", "--finger", "none", "--setter", "none", *args])
    return options


def test_ircIsOffByDefault():
    top = tap.makeService(parse("--pb", "none"))
    assert [s for s in top if isinstance(s, ClientService)] == []


def test_ircOptionsReachTheBot():
    top = tap.makeService(
        parse(
            "--pb", "none",
            "--irc-server", "tcp:irc.example.org:6667",
            "--irc-nick", "statusbot",
            "--irc-channel", "#finger",
            "--irc-channel", "&local",
            "--irc-password", "sesame",
        )
    )
    [bot] = [s for s in top if isinstance(s, ClientService)]
    assert isinstance(bot, IRCBotService)
    factory = bot.botFactory
    assert isinstance(factory, FingerBotFactory)
    settings = factory.settings
    assert (settings.nickname, settings.channels, settings.password) == (
        "statusbot",
        ("#finger", "&local"),
        "sesame",
    )
    from twisted.internet import reactor

    assert settings.clock is reactor and factory.clock is reactor
    assert settings.queryLog is not None and settings.queryLog.enabled


def test_ircDefaultsAndTheQueryLog():
    top = tap.makeService(
        parse("--pb", "none", "--irc-server", "tcp:irc.example.org:6667", "--no-log-queries")
    )
    [bot] = [s for s in top if isinstance(s, ClientService)]
    settings = bot.botFactory.settings
    assert (settings.nickname, settings.channels, settings.password) == ("fingerbot", (), None)
    assert settings.lineRate == IRCSettings().lineRate
    assert settings.queryLog.enabled is False


@pytest.mark.parametrize(
    "args, message",
    [
        (["--irc-server", "tcp:h:1", "--irc-channel", "finger"], "a channel name starts with"),
        (["--irc-server", "tcp:h:1", "--irc-channel", "#a,#b"], "no spaces, commas"),
        (["--irc-server", "tcp:h:1", "--irc-nick", "finger bot"], "a nickname starts with"),
        (["--irc-max-retry-delay", "0"], "positive"),
    ],
)
def test_badIRCOptions(args, message):
    with pytest.raises(StartupError, match=message):
        parse(*args)


def test_badIRCEndpointIsAStartupError():
    with pytest.raises(StartupError, match="bad IRC server endpoint 'tcp:nowhere'"):
        tap.makeService(parse("--pb", "none", "--irc-server", "tcp:nowhere"))


def test_channelWithoutServerIsAStartupError():
    with pytest.raises(StartupError, match="--irc-channel needs --irc-server"):
        tap.makeService(parse("--pb", "none", "--irc-channel", "#finger"))


def botPassword(*args: str) -> str | None:
    top = tap.makeService(parse("--pb", "none", "--irc-server", "tcp:irc.example.org:6667", *args))
    [bot] = [s for s in top if isinstance(s, ClientService)]
    return bot.botFactory.settings.password


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_ircPasswordFileIsReadWithoutTheLineEnd(tmp_path, ending):
    path = tmp_path / "irc-password"
    path.write_bytes(f"open sesame \u00e9{ending}".encode())
    assert botPassword("--irc-password-file", str(path)) == "open sesame \u00e9"


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "cannot read the IRC password file {path}: No such file or directory"),
        (b"\n", "the IRC password file {path} is empty"),
        (b"first\nsecond\n", "the IRC password file {path} must hold just the password, on one line"),
        (b"x" * 5000, "the IRC password file {path} must hold just the password, on one line"),
        (b"caf\xe9\n", "the IRC password file {path} is not UTF-8 text"),
    ],
)
def test_badIRCPasswordFileIsAStartupError(tmp_path, content, message):
    path = tmp_path / "irc-password"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(StartupError) as caught:
        botPassword("--irc-password-file", str(path))
    assert str(caught.value) == "finger: " + message.format(path=path)


def test_ircPasswordFileConflictsAndNeedsAServer(tmp_path):
    path = tmp_path / "irc-password"
    path.write_text("sesame\n")
    with pytest.raises(StartupError, match="give --irc-password or --irc-password-file, not both"):
        botPassword("--irc-password", "x", "--irc-password-file", str(path))
    with pytest.raises(StartupError, match="--irc-password-file needs --irc-server"):
        tap.makeService(parse("--pb", "none", "--irc-password-file", str(path)))

