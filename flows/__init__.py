"""Prefect flows: thin wrappers over the pipeline's plain functions."""

from baolaocai import interrupts

# Every process that runs one of these flows (a command, the flow-run processes of
# ``serve`` and of pool workers) delivers again a signal lost where Python cannot raise.
interrupts.keep_lost_signals()
