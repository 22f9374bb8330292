"""The paper's Sinkhorn diagnostics, ``hste bench sinkhorn``: five parts, one module each.

- :mod:`.patterns`: binary 3x3, 4x4 matrices where Sinkhorn never converges, by symmetry.
- :mod:`.plateaus`: zeros replaced by e, constraint-error plateaus of length ~ -log2(e) + 2.
- :mod:`.variable_length`: iterations needed to reach a tolerance (the cost side).
- :mod:`.vanishing_gradient`: softmax / Sinkhorn / HSTE gradient size as the temperature shrinks.
- :mod:`.landscapes`: which permutation (or argmax index) wins on a triangle of score matrices.

Every Sinkhorn and Hungarian call goes through :mod:`tracker.perm`. Shared pieces: :mod:`.config`
(dataclass settings, TOML), :mod:`.symmetry` (symmetry groups of binary matrices),
:mod:`.convergence` (constraint error after L iterations), :mod:`.figures` (style, atomic PNGs).
:mod:`.parts` runs the parts, :mod:`.report` writes the JSON and the markdown summary, :mod:`.cli`
is the click command.
"""
