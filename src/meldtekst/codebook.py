"""The theme codebook: the one place that knows which themes exist.

Everything else asks this module for theme ids, groups and definitions, so adding
a theme means editing only ``data/codebook.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Theme:
    id: str
    group: str
    name: str
    definition: str
    keywords: tuple[str, ...] = ()
    voorbeelden: tuple[str, ...] = ()
    tegenvoorbeelden: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "group": self.group,
            "name": self.name,
            "definition": self.definition,
            "keywords": list(self.keywords),
            "voorbeelden": list(self.voorbeelden),
            "tegenvoorbeelden": list(self.tegenvoorbeelden),
        }


@dataclass(frozen=True)
class Codebook:
    version: int
    themes: tuple[Theme, ...]
    groups: dict[str, str] = field(default_factory=dict)

    @cached_property
    def ids(self) -> tuple[str, ...]:
        """Theme ids in codebook order: the column order of every output."""
        return tuple(t.id for t in self.themes)

    @cached_property
    def _by_id(self) -> dict[str, Theme]:
        return {t.id: t for t in self.themes}

    def __getitem__(self, theme_id: str) -> Theme:
        return self._by_id[theme_id]

    def __contains__(self, theme_id: object) -> bool:
        return theme_id in self._by_id

    def __len__(self) -> int:
        return len(self.themes)

    def in_group(self, group: str) -> tuple[str, ...]:
        return tuple(t.id for t in self.themes if t.group == group)

    def order(self, theme_ids: object) -> list[str]:
        """Sort a collection of ids into codebook order (unknown ids are dropped)."""
        wanted = set(theme_ids)  # type: ignore[arg-type]
        return [i for i in self.ids if i in wanted]

    @cached_property
    def keyword_anchors(self) -> dict[str, tuple[str, ...]]:
        """Per theme, literal strings one of which every keyword match contains (lower case).

        A report without any of them cannot match, so a cheap substring test skips
        the regex scan; themes with a keyword that has no literal start get no anchors.
        """
        out = {}
        for t in self.themes:
            per_keyword = [_literal_prefixes(k) for k in t.keywords]
            if per_keyword and all(ps and all(len(p) >= 2 for p in ps) for ps in per_keyword):
                out[t.id] = tuple(sorted({p for ps in per_keyword for p in ps}))
        return out

    @cached_property
    def keyword_patterns(self) -> dict[str, re.Pattern[str]]:
        """One compiled, case-insensitive alternation of each theme's keyword regexes."""
        out = {}
        for t in self.themes:
            if t.keywords:
                alternation = "|".join(f"(?:{k})" for k in t.keywords)
                out[t.id] = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)
        return out


_META = set("\\.^$*+?{}[]|()")
_LEADING_GROUP = re.compile(r"^\((?:\?:)?([^()\\.^$*+?{}\[\]]+(?:\|[^()\\.^$*+?{}\[\]]+)*)\)(?![?*{])")


def _literal_prefixes(pattern: str) -> list[str]:
    """Literal strings one of which starts every match of ``pattern`` ([] when unknown).

    Handles a leading ``\\b`` and a leading group of plain alternatives like
    ``(kunnen|konden) ...``; anything cleverer gives up, which only costs speed.
    """
    if pattern.startswith("\\b"):
        pattern = pattern[2:]
    m = _LEADING_GROUP.match(pattern)
    if m:
        rest = _plain_prefix(pattern[m.end() :])
        return [(alt + rest).lower() for alt in m.group(1).split("|")]
    prefix = _plain_prefix(pattern)
    return [prefix.lower()] if prefix else []


def _plain_prefix(pattern: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(pattern):
        if ch in _META:
            break
        if i + 1 < len(pattern) and pattern[i + 1] in "?*{":
            break
        out.append(ch)
    return "".join(out)


def _parse(raw: dict) -> Codebook:
    themes = tuple(
        Theme(
            id=t["id"],
            group=t["group"],
            name=t["name"],
            definition=" ".join(str(t["definition"]).split()),
            keywords=tuple(t.get("keywords", ())),
            voorbeelden=tuple(t.get("voorbeelden", ())),
            tegenvoorbeelden=tuple(t.get("tegenvoorbeelden", ())),
        )
        for t in raw["themes"]
    )
    groups = {g["id"]: g["name"] for g in raw.get("groups", [])}
    ids = [t.id for t in themes]
    if len(set(ids)) != len(ids):
        raise ValueError("codebook has duplicate theme ids")
    unknown_groups = {t.group for t in themes} - set(groups)
    if unknown_groups:
        raise ValueError(f"codebook themes use undeclared groups: {sorted(unknown_groups)}")
    return Codebook(version=int(raw["version"]), themes=themes, groups=groups)


@lru_cache(maxsize=1)
def load_codebook() -> Codebook:
    """The packaged codebook (cached: it never changes while the process runs)."""
    text = resources.files("meldtekst").joinpath("data/codebook.yaml").read_text(encoding="utf-8")
    return _parse(yaml.safe_load(text))
