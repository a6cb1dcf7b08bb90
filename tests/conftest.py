"""Test-wide settings: Qt runs offscreen unless QT_QPA_PLATFORM says otherwise (`make test-gui-x` runs the
GUI tests again with xcb on Xvfb), hypothesis profiles."""

from __future__ import annotations

import os

from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # an explicit choice (xcb) is kept

# CI=true gets a derandomised run so a red CI is reproducible from its log.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
