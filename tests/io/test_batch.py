"""The batch parse of io/_batch.py gives, file for file, what the per-file parsers give (and their errors)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from gdc_files import star_text

from harmonomics._errors import EmptyInputError, FormatError
from harmonomics.io import _batch
from harmonomics.io._build import read_input
from harmonomics.io._detect import detect_bytes
from harmonomics.io._gdc_discovery import _walk
from harmonomics.io._parsers import Profile, as_numpy

FORMATS = ("gdc_star_counts", "gdc_mirna", "gdc_meth_betas", "gdc_gene_copy_number", "gdc_rppa", "gdc_maf")


@pytest.fixture(scope="module")
def files_by_format(tmp_path_factory) -> dict[str, list[tuple[Path, bytes]]]:
    import harmonomics as hm

    out = tmp_path_factory.mktemp("batch")
    cohort = hm.datasets.write_synthetic_cohort(out / "cohort", n_patients=14, seed=3, layouts=("gdc",))
    groups = defaultdict(list)
    for path in _walk(cohort.gdc):
        data = read_input(path)[2]
        try:
            fmt = detect_bytes(data, path)
        except Exception:  # noqa: BLE001, S112 - JSON, annotations: not data files
            continue
        groups[fmt].append((path, data))
    return groups


def assert_same(batched, single) -> None:
    if isinstance(single, pa.Table):
        assert batched.equals(single)
        return
    assert isinstance(batched, Profile)
    assert as_numpy(batched.features).tolist() == as_numpy(single.features).tolist()
    np.testing.assert_array_equal(batched.values, single.values)
    assert batched.layers.keys() == single.layers.keys()
    for name in single.layers:
        np.testing.assert_array_equal(batched.layers[name], single.layers[name])
    assert batched.var.keys() == single.var.keys()
    for name in single.var:
        assert as_numpy(batched.var[name]).tolist() == as_numpy(single.var[name]).tolist()
    assert batched.qc == pytest.approx(single.qc, nan_ok=True)
    assert batched.meta == single.meta


def count_per_file_parses(monkeypatch) -> list[str]:
    calls: list[str] = []
    original = _batch.parse_one

    def counting(fmt, path, data, **kw):
        calls.append(str(path))
        return original(fmt, path, data, **kw)

    monkeypatch.setattr(_batch, "parse_one", counting)
    return calls


@pytest.mark.parametrize("fmt", FORMATS)
def test_batch_equals_per_file_parse(files_by_format, fmt, monkeypatch):
    items = files_by_format[fmt]
    assert len(items) >= 8
    calls = count_per_file_parses(monkeypatch)
    batched = _batch.parse_many(fmt, items, rna_layers=("tpm_unstranded", "fpkm_unstranded"))
    # the batch did the work: only the file read for its feature annotation went through its own parser
    assert len(calls) == (1 if fmt in ("gdc_star_counts", "gdc_gene_copy_number") else 0)
    for i, ((path, data), result) in enumerate(zip(items, batched, strict=True)):
        single = _batch.parse_one(fmt, path, data, rna_layers=("tpm_unstranded", "fpkm_unstranded"), annotate=i == 0)
        assert_same(result, single)


def test_files_sharing_features_share_one_array(files_by_format):
    profiles = _batch.parse_many("gdc_meth_betas", files_by_format["gdc_meth_betas"])
    assert len({id(p.features) for p in profiles}) == 1


def _star_items(tmp_path, texts: list[bytes]) -> list[tuple[Path, bytes]]:
    items = []
    for i, data in enumerate(texts):
        path = tmp_path / f"f{i}" / "x.rna_seq.augmented_star_gene_counts.tsv"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        items.append((path, data))
    return items


def test_odd_but_valid_files_agree(tmp_path, monkeypatch):
    """CRLF endings, blank lines and a missing final newline: the batch still cuts every file's rows right."""
    plain = star_text([10, 20, 30, 40, 50, 60, 70]).encode()
    texts = [
        plain,
        star_text([1, 2, 3, 4, 5, 6, 7]).encode().replace(b"\n", b"\r\n"),
        plain.replace(b"N_ambiguous", b"\nN_ambiguous"),  # a blank line inside the body
        star_text([7, 6, 5, 4, 3, 2, 1]).encode().rstrip(b"\n"),
        plain,
    ]
    items = _star_items(tmp_path, texts)
    calls = count_per_file_parses(monkeypatch)
    batched = _batch.parse_many("gdc_star_counts", items, annotate_first=False)
    assert calls == []
    for (path, data), result in zip(items, batched, strict=True):
        assert_same(result, _batch.parse_one("gdc_star_counts", path, data, annotate=False))
    assert batched[1].values.tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert batched[3].values.tolist() == [7, 6, 5, 4, 3, 2, 1]
    assert batched[2].qc == {"N_unmapped": 100, "N_multimapping": 50, "N_noFeature": 20, "N_ambiguous": 5}


def test_a_bad_file_raises_its_own_error(tmp_path):
    good = star_text([10, 20, 30, 40, 50, 60, 70]).encode()
    bad = good.replace(b"\t30\t", b"\tthirty\t")
    items = _star_items(tmp_path, [good, good, bad, good])
    with pytest.raises(FormatError) as batch_error:
        _batch.parse_many("gdc_star_counts", items)
    with pytest.raises(FormatError) as single_error:
        _batch.parse_one("gdc_star_counts", *items[2])
    assert str(batch_error.value) == str(single_error.value)
    assert "line 9" in str(batch_error.value) and str(items[2][0]) in str(batch_error.value)


def test_a_file_with_a_negative_count_raises(tmp_path):
    good = star_text([10, 20, 30, 40, 50, 60, 70]).encode()
    bad = star_text([10, 20, -3, 40, 50, 60, 70]).encode()
    items = _star_items(tmp_path, [good, bad, good])
    with pytest.raises(FormatError, match="non-negative integer count") as err:
        _batch.parse_many("gdc_star_counts", items)
    assert str(items[1][0]) in str(err.value)


def test_a_file_with_only_qc_rows_is_empty(tmp_path):
    good = star_text([10, 20, 30, 40, 50, 60, 70]).encode()
    qc_only = b"\n".join(good.split(b"\n")[:6]) + b"\n"
    items = _star_items(tmp_path, [good, qc_only, good])
    with pytest.raises(EmptyInputError, match="no gene rows") as err:
        _batch.parse_many("gdc_star_counts", items)
    assert str(items[1][0]) in str(err.value)


def test_a_file_holding_the_marker_is_parsed_alone(tmp_path, monkeypatch):
    good = star_text([10, 20, 30, 40, 50, 60, 70]).encode()
    odd = good.replace(b"ENSG00000000005.6", _batch.SENTINEL.encode())
    items = _star_items(tmp_path, [good, odd, good])
    calls = count_per_file_parses(monkeypatch)
    batched = _batch.parse_many("gdc_star_counts", items, annotate_first=False)
    assert len(calls) == 3  # the group could not be cut by markers: every file went through its own parser
    assert as_numpy(batched[1].features)[1] == _batch.SENTINEL


def test_many_parse_blocks_agree(files_by_format, monkeypatch):
    """pyarrow parses a large batch in blocks, each with its own ID dictionary: the codes are unified."""
    original = _batch.arrow_options

    def small_blocks(*args, **kwargs):
        read_options, parse_options, convert_options = original(*args, **kwargs)
        read_options.block_size = 1 << 14  # many blocks even for this small cohort
        return read_options, parse_options, convert_options

    monkeypatch.setattr(_batch, "arrow_options", small_blocks)
    for fmt in ("gdc_star_counts", "gdc_meth_betas", "gdc_maf"):
        items = files_by_format[fmt]
        batched = _batch.parse_many(fmt, items, annotate_first=False)
        for (path, data), result in zip(items, batched, strict=True):
            assert_same(result, _batch.parse_one(fmt, path, data, annotate=False))
