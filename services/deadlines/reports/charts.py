"""The on-time rate by unit as an SVG bar chart (pygal), with Chinese unit names kept readable."""

from __future__ import annotations

import sys

import pygal
from pygal.style import Style

from services.deadlines.reports.service import Report

# pygal appends a legacy import hook (for its `pygal.maps.*` map plugins, unused here)
# that lacks `find_spec`: every later failed import in the process then warns, and the
# service's optional imports fail on it. Take the hook out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

# SVG text is drawn with the viewer's fonts: name CJK fonts first so that unit
# names render as characters, not boxes, on Linux, Windows and macOS alike.
CJK_FONTS = (
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', "
    "'Microsoft YaHei', 'PingFang SC', 'SimHei', sans-serif"
)
_STYLE = Style(
    font_family=CJK_FONTS,
    label_font_family=CJK_FONTS,
    major_label_font_family=CJK_FONTS,
    title_font_family=CJK_FONTS,
    legend_font_family=CJK_FONTS,
    value_font_family=CJK_FONTS,
    tooltip_font_family=CJK_FONTS,
    label_font_size=13,
    title_font_size=17,
    colors=("#2f6db5",),
)


def on_time_chart(report: Report) -> bytes:
    """A horizontal bar per unit: share of its clocks due in the period that were met."""
    units = [u for u in report.units if u.clocks.on_time_rate is not None]
    chart = pygal.HorizontalBar(
        style=_STYLE,
        title=f"{report.period.label} 各承办单位按时办结率（%）",
        show_legend=False,
        range=(0, 100),
        truncate_label=-1,
        print_values=True,
        value_formatter=lambda v: f"{v:.1f}%",
        width=900,
        height=max(240, 60 + 42 * len(units)),
        no_data_text="本期无到期时限",
        disable_xml_declaration=False,
    )
    # The annual summary names each unit's assessment score beside it (Art. 25).
    chart.x_labels = [
        u.unit_name if u.score is None else f"{u.unit_name}（考核得分 {u.score:g}）" for u in units
    ]
    chart.add(
        "按时办结率",
        [
            {
                "value": round((u.clocks.on_time_rate or 0.0) * 100, 1),
                "label": f"按时 {u.clocks.met} / 到期 {u.clocks.met + u.clocks.overdue}",
            }
            for u in units
        ],
    )
    svg: bytes = chart.render()
    return svg
