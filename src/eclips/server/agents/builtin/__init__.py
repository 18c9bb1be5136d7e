"""The agents that ship with EClips."""

from eclips.server.agents.base import Agent
from eclips.server.agents.builtin.ap_specialist import APSpecialist
from eclips.server.agents.builtin.center import Center
from eclips.server.agents.builtin.procurement import ProcurementSpecialist

BUILTIN_AGENTS: tuple[type[Agent], ...] = (Center, APSpecialist, ProcurementSpecialist)

__all__ = ["BUILTIN_AGENTS", "APSpecialist", "Center", "ProcurementSpecialist"]
