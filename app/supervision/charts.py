"""Charts drawn on the server as SVG (no script, no CDN): the ranking's bars and the trend."""

from __future__ import annotations

from html import escape

PALETTE = ("#8b1a1a", "#1f6feb", "#2da44e", "#bf8700", "#8250df", "#cf222e", "#57606a", "#0a7b83")


def score_bars(rows: list[tuple[str, float, bool]], width: int = 640) -> str:
    """Horizontal bars, one per unit: (name, score 0–100, marked as bottom five)."""
    bar_h, gap, left, top = 22, 8, 180, 10
    height = top * 2 + len(rows) * (bar_h + gap)
    span = width - left - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'aria-label="季度考核得分" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">']  # fmt: skip
    for i, (name, score, bottom) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = max(1.0, span * max(0.0, min(score, 100.0)) / 100)
        color = "#cf222e" if bottom else "#1f6feb"
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end" font-size="13">'
                     f"{escape(name)}</text>")  # fmt: skip
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}">'
                     f"<title>{escape(name)}：{score:.1f} 分</title></rect>")  # fmt: skip
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 16}" font-size="13">{score:.1f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend_lines(labels: list[str], series: list[tuple[str, list[float]]], width: int = 640,
                height: int = 240) -> str:  # fmt: skip
    """One line per unit across the quarters in `labels` (scores 0–100)."""
    left, right, top, bottom = 40, 150, 16, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(labels) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h * (1 - max(0.0, min(v, 100.0)) / 100)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'aria-label="各季度得分趋势" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">']  # fmt: skip
    for v in (0, 50, 100):
        _, y = xy(0, v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     f'stroke="#d8dce1"/><text x="{left - 6}" y="{y + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{v}</text>')  # fmt: skip
    for i, label in enumerate(labels):
        x, _ = xy(i, 0)
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" font-size="11" text-anchor="middle">'
                     f"{escape(label)}</text>")  # fmt: skip
    for n, (name, values) in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        points = " ".join("{:.1f},{:.1f}".format(*xy(i, v)) for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        parts.append(f'<text x="{left + plot_w + 8}" y="{top + 14 + n * 16}" font-size="12" '
                     f'fill="{color}">{escape(name)}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)
