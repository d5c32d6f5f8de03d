"""Speed and memory of deepprimer against PyTorch eager and a hand-written NumPy floor."""
