"""Layer size: the tracked Bedrock layer as ``sam build`` assembles it (arm64, python3.13), unzipped and zipped.

The layer is built the way SAM does: ``sam build TrackedBedrockLayer`` (and ``CvDomainLayer``) into a temporary
build folder when the SAM CLI is installed (``.venv-sam``), otherwise ``pip install -r layer/requirements.txt
--platform manylinux2014_aarch64 --only-binary=:all: --python-version 3.13 --no-compile --target`` plus the
layer's own package; ``--source existing`` reads ``.aws-sam/build`` instead. Sizes are bytes of file content
(what Lambda's 250 MB unzipped limit counts); the zip is made with ``zipfile`` (DEFLATED).

Then: the ten largest top-level packages, the distributions that duplicate what the Lambda python3.13 runtime
already ships (boto3, botocore, urllib3, dateutil, six, jmespath, s3transfer), and what the layer would weigh
without its dependencies' test suites, without those duplicates, without posthog (the layer uses only its
``batch_post``) or Powertools (a JSON logger and EMF), each with what only it pulls in; and what shipping
bytecode (see ``cold_start.py``) would add.

Run: ``.venv/bin/python bench/layer_size.py [--source auto|sam|pip|existing]``.
"""

from __future__ import annotations

import argparse
import compileall
import io
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

import common

NAME = "layer_size"
TARGET_BYTES = 10 * 1000 * 1000
LAYERS = ("TrackedBedrockLayer", "CvDomainLayer")
SAM = common.ROOT / ".venv-sam" / "bin" / "sam"
PIP_PLATFORM = ("--platform", "manylinux2014_aarch64", "--only-binary=:all:", "--python-version", "3.13")
# Distributions the Lambda python3.13 runtime ships (canonical names).
RUNTIME_DISTRIBUTIONS = frozenset({"boto3", "botocore", "urllib3", "python-dateutil", "six", "jmespath", "s3transfer"})
MB = 1000 * 1000


def canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def files_under(paths: Iterable[Path]) -> set[Path]:
    """Every file under ``paths`` (files or folders), once."""
    found: set[Path] = set()
    for path in paths:
        found.update([path] if path.is_file() else (f for f in path.rglob("*") if f.is_file() and not f.is_symlink()))
    return found


def tree_bytes(path: Path) -> int:
    """Bytes of file content under ``path`` (a file or a folder); symlinks are not followed."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def zipped_bytes(root: Path, skip: Iterable[Path] = ()) -> int:
    """Size of a DEFLATED zip of ``root``'s content (paths relative to ``root``), without ``skip``."""
    skipped = tuple(str(path) for path in skip)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(root.rglob("*")):
            if file.is_file() and not str(file).startswith(skipped):
                archive.write(file, file.relative_to(root))
    return len(buffer.getvalue())


# --------------------------------------------------------------------------------------------- building


def build_with_sam(work: Path) -> dict[str, Path]:
    """``sam build <layer>`` into ``work`` for each layer (the project's .aws-sam is left alone).

    One build folder per layer: ``sam build`` empties its build folder first.
    """
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    for layer in LAYERS:
        subprocess.run(
            [str(SAM), "build", layer, "--build-dir", str(work / layer), "--template", "template.yaml"],
            cwd=common.ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
    return {layer: work / layer / layer for layer in LAYERS}


def build_with_pip(work: Path) -> dict[str, Path]:
    """What SAM's python builder produces: arm64 wheels unpacked into ``python/``, no bytecode, plus the source."""
    built: dict[str, Path] = {}
    for layer, folder in (("TrackedBedrockLayer", "layer"), ("CvDomainLayer", "domain")):
        target = work / layer / "python"
        target.mkdir(parents=True)
        requirements = common.ROOT / folder / "requirements.txt"
        if any(line.split("#")[0].strip() for line in requirements.read_text().splitlines()):
            command = [common.PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            command += [*PIP_PLATFORM, "--no-compile", "--target", str(target), "-r", str(requirements)]
            subprocess.run(command, check=True, capture_output=True, timeout=600)
        for entry in (common.ROOT / folder).iterdir():
            if entry.is_dir() and (entry / "__init__.py").exists():
                shutil.copytree(entry, target / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
            elif entry.is_file():
                shutil.copy2(entry, target / entry.name)
        built[layer] = work / layer
    return built


def existing_build() -> dict[str, Path]:
    built = {layer: common.ROOT / ".aws-sam" / "build" / layer for layer in LAYERS}
    missing = [layer for layer, path in built.items() if not path.exists()]
    if missing:
        raise SystemExit(f"no .aws-sam/build for {', '.join(missing)}: run `make build` or use --source sam|pip")
    return built


# --------------------------------------------------------------------------------------------- analysis


@dataclass
class Distribution:
    """One installed distribution in the layer: its name, its requirements, and its top-level entries."""

    name: str
    requires: list[str]
    entries: set[Path]

    def bytes(self) -> int:
        return sum(tree_bytes(entry) for entry in self.entries)


def distributions(site: Path) -> dict[str, Distribution]:
    """The layer's distributions, read from their ``.dist-info`` (RECORD and METADATA)."""
    from packaging.requirements import Requirement

    found: dict[str, Distribution] = {}
    for info in site.glob("*.dist-info"):
        meta = HeaderParser().parsestr((info / "METADATA").read_text(encoding="utf-8", errors="replace"))
        requires = []
        for line in meta.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": "", "python_version": "3.13"}):
                requires.append(canonical(requirement.name))
        entries = {info}
        for row in (info / "RECORD").read_text().splitlines():
            first = Path(row.split(",")[0]).parts[0] if row else ""
            if first and first not in ("..", "__pycache__", "bin") and (site / first).exists():
                entries.add(site / first)
        found[canonical(meta["Name"])] = Distribution(canonical(meta["Name"]), requires, entries)
    return found


def closure(roots: Iterable[str], dists: dict[str, Distribution]) -> set[str]:
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen or name not in dists:
            continue
        seen.add(name)
        pending.extend(dists[name].requires)
    return seen


def exclusive(root: str, top: Iterable[str], dists: dict[str, Distribution]) -> set[str]:
    """What only ``root`` brings in: its closure minus what the other top-level requirements need."""
    others = closure([name for name in top if name != root], dists)
    return closure([root], dists) - others


def test_folders(site: Path) -> list[Path]:
    """The dependencies' own test suites (``test``/``tests`` packages inside them)."""
    return sorted(p for p in site.rglob("*") if p.is_dir() and p.name in ("test", "tests") and p.parent != site)


def bytecode_cost(site: Path, work: Path) -> tuple[int, int]:
    """Bytes (unzipped, zipped) that ``compileall`` of the whole layer would add."""
    copy = work / "compiled" / "python"
    shutil.copytree(site, copy, symlinks=True)
    before_zip = zipped_bytes(copy.parent)
    compileall.compile_dir(
        copy, quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH, legacy=False
    )
    pyc = sum(f.stat().st_size for f in copy.rglob("*.pyc"))
    return pyc, zipped_bytes(copy.parent) - before_zip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", choices=("auto", "sam", "pip", "existing"), default="auto")
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry; the build is the cost")
    args = parser.parse_args(argv)
    source = args.source
    if source == "auto":
        source = "sam" if SAM.exists() else "pip"

    report = common.Report(NAME, quick=args.quick)
    with tempfile.TemporaryDirectory(prefix="bench-layer-") as work_dir:
        work = Path(work_dir)
        built = (
            {"sam": build_with_sam, "pip": build_with_pip}[source](work) if source != "existing" else existing_build()
        )
        layer = built["TrackedBedrockLayer"]
        site = layer / "python"
        unzipped, zipped = tree_bytes(layer), zipped_bytes(layer)
        files = sum(1 for f in layer.rglob("*") if f.is_file())
        domain_unzipped, domain_zipped = tree_bytes(built["CvDomainLayer"]), zipped_bytes(built["CvDomainLayer"])

        entries = sorted(
            ((entry.name, tree_bytes(entry)) for entry in site.iterdir() if not entry.name.endswith(".dist-info")),
            key=lambda item: item[1],
            reverse=True,
        )
        dists = distributions(site)
        lines = (common.ROOT / "layer" / "requirements.txt").read_text().splitlines()
        top = [canonical(line.split("==")[0]) for line in lines if line.strip() and not line.startswith("#")]
        duplicates = sorted(name for name in dists if name in RUNTIME_DISTRIBUTIONS)
        duplicate_bytes = sum(dists[name].bytes() for name in duplicates)
        tests = test_folders(site)
        tests_bytes = sum(tree_bytes(path) for path in tests)
        only = {root: sorted(exclusive(root, top, dists)) for root in top}
        only_bytes = {root: sum(dists[name].bytes() for name in names) for root, names in only.items()}
        pyc_bytes, pyc_zipped = bytecode_cost(site, work)
        # The layer these changes reach together (the sets overlap: count each file once).
        dropped = set(duplicates) | set(only["posthog"]) | set(only["aws-lambda-powertools"])
        gone = files_under([entry for name in dropped for entry in dists[name].entries] + tests)
        remaining = unzipped - sum(file.stat().st_size for file in gone)

    report.details.update(
        {
            "source": source,
            "files": files,
            "top_level_bytes": dict(entries),
            "distributions": {name: dists[name].bytes() for name in sorted(dists)},
            "runtime_duplicates": duplicates,
            "test_folders": [str(path.relative_to(site)) for path in tests],
            "exclusive_dependencies": only,
            "cv_domain_layer": {"unzipped_bytes": domain_unzipped, "zipped_bytes": domain_zipped},
        }
    )
    report.figure("source", source)
    report.figure("unzipped_mb", unzipped / MB, f"{unzipped} bytes, {files} files; target < {TARGET_BYTES / MB:g}")
    report.figure("zipped_mb", zipped / MB, f"{zipped} bytes, zipfile DEFLATED")
    report.figure("target_met", "yes" if unzipped < TARGET_BYTES else "no")
    report.figure("cv_domain_layer_unzipped_kb", domain_unzipped / 1000)
    print("# the 10 largest top-level entries of python/ (MB)")
    for name, size in entries[:10]:
        report.figure(f"top.{name}_mb", size / MB)
    report.figure("runtime_duplicates", ",".join(duplicates) or "none", "already in the Lambda python3.13 runtime")
    report.figure("runtime_duplicates_mb", duplicate_bytes / MB)
    report.figure("dependency_tests_mb", tests_bytes / MB, f"{len(tests)} test folders shipped")
    for root, names in only.items():
        report.figure(f"only_{root.replace('-', '_')}_mb", only_bytes[root] / MB, "+".join(names))
    report.figure("bytecode_adds_mb", pyc_bytes / MB, f"compileall, unchecked-hash; zipped +{pyc_zipped / MB:.2f} MB")
    report.figure("without_tests_duplicates_posthog_powertools_mb", remaining / MB, "estimate")
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
