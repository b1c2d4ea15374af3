#!/usr/bin/env bash
# Runs every test: installs what is missing, then builds twice and runs the
# whole ctest suite in each build:
#   1. gcc, warnings as errors
#   2. clang with AddressSanitizer + UndefinedBehaviorSanitizer, plus the
#      libFuzzer targets fuzzing briefly (LUAKCL_FUZZ_SECONDS each)
# ctest runs C unit tests, busted specs, integration tests against real
# kinesalite/dynalite, and the fuzzers; its last line counts them all.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup.sh
jobs=$(nproc)

echo "== build 1/2: gcc, -Werror"
cmake -S . -B build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUAKCL_WERROR=ON >/dev/null
cmake --build build/ci -j"$jobs"
(cd build/ci && ctest --output-on-failure -j"$jobs")

echo "== build 2/2: clang, ASan + UBSan, fuzzers"
CC=clang cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DLUAKCL_WERROR=ON \
  -DLUAKCL_SANITIZE=ON -DLUAKCL_FUZZ=ON -DLUAKCL_FUZZ_SECONDS="${LUAKCL_FUZZ_SECONDS:-15}" >/dev/null
cmake --build build/asan -j"$jobs"
(cd build/asan && ctest --output-on-failure -j"$jobs")
