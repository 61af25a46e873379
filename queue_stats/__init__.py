"""The indicators a 12328 center is judged by, the monthly assessment and the reports."""
