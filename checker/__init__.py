"""Is this email setup supported by server-side synchronization? A rule checker
over the support matrix of Dynamics 365 customer engagement apps."""

from .engine import ConfigError, Finding, Problem, Verdict, evaluate, evaluate_json, load_matrix

__all__ = ["ConfigError", "Finding", "Problem", "Verdict", "evaluate", "evaluate_json", "load_matrix"]
__version__ = "1.0.0"
