"""Everything that imports Qt."""

from __future__ import annotations

import sys

from bpviz.settings import Settings


def run(settings: Settings | None = None, dataset=None) -> int:
    """Open the window and run until it closes: with ``settings`` (and their
    ``dataset``, when already loaded) if given, else the last session's settings."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from bpviz.app.file_menu import stored_settings
    from bpviz.app.main_window import MainWindow
    from bpviz.app.style import apply_style

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("bpviz")
    app.setOrganizationName("bpviz")
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    apply_style(app)
    stored_csv = None
    if settings is None:
        settings, dataset = stored_settings() or (None, None)
        if settings is not None and dataset is None:  # a CSV file: read once the window shows
            settings, stored_csv = None, settings
    window = MainWindow(settings, dataset)
    window.show()
    if stored_csv is not None:
        window.files.open_stored(stored_csv)
    return app.exec()
