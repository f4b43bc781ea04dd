#!/bin/sh
# Installs what castd's tests need (with apt-get, when missing) and runs
# every test with the race detector. CI runs exactly this (.ci/run).
set -eu
cd "$(dirname "$0")/.."

need=""
command -v ffmpeg >/dev/null 2>&1 || need="$need ffmpeg"
command -v ffprobe >/dev/null 2>&1 || need="$need ffmpeg"
# libsrt's own tools, the reference the SRT interop tests run against.
command -v srt-live-transmit >/dev/null 2>&1 || need="$need srt-tools"
# The race detector needs cgo, so a C compiler.
command -v gcc >/dev/null 2>&1 || need="$need gcc libc6-dev"
# AAC/Opus transcoding (internal/transcode) links FFmpeg's libraries.
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
pkg-config --exists libavcodec libswresample libavutil 2>/dev/null ||
    need="$need libavcodec-dev libswresample-dev libavutil-dev"
# The browser tests (internal/e2e/browser*_test.go) play streams in Chromium.
command -v chromium >/dev/null 2>&1 || need="$need chromium"
# Their driver is playwright-core, which needs Node.js 20 or newer.
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"
if [ -n "$need" ]; then
    echo "test.sh: installing:$need"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086 # word splitting of the package list is wanted
    $sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
    echo "test.sh: Node.js $node_major is too old for the browser tests (they need 20+); install a newer nodejs" >&2
fi

# The browser tests' player libraries and driver, pinned in
# web/playertest/package-lock.json; reinstalled when the lock changes.
lock=web/playertest/package-lock.json
if [ ! -f web/playertest/node_modules/.package-lock.json ] || [ "$lock" -nt web/playertest/node_modules/.package-lock.json ]; then
    if command -v npm >/dev/null 2>&1; then
        echo "test.sh: npm ci in web/playertest"
        (cd web/playertest && npm ci --no-audit --no-fund --loglevel=error)
    else
        echo "test.sh: npm not found (Node.js 20+ is needed): the browser tests will fail" >&2
    fi
fi

echo "test.sh: go vet"
go vet ./...
echo "test.sh: go test -race (unit, fuzz seed corpora, interop with ffmpeg)"
go test -race -count=1 -timeout 15m ./...
