"""Plugin de pytest para nbval: guarda cada cuaderno que nbval ejecutó entero, con sus salidas.

nbval ejecuta las celdas de un cuaderno en un núcleo de Jupyter y compara las verificadas,
pero no guarda lo que salió. Este plugin escucha los mensajes que nbval lee del núcleo y se
los pasa a ``nbclient`` (:meth:`nbclient.NotebookClient.process_message`, el mismo código que
usa Jupyter Book al ejecutar), que los convierte en salidas de la celda y en el estado de los
widgets. Si todas las celdas de un cuaderno pasan, escribe la copia ejecutada en
``--record-executed`` (con la ruta del cuaderno relativa a ``--record-root``): de allí toma
el libro sus salidas sin ejecutarlo otra vez (``tools/execute_notebooks.py --from``).

Con ``--pin-workers`` cada proceso de xdist se ata a un núcleo de la CPU, y con él el núcleo
de Jupyter que lanza: dos cuadernos a la vez, con dos hilos de PyTorch cada uno (los de
Colab), no se quitan la CPU el uno al otro.

Lo usa ``tools/student_env.py``::

    python -m pytest -p tools.nbval_record --record-executed CARPETA --record-root RAÍZ \\
        --pin-workers --nbval-lax --nbval-kernel-name NÚCLEO -n 2 CUADERNO...
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import pytest

#: Clave de los metadatos del cuaderno guardado con lo que tardó y cuándo terminó.
METADATA_KEY = "student_env"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nbval_record", "copias ejecutadas de los cuadernos de nbval")
    group.addoption("--record-executed", type=Path, default=None, metavar="CARPETA",
                    help="guarda aquí cada cuaderno que nbval ejecutó entero sin fallos")
    group.addoption("--record-root", type=Path, default=None, metavar="RAÍZ",
                    help="carpeta respecto a la que se toman las rutas de los cuadernos guardados")
    group.addoption("--pin-workers", action="store_true",
                    help="ata cada proceso de xdist (y sus núcleos de Jupyter) a un núcleo de la CPU")


def pytest_configure(config: pytest.Config) -> None:
    worker = getattr(config, "workerinput", {}).get("workerid")  # gw0, gw1… (solo en xdist)
    if config.getoption("pin_workers") and worker:
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[int(worker.removeprefix("gw")) % len(cores)]})
    if config.getoption("record_executed") is not None and config.getoption("record_root") is None:
        raise pytest.UsageError("--record-executed necesita --record-root")


class Recording:
    """La copia ejecutada de un cuaderno de nbval (``IPyNbFile``), celda a celda."""

    def __init__(self, nbfile) -> None:
        from nbclient import NotebookClient

        self.nb = copy.deepcopy(nbfile.nb)
        for cell in self.nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        self.client = NotebookClient(self.nb, record_timing=False)
        # El cliente del núcleo de nbval: los widgets de salida (Output) le envían su estado,
        # como en una ejecución de nbclient.
        self.client.kc = nbfile.kernel.kc
        self.start = time.perf_counter()
        self.ok = True
        self.index: int | None = None
        self.msg_id: str | None = None
        self.executed: list[int] = []
        self._tap(nbfile)

    def _tap(self, nbfile) -> None:
        """Intercepta lo que nbval envía al núcleo y lo que lee de él (solo en este cuaderno)."""
        from nbclient.exceptions import CellExecutionComplete

        execute, receive = nbfile.kernel.execute_cell_input, nbfile.get_kernel_message

        def execute_and_remember(source, allow_stdin=None):
            self.msg_id = execute(source, allow_stdin=allow_stdin)
            return self.msg_id

        def receive_and_record(timeout=None, stream="iopub"):
            msg = receive(timeout=timeout, stream=stream)
            ours = msg.get("parent_header", {}).get("msg_id") == self.msg_id
            if stream == "iopub" and self.index is not None and ours:
                try:
                    self.client.process_message(msg, self.nb.cells[self.index], self.index)
                except CellExecutionComplete:
                    pass
            return msg

        nbfile.kernel.execute_cell_input = execute_and_remember
        nbfile.get_kernel_message = receive_and_record

    def save(self, path: Path) -> None:
        """Escribe el cuaderno ejecutado (con el estado de sus widgets) en ``path``."""
        import nbformat

        # nbval ejecuta sin historial (store_history=False): el núcleo no numera las celdas.
        for count, index in enumerate(self.executed, start=1):
            cell = self.nb.cells[index]
            cell.execution_count = count
            for output in cell.outputs:
                if output.output_type == "execute_result":
                    output.execution_count = count
        self.client.set_widgets_metadata()
        self.nb.metadata[METADATA_KEY] = {
            "seconds": round(time.perf_counter() - self.start, 1),
            "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(self.nb, path)


_recordings: dict[str, Recording] = {}


def _recording(item: pytest.Item) -> Recording | None:
    """La grabación del cuaderno de ``item`` si es una celda de nbval y se piden copias."""
    if item.config.getoption("record_executed") is None or not hasattr(item, "cell"):
        return None
    nbfile = item.parent
    if nbfile.nodeid not in _recordings:
        _recordings[nbfile.nodeid] = Recording(nbfile)
    return _recordings[nbfile.nodeid]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    recording = _recording(item)
    if recording is not None:
        recording.index = next(i for i, c in enumerate(item.parent.nb.cells) if c is item.cell)
        recording.client.clear_before_next_output = False  # como nbclient al empezar cada celda
        recording.executed.append(recording.index)
    yield
    if recording is not None:
        recording.index = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    recording = _recordings.get(item.parent.nodeid) if hasattr(item, "cell") else None
    if recording is not None and outcome.get_result().failed:
        recording.ok = False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    yield
    if nextitem is not None and nextitem.parent is item.parent:
        return
    recording = _recordings.pop(item.parent.nodeid, None) if hasattr(item, "cell") else None
    if recording is not None and recording.ok:
        root = item.config.getoption("record_root").resolve()
        relative = Path(str(item.parent.path)).resolve().relative_to(root)
        recording.save(item.config.getoption("record_executed") / relative)

