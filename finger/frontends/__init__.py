"""
Frontends: adapters from L{finger.interfaces.IFingerService}.

Importing a frontend module registers its adapter.
"""
