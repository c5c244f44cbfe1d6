"""
The only place where finger uses Twisted's private APIs.

Each use below exists because Twisted offers no public way to do the same
thing; each names the Twisted versions it was checked on, and has a test in
C{tests/unit/test_compat.py} that fails if Twisted changes it.
"""
