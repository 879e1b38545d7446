"""Classes: a teacher watches every joined learner's run (docs/teaching.md)."""
