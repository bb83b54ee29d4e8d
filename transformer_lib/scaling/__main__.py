"""``python -m transformer_lib.scaling sweep …``: lo mismo que ``python -m transformer_lib sweep …``.

Es solo un punto de entrada (nada lo importa): lleva a la línea de órdenes de
:mod:`transformer_lib.cli`, que registra la orden con este nombre de programa.
"""

from ..cli import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m transformer_lib.scaling"))
