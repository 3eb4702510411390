#!/bin/sh
# Installs the Debian packages yoc needs to build, test and run its demo.
# A no-op when all are present; otherwise apt-get update, then install.
set -e
PKGS="gcc make pkg-config libsqlite3-dev libsodium-dev libssl-dev libcmocka-dev libxlsxwriter-dev libgsl-dev libjansson-dev chromium sqlite3 clang libclang-rt-14-dev python3 openssl time r-base-core python3-jsonschema r-cran-matchit libmicrohttpd-dev wrk python3-scipy libzstd-dev openmpi-bin libopenmpi-dev"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "yoc: installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
