"""
The IRC bot end to end: a real C{twistd -n finger} bot on a real ngircd,
queried by a real IRC client connection.
"""

from __future__ import annotations

import pytest

from tests.helpers.irc import IRCClient, makeCertificates, startNgircd
from tests.helpers.support import runTwistd

USERS = ("--user", "alice=Happy and well", "--user", "bob=Out to lunch")


@pytest.fixture
def clients():
    opened: list[IRCClient] = []

    def connect(port: int, nick: str, **kwargs) -> IRCClient:
        client = IRCClient(port, nick, **kwargs)
        opened.append(client)
        return client

    yield connect
    for client in opened:
        client.close()


def startBot(startFinger, endpoint: str, *extra: str):
    return startFinger(
        "--memory", *USERS,
        "--finger", "none",
        "--setter", "none",
        "--irc-server", endpoint,
        "--irc-max-retry-delay", "1",
        *extra,
        expect=(),
    )


def test_botAnswersPrivatelyAndWhenAddressed(startFinger, ircServer, clients):
    bot = startBot(startFinger, f"tcp:127.0.0.1:{ircServer.port}", "--irc-channel", "#finger")
    bot.waitForLog(r"irc bot joined #finger as fingerbot")
    tester = clients(ircServer.port, "tester")
    tester.join("#finger")

    tester.say("fingerbot", "alice")
    reply = tester.nextFrom("fingerbot")
    assert reply.params == ["tester", "alice: Happy and well"]

    tester.say("fingerbot", "nobody")
    assert tester.nextFrom("fingerbot").params == ["tester", "No such user: nobody"]

    tester.say("#finger", "bob")  # not addressed: no answer...
    tester.say("#finger", "fingerbot: alice")  # ...so the next answer is this one
    assert tester.nextFrom("fingerbot").params == ["#finger", "alice: Happy and well"]
    tester.say("#finger", "fingerbot, bob")
    assert tester.nextFrom("fingerbot").params == ["#finger", "bob: Out to lunch"]

    bot.waitForLog(r"irc query 'alice' from tester!~tester@127\.0\.0\.1 in #finger: found")
    bot.waitForLog(r"irc query 'bob' from tester!~tester@127\.0\.0\.1 in #finger: found")
    assert bot.log.count("irc query 'bob'") == 1  # the unaddressed one was not a query


def test_secondBotWithTheSameNickGetsAnAlternative(startFinger, ircServer, clients):
    endpoint = f"tcp:127.0.0.1:{ircServer.port}"
    first = startBot(startFinger, endpoint, "--irc-channel", "#finger")
    first.waitForLog(r"irc bot joined #finger as fingerbot")
    second = startBot(startFinger, endpoint, "--irc-channel", "#finger")
    second.waitForLog(r"nickname fingerbot is in use; trying fingerbo1")
    second.waitForLog(r"irc bot joined #finger as fingerbo1")

    tester = clients(ircServer.port, "tester")
    tester.join("#finger")
    tester.say("#finger", "fingerbo1: alice")
    reply = tester.nextFrom("fingerbo1")
    assert reply.params == ["#finger", "alice: Happy and well"]
    tester.say("fingerbo1", "bob")
    assert tester.nextFrom("fingerbo1").params == ["tester", "bob: Out to lunch"]
    tester.say("fingerbot", "bob")
    assert tester.nextFrom("fingerbot").params == ["tester", "bob: Out to lunch"]


def test_botReconnectsAfterTheServerRestarts(startFinger, ircServer, clients):
    bot = startBot(startFinger, f"tcp:127.0.0.1:{ircServer.port}", "--irc-channel", "#finger")
    bot.waitForLog(r"irc bot joined #finger as fingerbot")
    tester = clients(ircServer.port, "tester")
    tester.say("fingerbot", "alice")
    assert tester.nextFrom("fingerbot").params == ["tester", "alice: Happy and well"]

    ircServer.stop()
    bot.waitForLog(r"irc bot lost its connection")
    bot.waitForLog(r"irc bot cannot connect to tcp:127\.0\.0\.1:\d+: .*refused")
    ircServer.start()
    bot.waitFor(lambda: bot.log.count("irc bot joined #finger as fingerbot") >= 2, 60, "rejoin")

    again = clients(ircServer.port, "tester2")
    again.say("fingerbot", "bob")
    assert again.nextFrom("fingerbot").params == ["tester2", "bob: Out to lunch"]


def test_passwordFromAFileNotTheCommandLine(startFinger, tmp_path, clients):
    server = startNgircd(tmp_path, password="open-sesame")
    try:
        passwordFile = tmp_path / "irc-password"
        passwordFile.write_text("open-sesame\n")
        passwordFile.chmod(0o600)
        endpoint = f"tcp:127.0.0.1:{server.port}"
        bot = startBot(startFinger, endpoint, "--irc-password-file", str(passwordFile))
        bot.waitForLog(r"irc bot signed on as fingerbot")
        # What ps shows: the file's name, not the password.
        commandLine = open(f"/proc/{bot.process.pid}/cmdline", "rb").read()
        assert b"open-sesame" not in commandLine and str(passwordFile).encode() in commandLine
        tester = clients(server.port, "tester", password="open-sesame")
        tester.say("fingerbot", "alice")
        assert tester.nextFrom("fingerbot").params == ["tester", "alice: Happy and well"]
    finally:
        server.stop()


def test_tlsVerifiesTheCertificateAndHostname(startFinger, tmp_path, clients):
    ca, cert, key = makeCertificates(tmp_path, "localhost")
    server = startNgircd(tmp_path, tls=(cert, key))
    try:
        port = server.tlsPort
        good = startBot(
            startFinger, f"tls:localhost:{port}:trustRoots={ca}", "--irc-nick", "tlsbot"
        )
        wrongHost = startBot(
            startFinger, f"tls:127.0.0.1:{port}:trustRoots={ca}", "--irc-nick", "wronghost"
        )
        unknownCA = startBot(startFinger, f"tls:localhost:{port}", "--irc-nick", "unknownca")
        good.waitForLog(r"irc bot signed on as tlsbot")
        tester = clients(server.port, "tester")
        tester.say("tlsbot", "alice")
        assert tester.nextFrom("tlsbot").params == ["tester", "alice: Happy and well"]

        wrongHost.waitForLog(r"irc bot lost its connection: .*(Mismatch|mismatch|match)")
        unknownCA.waitForLog(r"irc bot lost its connection: .*certificate verify failed")
        # Each bot retried at least once, with backoff, and never signed on.
        wrongHost.waitFor(lambda: wrongHost.log.count("irc bot lost its connection") >= 2)
        unknownCA.waitFor(lambda: unknownCA.log.count("irc bot lost its connection") >= 2)
        assert "signed on" not in wrongHost.log + unknownCA.log
    finally:
        server.stop()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--irc-server", "tcp:localhost"], "finger: bad IRC server endpoint 'tcp:localhost'"),
        (["--irc-server", "tls:localhost:6697:trustRoots=/nonexistent"], "cannot use IRC server"),
        (["--irc-server", "tcp:localhost:6667", "--irc-nick", "9lives"], "--irc-nick '9lives'"),
        (
            ["--irc-server", "tcp:localhost:6667", "--irc-channel", "finger"],
            "--irc-channel 'finger'",
        ),
    ],
)
def test_badIRCOptionsStopStartUpWithAClearMessage(tmp_path, args, message):
    done = runTwistd(["--memory", "--finger", "none", "--setter", "none", *args], tmp_path)
    output = (done.stdout + done.stderr).decode()
    assert done.returncode == 1
    assert message in output, output
    assert "Traceback" not in output


def test_announcesStatusChangesInItsChannel(startFinger, ircServer, clients):
    from tests.helpers.support import LOOPBACK0, setStatus

    bot = startFinger(
        "--memory", *USERS,
        "--finger", "none",
        "--setter", LOOPBACK0,
        "--irc-server", f"tcp:127.0.0.1:{ircServer.port}",
        "--irc-channel", "#finger",
        "--irc-announce",
        expect=("setter",),
    )
    bot.waitForLog(r"irc bot joined #finger as fingerbot")
    tester = clients(ircServer.port, "tester")
    tester.join("#finger")
    setter = bot.port("setter")
    assert setStatus(setter, "alice", "Gone fishing") == "OK\r\n"
    assert tester.nextFrom("fingerbot").params == ["#finger", "alice is now: Gone fishing"]
    # A burst: the budget (4 a minute) has room for three more; bob's
    # changes coalesce while they wait, and the last one wins.
    for name, status in [("bob", "b1"), ("carol", "c1"), ("dave", "d1"), ("bob", "b2"),
                         ("erin", "e1"), ("bob", "b3")]:
        assert setStatus(setter, name, status) == "OK\r\n"
    said = [tester.nextFrom("fingerbot").params[1] for _ in range(3)]
    assert said == ["bob is now: b1", "carol is now: c1", "dave is now: d1"]
    # Nothing more within the minute (erin and bob's last status wait).
    tester.say("fingerbot", "alice")  # a private answer goes out at once
    reply = tester.nextFrom("fingerbot")
    assert reply.params == ["tester", "alice: Gone fishing"]
