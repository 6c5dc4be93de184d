#!/usr/bin/env bash
# Installs what building and testing NPTI Studio needs on Debian/Ubuntu,
# only when missing: the C headers for Fyne's GLFW driver, Xvfb and the
# tools for screenshots, and a Go toolchain new enough for go.mod.
# Sourced by ./npti.sh and ./test.sh.
set -euo pipefail

need_pkgs=()
for p in libgl1-mesa-dev libx11-dev libxext-dev libxcursor-dev libxrandr-dev \
  libxinerama-dev libxi-dev libxxf86vm-dev xvfb xauth libgl1-mesa-dri xdotool \
  imagemagick x11-apps gcc pkg-config ca-certificates curl unzip; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup: installing ${need_pkgs[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends --no-upgrade "${need_pkgs[@]}" >/dev/null
fi

# Go: use the one on PATH (or /usr/local/go); Go >= 1.21 fetches the exact
# toolchain go.mod names by itself. Otherwise fetch it from the module proxy.
export PATH="$PATH:/usr/local/go/bin:$HOME/go/bin"
gomod_ver=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../go.mod")
go_ok() { command -v go >/dev/null 2>&1 && go version | grep -Eq 'go1\.(2[1-9]|[3-9][0-9])'; }
if ! go_ok; then
  dir="$HOME/.cache/npti-go/go$gomod_ver"
  if [ ! -x "$dir/bin/go" ]; then
    echo "setup: fetching Go $gomod_ver from the Go module proxy" >&2
    tmp=$(mktemp -d)
    curl -fsSL -o "$tmp/go.zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$gomod_ver.linux-$(dpkg --print-architecture).zip"
    mkdir -p "$(dirname "$dir")"
    (cd "$tmp" && unzip -q go.zip) && rm -rf "$dir" && mv "$tmp/golang.org/toolchain@v0.0.1-go$gomod_ver.linux-$(dpkg --print-architecture)" "$dir"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
fi
export LANG=en_US.UTF-8
