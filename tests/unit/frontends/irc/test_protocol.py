"""Unit tests of the IRC bot's rules, with StringTransport and Clock."""

from __future__ import annotations

from twisted.internet import task
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends.irc import (
    IDLE_TIMEOUT,
    MAX_QUEUED_LINES,
    MAX_REPLY_LINES,
    FingerBot,
    IFingerIRCFactory,
    IRCSettings,
    roomForText,
)
from finger.querylog import QueryLog

TESTER = ":tester!~tester@127.0.0.1"


class RecordingQueryLog(QueryLog):
    def __init__(self) -> None:
        super().__init__(True)
        self.records: list[tuple[str, str, str, str]] = []

    def record(self, frontend, peer, query, outcome, started) -> None:
        self.records.append((frontend, peer, query, outcome))


class BotTestCase(TestCase):
    users = {"alice": "Happy and well", "carol": "line one\nline two"}
    lineRate: float | None = None

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.queryLog = RecordingQueryLog()
        self.backend = MemoryFingerService(self.users)
        settings = IRCSettings(
            nickname="fingerbot",
            channels=("#finger",),
            lineRate=self.lineRate,
            queryLog=self.queryLog,
            clock=self.clock,
        )
        self.factory = frontend(IFingerIRCFactory, self.backend, settings)
        self.bot = self.factory.buildProtocol(None)
        self.transport = StringTransport()
        self.bot.makeConnection(self.transport)
        self.addCleanup(self.disconnect)

    def disconnect(self) -> None:
        if not self.bot.ended:
            self.bot.connectionLost(Failure(ConnectionDone()))

    def signOn(self, nick: str = "fingerbot") -> None:
        self.receive(f":irc.test 001 {nick} :Welcome")
        self.transport.clear()

    def receive(self, *lines: str) -> None:
        self.bot.dataReceived("".join(f"{line}\r\n" for line in lines).encode("utf-8"))

    def sent(self) -> list[str]:
        """The lines the bot wrote since the last call."""
        data = self.transport.value().decode("utf-8")
        self.transport.clear()
        return [line for line in data.split("\r\n") if line]


class RegistrationTests(BotTestCase):
    def test_registersAndJoins(self):
        self.assertIsInstance(self.bot, FingerBot)
        self.assertEqual(self.sent(), ["NICK fingerbot", "USER finger foo bar :finger status bot"])
        self.receive(":irc.test 001 fingerbot :Welcome")
        self.assertEqual(self.sent(), ["JOIN #finger"])

    def test_passwordIsSentFirst(self):
        settings = IRCSettings(password="sesame", clock=self.clock, lineRate=None)
        bot = frontend(IFingerIRCFactory, self.backend, settings).buildProtocol(None)
        transport = StringTransport()
        bot.makeConnection(transport)
        self.addCleanup(bot.connectionLost, Failure(ConnectionDone()))
        self.assertEqual(transport.value().split(b"\r\n")[0], b"PASS sesame")

    def test_nickCollisionPicksAnAlternativeThatKeepsWorking(self):
        self.sent()
        self.receive(":irc.test 433 * fingerbot :Nickname already in use")
        self.assertEqual(self.sent(), ["NICK fingerbo1"])
        self.receive(":irc.test 433 * fingerbo1 :Nickname already in use")
        self.assertEqual(self.sent(), ["NICK fingerbo2"])
        self.signOn("fingerbo2")
        self.assertEqual(self.bot.nickname, "fingerbo2")
        self.receive(f"{TESTER} PRIVMSG #finger :fingerbot: alice")
        self.assertEqual(self.sent(), [])
        self.receive(f"{TESTER} PRIVMSG #finger :fingerbo2: alice")
        self.assertEqual(self.sent(), ["PRIVMSG #finger :alice: Happy and well"])

    def test_tooLongNickIsShortenedThenGivenUp(self):
        self.bot.nickname = "averyveryverylongnick"
        self.bot.setNick("averyveryverylongnick")
        self.sent()
        self.receive(":irc.test 432 * averyveryverylongnick :Erroneous Nickname")
        self.assertEqual(self.sent(), ["NICK averyvery"])
        self.receive(":irc.test 432 * averyvery :Erroneous Nickname")
        self.assertTrue(self.transport.disconnecting)

    def test_refusedNickAfterSigningOnIsIgnored(self):
        self.signOn()
        self.receive(":irc.test 432 fingerbot bad-nick :Erroneous Nickname")
        self.assertEqual(self.sent(), [])
        self.assertFalse(self.transport.disconnecting)

    def test_refusedPasswordDisconnectsWithoutTraceback(self):
        self.receive(":irc.test 464 * :Password incorrect")
        self.assertTrue(self.transport.disconnecting)
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_silentServerIsLeftAfterIdleTimeout(self):
        self.signOn()
        self.clock.advance(120)
        self.assertEqual(self.sent(), ["PING irc.test"])  # the heartbeat
        self.receive(":irc.test PONG irc.test :irc.test")
        self.clock.advance(IDLE_TIMEOUT - 1)
        self.assertFalse(self.transport.disconnected)
        self.clock.advance(2)
        self.assertTrue(self.transport.disconnected)

    def test_heartbeatRunsOnTheBotsClock(self):
        self.signOn()
        for _ in range(3):
            self.clock.advance(120)
            self.assertEqual(self.sent(), ["PING irc.test"])
            self.receive(":irc.test PONG irc.test :irc.test")

    def test_connectionLostLeavesNothingScheduled(self):
        self.signOn()
        self.assertNotEqual(self.clock.getDelayedCalls(), [])
        self.disconnect()
        self.assertEqual(self.clock.getDelayedCalls(), [])


class QueryTests(BotTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.signOn()

    def test_privateQuery(self):
        self.receive(f"{TESTER} PRIVMSG fingerbot :alice")
        self.assertEqual(self.sent(), ["PRIVMSG tester :alice: Happy and well"])
        self.assertEqual(
            self.queryLog.records, [("irc", "tester!~tester@127.0.0.1", "alice", "found")]
        )

    def test_unknownUser(self):
        self.receive(f"{TESTER} PRIVMSG fingerbot : bob ")
        self.assertEqual(self.sent(), ["PRIVMSG tester :No such user: bob"])
        self.assertEqual(self.queryLog.records[-1][3], "no such user")

    def test_multiLineStatus(self):
        self.receive(f"{TESTER} PRIVMSG fingerbot :carol")
        self.assertEqual(
            self.sent(), ["PRIVMSG tester :carol: line one", "PRIVMSG tester :carol: line two"]
        )

    def test_channelAnswersOnlyWhenAddressed(self):
        addressed = ("fingerbot: alice", "fingerbot, alice", "FingerBot:alice", "FINGERBOT,  alice")
        for text in addressed:
            self.receive(f"{TESTER} PRIVMSG #finger :{text}")
            self.assertEqual(self.sent(), ["PRIVMSG #finger :alice: Happy and well"], text)
        notAddressed = ("alice", "fingerbotx: alice", "hey fingerbot: alice", "fingerbot alice")
        for text in notAddressed + ("fingerbot",):
            self.receive(f"{TESTER} PRIVMSG #finger :{text}")
            self.assertEqual(self.sent(), [], text)
        self.assertEqual(self.queryLog.records[0][1], "tester!~tester@127.0.0.1 in #finger")

    def test_controlCharactersStripped(self):
        self.backend.setUser("mallory", "red\x1b[31m alert\x07\x00 \x9b2J")
        self.receive(f"{TESTER} PRIVMSG fingerbot :mallory")
        self.assertEqual(self.sent(), ["PRIVMSG tester :mallory: red[31m alert 2J"])

    def test_noticesAreNeverAnswered(self):
        self.receive(
            f"{TESTER} NOTICE fingerbot :alice",
            f"{TESTER} NOTICE #finger :fingerbot: alice",
            f"{TESTER} NOTICE fingerbot :",
            f"{TESTER} NOTICE fingerbot :\x01VERSION\x01",
        )
        self.assertEqual(self.sent(), [])
        self.assertEqual(self.queryLog.records, [])

    def test_ctcpQueriesAreIgnored(self):
        self.receive(
            f"{TESTER} PRIVMSG fingerbot :\x01VERSION\x01",
            f"{TESTER} PRIVMSG fingerbot :\x01PING 1\x01",
        )
        self.assertEqual(self.sent(), [])

    def test_nonNamesGetOneHintAndNoLoop(self):
        """
        Another bot echoing our replies back gets one NOTICE (which bots
        must not answer), then silence: no loop.
        """
        other = ":otherbot!~bot@10.0.0.1"
        self.receive(f"{other} PRIVMSG fingerbot :alice: Happy and well")
        [hint] = self.sent()
        self.assertTrue(hint.startswith("NOTICE otherbot :Send me one user name"), hint)
        for _ in range(3):
            self.receive(f"{other} PRIVMSG fingerbot :No such user: bob")
            self.assertEqual(self.sent(), [])
        self.assertEqual(self.queryLog.records[-1][3], "refused: the name contains ' '")

    def test_ownMessagesIgnored(self):
        self.receive(":fingerbot!~finger@127.0.0.1 PRIVMSG fingerbot :alice")
        self.assertEqual(self.sent(), [])

    def test_nonUTF8LineKeepsTheConnection(self):
        self.bot.dataReceived(b":tester!~t@h PRIVMSG fingerbot :caf\xe9\r\n")
        self.receive(f"{TESTER} PRIVMSG fingerbot :alice")
        self.assertFalse(self.transport.disconnecting)
        self.assertEqual(self.sent()[-1], "PRIVMSG tester :alice: Happy and well")


class BudgetTests(BotTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.signOn()

    def test_fastSenderIsIgnoredWithOneNotice(self):
        for _ in range(5):
            self.receive(f"{TESTER} PRIVMSG fingerbot :alice")
        self.assertEqual(len(self.sent()), 5)
        self.receive(f"{TESTER} PRIVMSG fingerbot :alice")
        self.assertEqual(
            self.sent(), ["NOTICE tester :You are asking too fast; I will ignore you for a while."]
        )
        for _ in range(20):
            self.clock.advance(1)  # still asking once a second: still ignored
            self.receive(f"{TESTER} PRIVMSG fingerbot :alice")
        self.assertEqual(self.sent(), [])
        self.receive(":bob!~bob@10.0.0.2 PRIVMSG fingerbot :alice")
        self.assertEqual(self.sent(), ["PRIVMSG bob :alice: Happy and well"])
        self.clock.advance(10)  # a quiet window
        self.receive(f"{TESTER} PRIVMSG fingerbot :alice")
        self.assertEqual(self.sent(), ["PRIVMSG tester :alice: Happy and well"])

    def test_budgetAllowsASteadyPace(self):
        for _ in range(12):
            self.receive(f"{TESTER} PRIVMSG fingerbot :alice")
            self.clock.advance(2.5)
        self.assertEqual(len(self.sent()), 12)


class SplittingTests(BotTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.signOn()

    def test_longStatusFitsIn512BytesWithPrefix(self):
        status = "€uro " * 250  # 1500 bytes
        self.backend.setUser("dora", status)
        self.receive(f"{TESTER} PRIVMSG #finger :fingerbot: dora")
        lines = self.sent()
        self.assertGreater(len(lines), 2)
        relayedPrefix = ":fingerbot!~finger@" + "h" * 63 + " "
        texts = []
        for line in lines:
            self.assertTrue(line.startswith("PRIVMSG #finger :dora: "), line)
            self.assertLessEqual(len((relayedPrefix + line + "\r\n").encode("utf-8")), 512)
            texts.append(line[len("PRIVMSG #finger :dora: ") :])
        self.assertEqual("".join(texts), status)
        room = roomForText("fingerbot", "PRIVMSG", "#finger") - len(b"dora: ")
        self.assertGreater(len(texts[0].encode("utf-8")), room - 3)

    def test_veryLongStatusIsCut(self):
        self.backend.setUser("erin", "x" * 10_000)
        self.receive(f"{TESTER} PRIVMSG fingerbot :erin")
        lines = self.sent()
        self.assertEqual(len(lines), MAX_REPLY_LINES)
        self.assertRegex(lines[-1], r"^PRIVMSG tester :erin: \[\d+ more lines not shown\]$")


class LineRateTests(BotTestCase):
    """Pacing runs on the bot's clock (no global reactor, no IRCClient queue)."""

    lineRate = 0.5

    def setUp(self) -> None:
        super().setUp()
        self.assertEqual(self.sent(), ["NICK fingerbot"])  # registration is paced too
        self.clock.advance(0.5)
        self.assertEqual(self.sent(), ["USER finger foo bar :finger status bot"])
        self.clock.advance(0.5)
        self.signOn()
        self.clock.advance(0.5)  # the JOIN went first

    def test_outgoingLinesArePaced(self):
        self.receive(f"{TESTER} PRIVMSG fingerbot :carol", f"{TESTER} PRIVMSG fingerbot :alice")
        self.assertEqual(self.sent(), ["PRIVMSG tester :carol: line one"])
        self.clock.advance(0.5)
        self.assertEqual(self.sent(), ["PRIVMSG tester :carol: line two"])
        self.clock.advance(0.5)
        self.assertEqual(self.sent(), ["PRIVMSG tester :alice: Happy and well"])

    def test_queueIsBounded(self):
        for n in range(200):
            self.receive(f":user{n}!~u@10.0.0.{n} PRIVMSG fingerbot :carol")
        self.assertLessEqual(self.bot.pacer.waiting, MAX_QUEUED_LINES + MAX_REPLY_LINES)
        self.assertGreaterEqual(self.bot.pacer.waiting, MAX_QUEUED_LINES)
        outcomes = [record[3] for record in self.queryLog.records]
        self.assertIn("dropped: too many answers waiting to be sent", outcomes)
        self.assertEqual(outcomes.count("found"), MAX_QUEUED_LINES // 2 + 1)

    def test_queueBoundIsASetting(self):
        self.disconnect()
        settings = IRCSettings(
            lineRate=0.5, maxQueuedLines=3, queryLog=self.queryLog, clock=self.clock
        )
        bot = frontend(IFingerIRCFactory, self.backend, settings).buildProtocol(None)
        bot.makeConnection(StringTransport())
        self.addCleanup(bot.connectionLost, Failure(ConnectionDone()))
        self.clock.advance(1)  # NICK, USER
        bot.dataReceived(b":irc.test 001 fingerbot :Welcome\r\n")
        self.clock.advance(0.5)  # JOIN
        for n in range(5):
            bot.dataReceived(f":user{n}!~u@h PRIVMSG fingerbot :carol\r\n".encode())
        outcomes = [record[3] for record in self.queryLog.records]
        self.assertEqual(outcomes[:2], ["found", "found"])
        self.assertEqual(set(outcomes[2:]), {"dropped: too many answers waiting to be sent"})

    def test_heartbeatIsPacedToo(self):
        self.clock.advance(119.5)  # 120 s after signing on
        self.receive(f"{TESTER} PRIVMSG fingerbot :carol")
        self.assertEqual(self.sent(), ["PING irc.test"])
        self.clock.advance(0.5)
        self.assertEqual(self.sent(), ["PRIVMSG tester :carol: line one"])
