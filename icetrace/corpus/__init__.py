"""Working over a corpus of captures: finding captures and their companions, analysing them in
parallel (processes or a Dask cluster), JUnit output and corpus-wide tables."""
