#!/usr/bin/env bash
# Builds this consumer project against an ossmp installed at PREFIX (cmake --install), once with
# CMake (find_package(ossmp 0.1)) and once with meson (dependency('ossmp') through ossmp.pc),
# then runs both against the installed ossmp-emulator. Nothing from the source tree is used.
#   tests/consumer/run.sh PREFIX BUILD-DIR
set -euo pipefail
[[ $# == 2 ]] || { echo "usage: $0 PREFIX BUILD-DIR" >&2; exit 2; }
prefix=$(realpath "$1")
out=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out"
mkdir -p "$out"

echo "consumer: CMake, find_package(ossmp 0.1) from $prefix"
cmake -S "$here" -B "$out/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$out/cmake"
echo "consumer: meson, dependency('ossmp') from $prefix/share/pkgconfig"
PKG_CONFIG_PATH="$prefix/share/pkgconfig" meson setup "$out/meson" "$here" >/dev/null
meson compile -C "$out/meson" >/dev/null

"$prefix/bin/ossmp" --version
"$prefix/bin/ossmp-emulator" --version
export OSS_ACCESS_KEY_ID=consumer-ak OSS_ACCESS_KEY_SECRET=consumer-secret
"$prefix/bin/ossmp-emulator" --listen 127.0.0.1:0 --bucket demo >"$out/emulator.out" \
    2>"$out/emulator.err" &
emu=$!
trap 'kill $emu 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s "$out/emulator.out" ]] && break; sleep 0.1; done
endpoint=$(head -1 "$out/emulator.out" | sed -n 's/^ossmp-emulator listening on //p')
[[ -n "$endpoint" ]] || { echo "consumer: the emulator did not start" >&2; exit 1; }
for c in cmake meson; do
    line=$(OSS_ENDPOINT=$endpoint "$out/$c/consumer")
    echo "consumer ($c): $line"
    [[ $line == *"3 parts, 307200 bytes, verified yes" ]] ||
        { echo "consumer ($c): unexpected output" >&2; exit 1; }
done
