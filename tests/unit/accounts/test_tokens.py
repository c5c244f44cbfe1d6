"""finger.accounts.tokens: random, hashed, constant-time compared."""

from __future__ import annotations

import hashlib
import hmac
from unittest import mock

from twisted.trial import unittest

from finger.accounts import tokens


def otherLastCharacter(token: str) -> str:
    """C{token} with its last character changed (to another one, always)."""
    return token[:-1] + ("B" if token[-1] == "A" else "A")


class TokenTests(unittest.TestCase):
    def test_form(self):
        new = tokens.newToken()
        self.assertRegex(new.token, r"\Afngr_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\Z")
        self.assertEqual(tokens.tokenId(new.token), new.id)
        self.assertTrue(tokens.looksLikeToken(new.token))

    def test_random(self):
        made = {tokens.newToken().token for _ in range(200)}
        self.assertEqual(len(made), 200)

    def test_storedAsSHA256(self):
        new = tokens.newToken()
        self.assertEqual(new.tokenHash, hashlib.sha256(new.token.encode()).hexdigest())
        self.assertNotIn(new.token, repr(new))

    def test_matches(self):
        new = tokens.newToken()
        self.assertTrue(tokens.tokenMatches(new.token, new.tokenHash))
        self.assertFalse(tokens.tokenMatches(otherLastCharacter(new.token), new.tokenHash))
        self.assertFalse(tokens.tokenMatches(new.token, "é"))

    def test_matchesWhateverTheLastCharacter(self):
        """
        32 bytes in URL-safe base64 end in one of 16 characters (the last
        carries 4 bits), so 1 token in 16 ends in "A": a test that changed
        the last character to "A" left those tokens unchanged and failed
        at random.  Every possible last character, deterministically.
        """
        for last in "AEIMQUYcgkosw048":
            secret = "x" * 42 + last
            with mock.patch.object(tokens.secrets, "token_urlsafe", return_value=secret):
                new = tokens.newToken()
            self.assertTrue(new.token.endswith(last))
            self.assertEqual(tokens.tokenId(new.token), new.id)
            self.assertTrue(tokens.tokenMatches(new.token, new.tokenHash))
            changed = otherLastCharacter(new.token)
            self.assertNotEqual(changed, new.token)
            self.assertFalse(tokens.tokenMatches(changed, new.tokenHash), last)

    def test_separatorInTheSecret(self):
        """A secret may hold "_" and "-" (URL-safe base64): still one token, same id."""
        for secret in ["_" * 43, "-" * 42 + "A", "_fngr_0123456789ab_" + "x" * 24]:
            with mock.patch.object(tokens.secrets, "token_urlsafe", return_value=secret):
                new = tokens.newToken()
            self.assertEqual(tokens.tokenId(new.token), new.id)

    def test_constantTime(self):
        """The comparison is hmac.compare_digest's."""
        new = tokens.newToken()
        with mock.patch.object(tokens.hmac, "compare_digest", wraps=hmac.compare_digest) as spy:
            tokens.tokenMatches(new.token, new.tokenHash)
        self.assertEqual(spy.call_count, 1)

    def test_notTokens(self):
        for text in ["", "password", "fngr_", "fngr_0123456789ab_short",
                     "fngr_0123456789AB_" + "a" * 43, "xfngr_0123456789ab_" + "a" * 43,
                     "fngr_0123456789ab_" + "a" * 43 + "\n"]:
            self.assertIsNone(tokens.tokenId(text), text)
