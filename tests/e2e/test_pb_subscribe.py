"""PB observers end to end: the classic PB client subscribes, is called, and is dropped."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.helpers.pb import BAD_CALL, pbClient
from tests.helpers.support import LOOPBACK0, REPO, serviceEnvironment, setStatus

OBSERVER = REPO / "tests" / "helpers" / "pbobserver.py"


@pytest.fixture
def service(startFinger):
    return startFinger(
        "--memory", "--user", "alice=Happy",
        "--finger", "none", "--setter", LOOPBACK0, "--pb", LOOPBACK0, "--timeout", "2",
        expect=("pb", "setter"),
    )


def observe(port: int, *mode: str) -> subprocess.Popen:
    observer = subprocess.Popen(
        [sys.executable, str(OBSERVER), str(port), *mode],
        env=serviceEnvironment(), stdout=subprocess.PIPE,
    )
    assert json.loads(observer.stdout.readline()) == {"subscribed": True}
    return observer


def test_observerIsCalledAndDroppedWhenItDisconnects(service):
    observer = observe(service.port("pb"))
    try:
        assert setStatus(service.port("setter"), "alice", "Gone fishing") == "OK\r\n"
        assert json.loads(observer.stdout.readline()) == {"name": "alice", "status": "Gone fishing"}
        # Subscribed connections outlive the idle timeout (--timeout 2).
        service.waitForLog(r"pb query 'subscribe' from 127\.0\.0\.1:\d+: subscribed")
        time.sleep(3)
        assert setStatus(service.port("setter"), "bob", "still called") == "OK\r\n"
        assert json.loads(observer.stdout.readline()) == {"name": "bob", "status": "still called"}
    finally:
        observer.kill()
        observer.wait()
    service.waitForLog(r"pb query 'subscribe' from 127\.0\.0\.1:\d+: ended: the client went away")
    assert setStatus(service.port("setter"), "alice", "after") == "OK\r\n"
    assert "Traceback" not in service.log


def test_anObserverThatStopsReadingIsCutOff(service):
    observer = observe(service.port("pb"), "block")
    try:
        for n in range(80):  # more than 64 calls left unanswered
            assert setStatus(service.port("setter"), "alice", str(n)) == "OK\r\n"
        service.waitForLog(r"PB observer of 127\.0\.0\.1:\d+ cut off: 64 statusChanged calls unanswered")
        service.waitForLog(r"pb query 'subscribe' from .*: ended: cut off")
    finally:
        observer.kill()
        observer.wait()


def test_subscribeWantsAnObserver(service):
    [answer] = pbClient(service.port("pb"), ["call", "subscribe", "not an observer"])
    assert answer["remote"] == BAD_CALL
    assert "subscribe wants a Referenceable observer, not str" in answer["message"]
