"""
Registers the C{adopt:} endpoint type: a worker of C{twistd finger
--workers N} listening on a socket its parent bound (see L{finger.inherited}).
"""

from finger.inherited import AdoptedServerParser

fingerAdopt = AdoptedServerParser()
