"""
twistd's privilege switch (C{-u}, C{-g}, C{--euid}), seen from the plugin.

twistd builds the service as root and switches to the user and group only
before C{startService}.  A check made when the service is built would then
run as root and miss what that user cannot do; L{errorAs} runs it in a child
process switched exactly as twistd will switch, so the problem is a clear
start-up error before twistd detaches.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable

from twisted.python import usage
from twisted.python.util import switchUID

from finger.errors import FingerConfigurationError


def twistdUser(options: usage.Options) -> tuple[int | None, int | None, bool]:
    """
    The C{(uid, gid, euid)} that twistd will switch to after building the
    service (its C{-u}, C{-g} and C{--euid}, read from the plugin's parent
    options), or C{(None, None, False)} when it will not switch: not root,
    no C{-u}/C{-g}, or not run by twistd.
    """
    parent = getattr(options, "parent", None)
    if parent is None or os.geteuid() != 0:
        return None, None, False
    uid, gid = parent.get("uid"), parent.get("gid")
    if uid is not None and gid is None:
        gid = pwd.getpwuid(uid).pw_gid  # as twistd does
    return uid, gid, bool(parent.get("euid"))


def errorAs(
    check: Callable[[], None], uid: int | None, gid: int | None, euid: bool = False
) -> str | None:
    """
    Call C{check} in a child process switched to C{uid}/C{gid} exactly as
    twistd C{-u}/C{-g} will switch (C{twisted.python.util.switchUID}, with
    the supplementary groups of C{uid}).  Needs root.

    @return: C{None} if it returned; otherwise why not: the message of the
        L{FingerConfigurationError} it raised, or the type and message of
        any other exception.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # The child reports on the pipe and exits; it never returns.
        status = 1
        try:
            os.close(read)
            switchUID(uid, gid, euid)
            check()
            status = 0
        except BaseException as e:
            error = str(e) if isinstance(e, FingerConfigurationError) else f"{type(e).__name__}: {e}"
            os.write(write, error.encode("utf-8", "replace")[:4096])
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as reader:
        error = reader.read().decode("utf-8", "replace")
    _, status = os.waitpid(pid, 0)
    if status == 0:
        return None
    return error or f"the check ended with status {status}"
