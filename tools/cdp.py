"""Chromium sin ventana controlado por el protocolo DevTools (CDP) a través de tuberías.

Solo biblioteca estándar: Chromium se arranca con ``--remote-debugging-pipe`` y lee las
órdenes (JSON terminado en ``\\0``) del descriptor 3 y escribe respuestas y eventos en el
4. Así no hace falta ni chromedriver ni un cliente de WebSocket. Lo usa
``tools/browser_check.py``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

#: Opciones para un Chromium sin ventana en una máquina sin red ni GPU (como root).
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    # Cualquier nombre de máquina que no sea el servidor local falla al instante: una
    # página que intente cargar algo de fuera lo delata sin esperar a un tiempo de espera.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)

#: Nombres con los que se busca el navegador si no se da ``CHROMIUM``.
BROWSER_NAMES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_browser() -> str | None:
    """Ruta de Chromium: la variable ``CHROMIUM`` o el primero de ``BROWSER_NAMES`` en el PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() or shutil.which(explicit) else None
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class CDPError(RuntimeError):
    """Error devuelto por el navegador a una orden del protocolo DevTools."""


class Browser:
    """Un Chromium sin ventana y su conexión CDP.

    Parámetros:
        executable: ruta del navegador.
        timeout: segundos máximos de espera de cada respuesta.

    Los eventos llegan a ``on_event(method, params, session_id)`` desde un hilo lector.
    """

    def __init__(self, executable: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.on_event: Callable[[str, dict, str | None], None] = lambda *_: None
        self._profile = tempfile.mkdtemp(prefix="cdp-perfil-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Copias por encima del 9 para que dup2(·, 3/4) no pise ninguna de las dos.
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)

        def child_fds() -> None:  # se ejecuta en el hijo, antes de exec
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [
                executable,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self._profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=child_fds,
        )
        for fd in (to_browser_r, from_browser_w, high_r, high_w):
            os.close(fd)
        self._next_id = 0
        self._lock = threading.Lock()
        self._replies: dict[int, dict] = {}
        self._replied = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    def _read_loop(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._replied:
                        self._replies[message["id"]] = message
                        self._replied.notify_all()
                else:
                    self.on_event(
                        message.get("method", ""),
                        message.get("params", {}),
                        message.get("sessionId"),
                    )
        with self._replied:
            self._closed = True
            self._replied.notify_all()

    def send(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict:
        """Envía una orden y espera su respuesta.

        Parámetros:
            method: nombre CDP (``"Page.navigate"``).
            params: parámetros de la orden.
            session: sesión de la pestaña (``Target.attachToTarget`` con ``flatten``).
            timeout: segundos de espera (por defecto, los del constructor).

        Devuelve:
            El campo ``result`` de la respuesta.
        """
        with self._lock:
            self._next_id += 1
            ident = self._next_id
        message: dict = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        limit = time.monotonic() + (timeout or self.timeout)
        with self._replied:
            while ident not in self._replies:
                left = limit - time.monotonic()
                if self._closed:
                    raise CDPError(f"el navegador se cerró esperando la respuesta a {method}")
                if left <= 0:
                    raise CDPError(f"sin respuesta a {method} en {timeout or self.timeout} s")
                self._replied.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error'].get('message', reply['error'])}")
        return reply.get("result", {})

    def new_tab(self) -> str:
        """Abre una pestaña en blanco y devuelve su sesión CDP."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        return self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]

    def close(self) -> None:
        """Cierra el navegador y borra su perfil temporal."""
        try:
            self.send("Browser.close", timeout=5)
        except (CDPError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
