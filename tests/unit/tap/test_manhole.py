"""Unit tests of finger.tap.manhole: --manhole, --manhole-keys, --manhole-host-key."""

from __future__ import annotations

import os
import shutil
import tempfile

from cryptography.hazmat.primitives.asymmetric import ed25519
from twisted.application import service
from twisted.conch.ssh.keys import Key
from twisted.trial.unittest import TestCase

from finger.backends.memory import MemoryFingerService
from finger.frontends.manhole import ManholeFactory
from finger.tap import Options
from finger.tap.errors import StartupError
from finger.tap.manhole import addManhole


class AddManholeTests(TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.keys = os.path.join(self.dir, "keys")
        with open(self.keys, "wb") as file:
            file.write(Key(ed25519.Ed25519PrivateKey.generate()).public().toString("openssh"))
        self.hostKey = os.path.join(self.dir, "host_key")
        self.backend = MemoryFingerService({})

    def add(self, *args: str) -> service.MultiService:
        options = Options()
        options.parseOptions(["--memory", *args])
        top = service.MultiService()
        addManhole(top, self.backend, options)
        return top

    def test_offByDefault(self):
        self.assertEqual(list(self.add()), [])
        self.assertEqual(list(self.add("--manhole", "none")), [])

    def test_listens(self):
        top = self.add(
            "--manhole", "tcp:0:interface=127.0.0.1", "--manhole-keys", self.keys,
            "--manhole-host-key", self.hostKey,
        )
        (listener,) = list(top)
        self.assertEqual(listener.frontend, "manhole")
        factory = listener.factory.wrappedFactory
        self.assertIsInstance(factory, ManholeFactory)
        self.assertIs(factory.portal.realm.namespace["top"], top)
        self.assertIs(factory.portal.realm.namespace["service"], self.backend)
        self.assertTrue(os.path.exists(self.hostKey))

    def test_keysAreRequired(self):
        error = self.assertRaises(StartupError, self.add, "--manhole", "tcp:0")
        self.assertEqual(
            str(error),
            "finger: --manhole needs --manhole-keys FILE (OpenSSH authorized_keys format): "
            "it accepts public keys only",
        )

    def test_badFilesAreOneLineErrors(self):
        missing = os.path.join(self.dir, "missing")
        error = self.assertRaises(
            StartupError, self.add, "--manhole", "tcp:0", "--manhole-keys", missing,
            "--manhole-host-key", self.hostKey,
        )
        self.assertIn(f"finger: manhole: cannot read {missing}", str(error))
        self.assertFalse(os.path.exists(self.hostKey))
