"""nexusfin: suspicious-transaction analytics for crime-terror nexus finance.

The library never imports dagster; the Dagster code location lives in ``pipelines/``.
"""

__version__ = "0.1.0"
