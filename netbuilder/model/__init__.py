"""The graph model: nodes, wires, events and the edits that change them."""
