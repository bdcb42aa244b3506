"""Certainty of evidence: risk of bias (RoB 2), GRADE, Summary of Findings, PRISMA 2020."""
