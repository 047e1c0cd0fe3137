#!/usr/bin/env bash
# Installs what gradwire needs, only when it is missing, so `npm run dev` and `npm test` work on a fresh Debian.
#   ensure-deps.sh app    npm packages only (enough to start the app)
#   ensure-deps.sh test   npm packages plus the Debian packages the tests use:
#                         chromium (browser tests and its SwiftShader Vulkan driver for WebGPU in Node),
#                         libvulkan1 (the Vulkan loader Dawn opens), python3-torch (the PyTorch reference).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-app}"

# npm packages: install when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "gradwire: installing npm packages" >&2
  # `npm install` rather than `npm ci`: npm 11 leaves Biome's other-platform binaries out of the lock file and
  # then `npm ci` refuses that same lock file; `npm install` installs exactly the locked versions all the same.
  npm install --no-audit --no-fund >&2
fi

[ "$mode" = "test" ] || exit 0

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -f /usr/lib/chromium/vk_swiftshader_icd.json ] || missing+=(chromium)
# grep without -q reads all of ldconfig's output: an early exit would SIGPIPE ldconfig and fail the pipefail.
ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1 ' >/dev/null || missing+=(libvulkan1)
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing+=(python3-torch)
if [ ${#missing[@]} -gt 0 ]; then
  echo "gradwire: installing Debian packages: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  # shellcheck disable=SC2068
  $sudo apt-get install -y -qq --no-install-recommends ${missing[@]} >&2
fi
