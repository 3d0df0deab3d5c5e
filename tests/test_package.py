"""Package structure: light import, lazy namespaces, API conventions."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pandas as pd
import pytest

import harmonomics as hm


def test_import_is_light():
    heavy = ("anndata", "mudata", "mofapy2", "matplotlib", "sklearn")
    code = f"import sys, harmonomics; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hm.nope  # noqa: B018


NAMESPACES = ("tl", "pl", "io", "pp", "get", "datasets")


def _public_functions():
    for namespace in NAMESPACES:
        module = getattr(hm, namespace)
        for name in module.__all__:
            # a name in __all__ that does not resolve (a broken import, a missing dependency) fails collection
            yield f"{namespace}.{name}", getattr(module, name)


@pytest.mark.parametrize(("name", "func"), list(_public_functions()))
def test_api_conventions(name, func):
    """scanpy-style: at most 3 positional parameters, booleans keyword-only, a numpydoc docstring."""
    signature = inspect.signature(func)
    positional = [p for p in signature.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert len(positional) <= 3, f"{name} has {len(positional)} positional parameters"
    for parameter in positional:
        assert not isinstance(parameter.default, bool), f"{name}: boolean {parameter.name!r} must be keyword-only"
    doc = inspect.getdoc(func) or ""
    assert "Parameters\n----------" in doc or not signature.parameters, f"{name} lacks a numpydoc Parameters section"
    assert "Returns\n-------" in doc, f"{name} lacks a numpydoc Returns section"


TOOLS = [(name, func) for name, func in _public_functions() if name.startswith("tl.")]


@pytest.mark.parametrize(("name", "func"), TOOLS)
def test_tl_key_added_and_copy(name, func):
    """scanpy-style tools: ``key_added`` and ``copy`` are keyword-only; ``copy`` defaults to False and,
    since the function then edits in place, the annotated return includes ``None`` (or a table)."""
    parameters = inspect.signature(func).parameters
    if "key_added" in parameters:
        key_added = parameters["key_added"]
        assert key_added.kind is key_added.KEYWORD_ONLY, f"{name}: key_added must be keyword-only"
        assert key_added.default is None or isinstance(key_added.default, str), f"{name}: key_added default"
    if "copy" in parameters:
        copy = parameters["copy"]
        assert copy.kind is copy.KEYWORD_ONLY, f"{name}: copy must be keyword-only"
        assert copy.default is False, f"{name}: copy must default to False"
        returned = str(inspect.signature(func).return_annotation)
        assert "None" in returned or "DataFrame" in returned, f"{name}: with copy=False it returns {returned}"


def test_tl_copy_returns_a_new_store_and_in_place_returns_none():
    mdata = hm.datasets.tcga_brca_rnaseq10()
    copied = hm.tl.immune_scores(mdata, methods=["estimate"], key_added="immune_test", copy=True)
    assert type(copied) is type(mdata) and copied is not mdata
    assert "immune_test" in copied.obsm and "immune_test" not in mdata.obsm  # the input is untouched
    assert hm.tl.immune_scores(mdata, methods=["estimate"], key_added="immune_test") is None
    assert "immune_test" in mdata.obsm
    assert isinstance(mdata.obsm["immune_test"], pd.DataFrame)
    assert list(mdata.obsm["immune_test"].index) == list(mdata.obs_names)
