"""
Unit tests of answering and of running resources' work (finger.frontends.web.respond):
an unexpected failure is logged and answered with a 500 that tells nothing.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from finger.interfaces import IFingerService
from tests.helpers.webclient import SiteClient


@implementer(IFingerService)
class FailingService:
    def getUser(self, name):
        return defer.fail(RuntimeError("disk on fire"))

    def getUsers(self):
        return defer.fail(RuntimeError("disk on fire"))


class ErrorTests(TestCase):
    def test_backendFailuresAre500sWithoutDetails(self):
        client = SiteClient(service=FailingService())
        for path in ["/", "/alice", "/api/users", "/api/users/alice"]:
            response = client.get(path)
            self.assertEqual(response.code, 500, path)
            self.assertNotIn(b"disk on fire", response.body)
        response = client.get("/.well-known/webfinger?resource=acct:a@127.0.0.1:8000", secure=True)
        self.assertEqual(response.code, 500)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 5)
