#!/bin/sh
# Installs what castd's tests need (with apt-get, when missing) and runs
# every test with the race detector. CI runs exactly this (.ci/run).
set -eu
cd "$(dirname "$0")/.."

need=""
command -v ffmpeg >/dev/null 2>&1 || need="$need ffmpeg"
command -v ffprobe >/dev/null 2>&1 || need="$need ffmpeg"
# The race detector needs cgo, so a C compiler.
command -v gcc >/dev/null 2>&1 || need="$need gcc libc6-dev"
if [ -n "$need" ]; then
    echo "test.sh: installing:$need"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086 # word splitting of the package list is wanted
    $sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

echo "test.sh: go vet"
go vet ./...
echo "test.sh: go test -race (unit, fuzz seed corpora, interop with ffmpeg)"
go test -race -count=1 -timeout 15m ./...
