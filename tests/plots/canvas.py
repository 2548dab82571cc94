"""What a drawn figure shows, read back from its artists: texts, where they landed, markers.

The figure is laid out once (no pixels are rendered: `draw_without_rendering`) and what it shows is
kept on the figure, so reading it several ways costs one layout."""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.transforms import Bbox

_READ = "_icetrace_read_back"


def _read(fig: Figure) -> tuple[list[Text], list[tuple[str, Bbox, Any]]]:
    """The drawn texts and, for each text and legend, its box in pixels."""
    cached = getattr(fig, _READ, None)
    if cached is not None:
        return cached
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    hidden = set()
    for ax in fig.axes:
        for axis, (low, high) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            for tick in axis.get_major_ticks():
                if not low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    hidden.update({id(tick.label1), id(tick.label2)})
    texts = [t for t in texts if id(t) not in hidden]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [(t.get_text(), t.get_window_extent(renderer), t) for t in texts]
    boxes += [("legend", legend.get_window_extent(renderer), legend) for legend in fig.findobj(Legend)]
    setattr(fig, _READ, (texts, boxes))
    return texts, boxes


def drawn_texts(fig: Figure) -> list[Text]:
    """Every non-empty visible text the renderer draws (tick labels outside the view limits are not drawn)."""
    return _read(fig)[0]


def outside_canvas(fig: Figure) -> list[str]:
    """Texts and legends that stick out of the figure (cut off when saved)."""
    width, height = fig.bbox.width, fig.bbox.height
    return [
        text
        for text, box, _ in _read(fig)[1]
        if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5
    ]


def overlapping(fig: Figure, gids: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose boxes overlap (by more than a pixel each way); only texts with
    one of `gids` when given, tick labels counted as 'tick'."""
    boxes = [
        (text, box)
        for text, box, artist in _read(fig)[1]
        if isinstance(artist, Text) and (not gids or (artist.get_gid() or "tick") in gids)
    ]
    boxes.sort(key=lambda item: item[1].y0)
    out = []
    for i, (text, box) in enumerate(boxes):
        for other, second in boxes[i + 1 :]:
            if second.y0 >= box.y1 - 1:
                break
            across = min(box.x1, second.x1) - max(box.x0, second.x0)
            if across > 1 and min(box.y1, second.y1) - max(box.y0, second.y0) > 1:
                out.append((text, other))
    return out


def text_of(fig: Figure) -> list[str]:
    return [t.get_text() for t in drawn_texts(fig)]


def collections(fig: Figure, gid: str) -> list:
    """Drawn collections/artists with this gid (a check kind's scatter: 'check-success')."""
    return [a for a in fig.findobj(lambda a: a.get_gid() == gid)]


def marker_count(fig: Figure, gid: str) -> int:
    return sum(len(c.get_offsets()) for c in collections(fig, gid) if hasattr(c, "get_offsets"))


def outside_axes(fig: Figure, gid: str) -> list[str]:
    """Texts of `gid` that stick out sideways of the axes they are drawn on (into the labels beside it)."""
    out = []
    for text, box, artist in _read(fig)[1]:
        if isinstance(artist, Text) and artist.get_gid() == gid and artist.axes is not None:
            frame = artist.axes.get_window_extent()
            if box.x0 < frame.x0 - 0.5 or box.x1 > frame.x1 + 0.5:
                out.append(text)
    return out
