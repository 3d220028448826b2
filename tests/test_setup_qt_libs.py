"""setup.sh installs every system library Qt's xcb platform plugin links (issue 14: on a minimal machine the window
aborted until libxcb-icccm4 and libxcb-keysyms1 were installed by hand). Checked against the plugin itself: each
X/xcb library that `ldd` lists for libqxcb.so and libQt6XcbQpa maps to a Debian package named in setup.sh, and
after set-up none is missing."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

PySide6 = pytest.importorskip("PySide6")
ROOT = Path(__file__).resolve().parent.parent


def _apt_packages() -> set[str]:
    text = (ROOT / "setup.sh").read_text()
    xcb = re.search(r'^QT_XCB_PKGS="([^"]*)"', text, re.M).group(1).split()
    apt = re.search(r'^APT_PKGS="([^"]*)"', text, re.M).group(1)
    assert "$QT_XCB_PKGS" in apt
    return set(xcb) | set(apt.replace("$QT_XCB_PKGS", "").split())


def _debian_name(soname: str) -> str:
    """libxcb-icccm.so.4 → libxcb-icccm4; libX11-xcb.so.1 → libx11-xcb1; libxcb-render-util.so.0 → ...util0."""
    base, ver = re.match(r"(lib[\w+-]+?)\.so\.(\d+)", soname).groups()
    return f"{base.lower()}{ver}"


def test_setup_installs_every_library_the_xcb_plugin_links():
    if not shutil.which("ldd"):
        pytest.skip("no ldd")
    qt = Path(PySide6.__file__).parent / "Qt"
    plugin, qpa = qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6"
    if not plugin.exists():
        pytest.skip("this PySide6 build has no xcb plugin")
    out = subprocess.run(["ldd", str(plugin), str(qpa)], capture_output=True, text=True).stdout
    needed = {m.group(1) for m in re.finditer(r"^\s*((?:libxcb|libX11-xcb)[\w.-]*\.so\.\d+)", out, re.M)}
    assert {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"} <= needed     # the two that aborted the app
    pkgs = _apt_packages()
    assert sorted(_debian_name(s) for s in needed if _debian_name(s) not in pkgs) == []
    assert "not found" not in out, [ln for ln in out.splitlines() if "not found" in ln]
