"""A file-based model registry: versioned skops artifacts (never pickle), a model card and a
manifest per version, ``champion`` / ``candidate`` aliases and an append-only promotion log.

Layout::

    <models>/versions/<version>/model.skops      the calibrated model (skops format)
    <models>/versions/<version>/manifest.json    SHA-256 of model.skops, threshold, training range,
                                                training-data hash, features, metrics, library versions
    <models>/versions/<version>/card.md          the model card (human-readable manifest)
    <models>/aliases.json                        {"champion": version | null, "candidate": version | null}
    <models>/promotions.jsonl                    one JSON line per alias change, never rewritten

A version directory is written under a temporary name and renamed into place, so a version either
exists completely or not at all; a loaded artifact whose SHA-256 differs from its manifest is
refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import skops.io as sio

from nexusfin.features.build import FEATURE_COLUMNS
from nexusfin.scoring.model import TrainedModel

ALIASES = ("champion", "candidate")
# the only types a model artifact may contain; anything else is refused at load time
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "builtins.", "collections.", "scipy.")


class RegistryError(RuntimeError):
    """The registry is missing a version, an alias, or holds a tampered artifact."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def frame_hash(df: pl.DataFrame) -> str:
    """Order-independent hash of a training frame (row hashes, sorted, then SHA-256)."""
    if df.is_empty():
        return hashlib.sha256(b"").hexdigest()
    rows = df.hash_rows(seed=0).sort().to_numpy().tobytes()
    return hashlib.sha256(rows).hexdigest()


@dataclass
class ModelVersion:
    version: str
    path: Path
    manifest: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.manifest["threshold"])

    @property
    def reference_values(self) -> dict[str, float]:
        return dict(self.manifest["reference_values"])

    @property
    def artifact(self) -> Path:
        return self.path / "model.skops"


class Registry:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- reading ---------------------------------------------------------------------------------
    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"

    @property
    def log_file(self) -> Path:
        return self.root / "promotions.jsonl"

    def versions(self) -> list[str]:
        if not self.versions_dir.is_dir():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir() if (p / "manifest.json").is_file())

    def aliases(self) -> dict[str, str | None]:
        f = self.root / "aliases.json"
        data = json.loads(f.read_text()) if f.is_file() else {}
        return {a: data.get(a) for a in ALIASES}

    def get(self, version_or_alias: str) -> ModelVersion:
        version = self.aliases().get(version_or_alias) if version_or_alias in ALIASES else version_or_alias
        if version is None:
            raise RegistryError(f"no {version_or_alias} model in {self.root} (train one: nexusfin train, "
                                "or the Dagster training_job)")
        path = self.versions_dir / version
        if not (path / "manifest.json").is_file():
            raise RegistryError(f"model version {version} is not in {self.root}")
        return ModelVersion(version, path, json.loads((path / "manifest.json").read_text()))

    def has(self, alias: str) -> bool:
        return self.aliases().get(alias) is not None

    def load(self, version_or_alias: str):
        """The calibrated model of a version, after checking its SHA-256 and the types it contains."""
        mv = self.get(version_or_alias)
        digest = sha256_file(mv.artifact)
        if digest != mv.manifest["sha256"]:
            raise RegistryError(f"{mv.artifact}: SHA-256 {digest} differs from the manifest's {mv.manifest['sha256']}")
        untrusted = sio.get_untrusted_types(file=mv.artifact)
        refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
        if refused:
            raise RegistryError(f"{mv.artifact} contains types outside the trusted set: {refused}")
        return sio.load(mv.artifact, trusted=untrusted), mv

    def log(self) -> list[dict[str, Any]]:
        if not self.log_file.is_file():
            return []
        return [json.loads(line) for line in self.log_file.read_text().splitlines() if line.strip()]

    # -- writing ---------------------------------------------------------------------------------
    def register(self, trained: TrainedModel, *, training_data: pl.DataFrame, config_fingerprint: str,
                 feature_version: str, extra_metrics: dict[str, Any] | None = None, as_candidate: bool = True,
                 note: str = "") -> ModelVersion:
        """Write a new version (artifact, manifest, card); optionally point ``candidate`` at it."""
        import sklearn

        self.versions_dir.mkdir(parents=True, exist_ok=True)
        data_hash = frame_hash(training_data)
        stamp = datetime.now(UTC)
        version = f"m{stamp:%Y%m%dT%H%M%S%f}-{data_hash[:8]}"
        tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=self.versions_dir))
        try:
            sio.dump(trained.model, tmp / "model.skops")
            manifest = {
                "version": version,
                "created_at": stamp.isoformat(),
                "sha256": sha256_file(tmp / "model.skops"),
                "format": "skops",
                "estimator": "Pipeline(ColumnTransformer, HistGradientBoostingClassifier) calibrated "
                             f"({trained.model.method}) with FrozenEstimator",
                "threshold": trained.threshold,
                "threshold_method": "TunedThresholdClassifierCV on the held-back window, capacity-constrained recall",
                "capacity_rate": trained.capacity_rate,
                "features": list(FEATURE_COLUMNS),
                "feature_version": feature_version,
                "config_fingerprint": config_fingerprint,
                "reference_values": trained.reference_values,
                "train_range": [trained.train_range[0].isoformat(), trained.train_range[1].isoformat()],
                "holdback_range": [trained.holdback_range[0].isoformat(), trained.holdback_range[1].isoformat()],
                "n_train": trained.n_train, "n_train_positive": trained.n_train_positive,
                "n_holdback": trained.n_holdback, "n_holdback_positive": trained.n_holdback_positive,
                "training_data_sha256": data_hash,
                "labels": "historical SAR filings (sar_filings), incomplete and noisy",
                "holdback_metrics": trained.holdback_metrics,
                "score_quantiles": trained.score_quantiles,
                "metrics": extra_metrics or {},
                "note": note,
                "libraries": {"scikit-learn": sklearn.__version__, "skops": _version("skops"),
                              "python": platform.python_version()},
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
            (tmp / "card.md").write_text(model_card(manifest))
            os.replace(tmp, self.versions_dir / version)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        mv = self.get(version)
        if as_candidate:
            self._set_alias("candidate", version, reason="registered", metrics=trained.holdback_metrics)
        return mv

    def nominate(self, version: str, *, reason: str, decided_by: str = "nexusfin") -> None:
        """Point ``candidate`` at an already registered version (it then goes through the gate)."""
        self.get(version)
        self._set_alias("candidate", version, reason=reason, decided_by=decided_by)

    def promote(self, version: str, *, reason: str, metrics: dict[str, Any] | None = None,
                decided_by: str = "nexusfin") -> None:
        """Make ``version`` the champion (the promotion gate decides; this only records it)."""
        self.get(version)
        self._set_alias("champion", version, reason=reason, metrics=metrics, decided_by=decided_by)
        if self.aliases().get("candidate") == version:
            self._set_alias("candidate", None, reason=f"promoted {version} to champion", decided_by=decided_by)

    def reject(self, version: str, *, reason: str, metrics: dict[str, Any] | None = None,
               decided_by: str = "nexusfin") -> None:
        """Record that a candidate was not promoted (it stays registered, the alias is cleared)."""
        self._append({"alias": "candidate", "action": "rejected", "version": version, "reason": reason,
                      "metrics": metrics or {}, "decided_by": decided_by})
        if self.aliases().get("candidate") == version:
            self._set_alias("candidate", None, reason=f"rejected {version}", decided_by=decided_by, log=False)

    def _set_alias(self, alias: str, version: str | None, *, reason: str, metrics: dict | None = None,
                   decided_by: str = "nexusfin", log: bool = True) -> None:
        current = self.aliases()
        previous = current.get(alias)
        current[alias] = version
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / ".aliases.json.tmp"
        tmp.write_text(json.dumps(current, indent=2) + "\n")
        os.replace(tmp, self.root / "aliases.json")
        if log:
            self._append({"alias": alias, "action": "set", "from": previous, "version": version,
                          "reason": reason, "metrics": metrics or {}, "decided_by": decided_by})

    def _append(self, entry: dict[str, Any]) -> None:
        entry = {"at": datetime.now(UTC).isoformat(), **entry}
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "a") as fh:  # append-only: earlier lines are never rewritten
            fh.write(json.dumps(entry, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def model_card(m: dict[str, Any]) -> str:
    hm = m.get("holdback_metrics", {})
    lines = [
        f"# Model card: {m['version']}",
        "",
        "**Intended use**: rank accounts for analyst review by the probability that they are",
        "SAR-worthy (crime-terror nexus finance), with the reasons behind each score. Not a decision:",
        "an analyst reviews every alert.",
        "",
        f"- Estimator: {m['estimator']}",
        f"- Artifact: model.skops, SHA-256 `{m['sha256']}`",
        f"- Labels: {m['labels']}",
        f"- Training days: {m['train_range'][0]} .. {m['train_range'][1]} ({m['n_train']} rows, "
        f"{m['n_train_positive']} SAR-labelled)",
        f"- Held-back days: {m['holdback_range'][0]} .. {m['holdback_range'][1]} ({m['n_holdback']} rows, "
        f"{m['n_holdback_positive']} SAR-labelled): calibration, threshold, champion comparison",
        f"- Training data SHA-256: `{m['training_data_sha256']}`",
        f"- Alert threshold: {m['threshold']:.4f} ({m['threshold_method']})",
        f"- Features ({len(m['features'])}, schemas/account_features.yaml): {', '.join(m['features'])}",
        f"- Feature version / configuration: {m['feature_version']} / {m['config_fingerprint']}",
        "",
        "## Held-back window (against SAR labels)",
        "",
        *[f"- {k}: {v:.4f}" if isinstance(v, float) else f"- {k}: {v}" for k, v in hm.items()],
    ]
    if m.get("metrics"):
        lines += ["", "## Other metrics", "", "```json", json.dumps(m["metrics"], indent=2, default=str), "```"]
    lines += ["", "## Limitations", "",
              "- SAR labels cover a minority of truly suspicious accounts and include filings on innocent",
              "  ones; scores estimate the chance of a SAR-worthy finding, not guilt.",
              "- Explanations are single-feature ablations to the training median, on the log-odds scale.",
              ""]
    if m.get("note"):
        lines += [f"Note: {m['note']}", ""]
    return "\n".join(lines)
