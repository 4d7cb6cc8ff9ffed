"""Knowledge: embeddings, the vector store, hybrid retrieval, dates, answers and abstention."""

from knowledge.clock import Clock, FixedClock, SystemClock
from knowledge.types import Answer, Citation, Passage

__all__ = ["Answer", "Citation", "Clock", "FixedClock", "Passage", "SystemClock"]
