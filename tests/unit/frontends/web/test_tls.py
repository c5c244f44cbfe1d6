"""
Unit tests of the HTTPS set-up (finger.frontends.web.tls).
"""

from __future__ import annotations

from OpenSSL import SSL
from twisted.trial.unittest import TestCase

from finger.frontends.web import tls
from tests.helpers.webclient import temporaryDirectory


class TLSTests(TestCase):
    def setUp(self):
        from tests.helpers.tlsfiles import makeCertificates

        self.files = makeCertificates(temporaryDirectory(self))

    def test_onlyTLS12AndNewer(self):
        options = tls.certificateOptions(self.files.key, self.files.cert)
        flags = options.getContext().set_options(0)
        self.assertTrue(flags & SSL.OP_NO_TLSv1)
        self.assertTrue(flags & SSL.OP_NO_TLSv1_1)
        self.assertFalse(flags & SSL.OP_NO_TLSv1_2)

    def test_badFilesAreConfigurationErrorsNamingTheFile(self):
        cases = [
            (
                (self.files.dir + "/missing.pem", self.files.cert),
                "cannot read the HTTPS private key "
                + self.files.dir
                + "/missing.pem: No such file or directory",
            ),
            (
                (self.files.key, self.files.dir + "/missing.pem"),
                "cannot read the HTTPS certificate " + self.files.dir + "/missing.pem",
            ),
            (
                (self.files.otherKey, self.files.cert),
                f"the HTTPS private key {self.files.otherKey} does not match the certificate {self.files.cert}",
            ),
            (
                (self.files.cert, self.files.cert),
                f"the HTTPS private key {self.files.cert} is not a PEM private key",
            ),
            (
                (self.files.key, self.files.key),
                f"the HTTPS certificate {self.files.key} is not a PEM certificate",
            ),
        ]
        for args, message in cases:
            error = self.assertRaises(tls.TLSConfigurationError, tls.certificateOptions, *args)
            self.assertIn(message, str(error))
            # Library code: an ordinary exception, which the tap layer reports.
            self.assertNotIsInstance(error, SystemExit)
            self.assertIsInstance(error, ValueError)

    def test_httpsDescription(self):
        self.assertEqual(
            tls.httpsDescription("ssl:8443:privateKey=k.pem"), "finger-https:8443:privateKey=k.pem"
        )
        error = self.assertRaises(tls.TLSConfigurationError, tls.httpsDescription, "tcp:8443")
        self.assertIn("--https wants an ssl: endpoint", str(error))

    def test_parserRefusesSSLMethodAndUnknownOptions(self):
        parser = tls.HTTPSServerParser()
        self.assertRaises(
            tls.TLSConfigurationError,
            parser.parseStreamServer,
            None,
            "0",
            self.files.key,
            sslmethod="TLSv1_METHOD",
        )
        error = self.assertRaises(
            tls.TLSConfigurationError, parser.parseStreamServer, None, "0", self.files.key, keyfile="x"
        )
        self.assertIn("keyfile", str(error))

    def test_listenReportsTheMessageAsItIs(self):
        """
        listen() passes the parser's error on as it is, and the tap layer
        turns it into a start-up error with the same line.
        """
        from twisted.application import service
        from twisted.internet.testing import MemoryReactorClock
        from twisted.web.resource import Resource

        from finger.frontends.web.site import FingerSite
        from finger.listen import listen
        from finger.tap.errors import StartupError, startupErrors

        missing = self.files.dir + "/missing.pem"
        description = tls.httpsDescription(f"ssl:0:privateKey={missing}:certKey={self.files.cert}")
        args = (service.MultiService(), "https", description, FingerSite(Resource()))
        error = self.assertRaises(
            tls.TLSConfigurationError, listen, *args, reactor=MemoryReactorClock()
        )
        self.assertEqual(
            str(error), f"cannot read the HTTPS private key {missing}: No such file or directory"
        )
        with self.assertRaises(StartupError) as raised, startupErrors():
            listen(*args, reactor=MemoryReactorClock())
        self.assertEqual(
            str(raised.exception),
            f"finger: cannot read the HTTPS private key {missing}: No such file or directory",
        )
