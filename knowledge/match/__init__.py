"""Matching company profiles to opportunities: hard filters, a 0-1 score, checkable reasons.

Modules::

    types       Match, Reason
    filters     status on the day, eligible countries, organisation types, SME-only
    vocabulary  life-science concepts and funding types
    terms       normalised tokens, profile terms to phrases
    candidates  an opportunity prepared for matching (zones, sentences, TRL, vector ids)
    semantic    profile/opportunity cosine similarity in blocks
    scoring     the score and its scale
    feedback    score changes from feedback on similar opportunities
    reasons     reasons with the passages that support them
    matcher     Matcher: everything above over the database and the vector store
    rows        match(): the structured rows alone, for /calls
"""

from knowledge.match.feedback import FEEDBACK_VALUES
from knowledge.match.matcher import Matcher
from knowledge.match.rows import match
from knowledge.match.types import Match, Reason

__all__ = ["FEEDBACK_VALUES", "Match", "Matcher", "Reason", "match"]
