"""
A disk that fails on demand, for the store's tests: the LD_PRELOAD shim in
failingio.c, compiled with C{cc} on first use (into a temporary directory).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).with_name("failingio.c")


def buildShim(directory: Path) -> Path | None:
    """Compile the shim into C{directory}; C{None} if there is no C compiler."""
    compiler = shutil.which("cc")
    if compiler is None:
        return None
    library = directory / "failingio.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O1", "-o", str(library), str(SOURCE), "-ldl"],
        check=True, capture_output=True,
    )
    return library


def shimEnvironment(library: Path, switch: Path, directory: Path) -> dict[str, str]:
    """The variables that make writes under C{directory} fail while C{switch} exists."""
    return {
        "LD_PRELOAD": str(library),
        "FAILING_IO_SWITCH": str(switch),
        "FAILING_IO_DIR": str(directory.resolve()) + "/",
    }
