"""The whole analysis from a config file: load → fit → annotate → export → report, for one or more cohorts.

``harmonomics run CONFIG.yaml`` and the Snakemake workflow in ``workflows/`` both use this module; each step is
also a CLI subcommand (``harmonomics load/fit/annotate/export/report``). The config schema is
:data:`SCHEMA` (documented in docs/cli.md, example in ``workflows/config.example.yaml``).

Every step writes its output atomically and a small stamp (``<out>/<cohort>/.harmonomics/<step>.json``) with a
hash of its parameters and of its input; re-running with the same config skips a step whose output exists and
whose stamp matches, unless ``force=True``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import numbers
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _keys
from ._errors import HarmonomicsError

logger = logging.getLogger(__name__)

STEPS = ("load", "fit", "annotate", "export", "report")
BUNDLED_COHORTS = {
    "tcga_brca_121": "tcga_brca_121",  # the real 121-patient TCGA-BRCA cohort: rna counts, cnv, mut, prot, labels
    "tcga_brca_mini": "tcga_brca_mini",  # the mixOmics DIABLO split: 200 genes, miRNA, protein
}
"""Sources that need no path: ``{source: function of hm.datasets}``."""
SOURCES = ("gdc", "cbioportal", "xena", "firehose", "table", "store", *BUNDLED_COHORTS)


class ConfigError(HarmonomicsError, ValueError):
    """The pipeline config is invalid; the message names the key and what is allowed."""


# ---------------------------------------------------------------------------------------------------------------
# the config schema: {key: (type(s), default, help)}; nested sections are dicts of the same shape
# ---------------------------------------------------------------------------------------------------------------
_COHORT = {
    "source": (str, None, f"where the data come from: one of {', '.join(SOURCES)}"),
    "path": (str, None, "the download folder, study folder, matrix file or store (not needed for the bundled cohorts)"),
    "options": (dict, {}, "keyword arguments for the reader, e.g. {sample_types: primary, join: union}"),
}
SCHEMA: dict[str, Any] = {
    "out": (str, "harmonomics-results", "output folder; each cohort gets <out>/<cohort>/"),
    "cohorts": (dict, None, "cohort name -> {source, path, options}; processed side by side"),
    "fit": {
        "n_factors": (int, 10, "number of factors"),
        "engine": (str, "fast", "fast or mofapy2"),
        "seed": (int, 0, "random seed"),
        "convergence": (
            str,
            "auto",
            "auto (window rule for the fast engine, medium for mofapy2), fast, medium, slow or window",
        ),
        "float32": (bool, False, "fit in single precision"),
        "mods": (list, None, "omics to use (default: all)"),
        "features_per_omic": (int, 2000, "top-variance features kept per omic before the fit"),
        "groups_key": (str, None, "obs column for multi-group MOFA"),
    },
    "annotate": {
        "pam50": (bool, True, "call PAM50 subtypes from the rna omic (skipped when too few PAM50 genes)"),
        "immune": (bool, True, "immune scores and status from the rna omic (skipped when the genes are missing)"),
        "covariates": (
            list,
            ["pam50", "immune_class"],
            "obs columns to associate with factors (those absent are skipped)",
        ),
        "survival": (bool, True, "Cox model per factor on os_time / os_event where present"),
        "signatures": (bool, True, "top features of each factor (uns mofa_signatures) and their per-sample scores"),
        "enrichment": (bool, True, "preranked enrichment of each factor's weights in the built-in gene sets"),
        "precision": (
            bool,
            True,
            "receptor status (ER/PR/HER2), tumour mutational burden and actionable alterations (research only)",
        ),
        "exome_size_mb": (numbers.Real, 38.0, "TMB denominator (Mb) of samples sequenced exome-wide"),
        "panel_size_mb": (
            dict,
            None,
            "{gene panel ID: coding size in Mb} for panel-sequenced samples (beyond the shipped MSK-IMPACT sizes)",
        ),
    },
    "export": {
        "formats": (
            list,
            ["tsv", "gmt", "gct", "cbioportal", "hdf5"],
            "export formats (see harmonomics export --help)",
        ),
    },
    "report": {
        "title": (str, None, "report title (default: the cohort name)"),
    },
    "dask": {
        "scheduler": (str, None, "address of a dask.distributed scheduler (tcp://host:8786) or 'local'"),
    },
}


def _check_tmb_sizes(annotate: Mapping[str, Any]) -> None:
    """``annotate.exome_size_mb`` and every ``annotate.panel_size_mb`` value must be positive numbers of Mb."""
    sizes = {"annotate.exome_size_mb": annotate["exome_size_mb"]}
    sizes.update({f"annotate.panel_size_mb.{k}": v for k, v in (annotate["panel_size_mb"] or {}).items()})
    for key, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
            raise ConfigError(f"config key {key!r} must be a positive number of megabases, got {value!r}")


def _validate_section(values: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise ConfigError(f"config section {where or 'top level'!r} must be a mapping, got {type(values).__name__}")
    out: dict[str, Any] = {}
    for key in values:
        if key not in schema:
            allowed = ", ".join(sorted(schema))
            raise ConfigError(
                f"unknown config key {where + key!r}; "
                f"allowed keys{' in ' + where.rstrip('.') if where else ''}: {allowed}"
            )
    for key, spec in schema.items():
        if isinstance(spec, dict):
            out[key] = _validate_section(values.get(key) or {}, spec, f"{where}{key}.")
            continue
        kind, default, _ = spec
        value = values.get(key, default)
        if value is not None and not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(
                f"config key {where + key!r} must be {kind.__name__}, got {type(value).__name__} {value!r}"
            )
        out[key] = value
    return out


def load_config(config: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """Read and validate a pipeline config (YAML file or mapping) against :data:`SCHEMA`.

    Parameters
    ----------
    config
        Path of a YAML file, or the mapping itself.

    Returns
    -------
    The config with every default filled in; relative paths resolved against the config file's folder.

    Raises
    ------
    ConfigError
        For an unknown key (naming it and the allowed ones), a value of the wrong type, an unknown source, or
        a cohort without the keys it needs.
    FileNotFoundError
        If the config file does not exist.
    """
    import yaml

    base = Path.cwd()
    if not isinstance(config, Mapping):
        path = Path(config)
        if not path.is_file():
            raise FileNotFoundError(f"no config file at {str(path)!r}")
        try:
            config = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML ({err})") from err
        base = path.resolve().parent
    validated = _validate_section(config, SCHEMA, "")
    cohorts = validated["cohorts"]
    if not cohorts:
        raise ConfigError("config key 'cohorts' is required: a mapping of cohort name -> {source, path, options}")
    for name, cohort in list(cohorts.items()):
        entry = _validate_section(cohort or {}, _COHORT, f"cohorts.{name}.")
        if entry["source"] not in SOURCES:
            raise ConfigError(
                f"config key 'cohorts.{name}.source' is {entry['source']!r}; allowed: {', '.join(SOURCES)}"
            )
        if entry["source"] not in BUNDLED_COHORTS:
            if not entry["path"]:
                raise ConfigError(f"config key 'cohorts.{name}.path' is required for source {entry['source']!r}")
            entry["path"] = str((base / entry["path"]).resolve())
        cohorts[name] = entry
    validated["out"] = str((base / validated["out"]).resolve())
    if validated["fit"]["engine"] not in ("fast", "mofapy2"):
        raise ConfigError(f"config key 'fit.engine' is {validated['fit']['engine']!r}; allowed: fast, mofapy2")
    _check_tmb_sizes(validated["annotate"])
    allowed_convergence = ("auto", "fast", "medium", "slow", "window")
    if validated["fit"]["convergence"] not in allowed_convergence:
        raise ConfigError(
            f"config key 'fit.convergence' is {validated['fit']['convergence']!r}; "
            f"allowed: {', '.join(allowed_convergence)}"
        )
    return validated


# ---------------------------------------------------------------------------------------------------------------
# steps: each reads one store (or the raw data) and writes one output
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CohortPaths:
    """Where the steps of one cohort write."""

    root: Path

    @property
    def loaded(self) -> Path:
        return self.root / "loaded.h5mu"

    @property
    def fitted(self) -> Path:
        return self.root / "fitted.h5mu"

    @property
    def annotated(self) -> Path:
        return self.root / "annotated.h5mu"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    def output(self, step: str) -> Path:
        return {
            "load": self.loaded,
            "fit": self.fitted,
            "annotate": self.annotated,
            "export": self.exports,
            "report": self.report,
        }[step]

    def stamp(self, step: str) -> Path:
        return self.root / ".harmonomics" / f"{step}.json"


def load_cohort(source: str, path: str | os.PathLike | None = None, *, options: Mapping[str, Any] | None = None):
    """Read a cohort from any supported source into a store.

    Parameters
    ----------
    source
        One of :data:`SOURCES`: ``gdc``, ``cbioportal``, ``xena``, ``firehose``, ``table``, ``store`` (an
        existing h5mu/zarr/nc store) or a bundled cohort of :data:`BUNDLED_COHORTS` (``tcga_brca_121``,
        ``tcga_brca_mini``; no path).
    path
        The folder or file to read.
    options
        Keyword arguments passed to the reader.

    Returns
    -------
    The MuData store.

    Raises
    ------
    ConfigError
        For an unknown source.
    FileNotFoundError
        If ``path`` does not exist.
    """
    import harmonomics as hm

    options = dict(options or {})
    if source in BUNDLED_COHORTS:
        return getattr(hm.datasets, BUNDLED_COHORTS[source])(**options)
    if source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}; allowed: {', '.join(SOURCES)}")
    if path is None or not Path(path).exists():
        raise FileNotFoundError(f"no such file or folder: {str(path)!r} (source {source!r})")
    readers = {
        "gdc": hm.io.read_gdc,
        "cbioportal": hm.io.read_cbioportal,
        "xena": hm.io.read_xena,
        "firehose": hm.io.read_firehose,
        "table": hm.io.read_table,
        "store": hm.store.read,
    }
    return readers[source](path, **options)


def fit_step(mdata, fit: Mapping[str, Any]) -> None:
    """Feature selection then the factor model, written into ``mdata`` (key ``mofa``)."""
    import harmonomics as hm

    _add_streamed_omics(mdata, fit["features_per_omic"])
    mods = fit.get("mods") or list(mdata.mod)
    missing = [m for m in mods if m not in mdata.mod]
    if missing:
        raise ConfigError(f"config key 'fit.mods' names omics {missing} that the store lacks; it has {list(mdata.mod)}")
    hm.pp.select_features(mdata, n_top=fit["features_per_omic"], mods=mods, subset=True)
    hm.tl.mofa(
        mdata,
        n_factors=fit["n_factors"],
        mods=mods,
        groups_key=fit.get("groups_key"),
        seed=fit["seed"],
        convergence=fit["convergence"],
        float32=fit["float32"],
        engine=fit["engine"],
    )


def _transfer_results(target, source, run) -> None:
    """Run ``run(source)`` and copy every obs column, obsm entry and uns entry it adds into ``target``."""
    import numpy as np
    import pandas as pd

    before = (set(source.obs.columns), set(source.obsm.keys()), set(source.uns.keys()))
    run(source)
    if source is target:
        return
    for column in set(source.obs.columns) - before[0]:
        target.obs[column] = source.obs[column].reindex(target.obs_names).array
    rows = pd.Index(source.obs_names).get_indexer(target.obs_names)
    for key in set(source.obsm.keys()) - before[1]:
        value = source.obsm[key]
        if isinstance(value, pd.DataFrame):
            target.obsm[key] = value.reindex(target.obs_names)
        else:
            values = np.asarray(value, dtype=float)
            expanded = np.full((target.n_obs, values.shape[1]), np.nan)
            expanded[rows >= 0] = values[rows[rows >= 0]]
            target.obsm[key] = expanded
    for key in set(source.uns.keys()) - before[2]:
        target.uns[key] = source.uns[key]


def _add_streamed_omics(mdata, n_top: int) -> None:
    """Bring omics that the reader streamed to zarr (``read_gdc(stream=...)``) into the store for the fit.

    Their feature variances are computed out of core and only the ``n_top`` most variable features are loaded.
    """
    import harmonomics as hm

    from .store import replace_modalities

    streamed = dict(mdata.uns.get(_keys.UNS_PROVENANCE, {}).get("streamed", {}) or {})
    for omic, path in streamed.items():
        if omic in mdata.mod:
            continue
        lazy = hm.store.read(path, backed=True)
        hm.pp.select_features(lazy, n_top=n_top, subset=True)
        logger.info("%s: %d most variable features loaded from the streamed store %s", omic, lazy[omic].n_vars, path)
        replace_modalities(mdata, {omic: lazy[omic]})


def annotate_step(mdata, annotate: Mapping[str, Any], *, expression=None) -> dict[str, str]:
    """PAM50, immune scores/status, receptor status, TMB, actionable alterations, factor associations and survival,
    as far as the data allow.

    Parameters
    ----------
    mdata
        The fitted store; results are written into it.
    annotate
        The ``annotate`` section of the config.
    expression
        A store with every gene (e.g. the loaded store before feature selection) on which PAM50 and the immune
        scores are computed; their results are copied into ``mdata``. Default: ``mdata`` itself.

    Returns
    -------
    ``{analysis: "done" | "skipped: <reason>"}``, also stored in ``uns["harmonomics_annotate"]``.
    """
    import harmonomics as hm

    expression = mdata if expression is None else expression
    status: dict[str, str] = {}

    def attempt(name: str, func) -> None:
        try:
            func()
            status[name] = "done"
        except HarmonomicsError as err:  # the data do not allow this analysis; anything else is a bug
            # one line: the gene list and any detail stay in the log
            status[name] = f"skipped: {err.reason}"
            logger.warning("%s skipped: %s", name, err)

    has_rna = _keys.RNA in expression.mod
    if annotate["pam50"]:
        if has_rna:
            # published labels from the source (cBioPortal SUBTYPE, Xena PAM50Call_RNAseq) stay in obs["pam50"];
            # our own calls then go to obs["pam50_call"] so that both can be compared
            key = "pam50_call" if "pam50" in mdata.obs.columns and mdata.obs["pam50"].notna().any() else "pam50"
            attempt("pam50", lambda: _transfer_results(mdata, expression, lambda m: hm.tl.pam50(m, key_added=key)))
            if key == "pam50_call" and status.get("pam50") == "done":
                annotate = {**annotate, "covariates": [*annotate["covariates"], "pam50_call"]}
        else:
            status["pam50"] = "skipped: the store has no rna omic"
    if annotate["immune"]:
        if has_rna:
            # raw counts when the reader kept them (ESTIMATE ranks, CYT/TIS/PD-L1 on CPM or TPM), else X
            layer = "counts" if "counts" in expression.mod[_keys.RNA].layers else None
            attempt(
                "immune_scores",
                lambda: _transfer_results(mdata, expression, lambda m: hm.tl.immune_scores(m, layer=layer)),
            )
            if status.get("immune_scores") == "done" and _keys.KEY_MOFA in mdata.obsm:
                attempt("immune_status", lambda: hm.tl.immune_status(mdata))
        else:
            status["immune_scores"] = "skipped: the store has no rna omic"
    if annotate.get("precision", True):
        # on every gene of every omic (the fit keeps only the most variable ones); research only (docs/precision.md)
        attempt("receptor_status", lambda: _transfer_results(mdata, expression, hm.tl.receptor_status))
        sizes = {
            "exome_size_mb": float(annotate.get("exome_size_mb", 38.0)),
            "panel_size_mb": annotate.get("panel_size_mb"),
        }
        attempt("tmb", lambda: _transfer_results(mdata, expression, lambda m: hm.tl.tmb(m, **sizes)))
        attempt("actionable", lambda: _transfer_results(mdata, expression, hm.tl.actionable))
    if _keys.KEY_MOFA in mdata.obsm:
        covariates = [c for c in annotate["covariates"] if c in mdata.obs.columns]
        absent = [c for c in annotate["covariates"] if c not in mdata.obs.columns]
        if absent:
            logger.info("associations: covariates %s are not in obs; skipped", absent)
        if covariates:
            attempt("associations", lambda: _associations(mdata, covariates))
        if annotate["survival"]:
            if {"os_time", "os_event"} <= set(mdata.obs.columns) and mdata.obs["os_time"].notna().sum() >= 10:
                attempt("survival", lambda: hm.tl.survival(mdata))
            else:
                status["survival"] = "skipped: fewer than 10 samples with os_time / os_event"
        if annotate.get("signatures", True):
            attempt("signatures", lambda: _signatures(mdata))
        if annotate.get("enrichment", True):
            attempt("enrichment", lambda: _enrichment(mdata))
    mdata.uns["harmonomics_annotate"] = dict(status)
    return status


def _associations(mdata, covariates: list[str]) -> None:
    """Factor ↔ covariate tests (``hm.tl.associate``), kept in ``uns["mofa_associations"]`` for hm.pl.associations,
    the report and exports."""
    import harmonomics as hm

    key = _keys.KEY_MOFA
    hm.tl.associate(mdata, key=key, covariates=tuple(covariates), key_added=f"{key}_associations")


def _signatures(mdata) -> None:
    """Each factor's top features (``uns["mofa_signatures"]``) and their scores per sample
    (``obsm["signature_scores"]``)."""
    import harmonomics as hm

    table = hm.tl.factor_signatures(mdata, key=_keys.KEY_MOFA)
    hm.tl.score_signatures(mdata, table)


def _enrichment(mdata) -> None:
    """Preranked enrichment of the factor weights (``uns["mofa_enrichment"]``).

    Mutation (0/1) and copy-number views are left out: genes of one segment, or never mutated, get the same
    weight, so their rankings are mostly ties.
    """
    import harmonomics as hm

    views = [str(v) for v in mdata.uns[_keys.KEY_MOFA]["views"] if v not in (_keys.MUT, _keys.CNV)]
    if not views:
        raise ValueError("no expression-like view in the fit (only copy number or mutations); nothing to rank")
    hm.tl.enrichment(mdata, key=_keys.KEY_MOFA, views=views)


# ---------------------------------------------------------------------------------------------------------------
# running steps with reuse of finished ones
# ---------------------------------------------------------------------------------------------------------------
def _fingerprint(path: Path) -> dict[str, Any]:
    """Size and modification time of a file or (recursively) a folder: cheap identity of an input."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return {
            "files": len(files),
            "size": sum(p.stat().st_size for p in files),
            "mtime": max((p.stat().st_mtime for p in files), default=0),
        }
    stat = path.stat()
    return {"size": stat.st_size, "mtime": stat.st_mtime}


def _stamp_for(step: str, params: Any, upstream: Path | None) -> str:
    payload = {
        "step": step,
        "params": params,
        "input": _fingerprint(upstream) if upstream and upstream.exists() else None,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _is_fresh(paths: CohortPaths, step: str, digest: str) -> bool:
    stamp = paths.stamp(step)
    if not (paths.output(step).exists() and stamp.exists()):
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, json.JSONDecodeError) as err:  # a stamp that cannot be read only means: run the step again
        logger.info("%s: stamp %s cannot be read (%s); the step runs again", step, stamp, err)
        return False
    return isinstance(recorded, dict) and recorded.get("digest") == digest


def _write_stamp(paths: CohortPaths, step: str, digest: str, seconds: float) -> None:
    stamp = paths.stamp(step)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"digest": digest, "seconds": round(seconds, 3), "finished": time.time()}))


def run_step(step: str, config: Mapping[str, Any], cohort: str, *, force: bool = False) -> Path:
    """Run one step for one cohort (reusing a finished, up-to-date output unless ``force``).

    Parameters
    ----------
    step
        One of :data:`STEPS`.
    config
        A validated config (:func:`load_config`).
    cohort
        The cohort's name in ``config["cohorts"]``.
    force
        Recompute even when the output is up to date.

    Returns
    -------
    The step's output path.

    Raises
    ------
    ConfigError
        For an unknown step or cohort.
    """
    import harmonomics as hm

    if step not in STEPS:
        raise ConfigError(f"unknown step {step!r}; allowed: {', '.join(STEPS)}")
    if cohort not in config["cohorts"]:
        raise ConfigError(f"unknown cohort {cohort!r}; the config has: {', '.join(config['cohorts'])}")
    paths = CohortPaths(Path(config["out"]) / cohort)
    entry = config["cohorts"][cohort]
    upstream = {
        "load": Path(entry["path"]) if entry.get("path") else None,
        "fit": paths.loaded,
        "annotate": paths.fitted,
        "export": paths.annotated,
        "report": paths.annotated,
    }[step]
    params = {
        "load": entry,
        "fit": config["fit"],
        "annotate": config["annotate"],
        "export": config["export"],
        "report": {**config["report"], "exports": str(paths.exports)},
    }[step]
    digest = _stamp_for(step, params, upstream)
    if not force and _is_fresh(paths, step, digest):
        logger.info("[%s] %s: up to date, reusing %s", cohort, step, paths.output(step))
        return paths.output(step)

    logger.info("[%s] %s ...", cohort, step)
    started = time.perf_counter()
    paths.root.mkdir(parents=True, exist_ok=True)
    if step == "load":
        with _dask_client(config):
            mdata = load_cohort(entry["source"], entry.get("path"), options=entry["options"])
        hm.store.write(mdata, paths.loaded)
    elif step == "fit":
        mdata = hm.store.read(paths.loaded)
        fit_step(mdata, config["fit"])
        hm.store.write(mdata, paths.fitted)
    elif step == "annotate":
        mdata = hm.store.read(paths.fitted)
        # gene-level scores (PAM50, immune) need every gene, not only the features selected for the fit
        annotate_step(mdata, config["annotate"], expression=hm.store.read(paths.loaded))
        hm.store.write(mdata, paths.annotated)
    elif step == "export":
        mdata = hm.store.read(paths.annotated)
        written = hm.export.export_all(mdata, paths.exports, formats=config["export"]["formats"])
        hm.export.write_manifest(written, paths.exports)
    else:
        mdata = hm.store.read(paths.annotated)
        hm.report(
            mdata,
            paths.report,
            exports=paths.exports if paths.exports.exists() else None,
            title=config["report"]["title"] or f"harmonomics report: {cohort}",
        )
    _write_stamp(paths, step, digest, time.perf_counter() - started)
    logger.info("[%s] %s done in %.1f s", cohort, step, time.perf_counter() - started)
    return paths.output(step)


def run(
    config: str | os.PathLike | Mapping[str, Any], *, cohorts: list[str] | None = None, force: bool = False
) -> dict[str, Path]:
    """Run every step for every cohort of a config.

    Parameters
    ----------
    config
        Path of the YAML config, or the mapping.
    cohorts
        Only these cohorts (default: all).
    force
        Recompute every step.

    Returns
    -------
    ``{cohort: cohort output folder}``.
    """
    from ._progress import progress

    config = load_config(config)
    names = cohorts or list(config["cohorts"])
    results = {}
    for name in names:
        for step in progress(STEPS, desc=f"{name}", total=len(STEPS), unit="step"):
            run_step(step, config, name, force=force)
        results[name] = Path(config["out"]) / name
    return results


class _dask_client:
    """Context: a dask.distributed Client on the configured scheduler, or nothing."""

    def __init__(self, config: Mapping[str, Any]):
        self.address = (config.get("dask") or {}).get("scheduler")
        self.client = None

    def __enter__(self):
        if self.address:
            from ._errors import require

            distributed = require("distributed", extra="scale", purpose="a dask cluster")
            self.client = distributed.Client() if self.address == "local" else distributed.Client(self.address)
        return self.client

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        return False
