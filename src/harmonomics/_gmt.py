"""GMT gene-set files (Broad GSEA "Gene Matrix Transposed" format): a strict reader and a writer.

One gene set per line, tab-separated: the set name, a description (free text, often ``na`` or a
URL), then the member genes. Blank lines are ignored; nothing else is allowed to vary.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from ._errors import EmptyInputError, FormatError

logger = logging.getLogger(__name__)

_FORBIDDEN = ("\t", "\n", "\r")


def read_gmt(path: str | os.PathLike, *, with_descriptions: bool = False):
    """Read a GMT file.

    Parameters
    ----------
    path
        The ``.gmt`` file.
    with_descriptions
        Also return the description column.

    Returns
    -------
    ``{set name: [genes]}`` in file order (genes de-duplicated, order kept); with
    ``with_descriptions=True`` a tuple ``(gene_sets, {set name: description})``.

    Raises
    ------
    FormatError
        A line has fewer than three fields, an empty name or gene, or a set name repeats.
    EmptyInputError
        The file holds no gene set.
    """
    path = Path(path)
    gene_sets: dict[str, list[str]] = {}
    descriptions: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            # trailing empty fields (a trailing tab) are tolerated, empty fields inside are not
            while fields and fields[-1] == "":
                fields.pop()
            if len(fields) < 3:
                raise FormatError(
                    "a GMT line needs a name, a description and at least one gene separated by tabs; found "
                    f"{len(fields)} field(s)",
                    path=path,
                    line=number,
                )
            name, description, genes = fields[0].strip(), fields[1], [g.strip() for g in fields[2:]]
            if not name:
                raise FormatError("empty gene-set name", path=path, line=number, column=1)
            if name in gene_sets:
                raise FormatError(f"gene set {name!r} appears twice", path=path, line=number, column=1)
            for position, gene in enumerate(genes, start=3):
                if not gene:
                    raise FormatError(f"empty gene name in set {name!r}", path=path, line=number, column=position)
            gene_sets[name] = list(dict.fromkeys(genes))
            descriptions[name] = description
    if not gene_sets:
        raise EmptyInputError("no gene set in GMT file", path=path)
    return (gene_sets, descriptions) if with_descriptions else gene_sets


def write_gmt(
    gene_sets: Mapping[str, Iterable[str]],
    path: str | os.PathLike,
    *,
    descriptions: Mapping[str, str] | None = None,
) -> Path:
    """Write gene sets to a GMT file.

    Parameters
    ----------
    gene_sets
        ``{set name: genes}``. Empty sets are skipped (a GMT line needs at least one gene).
    path
        Output file.
    descriptions
        ``{set name: description}``; ``na`` where missing.

    Returns
    -------
    The path written.

    Raises
    ------
    ValueError
        A name, description or gene contains a tab or newline, or is empty.
    """
    path = Path(path)
    lines = []
    for name, genes in gene_sets.items():
        genes = [str(g) for g in dict.fromkeys(genes) if g is not None and str(g) != ""]
        description = (descriptions or {}).get(name, "na") or "na"
        for value, what in [
            (name, "gene-set name"),
            (description, "description"),
            *((g, "gene") for g in genes),
        ]:
            if not str(value).strip() or any(ch in str(value) for ch in _FORBIDDEN):
                raise ValueError(
                    f"{what} {value!r} in set {name!r} is empty or contains a tab/newline; GMT cannot hold it"
                )
        if not genes:
            logger.info("gene set %r is empty; not written to %s", name, path)
            continue
        lines.append("\t".join([str(name), str(description), *genes]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    os.replace(tmp, path)
    return path
