"""Several labelled files as one training set: the corpus plus newly labelled reports.

Later files are newer: a row whose id is already present replaces the older row (the newest
label wins) and keeps the older row's split unless it brings its own, so relabelling a dev or
test report never moves it into training; new rows without a split go to ``train``. The
corpus's fixed dev/test split therefore stays the yardstick across retrainings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from meldtekst.training import file_sha256
from meldtekst.validate import LabelledData, as_text, load_labelled


@dataclass
class MergeInfo:
    """Which files went in (name + sha256) and how many ids a later file relabelled."""

    files: list[tuple[str, str]] = field(default_factory=list)
    replaced: int = 0
    added: int = 0

    @property
    def sha256(self) -> str:
        """One file: its own sha256 (as before); several: a hash of their ordered hashes."""
        if len(self.files) == 1:
            return self.files[0][1]
        return hashlib.sha256("\n".join(h for _, h in self.files).encode()).hexdigest()

    @property
    def name(self) -> str:
        return " + ".join(n for n, _ in self.files)


def merge_labelled(
    paths: Sequence[str | Path], *, text_column: str = "tekst", id_column: str = "id"
) -> tuple[LabelledData, MergeInfo]:
    """Load and merge labelled files in order (see the module docstring for the rules)."""
    info = MergeInfo()
    merged: LabelledData | None = None
    for path in paths:
        part = load_labelled(path, text_column=text_column, id_column=id_column)
        info.files.append((Path(path).name, file_sha256(path)))
        if merged is None:
            merged = part
            continue
        merged = _merge_two(merged, part, info)
    assert merged is not None, "merge_labelled needs at least one file"
    return merged, info


def _merge_two(old: LabelledData, new: LabelledData, info: MergeInfo) -> LabelledData:
    # within the new file a later row is newer too: keep each id's last row
    last = {rid: i for i, rid in enumerate(new.ids)}
    keep = sorted(last.values())
    new_frame = new.frame.iloc[keep].reset_index(drop=True).copy()
    new_frame["id"] = [new.ids[i] for i in keep]
    new_frame["tekst"] = [new.texts[i] for i in keep]
    old_index = {rid: i for i, rid in enumerate(old.ids)}
    old_split = old.frame["split"].map(as_text).tolist() if "split" in old.frame.columns else None
    splits = []
    own = new_frame["split"].map(as_text).tolist() if "split" in new_frame.columns else [""] * len(keep)
    for rid, s in zip(new_frame["id"], own, strict=True):
        if s:
            splits.append(s)
        elif rid in old_index and old_split is not None and old_split[old_index[rid]]:
            splits.append(old_split[old_index[rid]])
        else:
            splits.append("train")
    new_frame["split"] = splits
    replaced = {rid for rid in new_frame["id"] if rid in old_index}
    info.replaced += len(replaced)
    info.added += len(keep) - len(replaced)
    stay = np.array([rid not in replaced for rid in old.ids], dtype=bool)
    old_kept = old.subset(stay)
    old_frame = old_kept.frame.copy()
    old_frame["id"] = old_kept.ids
    old_frame["tekst"] = old_kept.texts
    if "split" not in old_frame.columns:
        old_frame["split"] = "train"
    frame = pd.concat([old_frame, new_frame], ignore_index=True)
    return LabelledData(
        ids=old_kept.ids + list(new_frame["id"]),
        texts=old_kept.texts + list(new_frame["tekst"]),
        y=np.vstack([old_kept.y, new.y[keep]]),
        theme_ids=old.theme_ids,
        frame=frame,
        source=old.source,
    )
