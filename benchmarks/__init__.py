"""Workload generators and side-by-side timings of Flowdeck against MLflow's own client."""
