"""Assurance: what static analysis proves of a pack, where someone else's figures part from ours, and which
rule changes no test would catch.

    static      interval reasoning over the declared ranges and the parameters' values, period by period:
                bands whose thresholds can cross, branches that never run, conditions that never change,
                tapers floored above their base, parameter schedules with a hole, flags never raised;
                each finding checked on an example input by the exact engine (``planlang check``)
    register    the pack's ``assurance.toml``: explained findings, expected differences, equivalent mutants
    reconcile   expected figures (CSV, JSON, ``run --json``) against a run: where derivations part, and the
                one input or parameter value that reproduces the other figure (``planlang reconcile``)
    mutate      mutation testing of the rules against the pack's own tests (``planlang mutate``)

This package reads the compiled plan, runs it (:mod:`planlang.run`), explains (:mod:`planlang.explanation`)
and solves (:mod:`planlang.solve`); it formats its findings as data, and the command line prints them.
"""
