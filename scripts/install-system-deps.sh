#!/usr/bin/env bash
# System packages casefile needs for PDF renditions (Debian/Ubuntu):
#   LibreOffice Writer without GUI, its Python UNO bridge, CJK fonts, poppler-utils,
# Chromium for the browser suite (Playwright cannot download browsers here), the two shared
# libraries OpenCV loads for text recognition of scans (rapidocr-onnxruntime, a Python
# dependency), and the fontconfig aliases that map template font names (仿宋_GB2312, 方正小标宋简体, 黑体,
# 楷体_GB2312, 宋体, ...) to the installed CJK fonts (/etc/fonts/conf.d/35-casefile-cjk.conf).
#
# Idempotent and fast when everything is present (dpkg -s only; apt-get runs only for what is
# missing). Run as root, or as a user with passwordless sudo. No arguments.
#
#   CASEFILE_SKIP_SYSTEM_DEPS=1   do nothing (machines managed otherwise)
#   CASEFILE_FONT_ALIASES=0       do not install the font aliases (remove ours if present):
#                                 for sites that installed the licensed fonts themselves
#
# Without apt-get (not Debian) it prints what to install and exits 0: casefile still runs;
# renditions stay queued until LibreOffice is available.
set -euo pipefail

if [[ "${CASEFILE_SKIP_SYSTEM_DEPS:-}" == "1" ]]; then
    echo "install-system-deps: skipped (CASEFILE_SKIP_SYSTEM_DEPS=1)"
    exit 0
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FONTS_PY="$ROOT/app/renditions/fonts.py"
CONF=/etc/fonts/conf.d/35-casefile-cjk.conf

PACKAGES=(
    libreoffice-writer-nogui   # soffice --headless, Writer import/export filters
    python3-uno                # 'import uno' for /usr/bin/python3 (the warm converter's helper)
    fonts-noto-cjk             # Noto Serif/Sans CJK SC: 宋体, 小标宋 (bold), 黑体
    fonts-arphic-uming         # AR PL UMing CN: stands in for 仿宋 (light Ming face)
    fonts-arphic-ukai          # AR PL UKai CN: 楷体
    fontconfig                 # fc-match / fc-cache
    poppler-utils              # pdffonts, pdftoppm (checks and page previews)
    chromium                   # the browser suite (tests/browser) drives it through Playwright
    chromium-l10n              # its own controls (选择文件, dates) in Chinese, as users see them
    libgl1                     # libGL.so.1, which OpenCV (opencv-python, for RapidOCR) links to
    libglib2.0-0               # libgthread/libglib, likewise
)

SUDO=()
if [[ "$(id -u)" != "0" ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        SUDO=(__no_root__)
    fi
fi

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: not a Debian system; install LibreOffice Writer (headless) with its" >&2
    echo "  Python UNO bridge, Noto CJK + AR PL UMing/UKai fonts and poppler-utils by hand, then run" >&2
    echo "  python3 $FONTS_PY --write <fontconfig conf.d>/35-casefile-cjk.conf" >&2
    exit 0
fi

MISSING=()
for p in "${PACKAGES[@]}"; do
    installed "$p" || MISSING+=("$p")
done

changed=0
if ((${#MISSING[@]})); then
    if [[ "${SUDO[0]:-}" == "__no_root__" ]]; then
        echo "install-system-deps: missing ${MISSING[*]}; run this script as root" >&2
        exit 1
    fi
    echo "install-system-deps: installing ${MISSING[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_install() {
        "${SUDO[@]}" apt-get install -y --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${MISSING[@]}"
    }
    # Lists may be stale or absent on a fresh image: always update before installing.
    "${SUDO[@]}" apt-get update -qq || echo "install-system-deps: apt-get update had errors" >&2
    if ! apt_install; then
        echo "install-system-deps: retrying after a fresh apt-get update" >&2
        "${SUDO[@]}" apt-get update
        apt_install
    fi
    changed=1
fi

# Font aliases (stdlib-only helper, runs with the system python3 that python3-uno brings).
PY=/usr/bin/python3
command -v "$PY" >/dev/null 2>&1 || PY="$(command -v python3)"
if [[ "${CASEFILE_FONT_ALIASES:-1}" == "0" ]]; then
    # Site uses licensed fonts under their real names: no aliases.
    if [[ -f "$CONF" && "${SUDO[0]:-}" != "__no_root__" ]]; then
        "${SUDO[@]}" rm -f "$CONF"
        changed=1
    fi
elif [[ ! -f "$CONF" ]] || ! "$PY" "$FONTS_PY" | cmp -s - "$CONF"; then
    if [[ "${SUDO[0]:-}" == "__no_root__" ]]; then
        echo "install-system-deps: $CONF is missing or outdated; run this script as root" >&2
        echo "  (the converter applies the same aliases itself, so renditions are unaffected)" >&2
    else
        "${SUDO[@]}" "$PY" "$FONTS_PY" --write "$CONF"
        changed=1
    fi
fi

if ((changed)) && [[ "${SUDO[0]:-}" != "__no_root__" ]]; then
    "${SUDO[@]}" fc-cache -f >/dev/null 2>&1 || true
fi

# Cheap sanity checks (no LibreOffice start-up).
if ! command -v soffice >/dev/null 2>&1; then
    echo "install-system-deps: soffice not on PATH after install" >&2
    exit 1
fi
if ! /usr/bin/python3 -c "import uno" >/dev/null 2>&1; then
    echo "install-system-deps: /usr/bin/python3 cannot import uno (python3-uno)" >&2
    exit 1
fi
if ! command -v chromium >/dev/null 2>&1; then
    echo "install-system-deps: chromium not on PATH after install (the browser suite needs it)" >&2
    exit 1
fi
if ((changed)); then
    echo "install-system-deps: done"
fi
