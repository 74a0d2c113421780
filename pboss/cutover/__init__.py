"""Cutover (资源割接): planned, announced, executed and reversible moves of riders between
resources (design.md §9: a plan over edges; execution re-checks after locking; rollback replays
the recorded before-state)."""
