#!/usr/bin/env bash
# Docker smoke test: build the real Dockerfile (unless SMOKE_IMAGE names an image that the
# test run already built from it), run it, check /healthz, /, /digits and one
# prediction, then stop it.  Needs a Docker daemon (in CI: ../shared/tools/docker-standin.sh,
# whose daemon has no bridge, hence --network=host and a loopback bind).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${SMOKE_PORT:-18765}
IMAGE=${SMOKE_IMAGE:-backprop-lab}
URL="http://127.0.0.1:$PORT"

BASE=$(sed -n 's/^ARG PYTHON_IMAGE=//p' Dockerfile)
bash tests/docker_base.sh  # CI's stand-in answers for the pinned base
[ -n "${SMOKE_IMAGE:-}" ] || docker build --network=host -q -t "$IMAGE" . >/dev/null
# What the project adds on top of its base, plus the published python:3.11-slim (~130 MB):
# the stand-in base CI builds from Debian's packages is larger than the real one.
size=$(docker image inspect "$IMAGE" --format '{{.Size}}')
base=$(docker image inspect "$BASE" --format '{{.Size}}')
added=$(( (size - base) / 1000000 ))
echo "docker-smoke: image $((size / 1000000)) MB here; the project adds ${added} MB to its base"
[ $((added + 130)) -lt 400 ] || { echo "docker-smoke: image would be over 400 MB"; exit 1; }

cid=$(docker run -d --network=host -e BACKPROP_HOST=127.0.0.1 -e BACKPROP_PORT="$PORT" "$IMAGE")
trap 'docker rm -f "$cid" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 60); do
  curl -fs "$URL/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
# each page read whole before grep looks: `curl | grep -q` fails under pipefail when grep
# stops reading first (curl's exit 23)
grep -q '"ok"' <<<"$(curl -fs "$URL/healthz")"
grep -q 'aria-label="Decision boundary"' <<<"$(curl -fs "$URL/")"
grep -q 'aria-label="Digit canvas"' <<<"$(curl -fs "$URL/digits")"
answer=$(curl -fs -X POST "$URL/api/predict" -H 'content-type: application/json' \
  -d '{"strokes": [[[40, 40], [240, 40], [120, 280]]], "width": 300, "height": 300}')
grep -q '"label":7' <<<"$answer"
[ "$(docker exec "$cid" id -u)" != "0" ] || { echo "docker-smoke: runs as root"; exit 1; }
# the image installs the wheel: its command is there, every subcommand starts, and no source
# tree is needed (the package runs from site-packages)
grep -q "train-mnist" <<<"$(docker exec "$cid" backprop-lab --help)"
grep -q "backprop-lab [0-9]" <<<"$(docker exec "$cid" backprop-lab --version)"
grep -q "learners" <<<"$(docker exec "$cid" backprop-lab loadtest --help)"
grep -q "epochs" <<<"$(docker exec "$cid" backprop-lab train-mnist --help)"
grep -q "site-packages/app/" <<<"$(docker exec "$cid" python -c "import app; print(app.__file__)")"
docker stop -t 10 "$cid" >/dev/null
echo "docker-smoke: ok"
