"""The commands, one module per family; ``cli.app`` registers them in help order."""
