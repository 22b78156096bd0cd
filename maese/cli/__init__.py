"""Console scripts (see ``entry_points`` in setup.py): maese-enhance, maese-score, maese-report."""
