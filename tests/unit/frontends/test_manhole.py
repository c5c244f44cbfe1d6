"""Unit tests of finger.frontends.manhole: keys, host key, the SSH factory."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile

from cryptography.hazmat.primitives.asymmetric import ed25519
from twisted.conch.ssh.keys import Key
from twisted.cred.credentials import ISSHPrivateKey
from twisted.trial.unittest import TestCase

from finger.adapt import frontend
from finger.backends.memory import MemoryFingerService
from finger.frontends import manhole


def newKey() -> Key:
    return Key(ed25519.Ed25519PrivateKey.generate())


class FilesTestCase(TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name: str, content: bytes | None = None, mode: int = 0o600) -> str:
        path = os.path.join(self.dir, name)
        if content is not None:
            with open(path, "wb") as file:
                file.write(content)
            os.chmod(path, mode)
        return path


class AuthorizedKeysTests(FilesTestCase):
    def test_readsKeysCommentsAndBlankLines(self):
        one, two = newKey().public(), newKey().public()
        path = self.path("keys", b"# admins\n\n" + one.toString("openssh") + b" alice@host\n"
                         + two.toString("openssh") + b"\n")
        self.assertEqual(manhole.readAuthorizedKeys(path), (one, two))

    def test_refusals(self):
        key = newKey().public().toString("openssh")
        for content, message in [
            (b'from="10.0.0.1" ' + key, "line 1: not a public key (key options"),
            (b"ssh-ed25519 AAAA-not-base64", "line 1: unreadable key"),
            (b"# nothing\n", "holds no key"),
        ]:
            path = self.path("keys", content)
            error = self.assertRaises(manhole.ManholeError, manhole.readAuthorizedKeys, path)
            self.assertIn(message, str(error))
        error = self.assertRaises(
            manhole.ManholeError, manhole.readAuthorizedKeys, self.path("missing")
        )
        self.assertIn("cannot read", str(error))


class HostKeyTests(FilesTestCase):
    def test_createdWithMode0600ThenReused(self):
        path = self.path("host_key")
        key = manhole.loadOrCreateHostKey(path)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(key.sshType(), b"ssh-ed25519")
        again = manhole.loadOrCreateHostKey(path)
        self.assertEqual(again.fingerprint(), key.fingerprint())
        self.assertFalse(again.isPublic())

    def test_refusals(self):
        private = newKey().toString("openssh")
        for name, content, mode, message in [
            ("open", private, 0o644, "accessible by others (mode 0644); chmod 600"),
            ("public", newKey().public().toString("openssh"), 0o600, "is a public key"),
            ("garbage", b"garbage", 0o600, "is not an SSH private key"),
        ]:
            path = self.path(name, content, mode)
            error = self.assertRaises(manhole.ManholeError, manhole.loadOrCreateHostKey, path)
            self.assertIn(message, str(error))
        error = self.assertRaises(
            manhole.ManholeError, manhole.loadOrCreateHostKey, self.path("no/such/dir")
        )
        self.assertIn("cannot create the host key", str(error))


class FactoryTests(TestCase):
    def setUp(self):
        self.admin = newKey()
        self.hostKey = newKey()
        self.backend = MemoryFingerService({"alice": "Happy"})
        self.settings = manhole.ManholeSettings(
            authorizedKeys=(self.admin.public(),), hostKey=self.hostKey,
            namespace={"top": "the top"},
        )
        self.factory = frontend(manhole.IManholeFactory, self.backend, self.settings)

    def test_publicKeysOnly(self):
        self.assertEqual(self.factory.portal.listCredentialsInterfaces(), [ISSHPrivateKey])

    def test_hostKey(self):
        self.assertEqual(self.factory.publicKeys, {b"ssh-ed25519": self.hostKey.public()})
        self.assertEqual(self.factory.privateKeys, {b"ssh-ed25519": self.hostKey})
        # ConchFactory's class-level dicts are left alone.
        self.assertEqual(manhole.manhole_ssh.ConchFactory.publicKeys, {})

    def test_anyLoginNameGetsTheListedKeys(self):
        keys = manhole.AuthorizedKeys([self.admin.public()])
        self.assertEqual(list(keys.getAuthorizedKeys(b"root")), [self.admin.public()])

    def test_consoleNamespace(self):
        realm = self.factory.portal.realm
        protocol = realm.chainedProtocolFactory()
        self.assertEqual(protocol.protocolArgs[0]["service"], self.backend)
        self.assertEqual(protocol.protocolArgs[0]["top"], "the top")
        # Each session has its own namespace.
        protocol.protocolArgs[0]["x"] = 1
        self.assertNotIn("x", realm.chainedProtocolFactory().protocolArgs[0])
