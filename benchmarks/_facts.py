"""Facts the benchmarks' baselines use, written out here rather than imported from harmonomics (each benchmark
checks them against the package's own constants before it times anything)."""

#: Protein-altering variant classes (FORMATS.md; harmonomics._mutations.PROTEIN_ALTERING).
PROTEIN_ALTERING = (
    "Missense_Mutation",
    "Nonsense_Mutation",
    "Frame_Shift_Del",
    "Frame_Shift_Ins",
    "In_Frame_Del",
    "In_Frame_Ins",
    "Splice_Site",
    "Translation_Start_Site",
    "Nonstop_Mutation",
)
