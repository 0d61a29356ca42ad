"""Regulatory thresholds are configuration, with the CTR boundary exact."""

from pathlib import Path

import pytest

from nexusfin.settings import load_regulatory


def test_defaults_follow_the_regulations():
    reg = load_regulatory()
    assert reg.ctr_threshold_usd == 10_000.00
    assert reg.recordkeeping_threshold_usd == 3_000.00
    assert not reg.is_reportable_cash(10_000.00)  # 31 CFR 1010.311: MORE than 10,000
    assert reg.is_reportable_cash(10_000.01)
    assert any(t.threshold_usd == 200.0 for t in reg.targeting_orders)
    assert "MX" in reg.high_risk_jurisdictions


def test_a_user_file_overrides_thresholds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cfg = tmp_path / "order.yaml"
    cfg.write_text("regulatory:\n  ctr_threshold_usd: 5000\n  structuring_band_low_usd: 4000\n")
    reg = load_regulatory(cfg)
    assert reg.ctr_threshold_usd == 5000 and reg.structuring_band_low_usd == 4000
    assert reg.recordkeeping_threshold_usd == 3000  # untouched keys keep their defaults
    monkeypatch.setenv("NEXUSFIN_CONFIG", str(cfg))
    assert load_regulatory().ctr_threshold_usd == 5000


def test_inconsistent_thresholds_are_rejected(tmp_path: Path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("ctr_threshold_usd: 5000\nstructuring_band_low_usd: 6000\n")
    with pytest.raises(ValueError, match="below ctr_threshold_usd"):
        load_regulatory(cfg)
