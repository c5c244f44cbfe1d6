"""
Accounts: who may write a status (issue 12).

The pieces, one module each:

  - L{finger.accounts.interfaces}: L{IAccountStore} (create, get, list,
    set a password hash, delete; add, get, list and revoke tokens; record a
    login), the records L{Account} and L{TokenRecord}, and the errors
    L{AccountError}, L{NoSuchAccount}, L{AccountExists}.  Implemented by
    the SQLite store (L{finger.backends.store.SQLiteFingerService}, tables
    in L{finger.accounts.sqlite}) and L{finger.accounts.memory} (tests).
  - L{finger.accounts.hashing}: L{PasswordHashing}, argon2id, off the
    reactor thread.
  - L{finger.accounts.tokens}: API tokens (C{fngr_<id>_<secret>}), SHA-256
    hashes, constant-time comparison.
  - L{finger.accounts.cred}: twisted.cred: L{AccountChecker} (username +
    password or token; bearer token), L{IBearerToken}/L{BearerToken}, the
    realm L{AccountRealm} and its avatar L{IAccountAvatar} (C{name},
    C{admin}).
  - L{finger.accounts.authorise}: L{mayWriteStatus}, the one rule.
  - L{finger.accounts.throttle}: L{LoginThrottle}, L{Throttled}.
  - L{finger.accounts.gate}: L{Authenticator}, what a frontend holds in its
    settings (C{None} there means no accounts are configured: refuse
    writes with L{NO_ACCOUNTS}); L{buildAuthenticator};
    L{mayCarryCredentials} (HTTPS or loopback only, else L{INSECURE}).
  - L{finger.accounts.admin}: the C{finger-admin} command.

A frontend accepting a write does::

    if authenticator is None: refuse(NO_ACCOUNTS)
    if not mayCarryCredentials(peerAddress, isTLS): refuse(INSECURE)
    avatar = yield authenticator.login(credentials, peerAddress)
        # Throttled (.retryAfter seconds) or UnauthorizedLogin
    if not authenticator.mayWrite(avatar, target): refuse (403)
    yield backend.setUser(target, status)
"""
