"""
Frontends as adapters from a backend and its settings.

Every frontend is an adapter from L{IFingerService}: C{IFingerFactory(backend)}
works as in Twisted's finger tutorial, with the frontend's default settings.
A frontend configured otherwise (timeouts, limits, the query log, a clock)
is the adapter of the pair (backend, settings), so that it is complete when
it is made and nothing is set on it afterwards::

    factory = frontend(IFingerFactory, backend, FingerSettings(listUsers=False))

Each frontend module registers itself for its own settings type with
L{registerFrontend}, next to its single-argument
C{twisted.python.components.registerAdapter}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from zope.interface import implementedBy, providedBy
from zope.interface.adapter import AdapterRegistry
from zope.interface.interface import InterfaceClass

from finger.interfaces import IFingerService

_frontends = AdapterRegistry()

Settings = TypeVar("Settings")


class NoFrontend(TypeError):
    """No frontend is registered for that interface and settings type."""


def registerFrontend(
    factory: Callable[[Any, Settings], object],
    settingsType: type[Settings],
    provided: InterfaceClass,
) -> None:
    """
    Register C{factory(backend, settings)} as the C{provided} frontend of
    any L{IFingerService} with settings of C{settingsType}.
    """
    _frontends.register([IFingerService, implementedBy(settingsType)], provided, "", factory)


def frontend(provided: InterfaceClass, backend: object, settings: object) -> Any:
    """
    The C{provided} frontend of C{backend}, configured by C{settings}.

    Raises L{NoFrontend} if the backend is not an L{IFingerService} or no
    frontend module registered for that kind of settings (the module that
    defines the frontend must have been imported).
    """
    # lookup() is made at run time by zope.interface's C-optimised base class.
    factory = _frontends.lookup(  # type: ignore[attr-defined]
        [providedBy(backend), providedBy(settings)], provided
    )
    if factory is None:
        raise NoFrontend(
            f"no {provided.__name__} for {type(backend).__name__} "
            f"with {type(settings).__name__}"
        )
    return factory(backend, settings)
