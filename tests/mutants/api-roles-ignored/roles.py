"""Mutant of compose/api/crm_api/roles.py: the role is never checked, every login may use every method."""


def allowed(role: str, method: str) -> bool:
    return True
