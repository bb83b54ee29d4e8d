"""La comprobación en GPU de un tirón (issue 27): lo que solo una GPU CUDA puede probar.

Lo lanza ``tools/gpu_check.sh`` (que antes crea el entorno con el torch CUDA de la máquina) con
el Python de ese entorno; a mano, desde la raíz del repositorio::

    python -m tools.gpu_check                 # en una máquina con GPU CUDA
    python -m tools.gpu_check --dry-run       # en CPU, con todos los tamaños al mínimo

Pasos, cada uno con su tiempo y su estado en el archivo de resultados (primero las medidas,
cortas y acotadas; después los cuadernos, y con lo que quede, el pronóstico):

1. Dónde están los datos (el Quijote; sin red no se pueden descargar).
2. La mitad CUDA de la velocidad de entrenamiento (``benchmarks/bench_train_cuda.py``):
   tokens/s y MFU frente al pico denso bf16 de la tarjeta.
3. La mitad CUDA de la caché KV (``benchmarks/bench_kv_cache.py --device cuda``).
4. DDP con nccl si hay más de una GPU (con una, lo dice y no lo prueba).
5. ``make test-gpu``: nbval con ``REQUIRE_GPU=1``; cada celda ``requires-gpu`` debe ejecutarse
   (ninguna saltada) y se guardan su estado, su tiempo y lo que imprimió. Por defecto sobre los
   cuadernos que tienen celdas GPU (``--notebooks all``: sobre todos). En ``--dry-run`` solo se
   recogen (``--collect-only``): sin GPU no pueden ejecutarse.
6. La verificación del pronóstico de escalado en CUDA (``forecast --verify``): el pronóstico de
   mayor presupuesto (``results/forecast_*.json``) cuya verificación quepa en el tiempo que quede
   (:func:`choose_forecast`); escribe ``results/gpu/forecast/``. Si no cabe ninguno, se salta. En
   ``--dry-run`` solo se elige y se anota la orden: la verificación no tiene un tamaño mínimo.

Escribe un archivo por dispositivo, ``results/gpu/<gpu>.json`` (en ``--dry-run``,
``_build/gpu-check/dry-run.json``), reescrito de forma atómica tras cada paso. Termina con
código 0 si todas las celdas ``requires-gpu`` pasaron y ningún paso falló.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GPU_TAG = "requires-gpu"
STDOUT_PROPERTY = "gpu_cell_stdout"  # la propiedad que añade conftest.py
WORK = Path("_build/gpu-check")
RESULTS = Path("results/gpu")
SCHEMA = 1

# La verificación del pronóstico (issue 24): ``python -m transformer_lib forecast --verify
# results/forecast_<presupuesto>.json --out … --device cuda`` entrena las formas de un pronóstico
# confirmado en git y las compara con él (se reanuda desde su último punto de control si se
# corta). :func:`choose_forecast` elige el de mayor presupuesto cuya verificación quepa en el tiempo
# que quede; :func:`forecast_verification_command` da la orden. Si el subcomando no existe, el paso
# se salta con un aviso.
FORECAST_VERIFICATION = ("forecast", "--verify")
FORECASTS = "results/forecast_*.json"
# Cuántas veces más rápida que la CPU de 2 núcleos (la de ``verification_estimated_seconds``) se
# supone la GPU con estos modelos pequeños, limitados por el lanzamiento de núcleos: sin medirlo, 1.
FORECAST_GPU_SPEEDUP = 1.0


def forecast_verification_command(python: str, forecast: Path, out: Path, device: str,
                                  commit: str | None = None) -> list[str]:
    """La orden que verifica el pronóstico ``forecast`` en ``device`` y escribe ``out``.

    ``commit`` es el que confirmó el pronóstico, para una copia del árbol sin git (ver
    :func:`forecast_commit`).
    """
    cmd = [python, "-m", "transformer_lib", *FORECAST_VERIFICATION, str(forecast), "--out", str(out),
           "--device", device]
    return cmd + ["--forecast-commit", commit] if commit else cmd


def forecast_commit(forecast: Path) -> str | None:
    """El commit que confirmó ``forecast``, según su verificación en la CPU (``<nombre>_verify.json``)."""
    verify = forecast.with_name(f"{forecast.stem}_verify.json")
    if not verify.is_file():
        return None
    return json.loads(verify.read_text(encoding="utf-8")).get("forecast", {}).get("git_commit")


def choose_forecast(files: list[Path], seconds: float, speedup: float = FORECAST_GPU_SPEEDUP) -> tuple[Path | None, str]:
    """El pronóstico de mayor presupuesto cuya verificación cabe en ``seconds``, y por qué.

    Cada archivo trae ``budget`` y ``verification_estimated_seconds`` (en la CPU de 2 núcleos);
    en la GPU se supone ``speedup`` veces más rápido. Devuelve (None, motivo) si ninguno cabe.
    """
    if not files:
        return None, f"no hay ningún pronóstico ({FORECASTS})"
    options = []
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        if "budget" in data and "verification_estimated_seconds" in data:
            options.append((float(data["budget"]), data["verification_estimated_seconds"] / speedup, path))
    for budget, estimate, path in sorted(options, reverse=True):
        if estimate <= seconds:
            return path, f"{path.name}: C = {budget:.3g}, unos {estimate:.0f} s estimados de {seconds:.0f} s que quedan"
    smallest = min(options, default=None, key=lambda o: o[1])
    return None, (f"ningún pronóstico cabe en {seconds:.0f} s (el más corto, {smallest[2].name}, tardaría unos "
                  f"{smallest[1]:.0f} s)" if smallest else f"ningún archivo {FORECASTS} es un pronóstico")


# ---------------------------------------------------------------------------------------
# Las celdas GPU de los cuadernos y el informe de nbval


def repository_notebooks() -> list[str]:
    """Los cuadernos que valida ``make`` (los que git no ignora, fuera de _build/)."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "--", "*.ipynb"], cwd=ROOT,
                         capture_output=True, text=True)
    names = out.stdout.split() if out.returncode == 0 else [
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*.ipynb") if not p.relative_to(ROOT).parts[0].startswith(("_", "."))]
    return sorted(n for n in names if not n.startswith("_build/") and "/.ipynb_checkpoints/" not in n)


def gpu_cells(notebooks: list[str]) -> list[dict]:
    """Las celdas con la etiqueta ``requires-gpu``: dónde están, su huella y su primera línea.

    ``cell_index`` cuenta todas las celdas (el que usa el libro); ``code_cell``, solo las de
    código (el «Cell N» de nbval).
    """
    cells = []
    for name in notebooks:
        nb = json.loads((ROOT / name).read_text(encoding="utf-8"))
        code = -1
        for index, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "code":
                continue
            code += 1
            if GPU_TAG not in cell.get("metadata", {}).get("tags", []):
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cells.append({"notebook": name, "cell_id": cell.get("id"), "cell_index": index, "code_cell": code,
                          "source_sha256": hashlib.sha256(source.encode()).hexdigest(),
                          "first_line": source.strip().splitlines()[0] if source.strip() else ""})
    return cells


_ANSI = re.compile(r"(\x1b|#x1B)\[[0-9;]*m")


def parse_junit(path: Path, notebooks: list[str]) -> dict[tuple[str, int], dict]:
    """Resultado de cada celda en el informe JUnit de nbval: ``{(cuaderno, Cell N): {...}}``.

    Cada valor tiene ``status`` (passed, failed, skipped), ``seconds``, ``message`` (la primera
    línea del fallo o del motivo del salto, sin colores) y ``stdout`` (lo que imprimió la celda,
    si conftest.py lo guardó).
    """
    by_class = {n.replace("/", "."): n for n in notebooks}
    results = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        notebook, match = by_class.get(case.get("classname", "")), re.fullmatch(r"Cell (\d+)", case.get("name", ""))
        if notebook is None or match is None:
            continue
        status, message = "passed", None
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                status = "skipped" if tag == "skipped" else "failed"
                lines = _ANSI.sub("", node.get("message") or node.text or "").strip().splitlines()
                message = lines[0] if lines else tag
                break
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        results[notebook, int(match.group(1))] = {"status": status, "seconds": round(float(case.get("time") or 0), 2),
                                                  "message": message, "stdout": props.get(STDOUT_PROPERTY)}
    return results


# ---------------------------------------------------------------------------------------
# El dispositivo y el archivo de resultados


def device_info(dry_run: bool) -> dict:
    """Nombre, número de GPU, controlador, CUDA, torch, capacidad, memoria y pico bf16."""
    import torch

    from transformer_lib.scaling import gpu_peak_flops

    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "count": torch.cuda.device_count()}
    if not torch.cuda.is_available():
        return info | {"name": "cpu (dry-run)" if dry_run else "cpu", "driver": None, "capability": None,
                       "memory_gib": None, "peak_bf16_flops": None}
    props = torch.cuda.get_device_properties(0)
    smi = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True) if _has("nvidia-smi") else None
    driver = smi.stdout.splitlines()[0].strip() if smi and smi.returncode == 0 and smi.stdout.strip() else None
    return info | {"name": props.name, "driver": driver, "capability": f"{props.major}.{props.minor}",
                   "memory_gib": round(props.total_memory / 2**30, 1), "peak_bf16_flops": gpu_peak_flops(props.name)}


def _has(program: str) -> bool:
    return any((Path(d) / program).is_file() for d in os.environ.get("PATH", "").split(os.pathsep) if d)


def device_slug(name: str) -> str:
    """Nombre de archivo de un dispositivo: ``NVIDIA H200`` -> ``nvidia-h200``."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ValueError(f"El nombre del dispositivo {name!r} no deja ningún carácter para el archivo.")
    return slug


class Report:
    """El archivo de resultados de un dispositivo, reescrito de forma atómica tras cada cambio."""

    def __init__(self, path: Path, data: dict):
        self.path, self.data = path, data
        self.save()

    def save(self) -> None:
        from transformer_lib.files import write_json_atomic

        write_json_atomic(self.path, self.data)

    def step(self, name: str, status: str, seconds: float, **fields) -> dict:
        entry = {"status": status, "seconds": round(seconds, 1), **fields}
        self.data["steps"][name] = entry
        self.save()
        print(f">> {name}: {status} ({seconds:.1f} s)" + (f" — {fields['detail']}" if "detail" in fields else ""),
              flush=True)
        return entry


# ---------------------------------------------------------------------------------------
# Los pasos


class Runner:
    """Ejecuta los pasos con el tiempo que quede del presupuesto y los anota en el informe."""

    def __init__(self, args: argparse.Namespace, report: Report):
        self.args, self.report = args, report
        self.python = args.python or sys.executable
        self.device = "cpu" if args.dry_run else "cuda"
        self.work = ROOT / args.work
        self.work.mkdir(parents=True, exist_ok=True)

    def left(self) -> float:
        return self.args.budget_s - (time.time() - self.args.started_at)

    def run(self, name: str, cmd: list[str], cap: float, floor: float = 1.0) -> tuple[int | None, str, float]:
        """Ejecuta ``cmd`` con un límite de ``min(cap, lo que quede)``, pero nunca menos de ``floor``
        segundos; devuelve (código, salida, segundos).

        El código es None si se acabó el tiempo. La salida completa queda en ``--work``/NAME.log.
        """
        limit = max(floor, min(cap, self.left()))
        print(f">> {name}: {shlex.join(cmd)} (límite {limit:.0f} s)", flush=True)
        t0 = time.perf_counter()
        # En su propio grupo de procesos: si se acaba el tiempo, se matan también los nietos (pytest,
        # sus núcleos, los procesos de torchrun), que si no seguirían ocupando la GPU.
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "TQDM_DISABLE": "1"}, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=limit)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
            code = None
        (self.work / f"{name}.log").write_text(output, encoding="utf-8")
        return code, output, time.perf_counter() - t0

    def failed(self, name: str, code: int | None, output: str, seconds: float, **fields) -> dict:
        status = "timeout" if code is None else "failed"
        tail = "\n".join(output.strip().splitlines()[-15:])
        return self.report.step(name, status, seconds, detail=f"código {code}" if code is not None else
                                "se acabó el tiempo", output_tail=tail, **fields)

    def data(self) -> None:
        """Dónde está el Quijote (lo usan las celdas GPU); sin él, avisa: no hay red en todas partes."""
        from transformer_lib.data.quijote import quijote_path

        try:
            path = quijote_path(download=False)
        except (FileNotFoundError, OSError) as err:
            self.report.step("data", "missing", 0.0, detail=f"{err} Las celdas que lo usan intentarán descargarlo.")
        else:
            self.report.step("data", "ok", 0.0, detail=str(path))

    def notebooks(self) -> None:
        """``make test-gpu`` (o, en dry-run, solo la recogida de las celdas) y cada celda GPU."""
        a, data = self.args, self.report.data
        all_notebooks = repository_notebooks()
        cells = gpu_cells(all_notebooks)
        chosen = all_notebooks if a.notebooks == "all" else sorted({c["notebook"] for c in cells})
        junit = self.work / "test-gpu.xml"
        junit.unlink(missing_ok=True)
        pytest_args = f"--junitxml={junit}" + (" --collect-only -q" if a.dry_run else "")
        venv = Path(self.python).parent.parent
        cmd = ["make", "--no-print-directory", "-o", f"{venv}/.installed", "test-gpu", f"VENV={venv}",
               f"PY={self.python}", f"JOBS={a.jobs}", f"CELL_TIMEOUT={a.cell_timeout}", f"PYTEST_ARGS={pytest_args}"]
        if a.notebooks != "all":
            cmd.append(f"NOTEBOOKS={' '.join(chosen)}")
        code, output, seconds = self.run("test-gpu", cmd, cap=a.notebooks_cap_s, floor=min(180, a.notebooks_cap_s))
        outcome = parse_junit(junit, all_notebooks) if junit.is_file() and junit.stat().st_size else {}
        for cell in cells:
            got = outcome.get((cell["notebook"], cell["code_cell"]))
            if a.dry_run:
                collected = f"{cell['notebook']}::Cell {cell['code_cell']}" in output
                got = {"status": "not-run", "message": "dry-run: recogida por nbval, sin ejecutar" if collected
                       else "dry-run: nbval NO la recoge", "seconds": None, "stdout": None}
            cell.update(got or {"status": "missing", "seconds": None, "stdout": None,
                                "message": "no aparece en el informe de nbval"})
        data["cells"] = cells
        data["other_failures"] = [{"notebook": nb, "code_cell": n, "message": r["message"]}
                                  for (nb, n), r in sorted(outcome.items()) if r["status"] == "failed"
                                  and not any(c["notebook"] == nb and c["code_cell"] == n for c in cells)]
        good = {"not-run"} if a.dry_run else {"passed"}
        bad = [c for c in cells if c["status"] not in good]
        status = "ok" if cells and not bad and code is not None and (code == 0 or not a.dry_run) else "failed"
        if code is None:
            status = "timeout"
        detail = (f"{len(cells)} celdas requires-gpu en {len({c['notebook'] for c in cells})} cuadernos; "
                  f"{len(bad)} sin pasar; {len(data['other_failures'])} otras celdas fallan")
        self.report.step("test-gpu", status, seconds, detail=detail, notebooks=len(chosen), make_exit_code=code)

    def benchmark(self, name: str, script: str, extra: list[str], cap: float) -> dict | None:
        """Un guion de benchmarks/ con ``--out``; devuelve su archivo de resultados."""
        out = self.work / f"{name}.json"
        out.unlink(missing_ok=True)
        code, output, seconds = self.run(name, [self.python, f"benchmarks/{script}", *extra, "--out", str(out)], cap)
        if code != 0 or not out.is_file():
            self.failed(name, code, output, seconds)
            return None
        results = json.loads(out.read_text(encoding="utf-8"))
        return self.report.step(name, "ok", seconds, rows=results["rows"], command=results["command"])

    def train_speed(self) -> None:
        entry = self.benchmark("train", "bench_train_cuda.py", ["--dry-run"] if self.args.dry_run else [], cap=240)
        if entry:
            row = entry["rows"][0]
            entry["detail"] = (f"{row['tokens_per_s']:.0f} tokens/s, MFU "
                               + (f"{row['mfu']:.1%}" if row["mfu"] is not None else "sin pico conocido"))
            self.report.data["train"] = {k: row[k] for k in ("tokens_per_s", "mfu", "precision", "compile", "attention",
                                                            "ms_per_step", "host_syncs_per_step", "preset")}
            if row.get("compile_error"):
                self.report.data["train"]["compile_error"] = row["compile_error"]
            self.report.save()

    def kv_cache(self) -> None:
        extra = ["--device", self.device] + (["--quick"] if self.args.dry_run else [])
        self.benchmark("kv_cache", "bench_kv_cache.py", extra, cap=120)

    def ddp(self) -> None:
        """Un entrenamiento con N procesos (nccl en CUDA) frente a uno, con el mismo lote por GPU."""
        import torch

        n = self.args.ddp_processes or torch.cuda.device_count()
        if n < 2:
            self.report.step("ddp", "skipped", 0.0, detail=f"{n} GPU: DDP con nccl necesita al menos 2; no se prueba")
            return
        rows = {}
        t0 = time.perf_counter()
        for procs in (1, n):
            code, output, _ = self.run(f"ddp-{procs}", ddp_command(self.python, procs, self.args.dry_run), cap=150)
            if code != 0:
                self.failed("ddp", code, output, time.perf_counter() - t0)
                return
            rows[procs] = json.loads(_last_json(output))
        efficiency = rows[n]["tokens_per_s"] / (n * rows[1]["tokens_per_s"])
        backend = "gloo" if self.args.dry_run else "nccl"
        self.report.step("ddp", "ok", time.perf_counter() - t0, backend=backend, processes=n,
                         tokens_per_s={str(k): v["tokens_per_s"] for k, v in rows.items()},
                         detail=f"{n} procesos ({backend}): eficiencia de escalado {efficiency:.0%}")

    def forecast(self) -> None:
        """La verificación del pronóstico de mayor presupuesto que quepa en el tiempo que quede."""
        probe = subprocess.run([self.python, "-m", "transformer_lib", FORECAST_VERIFICATION[0], "--help"], cwd=ROOT,
                               capture_output=True, text=True)
        if probe.returncode != 0 or FORECAST_VERIFICATION[1] not in probe.stdout:
            self.report.step("forecast", "skipped", 0.0, detail="`python -m transformer_lib "
                             f"{' '.join(FORECAST_VERIFICATION)}` todavía no existe (issue 24): se salta")
            return
        files = sorted(p for p in ROOT.glob(FORECASTS) if "verif" not in p.stem)
        seconds = self.left() - 20
        forecast, why = choose_forecast(files, seconds)
        if forecast is None:
            self.report.step("forecast", "skipped", 0.0, detail=why)
            return
        out = (self.work if self.args.dry_run else ROOT / RESULTS / "forecast") / \
            f"{forecast.stem}_verify_{device_slug(self.report.data['device']['name'])}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = forecast_verification_command(self.python, forecast.relative_to(ROOT), out, self.device,
                                            forecast_commit(forecast))
        if self.args.dry_run:  # la verificación no tiene tamaño mínimo: se elige y se anota, sin entrenar
            self.report.step("forecast", "skipped", 0.0, detail=f"dry-run: elegiría {why}; no se entrena",
                             command=shlex.join(cmd[1:]))
            return
        code, output, took = self.run("forecast", cmd, cap=seconds + 10)
        if code != 0:
            self.failed("forecast", code, output, took, chosen=why, out=str(out))
            return
        comparison = json.loads(out.read_text(encoding="utf-8")).get("comparison") if out.is_file() else None
        self.report.step("forecast", "ok", took, detail=why, command=shlex.join(cmd[1:]), out=str(out),
                         comparison=comparison)


def _last_json(output: str) -> str:
    """La última línea que es un objeto JSON (torchrun mezcla sus avisos con la salida)."""
    return next(line for line in reversed(output.strip().splitlines()) if line.startswith("{"))


def ddp_command(python: str, processes: int, dry_run: bool) -> list[str]:
    """``train`` con ``processes`` procesos (torchrun si son más de uno) y el mismo lote por proceso."""
    size = (["--n-layer", "1", "--n-head", "2", "--d-model", "32", "--block-size", "32"] if dry_run else
            ["--n-layer", "6", "--n-head", "6", "--d-model", "384", "--block-size", "256"])
    per_process, iters = (4, 5) if dry_run else (64, 300)
    args = ["train", *size, "--batch-size", str(per_process * processes), "--max-iters", str(iters),
            "--device", "cpu" if dry_run else "cuda", "--precision", "fp32" if dry_run else "bf16", "--no-compile",
            "--eval-interval", "0", "--eval-iters", "1", "--final-eval-iters", "1", "--no-progress"]
    if processes == 1:
        return [python, "-m", "transformer_lib", *args]
    return [python, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
            "-m", "transformer_lib", *args]


# ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tools.gpu_check", description=__doc__.splitlines()[0])
    p.add_argument("--dry-run", action="store_true", help="en CPU, con todos los tamaños al mínimo")
    p.add_argument("--python", default=None, help="el Python del entorno (por defecto, el que ejecuta esto)")
    p.add_argument("--out", type=Path, default=None,
                   help="archivo de resultados (por defecto results/gpu/<gpu>.json; en dry-run, "
                        "_build/gpu-check/dry-run.json)")
    p.add_argument("--work", type=Path, default=WORK, help="carpeta de los registros y archivos intermedios")
    p.add_argument("--notebooks", choices=("all", "gpu"), default="gpu",
                   help="gpu = make test-gpu sobre los cuadernos con celdas GPU (por defecto: cabe en 8 min); "
                        "all = sobre todos")
    p.add_argument("--jobs", type=int, default=max(1, min(8, (os.cpu_count() or 2) // 2)))
    # La celda GPU del capítulo 4 son 96 entrenamientos de 400 pasos: unos 3 min estimados en una H100.
    p.add_argument("--cell-timeout", type=int, default=300, help="segundos por celda en nbval")
    p.add_argument("--notebooks-cap-s", type=float, default=360, help="límite de make test-gpu, en segundos")
    p.add_argument("--ddp-processes", type=int, default=None,
                   help="procesos de DDP (por defecto, uno por GPU); con --dry-run, p. ej. 2 para probarlo con gloo")
    p.add_argument("--budget-s", type=float, default=480, help="presupuesto total, entorno incluido")
    p.add_argument("--started-at", type=float, default=None, help="inicio del guion (segundos de la época)")
    p.add_argument("--env-seconds", type=float, default=0.0, help="lo que tardó en crearse el entorno")
    p.add_argument("--env-mode", default="existente", help="cómo se creó el entorno (lo anota gpu_check.sh)")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error(f"--jobs debe ser un entero positivo y es {args.jobs}")
    if args.ddp_processes is not None and not args.dry_run:
        p.error("--ddp-processes solo con --dry-run: en CUDA se usa una GPU por proceso")
    args.started_at = args.started_at or time.time()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    if not args.dry_run and not torch.cuda.is_available():
        raise SystemExit(f"torch {torch.__version__} no ve ninguna GPU CUDA: ejecuta esto en una máquina con GPU, "
                         "o prueba el guion en CPU con --dry-run.")
    device = device_info(args.dry_run)
    out = args.out or (args.work / "dry-run.json" if args.dry_run else RESULTS / f"{device_slug(device['name'])}.json")
    from transformer_lib.environment import describe_environment, git_commit

    report = Report(ROOT / out, {
        "schema": SCHEMA, "dry_run": args.dry_run, "device": device,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["tools/gpu_check.sh", *(["--dry-run"] if args.dry_run else [])]),
        "environment": {**describe_environment(), "git_commit": git_commit(ROOT)},
        "steps": {"env": {"status": "ok", "seconds": round(args.env_seconds, 1), "mode": args.env_mode}},
        "cells": [], "complete": False})
    runner = Runner(args, report)
    print(f">> {device['name']}: torch {device['torch']}, CUDA {device['cuda']}, controlador {device['driver']}",
          flush=True)
    # Primero lo corto y acotado (las medidas), después los cuadernos y, con lo que quede, el pronóstico.
    for step in (runner.data, runner.train_speed, runner.kv_cache, runner.ddp, runner.notebooks, runner.forecast):
        step()
    report.data.update(complete=True, wall_seconds=round(time.time() - args.started_at, 1))
    report.save()
    failed = [n for n, s in report.data["steps"].items() if s["status"] in ("failed", "timeout")]
    print(f">> Resultados en {out} ({report.data['wall_seconds']:.0f} s en total)"
          + (f"; fallaron: {', '.join(failed)}" if failed else "; todo en orden"), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
