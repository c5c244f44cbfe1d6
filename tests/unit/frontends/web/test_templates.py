"""
Unit tests of finding and loading the templates (finger.frontends.web.templates).
"""

from __future__ import annotations

import os

from twisted.trial.unittest import TestCase

from finger.errors import FingerConfigurationError
from finger.frontends.web.templates import (
    TEMPLATE_NAMES,
    TemplateError,
    Templates,
    packagedTemplates,
)
from tests.helpers.webclient import SCRIPT, SiteClient, temporaryDirectory


class TemplateTests(TestCase):
    def test_shippedTemplatesAreFound(self):
        for name in TEMPLATE_NAMES:
            self.assertTrue(packagedTemplates().joinpath(name).is_file(), name)
        self.assertIn("finger.css", Templates().static)

    def test_overrideIsLookedUpFirst(self):
        directory = temporaryDirectory(self)
        os.makedirs(os.path.join(directory, "static"))
        with open(os.path.join(directory, "user.html"), "w") as f:
            f.write(
                '<div xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1" t:render="user">'
                'CUSTOM <t:slot name="name"/> says <t:slot name="status"/></div>'
            )
        with open(os.path.join(directory, "static", "extra.css"), "w") as f:
            f.write("body { color: red; }")
        client = SiteClient({"alice": SCRIPT}, templates=Templates(directory))
        page = client.get("/alice").text
        self.assertIn("CUSTOM alice says &lt;script&gt;", page)
        self.assertIn('<header class="site">', page)  # layout.html still the shipped one
        self.assertEqual(client.get("/static/extra.css").body, b"body { color: red; }")
        self.assertEqual(client.get("/static/finger.css").code, 200)

    def test_brokenTemplateIsATemplateErrorNamingTheFile(self):
        directory = temporaryDirectory(self)
        with open(os.path.join(directory, "users.html"), "w") as f:
            f.write("<section><p>unclosed</section>")
        error = self.assertRaises(TemplateError, Templates, directory)
        self.assertIn(os.path.join(directory, "users.html"), str(error))
        self.assertIn("not well-formed", str(error))

    def test_missingDirectoryIsATemplateError(self):
        error = self.assertRaises(TemplateError, Templates, "/nonexistent/templates")
        self.assertIn("/nonexistent/templates: not a directory", str(error))

    def test_templateErrorIsAConfigurationErrorNotAnExit(self):
        self.assertTrue(issubclass(TemplateError, FingerConfigurationError))
        self.assertFalse(issubclass(TemplateError, SystemExit))
