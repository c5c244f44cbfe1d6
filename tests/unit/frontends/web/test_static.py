"""Unit tests of C{/static/} (finger.frontends.web.static), through a real FingerSite."""

from __future__ import annotations

from twisted.trial.unittest import TestCase

from finger.frontends.web.static import CACHE_CONTROL
from finger.frontends.web.templates import Templates, staticContentType
from tests.helpers.webclient import SiteClient


class StaticFilesTests(TestCase):
    def setUp(self):
        self.client = SiteClient({"alice": "x"})

    def test_shippedStylesheet(self):
        response = self.client.get("/static/finger.css")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, Templates().static["finger.css"][1])
        self.assertEqual(response.header("Content-Type"), "text/css; charset=utf-8")
        self.assertEqual(response.header("Cache-Control"), CACHE_CONTROL.decode("ascii"))

    def test_unknownFilesAndTheDirectoryAre404Pages(self):
        for path in ["/static/nope.css", "/static/", "/static/%ff"]:
            response = self.client.get(path)
            self.assertEqual(response.code, 404, path)
            self.assertEqual(response.header("Content-Type"), "text/html; charset=utf-8", path)

    def test_contentTypes(self):
        self.assertEqual(staticContentType("a.css"), b"text/css; charset=utf-8")
        self.assertEqual(staticContentType("a.svg"), b"image/svg+xml; charset=utf-8")
        self.assertEqual(staticContentType("a.png"), b"image/png")
        self.assertEqual(staticContentType("noextension"), b"application/octet-stream")
