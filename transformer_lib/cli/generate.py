"""Subcomando ``generate``: carga un checkpoint de ``train --out`` y continúa un texto."""

from __future__ import annotations

import argparse

import torch

from ..data import CharTokenizer
from ..models import GPT
from ..training import load_checkpoint
from .parser import non_negative_float, non_negative_int, positive_int

HELP = "genera texto con un checkpoint entrenado"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declara las opciones de ``generate``."""
    parser.add_argument("--checkpoint", required=True, metavar="CARPETA", help="carpeta de un checkpoint guardado con train --out")
    parser.add_argument("--prompt", default="En un lugar de la Mancha", metavar="TEXTO", help="texto inicial")
    parser.add_argument("--max-new-tokens", type=non_negative_int, default=300, metavar="N", help="caracteres que se generan")
    parser.add_argument("--temperature", type=non_negative_float, default=0.8, metavar="X",
                        help="temperatura del muestreo (0 = siempre el más probable)")
    parser.add_argument("--top-k", type=positive_int, default=None, metavar="K", help="muestrear solo entre los k más probables")
    parser.add_argument("--seed", type=int, default=1, metavar="N", help="semilla del muestreo")
    parser.add_argument("--device", default="cpu", metavar="DISPOSITIVO", help="cpu, cuda o mps")


def run(args: argparse.Namespace) -> int:
    """Genera ``--max-new-tokens`` caracteres tras ``--prompt`` y los imprime."""
    ckpt = load_checkpoint(args.checkpoint, device=args.device)
    model, tok = ckpt.model, ckpt.tokenizer
    if not isinstance(model, GPT) or not isinstance(tok, CharTokenizer):
        raise ValueError(f"{args.checkpoint} no es un checkpoint de un GPT de caracteres.")
    if not args.prompt:
        raise ValueError("--prompt no puede estar vacío: el modelo necesita al menos un carácter.")
    idx = torch.tensor([tok.encode(args.prompt)], dtype=torch.long, device=args.device)  # (1, T0)
    gen = torch.Generator(device=args.device).manual_seed(args.seed)
    out = model.generate(idx, args.max_new_tokens, temperature=args.temperature, top_k=args.top_k,
                         generator=gen)
    print(tok.decode(out[0]))
    return 0
