#!/usr/bin/env bash
# The desktop bundle as a user gets it: built from nothing (packaging/build.sh --clean: a fresh build venv
# and PyInstaller work folder; nothing is cached between runs), the .tar.gz unpacked in a folder outside
# the checkout and its `netbuilder --self-test` run there with no display, no Python variables and no
# checkout on the path; then the .deb's files checked and its launcher run. Prints each part's time.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$(pwd)
started=$SECONDS
PY=${PY:-python3} bash packaging/build.sh --clean
build_s=$((SECONDS - started))

version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
tarball="dist/netbuilder-$version-linux-$(uname -m).tar.gz"
deb="dist/netbuilder_${version}_$(dpkg --print-architecture).deb"
folder=build/bundle/dist/netbuilder
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What the spec leaves out stays out; what TorchScript and the app need is in.
fail() { echo "bundle: $*"; exit 1; }
internal=$folder/_internal
[ -f "$internal/torch/nn/modules/linear.py" ] || fail "torch's .py sources are missing (TorchScript needs them)"
ls "$internal"/onnxruntime/capi/libonnxruntime_providers_shared* >/dev/null 2>&1 ||
    fail "ONNX Runtime's provider library is missing"
unwanted=$(find "$folder" \( -name '*.qm' -o -name 'libQt6WebEngine*' -o -name 'libQt6Quick*' -o -name '*.h' \
    -o -path '*/qml/*' -o -path '*/torch/include/*' \) -print | head -5)
[ -z "$unwanted" ] || fail "files the app never uses were bundled: $unwanted"
echo "bundle contents: torch sources and ONNX Runtime providers in; Qt translations, QML, WebEngine, headers out"

# The tarball, unpacked outside the checkout and run from another folder, as a user would.
mkdir "$work/unpacked" "$work/elsewhere" "$work/home"
tar -C "$work/unpacked" -xzf "$tarball"
cd "$work/elsewhere"
self_test_start=$SECONDS
env -i HOME="$work/home" PATH=/usr/bin:/bin LANG=C.UTF-8 "$work/unpacked/netbuilder/netbuilder" --self-test
self_test_s=$((SECONDS - self_test_start))
env -i HOME="$work/home" PATH=/usr/bin:/bin LANG=C.UTF-8 "$work/unpacked/netbuilder/netbuilder" check mnist_cnn
cd "$checkout"

# The .deb: the folder in /opt, the launcher in /usr/bin, the menu entry, the icon and the file type.
listing=$(dpkg-deb -c "$deb")
for path in ./opt/netbuilder/netbuilder ./usr/bin/netbuilder ./usr/share/applications/netbuilder.desktop \
        ./usr/share/icons/hicolor/scalable/apps/netbuilder.svg ./usr/share/icons/hicolor/256x256/apps/netbuilder.png \
        ./usr/share/mime/packages/netbuilder.xml; do
    grep -q " $path\$" <<<"$listing" || fail "$deb lacks $path"
done
dpkg-deb -x "$deb" "$work/deb"
grep -q "^Icon=netbuilder$" "$work/deb/usr/share/applications/netbuilder.desktop" || fail "the menu entry has no icon"
sed "s#/opt/netbuilder#$work/deb/opt/netbuilder#" "$work/deb/usr/bin/netbuilder" > "$work/launcher"
env -i HOME="$work/home" PATH=/usr/bin:/bin sh "$work/launcher" --help >/dev/null
echo "$deb installs the app in /opt/netbuilder with its launcher, menu entry, icon and file type"
echo "test-bundle: build ${build_s} s (from nothing), self-test ${self_test_s} s, all $((SECONDS - started)) s;" \
    "folder $(du -sh "$folder" | cut -f1), $(du -h "$tarball" | cut -f1) tar.gz, $(du -h "$deb" | cut -f1) .deb"
