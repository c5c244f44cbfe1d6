"""
Hostile statuses through the IRC bot end to end (a real ngircd, a real
client): no control character reaches the channel (no CTCP, colour or
terminal escape), and a line break in a status cannot smuggle an IRC command.
"""

from __future__ import annotations

import re

from tests.helpers.irc import IRCClient

HOSTILE = "red\x1b[31m \x1b]0;title\x07 \x01ACTION waves\x01 \x02bold\x03 4colour \x9b2J"
INJECTION = "fine\r\nQUIT :injected\r\nPRIVMSG #finger :smuggled"
CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def test_hostileStatusesReachIRCWithoutControls(startFinger, ircServer):
    bot = startFinger(
        "--memory", "--user", f"mallory={HOSTILE}", "--user", f"eve={INJECTION}",
        "--user", "alice=Happy and well",
        "--finger", "none", "--setter", "none", "--web", "none", "--pb", "none",
        "--irc-server", f"tcp:127.0.0.1:{ircServer.port}", "--irc-channel", "#finger",
        expect=(),
    )
    bot.waitForLog(r"irc bot joined #finger as fingerbot")
    tester = IRCClient(ircServer.port, "tester")
    try:
        tester.say("fingerbot", "mallory")
        reply = tester.nextFrom("fingerbot")
        assert not CONTROLS.search(reply.params[1]), repr(reply.params[1])
        assert reply.params == ["tester", "mallory: red[31m ]0;title ACTION waves bold 4colour 2J"]

        tester.say("fingerbot", "eve")
        lines = [tester.nextFrom("fingerbot").params[1] for _ in range(3)]
        assert lines == ["eve: fine", "eve: QUIT :injected", "eve: PRIVMSG #finger :smuggled"]

        tester.say("fingerbot", "alice")  # the bot is still there, not QUIT
        assert tester.nextFrom("fingerbot").params == ["tester", "alice: Happy and well"]
    finally:
        tester.close()
    assert "Traceback" not in bot.log
