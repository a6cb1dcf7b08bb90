"""A graph turned into torch: the fx GraphModule and readable PyTorch source."""
