"""Everything that imports Qt."""

from __future__ import annotations

import sys

from bpviz.settings import Settings


def run(settings: Settings | None = None) -> int:
    """Open the window (with ``settings`` if given) and run until it closes."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from bpviz.app.main_window import MainWindow
    from bpviz.app.style import apply_style

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("bpviz")
    app.setOrganizationName("bpviz")
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    apply_style(app)
    window = MainWindow(settings)
    window.show()
    return app.exec()
