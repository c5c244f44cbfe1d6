"""Unit tests of the web frontend's URL space (finger.frontends.web.urls)."""

from __future__ import annotations

from twisted.trial.unittest import TestCase

from finger.frontends.web import urls


class UserPathTests(TestCase):
    def test_namesAreQuotedWhole(self):
        self.assertEqual(urls.userPath("alice"), "/alice")
        self.assertEqual(urls.userPath('eve"<&'), "/eve%22%3C%26")
        self.assertEqual(urls.userPath("zoë"), "/zo%C3%AB")
        self.assertEqual(urls.userPath("a/b"), "/a%2Fb")

    def test_reservedPathsAndDotSegmentsHaveNoPage(self):
        for name in ["RPC2", "api", "static", ".well-known", "soap", "login", "logout", ".", ".."]:
            self.assertIsNone(urls.userPath(name), name)
        self.assertEqual(
            urls.RESERVED, {"RPC2", "api", "static", ".well-known", "soap", "login", "logout"}
        )

    def test_listPath(self):
        self.assertEqual(urls.listPath(1), "/")
        self.assertEqual(urls.listPath(2), "/?page=2")
