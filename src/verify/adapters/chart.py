"""The monthly chart: incidents per month, stacked by grade (needs the `chart` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from verify.domain.errors import InvalidInput

GRADE_COLOURS: dict[str, str] = {
    "confirmed": "#0072B2",  # blue
    "fair": "#56B4E9",  # sky blue: a supported allegation is no alarm
    "weak": "#E69F00",  # orange
    "contested": "#CC79A7",  # reddish purple
    "discounted": "#999999",  # grey
    "ungraded": "#DDDDDD",  # light grey
}
"""Each grade's colour in every chart: `stats --chart`, the web's statistics page and the
published archive's (web/app.py `monthly_chart` hands these to templates/chart.html). The
Okabe-Ito colours, told apart by readers with any common colour blindness; stacked from
the bottom in this order."""


def draw_monthly_chart(groups: list[dict[str, Any]], path: Path) -> None:
    """Draw a stacked bar per month, one colour per grade, to a PNG or SVG file."""
    if path.suffix.lower() not in {".png", ".svg"}:
        raise InvalidInput(f"the chart goes to a .png or .svg file, not {path.name}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InvalidInput(
            "drawing charts needs matplotlib: pip install 'verify[chart]'"
        ) from None
    months = [str(group["key"]) for group in groups]
    figure, axes = plt.subplots(figsize=(max(8.0, len(months) * 0.25 + 1.5), 4.5), dpi=120)
    bottom = [0] * len(months)
    for grade, colour in GRADE_COLOURS.items():
        values = [group["grades"][grade] for group in groups]
        axes.bar(months, values, bottom=bottom, color=colour, label=grade, width=0.8)
        bottom = [low + value for low, value in zip(bottom, values, strict=True)]
    axes.set_ylabel("incidents")
    axes.set_title("Incidents per month, by grade")
    handles, labels = axes.get_legend_handles_labels()
    axes.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0),
                fontsize="small", frameon=False, title="grade")
    step = max(1, len(months) // 24)
    axes.set_xticks(range(0, len(months), step))
    axes.set_xticklabels(months[::step], rotation=60, ha="right", fontsize="small")
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    if not path.parent.is_dir():
        raise InvalidInput(f"the folder {path.parent} does not exist")
    figure.savefig(path)
    plt.close(figure)
