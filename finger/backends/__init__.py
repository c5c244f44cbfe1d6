"""Backends: implementations of L{finger.interfaces.IFingerService}."""
