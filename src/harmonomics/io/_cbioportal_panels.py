"""Gene panels of a cBioPortal study: which samples were sequenced on which targeted panel, and the panel's genes.

cBioPortal's File-Formats documentation ("Gene Panel Data") defines three sources, all read here:

- the gene panel matrix (meta ``GENE_PANEL_MATRIX``): ``SAMPLE_ID``, then one column per profile ``stable_id``
  (``mutations``, ``gistic``, …) holding the panel's ``stable_id``, or ``NA`` when the sample is not profiled on
  a panel *or* not profiled at all;
- a profile's meta file property ``gene_panel: <stable_id>``: every sample of that profile is on that panel;
- panel definitions (``data_gene_panel_*.txt``, no meta file): ``stable_id``, ``description`` and ``gene_list``
  (tab-separated gene symbols or Entrez IDs). A portal loads them once per instance, so a downloaded study may
  name panels it does not define.

For the mutation profile, ``NA`` is told apart with the ``_sequenced`` case list: a sample in it without a panel
was profiled genome- or exome-wide; a sample in neither has no mutation data. A sample on a defined panel gets
``NaN`` (not tested) rather than 0 for every gene of the mutation matrix that is not on its panel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _keys
from .._errors import FormatError
from .._text import open_text
from . import _parsers as P
from ._build import Block, Report

logger = logging.getLogger(__name__)

#: Values of the gene panel matrix that mean "no panel".
_NO_PANEL = {"", "NA", "NAN", "N/A"}


@dataclass(frozen=True)
class PanelDefinition:
    """One gene panel: its ID, description, genes (as written) and the file that defined it."""

    stable_id: str
    description: str
    genes: tuple[str, ...]
    source_file: str


def parse_panel_matrix(path: Path, data: bytes) -> pd.DataFrame:
    """The gene panel matrix as a DataFrame: index ``SAMPLE_ID``, one column per profile, panel ID or NaN.

    Raises
    ------
    FormatError
        The first header cell is not ``SAMPLE_ID``, a profile column is unnamed or repeated, a row has the wrong
        number of cells, or a sample is listed twice (the message names the line).
    """
    tf = open_text(path, data=data)
    header = tf.header()
    if not header or header[0] != "SAMPLE_ID":
        raise FormatError(
            f"a gene panel matrix starts with the column SAMPLE_ID; found {header[:1]}", path=path, line=1, column=1
        )
    profiles = header[1:]
    for i, name in enumerate(profiles, start=2):
        if not name.strip():
            raise FormatError("unnamed profile column; expected a profile stable_id", path=path, line=1, column=i)
        if profiles.index(name) != i - 2:
            raise FormatError(f"profile column {name!r} is repeated", path=path, line=1, column=i)
    rows: dict[str, list[str | float]] = {}
    body = tf.data[tf.body_offset :].decode("utf-8", errors="replace").splitlines()
    for line_no, text in enumerate(body, start=tf.header_line + 1):
        cells = text.rstrip("\r").split("\t")
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise FormatError(
                f"{len(cells)} cells; expected {len(header)} (SAMPLE_ID and {len(profiles)} profiles)",
                path=path,
                line=line_no,
            )
        sample = cells[0].strip()
        if sample in rows:
            raise FormatError(f"sample {sample!r} is listed twice", path=path, line=line_no, column=1)
        rows[sample] = [np.nan if c.strip().upper() in _NO_PANEL else c.strip() for c in cells[1:]]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=profiles, dtype=object)
    frame.index.name = None
    return frame


def parse_panel_definition(path: Path) -> PanelDefinition:
    """A ``data_gene_panel_*.txt`` file (``stable_id``, ``description``, ``gene_list``).

    Raises
    ------
    FormatError
        ``stable_id`` or ``gene_list`` is missing or empty.
    """
    kv = P.parse_key_value(path)
    for key in ("stable_id", "gene_list"):
        if not kv.get(key, "").strip():
            raise FormatError(
                f"a gene panel file needs a non-empty {key!r} line; it has {sorted(kv)}", path=path, column=key
            )
    genes = tuple(dict.fromkeys(g for g in kv["gene_list"].replace(",", "\t").split() if g))
    return PanelDefinition(kv["stable_id"].strip(), kv.get("description", "").strip(), genes, path.name)


def mutation_panels(
    matrix: pd.DataFrame | None, profile: str, meta_panel: str, block: Block, report: Report, matrix_file: str
) -> pd.Series:
    """Panel of each sample of the mutation profile (NaN: profiled without a panel), from the matrix column of
    ``profile`` or the MAF meta file's ``gene_panel`` property (which the matrix overrides, per sample)."""
    panels = pd.Series(meta_panel or np.nan, index=pd.Index(block.ids, dtype=object), dtype=object)
    if matrix is None or profile not in matrix.columns:
        return panels
    column = matrix[profile]
    known = column.index.intersection(panels.index)
    panels.loc[known] = column.loc[known].to_numpy()
    # on a panel but neither in the MAF nor in cases_sequenced: profiled, with no variant
    extra = column.index.difference(panels.index)[column.loc[column.index.difference(panels.index)].notna()]
    for sample in extra:
        report.add(
            "sample",
            sample,
            _keys.MUT,
            sample,
            "kept",
            f"on gene panel {column[sample]} for {profile!r} in {matrix_file} but not in cases_sequenced; added as "
            "profiled (no variant)",
        )
    return pd.concat([panels, column.loc[extra]])


def apply_mutation_panels(
    block: Block, panels: pd.Series, definitions: dict[str, PanelDefinition], report: Report
) -> Block:
    """Add the samples only the panel matrix names, record ``obs["gene_panel"]`` and mark untested genes NaN.

    A gene of the matrix that is not on a sample's (defined) panel becomes NaN for that sample when it is 0: it
    was not tested. A variant the MAF reports in such a gene is kept (1) and gets a report row.
    """
    new = [s for s in panels.index if s not in set(block.ids)]
    if new:
        block.values = np.vstack([block.values, np.zeros((len(new), block.values.shape[1]))])
        block.ids = [*block.ids, *new]
        block.source_files = [*block.source_files, *(block.source_files[:1] or [""]) * len(new)]
    panels = panels.reindex(block.ids)
    genes = pd.Index(block.var.index.astype(str))
    entrez = block.var["entrez"].astype(str) if "entrez" in block.var else pd.Series("", index=block.var.index)
    for panel_id, rows in panels.groupby(panels, sort=True).groups.items():
        definition = definitions.get(str(panel_id))
        positions = pd.Index(block.ids).get_indexer(rows)
        if definition is None:
            report.add(
                "file",
                str(panel_id),
                _keys.MUT,
                "",
                "kept",
                f"gene panel {panel_id} ({len(rows)} samples) has no definition file (data_gene_panel_*.txt): its "
                "genes are unknown, so untested genes of these samples stay 0, not missing",
            )
            continue
        listed = set(definition.genes)
        on_panel = genes.isin(listed) | entrez.isin(listed).to_numpy()
        sub = block.values[np.ix_(positions, ~on_panel)]
        off_panel_hits = np.argwhere(sub == 1)
        for r, c in off_panel_hits:
            sample, gene = block.ids[positions[r]], genes[~on_panel][c]
            report.add(
                "value",
                f"{sample} × {gene}",
                _keys.MUT,
                sample,
                "kept",
                f"the MAF has a variant in {gene}, which is not on the sample's gene panel {panel_id}; kept",
            )
        block.values[np.ix_(positions, ~on_panel)] = np.where(sub == 1, 1.0, np.nan)
        report.add(
            "feature",
            f"{int((~on_panel).sum())} genes",
            _keys.MUT,
            "",
            "kept",
            f"not on gene panel {panel_id} ({len(definition.genes)} genes, {definition.source_file}): missing "
            f"(not tested) for its {len(rows)} samples",
        )
    block.obs = pd.DataFrame({_keys.OBS_GENE_PANEL: panels.to_numpy(dtype=object)})
    block.var = block.var.copy()
    if "n_mutated" in block.var:
        block.var["n_mutated"] = np.nansum(block.values, axis=0)
    return block


def panel_tables(
    definitions: dict[str, PanelDefinition], matrix: pd.DataFrame | None, meta_panels: dict[str, str]
) -> dict[str, pd.DataFrame]:
    """``uns["gene_panels"]``: ``panels`` (one row per panel), ``genes`` (panel × gene, long), ``samples`` (the
    matrix: sample × profile, "" for no panel) and ``profiles`` (the meta files' ``gene_panel`` properties: every
    sample of that profile is on that panel)."""
    used = set() if matrix is None else {str(v) for v in pd.unique(matrix.to_numpy().ravel()) if pd.notna(v)}
    used |= set(meta_panels.values())
    ids = sorted(set(definitions) | used)
    panels = pd.DataFrame(
        {
            "panel": ids,
            "description": [definitions[i].description if i in definitions else "" for i in ids],
            "n_genes": [len(definitions[i].genes) if i in definitions else -1 for i in ids],
            "source_file": [definitions[i].source_file if i in definitions else "" for i in ids],
        }
    )
    genes = pd.DataFrame(
        [(d.stable_id, g) for d in definitions.values() for g in d.genes], columns=["panel", "gene"], dtype=object
    )
    samples = pd.DataFrame({"sample": pd.Series(dtype=object)})
    if matrix is not None:
        samples = matrix.astype(object).where(matrix.notna(), "").reset_index(names="sample").astype(str)
    profiles = pd.DataFrame({"profile": list(meta_panels), "gene_panel": list(meta_panels.values())}, dtype=object)
    return {"panels": panels, "genes": genes, "samples": samples, "profiles": profiles}
