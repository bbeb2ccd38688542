#!/usr/bin/env bash
# Builds the ChatHub container image from the repository's Dockerfile with podman, tagged chathub:<version> (the
# server project's <Version>) and chathub:latest.
#
# The Dockerfile's base images are mcr.microsoft.com/dotnet/sdk:10.0 and mcr.microsoft.com/dotnet/runtime-deps:10.0.
# Where they are not in podman's store and cannot be pulled (CHATHUB_STAND_INS=auto, the default, builds them when
# they are missing, or when an SDK image there could not get clang for the Native AOT publish; =always rebuilds
# them; =never only uses what is there), this script builds local stand-ins under those names from
# deploy/stand-ins/: a minimal Debian root filesystem made by mmdebstrap from Debian's packages (for the SDK also
# clang and zlib's headers, plus this machine's whole .NET SDK), with the real images' user `app` (uid 1654) and
# variables. The root filesystems are cached in ${XDG_CACHE_HOME:-$HOME/.cache}/chathub. The image itself is always
# built with --pull=never, so it is built on whatever carries those names: the real images where they were pulled,
# the stand-ins here.
#
# Settings (environment):
#   CHATHUB_PODMAN_FLAGS   global podman flags; default "--runtime runc --cgroup-manager=cgroupfs"
#                          (add e.g. --storage-driver=vfs where overlay cannot be mounted)
#   CHATHUB_BUILD_NETWORK  network of the build's RUN steps (the SDK stage's `dotnet restore` reaches NuGet);
#                          default "host"
#   CHATHUB_BUILD_CA_BUNDLE  a CA bundle on this host mounted read-only over the build's
#                          /etc/ssl/certs/ca-certificates.crt during RUN steps (not kept in any image), so the
#                          restore trusts what this host trusts (e.g. a TLS-inspecting proxy's own CA); default
#                          $SSL_CERT_FILE or /etc/ssl/certs/ca-certificates.crt when it exists; empty: none
#   CHATHUB_STAND_INS      auto | always | never (see above)
#   CHATHUB_DEBIAN_MIRROR  mirror for mmdebstrap; default http://deb.debian.org/debian
# Prints the image's tags and size at the end.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
read -r -a podman_flags <<<"${CHATHUB_PODMAN_FLAGS:---runtime runc --cgroup-manager=cgroupfs}"
network=${CHATHUB_BUILD_NETWORK:-host}
stand_ins=${CHATHUB_STAND_INS:-auto}
mirror=${CHATHUB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/chathub
default_ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$default_ca" ] || default_ca=
ca_bundle=${CHATHUB_BUILD_CA_BUNDLE-$default_ca}

pm() { podman "${podman_flags[@]}" "$@"; }
log() { echo "build-image: $*" >&2; }

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/src/ChatHub.Server/ChatHub.Server.csproj" | head -n1)
[ -n "$version" ] || { log "no <Version> in src/ChatHub.Server/ChatHub.Server.csproj"; exit 1; }

sdk_image=mcr.microsoft.com/dotnet/sdk:10.0
runtime_deps_image=mcr.microsoft.com/dotnet/runtime-deps:10.0

# debian_rootfs NAME [PACKAGE...]: a Debian bookworm root filesystem of the Essential packages only (bash,
# coreutils, grep, ...) plus the libraries .NET programs need (the real images' list: ca-certificates, libc6,
# libgcc-s1, libicu72, libssl3, libstdc++6, tzdata, zlib1g) and the named packages; no apt, documentation, manual
# pages or translations. Built once per NAME, then reused.
debian_rootfs() {
  local name=$1; shift
  local tarball=$cache/debian-bookworm-$name.tar include=ca-certificates,libc6,libgcc-s1,libicu72,libssl3,libstdc++6,tzdata,zlib1g
  local package
  for package in "$@"; do include+=",$package"; done
  if [ ! -s "$tarball" ]; then
    mkdir -p "$cache"
    log "making a minimal Debian bookworm root filesystem ($name) with mmdebstrap (cached in $cache)"
    mmdebstrap --quiet --variant=essential --format=tar --include="$include" \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      bookworm "$tarball.partial" "$mirror"
    mv "$tarball.partial" "$tarball"
  fi
  echo "$tarball"
}

# build_stand_in NAME TAG ROOTFS [DOTNET_PART...]: a context with the root filesystem and the named parts of this
# machine's .NET installation (hard links where the file system allows, copies elsewhere), built with
# NAME.Containerfile.
build_stand_in() {
  local name=$1 tag=$2 rootfs=$3; shift 3
  local dotnet_root runtime sdk context
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" && $2 ~ /^10\./ {v=$2} END {print v}')
  sdk=$(dotnet --list-sdks | awk '$1 ~ /^10\./ {v=$1} END {print v}')
  [ -n "$runtime" ] || { log "this machine has no .NET 10 runtime to put in the stand-ins"; exit 1; }
  context=$(mktemp -d "$cache/stand-in.XXXXXX")
  cp -l "$rootfs" "$context/rootfs.tar" 2>/dev/null || cp "$rootfs" "$context/rootfs.tar"
  mkdir -p "$context/dotnet"
  local part
  for part in "$@"; do
    mkdir -p "$context/dotnet/$(dirname "$part")"
    cp -al "$dotnet_root/$part" "$context/dotnet/$part" 2>/dev/null || cp -a "$dotnet_root/$part" "$context/dotnet/$part"
  done
  log "building the stand-in $tag${sdk:+ (.NET SDK $sdk)}"
  pm build --pull=never --format docker --network=none -q \
    --build-arg "DOTNET_VERSION=$runtime" --build-arg "DOTNET_SDK_VERSION=$sdk" \
    -f "$repo/deploy/stand-ins/$name.Containerfile" -t "$tag" "$context" >/dev/null
  rm -rf "$context"
}

# stand_in_needed IMAGE [CHECK]: whether to build the stand-in for IMAGE; CHECK, a shell command run in an image
# already there, says whether that image will do (an SDK stand-in from before the Native AOT publish has no clang).
stand_in_needed() {
  case $stand_ins in
    always) return 0 ;;
    never) return 1 ;;
    *) ! pm image exists "$1" || { [ -n "${2:-}" ] && ! pm run --rm --network=none "$1" sh -c "$2" >/dev/null 2>&1; } ;;
  esac
}

if stand_in_needed "$runtime_deps_image"; then
  build_stand_in runtime-deps "$runtime_deps_image" "$(debian_rootfs dotnet-deps)"
fi
# The real SDK image gets clang with apt in the Dockerfile; a stand-in must carry it.
if stand_in_needed "$sdk_image" 'command -v clang || command -v apt-get'; then
  build_stand_in sdk "$sdk_image" "$(debian_rootfs dotnet-deps-clang clang zlib1g-dev)" \
    dotnet LICENSE.txt ThirdPartyNotices.txt host shared sdk sdk-manifests packs templates
fi

# --format docker keeps the Dockerfile's HEALTHCHECK (the OCI image format has no health check).
build_flags=(--pull=never --format docker --network="$network")
[ -z "$ca_bundle" ] || build_flags+=(--volume "$(readlink -f "$ca_bundle"):/etc/ssl/certs/ca-certificates.crt:ro")
log "building chathub:$version from Dockerfile"
pm build "${build_flags[@]}" \
  -f "$repo/Dockerfile" -t "chathub:$version" -t chathub:latest "$repo" >&2
size=$(pm image inspect --format '{{.Size}}' "chathub:$version")
echo "chathub:$version chathub:latest $size"
