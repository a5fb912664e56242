#!/usr/bin/env bash
# Installs what natsfn needs on Debian bookworm. Idempotent: asks apt only for what is missing.
set -euo pipefail

packages=(build-essential cmake pkg-config git ca-certificates
  nats-server libnats-dev libuv1-dev libmsgpack-cxx-dev nlohmann-json3-dev libspdlog-dev
  catch2 libcli11-dev libarchive-dev libssl-dev libhttp-parser-dev
  python3 curl netcat-openbsd wrk procps)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
