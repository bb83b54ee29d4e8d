"""Un intérprete con un módulo ya importado que ejecuta ``python -m MÓDULO …`` en procesos hijos.

Lo lanza ``tools/classroom_check.py`` con el Python del entorno de estudiante: cada paso de
calificación de un flujo de Classroom es ``python -m transformer_lib.tareas comprobar …`` y casi
todo su tiempo es importar torch y transformer_lib (~1,5 s), siempre lo mismo. Aquí se importa
una vez; después, por cada orden (una línea JSON en la entrada estándar: ``{"args": [...],
"out": ARCHIVO, "err": ARCHIVO, "timeout": S}``), un hijo creado con ``fork`` ejecuta el módulo
como ``__main__`` (``runpy``, lo mismo que ``python -m``) con esos argumentos, en la carpeta y con
el entorno de este proceso, escribe sus salidas estándar y de error en esos archivos y termina con el código de salida
del módulo. Este proceso responde ``{"code": N}`` (``null`` si se agotó el tiempo).

Uso (interno)::

    PYTHON tools/_preloaded.py MÓDULO [OTRO_MÓDULO_QUE_IMPORTA ...]
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import signal
import sys
import time
import traceback


def _child(module: str, args: list[str], out: str, err: str) -> None:
    """En el hijo: las salidas a ``out`` y ``err`` y el módulo como ``__main__``; no vuelve."""
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    for fd, path in ((1, out), (2, err)):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
    sys.argv = [module, *args]
    sys.path[0] = os.getcwd()  # como python -m: la carpeta actual, no la de este archivo
    code = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as done:
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _wait(pid: int, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.02)


def main() -> int:
    module, *warm = sys.argv[1:]
    for name in (module, *warm):  # lo caro, una sola vez (no el __main__: runpy lo ejecuta)
        importlib.import_module(name)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(module, request["args"], request["out"], request["err"])
        print(json.dumps({"code": _wait(pid, request["timeout"])}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
