"""finger: a multi-protocol status service built on Twisted.

People publish a short status (a "plan"); anyone reads it over RFC 1288
finger, the web, XML-RPC, Perspective Broker or IRC.  Backends implement
L{finger.interfaces.IFingerService}; frontends are adapters from it.
"""

__version__ = "0.1.0"
