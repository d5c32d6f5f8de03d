"""Hand-written NumPy training steps with manual gradients: the floor a NumPy framework can reach.

No graph, no objects per op, no checks: forward, backward by hand, the optimizer update
in place, all float32. Whatever a framework spends above these is its own overhead.
"""
