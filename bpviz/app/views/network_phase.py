"""How the network view greys what a step's phase has not computed yet.

During a phase walk (bpviz.phases) the nodes of layers the forward pass has not
reached are drawn grey with a dashed outline and a "?" for their value, their δ
bars are empty, the edges into them are thin grey lines, and their headers say
"not yet computed". The greys come from the theme (between its background and its
muted colour), so they read as "off" on light and dark canvases alike.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6 import QtCore, QtGui

from bpviz.app.views import palette

# The fill index NodesItem paints as "not yet computed" (one past the node colours).
PENDING_FILL = 2 * palette.NODE_HALF + 1
PENDING_TEXT = "?"


def _mix(a: str, b: str, t: float) -> QtGui.QColor:
    ca, cb = QtGui.QColor(a), QtGui.QColor(b)
    return QtGui.QColor(*(round(x + (y - x) * t) for x, y in zip(ca.getRgb()[:3], cb.getRgb()[:3])))


class PendingLook:
    """The pens and brushes of "not yet computed" for a theme (a style.Theme)."""

    def __init__(self, theme) -> None:
        fill = _mix(theme.background, theme.muted, 0.35)
        self.fill_rgba = np.array(fill.getRgb(), dtype=np.uint8)
        self.node_brush = QtGui.QBrush(fill)
        self.node_pen = QtGui.QPen(QtGui.QColor(theme.muted), 1.6, QtCore.Qt.PenStyle.DashLine)
        self.node_pen.setCosmetic(True)
        self.text_pen = QtGui.QPen(_mix(theme.background, theme.ink, 0.55))
        edge = _mix(theme.background, theme.muted, 0.45)
        self.edge_rgba = np.array(edge.getRgb(), dtype=np.uint8)
        self.edge_pen = QtGui.QPen(edge, 1.2, QtCore.Qt.PenStyle.DashLine)
        self.edge_pen.setCosmetic(True)

    def grey(self, n: int) -> np.ndarray:
        """(n, 4) uint8 of the pending fill, for a compact layer's cells."""
        return np.tile(self.fill_rgba, (n, 1))


def header(phase, k: int, narrow: bool) -> tuple[str, str] | None:
    """The last two header lines of layer k ≥ 1 while ``phase`` has not computed its
    activations or deltas; None when it has (or outside a walk)."""
    if phase is None:
        return None
    if not phase.activation_known(k):
        return ("…", "") if narrow else ("not yet computed", "")
    if not phase.delta_known(k):
        return ("—", "—") if narrow else ("δ not yet", "")
    return None


def node_tooltip(phase, k: int, name: str) -> str | None:
    """The hover text of a node whose values ``phase`` has not computed yet."""
    if phase is None or phase.activation_known(k):
        return None
    return f"{name}\nnot yet computed: the forward pass has reached layer {phase.layer}"


def pending_edges(phase, ks: np.ndarray) -> np.ndarray:
    """Bool per edge of weight matrix ``ks``: not yet used by the forward pass."""
    if phase is None:
        return np.zeros(len(ks), dtype=bool)
    unused = np.array([not phase.weights_used(k) for k in range(int(ks.max(initial=-1)) + 1)], dtype=bool)
    return unused[ks]


def without_gradients(snapshot):
    """The snapshot with its gradients unknown (hover texts then print "—")."""
    return replace(snapshot, weight_grads=None, bias_grads=None)
