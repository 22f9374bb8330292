"""hste-track: multiple-object tracking with learned HSTE data association."""

__version__ = "0.1.0"
