"""Verification: citations (the only place a Citation is built), the support judge, and the attribution and tense rules claims must keep."""
