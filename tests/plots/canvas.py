"""What a drawn figure shows, read back from its artists: texts, where they landed, markers."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text


def drawn_texts(fig: Figure) -> list[Text]:
    """Every non-empty visible text the renderer draws (tick labels outside the view limits are not drawn)."""
    FigureCanvasAgg(fig).draw()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    hidden = set()
    for ax in fig.axes:
        for axis, (low, high) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            for tick in axis.get_major_ticks():
                if not low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    hidden.update({id(tick.label1), id(tick.label2)})
    return [t for t in texts if id(t) not in hidden]


def outside_canvas(fig: Figure) -> list[str]:
    """Texts that stick out of the figure (cut off when saved)."""
    texts = drawn_texts(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    width, height = fig.bbox.width, fig.bbox.height
    out = []
    for t in texts:
        box = t.get_window_extent(renderer)
        if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5:
            out.append(t.get_text())
    return out


def text_of(fig: Figure) -> list[str]:
    return [t.get_text() for t in drawn_texts(fig)]


def collections(fig: Figure, gid: str) -> list:
    """Drawn collections/artists with this gid (a check kind's scatter: 'check-success')."""
    return [a for a in fig.findobj(lambda a: a.get_gid() == gid)]


def marker_count(fig: Figure, gid: str) -> int:
    return sum(len(c.get_offsets()) for c in collections(fig, gid) if hasattr(c, "get_offsets"))
