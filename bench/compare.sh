#!/bin/sh
# Measures castd against nginx-rtmp on this machine, then castd alone over
# WebRTC (RTMP publish to WHEP players in steps, WHIP publish to RTMP
# players), and writes docs/performance.md. Installs nginx,
# libnginx-mod-rtmp and ffmpeg with apt-get when missing, and what castd's
# and castbench's AAC/Opus transcoding needs (a C compiler, FFmpeg's
# libavcodec development files). Arguments go to bench/compare (e.g.
# -n 100,500 -d 10s; -rtc-n 50,100,200 -rtc-d 10s; -rtc-n '' skips WebRTC).
set -eu
cd "$(dirname "$0")/.."

need=""
[ -x /usr/sbin/nginx ] || need="$need nginx"
[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || need="$need libnginx-mod-rtmp"
command -v ffmpeg >/dev/null 2>&1 || need="$need ffmpeg"
command -v gcc >/dev/null 2>&1 || need="$need gcc libc6-dev"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
if ! pkg-config --exists libavcodec libswresample libavutil 2>/dev/null; then
    need="$need libavcodec-dev libswresample-dev libavutil-dev"
fi
if [ -n "$need" ]; then
    echo "compare.sh: installing:$need"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
    # Debian starts nginx on port 80 after installing it; the comparison runs its own.
    $sudo systemctl stop nginx 2>/dev/null || $sudo service nginx stop 2>/dev/null || true
fi
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

go build -o castd ./cmd/castd
go build -o castbench ./cmd/castbench
bench=$(mktemp)
trap 'rm -f "$bench"' EXIT
echo "compare.sh: Go benchmarks"
go test -run '^$' -bench 'FanOut|WriteMedia' -benchmem -benchtime 2000x \
    ./internal/rtmpserver ./internal/httpstream ./internal/protocol/rtmp | grep -E '^Benchmark' > "$bench" || true
echo "compare.sh: castd vs nginx-rtmp, then castd over WebRTC"
CASTD_BENCH_OUTPUT="$bench" go run ./bench/compare "$@"
echo "compare.sh: wrote docs/performance.md"
