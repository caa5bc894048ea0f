"""Audit outputs: a run's results as an Excel workbook or CSV with every figure's provenance, an HTML
audit report, and receipts that let a run be replayed and checked.

The stages: ``layout`` (results as sheets of rows and columns) and ``provenance`` (where one figure
came from, from the explanation tree) feed the writers ``excel``, ``csvfile`` and ``report``;
``receipt`` records and verifies what a run read and produced.
"""
