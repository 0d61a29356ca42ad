"""The two charts of the alert view as server-rendered inline SVG: the account's activity timeline
and its counterparty network with the facilitator path.

Pure functions of an :class:`~nexusfin.review.evidence.AlertEvidence`: no plotting library, no
script, no randomness (same evidence, same markup). Styling is by presentation attributes only (no
``<style>`` element, no ``style`` attribute), so the markup can be inlined under a strict content
security policy; the classes and ``data-`` attributes are stable hooks for the app's CSS and tests.
Every text from the evidence is escaped.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

from nexusfin.review.evidence import AlertEvidence

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
_FS = 11  # base font size (px)
_CHAR_W = 0.55  # average glyph width as a share of the font size (label width estimates)

# muted palette
_INK = "#1f2933"
_MUTED = "#52606d"
_GRID = "#e4e7eb"
_AXIS = "#9aa5b1"
_CASH_IN = "#b7791f"
_OTHER_IN = "#2b6cb0"
_OUT = "#6b5b95"
_EVIDENCE = "#c53030"
_CTR = "#c53030"
_BAND = "#d69e2e"
_ALERT_DAY = "#2b6cb0"
_SUBJECT = "#1f3a5f"
_COUNTERPARTY = "#a0aec0"
_PATH = "#dd6b20"
_FACILITATOR = "#b83227"
_EDGE = "#a0aec0"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(value: Any) -> str:
    """Text or attribute value, escaped (and without characters XML cannot carry)."""
    return html.escape(_CONTROL.sub("", str(value)), quote=True)


def _money(x: float) -> str:
    return f"{x:,.2f}"


def _amount(x: float) -> str:
    """Threshold and tick figures: no decimals when whole."""
    return f"{x:,.0f}" if float(x).is_integer() else _money(x)


def _n(x: float) -> str:
    """A coordinate."""
    return f"{x:.1f}"


def _text_w(text: str, size: float = _FS) -> float:
    return len(text) * size * _CHAR_W


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _text(x: float, y: float, text: str, *, size: float = _FS, anchor: str = "start",
          fill: str = _INK, weight: str | None = None, cls: str | None = None,
          halo: bool = False, italic: bool = False) -> str:
    attrs = [f'x="{_n(x)}"', f'y="{_n(y)}"', f'font-size="{size:g}"', f'fill="{fill}"']
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if weight:
        attrs.append(f'font-weight="{weight}"')
    if italic:
        attrs.append('font-style="italic"')
    if halo:
        attrs.append('stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"')
    if cls:
        attrs.append(f'class="{cls}"')
    return f"<text {' '.join(attrs)}>{_esc(text)}</text>"


def _root(kind: str, width: int, height: int, label: str, body: list[str]) -> str:
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}-chart" '
        f'data-testid="{kind}-chart" role="img" aria-label="{_esc(label)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'preserveAspectRatio="xMidYMid meet" font-family="{_FONT}" font-size="{_FS}">',
        f"<title>{_esc(label)}</title>",
        *body,
        "</svg>",
    ])


def _uid(evidence: AlertEvidence, kind: str) -> str:
    """Document-unique, deterministic id prefix (several charts may share one page)."""
    key = str(evidence.alert.get("alert_id", "")) + "|" + kind
    return f"nf-{kind}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def _legend(items: list[tuple[str, str]], x0: float, y0: float, max_x: float) -> tuple[list[str], float]:
    """Legend entries (swatch markup centred on 0,0; label), wrapped onto rows; returns the markup
    and the y below the last row."""
    out = ['<g class="legend">']
    x, y = x0, y0
    for swatch, label in items:
        w = 22 + _text_w(label, 10.5) + 16
        if x > x0 and x + w > max_x:
            x, y = x0, y + 18
        out.append(f'<g class="legend-item" transform="translate({_n(x + 7)},{_n(y)})">{swatch}'
                   f'{_text(14, 3.8, label, size=10.5, fill=_MUTED)}</g>')
        x += w
    out.append("</g>")
    return out, y + 9


# --------------------------------------------------------------------------------------------------
# timeline


def _nice_step(span: float, target: int = 5) -> float:
    if span <= 0:
        return 1.0
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _marker_kind(row: dict[str, Any]) -> str:
    if row.get("direction") == "in":
        return "cash-in" if row.get("is_cash") else "other-in"
    return "out"


def _marker_shape(kind: str) -> str:
    if kind == "cash-in":
        return f'<circle r="4.6" fill="{_CASH_IN}" stroke="#ffffff" stroke-width="0.8"/>'
    if kind == "other-in":
        return f'<path d="M0,-5.6 L5,3.2 L-5,3.2 Z" fill="{_OTHER_IN}" stroke="#ffffff" stroke-width="0.8"/>'
    return f'<path d="M0,5.6 L5,-3.2 L-5,-3.2 Z" fill="{_OUT}" stroke="#ffffff" stroke-width="0.8"/>'


_RING = f'<circle class="evidence-ring" r="8.5" fill="none" stroke="{_EVIDENCE}" stroke-width="1.8"/>'

_MARKER_LABEL = {"cash-in": "cash deposit", "other-in": "inflow", "out": "outflow"}


def _txn_title(row: dict[str, Any], ts: datetime | None, usd: float | None) -> str:
    parts = [str(row.get("txn_id"))]
    parts.append(ts.strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "time unknown")
    parts.append(f"USD {_money(usd)}" if usd is not None else "amount unknown")
    direction = "in" if row.get("direction") == "in" else "out"
    cp = row.get("counterparty")
    parts.append(f"{direction} ({'from' if direction == 'in' else 'to'} {cp})" if cp else direction)
    channel = " / ".join(str(v) for v in (row.get("channel"), row.get("txn_type")) if v)
    if channel:
        parts.append(channel)
    if row.get("is_cash"):
        parts.append("cash")
    if row.get("is_evidence"):
        parts.append("evidence")
    return " · ".join(parts)


def timeline_svg(evidence: AlertEvidence, *, width: int = 900, height: int = 300) -> str:
    """The account's transactions over the evidence window against the CTR threshold and the
    structuring band."""
    first, last = evidence.window
    alert_day = evidence.alert.get("as_of") or last
    if isinstance(alert_day, datetime):
        alert_day = alert_day.date()
    rows = evidence.activity.to_dicts() if evidence.activity.height else []
    ctr = evidence.thresholds.get("ctr_threshold_usd")
    band_low = evidence.thresholds.get("structuring_band_low_usd")
    if band_low is not None and (ctr is None or not 0 < band_low < ctr):
        band_low = None

    # legend first: it decides the top margin
    legend_items = [
        (_marker_shape("cash-in"), "cash deposit"),
        (_marker_shape("other-in"), "other inflow"),
        (_marker_shape("out"), "outflow"),
        (_marker_shape("cash-in").replace('r="4.6"', 'r="3"').replace(_CASH_IN, "#cbd2d9")
         + _RING.replace('r="8.5"', 'r="6.5"'), "evidence"),
    ]
    if ctr is not None:
        legend_items.append((f'<line x1="-8" x2="8" y1="0" y2="0" stroke="{_CTR}" stroke-width="1.6"/>',
                             "CTR threshold"))
    if band_low is not None:
        legend_items.append((f'<rect x="-8" y="-5" width="16" height="10" fill="{_BAND}" '
                             f'fill-opacity="0.16" stroke="{_BAND}" stroke-dasharray="3 2"/>',
                             "structuring band"))
    legend, legend_bottom = _legend(legend_items, 10, 14, width - 10)

    left, right = 70.0, width - 18.0
    top, bottom = legend_bottom + 22, height - 38.0
    if bottom - top < 40:
        top = bottom - 40

    # axes
    t0 = _day_start(first)
    t1 = _day_start(last) + timedelta(days=1)
    span_s = max((t1 - t0).total_seconds(), 1.0)

    def x_of(ts: datetime) -> float:
        s = (ts - t0).total_seconds() / span_s
        return left + min(max(s, 0.0), 1.0) * (right - left)

    amounts = [float(r["amount_usd"]) for r in rows if r.get("amount_usd") is not None]
    peak = max([abs(a) for a in amounts], default=0.0) * 1.04
    if ctr is not None:
        peak = max(peak, ctr * 1.15)
    if band_low is not None:
        peak = max(peak, band_low * 1.15)
    step = _nice_step(peak or 1.0)
    y_top = max(step, math.ceil(peak / step) * step) if peak else step * 5

    def y_of(usd: float) -> float:
        return bottom - min(max(usd, 0.0), y_top) / y_top * (bottom - top)

    body = [f'<rect class="plot-area" x="{_n(left)}" y="{_n(top)}" width="{_n(right - left)}" '
            f'height="{_n(bottom - top)}" fill="#ffffff"/>']

    # the alert day (behind everything else)
    if first <= alert_day <= last:
        ax0, ax1 = x_of(_day_start(alert_day)), x_of(_day_start(alert_day) + timedelta(days=1))
        body.append(
            f'<g class="alert-day" data-date="{alert_day.isoformat()}">'
            f'<rect x="{_n(ax0)}" y="{_n(top)}" width="{_n(max(ax1 - ax0, 2.0))}" '
            f'height="{_n(bottom - top)}" fill="{_ALERT_DAY}" fill-opacity="0.08"/>'
            f'<line x1="{_n(ax1)}" x2="{_n(ax1)}" y1="{_n(top - 14)}" y2="{_n(bottom)}" '
            f'stroke="{_ALERT_DAY}" stroke-opacity="0.5" stroke-width="1"/>'
            + _text(ax1 - 3, top - 5, f"alert day {alert_day.isoformat()}", size=10.5,
                    anchor="end", fill=_ALERT_DAY, weight="600")
            + "</g>")

    # y ticks and grid
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    body.append('<g class="axis y-axis">')
    k = 0
    while k * step <= y_top + step * 1e-9:
        v = k * step
        y = y_of(v)
        label = f"{v:,.{decimals}f}"
        body.append(f'<g class="tick y-tick" data-usd="{v:g}">'
                    f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{_n(y)}" y2="{_n(y)}" '
                    f'stroke="{_GRID}" stroke-width="1"/>'
                    + _text(left - 6, y + 3.8, label, size=10.5, anchor="end", fill=_MUTED)
                    + "</g>")
        k += 1
    body.append(_text(left - 6, top - 13, "USD", size=10.5, anchor="end", fill=_MUTED, weight="600"))
    body.append("</g>")

    # x ticks: every day a tick, a label every few days counted back from the last day
    n_days = (last - first).days + 1
    px_day = (right - left) / max(n_days, 1)
    need = math.ceil(78 / px_day) if px_day > 0 else n_days
    label_every = next((s for s in (1, 2, 3, 7, 14, 28, 56, 91, 182, 364) if s >= need), need)
    body.append('<g class="axis x-axis">')
    body.append(f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{_n(bottom)}" y2="{_n(bottom)}" '
                f'stroke="{_AXIS}" stroke-width="1"/>')
    for i in range(n_days + 1):
        d = first + timedelta(days=i)
        x = x_of(_day_start(d))
        labelled = i < n_days and (last - d).days % label_every == 0
        body.append(f'<line class="tick x-tick" x1="{_n(x)}" x2="{_n(x)}" y1="{_n(bottom)}" '
                    f'y2="{_n(bottom + (5 if labelled else 3))}" stroke="{_AXIS}" stroke-width="1"/>')
        if labelled:  # centred under the tick unless that runs off the chart
            half = _text_w(d.isoformat(), 10.5) / 2
            lx, anchor = ((width - 2.0, "end") if x + half > width - 2
                          else (2.0, "start") if x - half < 2 else (x, "middle"))
            body.append(_text(lx, bottom + 17, d.isoformat(), size=10.5, anchor=anchor, fill=_MUTED,
                              cls="x-label"))
    body.append(_text(right, bottom + 32, "day (UTC)", size=10, anchor="end", fill=_MUTED))
    body.append("</g>")

    # thresholds: band shading, band low edge (dashed), CTR line
    # a band too thin for its own label is named on the CTR line's label
    merged = band_low is not None and ctr is not None and y_of(band_low) - y_of(ctr) < 18
    if band_low is not None and ctr is not None:
        yb, yc = y_of(band_low), y_of(ctr)
        body.append(
            f'<g class="structuring-band" data-usd="{band_low:g}">'
            f'<rect class="structuring-band-area" x="{_n(left)}" y="{_n(yc)}" width="{_n(right - left)}" '
            f'height="{_n(yb - yc)}" fill="{_BAND}" fill-opacity="0.13"/>'
            f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{_n(yb)}" y2="{_n(yb)}" stroke="{_BAND}" '
            f'stroke-width="1.2" stroke-dasharray="5 4"/>'
            + ("" if merged else _text(left + 6, min(yb + 13, bottom - 4),
                                       f"structuring band from {_amount(band_low)} USD",
                                       size=10.5, fill="#975a16", halo=True))
            + "</g>")
    if ctr is not None:
        yc = y_of(ctr)
        body.append(
            f'<g class="ctr-threshold" data-usd="{ctr:g}">'
            f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{_n(yc)}" y2="{_n(yc)}" stroke="{_CTR}" '
            f'stroke-width="1.6"/>'
            + _text(left + 6, yc - 5, f"CTR threshold {_amount(ctr)} USD", size=10.5, fill=_CTR,
                    weight="600", halo=True).replace(
                "</text>", f'<tspan font-weight="normal" fill="#975a16"> · structuring band from '
                           f"{_amount(band_low)} USD</tspan></text>" if merged else "</text>")
            + "</g>")

    # transactions: evidence drawn last (on top), each group in time order
    body.append('<g class="transactions">')
    ordered = sorted(range(len(rows)), key=lambda i: (bool(rows[i].get("is_evidence")), i))
    for i in ordered:
        r = rows[i]
        ts = _utc(r["ts"]) if isinstance(r.get("ts"), datetime) else None
        usd = float(r["amount_usd"]) if r.get("amount_usd") is not None else None
        kind = _marker_kind(r)
        x = x_of(ts) if ts else left
        y = y_of(usd if usd is not None else 0.0)
        cls = f"txn txn-{kind}" + (" evidence" if r.get("is_evidence") else "")
        ring = _RING if r.get("is_evidence") else ""
        body.append(f'<g class="{cls}" data-txn-id="{_esc(r.get("txn_id"))}" '
                    f'data-usd="{"" if usd is None else f"{usd:.2f}"}" '
                    f'transform="translate({_n(x)},{_n(y)})">'
                    f"<title>{_esc(_txn_title(r, ts, usd))}</title>{ring}{_marker_shape(kind)}</g>")
    body.append("</g>")
    if not rows:
        body.append(_text((left + right) / 2, (top + bottom) / 2, "no transactions in the window",
                          size=13, anchor="middle", fill=_MUTED, cls="empty", italic=True))
    body.append(f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(right - left)}" height="{_n(bottom - top)}" '
                f'fill="none" stroke="{_AXIS}" stroke-width="1"/>')
    body.extend(legend)

    n_ev = sum(1 for r in rows if r.get("is_evidence"))
    label = (f"Activity of account {evidence.alert.get('account_id', '')} from {first.isoformat()} "
             f"to {last.isoformat()}: {len(rows)} transaction{'' if len(rows) == 1 else 's'}, "
             f"{n_ev} evidence")
    if ctr is not None:
        label += f"; CTR threshold {_amount(ctr)} USD"
    return _root("timeline", width, height, label, body)


# --------------------------------------------------------------------------------------------------
# network


def _role_class(role: Any) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", str(role or "unknown").lower()).strip("-")
    return cleaned or "unknown"


def _dedup(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for a in items:
        if a not in seen:
            seen.add(a)
            out.append(a)
    return out


def _arc_points(k: int, sectors: list[tuple[float, float]]) -> list[float]:
    """k angles (degrees, counter-clockwise from east) spread evenly over the sectors, in order."""
    total = sum(abs(b - a) for a, b in sectors)
    if k == 0 or total == 0:
        return []
    full = len(sectors) == 1 and total >= 360
    out = []
    for j in range(k):
        t = (j if full else j + 0.5) * total / k
        for a, b in sectors:
            length = abs(b - a)
            if t <= length or (a, b) == sectors[-1]:
                out.append(a + math.copysign(min(t, length), b - a))
                break
            t -= length
    return out


def _node_radius(role: str) -> float:
    return {"subject": 17.0, "facilitator": 15.0, "path": 11.0}.get(role, 9.0)


def _label_block(lines: list[tuple[str, str | None, str]], x: float, lx: float, first_y: float,
                 lh: float, anchor: str, width: int, *, italic_first: bool) -> str:
    """A node's label lines (text, weight, colour) at ``lx`` from the node at ``x``, kept inside the
    chart: centred blocks shift, side blocks lose characters."""
    sizes = [11.0 if i == 0 else 10.5 for i in range(len(lines))]

    def w_of(t: str, size: float, weight: str | None) -> float:
        return _text_w(t, size) * (1.08 if weight else 1.0)

    if anchor == "middle":
        half = max(w_of(t, sz, wt) for (t, wt, _), sz in zip(lines, sizes, strict=True)) / 2
        lx += max(0.0, 4 + half - (x + lx)) - max(0.0, x + lx + half - (width - 4))
    fitted = []
    for (t, wt, fill), sz in zip(lines, sizes, strict=True):
        room = (width - 4 - (x + lx)) if anchor == "start" else (x + lx - 4) if anchor == "end" else 1e9
        while len(t) > 4 and w_of(t, sz, wt) > room:
            t = _truncate(t, len(t) - 1)
        fitted.append((t, wt, fill))
    return "".join(_text(lx, first_y + i * lh, t, size=sz, anchor=anchor, fill=fill, weight=wt,
                         halo=True, italic=italic_first and i == 0)
                   for i, ((t, wt, fill), sz) in enumerate(zip(fitted, sizes, strict=True)))


def network_svg(evidence: AlertEvidence, *, width: int = 900, height: int = 420) -> str:
    """The counterparty network: the facilitator path across the middle in money order, the other
    counterparties on an arc around the subject."""
    nodes = evidence.network_nodes.to_dicts() if evidence.network_nodes.height else []
    edges_in = evidence.network_edges.to_dicts() if evidence.network_edges.height else []
    alert = evidence.alert
    by_id: dict[str, dict[str, Any]] = {}
    for row in nodes:
        by_id.setdefault(str(row.get("account_id")), row)
    subject = next((a for a, r in by_id.items() if r.get("role") == "subject"), None)
    if subject is None and str(alert.get("account_id")) in by_id:
        subject = str(alert.get("account_id"))
    path = [a for a in _dedup([str(a) for a in alert.get("facilitator_path_accounts") or []])
            if a in by_id]
    if len(path) < 2:
        path = []
    facilitator = next((a for a, r in by_id.items() if r.get("role") == "facilitator"), None)

    edges = [e for e in edges_in
             if str(e.get("src_account")) != str(e.get("dst_account"))
             and str(e.get("src_account")) in by_id and str(e.get("dst_account")) in by_id]
    usd_of: dict[str, float] = {}
    for e in edges:
        for a in (str(e["src_account"]), str(e["dst_account"])):
            usd_of[a] = usd_of.get(a, 0.0) + float(e.get("usd") or 0.0)
    others = sorted((a for a in by_id if a != subject and a not in path),
                    key=lambda a: (-usd_of.get(a, 0.0), a))

    # legend
    legend_items = [
        (f'<circle r="6" fill="{_SUBJECT}"/>', "subject"),
        (f'<circle r="5" fill="{_COUNTERPARTY}"/>', "counterparty"),
    ]
    if path:
        legend_items += [
            (f'<circle r="5" fill="#ffffff" stroke="{_PATH}" stroke-width="2.2"/>', "path account"),
            (f'<line x1="-8" x2="8" y1="0" y2="0" stroke="{_PATH}" stroke-width="4"/>',
             "facilitator path (money order)"),
        ]
    if facilitator:
        legend_items.append((f'<circle r="6" fill="{_FACILITATOR}"/>', "facilitator"))
    legend_items.append((f'<line x1="-8" x2="8" y1="0" y2="0" stroke="{_EDGE}" stroke-width="2"/>',
                         "flow (width ~ log USD)"))
    legend, legend_bottom = _legend(legend_items, 10, 14, width - 10)

    top, bottom = legend_bottom + 8, float(height - 6)
    cy = (top + bottom) / 2
    k = len(others)
    crowded = k > 16
    ry = max((bottom - top) / 2 - 46, 40.0)
    side_margin = 90.0 if crowded else 160.0
    pos: dict[str, tuple[float, float]] = {}
    out_angle: dict[str, float] = {}  # label direction of arc nodes (degrees)

    def place_path(x0: float, x1: float, y: float) -> None:
        n = len(path)
        for i, a in enumerate(path):
            pos[a] = (x0 + (x1 - x0) * i / (n - 1), y)

    if path and subject in path:
        i_subj = path.index(subject)
        rx = min(width * 0.22, 200.0) if k else 0.0
        if i_subj == 0:
            sx = side_margin + rx if k else 80.0
            place_path(sx, width - 90.0, cy)
            sectors = [(55.0, 305.0)]
        elif i_subj == len(path) - 1:
            sx = width - side_margin - rx if k else width - 80.0
            place_path(90.0, sx, cy)
            sectors = [(125.0, -125.0)]
        else:
            place_path(90.0, width - 90.0, cy)
            sectors = [(150.0, 30.0), (210.0, 330.0)]
            sx = pos[subject][0]
            rx = min(rx, width * 0.18)
        centre = (sx, cy)
    elif path:  # a path that does not pass through the subject: along the bottom
        place_path(90.0, width - 90.0, bottom - 44)
        ry = max((bottom - 44 - top) / 2 - 50, 30.0)
        cy = top + 40 + ry
        rx = min(width / 2 - side_margin, 2.2 * ry)
        centre = (width / 2, cy)
        sectors = [(90.0, 450.0)]
    else:
        rx = max(min(width / 2 - side_margin, 2.2 * ry), 40.0)
        centre = (width / 2, cy)
        sectors = [(90.0, -270.0)]
    if subject is not None and subject not in pos:
        pos[subject] = centre
    for j, (a, ang) in enumerate(zip(others, _arc_points(k, sectors), strict=True)):
        scale = 0.7 if crowded and j % 2 else 1.0
        rad = math.radians(ang)
        x = centre[0] + rx * scale * math.cos(rad)
        y = centre[1] - ry * scale * math.sin(rad)
        pos[a] = (min(max(x, 14.0), width - 14.0), min(max(y, top + 14), bottom - 14))
        out_angle[a] = ang

    # edges: widths on a log scale of USD, path edges in money order, drawn last
    uid = _uid(evidence, "network")
    pairs = {(str(e["src_account"]), str(e["dst_account"])) for e in edges}
    path_pairs = list(pairwise(path))
    path_rank = {p: i for i, p in enumerate(path_pairs)}
    logs = [math.log10(max(float(e.get("usd") or 0.0), 1.0)) for e in edges]
    lo, hi = min(logs, default=0.0), max(logs, default=0.0)

    def width_of(usd: float) -> float:
        v = math.log10(max(usd, 1.0))
        return 1.0 + 4.5 * ((v - lo) / (hi - lo) if hi > lo else 0.5)

    def is_path(e: dict[str, Any]) -> bool:
        return bool(e.get("on_path")) or (str(e["src_account"]), str(e["dst_account"])) in path_rank

    def edge_key(e: dict[str, Any]) -> tuple:
        pair = (str(e["src_account"]), str(e["dst_account"]))
        if is_path(e):
            return (1, path_rank.get(pair, len(path_rank)), *pair)
        return (0, -float(e.get("usd") or 0.0), *pair)

    spacing = (pos[path[1]][0] - pos[path[0]][0]) if path else 0.0
    alternate = bool(path) and abs(spacing) < 120
    body = ["<defs>",
            f'<marker id="{uid}-arrow" viewBox="0 0 10 10" refX="0" refY="5" markerWidth="8" '
            f'markerHeight="7" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M0,0 L10,5 L0,10 Z" fill="{_EDGE}"/></marker>',
            f'<marker id="{uid}-arrow-path" viewBox="0 0 10 10" refX="0" refY="5" markerWidth="12" '
            f'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M0,0 L10,5 L0,10 Z" fill="{_PATH}"/></marker>',
            "</defs>", '<g class="edges">']
    for e in sorted(edges, key=edge_key):
        src, dst = str(e["src_account"]), str(e["dst_account"])
        usd = float(e.get("usd") or 0.0)
        n_txns = int(e.get("n_txns") or 0)
        on_path = is_path(e)
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        dx, dy = x1 - x0, y1 - y0
        dist = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / dist, dx / dist
        # a curve when the reverse flow exists or both ends sit on the path row but not adjacent
        bend = 0.0
        if (dst, src) in pairs:
            bend = 0.12 * dist
        elif src in path and dst in path and not on_path:
            bend = 0.25 * dist
        cx, cyy = (x0 + x1) / 2 + nx * bend, (y0 + y1) / 2 + ny * bend
        arrow = 12.0 if on_path else 8.0
        # leave the source circle, stop at the arrow's base before the target circle
        sdx, sdy = cx - x0, cyy - y0
        sd = math.hypot(sdx, sdy) or 1.0
        tdx, tdy = x1 - cx, y1 - cyy
        td = math.hypot(tdx, tdy) or 1.0
        r0 = _node_radius(str(by_id[src].get("role"))) + 2
        r1 = _node_radius(str(by_id[dst].get("role"))) + 2 + arrow
        ax, ay = x0 + sdx / sd * r0, y0 + sdy / sd * r0
        bx, by = x1 - tdx / td * r1, y1 - tdy / td * r1
        w = max(width_of(usd), 4.0) if on_path else width_of(usd)
        colour = _PATH if on_path else _EDGE
        d = (f"M{_n(ax)},{_n(ay)} Q{_n(cx)},{_n(cyy)} {_n(bx)},{_n(by)}" if bend
             else f"M{_n(ax)},{_n(ay)} L{_n(bx)},{_n(by)}")
        title = f"{src} → {dst}: {n_txns} txn{'' if n_txns == 1 else 's'}, USD {_money(usd)}"
        extra = ""
        if on_path and not alternate and not bend:
            extra = _text((x0 + x1) / 2, (y0 + y1) / 2 - w / 2 - 5, f"{_money(usd)} USD", size=10,
                          anchor="middle", fill="#9c4221", halo=True, cls="edge-label")
        body.append(
            f'<g class="edge{" on-path" if on_path else ""}" data-src="{_esc(src)}" data-dst="{_esc(dst)}" '
            f'data-usd="{usd:.2f}" data-n-txns="{n_txns}"><title>{_esc(title)}</title>'
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{w:.2f}" '
            f'stroke-opacity="{"0.95" if on_path else "0.75"}" stroke-linecap="round" '
            f'marker-end="url(#{uid}-arrow{"-path" if on_path else ""})"/>{extra}</g>')
    body.append("</g>")

    # nodes: arc nodes first, then the path, the subject last (on top)
    programs = [str(p) for p in alert.get("facilitator_programs") or []]
    entity = alert.get("facilitator_entity_id")
    body.append('<g class="nodes">')

    def node_order(a: str) -> tuple:
        return (2 if a == subject else 1 if a in path else 0, a)

    for a in sorted(by_id, key=node_order):
        row = by_id[a]
        role = str(row.get("role") or "")
        if a == facilitator:
            role = "facilitator"
        elif a == subject:
            role = "subject"
        x, y = pos.get(a, (width / 2, cy))
        r = _node_radius(role)
        name = row.get("party_name")
        country = row.get("country")
        shown_name = _truncate(str(name), 22) if name else "unnamed party"
        lines = [(shown_name, "600" if role in ("subject", "facilitator") else None,
                  _INK if name else _MUTED)]
        lines.append((f"{a} · {country}" if country else a, None, _MUTED))
        if role == "facilitator" and entity:
            fac = f"facilitator {entity}" + (f" · {', '.join(programs)}" if programs else "")
            lines.append((fac, "600", _FACILITATOR))
        if crowded and a in out_angle:
            lines = lines[1:2]
        title = (f"{name if name else 'unnamed party'} ({row.get('party_id') or 'party unknown'}) — "
                 f"account {a}" + (f", {country}" if country else "") + f" — {role}")
        if role == "facilitator" and entity:
            title += f": {entity}" + (f" ({', '.join(programs)})" if programs else "")
        if role == "subject":
            shape = (f'<circle r="{r + 4:g}" fill="none" stroke="{_SUBJECT}" stroke-opacity="0.35" '
                     f'stroke-width="3"/><circle r="{r:g}" fill="{_SUBJECT}" stroke="#ffffff" stroke-width="2"/>')
        elif role == "facilitator":
            shape = (f'<circle r="{r + 4:g}" fill="none" stroke="{_FACILITATOR}" stroke-width="1.5"/>'
                     f'<circle r="{r:g}" fill="{_FACILITATOR}" stroke="#ffffff" stroke-width="2"/>')
        elif role == "path":
            shape = f'<circle r="{r:g}" fill="#ffffff" stroke="{_PATH}" stroke-width="3"/>'
        else:
            shape = f'<circle r="{r:g}" fill="{_COUNTERPARTY}" stroke="#ffffff" stroke-width="1.5"/>'
        # label placement: outward on the arc, below (or alternately above) on the path row
        lh = 12.5
        if a in out_angle:
            rad = math.radians(out_angle[a])
            ux, uy = math.cos(rad), -math.sin(rad)
            anchor = "start" if ux > 0.35 else "end" if ux < -0.35 else "middle"
            if anchor == "middle":
                first_y = (r + 12 if uy > 0 else -r - 6 - lh * (len(lines) - 1))
                lx = 0.0
            else:
                first_y = -lh * (len(lines) - 1) / 2 + 4
                lx = (r + 6) * (1 if anchor == "start" else -1)
        else:
            anchor, lx = "middle", 0.0
            above = alternate and a in path and path.index(a) % 2 == 1
            if a == subject and a not in path:
                above = True
            first_y = (-r - 8 - lh * (len(lines) - 1)) if above else r + 14
        label = _label_block(lines, x, lx, first_y, lh, anchor, width, italic_first=not name)
        cls = f"node role-{_role_class(role)}" + (" facilitator" if role == "facilitator" else "")
        body.append(f'<g class="{cls}" data-account-id="{_esc(a)}" transform="translate({_n(x)},{_n(y)})">'
                    f"<title>{_esc(title)}</title>{shape}{label}</g>")
    body.append("</g>")
    if not edges:
        body.append(_text(width / 2, bottom - 10, "no counterparty flows in the window", size=12,
                          anchor="middle", fill=_MUTED, cls="empty", italic=True))
    body.extend(legend)

    label = (f"Counterparty network of account {alert.get('account_id', '')}: {len(by_id)} "
             f"account{'' if len(by_id) == 1 else 's'}, {len(edges)} flow{'' if len(edges) == 1 else 's'}")
    if path:
        towards = "to" if facilitator == path[-1] else "from" if facilitator == path[0] else "via"
        label += f"; facilitator path of {len(path) - 1} hop{'' if len(path) == 2 else 's'}"
        if entity:
            label += f" {towards} {entity}" + (f" ({', '.join(programs)})" if programs else "")
    return _root("network", width, height, label, body)
