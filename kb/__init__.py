"""A knowledge base of case studies in modernised drug law enforcement."""

__version__ = "0.1.0"
