"""Detections: one daily-partitioned asset per detector family (structuring, funnel,
rapid_movement, crypto), each with its own gate, and the warehouse view over their alerts."""
