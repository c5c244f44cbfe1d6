"""Registers C{twistd finger} (see L{finger.tap})."""

from twisted.application.service import ServiceMaker

finger = ServiceMaker(
    "finger",
    "finger.tap",
    "A multi-protocol status service: finger, setter, web, PB, IRC.",
    "finger",
)
