"""bench.png: ms per test, wall time at both sizes, time to first result, per-statement cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchkit.report import LABELS


def _bars(
    ax: Any, names: list[str], spreads: list[dict[str, float] | None], color: Any, fmt: str
) -> None:
    med = [s["median"] if s else 0.0 for s in spreads]
    lo = [s["median"] - s["min"] if s else 0.0 for s in spreads]
    hi = [s["max"] - s["median"] if s else 0.0 for s in spreads]
    y = list(range(len(names)))
    ax.barh(y, med, xerr=[lo, hi], color=color, capsize=3, ecolor="black")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    for yi, m, s in zip(y, med, spreads, strict=True):
        if s:
            ax.text(s["max"], yi, "  " + fmt.format(m), va="center", ha="left", fontsize=8)
    ax.margins(x=0.15)


def plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    small, big = summary["config"]["sizes"]
    fig, axes = plt.subplots(2, 2, figsize=(14, 9))
    fig.suptitle(
        "fastsuite benchmark: medians, whiskers min–max "
        f"({summary['config']['runs']} runs; {summary['machine']['cores']} cores; lower is better)",
        fontsize=11,
    )
    colors = {
        "fastsuite": "tab:green",
        "django": "tab:blue",
        "django6": "tab:cyan",
        "recipe": "tab:red",
    }

    wl = summary.get("workload", {})
    names = list(wl)
    ax = axes[0][0]
    if names:
        _bars(
            ax,
            [LABELS.get(n, n) for n in names],
            [wl[n]["marginal_ms_per_test"] for n in names],
            [colors.get(n, "tab:gray") for n in names],
            "{:.2f} ms",
        )
    ax.set_title(f"Marginal cost per test (from {small} and {big} tests)")
    ax.set_xlabel("ms per test")

    ax = axes[0][1]
    if names:
        height = 0.4
        for k, n_tests in enumerate((small, big)):
            spreads = [wl[n]["wall_s"][str(n_tests)] for n in names]
            med = [s["median"] if s else 0.0 for s in spreads]
            err = [
                [s["median"] - s["min"] if s else 0 for s in spreads],
                [s["max"] - s["median"] if s else 0 for s in spreads],
            ]
            ys = [i + (k - 0.5) * height for i in range(len(names))]
            ax.barh(
                ys, med, height=height, xerr=err, capsize=2, label=f"{n_tests} tests", alpha=0.85
            )
        ax.set_yticks(range(len(names)), [LABELS.get(n, n) for n in names])
        ax.invert_yaxis()
        ax.legend(loc="lower right")
    ax.set_title("Whole-process wall time")
    ax.set_xlabel("seconds")

    ax = axes[1][0]
    tt = summary.get("ttfr", {})
    if tt:
        _bars(
            ax,
            [LABELS.get(n, n) for n in tt],
            [tt[n]["wall_s"] for n in tt],
            [colors.get(n, "tab:gray") for n in tt],
            "{:.2f} s",
        )
    ax.set_title("Time to first result (pytest -x -q, one test)")
    ax.set_xlabel("seconds")

    ax = axes[1][1]
    micro = (summary.get("micro") or {}).get("variants", {})
    ok = {k: v for k, v in micro.items() if "us_per_pair" in v}
    if ok:
        _bars(
            ax,
            list(ok),
            [
                {"median": v["us_per_pair"], "min": v["us_min"], "max": v["us_max"]}
                for v in ok.values()
            ],
            "tab:purple",
            "{:.0f} µs",
        )
    ax.set_title("One INSERT + SELECT pair, in-memory SQLite")
    ax.set_xlabel("µs per pair")

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
