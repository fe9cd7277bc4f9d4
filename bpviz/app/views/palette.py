"""Colours for the network view: colour maps, bucketing and the weight-scale rule.

Weights and activations share one diverging, colour-blind-safe map: orange for
negative, near-white at zero, blue for positive (ColorBrewer PuOr/RdBu ends, the
TensorFlow Playground convention). Deltas use a second diverging map (green for
δ < 0, magenta for δ > 0, ColorBrewer PiYG) so they never read as activations.
Colours are quantised into a few buckets so brushes and pens are built once.

A ``Palette`` names such a pair of maps plus the plots' line colours; ``colours``
resolves one for a light or dark background (on dark, zero is dark and strength
shows as brightness, so weak edges still fade into the background). The module
constants below are the default palette on a light background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui

WEIGHT_STOPS = ((179, 88, 6), (241, 163, 64), (247, 247, 247), (103, 169, 207), (33, 102, 172))
DELTA_STOPS = ((77, 146, 33), (161, 215, 106), (247, 247, 247), (233, 163, 201), (197, 27, 125))
DELTA_POSITIVE = DELTA_STOPS[-1]
DELTA_NEGATIVE = DELTA_STOPS[0]

EDGE_HALF = 12            # edge colour buckets: 2 * EDGE_HALF + 1 = 25
NODE_HALF = 16            # node fill buckets: 33
IMAGE_LEVELS = 256        # compact layers are images, so they get the full map

# The fixed scale widens when max|w| exceeds it by this factor; until then the
# strongest edges are drawn saturated.
WIDEN_FACTOR = 2.0


def _lut(stops, n: int) -> np.ndarray:
    cmap = pg.ColorMap(np.linspace(0.0, 1.0, len(stops)), [(*s, 255) for s in stops])
    return np.ascontiguousarray(cmap.getLookupTable(0.0, 1.0, n, alpha=True), dtype=np.uint8)


WEIGHT_LUT = _lut(WEIGHT_STOPS, 2 * EDGE_HALF + 1)
NODE_LUT = _lut(WEIGHT_STOPS, 2 * NODE_HALF + 1)
IMAGE_LUT = _lut(WEIGHT_STOPS, IMAGE_LEVELS)
DELTA_IMAGE_LUT = _lut(DELTA_STOPS, IMAGE_LEVELS)


@dataclass(frozen=True)
class Palette:
    """A colour scheme: stops run from the negative end through zero (light
    background) to the positive end; ``series`` are the plots' line colours."""
    name: str
    label: str
    negative: str           # colour words for the legend
    positive: str
    weight_stops: tuple
    delta_stops: tuple
    series: tuple[str, ...]
    dark_series: tuple[str, ...]


PALETTES = {p.name: p for p in (
    Palette("orange-blue", "Orange–blue (colour-blind safe)", "orange", "blue", WEIGHT_STOPS, DELTA_STOPS,
            # Okabe–Ito; on dark the deep blue and black give way to sky blue and white.
            ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"),
            ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#F0E442", "#D55E00", "#FFFFFF")),
    # ColorBrewer RdBu for weights, PRGn (green δ < 0, purple δ > 0) for deltas.
    Palette("red-blue", "Red–blue", "red", "blue",
            ((178, 24, 43), (239, 138, 98), (247, 247, 247), (103, 169, 207), (33, 102, 172)),
            ((27, 120, 55), (166, 219, 160), (247, 247, 247), (194, 165, 207), (118, 42, 131)),
            ("#2166AC", "#B2182B", "#1B7837", "#762A83", "#67A9CF", "#EF8A62", "#000000"),
            ("#67A9CF", "#EF8A62", "#5AAE61", "#C2A5CF", "#F0E442", "#D6604D", "#FFFFFF")),
)}
DEFAULT_PALETTE = "orange-blue"
DARK_ZERO = (52, 54, 58)


def _on_dark(stops):
    """The same hues for a dark background: zero dark, the pale stops at the ends."""
    return (stops[1], stops[0], DARK_ZERO, stops[4], stops[3])


@dataclass(frozen=True)
class Colours:
    """A palette resolved for one background: the tables the views paint with."""
    palette: Palette
    dark: bool
    weight_stops: tuple
    weight_lut: np.ndarray
    node_lut: np.ndarray
    image_lut: np.ndarray
    delta_image_lut: np.ndarray
    delta_negative: tuple
    delta_positive: tuple
    series: tuple[str, ...]


@lru_cache(maxsize=None)
def colours(name: str = DEFAULT_PALETTE, dark: bool = False) -> Colours:
    """The colour tables of palette ``name`` (a key of PALETTES) on a light or dark background."""
    p = PALETTES[name]
    w = _on_dark(p.weight_stops) if dark else p.weight_stops
    d = _on_dark(p.delta_stops) if dark else p.delta_stops
    return Colours(p, dark, w, _lut(w, 2 * EDGE_HALF + 1), _lut(w, 2 * NODE_HALF + 1),
                   _lut(w, IMAGE_LEVELS), _lut(d, IMAGE_LEVELS), d[0], d[-1],
                   p.dark_series if dark else p.series)


def luminance(rgba: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of (..., 3 or 4) uint8 colours."""
    c = np.asarray(rgba, dtype=np.float64)[..., :3] / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def contrast(a, b) -> float:
    """WCAG contrast ratio of two colours (1 … 21)."""
    la, lb = float(luminance(np.array(a))), float(luminance(np.array(b)))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def signed_fraction(values: np.ndarray, scale) -> np.ndarray:
    """values / scale clipped to [-1, 1]; NaN (a diverged net) maps to 0."""
    with np.errstate(all="ignore"):
        f = np.asarray(values, dtype=np.float64) / scale
    return np.clip(np.nan_to_num(f, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)


def buckets(values: np.ndarray, scale, half: int) -> np.ndarray:
    """Bucket index 0..2*half of each value; half is zero, 0 is -scale, 2*half is +scale."""
    return (np.rint(signed_fraction(values, scale) * half) + half).astype(np.intp)


def weight_rgba(values: np.ndarray, scale: float, lut: np.ndarray = WEIGHT_LUT) -> np.ndarray:
    """(n, 4) uint8: the colour an edge of weight value is drawn with under scale."""
    return lut[buckets(values, scale, EDGE_HALF)]


def node_rgba(values: np.ndarray, scale, lut: np.ndarray = NODE_LUT) -> np.ndarray:
    """(n, 4) uint8: the fill of a small-layer node of activation value under scale."""
    return lut[buckets(values, scale, NODE_HALF)]


def image_rgba(values: np.ndarray, scale, lut: np.ndarray = IMAGE_LUT) -> np.ndarray:
    """(..., 4) uint8 colours of a compact layer's cells."""
    idx = np.rint((signed_fraction(values, scale) + 1.0) * 0.5 * (len(lut) - 1)).astype(np.intp)
    return lut[idx]


def nice_ceil(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ x (1.0 for 0, NaN or inf)."""
    if not math.isfinite(x) or x <= 0.0:
        return 1.0
    e = math.floor(math.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        v = m * 10.0 ** e
        if v >= x * (1.0 - 1e-12):
            return v
    return 10.0 ** (e + 1)


class WeightScale:
    """The weight colour scale ±value.

    Fixed mode (default): the first update after ``reset`` sets the scale to
    max|w| rounded up to a nice number; later updates keep it, unless max|w|
    grows beyond WIDEN_FACTOR × scale, which sets a new nice scale above it. It
    never shrinks, so colours stay comparable from frame to frame and nothing is
    clipped by more than a factor of two. Auto mode: every update takes the nice
    ceiling of that frame's max|w|.
    """

    def __init__(self):
        self.value: float | None = None
        self.auto = False

    def reset(self) -> None:
        self.value = None

    def update(self, max_abs: float) -> float:
        if not math.isfinite(max_abs):
            return self.value if self.value is not None else 1.0
        if self.auto or self.value is None or max_abs > WIDEN_FACTOR * self.value:
            self.value = nice_ceil(max_abs)
        return self.value


def brushes(lut: np.ndarray) -> list[QtGui.QBrush]:
    return [QtGui.QBrush(QtGui.QColor(*map(int, c))) for c in lut]


def edge_pens(max_width: float, lut: np.ndarray = WEIGHT_LUT) -> list[QtGui.QPen]:
    """One pen per draw key 2*s + (w > 0) for strength s = 0..EDGE_HALF; wider when stronger."""
    pens = []
    for key in range(2 * EDGE_HALF + 2):
        s, positive = divmod(key, 2)
        colour = lut[EDGE_HALF + s if positive else EDGE_HALF - s]
        pen = QtGui.QPen(QtGui.QColor(*map(int, colour)))
        pen.setWidthF(0.6 + (max_width - 0.6) * s / EDGE_HALF)
        pen.setCapStyle(QtGui.Qt.PenCapStyle.FlatCap)
        pen.setCosmetic(True)
        pens.append(pen)
    return pens


def edge_draw_keys(bucket: np.ndarray) -> np.ndarray:
    """Sort keys that paint weak edges first and strong ones on top."""
    return 2 * np.abs(bucket - EDGE_HALF) + (bucket > EDGE_HALF)


def finite_abs_max(arrays) -> float:
    """The largest |value| among the finite entries of ``arrays`` (0.0 if there are
    none). Unlike np.nanmax it never warns: after a divergence whole arrays are NaN."""
    return max((float(np.max(np.abs(a), initial=0.0, where=np.isfinite(a))) for a in arrays if a.size),
               default=0.0)
