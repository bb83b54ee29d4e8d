"""Los experimentos del libro que un guion de ``benchmarks/`` repite con muchas semillas.

Cada módulo guarda la tarea, el modelo y la receta de un experimento, para que el capítulo
que lo cuenta y el guion que llena ``results/`` usen exactamente el mismo código:

- ``heads``: una cabeza frente a varias en la tarea de las dos relaciones (capítulo 2;
  ``benchmarks/exp_heads.py``).
- ``stability``: Post-LN frente a Pre-LN al entrenar (capítulo 4; ``benchmarks/exp_stability.py``).
- ``norm_depth``: pilas de 12 y 24 bloques con LayerNorm y sin normalización (capítulo 4;
  ``benchmarks/exp_norm_depth.py``).
- ``retrieval``: recuperar por su contenido una aguja a distancia al azar, GPT frente a LSTM
  (capítulo 9; ``benchmarks/exp_retrieval.py``).
- ``ladder``: la escalera de ablación, de un bigrama al bloque de GPT (introducción y capítulo
  10), y la FFN entrenada a igualdad de parámetros y FLOPs (capítulos 5 y 6;
  ``benchmarks/exp_ladder.py``).
- ``modern``: del bloque de GPT-2 al de Llama, una pieza cada vez, con la caché KV de GQA,
  RoPE más allá de la longitud entrenada, el tiempo de RMSNorm y BPE en bits por carácter
  (capítulo 11; ``benchmarks/exp_modern.py``).

Se importa aparte: ``from transformer_lib.experiments import ladder``.
"""
