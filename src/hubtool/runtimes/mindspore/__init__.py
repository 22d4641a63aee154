"""MindSpore 2.x, the full framework, for MindIR and checkpoint assets (in a managed env of its own)."""
