"""Why a theme was assigned: the words and short phrases of a report that raised its score most.

One method for every model kind (linear, encoder, transformer: all score ``list[str]``):
occlusion. Candidate spans are the report's words, 2-3 word phrases within a sentence and
whole sentences; a span's weight for a theme is the model's own score of the full text
minus its score of the text with that span removed, all variants scored in one
``predict_proba`` call per report. Measured this way, an explanation can be checked
(``evaluation/faithfulness.py``): removing the top spans must lower the score far more
than removing random spans of the same length.

Spans are chosen greedily by their drop in log-odds (the same order as the drop in score,
but not lost to rounding for a report scored near 1), without overlap, each trimmed to its
core (see `top_spans`); the weight reported is the drop in score. A transformer scores
about three variants per word of the report, so explaining is slow there.

For the linear ``fast`` model the same numbers come cheaper: its features are counted per
sentence and summed per report, so removing a span changes one sentence's counts only.
The variant's report counts are the report's counts minus that sentence's plus the
shortened sentence's, and only those short pieces are analysed (tests check that this
agrees with scoring the shortened texts).

Offsets are Python string indices (Unicode code points) into the unmodified input text,
so ``text[start:end] == span.text`` whatever accents or emoji the report contains.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from meldtekst.errors import InputError
from meldtekst.models.store import ThemeModelDir
from meldtekst.text import Sentence, nlp, sentences, tokenize

DEFAULT_K = 5
MAX_PHRASE_WORDS = 3
# A chosen span is shortened to the shortest span inside it that keeps this share of its
# strength: "zit thuis" rather than the whole sentence when those words carry the effect.
# 0.5 keeps explanations short (median 14 words for 5 spans on the test split) while the
# faithfulness goal holds for every theme (evaluation/faithfulness.py; 0.75 gives 23 words
# and misses it for one theme).
TRIM_SHARE = 0.5
# Spans whose removal lowers the log-odds by less than this are noise (every removal shifts
# the TF-IDF normalisation a little), not evidence; 0.05 is 0.0125 in score at 0.5.
MIN_STRENGTH = 0.05


@dataclass(frozen=True)
class Candidate:
    """A span of the report that can be removed: a word, a phrase or a whole sentence."""

    start: int
    end: int
    sentence: int
    first: int  # index of its first word in the sentence
    words: int
    is_sentence: bool = False


@dataclass(frozen=True)
class SpanWeight:
    """One explanation span: its text as in the report, offsets into it, and its weight."""

    text: str
    start: int
    end: int
    weight: float

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "weight": round(float(self.weight), 4)}


@dataclass
class Explanation:
    """A report, the model's scores, and the top spans per explained theme."""

    text: str
    model: str
    scores: dict[str, float]
    thresholds: dict[str, float]
    spans: dict[str, list[SpanWeight]] = field(default_factory=dict)

    @property
    def themes(self) -> list[str]:
        return list(self.spans)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "themes": self.themes,
            "scores": {t: round(self.scores[t], 4) for t in self.themes},
            "explanations": {t: [s.as_dict() for s in ss] for t, ss in self.spans.items()},
        }


# ------------------------------------------------------------------ candidates


def candidate_spans(
    text: str, *, max_words: int = MAX_PHRASE_WORDS, sents: Sequence[Sentence] | None = None
) -> list[Candidate]:
    """Words, phrases of up to ``max_words`` words within one sentence, and whole sentences
    (when longer than a phrase), with offsets into ``text``."""
    out: list[Candidate] = []
    sents = sentences(text) if sents is None else sents
    tokenizer = nlp().tokenizer
    for si, s in enumerate(sents):
        words = [
            (s.start + t.idx, s.start + t.idx + len(t.text))
            for t in tokenizer(s.text)
            if not (t.is_punct or t.is_space)
        ]
        for i in range(len(words)):
            for n in range(1, max_words + 1):
                if i + n > len(words):
                    break
                out.append(Candidate(words[i][0], words[i + n - 1][1], si, i, n))
        if len(words) > max_words and len(sents) > 1:  # a one-sentence report is not its own explanation
            out.append(Candidate(s.start, s.end, si, 0, len(words), is_sentence=True))
    return out


def remove_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` without the given (start, end) spans; a space left doubled by a removal is dropped."""
    pieces: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        start = max(start, pos)
        if end <= start:
            continue
        pieces.append(text[pos:start])
        pos = end
        if (start == 0 or text[start - 1] in " \t") and pos < len(text) and text[pos] in " \t":
            pos += 1
    pieces.append(text[pos:])
    return "".join(pieces)


# -------------------------------------------------------------------- weights


def occlusion_scores(model: ThemeModelDir, text: str, cands: Sequence[Candidate]) -> tuple[np.ndarray, np.ndarray]:
    """(scores of the full text, scores with each candidate removed): k and n x k arrays."""
    fast = _linear_estimator(model.estimator)
    if fast is not None:
        return _linear_occlusion(fast, text, cands)
    variants = [remove_spans(text, [(c.start, c.end)]) for c in cands]
    proba = model.predict_proba([text, *variants])
    return proba[0], proba[1:]


def _linear_estimator(est: Any) -> Any:
    """The `LinearScorer` behind a linear model (as trained, or as loaded from disk), else None."""
    from meldtekst.models.linear_scorer import LinearScorer

    scorer = getattr(est, "scorer_", est)
    return scorer if isinstance(scorer, LinearScorer) else None


def _alone_counts(est: Any, pieces: Sequence[tuple[str, tuple[str, ...]]]) -> tuple[sparse.csr_matrix, list[int]]:
    """Raw feature counts of each (text, word tokens) piece analysed as a one-sentence text."""
    live = [i for i, (p, _) in enumerate(pieces) if p.strip()]
    docs = [pieces[i][0] for i in live]
    per_doc = [[Sentence(p, 0, len(p), pieces[i][1])] for i, p in zip(live, docs, strict=True)]
    # with nothing to analyse, still return correctly shaped (empty) blocks
    probe = (docs, per_doc) if docs else (["x"], [[Sentence("x", 0, 1, ("x",))]])
    blocks = [b if docs else b[:0] for b in est.counts(*probe)]
    widths = [b.shape[1] for b in blocks]
    stacked = sparse.hstack(blocks, format="csr", dtype=np.float32)
    place = sparse.csr_matrix(
        (np.ones(len(live), dtype=np.float32), (live, np.arange(len(live)))), shape=(len(pieces), len(live))
    )
    return (place @ stacked).tocsr(), widths


def _linear_occlusion(est: Any, text: str, cands: Sequence[Candidate]) -> tuple[np.ndarray, np.ndarray]:
    """Occlusion scores of the linear model (its `LinearScorer`), updating one sentence's counts per variant.

    Each sentence and each shortened sentence is analysed on its own (the shortened one's
    word tokens are the sentence's minus the removed words), so their difference is what
    the removal changes in the report's counts.
    """
    Xd, per_doc, sent_blocks = est.features([text])
    full = est.proba(Xd)[0]
    if not cands or not sent_blocks:
        return full, np.tile(full, (len(cands), 1))
    sents = per_doc[0]
    doc = sparse.hstack([sparse.csr_matrix(b.sum(axis=0)) for b in sent_blocks], format="csr", dtype=np.float32)
    words = [tuple(tokenize(s.text)) for s in sents]
    orig, widths = _alone_counts(est, [(s.text, w) for s, w in zip(sents, words, strict=True)])
    shortened: list[tuple[str, tuple[str, ...]]] = []
    for c in cands:
        s, w = sents[c.sentence], words[c.sentence]
        if c.is_sentence:
            shortened.append(("", ()))
        else:
            piece = remove_spans(s.text, [(c.start - s.start, c.end - s.start)])
            shortened.append((piece, w[: c.first] + w[c.first + c.words :]))
    mod, _ = _alone_counts(est, shortened)
    rows = np.asarray([c.sentence for c in cands])
    variant = (doc[np.zeros(len(cands), dtype=int)] - orig[rows] + mod).tocsr()
    np.maximum(variant.data, 0, out=variant.data)
    variant.eliminate_zeros()
    bounds = np.cumsum([0, *widths])
    blocks = [variant[:, bounds[i] : bounds[i + 1]].tocsr() for i in range(len(widths))]
    return full, est.proba(est.weigh(blocks))


def _contained(cands: Sequence[Candidate]) -> list[list[int]]:
    """For each candidate, the other candidates inside it (same sentence)."""
    by_sentence: dict[int, list[int]] = {}
    for i, c in enumerate(cands):
        by_sentence.setdefault(c.sentence, []).append(i)
    out: list[list[int]] = [[] for _ in cands]
    for members in by_sentence.values():
        for i in members:
            a = cands[i]
            out[i] = [
                j for j in members if j != i and a.start <= cands[j].start and cands[j].end <= a.end and cands[j] != a
            ]
    return out


def logit_drop(full: np.ndarray, occluded: np.ndarray) -> np.ndarray:
    """Drop in log-odds per candidate and theme: orders spans exactly as the drop in score
    does, but does not vanish for a report whose score is near 1."""
    eps = 1e-12
    f = np.clip(full, eps, 1 - eps)
    o = np.clip(occluded, eps, 1 - eps)
    return (np.log(f) - np.log1p(-f))[None, :] - (np.log(o) - np.log1p(-o))


def top_spans(
    text: str,
    cands: Sequence[Candidate],
    weights: np.ndarray,
    k: int,
    contained: list[list[int]] | None = None,
    strength: np.ndarray | None = None,
) -> list[SpanWeight]:
    """The ``k`` non-overlapping spans whose removal lowers the score most.

    ``weights`` (drop in score) are reported; ``strength`` (drop in log-odds, default the
    weights) ranks and filters: at least `MIN_STRENGTH`. A chosen span is trimmed to its
    core: the shortest span inside it that keeps `TRIM_SHARE` of its strength and holds
    every shorter span that does ("NIKS mee gedaan" when each word alone undoes the match;
    "spectrum" when that word alone does).
    """
    strength = weights if strength is None else strength
    contained = _contained(cands) if contained is None else contained
    chosen: list[SpanWeight] = []
    for i in np.argsort(-strength, kind="stable"):
        if len(chosen) >= k or strength[i] < MIN_STRENGTH:
            break
        c = cands[i]
        if any(c.start < s.end and s.start < c.end for s in chosen):
            continue
        j = _core(cands, strength, contained, int(i))
        c = cands[j]
        chosen.append(SpanWeight(text[c.start : c.end], c.start, c.end, float(weights[j])))
    return sorted(chosen, key=lambda s: -s.weight)


def _core(cands: Sequence[Candidate], strength: np.ndarray, contained: list[list[int]], i: int) -> int:
    strong = [j for j in contained[i] if strength[j] >= TRIM_SHARE * strength[i]]
    if not strong:
        return i
    minimal = [j for j in strong if not any(m in strong for m in contained[j])]
    lo = min(cands[j].start for j in minimal)
    hi = max(cands[j].end for j in minimal)
    covering = [j for j in [*strong, i] if cands[j].start <= lo and hi <= cands[j].end]
    return min(covering, key=lambda j: (cands[j].end - cands[j].start, -strength[j]))


def explain_scores(
    model: ThemeModelDir,
    text: str,
    themes: Sequence[int] | Callable[[np.ndarray], Sequence[int]],
    *,
    k: int = DEFAULT_K,
) -> tuple[np.ndarray, dict[str, list[SpanWeight]]]:
    """Full-text scores and the top ``k`` spans per theme, all from one occlusion pass.

    ``themes`` are theme indices, or a function choosing them from the full-text scores.
    """
    cands = candidate_spans(text) if text.strip() else []
    if cands:
        full, occluded = occlusion_scores(model, text, cands)
    else:
        full = model.predict_proba([text])[0] if text.strip() else np.zeros(len(model.theme_ids))
        occluded = np.zeros((0, len(full)))
    idx = list(themes(full) if callable(themes) else themes)
    if not cands:
        return full, {model.theme_ids[j]: [] for j in idx}
    weights = full[None, :] - occluded
    strength = logit_drop(full, occluded)
    contained = _contained(cands)
    spans = {model.theme_ids[j]: top_spans(text, cands, weights[:, j], k, contained, strength[:, j]) for j in idx}
    return full, spans


def explain_texts(
    model: ThemeModelDir, texts: Sequence[str], assigned: np.ndarray, *, k: int = DEFAULT_K
) -> list[dict[str, list[dict[str, Any]]]]:
    """Per text, ``{theme: [span dicts]}`` for its assigned themes (what `tag --explain` writes)."""
    out: list[dict[str, list[dict[str, Any]]]] = []
    for text, row in zip(texts, assigned, strict=True):
        idx = np.flatnonzero(row)
        if not len(idx):
            out.append({})
            continue
        _full, spans = explain_scores(model, text, idx, k=k)
        out.append({t: [s.as_dict() for s in ss] for t, ss in spans.items()})
    return out


def explain_text(
    model: ThemeModelDir,
    text: str,
    *,
    k: int = DEFAULT_K,
    themes: Sequence[str] | None = None,
    threshold_scale: float = 1.0,
) -> Explanation:
    """Explain one report: its assigned themes (or ``themes``), highest score first, each with
    its top ``k`` spans."""
    if k < 1:
        raise InputError("the number of spans per theme must be >= 1")
    if not text or not text.strip():
        raise InputError("the report text is empty")
    unknown = [t for t in themes or () if t not in model.theme_ids]
    if unknown:
        raise InputError(f"unknown theme id '{unknown[0]}'; `meldtekst codebook` lists them")
    thresholds = np.clip(model.thresholds * threshold_scale, 0.0, 1.0)

    def assigned(full: np.ndarray) -> list[int]:
        return [int(j) for j in np.argsort(-full, kind="stable") if full[j] >= thresholds[j]]

    chosen = [model.theme_ids.index(t) for t in themes] if themes else assigned
    full, spans = explain_scores(model, text, chosen, k=k)
    return Explanation(
        text=text,
        model=f"{model.name} {model.version}",
        scores={t: float(s) for t, s in zip(model.theme_ids, full, strict=True)},
        thresholds={t: float(s) for t, s in zip(model.theme_ids, thresholds, strict=True)},
        spans=spans,
    )


# ------------------------------------------------------------------ rendering


def _short(text: str, limit: int = 60) -> str:
    """A span on one line, long sentences cut (the highlighted report shows them whole)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _signed(weight: float) -> str:
    """+0.41; small weights (a near-certain theme barely moves) keep one more digit."""
    return f"{weight:+.2f}" if abs(weight) >= 0.01 else f"{weight:+.3f}"


def format_uitleg(explanations: dict[str, list[dict[str, Any]]]) -> str:
    """One readable cell: ``thuiszitter: "zit sinds de herfstvakantie thuis" (+0.41), "thuis" (+0.10); …``."""
    parts = []
    for theme, spans in explanations.items():
        shown = ", ".join(f'"{" ".join(s["text"].split())}" ({_signed(s["weight"])})' for s in spans)
        parts.append(f"{theme}: {shown}" if shown else theme)
    return "; ".join(parts)


# (terminal style, html background) per explained theme, in order
_PALETTE = (
    ("black on #ffd54f", "#ffe082"),
    ("black on #81d4fa", "#b3e5fc"),
    ("black on #a5d6a7", "#c8e6c9"),
    ("black on #f48fb1", "#f8bbd0"),
    ("black on #ce93d8", "#e1bee7"),
    ("black on #ffab91", "#ffccbc"),
    ("black on #80cbc4", "#b2dfdb"),
    ("black on #e6ee9c", "#f0f4c3"),
)


def _segments(expl: Explanation) -> list[tuple[int, int, list[tuple[str, SpanWeight]]]]:
    """The text cut at every span boundary; each piece with the (theme, span)s covering it,
    strongest first."""
    cuts = {0, len(expl.text)}
    for spans in expl.spans.values():
        for s in spans:
            cuts.update((s.start, s.end))
    bounds = sorted(cuts)
    out = []
    for a, b in itertools.pairwise(bounds):
        covering = [(t, s) for t, ss in expl.spans.items() for s in ss if s.start <= a and b <= s.end]
        covering.sort(key=lambda ts: -ts[1].weight)
        out.append((a, b, covering))
    return out


def _colour(expl: Explanation, theme: str, html: bool) -> str:
    return _PALETTE[expl.themes.index(theme) % len(_PALETTE)][1 if html else 0]


def render_terminal(expl: Explanation) -> Any:
    """A rich renderable: a legend line per theme (score, spans, weights) and the report
    with each span highlighted in its theme's colour."""
    from rich.console import Group
    from rich.text import Text

    lines: list[Any] = [Text(f"model {expl.model}", style="dim")]
    if not expl.spans:
        lines.append(Text("no theme assigned", style="yellow"))
    for theme, spans in expl.spans.items():
        line = Text()
        line.append(f" {theme} ", style=_colour(expl, theme, False))
        line.append(f" {expl.scores[theme]:.2f} (threshold {expl.thresholds[theme]:.2f})  ")
        line.append(", ".join(f'"{_short(s.text)}" {_signed(s.weight)}' for s in spans) or "(no span)")
        lines.append(line)
    body = Text()
    for a, b, covering in _segments(expl):
        style = _colour(expl, covering[0][0], False) if covering else ""
        body.append(expl.text[a:b], style=style)
    lines.extend([Text(""), body])
    return Group(*lines)


_HTML_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2933;margin:0;background:#f7f8fa}
main{max-width:900px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:1.4em;margin:0 0 4px}p.lead{color:#52606d;margin-top:0}
table{border-collapse:collapse;font-size:.9em;margin:12px 0}
th,td{border-bottom:1px solid #d9e2ec;padding:4px 8px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.report{white-space:pre-wrap;line-height:1.7;border-left:3px solid #9aa5b1;padding:4px 14px}
mark{border-radius:3px;padding:1px 0;color:inherit}
footer{margin-top:32px;color:#7b8794;font-size:.8em}
"""


def render_html(expl: Explanation, *, title: str = "Uitleg") -> str:
    """The same view as one self-contained HTML page (inline CSS, no external URL)."""
    rows = []
    for theme, spans in expl.spans.items():
        bg = _colour(expl, theme, True)
        shown = ", ".join(f'<mark style="background:{bg}">{escape(s.text)}</mark> {_signed(s.weight)}' for s in spans)
        rows.append(
            f'<tr><td><mark style="background:{bg}">{escape(theme)}</mark></td>'
            f'<td class="n">{expl.scores[theme]:.2f}</td><td class="n">{expl.thresholds[theme]:.2f}</td>'
            f"<td>{shown or '(geen span)'}</td></tr>"
        )
    body = []
    for a, b, covering in _segments(expl):
        piece = escape(expl.text[a:b])
        if covering:
            bg = _colour(expl, covering[0][0], True)
            tip = "; ".join(f"{t} {_signed(s.weight)}" for t, s in covering)
            piece = f'<mark style="background:{bg}" title="{escape(tip)}">{piece}</mark>'
        body.append(piece)
    table = (
        "<table><tr><th>thema</th><th>score</th><th>drempel</th><th>woorden die de score het meest verhoogden</th></tr>"
        + "".join(rows)
        + "</table>"
        if rows
        else "<p>Geen thema toegekend.</p>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_HTML_CSS}</style></head><body><main>"
        f'<h1>{escape(title)}</h1><p class="lead">model {escape(expl.model)}</p>{table}'
        f'<div class="report">{"".join(body)}</div>'
        "<footer>Gewicht = score van de melding min score zonder dat stuk tekst (occlusie).</footer>"
        "</main></body></html>\n"
    )


# ---------------------------------------------------------------- input files


def find_report(
    path: str | Path, report_id: str, *, text_column: str = "tekst", id_column: str = "id", sheet: str | None = None
) -> str:
    """The text of the report with id ``report_id`` in a report file."""
    from meldtekst.io import read_table
    from meldtekst.validate import as_text, require_column

    path = Path(path)
    found: list[str] = []
    for n, chunk in enumerate(read_table(path, sheet=sheet)):
        columns = [str(c) for c in chunk.columns]
        if n == 0:
            tcol = require_column(columns, text_column, path, what="text")
            icol = require_column(columns, id_column, path, what="id")
        found.extend(as_text(t) for i, t in zip(chunk[icol], chunk[tcol], strict=True) if as_text(i) == report_id)
    if not found:
        raise InputError(f"no report with id '{report_id}' in column '{icol}'", path=path)
    if len(found) > 1:
        raise InputError(f"{len(found)} reports have id '{report_id}'; ids must be unique to choose one", path=path)
    return found[0]


__all__ = [
    "DEFAULT_K",
    "Candidate",
    "Explanation",
    "SpanWeight",
    "candidate_spans",
    "explain_scores",
    "explain_text",
    "explain_texts",
    "find_report",
    "format_uitleg",
    "occlusion_scores",
    "remove_spans",
    "render_html",
    "render_terminal",
    "top_spans",
]
