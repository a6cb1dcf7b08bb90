"""Help ▸ User Guide: the docs shipped with the app (docs/*.md), rendered from Markdown in a QTextBrowser.

The guide is found beside the code in a checkout (``docs/`` next to ``ui/``) and, in an installed
wheel, in the ``netbuilder_docs`` package (setup.py ships docs/ as package data under that name),
so the same pages open either way. Links between the pages follow inside the browser; links to the
web open in the system's browser.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QTextDocument
from PySide6.QtWidgets import QDialog, QLabel, QListWidget, QSplitter, QTextBrowser, QVBoxLayout, QWidget

import ui

# The pages in reading order; others found in the folder follow them.
PAGES = ("user-guide.md", "editor.md", "training.md", "export.md", "onnx-import.md", "file-format.md", "layers.md")
IMAGE_MARGIN = 40  # pixels left beside an image scaled to the page's width


@dataclass(frozen=True)
class GuidePage:
    """One page of the guide: its file and its title (the Markdown's first heading)."""

    path: Path
    title: str


def guide_dir() -> Path | None:
    """The folder holding the guide's Markdown: the checkout's docs/, else the installed ``netbuilder_docs``."""
    checkout = Path(ui.__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "docs" / PAGES[0]).is_file():
        return checkout / "docs"
    spec = importlib.util.find_spec("netbuilder_docs")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(location) / PAGES[0]).is_file():
            return Path(location)
    return None


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip().replace("`", "")
    return path.stem.replace("-", " ").capitalize()


def guide_pages(folder: Path | None = None) -> list[GuidePage]:
    """The guide's pages in reading order (empty when the guide is not installed)."""
    folder = folder if folder is not None else guide_dir()
    if folder is None:
        return []
    found = [folder / name for name in PAGES if (folder / name).is_file()]
    found += sorted(p for p in folder.glob("*.md") if p.name not in PAGES)
    return [GuidePage(p, _title(p)) for p in found]


class GuideBrowser(QTextBrowser):
    """A QTextBrowser whose pictures shrink to the page's width (the screenshots are as wide as a window)."""

    def loadResource(self, kind: int, name: QUrl) -> object:
        if kind == QTextDocument.ResourceType.ImageResource.value and name.isLocalFile():
            image = QImage(name.toLocalFile())
            width = max(200, self.viewport().width() - IMAGE_MARGIN)
            if image.width() > width:
                return image.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
            if not image.isNull():
                return image
        return super().loadResource(kind, name)


class UserGuideDialog(QDialog):
    """The guide's pages listed on the left, the chosen one on the right."""

    def __init__(self, parent: QWidget | None = None, folder: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("User Guide — netbuilder")
        self.pages = guide_pages(folder)
        self.contents = QListWidget()
        self.contents.addItems([page.title for page in self.pages])
        self.browser = GuideBrowser()
        self.browser.setOpenLinks(False)  # links are followed in _follow: pages here, the web outside
        self.browser.anchorClicked.connect(self._follow)
        self.contents.currentRowChanged.connect(self.show_page)
        splitter = QSplitter()
        splitter.addWidget(self.contents)
        splitter.addWidget(self.browser)
        splitter.setStretchFactor(1, 1)
        # The contents as wide as the longest title ("User guide: panels, menus and keys"), read in full.
        wide = self.contents.sizeHintForColumn(0) + 2 * self.contents.frameWidth() + 8 if self.pages else 200
        self.contents.setMinimumWidth(min(wide, 360))
        splitter.setSizes([wide, 1000 - wide])
        layout = QVBoxLayout(self)
        if not self.pages:  # a broken install: say so rather than show an empty window
            layout.addWidget(QLabel("The user guide is not installed with this copy of netbuilder. It is in the "
                                    "docs folder of netbuilder's source."))
        layout.addWidget(splitter)
        self.resize(1000, 720)
        if self.pages:
            self.contents.setCurrentRow(0)

    def show_page(self, index: int) -> None:
        """Show page ``index`` of :attr:`pages`."""
        if 0 <= index < len(self.pages):
            self.browser.setSource(QUrl.fromLocalFile(str(self.pages[index].path)),
                                   QTextDocument.ResourceType.MarkdownResource)
            if self.contents.currentRow() != index:
                self.contents.setCurrentRow(index)

    def page_title(self) -> str:
        """The title of the page shown now."""
        row = self.contents.currentRow()
        return self.pages[row].title if 0 <= row < len(self.pages) else ""

    def _follow(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
            return
        target = self.browser.source().resolved(url)
        if target.isLocalFile():
            path = Path(target.toLocalFile()).resolve()
            for index, page in enumerate(self.pages):
                if page.path.resolve() == path:
                    self.show_page(index)
                    if url.hasFragment():
                        self.browser.scrollToAnchor(url.fragment())
                    return
        if url.hasFragment() and not url.path():  # a heading on this page
            self.browser.scrollToAnchor(url.fragment())

