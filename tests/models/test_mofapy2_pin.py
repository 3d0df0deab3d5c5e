"""The fast engine (models/_fast_engine.py) replaces mofapy2 node methods on a model object; its equations
were checked against mofapy2 0.7.5 (tests/models/test_fast_engine.py). If mofapy2 changes any method the
engine replaces or wraps, this test fails: re-run the engine tests against plain mofapy2, then update the
fingerprints."""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import textwrap
from importlib.metadata import version

import pytest

TESTED_VERSION = "0.7.5"

# (module, class, method) -> sha256 (first 16 hex digits) of the method's syntax tree in mofapy2 0.7.5
# (formatting and comments do not count, code and docstrings do)
PATCHED = {
    ("mofapy2.core.nodes.Z_nodes", "Z_Node", "updateParameters"): "1ed07a73859fd8e2",
    ("mofapy2.core.nodes.Z_nodes", "SZ_Node", "updateParameters"): "fc404d3d953cfd96",
    ("mofapy2.core.nodes.W_nodes", "W_Node", "updateParameters"): "00a7ec0a18aabd6d",
    ("mofapy2.core.nodes.W_nodes", "SW_Node", "updateParameters"): "0ed02328a09fbd99",
    ("mofapy2.core.nodes.Tau_nodes", "TauD_Node", "updateParameters"): "45109cc551bd1f1a",
    ("mofapy2.core.nodes.Y_nodes", "Y_Node", "calculateELBO"): "07e3e80b76106cb6",
    ("mofapy2.core.nodes.nongaussian_nodes", "Bernoulli_PseudoY_Jaakkola", "updateParameters"): ("488ffd215a35fad1"),
    ("mofapy2.core.BayesNet", "BayesNet", "calculate_variance_explained"): "df1c01462d076f4e",
    ("mofapy2.core.BayesNet", "BayesNet", "removeInactiveFactors"): "2b9d9aff84da23d0",
    ("mofapy2.core.BayesNet", "BayesNet", "calculateELBO"): "7ced44b7a64785ad",
    ("mofapy2.core.BayesNet", "BayesNet", "assess_convergence"): "d9b273689ff80de1",
}


def _fingerprint(module: str, cls: str, method: str) -> str:
    func = getattr(getattr(importlib.import_module(module), cls), method)
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:16]


def test_mofapy2_is_the_tested_version():
    assert version("mofapy2") == TESTED_VERSION, (
        f"mofapy2 {version('mofapy2')} is installed; the fast engine was verified against {TESTED_VERSION}"
    )


@pytest.mark.parametrize(("module", "cls", "method"), list(PATCHED))
def test_patched_mofapy2_methods_are_unchanged(module, cls, method):
    expected = PATCHED[(module, cls, method)]
    assert _fingerprint(module, cls, method) == expected, (
        f"mofapy2's {cls}.{method} differs from the version the fast engine replaces "
        f"(mofapy2 {TESTED_VERSION}); "
        "check models/_fast_engine.py against the new code before updating this fingerprint"
    )
