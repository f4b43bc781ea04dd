#!/bin/sh
# Builds and starts castd (arguments go to castd; none runs the embedded
# default config). Installs, with apt-get when missing, what the build with
# AAC/Opus transcoding for WebRTC needs: a C compiler and FFmpeg's
# libavcodec, libswresample and libavutil development files. Without them
# build with CGO_ENABLED=0 (or -tags castd_nolibav): castd then runs
# without transcoding and says so (docs/webrtc.md).
set -eu
cd "$(dirname "$0")/.."

need=""
command -v gcc >/dev/null 2>&1 || need="$need gcc libc6-dev"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
if ! pkg-config --exists libavcodec libswresample libavutil 2>/dev/null; then
    need="$need libavcodec-dev libswresample-dev libavutil-dev"
fi
if [ -n "$need" ]; then
    echo "run.sh: installing:$need"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086 # word splitting of the package list is wanted
    $sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
exec go run ./cmd/castd "$@"
