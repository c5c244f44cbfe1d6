"""
Unit tests of the web root (finger.frontends.web.root): the adapter, its
settings, and which resource each path reaches.
"""

from __future__ import annotations

from twisted.trial.unittest import TestCase
from twisted.web.resource import IResource

from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends.web.root import DEFAULT, FingerWebRoot, WebSettings
from finger.frontends.web.templates import Templates
from tests.helpers.webclient import SiteClient, userLinks


class AdapterTests(TestCase):
    def test_adaptsServiceToResource(self):
        from finger.backends.memory import MemoryFingerService

        root = IResource(MemoryFingerService({"alice": "x"}))
        self.assertIsInstance(root, FingerWebRoot)

    def test_adaptsServiceAndSettingsToACompleteRoot(self):
        templates = Templates()
        settings = WebSettings(templates=templates)
        root = frontend(IResource, MemoryFingerService({"alice": "x"}), settings)
        self.assertIsInstance(root, FingerWebRoot)
        self.assertIs(root.settings, settings)
        self.assertIs(root.templates, templates)

    def test_defaultSettingsServeTheShippedTemplates(self):
        root = IResource(MemoryFingerService({}))
        self.assertIs(root.settings, DEFAULT)
        self.assertIsNone(DEFAULT.templates)
        self.assertIsInstance(root.templates, Templates)
        self.assertIsNone(root.templates.override)

    def test_settingsAreFrozen(self):
        from dataclasses import FrozenInstanceError

        with self.assertRaises(FrozenInstanceError):
            DEFAULT.templates = Templates()  # type: ignore[misc]  # on purpose: it must fail


class DispatchTests(TestCase):
    def test_reservedPathsTakePrecedence(self):
        client = SiteClient(
            {
                name: f"status of {name}"
                for name in ["RPC2", "api", "static", ".well-known", "alice"]
            }
        )
        self.assertEqual(client.get("/RPC2").code, 405)  # the XML-RPC resource: POST only
        self.assertEqual(client.get("/api").header("Content-Type"), "application/json")
        self.assertEqual(client.get("/static").code, 404)
        self.assertEqual(client.get("/.well-known").code, 404)
        listing = client.get("/").text
        links = dict((name, href) for href, name in userLinks(listing))
        self.assertEqual(
            links, {"RPC2": "", "api": "", "static": "", ".well-known": "", "alice": "/alice"}
        )
        self.assertIn("status of api", listing)
