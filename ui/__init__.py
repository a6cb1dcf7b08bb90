"""The PySide6 + pyqtgraph application. Imports netbuilder; never the reverse."""
