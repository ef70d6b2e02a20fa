"""A small chart of recent runs, drawn as inline SVG on the server (no JavaScript).

One row per dataset: bars for each kept run's duration (coloured by status), bars for the records
it fetched, and bars for the Xledger requests of each of the last days, quiet runs that were
rolled up included (see integrations.retention). Hovering a bar shows its exact figures (SVG
<title>).
"""

from django.utils.html import escape
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from integrations.datasets import Dataset

COLOURS = {
    "succeeded": "#3a7d44",
    "partial": "#c98b1a",
    "failed": "#b83232",
    "abandoned": "#777777",
}
ROW_H = 34
LABEL_W = 150
PANEL_W = 200
GAP = 30
BAR_GAP = 2
SLOTS = 20  # bars per panel (the newest runs of a dataset)
DAY_COLOUR = "#6c7a89"


def _bars(values, x0, y0, width, height, colours, titles, slots=SLOTS):
    if not values:
        return ""
    top = max(values) or 1
    # Fixed slots, newest at the right edge: one run is one thin bar, not a full-width block.
    slot = width / max(len(values), slots)
    x0 += width - slot * len(values)
    bar_w = max(slot - BAR_GAP, 1)
    parts = []
    for i, (value, colour, title) in enumerate(zip(values, colours, titles, strict=True)):
        h = max(height * value / top, 1)
        x = x0 + i * slot
        y = y0 + height - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>{escape(title)}</title></rect>'
        )
    return "".join(parts)


def _seconds(run):
    if run.started_at and run.finished_at:
        return max((run.finished_at - run.started_at).total_seconds(), 0.0)
    return 0.0


def _seconds_label(value):
    return f"{value:.1f}s" if value < 10 else f"{value:.0f}s"


def _day_title(day, totals) -> str:
    return _(
        "%(day)s (UTC): runs %(runs)d (rolled up %(rolled_up)d), Xledger requests "
        "%(requests)d, records %(fetched)d"
    ) % {
        "day": day.isoformat(),
        "runs": totals.runs,
        "rolled_up": totals.rolled_up,
        "requests": totals.requests,
        "fetched": totals.fetched,
    }


def run_chart_svg(series) -> str:
    """`series`: [(dataset, [Run, ...oldest first], [(date, DayTotals), ...oldest first])].
    Returns an <svg> element (or a note)."""
    if not series:
        return '<p class="help">No finished runs yet.</p>'
    labels = dict(Dataset.choices)
    panels = [LABEL_W + i * (PANEL_W + GAP) for i in range(3)]
    width = panels[-1] + PANEL_W
    height = 20 + ROW_H * len(series)
    out = [
        f'<svg class="run-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Recent run durations and records per dataset">',
        f'<text x="{panels[0]}" y="12" font-size="11" fill="#555">Duration (s)</text>',
        f'<text x="{panels[1]}" y="12" font-size="11" fill="#555">Records fetched</text>',
        f'<text x="{panels[2]}" y="12" font-size="11" fill="#555">'
        f"{escape(_('Xledger requests a day (UTC)'))}</text>",
    ]
    for row, (dataset, runs, days) in enumerate(series):
        y = 20 + row * ROW_H
        seconds = [_seconds(r) for r in runs]
        fetched = [r.fetched for r in runs]
        colours = [COLOURS.get(r.status, "#777777") for r in runs]
        titles = [
            f"{localtime(r.queued_at):%Y-%m-%d %H:%M} {r.status}: {s:.1f} s, {r.fetched} records"
            for r, s in zip(runs, seconds, strict=True)
        ]
        out.append(
            f'<text x="0" y="{y + ROW_H / 2 + 4:.0f}" font-size="12" fill="#333">'
            f"{escape(str(labels.get(dataset, dataset)))}</text>"
        )
        if runs:
            out.append(_top_label(panels[0], y, _seconds_label(max(seconds))))
            out.append(_bars(seconds, panels[0], y, PANEL_W, ROW_H - 8, colours, titles))
            out.append(_top_label(panels[1], y, max(fetched)))
            out.append(
                _bars(fetched, panels[1], y, PANEL_W, ROW_H - 8, ["#4a6fa5"] * len(runs), titles)
            )
        if days:
            requests = [totals.requests for _day, totals in days]
            out.append(_top_label(panels[2], y, max(requests)))
            out.append(
                _bars(
                    requests,
                    panels[2],
                    y,
                    PANEL_W,
                    ROW_H - 8,
                    [DAY_COLOUR] * len(days),
                    [_day_title(day, totals) for day, totals in days],
                    slots=len(days),
                )
            )
    out.append("</svg>")
    return "".join(out)


def _top_label(x, y, text) -> str:
    """A panel's scale: its largest value, at the top left of the row."""
    return (
        f'<text x="{x - 4}" y="{y + 10}" font-size="9" fill="#777" '
        f'text-anchor="end">{escape(str(text))}</text>'
    )
