#!/usr/bin/env bash
# The wheel as a user gets it: built from the checkout's files, installed with the tested versions
# (constraints.txt: torch==2.13.0 is the CPU build; a looser pin pulls a multi-GB CUDA one) into a fresh
# venv outside the checkout, and run from another folder, so nothing can come from the source tree.
# First without the GUI extra (the headless commands must not need Qt), then with it (the window opens,
# and `netbuilder --self-test` passes).
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$(pwd)
PY=${PY:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Build from a copy of the files git knows (tracked, or new and not ignored): a stale build/ folder or a
# stray local file in the checkout must not make a wheel that CI's clean clone would not.
mkdir "$work/src" "$work/elsewhere"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && cp --parents -- "$f" "$work/src/"   # a file deleted but not yet staged is not copied
done
"$PY" -m venv "$work/venv"
pip="$work/venv/bin/pip"
# `python -m build`: the sdist first, then the wheel built from that sdist, so the sdist is proven whole too.
"$PY" -m venv "$work/build-venv"
"$work/build-venv/bin/pip" install -q -c "$checkout/constraints.txt" build
if ! "$work/build-venv/bin/python" -m build --outdir "$work/dist" "$work/src" >"$work/build.log" 2>&1; then
    cat "$work/build.log"; echo "python -m build failed"; exit 1
fi
wheel=$(ls "$work"/dist/netbuilder-*.whl)
sdist=$(ls "$work"/dist/netbuilder-*.tar.gz)
echo "built $(basename "$sdist") and, from it, $(basename "$wheel")"

"$pip" install -q -c "$checkout/constraints.txt" "$wheel"
cd "$work/elsewhere"
export PATH="$work/venv/bin:$PATH"
# A first start's settings and data, not those of whoever runs this (the window would reopen their last project).
export XDG_CONFIG_HOME="$work/config" NETBUILDER_DATA_DIR="$work/data"
py="$work/venv/bin/python"

# Every file git tracks in the packages is installed (modules, the schema, examples, data and its licence).
"$py" - "$checkout" <<'EOF'
import subprocess, sys
from importlib.metadata import files
checkout = sys.argv[1]
tracked = subprocess.run(["git", "-C", checkout, "ls-files", "netbuilder", "ui", "resources"],
                         capture_output=True, text=True, check=True).stdout.split()
wanted = {p.replace("resources/", "netbuilder_resources/", 1) for p in tracked}
installed = {str(p) for p in files("netbuilder")}
missing = sorted(wanted - installed)
if missing:
    sys.exit("the wheel lacks files the checkout has (package discovery or package-data in setup.py/pyproject.toml "
             "must include them):\n  " + "\n  ".join(missing))
import netbuilder
if not netbuilder.__file__.startswith(sys.prefix):
    sys.exit(f"netbuilder was imported from {netbuilder.__file__}, not from the installed wheel in {sys.prefix}")
print(f"wheel installs all {len(wanted)} files of netbuilder/, ui/ and resources/")
EOF

if "$py" -c "import PySide6" 2>/dev/null; then
    echo "PySide6 came with the plain wheel: Qt must stay in the [gui] extra"; exit 1
fi
netbuilder --help >/dev/null
netbuilder check mnist_cnn
netbuilder summary mnist_cnn >/dev/null
echo "netbuilder --help, check mnist_cnn and summary mnist_cnn run from the wheel without Qt"

"$pip" install -q -c "$checkout/constraints.txt" "$wheel[gui]"
# The GUI as the netbuilder script opens it (ui.app, as ui.entry calls it), exiting at its first paint.
QT_QPA_PLATFORM=offscreen timeout 120 "$py" - <<'EOF'
import os, sys
from ui.app import open_window
app, window, startup = open_window()
def painted():
    print(f"the main window painted, from the wheel ({window.windowTitle()})", flush=True)
    os._exit(0)
startup.painted.connect(painted)
app.exec()
sys.exit("the window closed before its first paint")
EOF
# The installed app checks itself end to end (ui/self_test.py): the window offscreen (chosen by itself, with
# no display and no QT_QPA_PLATFORM), every example, a short run on its worker, ONNX out and back in.
env -u QT_QPA_PLATFORM -u DISPLAY -u WAYLAND_DISPLAY timeout 300 netbuilder --self-test
# Help ▸ User Guide shows the docs the wheel ships (as netbuilder_docs), not a checkout's.
QT_QPA_PLATFORM=offscreen timeout 120 "$py" - <<'EOF'
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from ui.help.user_guide import UserGuideDialog, guide_dir
guide = UserGuideDialog()
if not guide.pages or not str(guide_dir()).startswith(sys.prefix):
    sys.exit(f"the installed app has no user guide of its own (found {guide_dir()})")
print(f"Help ▸ User Guide opens {len(guide.pages)} pages from the wheel, first {guide.page_title()!r}")
EOF
