"""Max-pool before the activation, for training: the same numbers with a fraction of the work.

``Conv → ReLU → MaxPool`` (the teaching text's CNN, VGG, AlexNet, most small CNNs) applies the
ReLU to every pixel and then keeps one in four. For a clamp ``f`` (ReLU, ReLU6, Hardtanh: monotone,
and flat exactly where its gradient is zero) ``maxpool(f(x)) == f(maxpool(x))`` holds bit for bit,
and so do the gradients: where both orders pick the same maximum they route the gradient alike, and
where ``f`` makes a tie (every value clamped to the same bound) the gradient through ``f`` is zero in
both. Moved after the pool, the ReLU's forward and backward touch a quarter of the pixels (for a 2×2
pool). On this project's 2-core CPU, ``benchmarks/bench_trainer_vs_loop.py --batch 32 --repeats 9``
measured the Trainer against the tutorial loop at 1.11x [0.88-1.28] before and 1.35x [1.01-1.77]
after (against the loop on resident tensors: 1.00x before, 1.41x after). torch's compilers make such
rewrites too, at a compile time a short run would not get back.

Only the Trainer's view of the model is reordered: :func:`pool_first` returns a new
``fx.GraphModule`` that *shares* every submodule (so every parameter, buffer and frozen flag) with
the model, whose own graph, code, ONNX export and generated PyTorch stay as the user drew them.
Strictly monotone activations (sigmoid, tanh, LeakyReLU) are left alone: in float two inputs can
round to one output, and the pooled gradient would then go to a different pixel.
"""

from __future__ import annotations

import copy

from torch import fx, nn

# Clamps: monotone, and constant (gradient zero) wherever two inputs can give one output.
CLAMPS = (nn.ReLU, nn.Hardtanh)  # nn.ReLU6 is a Hardtanh
MAX_POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d,
             nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
# (A max-pool's padding is -inf, which a clamp maps to its lower bound: never above a real value
# in the window, since torch keeps at least one real value in every window.)


def _module(gm: fx.GraphModule, node: fx.Node) -> nn.Module | None:
    return gm.get_submodule(node.target) if node.op == "call_module" else None


def _is_clamp(gm: fx.GraphModule, node: fx.Node) -> bool:
    return isinstance(_module(gm, node), CLAMPS) and len(node.args) == 1 and not node.kwargs


def _is_max_pool(gm: fx.GraphModule, node: fx.Node) -> bool:
    pool = _module(gm, node)
    return isinstance(pool, MAX_POOLS) and not pool.return_indices and len(node.args) == 1 and not node.kwargs


def pool_first(module: nn.Module) -> tuple[nn.Module, int]:
    """``(the module to train, how many clamp/pool pairs were swapped)``; ``module`` itself when
    there is nothing to swap (or it is not an fx graph)."""
    if not isinstance(module, fx.GraphModule):
        return module, 0
    pairs = [(node, pool) for node in module.graph.nodes if _is_clamp(module, node) and len(node.users) == 1
             for pool in node.users if _is_max_pool(module, pool)]
    if not pairs:
        return module, 0
    graph = copy.deepcopy(module.graph)
    nodes = {node.name: node for node in graph.nodes}
    for clamp_old, pool_old in pairs:
        clamp, pool = nodes[clamp_old.name], nodes[pool_old.name]
        source = clamp.args[0]
        users = list(pool.users)
        pool.args = (source,)
        clamp.args = (pool,)
        pool.append(clamp)  # the clamp now follows the pool in the code
        for user in users:
            user.replace_input_with(pool, clamp)
    graph.lint()
    # GraphModule(root, graph) takes the submodules the graph names from root by reference.
    fast = fx.GraphModule(module, graph, class_name=type(module).__name__)
    fast.train(module.training)
    return fast, len(pairs)


def same_parameters(a: nn.Module, b: nn.Module) -> bool:
    """Whether ``a`` and ``b`` hold the very same parameters and buffers (training ``b`` trains ``a``)."""
    ours = dict(a.named_parameters()) | dict(a.named_buffers())
    theirs = dict(b.named_parameters()) | dict(b.named_buffers())
    return ours.keys() == theirs.keys() and all(ours[k] is theirs[k] for k in ours)


