#!/usr/bin/env bash
# Installs everything the test suite needs, then runs all of it.
#   bash tests/run.sh [pytest arguments]
# Debian packages (real clients and peers the tests talk to) are installed
# with apt-get when missing; Python packages go into ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
    finger
    netcat-openbsd
    passwd
    util-linux
    ngircd
    curl
    openssl
    chromium
    chromium-driver
    libnss3-tools  # certutil: Chromium trusts the tests' throwaway CA
    gcc            # tests/helpers/failingio.c: the EIO shim of the disk-fault tests
    libc6-dev
    # SOAP (a safe XML parser; zeep is the real SOAP client of the tests) and
    # the manhole (OpenSSH's ssh and ssh-keygen are its real client).
    python3-defusedxml
    python3-bcrypt
    python3-zeep
    python3-prometheus-client  # --metrics (tests scrape it with its text parser)
    # Accounts: argon2id password hashes (argon2-cffi).
    python3-argon2
    openssh-client
    # The PostgreSQL store (tests start their own server with initdb/pg_ctl)
    # and its driver for the Debian pass.
    postgresql
    python3-psycopg
    # Packaging (tests/test_deb.py builds, installs and purges the .deb;
    # systemd provides systemd-socket-activate and systemd-analyze).
    adduser
    debhelper
    dh-python
    dpkg-dev
    pybuild-plugin-pyproject
    python3-all
    python3-setuptools
    python3-openssl
    python3-service-identity
    python3-twisted
    python3-zope.interface
    systemd
    # The second pass, on Debian's own Python and Twisted 22.4.
    python3-pip
    python3-venv
    python3-pytest
    python3-pytest-xdist
    python3-hypothesis
    python3-selenium
    # HTTP/2 over HTTPS on Twisted 22.4 (Twisted imports both).
    python3-h2
    python3-priority
    # The reverse proxy in front of the web frontend (tests/e2e/test_reverse_proxy.py).
    nginx-light
)

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
# node and npm run a real fediverse WebFinger client (tests/node/); a
# nodejs that bundles npm (e.g. NodeSource's) conflicts with Debian's npm.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet '.[test]'
npm ci --prefix tests/node --no-audit --no-fund --silent

# Static checks first (configured in pyproject.toml): mypy with mypy-zope
# on finger/, ruff on the code and the tests.
.venv/bin/mypy
.venv/bin/ruff check finger tests twisted bench

# The whole suite on the newest Twisted (in .venv) ...
.venv/bin/python -m pytest -n 2 "$@"

# ... and again on Debian 12's own Python and Twisted 22.4, where the Debian
# package runs (the package build and the soak ran in the first pass).
/usr/bin/python3 -m pytest -n 2 -p no:cacheprovider -m "not deb and not slow" "$@"
