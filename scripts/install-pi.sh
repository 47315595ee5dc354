#!/usr/bin/env bash
# Turn a fresh Raspberry Pi OS Bookworm (64-bit) into a Mesh Art Network venue node.
#
#   sudo scripts/install-pi.sh --venue waag --trust /path/curator.key.pub [--radio /dev/ttyUSB0 | --radio tcp:HOST]
#        [--ssid "Mesh Art Waag"] [--preset MEDIUM_FAST] [--data-dir /srv/mesh-art] [--no-hotspot]
#        [--dry-run] [--root DIR]
#
# Idempotent: files are only rewritten when their content changes; packages, the user and the
# hotspot are only created when missing. --dry-run prints every action and changes nothing.
# --root DIR writes all files under DIR instead of / and skips packages/systemctl/nmcli (used by
# the tests to check what the script writes).
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
VENUE=""; TRUST=(); RADIO=""; SSID=""; PRESET="MEDIUM_FAST"; DATA_DIR="/srv/mesh-art"
HOTSPOT=1; DRY=0; ROOT=""; FORCE_OS=0
APP_DIR="/opt/mesh-art"; CONF_DIR="/etc/mesh-art"; USER_NAME="meshart"

die() { echo "install-pi: $*" >&2; exit 1; }
say() { echo "install-pi: $*"; }
run() { if [ "$DRY" = 1 ] || [ -n "$ROOT" ]; then echo "would run: $*"; else "$@"; fi; }

while [ $# -gt 0 ]; do
    case "$1" in
        --venue) VENUE="$2"; shift 2 ;;
        --trust) TRUST+=("$2"); shift 2 ;;
        --radio) RADIO="$2"; shift 2 ;;
        --ssid) SSID="$2"; shift 2 ;;
        --preset) PRESET="$2"; shift 2 ;;
        --data-dir) DATA_DIR="$2"; shift 2 ;;
        --no-hotspot) HOTSPOT=0; shift ;;
        --dry-run) DRY=1; shift ;;
        --root) ROOT="${2%/}"; shift 2 ;;
        --force-os) FORCE_OS=1; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

VENUES="nemo oba waag zwijger"
[ -n "$VENUE" ] || die "--venue is required (one of: $VENUES, or a partner id)"
case "$VENUE" in *[!a-z0-9-]*) die "--venue must be lower-case letters, digits or '-'" ;; esac
[ "${#TRUST[@]}" -gt 0 ] || die "--trust CURATOR.pub is required: nodes only accept works endorsed by a trusted curator"
for t in "${TRUST[@]}"; do
    [ -f "$t" ] || die "trust file $t does not exist"
    head -c 18 "$t" | grep -q '^mesh-art-public-v1' || die "$t is not a mesh-art public key file"
done

# --- refuse unsupported systems -------------------------------------------------------------
OS_RELEASE="${ROOT}/etc/os-release"
[ -f "$OS_RELEASE" ] || OS_RELEASE=/etc/os-release
# shellcheck disable=SC1090
. "$OS_RELEASE"
if [ "${VERSION_CODENAME:-}" != "bookworm" ] && [ "$FORCE_OS" = 0 ]; then
    die "unsupported system '${PRETTY_NAME:-unknown}': this installer supports Raspberry Pi OS / Debian bookworm (use --force-os to try anyway)"
fi
if [ -z "$ROOT" ] && [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then
    die "run as root (sudo), or use --dry-run to see what would happen"
fi
PY_OK=$(python3 -c 'import sys; print(int(sys.version_info >= (3, 11)))' 2>/dev/null || echo 0)
[ "$PY_OK" = 1 ] || die "Python 3.11 or newer is required"

# --- helpers that write files idempotently -----------------------------------------------------
CHANGED=()
put_file() {  # put_file PATH MODE  (content on stdin)
    local path="${ROOT}$1" mode="$2" tmp
    tmp=$(mktemp)
    cat > "$tmp"
    if [ -f "$path" ] && cmp -s "$tmp" "$path"; then rm -f "$tmp"; return 0; fi
    if [ "$DRY" = 1 ]; then echo "would write $1 (mode $mode)"; rm -f "$tmp"; return 0; fi
    mkdir -p "$(dirname "$path")"
    install -m "$mode" "$tmp" "$path"
    rm -f "$tmp"
    CHANGED+=("$1")
    say "wrote $1"
}

# --- packages, user, code --------------------------------------------------------------------
APT_PKGS="python3-venv python3-pip network-manager dnsmasq-base sqlite3"
if [ -z "$ROOT" ]; then
    missing=""
    for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    if [ -n "$missing" ]; then
        run apt-get update -qq
        run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
    fi
    if ! id "$USER_NAME" >/dev/null 2>&1; then
        run useradd --system --home-dir "$DATA_DIR" --shell /usr/sbin/nologin --groups dialout "$USER_NAME"
    fi
    if [ ! -x "$APP_DIR/venv/bin/mesh-art" ]; then
        run python3 -m venv "$APP_DIR/venv"
    fi
    run "$APP_DIR/venv/bin/pip" install -q --upgrade "$SRC"
else
    echo "would install packages: $APT_PKGS; user $USER_NAME; venv $APP_DIR/venv with $SRC"
fi

# --- data dir on a partition that survives power cuts -----------------------------------------
if [ "$DRY" = 0 ]; then mkdir -p "${ROOT}${DATA_DIR}"; fi
if [ -z "$ROOT" ] && [ "$DRY" = 0 ]; then chown "$USER_NAME": "$DATA_DIR"; chmod 0750 "$DATA_DIR"; fi

# --- trust anchors and node config ------------------------------------------------------------
trust_lines=""
for t in "${TRUST[@]}"; do
    name=$(basename "$t")
    put_file "$CONF_DIR/trust/$name" 0644 < "$t"
    trust_lines="$trust_lines\"$CONF_DIR/trust/$name\", "
done
trust_lines="[${trust_lines%, }]"

VENUE_JSON="$SRC/simulator/scenarios/venues.json"
lat=""; lon=""; vname="$VENUE"
if [ -f "$VENUE_JSON" ]; then
    read -r vname lat lon < <(python3 - "$VENUE_JSON" "$VENUE" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for v in data.get("venues", []):
    if v.get("id") == sys.argv[2]:
        print(v["name"].replace(" ", "_"), v["lat"], v["lon"])
        break
else:
    print(sys.argv[2], "", "")
PY
)
    vname="${vname//_/ }"
fi

radio_block="[radio]
enabled = false"
if [ -n "$RADIO" ]; then
    radio_block="[radio]
enabled = true
device = \"$RADIO\"          # serial:/dev/ttyUSB0, tcp:HOST[:PORT] (meshtasticd) or ble:NAME
preset = \"$PRESET\"
duty_cycle_share = 0.9"
fi
pos_lines=""
[ -n "$lat" ] && pos_lines="lat = $lat
lon = $lon"

put_file "$CONF_DIR/node.toml" 0644 <<EOF
# Mesh Art Node configuration, written by scripts/install-pi.sh (safe to edit; see
# docs/examples/node.toml for every key).
[node]
name = "Mesh Art Node $vname"
venue = "$vname"
$pos_lines
data_dir = "$DATA_DIR"
trust = $trust_lines

[http]
host = "0.0.0.0"
port = 80

$radio_block
EOF

# --- systemd unit -----------------------------------------------------------------------------
put_file /etc/systemd/system/mesh-art-node.service 0644 < <(
    sed -e "s#@APP_DIR@#$APP_DIR#g" -e "s#@DATA_DIR@#$DATA_DIR#g" -e "s#@CONF_DIR@#$CONF_DIR#g" \
        -e "s#@USER@#$USER_NAME#g" "$SRC/docs/deploy/mesh-art-node.service.in")
run systemctl daemon-reload
run systemctl enable --now mesh-art-node.service

# --- Wi-Fi hotspot with captive portal (NetworkManager) ----------------------------------------
if [ "$HOTSPOT" = 1 ]; then
    SSID="${SSID:-Mesh Art $vname}"
    put_file /etc/NetworkManager/dnsmasq-shared.d/mesh-art-captive.conf 0644 <<'EOF'
# Mesh Art Node captive portal: answer every DNS name with the node itself, so phones that
# probe for connectivity land on the gallery (see docs/deploy/captive-portal.md).
address=/#/10.42.0.1
EOF
    if [ -z "$ROOT" ] && ! nmcli -t -f NAME connection show 2>/dev/null | grep -qx mesh-art-hotspot; then
        run nmcli connection add type wifi ifname wlan0 con-name mesh-art-hotspot autoconnect yes \
            ssid "$SSID" 802-11-wireless.mode ap 802-11-wireless.band bg ipv4.method shared \
            ipv4.addresses 10.42.0.1/24
        run nmcli connection up mesh-art-hotspot
    elif [ -n "$ROOT" ]; then
        echo "would create NetworkManager hotspot 'mesh-art-hotspot' with SSID '$SSID'"
    fi
fi

# --- radio profile ------------------------------------------------------------------------------
PROFILE="$SRC/firmware_config/profiles/$VENUE.yaml"
if [ -n "$RADIO" ] && [ -f "$PROFILE" ]; then
    case "$RADIO" in
        serial:*) target=(--port "${RADIO#serial:}") ;;
        tcp:*) target=(--host "${RADIO#tcp:}") ;;
        *) target=() ;;
    esac
    if [ "${#target[@]}" -gt 0 ]; then
        say "applying radio profile $PROFILE"
        run "$APP_DIR/venv/bin/mesh-art" radio apply "$PROFILE" "${target[@]}"
    fi
fi

say "done. Check the node with: $APP_DIR/venv/bin/mesh-art node status --data-dir $DATA_DIR"
