"""Calificación de un cuaderno entero: lo ejecuta en un kernel nuevo y comprueba sus ejercicios.

Es lo que hace ``python -m transformer_lib.tareas comprobar CUADERNO.ipynb`` (y la
integración continua de GitHub Classroom):

1. lee el cuaderno y le añade al final una celda que llama a las comprobaciones con el
   espacio de nombres del propio cuaderno y escribe un informe JSON entre dos marcas
   aleatorias;
2. lo ejecuta con ``nbclient`` en un kernel nuevo (carpeta de trabajo: la del cuaderno;
   límite de tiempo total), sin detenerse en las celdas que fallan;
3. reúne los resultados y los errores de las celdas y escribe un informe en español.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._nucleo import (
    CORRECTO,
    Resultado,
    describir_excepcion,
    resultado_error,
    resultado_sin_resolver,
)
from .catalogo import TAREAS, Tarea, buscar_tarea

#: Etiquetas de celdas que no se ejecutan al calificar.
ETIQUETAS_SALTAR = ("skip-execution", "requires-gpu")
#: Versión del formato de la caché (cámbiala si cambian las comprobaciones).
VERSION_CACHE = 1


@dataclass
class Calificacion:
    """Resultado de calificar un cuaderno.

    Atributos:
        cuaderno: ruta del cuaderno.
        tarea: id de la tarea.
        resultados: un :class:`Resultado` por ejercicio.
        errores_celdas: errores de celdas (sin contar los ``NotImplementedError``).
        fallo: por qué no se pudo ejecutar el cuaderno (None si se ejecutó).
        segundos: duración de la ejecución.
    """

    cuaderno: str
    tarea: str
    resultados: list[Resultado] = field(default_factory=list)
    errores_celdas: list[str] = field(default_factory=list)
    fallo: str | None = None
    segundos: float = 0.0

    @property
    def puntos(self) -> float:
        return sum(r.puntos for r in self.resultados)

    @property
    def puntos_max(self) -> float:
        return TAREAS[self.tarea].puntos

    def aprobado(self, ejercicio: str | None = None) -> bool:
        """True si todo está bien (o solo ``ejercicio``, si se indica)."""
        if self.fallo is not None:
            return False
        if ejercicio is not None:
            return any(r.ejercicio == ejercicio and r.estado == CORRECTO for r in self.resultados)
        return not self.errores_celdas and all(r.estado == CORRECTO for r in self.resultados)

    def to_dict(self) -> dict:
        return {
            "cuaderno": self.cuaderno,
            "tarea": self.tarea,
            "resultados": [r.to_dict() for r in self.resultados],
            "errores_celdas": self.errores_celdas,
            "fallo": self.fallo,
            "segundos": self.segundos,
            "puntos": self.puntos,
            "puntos_max": self.puntos_max,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Calificacion:
        return cls(d["cuaderno"], d["tarea"], [Resultado.from_dict(r) for r in d["resultados"]],
                   d["errores_celdas"], d["fallo"], d["segundos"])

    def texto(self, ejercicio: str | None = None) -> str:
        """Informe en español (solo de ``ejercicio``, si se indica)."""
        tarea = TAREAS[self.tarea]
        raya = "═" * 72
        lineas = [raya, tarea.titulo, f"Cuaderno: {self.cuaderno}"
                  + (f" (ejecutado en {self.segundos:.0f} s)" if self.segundos else ""), raya]
        if self.fallo is not None:
            lineas += [f"💥 No pude ejecutar tu cuaderno: {self.fallo}", "", "Nota: 0/"
                       f"{tarea.puntos:g} puntos."]
            return "\n".join(lineas)
        resultados = [r for r in self.resultados if ejercicio is None or r.ejercicio == ejercicio]
        for r in resultados:
            lineas += [r.texto(), ""]
        if self.errores_celdas and ejercicio is None:
            lineas.append("💥 Errores al ejecutar tu cuaderno (debe poder ejecutarse de principio a fin):")
            lineas += [f"   • {e}" for e in self.errores_celdas]
            lineas.append("")
        lineas.append("─" * 72)
        if ejercicio is None:
            lineas.append(f"Nota: {self.puntos:g}/{tarea.puntos:g} puntos.")
            pendientes = [f"{r.titulo} ({r.estado})" for r in self.resultados if r.estado != CORRECTO]
            if pendientes:
                lineas.append("Te falta: " + "; ".join(pendientes) + ".")
            elif self.errores_celdas:
                lineas.append("Los ejercicios están bien, pero arregla los errores de las celdas.")
            else:
                lineas.append("🎉 ¡Tarea completa! Todo está bien.")
        else:
            r = resultados[0] if resultados else None
            lineas.append(f"Ejercicio {ejercicio}: {r.puntos:g}/{r.puntos_max:g} puntos." if r else
                          f"No hay resultado del ejercicio {ejercicio}.")
        return "\n".join(lineas)


# --------------------------------------------------------------------------------------
# Dentro del kernel
# --------------------------------------------------------------------------------------


def informe_para_kernel(tarea_id: str, espacio: dict, marca: str) -> str:
    """Comprueba los ejercicios con las variables del cuaderno y devuelve el JSON entre marcas.

    Se llama desde la celda que el calificador añade al final del cuaderno.
    """
    tarea = TAREAS[tarea_id]
    resultados = []
    for e in tarea.ejercicios:
        objetos = [espacio.get(n) for n in e.nombres]
        if objetos[0] is None and e.nombres[0] != "modelo":
            r = resultado_sin_resolver(
                e.id, e.titulo, e.puntos,
                f"No encuentro `{e.nombres[0]}` en tu cuaderno: ¿has borrado o renombrado su celda, "
                "o falló al ejecutarse?",
            )
        else:
            try:
                r = e.comprobar(*objetos, mostrar=False)
            except Exception as err:  # no debería pasar: las comprobaciones no lanzan
                r = resultado_error(e.id, e.titulo, e.puntos, f"Error al comprobar: {describir_excepcion(err)}")
        resultados.append(r.to_dict())
    return marca + json.dumps(resultados, ensure_ascii=False) + marca


def _celda_inyectada(tarea_id: str, marca: str) -> str:
    return (
        "from transformer_lib.tareas.calificador import informe_para_kernel as _informe_tareas\n"
        f"print(_informe_tareas({tarea_id!r}, globals(), {marca!r}))\n"
    )


# --------------------------------------------------------------------------------------
# Fuera del kernel
# --------------------------------------------------------------------------------------


def detectar_tarea(ruta: Path, nb=None) -> Tarea:
    """La tarea de un cuaderno: por sus metadatos (``tarea``) o por el nombre del archivo."""
    if nb is not None:
        id_ = nb.metadata.get("tarea")
        if isinstance(id_, str) and id_ in TAREAS:
            return TAREAS[id_]
    return buscar_tarea(ruta.stem)


def _clave_cache(ruta: Path, tarea_id: str) -> str:
    h = hashlib.sha256()
    h.update(ruta.read_bytes())
    h.update(f"{tarea_id}|{VERSION_CACHE}".encode())
    for modulo in sorted(Path(__file__).parent.glob("*.py")):  # si cambian las comprobaciones, no vale
        h.update(modulo.read_bytes())
    return h.hexdigest()[:32]


def calificar(
    ruta: str | os.PathLike,
    tarea: str | None = None,
    tiempo_limite: float = 900.0,
    datos: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
) -> Calificacion:
    """Ejecuta un cuaderno en un kernel nuevo y comprueba todos sus ejercicios.

    Nunca lanza por culpa del cuaderno: si no se puede ejecutar, la
    :class:`Calificacion` lo dice en ``fallo``.

    Parámetros:
        ruta: el cuaderno ``.ipynb``.
        tarea: id de la tarea; None la deduce de los metadatos o del nombre del archivo.
        tiempo_limite: segundos para ejecutar el cuaderno entero.
        datos: carpeta con ``pg2000.txt`` (se pasa al kernel como ``TRANSFORMER_LIB_DATA``).
        cache: carpeta donde guardar el resultado; si el mismo cuaderno ya se calificó, se
            reutiliza (útil para puntuar cada ejercicio por separado sin repetir la ejecución).
    """
    import nbformat

    ruta = Path(ruta)
    id_provisional = tarea or ruta.stem
    if not ruta.is_file():
        return Calificacion(str(ruta), _id_o_primera(id_provisional), fallo=f"no existe el archivo {ruta}.")
    try:
        nb = nbformat.read(ruta, as_version=4)
    except Exception as err:
        return Calificacion(str(ruta), _id_o_primera(id_provisional),
                            fallo=f"no es un cuaderno de Jupyter válido ({describir_excepcion(err)}).")
    try:
        t = detectar_tarea(ruta, nb) if tarea is None else buscar_tarea(tarea)
    except ValueError as err:
        return Calificacion(str(ruta), _id_o_primera(id_provisional),
                            fallo=f"{err} Indica la tarea con --tarea.")
    archivo_cache = None
    if cache is not None:
        archivo_cache = Path(cache) / f"{t.id}-{_clave_cache(ruta, t.id)}.json"
        if archivo_cache.is_file():
            return Calificacion.from_dict(json.loads(archivo_cache.read_text(encoding="utf-8")))
    resultado = _ejecutar(ruta, nb, t, tiempo_limite, datos)
    if archivo_cache is not None:  # también los fallos: así no se repite una ejecución que agotó el tiempo
        archivo_cache.parent.mkdir(parents=True, exist_ok=True)
        archivo_cache.write_text(json.dumps(resultado.to_dict(), ensure_ascii=False), encoding="utf-8")
    return resultado


def _id_o_primera(id_: str) -> str:
    try:
        return buscar_tarea(id_).id
    except ValueError:
        return next(iter(TAREAS))


def _ejecutar(ruta: Path, nb, tarea: Tarea, tiempo_limite: float, datos) -> Calificacion:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_code_cell

    calif = Calificacion(str(ruta), tarea.id)
    marca = "@@TAREAS-" + secrets.token_hex(12) + "@@"
    nb.cells.append(new_code_cell(_celda_inyectada(tarea.id, marca)))
    env = dict(os.environ)
    env.setdefault("TQDM_DISABLE", "1")
    env.setdefault("MPLBACKEND", "Agg")
    if datos is not None:
        env["TRANSFORMER_LIB_DATA"] = str(Path(datos).resolve())
    inicio = time.monotonic()
    limite = inicio + tiempo_limite
    client = NotebookClient(
        nb,
        kernel_name="python3",
        allow_errors=True,
        timeout_func=lambda cell: max(1, int(limite - time.monotonic())),
        resources={"metadata": {"path": str(ruta.parent.resolve())}},
    )
    indice = 0
    try:
        with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):  # sin avisos del kernel
            for indice, celda in enumerate(nb.cells):
                if celda.cell_type != "code" or set(celda.metadata.get("tags", [])) & set(ETIQUETAS_SALTAR):
                    continue
                if time.monotonic() > limite:
                    raise CellTimeoutError("tiempo agotado")
                client.execute_cell(celda, indice)
    except CellTimeoutError:
        calif.fallo = (f"se agotó el tiempo ({tiempo_limite:.0f} s) en la celda {indice + 1}. ¿Hay un bucle "
                       "que no termina, o un entrenamiento demasiado largo?")
    except DeadKernelError as err:
        calif.fallo = f"el kernel de Python murió en la celda {indice + 1} ({describir_excepcion(err)}); ¿se quedó sin memoria?"
    except Exception as err:
        calif.fallo = f"error al ejecutar el cuaderno ({describir_excepcion(err)})."
    calif.segundos = time.monotonic() - inicio
    if calif.fallo is not None:
        return calif
    *celdas, inyectada = nb.cells
    calif.errores_celdas = _errores(celdas)
    texto = "".join(o.get("text", "") for o in inyectada.outputs if o.get("output_type") == "stream")
    partes = texto.split(marca)
    if len(partes) < 3:
        error = next((f"{o.ename}: {o.evalue}" for o in inyectada.outputs if o.get("output_type") == "error"), "")
        calif.fallo = ("no pude leer el resultado de las comprobaciones"
                       + (f" ({error})" if error else "") + ". ¿Está instalado transformer_lib en este entorno?")
        return calif
    calif.resultados = [Resultado.from_dict(d) for d in json.loads(partes[1])]
    return calif


def _errores(celdas) -> list[str]:
    errores = []
    for n, celda in enumerate(celdas, start=1):
        if celda.cell_type != "code":
            continue
        for salida in celda.get("outputs", []):
            if salida.get("output_type") != "error" or salida.get("ename") == "NotImplementedError":
                continue
            valor = " ".join(str(salida.get("evalue", "")).split())
            if len(valor) > 300:
                valor = valor[:297] + "…"
            primera = next((linea for linea in celda.source.splitlines() if linea.strip()), "")
            errores.append(f"La celda {n} (`{primera.strip()[:60]}`) lanzó {salida.get('ename')}: {valor}")
    return errores


def estado_salida(calificaciones: list[Calificacion], ejercicio: str | None = None) -> int:
    """Código de salida: 0 si todo está bien, 2 si algún cuaderno no se pudo ejecutar, 1 si no."""
    if any(c.fallo is not None for c in calificaciones):
        return 2
    return 0 if all(c.aprobado(ejercicio) for c in calificaciones) else 1


__all__ = ["Calificacion", "calificar", "estado_salida", "informe_para_kernel"]
