"""Property: `tag` returns every row, in order, with every original value unchanged, in every format."""

import json

import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from meldtekst.io import read_all, write_table
from meldtekst.models.store import load_model_dir
from meldtekst.tagging import tag_file

cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
    | st.sampled_from(list(';,"\n\t ')),
    max_size=40,
)
ids = st.from_regex(r"0[0-9]{1,4}", fullmatch=True)


@settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(st.tuples(ids, cell, cell), min_size=1, max_size=15))
def test_tag_keeps_every_row(tmp_path_factory, tiny_model, rows):
    model = load_model_dir(tiny_model)
    df = pd.DataFrame(rows, columns=["id", "tekst", "opmerking"])
    for ext in ("csv", "jsonl", "parquet", "xlsx"):
        d = tmp_path_factory.mktemp(ext)
        src, dst = d / f"in.{ext}", d / f"out.{ext}"
        write_table(df, src)
        summary = tag_file(src, dst, model)
        back = read_all(dst)
        assert summary.rows == len(df)
        assert len(back) == len(df)
        for col in ("id", "tekst", "opmerking"):
            got = back[col].tolist()
            want = df[col].tolist()
            if ext == "xlsx":  # Excel stores empty strings as empty cells and normalises line ends
                got = ["" if v is None else str(v) for v in got]
                want = [w.replace("\r\n", "\n").replace("\r", "\n") for w in want]
                got = [g.replace("\r\n", "\n").replace("\r", "\n") for g in got]
            assert got == want, (ext, col)
        assert list(back.columns[:3]) == ["id", "tekst", "opmerking"]
        if ext == "jsonl":
            first = json.loads(dst.read_text(encoding="utf-8").splitlines()[0])
            assert "themes" in first
