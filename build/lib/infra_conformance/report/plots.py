"""The report's plots as inline SVG, drawn with matplotlib: start-up, memory, latency and CPU."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen first)

matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "figure.dpi": 96})


def _svg(figure) -> str:
    """The figure as an SVG element, without the XML prolog, so that it can sit inside HTML."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def startup_waterfall(ready_after: dict[str, float], budget_s: float) -> str:
    """Each service's time from `up` to ready, as bars from zero, with the budget line."""
    services = sorted(ready_after, key=ready_after.get)
    figure, axes = plt.subplots(figsize=(6.5, 0.45 * len(services) + 1))
    axes.barh(services, [ready_after[s] for s in services], color="#4c72b0")
    axes.axvline(budget_s, color="#c44e52", linestyle="--", label=f"budget {budget_s:g} s")
    axes.set_xlabel("seconds from `docker compose up`")
    axes.invert_yaxis()
    axes.legend(loc="lower right")
    axes.set_title("Start-up per service")
    return _svg(figure)


def series_plot(title: str, ylabel: str, series: dict[str, list[list[float]]], limit: float | None = None,
                limit_label: str = "") -> str:
    """One line per name over time (seconds from the start of the load run), with an optional limit line."""
    figure, axes = plt.subplots(figsize=(6.5, 2.8))
    for name, points in sorted(series.items()):
        if points:
            axes.plot([p[0] for p in points], [p[1] for p in points], label=name, linewidth=1.4)
    if limit is not None:
        axes.axhline(limit, color="#c44e52", linestyle="--", label=limit_label or f"limit {limit:g}")
    axes.set_xlabel("seconds into the load run")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", ncol=3)
    return _svg(figure)
