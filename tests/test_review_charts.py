"""The alert view's charts (timeline and counterparty network) on hand-built evidence bundles."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import polars as pl
import pytest

from nexusfin.review.charts import network_svg, timeline_svg
from nexusfin.review.evidence import AlertEvidence

NS = {"s": "http://www.w3.org/2000/svg"}
AS_OF = date(2026, 3, 10)
SUBJECT = "A-SUBJ"

ACTIVITY_SCHEMA = {"txn_id": pl.String, "ts": pl.Datetime("us", "UTC"), "amount_usd": pl.Float64,
                   "direction": pl.String, "counterparty": pl.String, "channel": pl.String,
                   "txn_type": pl.String, "is_cash": pl.Boolean, "is_evidence": pl.Boolean}
NODE_SCHEMA = {"account_id": pl.String, "party_id": pl.String, "party_name": pl.String,
               "country": pl.String, "role": pl.String}
EDGE_SCHEMA = {"src_account": pl.String, "dst_account": pl.String, "n_txns": pl.UInt32,
               "usd": pl.Float64, "on_path": pl.Boolean}


def txn(txn_id: str, day: int, usd: float, direction: str = "in", *, cash: bool = False,
        evidence: bool = False, hour: int = 12, counterparty: str | None = "A-CP1") -> dict:
    """One activity row ``day`` days before the alert day."""
    ts = datetime(AS_OF.year, AS_OF.month, AS_OF.day, hour, tzinfo=UTC) - timedelta(days=day)
    return {"txn_id": txn_id, "ts": ts, "amount_usd": usd, "direction": direction,
            "counterparty": None if cash else counterparty, "channel": "cash" if cash else "wire",
            "txn_type": "deposit" if cash else "transfer", "is_cash": cash, "is_evidence": evidence}


def node(account_id: str, role: str = "counterparty", name: str | None = "Some Party",
         country: str | None = "US") -> dict:
    return {"account_id": account_id, "party_id": "P" + account_id, "party_name": name,
            "country": country, "role": role}


def edge(src: str, dst: str, usd: float, n: int = 1, on_path: bool = False) -> dict:
    return {"src_account": src, "dst_account": dst, "n_txns": n, "usd": usd, "on_path": on_path}


def bundle(activity: list[dict] | None = None, nodes: list[dict] | None = None,
           edges: list[dict] | None = None, *, path: list[str] | None = None,
           ctr: float = 10_000.0, band_low: float = 8_000.0, alert_id: str = "MA-test") -> AlertEvidence:
    """A small evidence bundle: only what the charts read is filled in."""
    nodes = [node(SUBJECT, "subject", "Subject Holdings")] if nodes is None else nodes
    return AlertEvidence(
        alert={"alert_id": alert_id, "as_of": AS_OF, "account_id": SUBJECT,
               "facilitator_path_accounts": path,
               "facilitator_entity_id": "SYN-42" if path else None,
               "facilitator_programs": ["SDGT", "FTO"] if path else None},
        account={}, party={}, detector_alerts=[], transactions=pl.DataFrame(),
        activity=pl.DataFrame(activity or [], schema=ACTIVITY_SCHEMA),
        network_nodes=pl.DataFrame(nodes, schema=NODE_SCHEMA),
        network_edges=pl.DataFrame(edges or [], schema=EDGE_SCHEMA),
        facilitator_path=None, prior_alerts=[], sar_filings=[],
        thresholds={"ctr_threshold_usd": ctr, "recordkeeping_threshold_usd": 3_000.0,
                    "structuring_band_low_usd": band_low},
        window=(AS_OF - timedelta(days=29), AS_OF),
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def has_class(el: ET.Element, name: str) -> bool:
    return name in (el.get("class") or "").split()


def with_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in root.iter() if has_class(el, name)]


def translate(el: ET.Element) -> tuple[float, float]:
    m = re.fullmatch(r"translate\(([-\d.]+),([-\d.]+)\)", el.get("transform") or "")
    assert m, el.get("transform")
    return float(m.group(1)), float(m.group(2))


def text_of(el: ET.Element) -> str:
    return "".join(el.itertext())


def markers(root: ET.Element) -> dict[str, ET.Element]:
    return {el.get("data-txn-id"): el for el in with_class(root, "txn")}


def y_axis(root: ET.Element) -> list[tuple[float, float]]:
    """(USD of the tick label, y of its grid line) for every y tick."""
    out = []
    for tick in with_class(root, "y-tick"):
        line = tick.find("s:line", NS)
        out.append((float(text_of(tick.find("s:text", NS)).replace(",", "")), float(line.get("y1"))))
    return sorted(out)


def root_ok(root: ET.Element, testid: str) -> None:
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img" and root.get("aria-label")
    assert root.get("data-testid") == testid
    assert len(root.get("viewBox").split()) == 4


ACTIVITY = [
    txn("T1", 20, 4_900.0, cash=True, evidence=True),
    txn("T2", 15, 5_100.0, cash=True, evidence=True),
    txn("T3", 10, 1_250.0),
    txn("T4", 5, 700.55, "out"),
    txn("T5", 0, 9_500.0, cash=True, evidence=True, hour=9),
]


# --------------------------------------------------------------------------------------------------
# timeline


def test_timeline_has_one_marker_per_transaction_with_its_id_and_tooltip():
    root = parse(timeline_svg(bundle(ACTIVITY)))
    root_ok(root, "timeline-chart")
    found = markers(root)
    assert sorted(found) == ["T1", "T2", "T3", "T4", "T5"]
    assert len(with_class(root, "txn")) == len(ACTIVITY)
    tip = text_of(found["T4"].find("s:title", NS))
    assert "T4" in tip and "700.55" in tip and "out" in tip and "wire" in tip and "2026-03-05" in tip
    assert "9,500.00" in text_of(found["T5"].find("s:title", NS))


def test_timeline_emphasises_evidence_and_tells_kinds_apart():
    root = parse(timeline_svg(bundle(ACTIVITY)))
    found = markers(root)
    evidence = {t for t, el in found.items() if has_class(el, "evidence")}
    assert evidence == {"T1", "T2", "T5"}
    for t, el in found.items():
        rings = with_class(el, "evidence-ring")
        assert len(rings) == (1 if t in evidence else 0)
    assert has_class(found["T1"], "txn-cash-in")
    assert has_class(found["T3"], "txn-other-in")
    assert has_class(found["T4"], "txn-out")

    def look(el: ET.Element) -> tuple:
        shape = next(c for c in el if c.tag != "{http://www.w3.org/2000/svg}title"
                     and not has_class(c, "evidence-ring"))
        return shape.tag, shape.get("d"), shape.get("fill")

    assert len({look(found["T1"]), look(found["T3"]), look(found["T4"])}) == 3


def test_markers_sit_in_time_order_and_by_amount():
    root = parse(timeline_svg(bundle(ACTIVITY)))
    pos = {t: translate(el) for t, el in markers(root).items()}
    xs = [pos[t][0] for t in ("T1", "T2", "T3", "T4", "T5")]
    assert xs == sorted(xs) and len(set(xs)) == 5
    assert pos["T5"][1] < pos["T2"][1] < pos["T1"][1] < pos["T3"][1] < pos["T4"][1]


def test_ctr_line_sits_at_the_configured_threshold():
    root = parse(timeline_svg(bundle(ACTIVITY, ctr=5_000.0, band_low=4_000.0)))
    (ctr,) = with_class(root, "ctr-threshold")
    assert "CTR threshold 5,000 USD" in text_of(ctr)
    y = float(ctr.find("s:line", NS).get("y1"))
    pos = {t: translate(el) for t, el in markers(root).items()}
    assert pos["T2"][1] < y < pos["T1"][1]  # above the 4,900 deposit, below the 5,100 one
    # and where the y axis says 5,000 USD is
    ticks = y_axis(root)
    (v0, y0), (v1, y1) = ticks[0], ticks[-1]
    assert v0 == 0 and v1 >= 9_500
    assert y == pytest.approx(y0 + (5_000 - v0) / (v1 - v0) * (y1 - y0), abs=0.2)
    # the default threshold lands elsewhere
    root10 = parse(timeline_svg(bundle(ACTIVITY)))
    (ctr10,) = with_class(root10, "ctr-threshold")
    assert "CTR threshold 10,000 USD" in text_of(ctr10)
    assert float(ctr10.find("s:line", NS).get("y1")) < translate(markers(root10)["T5"])[1]


def test_structuring_band_is_dashed_at_its_low_edge_and_shaded_up_to_the_ctr_line():
    root = parse(timeline_svg(bundle(ACTIVITY, ctr=10_000.0, band_low=8_000.0)))
    (band,) = with_class(root, "structuring-band")
    line = band.find("s:line", NS)
    assert line.get("stroke-dasharray")
    ticks = dict(y_axis(root))
    (v0, y0), (v1, y1) = sorted(ticks.items())[0], sorted(ticks.items())[-1]

    def y_of(v: float) -> float:
        return y0 + (v - v0) / (v1 - v0) * (y1 - y0)

    assert float(line.get("y1")) == pytest.approx(y_of(8_000), abs=0.2)
    (area,) = with_class(band, "structuring-band-area")
    assert float(area.get("y")) == pytest.approx(y_of(10_000), abs=0.2)
    assert float(area.get("y")) + float(area.get("height")) == pytest.approx(y_of(8_000), abs=0.2)
    assert "8,000" in text_of(root)


def test_y_axis_extends_above_large_amounts():
    big = [*ACTIVITY, txn("T6", 3, 123_456.78, "out", evidence=True)]
    root = parse(timeline_svg(bundle(big)))
    ticks = y_axis(root)
    assert ticks[-1][0] >= 123_456.78
    steps = {round(b[0] - a[0], 6) for a, b in pairwise(ticks)}
    assert len(steps) == 1 and 3 <= len(ticks) <= 12  # evenly spaced round ticks
    top = min(y for _, y in ticks)
    assert translate(markers(root)["T6"])[1] >= top - 0.1


def test_alert_day_is_marked_and_the_window_labelled():
    root = parse(timeline_svg(bundle(ACTIVITY)))
    (day,) = with_class(root, "alert-day")
    assert day.get("data-date") == "2026-03-10"
    rect = day.find("s:rect", NS)
    x0, x1 = float(rect.get("x")), float(rect.get("x")) + float(rect.get("width"))
    assert x0 <= translate(markers(root)["T5"])[0] <= x1
    assert not x0 <= translate(markers(root)["T4"])[0] <= x1
    labels = [text_of(t) for t in with_class(root, "x-label")]
    assert "2026-03-10" in labels and 3 <= len(labels) <= 15
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", s) for s in labels)
    assert len(with_class(root, "legend-item")) >= 5


def test_empty_activity_still_renders_axes_and_the_threshold():
    root = parse(timeline_svg(bundle([])))
    root_ok(root, "timeline-chart")
    assert not with_class(root, "txn")
    assert "no transactions in the window" in text_of(root)
    assert len(with_class(root, "ctr-threshold")) == 1
    assert len(y_axis(root)) >= 3


def test_timeline_escapes_and_sizes():
    rows = [txn("T<1>&\"'", 2, 100.0)]
    svg = timeline_svg(bundle(rows), width=640, height=240)
    root = parse(svg)
    assert list(markers(root)) == ["T<1>&\"'"]
    assert root.get("viewBox") == "0 0 640 240"
    assert timeline_svg(bundle(rows), width=640, height=240) == svg


# --------------------------------------------------------------------------------------------------
# network

PATH = [SUBJECT, "A-P1", "A-P2", "A-FAC"]


def path_bundle(**kw) -> AlertEvidence:
    nodes = [node(SUBJECT, "subject", "Subject Holdings"), node("A-P1", "path", "Hop One", "PA"),
             node("A-P2", "path", "Hop Two", "TR"), node("A-FAC", "facilitator", "Bad Actor", "LB"),
             node("A-CP1", name="Big Sender"), node("A-CP2", name="Small Buyer"),
             node("A-CP3", name=None, country=None)]
    edges = [edge("A-P2", "A-FAC", 90_000.0, on_path=True),
             edge("A-CP1", SUBJECT, 120_000.0, 3),
             edge(SUBJECT, "A-P1", 100_000.0, on_path=True),
             edge(SUBJECT, "A-CP2", 45.5, 2),
             edge("A-P1", "A-P2", 95_000.0, on_path=True),
             edge("A-CP3", SUBJECT, 800.0),
             edge(SUBJECT, SUBJECT, 10.0)]  # self loop: not drawn
    return bundle(nodes=kw.pop("nodes", nodes), edges=kw.pop("edges", edges), path=PATH, **kw)


def nodes_of(root: ET.Element) -> dict[str, ET.Element]:
    return {el.get("data-account-id"): el for el in with_class(root, "node")}


def test_network_has_a_node_per_row_and_an_edge_per_flow():
    root = parse(network_svg(path_bundle()))
    root_ok(root, "network-chart")
    found = nodes_of(root)
    assert sorted(found) == sorted([*PATH, "A-CP1", "A-CP2", "A-CP3"])
    assert has_class(found[SUBJECT], "role-subject")
    assert has_class(found["A-P1"], "role-path") and has_class(found["A-CP1"], "role-counterparty")
    edges = with_class(root, "edge")
    assert len(edges) == 6
    assert all(e.get("data-src") != e.get("data-dst") for e in edges)
    by_pair = {(e.get("data-src"), e.get("data-dst")): e for e in edges}
    assert text_of(by_pair[("A-CP1", SUBJECT)].find("s:title", NS)) == \
        "A-CP1 → A-SUBJ: 3 txns, USD 120,000.00"
    assert all(e.find("s:title", NS) is not None for e in edges)
    assert all(n.find("s:title", NS) is not None for n in found.values())


def test_path_edges_are_highlighted_in_money_order_left_to_right():
    root = parse(network_svg(path_bundle()))
    on_path = [(e.get("data-src"), e.get("data-dst")) for e in with_class(root, "edge")
               if has_class(e, "on-path")]
    assert on_path == list(pairwise(PATH))
    others = [e for e in with_class(root, "edge") if not has_class(e, "on-path")]
    width = {has_class(e, "on-path"): float(e.find("s:path", NS).get("stroke-width"))
             for e in with_class(root, "edge")}
    assert width[True] > 1.0
    path_colour = {e.find("s:path", NS).get("stroke") for e in with_class(root, "edge")
                   if has_class(e, "on-path")}
    assert path_colour.isdisjoint({e.find("s:path", NS).get("stroke") for e in others})
    found = nodes_of(root)
    xs = [translate(found[a])[0] for a in PATH]
    ys = {translate(found[a])[1] for a in PATH}
    assert xs == sorted(xs) and len(set(xs)) == len(PATH) and len(ys) == 1


def test_edge_width_grows_with_usd_and_arrows_point_to_defined_markers():
    root = parse(network_svg(path_bundle()))
    by_pair = {(e.get("data-src"), e.get("data-dst")): e.find("s:path", NS) for e in with_class(root, "edge")}
    big = float(by_pair[("A-CP1", SUBJECT)].get("stroke-width"))
    small = float(by_pair[(SUBJECT, "A-CP2")].get("stroke-width"))
    mid = float(by_pair[("A-CP3", SUBJECT)].get("stroke-width"))
    assert big > mid > small
    ids = {m.get("id") for m in root.iter("{http://www.w3.org/2000/svg}marker")}
    for p in by_pair.values():
        ref = re.fullmatch(r"url\(#(.+)\)", p.get("marker-end"))
        assert ref and ref.group(1) in ids
    # two alerts on one page do not share marker ids
    other = parse(network_svg(path_bundle(alert_id="MA-other")))
    assert ids.isdisjoint({m.get("id") for m in other.iter("{http://www.w3.org/2000/svg}marker")})


def test_facilitator_node_is_distinct_and_labelled_with_entity_and_programmes():
    root = parse(network_svg(path_bundle()))
    (fac,) = with_class(root, "facilitator")
    assert fac.get("data-account-id") == "A-FAC"
    assert has_class(fac, "node") and has_class(fac, "role-facilitator")
    label = text_of(fac)
    assert "SYN-42" in label and "SDGT" in label and "FTO" in label and "Bad Actor" in label
    fills = {c.get("fill") for c in fac.iter("{http://www.w3.org/2000/svg}circle")}
    normal = {c.get("fill") for c in nodes_of(root)["A-CP1"].iter("{http://www.w3.org/2000/svg}circle")}
    assert fills - {"none"} and fills.isdisjoint(normal)
    assert "SYN-42" in root.get("aria-label")


def test_node_labels_show_name_account_and_country_and_cope_with_missing_names():
    root = parse(network_svg(path_bundle()))
    found = nodes_of(root)
    assert "Hop One" in text_of(found["A-P1"]) and "A-P1" in text_of(found["A-P1"])
    assert "PA" in text_of(found["A-P1"])
    assert "unnamed party" in text_of(found["A-CP3"])
    long = path_bundle(nodes=[node(SUBJECT, "subject", "X" * 200)], edges=[])
    shown = "".join(text_of(t) for t in nodes_of(parse(network_svg(long)))[SUBJECT].iter(
        "{http://www.w3.org/2000/svg}text"))
    assert "XXXX" in shown and "X" * 30 not in shown
    assert "X" * 200 in text_of(nodes_of(parse(network_svg(long)))[SUBJECT].find("s:title", NS))


def test_hostile_party_names_are_escaped():
    evil = "<script>alert('x')</script> & \"Sons\""
    nodes = [node(SUBJECT, "subject", evil), node("A-CP1", name="Tom & Jerry <Ltd>"),
             node('A-"Q"<&>', name="'quoted'")]
    edges = [edge("A-CP1", SUBJECT, 500.0), edge(SUBJECT, 'A-"Q"<&>', 20.0)]
    svg = network_svg(bundle(nodes=nodes, edges=edges))
    assert "<script>" not in svg
    root = parse(svg)
    found = nodes_of(root)
    assert set(found) == {SUBJECT, "A-CP1", 'A-"Q"<&>'}
    assert evil in text_of(found[SUBJECT].find("s:title", NS))
    assert "Tom & Jerry <Ltd>" in text_of(found["A-CP1"])
    assert {e.get("data-dst") for e in with_class(root, "edge")} == {SUBJECT, 'A-"Q"<&>'}


def test_same_input_same_svg_whatever_the_row_order():
    a = path_bundle()
    b = path_bundle(nodes=list(reversed(a.network_nodes.to_dicts())),
                    edges=list(reversed(a.network_edges.to_dicts())))
    assert network_svg(a) == network_svg(path_bundle())
    assert network_svg(a) == network_svg(b)
    assert timeline_svg(bundle(ACTIVITY)) == timeline_svg(bundle(ACTIVITY))


def test_subject_alone_without_edges():
    root = parse(network_svg(bundle()))
    root_ok(root, "network-chart")
    assert list(nodes_of(root)) == [SUBJECT]
    assert not with_class(root, "edge")
    assert not with_class(root, "on-path")


def test_many_counterparties_stay_inside_the_chart_without_a_path():
    cps = [node(f"A-{i:03d}", name=f"Counterparty {i}") for i in range(40)]
    edges = [edge(f"A-{i:03d}", SUBJECT, 100.0 * (i + 1)) for i in range(40)]
    ev = bundle(nodes=[node(SUBJECT, "subject", "Subject Holdings"), *cps], edges=edges)
    root = parse(network_svg(ev, width=900, height=420))
    found = nodes_of(root)
    assert len(found) == 41 and len(with_class(root, "edge")) == 40
    pos = [translate(n) for n in found.values()]
    assert all(0 < x < 900 and 0 < y < 420 for x, y in pos)
    assert len({(round(x), round(y)) for x, y in pos}) == 41  # no two nodes on top of each other


def test_path_from_a_facilitator_still_runs_left_to_right():
    path = ["A-FAC", "A-P1", SUBJECT]
    nodes = [node("A-FAC", "facilitator", "Source Of Funds"), node("A-P1", "path"),
             node(SUBJECT, "subject"), node("A-CP1")]
    edges = [edge("A-FAC", "A-P1", 5_000.0, on_path=True), edge("A-P1", SUBJECT, 4_900.0, on_path=True),
             edge(SUBJECT, "A-CP1", 4_000.0)]
    ev = bundle(nodes=nodes, edges=edges, path=path)
    root = parse(network_svg(ev))
    found = nodes_of(root)
    xs = [translate(found[a])[0] for a in path]
    assert xs == sorted(xs)
    assert [(e.get("data-src"), e.get("data-dst")) for e in with_class(root, "on-path")
            if has_class(e, "edge")] == [("A-FAC", "A-P1"), ("A-P1", SUBJECT)]
    assert [n.get("data-account-id") for n in with_class(root, "facilitator")] == ["A-FAC"]
