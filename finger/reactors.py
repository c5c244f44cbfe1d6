"""
The one place where library code finds the global reactor.

Components take their reactor (or clock) as a constructor argument; C{None}
means "the global reactor", resolved once, when the component is made, by
L{globalReactor}.  Importing C{twisted.internet.reactor} at module level
would install the default reactor before twistd (or a C{.tac}) could choose
another, so it is imported here, on first use.
"""

from __future__ import annotations

from typing import Any


def globalReactor() -> Any:
    """
    The global reactor (installing the default one if none is yet).

    Typed C{Any}: which reactor interfaces it provides (C{IReactorTime},
    C{IReactorProcess}, ...) depends on the reactor installed; callers store
    it as the interface they need.
    """
    from twisted.internet import reactor

    return reactor
