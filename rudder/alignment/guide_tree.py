"""Guide trees for progressive alignment: distances, UPGMA and neighbor joining.

A :class:`GuideTree` is a rooted binary tree given by its merge order, in the
convention of ``scipy.cluster.hierarchy.linkage``: leaves are 0..n-1 and the k-th merge
creates node n+k. Aligning the profiles in merge order is a valid bottom-up order.

Both methods are implemented here with ties broken by index (the pair with the
smallest ``(i, j)`` in row-major order of the active nodes wins), so the trees are
deterministic.

For many sequences, :func:`kmer_guide_tree` builds a tree without the n^2 pairwise
alignments: each sequence becomes its vector of k-mer frequencies, the vectors are split
in two by 2-means recursively (as Clustal Omega's mBed splits its embedding), and groups
of at most ``leaf_size`` sequences get an exact UPGMA tree on their k-mer distances. Its
cost is about ``n log n`` vector operations.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["GuideTree", "distances_from_scores", "kmer_frequencies", "kmer_guide_tree", "neighbor_joining", "upgma"]

#: Guards the division in :func:`distances_from_scores`.
TINY = 1e-12


@dataclasses.dataclass(frozen=True, eq=False)
class GuideTree:
    """A rooted binary tree as a merge order.

    Attributes:
        num_leaves: n, the number of sequences.
        merges: shape (n-1, 2), int64: merge k joins the nodes ``merges[k]`` (left,
            right) into node ``n + k``; leaves are 0..n-1.
        branch_lengths: shape (n-1, 2), float64, >= 0: the lengths of the left and
            right branches of each merge.
    """

    num_leaves: int
    merges: np.ndarray
    branch_lengths: np.ndarray

    def __post_init__(self) -> None:
        num_leaves = int(self.num_leaves)
        if num_leaves < 1:
            raise ValueError(f"`num_leaves` must be at least 1, got {self.num_leaves}")
        merges = np.array(self.merges, dtype=np.int64).reshape(-1, 2)
        lengths = np.array(self.branch_lengths, dtype=np.float64).reshape(-1, 2)
        if merges.shape[0] != num_leaves - 1 or lengths.shape != merges.shape:
            raise ValueError(
                f"a tree with {num_leaves} leaves needs {num_leaves - 1} merges and branch "
                f"lengths, got shapes {merges.shape} and {lengths.shape}"
            )
        used = np.zeros(2 * num_leaves - 1, dtype=bool)
        for k, (left, right) in enumerate(merges):
            for node in (left, right):
                if not 0 <= node < num_leaves + k or used[node]:
                    raise ValueError(
                        f"merge {k} = ({left}, {right}) is invalid: node {node} does not exist yet "
                        "or was already merged"
                    )
                used[node] = True
        merges.setflags(write=False)
        lengths.setflags(write=False)
        object.__setattr__(self, "num_leaves", num_leaves)
        object.__setattr__(self, "merges", merges)
        object.__setattr__(self, "branch_lengths", lengths)

    @property
    def root(self) -> int:
        """The id of the root node (the leaf 0 when there is one leaf)."""
        return 2 * self.num_leaves - 2

    def leaf_sets(self) -> list[frozenset[int]]:
        """The leaves under every node, indexed by node id (length 2n-1)."""
        sets: list[frozenset[int]] = [frozenset([leaf]) for leaf in range(self.num_leaves)]
        for left, right in self.merges:
            sets.append(sets[left] | sets[right])
        return sets

    def splits(self) -> set[frozenset[int]]:
        """The non-trivial bipartitions of the unrooted tree.

        Each split is given by the side that does not contain leaf 0; splits with one
        leaf on either side are left out. Two trees have the same unrooted topology
        exactly when their splits are equal.
        """
        everything = frozenset(range(self.num_leaves))
        result = set()
        for leaves in self.leaf_sets()[self.num_leaves :]:
            side = leaves if 0 not in leaves else everything - leaves
            if 1 < len(side) < self.num_leaves - 1:
                result.add(side)
        return result

    def leaf_order(self) -> list[int]:
        """The leaves from left to right."""
        children = {self.num_leaves + k: (int(a), int(b)) for k, (a, b) in enumerate(self.merges)}
        order: list[int] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            if node < self.num_leaves:
                order.append(node)
            else:
                left, right = children[node]
                stack.append(right)
                stack.append(left)
        return order


def _check_distances(distances: np.ndarray) -> np.ndarray:
    matrix = np.array(distances, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise ValueError(
            f"`distances` must be a non-empty square (n, n) matrix, got shape {matrix.shape}"
        )
    if not np.all(np.isfinite(matrix)):
        raise ValueError("`distances` has non-finite entries; distances must be finite")
    if not np.allclose(matrix, matrix.T, rtol=1e-9, atol=1e-12):
        raise ValueError("`distances` must be symmetric; symmetrise it, e.g. (d + d.T) / 2")
    matrix = (matrix + matrix.T) / 2.0
    np.fill_diagonal(matrix, 0.0)
    return matrix


def distances_from_scores(scores: np.ndarray) -> np.ndarray:
    """Converts pairwise alignment scores to distances.

    ``d_ij = 1 - s_ij / max(min(s_ii, s_jj), tiny)``, clipped to ``>= 0``, with a zero
    diagonal: 0 for two copies of the shorter-scoring sequence, 1 when the alignment
    scores nothing, more than 1 when it scores negatively. A pair involving a sequence
    whose self score is not positive (an empty sequence, or only events that score
    <= 0 with themselves) gets distance 1 ("unrelated") instead of the huge value
    the tiny denominator would give.

    Args:
        scores: shape (n, n), symmetric, from :func:`~rudder.alignment.pairwise_scores`.

    Returns:
        shape (n, n), float64, symmetric, >= 0, zero diagonal.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1]:
        raise ValueError(f"`scores` must be a square (n, n) matrix, got shape {scores.shape}")
    self_scores = np.diag(scores)
    denominator = np.minimum.outer(self_scores, self_scores)
    distances = 1.0 - scores / np.maximum(denominator, TINY)
    distances = np.where(denominator > 0, distances, 1.0)
    distances = np.maximum(distances, 0.0)
    distances = (distances + distances.T) / 2.0
    np.fill_diagonal(distances, 0.0)
    return distances


def _first_minimum(values: np.ndarray) -> tuple[int, int]:
    """The (row, column) of the first minimum in row-major order."""
    flat = int(np.argmin(values))
    return divmod(flat, values.shape[1])


def upgma(distances: np.ndarray) -> GuideTree:
    """UPGMA (average linkage) tree.

    Repeatedly joins the two closest clusters; the distance of the new cluster to
    another is the size-weighted mean of its parts' distances. Each merge sits at half
    the joining distance, and branch lengths are height differences. Ties go to the
    pair of active clusters with the smallest ``(i, j)``, clusters ordered by node id.
    The result equals ``scipy.cluster.hierarchy.linkage(method="average")`` up to
    the order of equal-height merges.

    Args:
        distances: shape (n, n), symmetric, finite.

    Returns:
        The tree (no merges for n = 1).
    """
    matrix = _check_distances(distances)
    count = matrix.shape[0]
    size = 2 * count - 1
    full = np.full((size, size), np.inf)
    full[:count, :count] = matrix
    np.fill_diagonal(full, np.inf)
    active = np.zeros(size, dtype=bool)
    active[:count] = True
    sizes = np.zeros(size, dtype=np.float64)
    sizes[:count] = 1.0
    heights = np.zeros(size, dtype=np.float64)
    merges = np.zeros((count - 1, 2), dtype=np.int64)
    lengths = np.zeros((count - 1, 2), dtype=np.float64)
    for k in range(count - 1):
        nodes = np.flatnonzero(active)
        sub = full[np.ix_(nodes, nodes)]
        row, column = _first_minimum(sub)
        left, right = int(nodes[row]), int(nodes[column])
        new = count + k
        height = full[left, right] / 2.0
        merges[k] = (left, right)
        lengths[k] = (max(height - heights[left], 0.0), max(height - heights[right], 0.0))
        heights[new] = height
        sizes[new] = sizes[left] + sizes[right]
        combined = (sizes[left] * full[left] + sizes[right] * full[right]) / sizes[new]
        active[left] = active[right] = False
        combined[~active] = np.inf
        combined[new] = np.inf
        full[new] = combined
        full[:, new] = combined
        active[new] = True
    return GuideTree(num_leaves=count, merges=merges, branch_lengths=lengths)


def neighbor_joining(distances: np.ndarray) -> GuideTree:
    """Neighbor-joining tree (Saitou and Nei), rooted on its last edge.

    With r active nodes, joins the pair minimising
    ``Q_ij = (r - 2) d_ij - R_i - R_j`` (``R`` = row sums over active nodes; ties go
    to the smallest ``(i, j)``), places the new node u at
    ``d_iu = d_ij / 2 + (R_i - R_j) / (2 (r - 2))`` from i, and sets
    ``d_uk = (d_ik + d_jk - d_ij) / 2``. NJ trees are unrooted; this tree is rooted on
    the edge joining the last two nodes, with the root at its midpoint. Negative
    branch lengths (possible for non-additive distances) are clipped to 0.

    Args:
        distances: shape (n, n), symmetric, finite.

    Returns:
        The tree (no merges for n = 1; one merge for n = 2).
    """
    matrix = _check_distances(distances)
    count = matrix.shape[0]
    size = 2 * count - 1
    full = np.zeros((size, size))
    full[:count, :count] = matrix
    active = np.zeros(size, dtype=bool)
    active[:count] = True
    merges = np.zeros((count - 1, 2), dtype=np.int64)
    lengths = np.zeros((count - 1, 2), dtype=np.float64)
    for k in range(count - 1):
        nodes = np.flatnonzero(active)
        remaining = nodes.size
        sub = full[np.ix_(nodes, nodes)]
        new = count + k
        if remaining == 2:
            left, right = int(nodes[0]), int(nodes[1])
            half = max(sub[0, 1], 0.0) / 2.0
            merges[k] = (left, right)
            lengths[k] = (half, half)
            break
        totals = sub.sum(axis=1)
        criterion = (remaining - 2) * sub - totals[:, None] - totals[None, :]
        np.fill_diagonal(criterion, np.inf)
        row, column = _first_minimum(criterion)
        left, right = int(nodes[row]), int(nodes[column])
        joining = sub[row, column]
        to_left = joining / 2.0 + (totals[row] - totals[column]) / (2.0 * (remaining - 2))
        to_right = joining - to_left
        merges[k] = (left, right)
        lengths[k] = (max(to_left, 0.0), max(to_right, 0.0))
        updated = (full[left] + full[right] - joining) / 2.0
        active[left] = active[right] = False
        updated[~active] = 0.0
        full[new] = updated
        full[:, new] = updated
        full[new, new] = 0.0
        active[new] = True
    return GuideTree(num_leaves=count, merges=merges, branch_lengths=lengths)


#: The most k-mer buckets of :func:`kmer_frequencies` (k-mers are hashed into them).
KMER_BUCKETS = 512


def kmer_frequencies(sequences: list[np.ndarray], num_events: int, *, k: int = 2) -> np.ndarray:
    """The k-mer frequency vector of every sequence.

    A k-mer ``(e_1, ..., e_k)`` counts in bucket ``(sum_i e_i N^(i-1)) mod B`` with
    ``B = min(N^k, KMER_BUCKETS)`` (exact k-mers when they fit). A sequence shorter than
    k counts its events as 1-mers instead.

    Args:
        sequences: n int64 arrays of event ids in ``[0, N)``.
        num_events: N.
        k: the k-mer length (>= 1).

    Returns:
        shape (n, B), float64: each row sums to 1 (0 for an empty sequence).
    """
    if k < 1:
        raise ValueError(f"`k` must be >= 1, got {k}")
    buckets = int(min(num_events**k, KMER_BUCKETS))
    owners, codes = [], []
    for index, sequence in enumerate(sequences):
        size = k if sequence.size >= k else 1
        code = np.zeros(max(sequence.size - size + 1, 0), dtype=np.int64)
        for offset in range(size):
            code = (code * num_events + sequence[offset : sequence.size - size + 1 + offset]) % buckets
        codes.append(code)
        owners.append(np.full(code.size, index, dtype=np.int64))
    flat = np.concatenate(owners) * buckets + np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
    counts = np.bincount(flat, minlength=len(sequences) * buckets).reshape(len(sequences), buckets).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return counts / np.maximum(totals, 1.0)


def _two_means(points: np.ndarray, *, iterations: int = 12) -> np.ndarray:
    """A deterministic 2-means split of ``points`` (m, D), m >= 2: the boolean side of each."""
    centre = points.mean(axis=0)
    first = points[int(np.argmax(((points - centre) ** 2).sum(axis=1)))]
    second = points[int(np.argmax(((points - first) ** 2).sum(axis=1)))]
    side = np.zeros(points.shape[0], dtype=bool)
    for _ in range(iterations):
        new = ((points - second) ** 2).sum(axis=1) < ((points - first) ** 2).sum(axis=1)
        if 0 < new.sum() < new.size:
            side = new
            first, second = points[~side].mean(axis=0), points[side].mean(axis=0)
        else:
            break
    smaller = min(int(side.sum()), side.size - int(side.sum()))
    if smaller < max(1, side.size // 10):
        # A lopsided (or no) split would make the tree deep: halves in order of the
        # projection on the line through the two centres (ties in index order).
        direction = second - first
        if not np.any(direction):
            direction = points[-1] - points[0]
        order = np.argsort(points @ direction, kind="stable")
        side = np.zeros(points.shape[0], dtype=bool)
        side[order[points.shape[0] // 2 :]] = True
    return side


def kmer_guide_tree(
    sequences: list[np.ndarray], num_events: int, *, k: int = 2, leaf_size: int = 16
) -> GuideTree:
    """A guide tree from k-mer frequencies, without pairwise alignments (see the module).

    Args:
        sequences: n int64 arrays of event ids in ``[0, N)``.
        num_events: N.
        k: the k-mer length.
        leaf_size: groups of at most this many sequences get an exact UPGMA tree on the
            Euclidean distances of their k-mer frequencies (>= 2).

    Returns:
        The tree; deterministic for given inputs.
    """
    if leaf_size < 2:
        raise ValueError(f"`leaf_size` must be >= 2, got {leaf_size}")
    count = len(sequences)
    if count == 0:
        raise ValueError("`sequences` is empty; pass at least one sequence")
    points = kmer_frequencies(sequences, num_events, k=k)
    merges: list[tuple[int, int]] = []
    lengths: list[tuple[float, float]] = []
    heights = np.zeros(2 * count - 1)

    def join(left: int, right: int, height: float) -> int:
        node = count + len(merges)
        height = max(height, heights[left], heights[right])
        merges.append((left, right))
        lengths.append((height - heights[left], height - heights[right]))
        heights[node] = height
        return node

    def small_tree(members: np.ndarray) -> int:
        if members.size == 1:
            return int(members[0])
        group = points[members]
        squares = (group**2).sum(axis=1)
        distances = np.sqrt(np.maximum(squares[:, None] + squares[None, :] - 2.0 * group @ group.T, 0.0))
        local = upgma((distances + distances.T) / 2.0)
        nodes = [int(member) for member in members]
        for (left, right), (to_left, _) in zip(local.merges, local.branch_lengths):
            height = heights[nodes[int(left)]] + to_left
            nodes.append(join(nodes[int(left)], nodes[int(right)], height))
        return nodes[-1]

    # Depth-first bisection; a group's node is joined once both halves have one, at half
    # the distance between the halves' centroids.
    stack: list[tuple[np.ndarray, float | None]] = [(np.arange(count), None)]
    built: list[int] = []
    while stack:
        members, height = stack.pop()
        if height is not None:
            right = built.pop()
            left = built.pop()
            built.append(join(left, right, height))
        elif members.size <= leaf_size:
            built.append(small_tree(members))
        else:
            group = points[members]
            side = _two_means(group)
            gap = float(np.linalg.norm(group[side].mean(axis=0) - group[~side].mean(axis=0)))
            stack.append((members, gap / 2.0))
            stack.append((members[side], None))
            stack.append((members[~side], None))
    return GuideTree(
        num_leaves=count,
        merges=np.asarray(merges, dtype=np.int64).reshape(-1, 2),
        branch_lengths=np.asarray(lengths, dtype=np.float64).reshape(-1, 2),
    )
