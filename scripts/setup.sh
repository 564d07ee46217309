#!/usr/bin/env bash
# Sets up everything fmipdissect needs on a Debian machine: a virtual
# environment with the package, and Debian's tshark (with lua5.4 for the
# Lua syntax check), the Wireshark Qt GUI with Xvfb, xdotool and xclip (the
# GUI test) and chromium (the HTML report tests, headless) when they are
# missing.  Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating virtual environment .venv"
    "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import fmipdissect, scapy, dpkt, jinja2, pyshark, pytest, hypothesis, xdist" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ] || [ setup.py -nt .venv/.installed ] \
   || [ fmipdissect/capture/_skip.c -nt .venv/.installed ] \
   || [ fmipdissect/capture/_sieve.c -nt .venv/.installed ]; then
    echo "setup: installing fmipdissect and its dependencies into .venv"
    # compat: a plain path entry in site-packages, no import hook (start-up
    # time); setup.py builds the C accelerator in place when it can
    if ! .venv/bin/python -m pip install -q -e ".[test]" \
            --config-settings editable_mode=compat >.venv/install.log 2>&1; then
        cat .venv/install.log >&2
        echo "setup: pip install failed (log above, also in .venv/install.log)" >&2
        exit 1
    fi
    touch .venv/.installed
fi
# byte-compile the package once: with PYTHONDONTWRITEBYTECODE set, every
# run would otherwise compile it again (a third of fmip-lint's start-up)
.venv/bin/python -m compileall -q fmipdissect >/dev/null
need=()
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v luac5.4 >/dev/null 2>&1 || need+=(lua5.4)
command -v editcap >/dev/null 2>&1 || need+=(wireshark-common)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# the Wireshark GUI test (Statistics > FMIPv4 Handovers): the Qt GUI on a
# private X display, driven by the keyboard, its window read by the clipboard
command -v wireshark >/dev/null 2>&1 || need+=(wireshark-qt)
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v xdotool >/dev/null 2>&1 || need+=(xdotool)
command -v xclip >/dev/null 2>&1 || need+=(xclip)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Debian packages: ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "setup: missing ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
        echo "setup: (the Wireshark tests need tshark, the HTML report tests chromium; without CI=true they are skipped)" >&2
    fi
fi
