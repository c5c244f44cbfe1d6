"""Exceptions shared by finger's components (library code; no twistd here)."""


class FingerConfigurationError(Exception):
    """
    A component cannot be set up as asked; the message is one line for the
    operator.

    Library code raises subclasses of this (never C{SystemExit}); the twistd
    layer (L{finger.tap}) turns every one into a one-line start-up error and
    exit status 1.  A C{.tac} or another program embedding the components
    catches it like any other exception.
    """
