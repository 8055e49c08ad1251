"""``qa eval`` (placeholder parser until the evaluation harness lands)."""

from __future__ import annotations

import argparse
from typing import Any


def add_eval_parser(sub: Any) -> None:
    p = sub.add_parser("eval", help="score answers on a labelled question set")
    p.add_argument("--dataset", required=True)
    p.set_defaults(handler=_cmd_eval)


def _cmd_eval(args: argparse.Namespace, settings: Any) -> int:
    raise SystemExit("qa eval is not implemented yet")
