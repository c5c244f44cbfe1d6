"""
Guard: every protocol or factory wrapper in finger provides and forwards the
interfaces a transport looks for on what it was given (L{PROTOCOL_INTERFACES},
L{FACTORY_INTERFACES}), exactly when the wrapped object provides them.

A wrapper that hides one breaks something only with one kind of transport
(ALPN: every browser over HTTPS, see issue 19), so each wrapper is checked
against each interface here, and a new wrapper class fails until it is added
to L{BUILDERS}.  The last test reads Twisted's own source for the interfaces
its transports look for, so a Twisted release adding one fails here too.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from zope.interface import Interface, implementer
from zope.interface.interface import Method

import finger
import twisted
from finger.limits import FACTORY_INTERFACES, PROTOCOL_INTERFACES, LimitedFactory, LimitedProtocol

PEER = IPv4Address("TCP", "127.0.0.1", 40000)


def _methods(interface) -> list[str]:
    return [name for name, d in interface.namesAndDescriptions(all=True) if isinstance(d, Method)]


def recorderProviding(base: type, provided: tuple) -> tuple[object, list]:
    """An instance of C{base} providing C{provided}, recording calls to their methods."""
    calls: list = []
    names = {name for interface in provided for name in _methods(interface)}

    def recording(name: str):
        def method(self, *args):
            calls.append((name, args))
            return [b"recorded"]

        return method

    cls = type("Recorder", (base,), {name: recording(name) for name in names})
    if provided:
        cls = implementer(*provided)(cls)
    return cls(), calls


def buildLimitedFactory(wrapped) -> WrappingFactory:
    return LimitedFactory(wrapped, clock=MemoryReactorClock())


def buildLimitedProtocol(wrapped) -> ProtocolWrapper:
    factory = LimitedFactory(Factory.forProtocol(lambda: wrapped), clock=MemoryReactorClock())
    wrapper = factory.buildProtocol(PEER)
    wrapper.makeConnection(StringTransport())
    return wrapper


# Each wrapper class in finger, and how to wrap a given factory or protocol with it.
BUILDERS: dict[type, Callable] = {
    LimitedFactory: buildLimitedFactory,
    LimitedProtocol: buildLimitedProtocol,
}


def wrapperClasses() -> set[type]:
    """Every class in finger's modules that is a Twisted protocol or factory wrapper."""
    found = set()
    for module in pkgutil.walk_packages(finger.__path__, "finger."):
        loaded = importlib.import_module(module.name)
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if cls.__module__.startswith("finger") and issubclass(
                cls, (WrappingFactory, ProtocolWrapper)
            ):
                found.add(cls)
    return found


def test_everyWrapperIsChecked() -> None:
    missing = wrapperClasses() - set(BUILDERS)
    assert not missing, f"add these wrappers to BUILDERS in {__file__}: {missing}"


def cases():
    for wrapperClass, build in BUILDERS.items():
        isFactory = issubclass(wrapperClass, WrappingFactory)
        base = Factory if isFactory else Protocol
        for interface in FACTORY_INTERFACES if isFactory else PROTOCOL_INTERFACES:
            yield pytest.param(build, base, interface, id=f"{wrapperClass.__name__}-{interface.__name__}")


@pytest.mark.parametrize("build, base, interface", list(cases()))
def test_wrapperForwardsWhatTheWrappedProvides(build, base, interface) -> None:
    wrapped, calls = recorderProviding(base, (interface,))
    wrapper = build(wrapped)
    assert interface.providedBy(wrapper), f"{type(wrapper).__name__} hides {interface.__name__}"
    assert interface(wrapper, None) is wrapper
    for name in _methods(interface):
        args = (7,) * (len(interface[name].positional))
        getattr(wrapper, name)(*args)
        assert calls[-1] == (name, args), f"{name} not forwarded to the wrapped object"


@pytest.mark.parametrize("build, base, interface", list(cases()))
def test_wrapperDoesNotClaimWhatTheWrappedLacks(build, base, interface) -> None:
    """E.g. a TCP transport half-closes a protocol only if it says it can."""
    wrapped, _ = recorderProviding(base, ())
    assert not interface.providedBy(build(wrapped))


# Where Twisted's transports look at the protocol or factory they were given.
_LOOKUP = re.compile(
    r"\b(I[A-Z]\w+)(?:\.providedBy\(|\()\s*"
    r"(?:self\.|tlsFactory\.)?(?:protocol|proto|wrappedProtocol|wrappedFactory|factory)\b"
)
# Provided and forwarded by Twisted's own Protocol/Factory and wrapper classes.
_TWISTED_FORWARDS = {"ILoggingContext"}


def test_theListsCoverWhatTwistedLooksFor() -> None:
    root = Path(twisted.__file__).parent
    sources = [*root.joinpath("internet").glob("*.py"), root / "protocols" / "tls.py"]
    found = {
        name
        for source in sources
        if not source.name.startswith("test")
        for name in _LOOKUP.findall(source.read_text(encoding="utf-8"))
    }
    known = {i.__name__ for i in (*PROTOCOL_INTERFACES, *FACTORY_INTERFACES)}
    assert {"IHalfCloseableProtocol", "IProtocolNegotiationFactory"} <= found, found
    assert found - known - _TWISTED_FORWARDS - {"IProtocol", "IProtocolFactory"} == set()


def test_interfacesAreInterfaces() -> None:
    for interface in (*PROTOCOL_INTERFACES, *FACTORY_INTERFACES):
        assert issubclass(interface, Interface)
