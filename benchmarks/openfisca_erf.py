"""The 2021/22 ERF rule (policies/2021_22/erf.plan) written as an OpenFisca tax and benefit system.

This is what an analyst choosing OpenFisca would write for the rule: one entity, ``system``, and
monthly variables in OpenFisca's default ``float`` (stored as float32), with the same formula as
the hand-written NumPy of bench_vector.py: thresholds from baseline x threshold x working-day
ratio - counting and coding adjustment, bands at 0%, 100% and 120%, the gateway as a mask. The
parameters are a ParameterNode built from a dict (a country package would read the same from
YAML). Needs the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.model_api import MONTH, Variable, max_, min_, where
from openfisca_core.parameters import ParameterNode
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem

__all__ = ["erf_system", "erf_simulation", "OUTPUT"]

OUTPUT = "erf_additional_funding"

System = build_entity(key="system", plural="systems", label="An integrated care system", is_person=True)

# OpenFisca reads a variable's attributes from its own class body (not a base class), so each
# variable states its type, entity and period.


class erf_baseline(Variable):
    value_type = float
    entity = System
    definition_period = MONTH
    label = "Value of the system's 2019/20 activity in the same month, at 2021/22 tariff prices"


class erf_actual(Variable):
    value_type = float
    entity = System
    definition_period = MONTH
    label = "Value of elective activity the system delivered in the month"


class erf_counting_coding_adjustment(Variable):
    value_type = float
    entity = System
    definition_period = MONTH
    label = "Adjustment to the thresholds for counting and coding changes"
    default_value = 0


class erf_gateway_met(Variable):
    value_type = bool
    entity = System
    definition_period = MONTH
    default_value = True
    label = "Whether the system met the ERF gateway criteria in the month"


def _threshold(system, period, share, erf):
    """Both thresholds: baseline x share x working-day ratio - counting and coding adjustment."""
    return (system("erf_baseline", period) * share * erf.working_day_adjustment
            - system("erf_counting_coding_adjustment", period))


class erf_lower_threshold(Variable):
    value_type = float
    entity = System
    definition_period = MONTH
    label = "Threshold value of activity above which ERF is paid"

    def formula(system, period, parameters):
        erf = parameters(period).erf
        return _threshold(system, period, erf.thresholds, erf)


class erf_upper_threshold(Variable):
    value_type = float
    entity = System
    definition_period = MONTH
    label = "Threshold value of activity at 85%, above which ERF pays 120% of tariff"

    def formula(system, period, parameters):
        erf = parameters(period).erf
        return _threshold(system, period, erf.funded_activity_pct, erf)


class erf_activity_between_thresholds(Variable):
    value_type = float
    entity = System
    definition_period = MONTH
    label = "Activity above the lower threshold but below the upper threshold"

    def formula(system, period, parameters):
        upper = system("erf_upper_threshold", period)
        return max_(0, min_(system("erf_actual", period), upper) - system("erf_lower_threshold", period))


class erf_activity_above_upper(Variable):
    value_type = float
    entity = System
    definition_period = MONTH
    label = "Activity above the upper threshold"

    def formula(system, period, parameters):
        return max_(0, system("erf_actual", period) - system("erf_upper_threshold", period))


class erf_additional_funding(Variable):
    value_type = float
    entity = System
    definition_period = MONTH
    label = "Additional ERF funding for the month"

    def formula(system, period, parameters):
        erf = parameters(period).erf
        earned = (system("erf_activity_between_thresholds", period) * erf.rate_between_thresholds
                  + system("erf_activity_above_upper", period) * erf.rate_above_upper)
        return where(system("erf_gateway_met", period), earned, 0)


def _values(by_month: dict[str, float]) -> dict:
    return {"values": {f"{month}-01": {"value": value} for month, value in by_month.items()}}


def erf_system(thresholds: dict[str, float], working_day_adjustments: dict[str, float], funded_activity: float,
               rate_between: float, rate_above: float) -> TaxBenefitSystem:
    """The rule's TaxBenefitSystem; ``thresholds`` and ``working_day_adjustments`` map a month ("2021-04") to a value."""
    system = TaxBenefitSystem([System])
    system.add_variables(erf_baseline, erf_actual, erf_counting_coding_adjustment, erf_gateway_met,
                         erf_lower_threshold, erf_upper_threshold, erf_activity_between_thresholds,
                         erf_activity_above_upper, erf_additional_funding)
    first = min(thresholds)
    system.parameters = ParameterNode("", data={"erf": {
        "thresholds": _values(thresholds),
        "working_day_adjustment": _values(working_day_adjustments),
        "funded_activity_pct": _values({first: funded_activity}),
        "rate_between_thresholds": _values({first: rate_between}),
        "rate_above_upper": _values({first: rate_above}),
    }})
    return system


def erf_simulation(system: TaxBenefitSystem, months: list[str], baseline: np.ndarray, actual: np.ndarray,
                   adjustment: np.ndarray, gateway: np.ndarray):
    """A simulation with one row per system and the inputs of every month set (arrays shaped months x systems)."""
    simulation = SimulationBuilder().build_default_simulation(system, count=baseline.shape[1])
    for k, month in enumerate(months):
        simulation.set_input("erf_baseline", month, baseline[k])
        simulation.set_input("erf_actual", month, actual[k])
        simulation.set_input("erf_counting_coding_adjustment", month, adjustment[k])
        simulation.set_input("erf_gateway_met", month, gateway[k])
    return simulation
