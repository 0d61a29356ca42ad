"""Quality gates shared by every stage: the GX 1.x → Dagster asset-check adapter."""
