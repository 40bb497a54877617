"""Provider simulators: real HTTP servers on 127.0.0.1, written from the providers' public docs."""

from local.simulators.base import Simulator
from local.simulators.comapi import ComapiSimulator
from local.simulators.govdelivery import GovdeliverySimulator
from local.simulators.usajobs import UsajobsSimulator
from local.simulators.wunderkind import WunderkindSimulator

# The local stack starts one of each, unless the provider's *_BASE_URL is set.
SIMULATORS: tuple[type[Simulator], ...] = (UsajobsSimulator, ComapiSimulator, GovdeliverySimulator, WunderkindSimulator)
