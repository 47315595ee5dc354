#!/usr/bin/env bash
# Turn Raspberry Pi OS Bookworm (64-bit) into a Mesh Art Network venue node.
#
#   sudo scripts/install-pi.sh --venue waag --trust curator.key.pub [--radio serial:/dev/ttyACM0 | --radio tcp:HOST]
#        [--preset MEDIUM_FAST] [--ssid "MeshArt-Waag"] [--no-hotspot] [--dry-run] [--root DIR] [--force-os]
#
# It installs the Debian packages, copies this checkout to /opt/mesh-art with a virtual
# environment, creates the service user, writes /etc/mesh-art/node.toml and the trust anchors,
# installs the systemd unit, sets up the Wi-Fi hotspot with the captive portal, and applies the
# venue's radio profile. Idempotent: files are rewritten only when their content changes, and
# users, packages and connections are created only when missing.
#   --dry-run   print every action, change nothing
#   --root DIR  write the files under DIR instead of / and run no system command (for tests)
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
VENUE=""; TRUST=(); RADIO=""; SSID=""; PRESET="MEDIUM_FAST"
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
        --trust) TRUST+=("${2:-}"); shift 2 ;;
        --radio) RADIO="${2:-}"; shift 2 ;;
        --ssid) SSID="${2:-}"; shift 2 ;;
        --preset) PRESET="${2:-}"; shift 2 ;;
        --no-hotspot) HOTSPOT=0; shift ;;
        --dry-run) DRY=1; shift ;;
        --root) ROOT="${2%/}"; shift 2 ;;
        --force-os) FORCE_OS=1; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

# --- refuse what cannot work, before touching anything ---------------------------------------
[ -n "$VENUE" ] || die "--venue is required (nemo, oba, waag, zwijger, or a partner id)"
case "$VENUE" in *[!a-z0-9-]*) die "--venue must be lower-case letters, digits or '-'" ;; esac
[ "${#TRUST[@]}" -gt 0 ] || die "--trust CURATOR.pub is required: a node accepts only works endorsed by a trusted curator"
for t in "${TRUST[@]}"; do
    [ -f "$t" ] || die "trust file $t does not exist"
    grep -q '^mesh-art-public-v1 curator ' "$t" || die "$t is not a curator public key (.pub) file"
done
case "$RADIO" in ""|serial:*|tcp:*|ble:*) ;; *) die "--radio must be serial:/dev/..., tcp:HOST[:PORT] or ble:NAME" ;; esac
case "$PRESET" in LONG_FAST|LONG_SLOW|LONG_MODERATE|MEDIUM_SLOW|MEDIUM_FAST|SHORT_SLOW|SHORT_FAST) ;;
    *) die "preset $PRESET is not allowed in EU_868" ;; esac

OS_RELEASE="${ROOT}/etc/os-release"
[ -f "$OS_RELEASE" ] || die "cannot read $OS_RELEASE: unsupported system"
VERSION_CODENAME=""; PRETTY_NAME="unknown"
# shellcheck disable=SC1090
. "$OS_RELEASE"
if [ "$VERSION_CODENAME" != "bookworm" ] && [ "$FORCE_OS" = 0 ]; then
    die "unsupported system '$PRETTY_NAME': this installer supports Raspberry Pi OS / Debian bookworm (--force-os to try anyway)"
fi
if [ -z "$ROOT" ] && [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then
    die "run as root (sudo), or add --dry-run to see what would happen"
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || die "Python 3.11 or newer is required"

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

# --- configuration ------------------------------------------------------------------------------
trust_list=""
for t in "${TRUST[@]}"; do
    name=$(basename "$t")
    put_file "$CONF_DIR/$name" 0644 < "$t"
    trust_list="$trust_list\"$CONF_DIR/$name\", "
done
trust_list="[${trust_list%, }]"

IFS='|' read -r VENUE_NAME LAT LON < <(python3 - "$SRC/simulator/scenarios/amsterdam.json" "$VENUE" <<'PY'
import json, sys
for node in json.load(open(sys.argv[1]))["nodes"]:
    if node["name"] == sys.argv[2]:
        print(node.get("label", node["name"]), node["lat"], node["lon"], sep="|")
        break
else:
    print(sys.argv[2], "-", "-", sep="|")
PY
)
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
if [ "$HOTSPOT" = 1 ]; then
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

# --- the venue's radio profile ----------------------------------------------------------------------
PROFILE="$APP_DIR/firmware_config/profiles/$VENUE.yaml"
case "$RADIO" in
    serial:*) run "$APP_DIR/.venv/bin/mesh-art" radio apply "$PROFILE" --port "${RADIO#serial:}" ;;
    tcp:*) run "$APP_DIR/.venv/bin/mesh-art" radio apply "$PROFILE" --host "${RADIO#tcp:}" ;;
    "") say "no --radio given: the node runs without a radio until [radio] is added to $CONF_DIR/node.toml" ;;
    *) say "apply the radio profile by hand for $RADIO (docs/radio.md)" ;;
esac

say "done. Status: $APP_DIR/.venv/bin/mesh-art node status --data-dir $DATA_DIR"
