"""Markdown reports with plots for `kimera ml train` and `kimera ml optimize`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure  # drawn without pyplot: no global backend state

from kimera.ml.labels import CLASS_NAMES
from kimera.ml.optimize import (
    GOAL_MAX_ACC_LOSS,
    GOAL_MIN_AGREEMENT,
    GOAL_SMALLER,
    GOAL_SPEEDUP,
    OptimizeReport,
)

MODEL_ORDER = ("majority", "logreg", "mlp", "lstm")


def _yes(b: bool) -> str:
    return "yes" if b else "**no**"


def verdict_text(meta: dict[str, Any]) -> str:
    """One plain sentence: does the MLP beat both baselines on test accuracy and macro-F1?"""
    v = meta["verdict"]
    acc = v["beats_majority_accuracy"] and v["beats_logreg_accuracy"]
    f1 = v["beats_majority_f1"] and v["beats_logreg_f1"]
    if acc and f1:
        return "The MLP beats the majority-class baseline and logistic regression on test accuracy and macro-F1."
    parts = []
    for key, what in (("majority", "the majority-class baseline"), ("logreg", "logistic regression")):
        for m in ("accuracy", "f1"):
            if not v[f"beats_{key}_{m}"]:
                parts.append(f"{what} on {'accuracy' if m == 'accuracy' else 'macro-F1'}")
    return "The MLP does NOT beat " + "; nor ".join(parts) + " on the test split."


def train_report(meta: dict[str, Any], out_dir: Path) -> Path:
    """Write train_report.md (+ PNG plots) from a run's meta; returns the markdown path."""
    _plot_training(meta, out_dir)
    bal = meta["class_balance"]
    lines = [
        "# Kimera ML: short-horizon mid-price direction",
        "",
        f"Label: sign of the mid log return over **{meta['horizon_ms']} ms**, dead band **{meta['band_bps']} bps** "
        f"(|return| <= band is flat). Features every {meta['grid_ms']} ms on the receive clock; "
        f"LSTM window {meta['seq_len']} rows. Seed {meta['seed']}.",
        "",
        "Data (series pooled, split on the shared clock, gap of one horizon between parts): "
        + ", ".join(f"`{s}`" for s in meta["series"]),
        "",
        "## Class balance",
        "",
        "| split | rows | down | flat | up |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {k} | {meta['rows'][k]} | {bal[k]['down']:.1%} | {bal[k]['flat']:.1%} | {bal[k]['up']:.1%} |"
            for k in ("train", "val", "test")
        ),
        "",
        "## Scores",
        "",
        "| model | params | val acc | val macro-F1 | test acc | test macro-F1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in MODEL_ORDER:
        if m not in meta["scores"]:
            continue
        sc = meta["scores"][m]
        params = meta["models"].get(m, {}).get("params", 0)
        lines.append(
            f"| {m} | {params} | {sc['val']['accuracy']:.4f} | {sc['val']['macro_f1']:.4f} | "
            f"{sc['test']['accuracy']:.4f} | {sc['test']['macro_f1']:.4f} |"
        )
    cm = meta["scores"]["mlp"]["test"]["confusion"]
    lines += [
        "",
        f"**Verdict:** {verdict_text(meta)}",
        "",
        "MLP test confusion (rows true, columns predicted; " + ", ".join(CLASS_NAMES) + "):",
        "",
        "| | " + " | ".join(CLASS_NAMES) + " |",
        "|---|---:|---:|---:|",
        *(f"| {CLASS_NAMES[i]} | " + " | ".join(str(c) for c in row) + " |" for i, row in enumerate(cm)),
        "",
        "![training curves](train_curves.png)",
        "",
    ]
    path = out_dir / "train_report.md"
    path.write_text("\n".join(lines))
    return path


def _plot_training(meta: dict[str, Any], out_dir: Path) -> None:
    fig = Figure(figsize=(10, 3.5))
    axes = fig.subplots(1, 2)
    for name, hist in meta["history"].items():
        axes[0].plot([h["epoch"] for h in hist], [h["val_loss"] for h in hist], label=name)
    axes[0].set(title="validation loss", xlabel="epoch")
    axes[0].legend()
    names = [m for m in MODEL_ORDER if m in meta["scores"]]
    acc = [meta["scores"][m]["test"]["accuracy"] for m in names]
    axes[1].bar(names, acc, color="tab:blue")
    axes[1].set(title="test accuracy", ylim=(min(acc) - 0.05, max(acc) + 0.02))
    fig.tight_layout()
    fig.savefig(out_dir / "train_curves.png", dpi=90)


def optimize_report(rep: OptimizeReport, out_dir: Path, note: str = "") -> Path:
    """Write optimize_report.md (+ a latency/size plot); returns the markdown path."""
    base = rep.stages[0]
    g = rep.goals
    lines = [
        "# Kimera ML: optimisation of the MLP",
        "",
        "Every row is measured in the same run on the test split: accuracy and macro-F1, serialised size "
        "(torch: `torch.save(state_dict)`; ONNX: the file), median latency on one thread (batch 1 and 256; "
        "lowest of 5 interleaved rounds), and agreement with the fp32 model's test predictions.",
        "",
        "| variant | runtime | params | test acc | macro-F1 | bytes | vs fp32 | batch-1 us | speed-up | batch-256 us | agreement |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in rep.stages:
        flag = "" if s.agreement >= GOAL_MIN_AGREEMENT else " (below 99%)"
        lines.append(
            f"| {s.name} | {s.runtime} | {s.params or ''} | {s.accuracy:.4f} | {s.macro_f1:.4f} | {s.size_bytes:,} | "
            f"{s.size_bytes / base.size_bytes:.0%} | {s.latency_b1_us:.1f} | {base.latency_b1_us / s.latency_b1_us:.2f}x | "
            f"{s.latency_b256_us:.1f} | {s.agreement:.2%}{flag} |"
        )
    lines += [
        "",
        f"**Best optimised variant:** {rep.best} (fastest at batch 1 among those meeting the size, accuracy "
        "and agreement goals).",
        "",
        "| goal | target | measured | met |",
        "|---|---|---:|---|",
        f"| batch-1 speed-up vs fp32 torch eager | >= {GOAL_SPEEDUP:.0f}x | {g['speedup_b1']:.2f}x | {_yes(g['speedup_b1_met'])} |",
        f"| smaller than fp32 | >= {GOAL_SMALLER:.0%} | {g['smaller']:.1%} | {_yes(g['smaller_met'])} |",
        f"| accuracy loss | <= {GOAL_MAX_ACC_LOSS * 100:.0f} point | {g['accuracy_loss'] * 100:+.2f} points | {_yes(g['accuracy_loss_met'])} |",
        f"| agreement with fp32 | >= {GOAL_MIN_AGREEMENT:.0%} | {g['agreement']:.2%} | {_yes(g['agreement_met'])} |",
        "",
    ]
    if g["below_agreement_goal"]:
        lines += ["Variants below 99% agreement (loss reported, not hidden): " + ", ".join(g["below_agreement_goal"]) + ".", ""]
    if note:
        lines += [note, ""]
    lines += ["![latency and size](optimize.png)", ""]
    _plot_optimize(rep, out_dir)
    path = out_dir / "optimize_report.md"
    path.write_text("\n".join(lines))
    return path


def _plot_optimize(rep: OptimizeReport, out_dir: Path) -> None:
    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    for s in rep.stages:
        marker = "o" if s.runtime == "onnxruntime" else "s"
        ax.scatter(s.size_bytes / 1024, s.latency_b1_us, marker=marker, color="tab:red" if s.name == rep.best else "tab:blue")
        ax.annotate(s.name, (s.size_bytes / 1024, s.latency_b1_us), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="serialised size (KiB)", ylabel="batch-1 latency (us, 1 thread)", yscale="log",
           title="MLP variants (squares: torch, circles: ONNX Runtime)")
    fig.tight_layout()
    fig.savefig(out_dir / "optimize.png", dpi=90)
