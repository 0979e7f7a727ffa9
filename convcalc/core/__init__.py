"""The analytic core: standard library only, never torch, rich or typer."""
