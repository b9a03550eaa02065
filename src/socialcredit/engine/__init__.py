"""The evaluation engine: `evaluate()` is the only code that computes a score."""

from socialcredit.engine.data import EngineData, Inputs, PlanData
from socialcredit.engine.evaluate import dependencies, evaluate
from socialcredit.engine.explain import Explanation, explain
from socialcredit.engine.outcome import Outcome

__all__ = [
    "EngineData",
    "Explanation",
    "Inputs",
    "Outcome",
    "PlanData",
    "dependencies",
    "evaluate",
    "explain",
]
