"""`govwatch model`: train, list, promote and evaluate classifier model versions."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from classifier import registry
from govwatch.settings import Settings, get_settings
from store.errors import GovwatchError, InvalidInput

app = typer.Typer(help="Train, list, promote and evaluate classifier models.", no_args_is_help=True)
console = Console()
# Warnings go to stderr, so that `model eval --json` prints nothing but its JSON on stdout.
err_console = Console(stderr=True)
MAX_REPORTED_PROBLEMS = 20

CURRENT_FILE = registry.CURRENT_FILE


VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class ModelUnusable(GovwatchError):
    """The promoted (or packaged) model cannot be loaded: a fault, not the user's input."""

    exit_code = 1


def _load(path: Path | None, *, what: str, allow_rules_mismatch: bool = False) -> Any:
    """classifier.load with its errors (missing, corrupted, incompatible, unreadable) as one line."""
    import classifier
    from classifier.model import ModelError

    try:
        return classifier.load(path, allow_rules_mismatch=allow_rules_mismatch)
    except ModelError as error:
        raise ModelUnusable(f"{what} cannot be used: {error}") from error
    except (OSError, ValueError, EOFError, KeyError, AttributeError, ImportError) as error:
        # A truncated pickle, a metadata.json that is not JSON, a folder we may not read.
        raise ModelUnusable(f"{what} cannot be read ({type(error).__name__}: {error})") from error


def load_current_classifier(settings: Settings | None = None, *, allow_rules_mismatch: bool = False) -> Any:
    """The classifier `govwatch classify` uses: the promoted version, else the packaged default."""
    settings = settings or get_settings()
    allow = allow_rules_mismatch or settings.allow_rules_mismatch
    model_dir = settings.resolved_model_dir
    if (model_dir / CURRENT_FILE).is_file():
        name = _read_pointer(model_dir / CURRENT_FILE)
        return _load(
            model_dir,
            what=f"the promoted model {name!r} in {model_dir} (promote another: `govwatch model list`)",
            allow_rules_mismatch=allow,
        )
    return _load(None, what="the packaged default model", allow_rules_mismatch=allow)


def _version_dirs(settings: Settings) -> list[tuple[str, Path, str]]:
    """(version, directory, where) for trained versions and the packaged default."""
    return [(v.name, v.path, v.where) for v in registry.list_versions(settings.resolved_model_dir)]


_read_pointer = registry.read_pointer


@app.command("train")
def train(
    data: list[Path] = typer.Option(
        ..., "--data", exists=True, dir_okay=False, help="Labelled JSONL (text, label); repeat for several."
    ),
    corpus: bool = typer.Option(True, "--corpus/--no-corpus", help="Also train on the project's own corpus."),
    holdout: float = typer.Option(0.1, "--holdout", min=0.0, max=0.5, help="Share of --data rows held out."),
    out_dir: Path | None = typer.Option(
        None, "--out-dir", help="Where the version goes (default: model dir)."
    ),
    version: str | None = typer.Option(None, "--version", help="Version name (default: date and data hash)."),
    promote: bool = typer.Option(False, "--promote", help="Make the new version the current one."),
) -> None:
    """Train a new model version from --data files and write model.npz + metadata.json."""
    from classifier.data import DataError, read_jsonl
    from classifier.model import ModelError, save_model
    from classifier.train import build_model

    settings = get_settings()
    target = out_dir.expanduser().resolve() if out_dir else settings.resolved_model_dir
    # Everything that can be refused is refused before a minute of training, not after.
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"--out-dir {target} is a file, not a folder")
    if version is not None:
        if not VERSION_NAME.fullmatch(version) or ".." in version:
            raise InvalidInput(
                f"--version {version!r}: use letters, digits, '.', '_' and '-' only (no path separators)"
            )
        if (target / version).exists():
            raise InvalidInput(
                f"model version {version!r} already exists in {target}; versions are immutable"
            )
    for path in data:
        try:
            usable = sum(1 for _ in read_jsonl(path))
        except DataError as error:  # a model is never trained on a file with bad lines
            raise InvalidInput(str(error)) from None
        except UnicodeDecodeError as error:
            raise InvalidInput(
                f"{path}: not UTF-8 text (byte {error.start + 1}); save it as UTF-8 JSONL"
            ) from None
        if usable == 0:
            raise InvalidInput(f"{path}: no labelled rows; nothing to train on")
    logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
    console.print(f"training on {', '.join(str(p) for p in data)}" + (" + own corpus" if corpus else ""))
    try:
        model, metadata = build_model(data, use_corpus=corpus, holdout=holdout, version=version)
    except DataError as error:
        raise InvalidInput(str(error)) from None
    try:
        path = save_model(model, target, metadata)
    except ModelError as error:
        raise InvalidInput(str(error)) from None
    console.print(f"wrote [bold]{path}[/bold] ({(path / 'model.npz').stat().st_size / 1e6:.1f} MB)")
    print_scores(metadata.get("scores", {}))
    console.print(f"thresholds: {metadata.get('thresholds')}")
    if promote:
        _promote(target, path.name)


def print_scores(scores: dict[str, Any]) -> None:
    table = Table("held-out set", "n", "macro-F1", "ok flag rate", "extra", title="scores")
    for name, report in scores.items():
        extra = ""
        if report.get("hard_negative_flag_rate") is not None:
            extra = f"hard negatives flagged {report['hard_negative_flag_rate']:.3f}"
        table.add_row(
            name,
            str(report.get("n")),
            f"{report.get('macro_f1', 0):.4f}",
            str(report.get("ok_flag_rate")),
            extra,
        )
    console.print(table)


@app.command("list")
def list_versions() -> None:
    """List model versions: trained ones in the model folder and the packaged default."""
    import classifier

    settings = get_settings()
    current = _read_pointer(settings.resolved_model_dir / CURRENT_FILE)
    default = _read_pointer(classifier.PACKAGED_MODELS / "DEFAULT.txt")
    table = Table(
        "version", "where", "in use", "trained", "texts", "held-out macro-F1", title="model versions"
    )
    for name, path, where in _version_dirs(settings):
        try:
            meta = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as error:  # one broken version must not hide the others
            err_console.print(
                f"[yellow]skipped[/yellow] {escape(str(path))}: metadata.json unreadable ({error})"
            )
            table.add_row(escape(name), where, "", "(broken metadata.json)", "", "")
            continue
        in_use = ""
        if name == current:
            in_use = "current"
        elif current is None and where == "packaged" and name == default:
            in_use = "current (default)"
        holdout = meta.get("scores", {}).get("public_holdout_text", {}).get("macro_f1")
        table.add_row(
            name,
            where,
            in_use,
            str(meta.get("trained_at", ""))[:16],
            str(meta.get("n_training_texts", "")),
            f"{holdout:.4f}" if isinstance(holdout, float) else "",
        )
    console.print(table)


@app.command("promote")
def promote_command(
    version: str = typer.Argument(..., help="A version shown by `govwatch model list`."),
) -> None:
    """Make VERSION the model `govwatch classify` uses (the packaged default's name restores it)."""
    _promote(get_settings().resolved_model_dir, version)


def _promote(model_dir: Path, version: str) -> None:
    try:
        message = registry.promote(model_dir, version)
    except registry.RegistryError as error:
        raise InvalidInput(str(error)) from None
    console.print(message)


@app.command("eval")
def evaluate_command(
    data: Path | None = typer.Option(
        None, "--data", exists=True, dir_okay=False, help="Labelled JSONL file."
    ),
    field: str = typer.Option("text", "--field", help="Which column holds the text (text or text_norm)."),
    corpus: str | None = typer.Option(
        None, "--corpus", help="Evaluate the own corpus: heldout, train or all."
    ),
    model: Path | None = typer.Option(None, "--model", help="A model version directory (default: current)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    allow_rules_mismatch: bool = typer.Option(
        False, "--allow-rules-mismatch", help="Load a model trained with other rules than the installed ones."
    ),
) -> None:
    """Score a model on labelled data: per-label precision/recall/F1, confusion, ok flag rate, speed."""
    from classifier.data import DataError, load_corpus, read_jsonl
    from classifier.evaluate import evaluate_rows

    if (data is None) == (corpus is None):
        raise typer.BadParameter("give exactly one of --data FILE or --corpus heldout|train|all")
    problems: list[DataError] = []
    try:
        if data is not None:
            # Bad lines are reported and left out rather than stopping the whole evaluation.
            rows = list(read_jsonl(data, field=field, problems=problems))
            for problem in problems[:MAX_REPORTED_PROBLEMS]:
                err_console.print(f"[yellow]skipped[/yellow] {escape(str(problem))}")
            if len(problems) > MAX_REPORTED_PROBLEMS:
                err_console.print(f"... and {len(problems) - MAX_REPORTED_PROBLEMS} more bad lines")
            if not rows:
                raise DataError(f"{data}: no usable rows")
        else:
            if corpus not in ("heldout", "train", "all"):
                raise typer.BadParameter("heldout, train or all", param_hint="--corpus")
            rows = load_corpus(None if corpus == "all" else corpus)
    except DataError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    if model is not None and not model.is_dir():
        raise InvalidInput(f"--model {model}: no such model folder")
    allow = allow_rules_mismatch or get_settings().allow_rules_mismatch
    clf = (
        _load(model, what=f"--model {model}", allow_rules_mismatch=allow)
        if model is not None
        else load_current_classifier(allow_rules_mismatch=allow)
    )
    report = evaluate_rows(clf, rows)
    if as_json:
        keys = ("n", "macro_f1", "ok_flag_rate", "per_label", "posts_per_second")
        out = {k: report[k] for k in keys}
        out.update({"confusion": report["confusion"], "per_stratum": report["per_stratum"]})
        out.update({"model_version": clf.model_version, "rules_version": clf.rules_version})
        out["skipped_lines"] = len(problems)
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    print_report(report, clf.model_version, clf.rules_version)


def print_report(report: dict[str, Any], model_version: str, rules_version: str) -> None:
    console.print(f"model {model_version}, rules {rules_version}: {report['n']} rows")
    table = Table("label", "precision", "recall", "F1", "support", title="per label")
    for label, s in report["per_label"].items():
        table.add_row(
            label, f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}", str(s["support"])
        )
    console.print(table)
    labels = report["labels"]
    confusion = Table("gold \\ predicted", *labels, title="confusion matrix")
    for gold in labels:
        confusion.add_row(gold, *(str(report["confusion"][gold][p]) for p in labels))
    console.print(confusion)
    if report["per_stratum"]:
        strata = Table("stratum", "n", "labels", "accuracy", "flagged", title="per stratum")
        for name, s in report["per_stratum"].items():
            labels_text = ", ".join(f"{k} {v}" for k, v in s["labels"].items())
            strata.add_row(name, str(s["n"]), labels_text, f"{s['accuracy']:.4f}", f"{s['flag_rate']:.4f}")
        console.print(strata)
    console.print(
        f"macro-F1 [bold]{report['macro_f1']:.4f}[/bold]  "
        f"ok_flag_rate [bold]{report['ok_flag_rate']}[/bold]  "
        f"throughput {report['posts_per_second']} posts/s"
    )
