#!/usr/bin/env bash
# The Dockerfile pins its base (ARG PYTHON_IMAGE=python:3.11-slim-bookworm). CI's stand-in
# daemon (../shared/tools/docker-standin.sh) cannot pull: it builds only python:3.11-slim, from
# Debian bookworm's own python3. When the pinned tag is missing and the stand-in's image is that
# Python minor on that Debian release, tag it so: it is what the pin names. With a real
# python:3.11-slim (or any other daemon) this does nothing, and docker pulls the pinned image.
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(sed -n 's/^ARG PYTHON_IMAGE=//p' Dockerfile)
docker image inspect "$base" >/dev/null 2>&1 && exit 0
docker image inspect python:3.11-slim >/dev/null 2>&1 || exit 0
# "python:3.11-slim-bookworm" -> 3.11 and bookworm
minor=${base#python:}; minor=${minor%%-*}; codename=${base##*-}
docker run --rm --network=host python:3.11-slim sh -c \
  "test -x /opt/python/bin/python3 && grep -q '^VERSION_CODENAME=$codename\$' /etc/os-release \
   && python3 -c 'import sys; assert \"%d.%d\" % sys.version_info[:2] == \"$minor\"'" \
  >/dev/null 2>&1 || exit 0
docker tag python:3.11-slim "$base"
echo "docker-base: the stand-in python:3.11-slim (Debian $codename, Python $minor) answers for $base"
