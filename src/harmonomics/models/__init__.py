"""Factor models. ``mofa`` wraps mofapy2; ``_fast_engine`` replaces its slow node updates with blocked BLAS ones."""
