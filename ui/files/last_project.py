"""What the window opens on when no file is named: the project open at the last quit, as a desktop tool does.

- A first start opens the built-in digits CNN, so the first screen is a working graph.
- After that, the project that was open when the app last quit opens again, from its file.
- If that file is gone (or no longer opens), the digits CNN opens instead, and the status bar says so.
- If the last session ended on an untitled project (after File ▸ Close, say), an empty project opens.
"""

from __future__ import annotations

from netbuilder.errors import NetbuilderError
from netbuilder.examples import example_path
from netbuilder.files.project import Project, load_project
from ui import settings
from ui.document import Document

START_EXAMPLE = "mnist_cnn"


def example_document(name: str = START_EXAMPLE) -> Document:
    """A built-in example, untitled (saving asks where, rather than writing into the installed examples)."""
    project = load_project(example_path(name))
    project.path = None
    return Document(project)


def start_document() -> tuple[Document, str | None]:
    """The document to start on, and a note for the status bar (None when there is nothing to say)."""
    if not settings.has_quit_before():
        return example_document(), None
    path = settings.last_project()
    if path is None:
        return Document(Project()), None
    if not path.is_file():
        return example_document(), f"The last project, {path}, is gone: opened the digits CNN example instead"
    try:
        document = Document.open(path)
    except (NetbuilderError, OSError) as exc:
        return example_document(), f"The last project, {path}, could not be opened ({exc}): opened the example"
    settings.add_recent_file(path)
    return document, f"Reopened {path.name}, the project open when netbuilder last closed"
