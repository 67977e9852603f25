"""A benchmark's summary: rows from runs, the markdown table, and the pictures.

Runs are grouped into cells by the benchmark's ``group_by`` fields (for example env,
method and number of demonstrations); each metric of a cell is summarised by its median
and quartiles and by its interquartile mean with a 95% bootstrap interval. Where the
runs compare Align-RUDDER with other methods, the table is followed by the probability of
improvement of Align-RUDDER over each of them (rliable's P(X > Y), ties counting half,
averaged over the tasks: the cells that differ only in method), with a 95% stratified
bootstrap interval. The pictures draw the interquartile mean and its 95% interval.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rudder.experiments.statistics import (
    interquartile_mean_curve,
    probability_of_improvement,
    probability_of_improvement_interval,
    summarise_values,
)

__all__ = [
    "IMPROVING_METHOD",
    "Metric",
    "bar_chart",
    "improvement_table",
    "learning_curves",
    "line_chart",
    "markdown_table",
    "summary_rows",
]

IMPROVING_METHOD = "align-rudder"
"""The method whose probability of improvement over the others the tables report."""

_LOWER_IS_BETTER_WORDS = ("episodes", "steps to", "(s)", "(us)", "time", "seconds")


@dataclasses.dataclass(frozen=True)
class Metric:
    """One number per run that a benchmark reports.

    Attributes:
        name: its key in the rows and its column title.
        value: reads it from a run's record (``None``: the metric does not apply to
            that run, which then does not count in it).
        decimals: decimals in the table.
        full: the table shows median (quartiles) and IQM [95% CI]; otherwise only the
            mean over the runs (for secondary numbers, such as the earlier items of a chain).
        higher_is_better: which way is better, for the probability of improvement; None
            infers it from the name: episodes, steps to a target, seconds and times are
            better lower, everything else (success, items, speed) higher.
    """

    name: str
    value: Callable[[Mapping[str, Any]], float | None]
    decimals: int = 0
    full: bool = True
    higher_is_better: bool | None = None

    @property
    def better_higher(self) -> bool:
        """Whether a larger value is better (``higher_is_better``, or inferred from the name)."""
        if self.higher_is_better is not None:
            return self.higher_is_better
        return not any(word in self.name.lower() for word in _LOWER_IS_BETTER_WORDS)


def _cells(runs: Sequence[Mapping[str, Any]], group_by: Sequence[str]) -> dict[tuple, list[Mapping[str, Any]]]:
    cells: dict[tuple, list[Mapping[str, Any]]] = {}
    for run in runs:
        cells.setdefault(tuple(run.get(key) for key in group_by), []).append(run)
    return cells


def summary_rows(
    runs: Sequence[Mapping[str, Any]],
    *,
    group_by: Sequence[str],
    metrics: Sequence[Metric],
    reference: Callable[[Mapping[str, Any]], float | None] | None = None,
) -> list[dict[str, Any]]:
    """One row per cell, in the order cells first appear in ``runs``.

    A row holds the cell's ``group_by`` fields, its ``seeds``, for every metric
    ``{"values", "median", "q25", "q75", "mean", "iqm", "iqm_low", "iqm_high"}`` (``None``
    where it applies to none of the cell's runs), the number of ``failures`` (runs whose record says ``"reached": false``), the run time in
    ``seconds`` where known, and the ``reference`` value where given.
    """
    rows = []
    for values, cell in _cells(runs, group_by).items():
        cell = sorted(cell, key=lambda run: run.get("seed", 0))
        row: dict[str, Any] = dict(zip(group_by, values))
        row["seeds"] = [run.get("seed") for run in cell]
        for metric in metrics:
            numbers = [float(value) for value in map(metric.value, cell) if value is not None]
            row[metric.name] = {"values": numbers, **summarise_values(numbers)} if numbers else None
        row["failures"] = sum(run.get("reached") is False for run in cell)
        seconds = [run["seconds"] for run in cell if run.get("seconds") is not None]
        row["seconds"] = float(sum(seconds)) if seconds else None
        if reference is not None:
            row["reference"] = reference(row)
        rows.append(row)
    return rows


def _number(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def _single_valued(rows: Sequence[Mapping[str, Any]], metric: Metric) -> bool:
    """One column for the metric: it is secondary, or no cell has more than one run."""
    return not metric.full or all(row[metric.name] is None or len(row[metric.name]["values"]) <= 1 for row in rows)


def _metric_cells(summary: Mapping[str, Any] | None, places: int, *, single: bool, full: bool = True) -> list[str]:
    if summary is None:
        return [""] if single else ["", ""]
    if not full:
        return [_number(summary["mean"], places)]
    if single:
        return [_number(summary["median"], places)]
    return [
        f"{_number(summary['median'], places)} ({_number(summary['q25'], places)}-{_number(summary['q75'], places)})",
        f"{_number(summary['iqm'], places)} [{_number(summary['iqm_low'], places)}, {_number(summary['iqm_high'], places)}]",
    ]


def markdown_table(
    rows: Sequence[Mapping[str, Any]],
    *,
    group_by: Sequence[str],
    metrics: Sequence[Metric],
    caption: str = "",
    reference_name: str | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """The rows as a markdown table: each metric as median (q25-q75) and IQM [95% CI]
    (or as its one value, where no cell has more than one run; blank where it does not apply).

    Args:
        rows: from :func:`summary_rows`.
        group_by: the cell fields, shown first.
        metrics: the metrics, in column order.
        caption: a line above the table.
        reference_name: the title of a ``reference`` column (none without it).
        names: display names of methods (the ``method`` field).
    """
    single = {metric.name: _single_valued(rows, metric) for metric in metrics}
    header = [*group_by, "seeds"]
    for metric in metrics:
        if single[metric.name]:
            header.append(metric.name)
        else:
            header += [f"{metric.name}: median (q25-q75)", f"{metric.name}: IQM [95% CI]"]
    header += ["failures", "run time (s)"]
    if reference_name:
        header.append(reference_name)
    lines = [caption, ""] if caption else []
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(group_by) + "---:|" * (len(header) - len(group_by))]
    for row in rows:
        cells = [str((names or {}).get(row[key], row[key])) if key == "method" else str(row[key]) for key in group_by]
        cells.append(str(len(row["seeds"])))
        for metric in metrics:
            cells += _metric_cells(row[metric.name], metric.decimals, single=single[metric.name], full=metric.full)
        cells.append(f"{row['failures']}/{len(row['seeds'])}")
        cells.append("" if row.get("seconds") is None else f"{row['seconds']:,.0f}")
        if reference_name:
            cells.append("" if row.get("reference") is None else f"~{row['reference']:,}")
        lines.append("| " + " | ".join(cells) + " |")
    improvement = improvement_table(rows, group_by=group_by, metrics=metrics, names=names)
    if improvement:
        lines += ["", improvement]
    return "\n".join(lines)


def _matching_cells(cells: Mapping[tuple, Mapping[str, Any]], task: tuple, fields: Sequence[str]) -> list[Mapping[str, Any]]:
    """The cells of the same task; for a task without demonstrations (``n_demos`` 0 or
    None), the cells that match it in every other field."""
    if task in cells:
        return [cells[task]]
    if "n_demos" not in fields or task[fields.index("n_demos")] not in (0, None):
        return []
    others = [index for index, field in enumerate(fields) if field != "n_demos"]
    return [row for key, row in cells.items() if all(key[index] == task[index] for index in others)]


def improvement_table(
    rows: Sequence[Mapping[str, Any]],
    *,
    group_by: Sequence[str],
    metrics: Sequence[Metric],
    names: Mapping[str, str] | None = None,
    method: str = IMPROVING_METHOD,
) -> str:
    """The probability of improvement of ``method`` over every other method, per metric.

    A task is a cell's ``group_by`` fields other than ``method``; a baseline is compared
    on the tasks where both it and ``method`` have runs (a baseline cell with
    ``n_demos`` 0, such as PPO from scratch, on every number of demonstrations). Each entry is P(X > Y) (ties
    half; for metrics where lower is better, P(X < Y)) averaged over those tasks, with a
    95% stratified bootstrap interval. Only the ``full`` metrics are compared.

    Returns:
        a markdown table, or "" when the rows hold no method field, no runs of
        ``method`` or no other method.
    """
    if "method" not in group_by:
        return ""
    task_fields = [key for key in group_by if key != "method"]
    cells: dict[str, dict[tuple, Mapping[str, Any]]] = {}
    for row in rows:
        cells.setdefault(row["method"], {})[tuple(row[key] for key in task_fields)] = row
    baselines = [name for name in cells if name != method]
    compared = [metric for metric in metrics if metric.full]
    if method not in cells or not baselines or not compared:
        return ""
    display = names or {}
    header = ["baseline", "tasks", *[f"{metric.name}: P({display.get(method, method)} better) [95% CI]" for metric in compared]]
    lines = []
    for baseline in baselines:
        entries, counts = [], set()
        for metric in compared:
            tasks = [
                (ours[metric.name]["values"], theirs[metric.name]["values"])
                for task, theirs in cells[baseline].items()
                for ours in _matching_cells(cells[method], task, task_fields)
                if ours.get(metric.name) and theirs.get(metric.name)
            ]
            counts.add(len(tasks))
            if not tasks:
                entries.append("")
                continue
            better = metric.better_higher
            point = probability_of_improvement(tasks, higher_is_better=better)
            low, high = probability_of_improvement_interval(tasks, higher_is_better=better)
            entries.append(f"{point:.2f} [{low:.2f}, {high:.2f}]")
        if any(entries):
            lines.append(f"| {display.get(baseline, baseline)} | {max(counts)} | " + " | ".join(entries) + " |")
    if not lines:
        return ""
    title = (
        f"Probability of improvement of {display.get(method, method)} over each baseline: P(X > Y) over pairs of runs, "
        "ties half, averaged over the tasks both have run (rliable); 95% stratified bootstrap interval."
    )
    return "\n".join([title, "", "| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1), *lines])


def _label(axes: Any, *, title: str | None, xlabel: str, ylabel: str) -> None:
    if title is not None:
        axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.legend(fontsize=8)


def _save(plt: Any, figure: Any, path: str, *, dpi: int = 120) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    plt.close(figure)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bar_chart(
    rows: Sequence[Mapping[str, Any]],
    path: str,
    *,
    metric: str,
    panel: str,
    x: str,
    series: str,
    ylabel: str,
    reference_name: str | None = None,
) -> None:
    """Bars of ``metric``'s IQM with its 95% interval, one panel per value of ``panel``,
    bars over ``x``, one colour per ``series`` (and hatched ``reference`` bars beside)."""
    plt = _pyplot()
    panels = list(dict.fromkeys(row[panel] for row in rows))
    figure, axes_row = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4), squeeze=False)
    for axes, value in zip(axes_row[0], panels):
        chosen = [row for row in rows if row[panel] == value]
        xs = list(dict.fromkeys(row[x] for row in chosen))
        names = list(dict.fromkeys(row[series] for row in chosen))
        width = 0.8 / (len(names) * (2 if reference_name else 1))
        for index, name in enumerate(names):
            cells = {row[x]: row for row in chosen if row[series] == name}
            offset = index * width * (2 if reference_name else 1)
            positions = np.arange(len(xs)) + offset
            iqm = np.array([cells[v][metric]["iqm"] if v in cells else np.nan for v in xs])
            low = np.array([cells[v][metric]["iqm_low"] if v in cells else np.nan for v in xs])
            high = np.array([cells[v][metric]["iqm_high"] if v in cells else np.nan for v in xs])
            bars = axes.bar(positions, iqm, width, yerr=[iqm - low, high - iqm], capsize=3, label=f"{name} (IQM, 95% CI)")
            if reference_name:
                ref = [cells[v].get("reference") if v in cells and cells[v].get("reference") is not None else np.nan for v in xs]
                axes.bar(
                    positions + width, ref, width, alpha=0.45, hatch="//", color=bars.patches[0].get_facecolor(),
                    label=f"{name} ({reference_name})",
                )
        axes.set_xticks(np.arange(len(xs)) + 0.4 - width / 2)
        axes.set_xticklabels([str(v) for v in xs])
        _label(axes, title=str(value), xlabel=x, ylabel=ylabel)
    _save(plt, figure, path, dpi=110)


def line_chart(
    rows: Sequence[Mapping[str, Any]],
    path: str,
    *,
    metric: str,
    x: str,
    series: str,
    xlabel: str,
    ylabel: str,
    log: bool = False,
    names: Mapping[str, str] | None = None,
) -> None:
    """``metric``'s IQM against ``x`` with its 95% bootstrap interval as a band, one line
    per ``series`` value (on log-log axes with ``log``; values below 1 are drawn at 1 there)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    floor = 1.0 if log else -np.inf
    for name in dict.fromkeys(row[series] for row in rows):
        chosen = sorted((row for row in rows if row[series] == name and row[metric] is not None), key=lambda row: row[x])
        if not chosen:
            continue
        xs = [row[x] for row in chosen]
        iqm, low, high = (np.maximum([row[metric][key] for row in chosen], floor) for key in ("iqm", "iqm_low", "iqm_high"))
        line = axes.plot(xs, iqm, marker="o", label=f"{(names or {}).get(name, name)} (IQM, 95% CI)")
        axes.fill_between(xs, low, high, alpha=0.15, color=line[0].get_color())
    if log:
        axes.set_xscale("log")
        axes.set_yscale("log")
    _label(axes, title=None, xlabel=xlabel, ylabel=ylabel)
    _save(plt, figure, path)


def learning_curves(
    runs: Sequence[Mapping[str, Any]],
    path: str,
    *,
    panel: str,
    series: Callable[[Mapping[str, Any]], str],
    xlabel: str,
    ylabel: str,
    target: float | None = None,
) -> None:
    """IQM learning curve per series with its 95% bootstrap interval as a band (a single
    run: its curve alone), one panel per ``panel`` value.

    Each run's ``curve`` is a list of points ``[x, y, ...]``; a curve that stops early
    (its run reached its target) carries its last value forward. A series keeps one colour
    in every panel.
    """
    plt = _pyplot()
    panels = list(dict.fromkeys(run.get(panel) for run in runs))
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    names = list(dict.fromkeys(series(run) for run in runs if run.get("curve")))
    colours = {name: palette[index % len(palette)] for index, name in enumerate(names)}
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(6 * columns, 4 * rows), squeeze=False)
    for unused in grid.ravel()[len(panels):]:
        unused.set_visible(False)
    for axes, value in zip(grid.ravel(), panels):
        chosen = [run for run in runs if run.get(panel) == value and run.get("curve")]
        groups: dict[str, list[np.ndarray]] = {}
        for run in chosen:
            groups.setdefault(series(run), []).append(np.asarray(run["curve"], dtype=float).reshape(len(run["curve"]), -1))
        for name, curves in groups.items():
            steps = np.unique(np.concatenate([curve[:, 0] for curve in curves]))
            ys = np.array([np.interp(steps, curve[:, 0], curve[:, 1], right=curve[-1, 1]) for curve in curves])
            # markers: a run that reached its target at once has a one-point curve
            iqm, low, high = interquartile_mean_curve(ys)
            axes.plot(steps, iqm, marker="o", markersize=3, color=colours[name], label=f"{name} (n={len(curves)}, IQM, 95% CI)")
            axes.fill_between(steps, low, high, alpha=0.15, color=colours[name])
        if target is not None:
            axes.axhline(target, color="grey", linestyle=":", linewidth=1)
        _label(axes, title=str(value), xlabel=xlabel, ylabel=ylabel)
    _save(plt, figure, path)
