"""The evaluation engine: `evaluate()` is the only code that computes a score."""

from socialcredit.engine.data import EngineData, Inputs
from socialcredit.engine.evaluate import dependencies, evaluate
from socialcredit.engine.explain import Explanation, explain
from socialcredit.engine.outcome import Outcome

__all__ = ["EngineData", "Explanation", "Inputs", "Outcome", "dependencies", "evaluate", "explain"]
