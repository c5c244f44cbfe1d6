"""
An example application file: a finger service put together from the
library by hand, instead of through the C{twistd finger} plugin.

    twistd -ny etc/finger.tac

The code lives in the C{finger} package; this file is only configuration:
which backend, which frontends, on which endpoints, with which settings.
It serves one users file twice: publicly, where the list of all users is
refused, and on a loopback-only port for the admin, where it is allowed.

Settings come from the environment, so the file runs unchanged anywhere:

    FINGER_USERS           the users file             (/etc/finger/users)
    FINGER_ENDPOINT        the public finger listener (tcp:79)
    FINGER_ADMIN_ENDPOINT  the admin's listener       (tcp:7979:interface=127.0.0.1,
                                                       "none" turns it off)

twistd's own options (-u/-g to drop privileges after binding, --logfile,
--syslog, --logger) apply to a .tac file as to the plugin.
"""

import os

from twisted.application import service

import finger.frontends.finger  # noqa: F401 (registers the IFingerFactory adapter)
from finger.backends.file import FileFingerService, UsersFileError
from finger.interfaces import IFingerFactory
from finger.listen import endpointDescriptions, listen

USERS = os.environ.get("FINGER_USERS", "/etc/finger/users")
PUBLIC = os.environ.get("FINGER_ENDPOINT", "tcp:79")
ADMIN = os.environ.get("FINGER_ADMIN_ENDPOINT", "tcp:7979:interface=127.0.0.1")

# A port that cannot be bound (finger.listen.ListenError) stops twistd with
# one line and exit status 1, as with the plugin: the plugin's top service.
from finger.tap.errors import StartupService  # noqa: E402

application = service.Application("finger")
top = StartupService()
top.setServiceParent(application)

# The backend: statuses from the users file, re-read when it changes.
users = FileFingerService(USERS, refresh=10)
try:
    users.loadNow()
except UsersFileError as e:
    # twistd reports any Exception from a .tac with a traceback; SystemExit
    # gives the one line and exit status 1.
    raise SystemExit(f"finger: {e}") from None
users.setServiceParent(top)

# Two finger servers adapted from the same backend, configured differently.
public = IFingerFactory(users)
public.listUsers = False
public.timeout = 30
listen(top, "finger", PUBLIC, public)

for description in endpointDescriptions([ADMIN], []):
    admin = IFingerFactory(users)
    admin.listUsers = True
    listen(top, "finger-admin", description, admin)
