#!/usr/bin/env bash
# Build the image with podman and smoke-test it (`make image-test`, run by .ci/run after `make test`):
# /health within 10 s of start, a POST /tag of "leave Beijing on November 2nd" with both spans,
# the page at / with its script and stylesheet, the HEALTHCHECK passing, a non-root user, a
# read-only root filesystem, SIGTERM exiting 0, and
# the image's size printed and held under IMAGE_LIMIT_MB. Then it times a rebuild after a
# one-line source change (printed, not enforced: it depends on the machine's load).
#
#   bash deploy/image-test.sh PREPARE_SH [IMAGE]
#
# PREPARE_SH is the machine's container preparation (../shared/container/prepare.sh here: it
# installs podman, builds a stand-in base image and prints the build arguments; run as root).
set -euo pipefail
prepare=${1:?usage: image-test.sh PREPARE_SH [IMAGE]}
image=${2:-slot-tagger}
limit_mb=${IMAGE_LIMIT_MB:-500}
port=${IMAGE_TEST_PORT:-18000}
cd "$(dirname "$0")/.."
began=$(date +%s)
say() { echo "== image-test: $*" >&2; }
# podman cannot reach systemd here to time its healthchecks; `podman healthcheck run` still works.
quiet() { "$@" 2> >(grep -v "unable to get systemd connection" >&2); }
fail() { say "FAILED: $*"; exit 1; }
elapsed() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$1"; }

bash "$prepare" >/dev/null
eval "$(bash "$prepare" --env)"
export CONTAINERS_CONF
# The build arguments name the stand-in base image and mount the machine's pip.conf (its TLS
# proxy's CA); the torch index they also name is not used: the image has no torch.
read -r -a build_args <<<"$PODMAN_BUILD_ARGS"

t=$(date +%s.%N)
podman build -q --format docker "${build_args[@]}" -t "$image" . >/dev/null
say "built $image in $(elapsed "$t") s"
size=$(podman image inspect "$image" --format '{{.Size}}')
say "image size: $((size / 1000000)) MB (limit ${limit_mb} MB)"
((size <= limit_mb * 1000000)) || fail "the image is over ${limit_mb} MB"

# The serving install: nothing that only training needs is in the image.
quiet podman run --rm "$image" python -c "
import importlib.util, sys
found = [m for m in ('torch', 'onnx', 'seqeval', 'sklearn', 'scipy') if importlib.util.find_spec(m)]
sys.exit(f'the image has {found}' if found else 0)" || fail "the image has training packages"
say "no torch, onnx, seqeval, scikit-learn or scipy in the image"
quiet podman run --rm "$image" python -c "import model._decode" \
    || fail "the image has no compiled CRF decoder (model/_decode.c)"
say "the CRF decoder is compiled"

uid=$(quiet podman run --rm --read-only "$image" id -u)
[[ $uid != 0 ]] || fail "the image runs as root"
say "runs as uid $uid"

cid=""
trap '[[ -z $cid ]] || podman rm -f "$cid" >/dev/null 2>&1 || true' EXIT
t=$(date +%s.%N)
cid=$(quiet podman run -d --read-only -p "127.0.0.1:$port:8000" "$image")
python3 - "$port" "$t" <<'PY'
import json, sys, time, urllib.request

port, started = sys.argv[1], float(sys.argv[2])
base = f"http://127.0.0.1:{port}"
while True:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=1) as r:
            if r.status == 200:
                break
    except OSError:
        pass
    if time.time() - started > 10:
        sys.exit("== image-test: FAILED: /health did not answer 200 within 10 s of start")
    time.sleep(0.05)
healthy = time.time() - started
body = json.dumps({"text": "leave Beijing on November 2nd"}).encode()
request = urllib.request.Request(
    f"{base}/tag", body, {"content-type": "application/json"}, method="POST"
)
with urllib.request.urlopen(request, timeout=5) as r:
    answer = json.load(r)
answered = time.time() - started
spans = [(s["label"], s["text"]) for s in answer["spans"]]
if spans != [("departure", "Beijing"), ("date", "November 2nd")]:
    sys.exit(f"== image-test: FAILED: POST /tag gave spans {spans}")
# The try-it page and its files, from the installed package (package data).
for path, kind in (("/", "text/html"), ("/page.js", "text/javascript"), ("/page.css", "text/css")):
    with urllib.request.urlopen(f"{base}{path}", timeout=5) as r:
        if r.status != 200 or not r.headers["content-type"].startswith(kind):
            sys.exit(f"== image-test: FAILED: GET {path} gave {r.status} {r.headers['content-type']}")
        if path == "/" and b'<script src="/page.js"' not in r.read():
            sys.exit("== image-test: FAILED: GET / is not the page")
print(f"== image-test: /health 200 {healthy:.1f} s after start, first /tag {answered:.1f} s; "
      f"spans {spans}; the page at / answers", file=sys.stderr)
PY
podman healthcheck run "$cid" >/dev/null 2>&1 || fail "the HEALTHCHECK does not pass"
say "HEALTHCHECK passes"
quiet podman kill --signal TERM "$cid" >/dev/null
code=$(quiet podman wait "$cid")
[[ $code == 0 ]] || { podman logs "$cid" | tail -n 20 >&2; fail "SIGTERM exited $code"; }
! podman logs "$cid" 2>&1 | grep -q Traceback || fail "the server logged a traceback"
say "SIGTERM: exit 0"

# A one-line source change rebuilds only the project's layers.
copy=$(mktemp -d)
trap 'rm -rf "$copy"; [[ -z $cid ]] || podman rm -f "$cid" >/dev/null 2>&1 || true' EXIT
cp -r Dockerfile .dockerignore pyproject.toml setup.py README.md app model data training deploy "$copy"
echo "# a one-line change" >>"$copy/app/main.py"
t=$(date +%s.%N)
podman build -q --format docker "${build_args[@]}" -t "$image-rebuild" "$copy" >/dev/null
say "rebuild after a one-line source change: $(elapsed "$t") s (target < 10 s)"
podman rmi -f "$image-rebuild" >/dev/null
say "passed in $(($(date +%s) - began)) s"
