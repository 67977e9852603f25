"""Tests of distances, UPGMA and neighbor joining."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform

from rudder.alignment import GuideTree, distances_from_scores, neighbor_joining, upgma


def test_distances_from_scores():
    scores = np.array(
        [[10.0, 5.0, -4.0, 0.0], [5.0, 8.0, 2.0, 0.0], [-4.0, 2.0, 4.0, 0.0], [0.0] * 4]
    )
    distances = distances_from_scores(scores)
    assert distances[0, 1] == pytest.approx(1 - 5 / 8)
    assert distances[1, 2] == pytest.approx(1 - 2 / 4)
    assert distances[0, 2] == pytest.approx(1 + 4 / 4)  # negative score: more than 1
    assert distances[0, 3] == 1.0  # empty sequence: unrelated
    np.testing.assert_array_equal(np.diag(distances), 0.0)
    np.testing.assert_array_equal(distances, distances.T)
    # a score above the smaller self score is clipped to distance 0
    assert distances_from_scores(np.array([[2.0, 3.0], [3.0, 5.0]]))[0, 1] == 0.0


def test_upgma_simple_case():
    distances = np.array(
        [[0, 2, 10, 10], [2, 0, 10, 10], [10, 10, 0, 4], [10, 10, 4, 0]], dtype=float
    )
    tree = upgma(distances)
    np.testing.assert_array_equal(tree.merges, [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_allclose(tree.branch_lengths, [[1, 1], [2, 2], [4, 3]])
    assert tree.root == 6
    assert tree.leaf_order() == [0, 1, 2, 3]


def test_upgma_average_linkage_update():
    # After joining 0 and 1 (d=2), d({0,1}, 2) = (6 + 8) / 2 = 7 < d(2, 3) = 9, so 2 joins
    # {0, 1} at height 3.5 (branches 3.5 - 1 = 2.5 and 3.5), then 3 joins at height 4.5.
    distances = np.array([[0, 2, 6, 9], [2, 0, 8, 9], [6, 8, 0, 9], [9, 9, 9, 0]], dtype=float)
    tree = upgma(distances)
    np.testing.assert_array_equal(tree.merges, [[0, 1], [2, 4], [3, 5]])
    np.testing.assert_allclose(tree.branch_lengths[1], [3.5, 2.5])


@pytest.mark.parametrize("seed", range(5))
def test_upgma_matches_scipy_average_linkage(seed):
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(12, 3))
    distances = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    tree = upgma(distances)
    reference = linkage(squareform(distances), method="average")
    ours = {}
    sets = tree.leaf_sets()
    node_height = np.zeros(2 * tree.num_leaves - 1)
    for k, (left, _) in enumerate(tree.merges):
        node_height[tree.num_leaves + k] = node_height[left] + tree.branch_lengths[k, 0]
        ours[sets[tree.num_leaves + k]] = 2 * node_height[tree.num_leaves + k]
    reference_sets: list[frozenset[int]] = [frozenset([i]) for i in range(12)]
    theirs = {}
    for left, right, height, _ in reference:
        merged = reference_sets[int(left)] | reference_sets[int(right)]
        reference_sets.append(merged)
        theirs[merged] = height
    assert ours.keys() == theirs.keys()
    for leaves, height in theirs.items():
        assert ours[leaves] == pytest.approx(height)


def additive_distances(edges: list[tuple[int, int, float]], num_leaves: int) -> np.ndarray:
    """Path lengths between the leaves 0..num_leaves-1 of a weighted tree."""
    neighbours: dict[int, list[tuple[int, float]]] = {}
    for a, b, length in edges:
        neighbours.setdefault(a, []).append((b, length))
        neighbours.setdefault(b, []).append((a, length))
    distances = np.zeros((num_leaves, num_leaves))
    for source in range(num_leaves):
        stack, seen = [(source, 0.0)], {source}
        while stack:
            node, length = stack.pop()
            if node < num_leaves:
                distances[source, node] = length
            for other, edge in neighbours[node]:
                if other not in seen:
                    seen.add(other)
                    stack.append((other, length + edge))
    return distances


def test_neighbor_joining_recovers_additive_tree():
    # Unrooted tree ((0,1),(2,(3,4)),5) via internal nodes 10..13; the branch to leaf 0
    # is long, so UPGMA's molecular-clock assumption would get the topology wrong.
    edges = [
        (0, 10, 5.0),
        (1, 10, 0.5),
        (10, 11, 1.0),
        (5, 11, 0.7),
        (11, 12, 0.8),
        (2, 12, 0.4),
        (12, 13, 0.6),
        (3, 13, 0.3),
        (4, 13, 0.9),
    ]
    distances = additive_distances(edges, 6)
    tree = neighbor_joining(distances)
    expected = {frozenset({2, 3, 4}), frozenset({3, 4}), frozenset({2, 3, 4, 5})}
    assert tree.splits() == expected
    assert np.all(tree.branch_lengths >= 0)
    assert upgma(distances).splits() != expected


@pytest.mark.parametrize("seed", range(5))
def test_neighbor_joining_random_additive_trees(seed):
    rng = np.random.default_rng(seed)
    num_leaves = 9
    # random binary tree by repeatedly joining two random nodes
    nodes, edges, splits, members = list(range(num_leaves)), [], set(), {}
    members.update({leaf: frozenset([leaf]) for leaf in range(num_leaves)})
    next_id = 100
    while len(nodes) > 2:
        a, b = sorted(rng.choice(len(nodes), 2, replace=False), reverse=True)
        left, right = nodes.pop(a), nodes.pop(b)
        edges += [(left, next_id, rng.uniform(0.1, 2)), (right, next_id, rng.uniform(0.1, 2))]
        members[next_id] = members[left] | members[right]
        nodes.append(next_id)
        next_id += 1
    edges.append((nodes[0], nodes[1], rng.uniform(0.1, 2)))
    everything = frozenset(range(num_leaves))
    for leaves in members.values():
        side = leaves if 0 not in leaves else everything - leaves
        if 1 < len(side) < num_leaves - 1:
            splits.add(side)
    tree = neighbor_joining(additive_distances(edges, num_leaves))
    assert tree.splits() == splits


def test_small_trees():
    for build in (upgma, neighbor_joining):
        single = build(np.zeros((1, 1)))
        assert single.num_leaves == 1 and single.merges.shape == (0, 2) and single.root == 0
        assert single.leaf_order() == [0]
        pair = build(np.array([[0.0, 3.0], [3.0, 0.0]]))
        np.testing.assert_array_equal(pair.merges, [[0, 1]])
        np.testing.assert_allclose(pair.branch_lengths, [[1.5, 1.5]])


def test_ties_broken_by_index():
    distances = np.ones((5, 5)) - np.eye(5)
    for build in (upgma, neighbor_joining):
        first, second = build(distances), build(distances)
        np.testing.assert_array_equal(first.merges, second.merges)
        np.testing.assert_array_equal(first.merges[0], [0, 1])


def test_invalid_inputs():
    with pytest.raises(ValueError, match="square"):
        upgma(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        neighbor_joining(np.array([[0.0, 1.0], [2.0, 0.0]]))
    with pytest.raises(ValueError, match="merges"):
        GuideTree(num_leaves=3, merges=np.array([[0, 1]]), branch_lengths=np.zeros((1, 2)))
    with pytest.raises(ValueError, match="invalid"):
        GuideTree(num_leaves=3, merges=np.array([[0, 1], [1, 2]]), branch_lengths=np.zeros((2, 2)))
