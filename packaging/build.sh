#!/usr/bin/env bash
# The desktop app as a person without Python gets it: a PyInstaller one-folder build, made in a venv of
# its own (never the checkout's .venv) from the tested versions (constraints.txt: torch 2.13.0 is the
# CPU build) and the pinned build tools (packaging/requirements-build.txt); then, on Linux, the folder
# as a .tar.gz and a .deb. packaging/README.md has the figures and the other platforms.
#
#   packaging/build.sh [--clean] [--no-archives]
#
# --clean starts from nothing (the venv and PyInstaller's work folder are made again), as CI does.
# Outputs: $BUILD/dist/netbuilder/ (the folder; its `netbuilder` runs the app and the command line),
# and dist/netbuilder-VERSION-linux-ARCH.tar.gz, dist/netbuilder_VERSION_ARCH.deb.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$(pwd)
PY=${PY:-python3}
BUILD=${BUILD:-build/bundle}
clean=0 archives=1
for arg in "$@"; do
    case "$arg" in
        --clean) clean=1 ;;
        --no-archives) archives=0 ;;
        *) echo "usage: packaging/build.sh [--clean] [--no-archives]" >&2; exit 2 ;;
    esac
done
[ $clean = 1 ] && rm -rf "$BUILD"
mkdir -p "$BUILD" dist
venv="$BUILD/venv"
case "$(uname -s)" in MINGW*|MSYS*|CYGWIN*) bin="$venv/Scripts" ;; *) bin="$venv/bin" ;; esac
step_start=$SECONDS
took() { echo "== $1: $((SECONDS - step_start)) s"; step_start=$SECONDS; }

# 1. The build venv: the app's dependencies at the tested versions, and PyInstaller. Made again when
#    either list changes.
sum=$(cat constraints.txt packaging/requirements-build.txt | cksum | cut -d' ' -f1)
if [ ! -f "$venv/.installed-$sum" ]; then
    rm -rf "$venv"
    "$PY" -m venv "$venv"
    "$bin/python" -m pip install -q -c constraints.txt -r packaging/requirements-build.txt
    touch "$venv/.installed-$sum"
fi
took "build venv"

# 2. The app, as a wheel of the files git knows (tracked, or new and not ignored): a stale build/ folder
#    or a stray file in the checkout cannot get into the bundle.
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && cp --parents -- "$f" "$src/"
done
"$bin/python" -m pip wheel -q --no-deps -w "$src/dist" "$src"
wheel=$(ls "$src"/dist/netbuilder-*.whl)
"$bin/python" -m pip install -q -c constraints.txt "$wheel[gui]"
"$bin/python" -m pip install -q --no-deps --force-reinstall "$wheel"
took "the app's wheel installed"

# 3. The one-folder build.
"$bin/pyinstaller" --noconfirm --log-level WARN --distpath "$BUILD/dist" --workpath "$BUILD/work" \
    packaging/netbuilder.spec
folder="$BUILD/dist/netbuilder"
took "PyInstaller"
echo "built $folder: $(du -sh "$folder" | cut -f1)"

[ $archives = 1 ] && [ "$(uname -s)" = Linux ] || exit 0

# 4. Linux: a .tar.gz of the folder, and a .deb installing it in /opt/netbuilder with a launcher in
#    /usr/bin, the .desktop entry, the icon and the project file type.
version=$("$bin/python" -c "import importlib.metadata as m; print(m.version('netbuilder'))")
arch=$(uname -m)
tarball="dist/netbuilder-$version-linux-$arch.tar.gz"
tar -C "$BUILD/dist" -czf "$tarball" netbuilder
took "tar.gz"
echo "wrote $tarball: $(du -h "$tarball" | cut -f1)"

if ! command -v dpkg-deb >/dev/null; then
    echo "no dpkg-deb here: the .deb is made on Debian and Ubuntu only"; exit 0
fi
deb_arch=$(dpkg --print-architecture)
root="$BUILD/deb"
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
    "$root/usr/share/icons/hicolor/scalable/apps" "$root/usr/share/icons/hicolor/256x256/apps" \
    "$root/usr/share/mime/packages"
cp -a "$folder" "$root/opt/netbuilder"
cat > "$root/usr/bin/netbuilder" <<'EOF'
#!/bin/sh
exec /opt/netbuilder/netbuilder "$@"
EOF
chmod 755 "$root/usr/bin/netbuilder"
cp packaging/netbuilder.desktop "$root/usr/share/applications/"
cp resources/icons/netbuilder.svg "$root/usr/share/icons/hicolor/scalable/apps/"
cp resources/icons/netbuilder.png "$root/usr/share/icons/hicolor/256x256/apps/"
cp packaging/netbuilder-mime.xml "$root/usr/share/mime/packages/netbuilder.xml"
size_kib=$(du -sk "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$deb_arch/" -e "s/@SIZE@/$size_kib/" packaging/deb-control \
    > "$root/DEBIAN/control"
cat > "$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
command -v update-desktop-database >/dev/null && update-desktop-database -q /usr/share/applications || true
command -v update-mime-database >/dev/null && update-mime-database /usr/share/mime || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q /usr/share/icons/hicolor || true
EOF
cp "$root/DEBIAN/postinst" "$root/DEBIAN/postrm"
chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/postrm"
deb="dist/netbuilder_${version}_${deb_arch}.deb"
# gzip, as the tarball (dpkg-deb's default, xz, is slower to make; not measured here).
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
rm -rf "$root"
took ".deb"
echo "wrote $deb: $(du -h "$deb" | cut -f1)"
echo "bundle build done in $checkout"
