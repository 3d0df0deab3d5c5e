"""The cohort: which omics each sample has (the table that ``hm.pl.omics_overview`` and the report draw)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from mudata import MuData


def omics_presence(mdata: MuData) -> pd.DataFrame:
    """Whether each sample was measured in each omic.

    Parameters
    ----------
    mdata
        MuData; a sample absent from a modality counts as not measured in that omic.

    Returns
    -------
    Boolean DataFrame samples (``mdata.obs_names``, in order) × modalities (in ``mdata.mod`` order).

    Raises
    ------
    ValueError
        ``mdata`` is no MuData, or has no modality.
    """
    if not hasattr(mdata, "mod") or len(mdata.mod) == 0:
        raise ValueError("expected a MuData with at least one modality")
    present = {m: mdata.obs_names.isin(mdata.mod[m].obs_names) for m in mdata.mod}
    return pd.DataFrame(present, index=mdata.obs_names)
