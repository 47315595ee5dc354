#!/usr/bin/env bash
# Turn Raspberry Pi OS (64-bit; Debian 12 bookworm or 13 trixie) into a Mesh Art Network venue node.
#
#   sudo scripts/install-pi.sh --kit KIT --venue waag [--radio serial:/dev/ttyACM0 | --radio tcp:HOST]
#        [--ssid "MeshArt-Waag"] [--no-hotspot] [--dry-run] [--root DIR] [--force-os]
#
# KIT is the curator's exhibition kit (`mesh-art kit new`): the curator key, the channel key,
# the venue profiles (partners included), the preset and the channel QR code. It installs the
# Debian packages, copies this checkout to /opt/mesh-art with a virtual environment, creates the
# service user, copies the kit to /etc/mesh-art/kit, writes /etc/mesh-art/node.toml, installs the
# systemd unit, sets up the Wi-Fi hotspot and captive portal (NetworkManager on both releases),
# and applies the venue's radio profile from the kit. Idempotent: files are rewritten only when
# their content changes, and users, packages and connections are created only when missing.
#   --dry-run   print every action, change nothing
#   --root DIR  write the files under DIR instead of / and run no system command (for tests)
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
VENUE=""; KIT=""; RADIO=""; SSID=""
HOTSPOT=1; DRY=0; ROOT=""; FORCE_OS=0
APP_DIR="/opt/mesh-art"; CONF_DIR="/etc/mesh-art"; DATA_DIR="/var/lib/mesh-art"; SERVICE_USER="mesh-art"
AP_ADDR="10.42.0.1"; HTTP_PORT=8080

die() { echo "install-pi: $*" >&2; exit 1; }
say() { echo "install-pi: $*"; }
# run a system command, or only show it (dry run / --root)
run() { if [ "$DRY" = 1 ] || [ -n "$ROOT" ]; then echo "would run: $*"; else "$@"; fi; }

while [ $# -gt 0 ]; do
    case "$1" in
        --venue) VENUE="${2:-}"; shift 2 ;;
        --kit) KIT="${2:-}"; KIT="${KIT%/}"; shift 2 ;;
        --trust|--preset) die "$1 is gone: the curator key and the preset come from the exhibition kit (--kit KIT)" ;;
        --radio) RADIO="${2:-}"; shift 2 ;;
        --ssid) SSID="${2:-}"; shift 2 ;;
        --no-hotspot) HOTSPOT=0; shift ;;
        --dry-run) DRY=1; shift ;;
        --root) ROOT="${2%/}"; shift 2 ;;
        --force-os) FORCE_OS=1; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

# --- refuse what cannot work, before touching anything ---------------------------------------
[ -n "$KIT" ] || die "--kit KIT is required: the exhibition kit from the curator (mesh-art kit new)"
[ -n "$VENUE" ] || die "--venue is required (a venue id of the kit: nemo, oba, waag, zwijger, or a partner id)"
case "$VENUE" in *[!a-z0-9-]*) die "--venue must be lower-case letters, digits or '-'" ;; esac
for f in kit.json curator.pub channel.key "profiles/$VENUE.yaml"; do
    [ -f "$KIT/$f" ] || case "$f" in
        profiles/*) die "the kit at $KIT has no venue '$VENUE' (its venues: $(cd "$KIT/profiles" 2>/dev/null && ls ./*.yaml 2>/dev/null | sed 's|^\./||; s|\.yaml$||' | tr '\n' ' '))" ;;
        *) die "$KIT is not an exhibition kit: $f is missing (the curator makes one with mesh-art kit new)" ;;
    esac
done
grep -q '^mesh-art-public-v1 curator ' "$KIT/curator.pub" || die "$KIT/curator.pub is not a curator public key (.pub) file"
case "$RADIO" in ""|serial:*|tcp:*|ble:*) ;; *) die "--radio must be serial:/dev/..., tcp:HOST[:PORT] or ble:NAME" ;; esac

OS_RELEASE="${ROOT}/etc/os-release"
[ -f "$OS_RELEASE" ] || die "cannot read $OS_RELEASE: unsupported system"
VERSION_CODENAME=""; PRETTY_NAME="unknown"
# shellcheck disable=SC1090
. "$OS_RELEASE"
case "$VERSION_CODENAME" in
    bookworm|trixie) ;;   # Debian 12 (Python 3.11) and 13 (Python 3.13); Raspberry Pi OS is trixie since October 2025
    *) [ "$FORCE_OS" = 1 ] || die "unsupported system '$PRETTY_NAME': this installer supports Raspberry Pi OS / Debian bookworm and trixie (--force-os to try anyway)" ;;
esac
if [ -z "$ROOT" ] && [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then
    die "run as root (sudo), or add --dry-run to see what would happen"
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || die "Python 3.11 or newer is required"
# What the kit says (kit.json): preset, venue label and position, for node.toml.
IFS='|' read -r PRESET VENUE_NAME LAT LON < <(python3 - "$KIT/kit.json" "$VENUE" <<'PY'
import json, sys
kit = json.load(open(sys.argv[1], encoding="utf-8"))
for venue in kit["venues"]:
    if venue["id"] == sys.argv[2]:
        print(kit["preset"], venue["label"].replace('"', "'"), venue["lat"], venue["lon"], sep="|")
        break
else:
    print(kit["preset"], sys.argv[2], "-", "-", sep="|")
PY
) || die "$KIT/kit.json cannot be read"

# --- idempotent file writer ---------------------------------------------------------------------
put_file() {  # put_file PATH MODE < content
    local path="${ROOT}$1" mode="$2" tmp
    tmp=$(mktemp)
    cat > "$tmp"
    if [ -f "$path" ] && cmp -s "$tmp" "$path"; then rm -f "$tmp"; say "unchanged $1"; return 0; fi
    if [ "$DRY" = 1 ]; then rm -f "$tmp"; echo "would write $1 (mode $mode)"; return 0; fi
    mkdir -p "$(dirname "$path")"
    install -m "$mode" "$tmp" "$path"
    rm -f "$tmp"
    say "wrote $1"
}

# --- packages, service user, code ----------------------------------------------------------------
PACKAGES=(python3-venv python3-pip git network-manager nftables sqlite3)
missing=()
for p in "${PACKAGES[@]}"; do
    if [ -n "$ROOT" ] || ! dpkg -s "$p" >/dev/null 2>&1; then missing+=("$p"); fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    run apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if [ -n "$ROOT" ] || ! id "$SERVICE_USER" >/dev/null 2>&1; then
    run useradd --system --home-dir "$DATA_DIR" --shell /usr/sbin/nologin --groups dialout "$SERVICE_USER"
fi
if [ "$SRC" != "$APP_DIR" ]; then
    run mkdir -p "$APP_DIR"
    run cp -a "$SRC/." "$APP_DIR/"
fi
[ -n "$ROOT" ] || [ "$DRY" = 1 ] || [ -x "$APP_DIR/.venv/bin/python" ] || python3 -m venv "$APP_DIR/.venv"
run "$APP_DIR/.venv/bin/pip" install -q --upgrade "$APP_DIR"

# --- the data directory: it must survive power cuts ------------------------------------------------
# The store is SQLite in WAL mode with full fsync, so a power cut loses at most the chunk in flight.
# For a read-only root (raspi-config: overlay file system) mount a writable partition here.
if [ -z "$ROOT" ] && [ "$DRY" = 0 ]; then
    install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$DATA_DIR"
    if [ "$(findmnt -n -o TARGET --target "$DATA_DIR")" = "/" ] && grep -q ' / overlay' /proc/mounts; then
        say "warning: $DATA_DIR is on the overlay root and will be lost at reboot; mount a data partition there"
    fi
fi

# --- configuration: the kit, then node.toml ----------------------------------------------------------
KIT_DIR="$CONF_DIR/kit"
for f in kit.json curator.pub channel-qr.svg channel-qr.png; do
    if [ -f "$KIT/$f" ]; then put_file "$KIT_DIR/$f" 0644 < "$KIT/$f"; fi
done
put_file "$KIT_DIR/channel.key" 0640 < "$KIT/channel.key"       # group mesh-art: the daemon checks the radio's key
if [ -f "$KIT/channel-url.txt" ]; then put_file "$KIT_DIR/channel-url.txt" 0640 < "$KIT/channel-url.txt"; fi
for p in "$KIT"/profiles/*.yaml; do put_file "$KIT_DIR/profiles/$(basename "$p")" 0644 < "$p"; done
trust_list="[\"$KIT_DIR/curator.pub\"]"

position=""
[ "$LAT" != "-" ] && position="lat = $LAT
lon = $LON"
radio_section="# no radio configured: add a [radio] section (see docs/examples/node.toml)"
if [ -n "$RADIO" ]; then
    radio_section="[radio]
device = \"$RADIO\"
preset = \"$PRESET\"
duty_cycle_share = 0.9"
fi
public_url="/"
[ "$HOTSPOT" = 1 ] && public_url="http://$AP_ADDR/"

put_file "$CONF_DIR/node.toml" 0640 <<EOF
# Mesh Art Node at $VENUE_NAME, written by scripts/install-pi.sh.
# Every key is explained in $APP_DIR/docs/examples/node.toml.
[node]
name = "Mesh Art Node $VENUE_NAME"
venue = "$VENUE_NAME"
$position
data_dir = "$DATA_DIR"
trust = $trust_list
kit = "$KIT_DIR"

[http]
host = "0.0.0.0"
port = $HTTP_PORT
public_url = "$public_url"

$radio_section
EOF
run chgrp -R "$SERVICE_USER" "$CONF_DIR"

# --- systemd service ----------------------------------------------------------------------------
put_file /etc/systemd/system/mesh-art-node.service 0644 < "$SRC/docs/deploy/mesh-art-node.service"
put_file /etc/tmpfiles.d/mesh-art-node.conf 0644 < "$SRC/docs/deploy/mesh-art-node.tmpfiles.conf"
run systemctl daemon-reload
run systemctl enable --now mesh-art-node.service

# --- Wi-Fi hotspot and captive portal (docs/deploy/captive-portal.md) --------------------------------
# NetworkManager runs the hotspot on bookworm and trixie alike (its shared mode starts dnsmasq).
# Netplan or cloud-init images may rewrite NetworkManager's profiles at boot: the profile is kept
# in /etc/NetworkManager/system-connections, and a warning below names what could override it.
if [ "$HOTSPOT" = 1 ]; then
    for override in /etc/netplan /etc/cloud/cloud.cfg.d; do
        if [ -d "${ROOT}$override" ] && [ -n "$(ls -A "${ROOT}$override" 2>/dev/null)" ]; then
            say "warning: $override exists: netplan/cloud-init can replace NetworkManager's hotspot profile at boot (docs/deploy/raspberry-pi.md, 'Netplan and cloud-init')"
        fi
    done
    SSID="${SSID:-MeshArt-${VENUE^^}}"
    put_file /etc/NetworkManager/dnsmasq-shared.d/mesh-art-gallery.conf 0644 <<EOF
# Mesh Art Node captive portal: every name resolves to the node, no IPv6 answers,
# and the RFC 8910 captive-portal URI.
address=/#/$AP_ADDR
address=/#/::
dhcp-option=114,http://$AP_ADDR/welcome
EOF
    put_file /etc/nftables.d/mesh-art-gallery.nft 0644 <<EOF
# Plain HTTP on the hotspot goes to the gallery on port $HTTP_PORT; HTTPS is refused at once.
table ip mesh_art_gallery {
  chain prerouting {
    type nat hook prerouting priority dstnat;
    iifname "wlan0" tcp dport 80 redirect to :$HTTP_PORT
  }
}
table inet mesh_art_gallery_filter {
  chain input {
    type filter hook input priority 0;
    iifname "wlan0" tcp dport 443 reject with tcp reset
  }
}
EOF
    nft_conf="${ROOT}/etc/nftables.conf"
    if ! grep -qs 'include "/etc/nftables.d/\*.nft"' "$nft_conf"; then
        if [ "$DRY" = 1 ]; then echo "would add the nftables.d include to /etc/nftables.conf"
        else mkdir -p "$(dirname "$nft_conf")"; echo 'include "/etc/nftables.d/*.nft"' >> "$nft_conf"; say "updated /etc/nftables.conf"; fi
    fi
    run systemctl enable --now nftables.service
    if [ -n "$ROOT" ] || [ "$DRY" = 1 ] || ! nmcli -t -f NAME connection show | grep -qx mesh-art-hotspot; then
        run nmcli connection add type wifi ifname wlan0 con-name mesh-art-hotspot autoconnect yes ssid "$SSID" \
            802-11-wireless.mode ap 802-11-wireless.band bg ipv4.method shared ipv4.addresses "$AP_ADDR/24"
    fi
    run nmcli connection up mesh-art-hotspot
fi

# --- the venue's radio profile, from the kit (the daemon must not hold the radio meanwhile) ------------
# The radio takes one TCP/serial client at a time, so the service is stopped while the profile goes on.
case "$RADIO" in
    serial:*|tcp:*)
        run systemctl stop mesh-art-node.service
        if [ "${RADIO%%:*}" = serial ]; then where=(--port "${RADIO#serial:}"); else where=(--host "${RADIO#tcp:}"); fi
        run "$APP_DIR/.venv/bin/mesh-art" radio apply "$VENUE" --kit "$KIT_DIR" "${where[@]}"
        run systemctl start mesh-art-node.service ;;
    "") say "no --radio given: the node runs without a radio until [radio] is added to $CONF_DIR/node.toml" ;;
    *) say "apply the radio profile by hand for $RADIO (docs/radio.md)" ;;
esac

say "done. Status: $APP_DIR/.venv/bin/mesh-art node status --data-dir $DATA_DIR"
