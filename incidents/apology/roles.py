"""The role classifier: one linear model per role over a unit's features, loaded once per
process from incidents/apology/model/ (written by `make check-train`), plus the exact rules.

The model is plain arrays (numpy's .npz, read without pickle) and a JSON file of settings, so
loading runs no code from the file and needs no scikit-learn.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from incidents.apology.analysis import Unit
from incidents.apology.features import EMAIL, PHONE, _names, _signature_like

MODEL_DIR = Path(__file__).resolve().parent / "model"
WEIGHTS = MODEL_DIR / "roles.npz"
SETTINGS = MODEL_DIR / "roles.json"


@dataclass(frozen=True)
class Model:
    index: dict[str, int]
    weights: np.ndarray      # (features, roles)
    bias: np.ndarray         # (roles,)
    thresholds: np.ndarray   # (roles,)
    roles: tuple[str, ...]
    settings: dict

    def probabilities(self, rows: Sequence[dict[str, float]]) -> np.ndarray:
        """(units, roles) probabilities for the units' feature dicts."""
        scores = np.tile(self.bias, (len(rows), 1))
        index, weights = self.index, self.weights
        for i, row in enumerate(rows):
            columns, values = [], []
            for name, value in row.items():
                column = index.get(name)
                if column is not None:
                    columns.append(column)
                    values.append(value)
            if columns:
                scores[i] += np.asarray(values, dtype=np.float32) @ weights[columns]
        return 1.0 / (1.0 + np.exp(-np.clip(scores, -30, 30)))


_model: Model | None = None
_model_lock = threading.Lock()


def model() -> Model:
    """The process' one model, read on first use."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                _model = read(WEIGHTS, SETTINGS)
    return _model


def read(weights_path: Path, settings_path: Path) -> Model:
    settings = json.loads(settings_path.read_text(encoding="utf-8"))
    with np.load(weights_path, allow_pickle=False) as data:
        names = data["features"].tolist()
        weights = data["weights"].astype(np.float32)
        bias = data["bias"].astype(np.float32)
    roles = tuple(settings["roles"])
    thresholds = np.asarray([settings["thresholds"][r] for r in roles], dtype=np.float32)
    return Model({name: i for i, name in enumerate(names)}, weights, bias, thresholds, roles,
                 settings)


def write(model_: Model, weights_path: Path, settings_path: Path) -> None:
    names = sorted(model_.index, key=model_.index.__getitem__)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    # Written by hand so the file is the same bytes for the same model (np.savez stamps times).
    with zipfile.ZipFile(weights_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, array in (("features", np.asarray(names, dtype=str)),
                           ("weights", model_.weights.astype(np.float16)),
                           ("bias", model_.bias.astype(np.float32))):
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())
    settings_path.write_text(json.dumps(model_.settings, ensure_ascii=False, indent=1,
                                        sort_keys=True) + "\n", encoding="utf-8")


def files_hash(paths: Sequence[Path]) -> str:
    """What the model was trained from: the training files' names and bytes."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# --- exact rules ---------------------------------------------------------------------------------

def rule_roles(units: Sequence[Unit], people_names: Sequence[str]) -> list[frozenset[str]]:
    """Roles an exact rule gives: an e-mail address or a telephone number is a way to reach
    someone (contact); a short closing line that names a known signatory signs the letter."""
    lines = sorted({u.line for u in units})
    last_lines = set(lines[-4:])
    out = []
    for unit in units:
        roles = set()
        contact = bool(EMAIL.search(unit.text) or PHONE.search(unit.text))
        if contact:
            roles.add("contact")
        elif (unit.line in last_lines and _signature_like(unit)
              and any(name in unit.text for name in people_names if len(name) >= 2)):
            roles.add("speaker")
        out.append(frozenset(roles))
    return out


def decide(probs: np.ndarray, thresholds: np.ndarray, ruled: Sequence[frozenset[str]],
           role_names: Sequence[str]) -> list[frozenset[str]]:
    """Each unit's roles: the classifier's above their thresholds, and the exact rules'."""
    above = probs >= thresholds
    return [frozenset({r for j, r in enumerate(role_names) if above[i, j]} | ruled[i])
            for i in range(len(ruled))]


def predict(units: Sequence[Unit], rows: Sequence[dict[str, float]], people_names: Sequence[str],
            model_: Model | None = None) -> tuple[list[frozenset[str]], np.ndarray]:
    """Each unit's roles and the classifier's probabilities."""
    model_ = model_ or model()
    if not units:
        return [], np.zeros((0, len(model_.roles)), dtype=np.float32)
    probs = model_.probabilities(rows)
    return decide(probs, model_.thresholds, rule_roles(units, people_names), model_.roles), probs


def known_names(people) -> list[str]:
    return _names(people)

