"""Scenario generation for RADAR and point-cloud multiple-object tracking."""
