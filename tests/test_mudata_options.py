"""harmonomics sets mudata's options only around its own calls, and copes with stores the user edited under
mudata's own defaults (issue 16, "No tricks").

The rest of the suite runs as a user who adopted mudata 0.4's ``update()`` (tests/conftest.py); here every test
runs under mudata 0.3's default (``pull_on_update=None``: pull the modalities' columns and warn).
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import mudata
import numpy as np
import pytest
from mudata._core.config import OPTIONS

import harmonomics as hm
from harmonomics._compat import _needs_future_update

pytestmark = pytest.mark.skipif(
    not _needs_future_update(mudata), reason="mudata >= 0.4 has no pull_on_update default to keep apart from"
)


@pytest.fixture
def mudata_defaults():
    with mudata.set_options(pull_on_update=None):
        yield


def test_import_and_first_use_leave_mudata_options_alone():
    code = (
        "import mudata\n"
        "from mudata._core.config import OPTIONS\n"
        "before = dict(OPTIONS)\n"
        "import harmonomics as hm\n"
        "hm.datasets.tcga_brca_mini()\n"
        "assert dict(OPTIONS) == before, (before, dict(OPTIONS))\n"
        "import sys\n"
        "assert not any(type(f).__module__.startswith('harmonomics') for f in sys.meta_path), sys.meta_path\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_public_calls_restore_the_users_options(mudata_defaults):
    hm.datasets.tcga_brca_mini()
    assert OPTIONS["pull_on_update"] is None
    assert hm.tl.pam50.__wrapped__ is not None  # the public name runs inside the package's context


def test_a_store_sliced_under_mudata_defaults_goes_through_the_package(mudata_defaults, tmp_path):
    full = hm.datasets.tcga_brca_mini()
    # the user's own slice: mudata 0.3 pulls the modalities' columns and says so; that is mudata's business
    with pytest.warns(FutureWarning, match="pull obs/var columns"):
        train = full[full.obs["split"] == "train"].copy()
    assert "rna:source_file" in train.obs.columns
    assert train.obs.index.name is None and train.mod["rna"].obs.index.name == "sample"

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of the package's own calls may warn (FutureWarning included)
        hm.tl.mofa(train, n_factors=3, seed=0)
        path = hm.store.write(train, tmp_path / "train.h5mu")
        back = hm.store.read(path)
    assert OPTIONS["pull_on_update"] is None
    assert back.n_obs == 150 and set(back.mod) == {"rna", "mirna", "prot"}
    np.testing.assert_array_equal(back.obs["pam50"].to_numpy(), train.obs["pam50"].to_numpy())
    np.testing.assert_allclose(np.asarray(back.obsm["mofa"]), np.asarray(train.obsm["mofa"]))
    # the package gave the global index its modalities' name back, so that mudata can join them again
    assert train.obs.index.name == "sample" and train.mod["rna"].obs.index.name == "sample"


def test_projecting_onto_a_store_sliced_under_mudata_defaults(mudata_defaults):
    """The subtypes notebook's path: the user slices train/test, fits on one and projects the other."""
    full = hm.datasets.tcga_brca_mini()
    with pytest.warns(FutureWarning):
        train = full[full.obs["split"] == "train"].copy()
        test = full[full.obs["split"] == "test"].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hm.tl.mofa(train, n_factors=3, seed=0)
        hm.tl.subtype_classifier(train, label="pam50")
        hm.tl.predict_subtype(test, train)
    assert test.obs["subtype_pred"].notna().all()
    assert set(test.obs["subtype_pred"].astype(str)) <= set(train.obs["pam50"].astype(str))
