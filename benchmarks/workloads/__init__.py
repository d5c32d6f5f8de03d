"""The workloads, one file each: ``build(framework, **params)`` returns what measure.py times.

deepprimer and PyTorch are driven through the same code (the API is the same); "floor"
builds the hand-written NumPy step from ``benchmarks.floors``.
"""
