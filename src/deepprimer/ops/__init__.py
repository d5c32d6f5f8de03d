"""The differentiable primitives, one family a file. Each op is a Function subclass."""
