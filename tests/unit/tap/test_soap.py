"""Unit tests of finger.tap.soap: the SOAP options and the /soap resource they build."""

from __future__ import annotations

import os
import shutil
import tempfile

from twisted.application import service
from twisted.trial.unittest import TestCase

from finger.backends.memory import MemoryFingerService
from finger.frontends.web.soap import SOAPResource
from finger.tap import Options
from finger.tap.errors import StartupError
from finger.tap.soap import soapAddress, soapResource

BACKEND = MemoryFingerService({})


def options(*args: str) -> Options:
    parsed = Options()
    parsed.parseOptions(["--memory", *args])
    return parsed


class SOAPOptionsTests(TestCase):
    def mktemp(self) -> str:
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory, True)
        return os.path.join(directory, "x")

    def test_defaults(self):
        resource = soapResource(service.MultiService(), BACKEND, options())
        self.assertIsInstance(resource, SOAPResource)
        self.assertIsNone(resource.settings.address)
        self.assertIsNone(resource.settings.trace)

    def test_address(self):
        self.assertEqual(soapAddress("https://x.example/soap"), "https://x.example/soap")
        for bad in ["ftp://x/soap", "/soap", "http://"]:
            self.assertRaises(ValueError, soapAddress, bad)
        error = self.assertRaises(StartupError, options, "--soap-address", "nope")
        self.assertIn("soap-address", str(error))
        parsed = options("--soap-address", "https://x.example/soap")
        resource = soapResource(service.MultiService(), BACKEND, parsed)
        self.assertEqual(resource.settings.address, "https://x.example/soap")

    def test_traceFileIsOpenedAndClosedWithTheService(self):
        path = self.mktemp()
        top = service.MultiService()
        resource = soapResource(top, BACKEND, options("--soap-trace", path))
        resource.settings.trace.request("peer", b"<x/>")
        self.assertIn("<x/>", open(path).read())
        top.startService()
        top.stopService()
        self.assertTrue(resource.settings.trace.file.closed)

    def test_unwritableTraceFile(self):
        directory = self.mktemp()
        os.mkdir(directory, 0o500)
        if os.access(directory, os.W_OK):  # root
            self.skipTest("root can write anywhere")
        error = self.assertRaises(
            StartupError,
            soapResource, service.MultiService(), BACKEND,
            options("--soap-trace", os.path.join(directory, "trace")),
        )
        self.assertIn("--soap-trace", str(error))
