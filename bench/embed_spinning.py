"""onnxruntime's idle threads spinning or sleeping, alone and beside other busy work.

    .venv/bin/python bench/embed_spinning.py [--passages 160] [--threads 2]

Each case embeds the same synthetic passages (140 words each) with the default MiniLM int8
model in a fresh process, once spinning (onnxruntime's default) and once sleeping (ours):
alone; beside one busy core (a Python loop in another process); and two embedding
processes at once. Prints the seconds of each, and the ratio.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import random, sys, time
sys.path.insert(0, {root!r})
from knowledge.embeddings import MiniLmInt8Embedder
embedder = MiniLmInt8Embedder(threads={threads}, spinning={spinning})
random.seed(1)
words = "clinical trial biomarker diagnostics funding consortium grant microbiome device".split()
texts = [" ".join(random.choice(words) for _ in range(140)) + f" {{i}}" for i in range({n})]
embedder.embed_array(texts[:16])
started = time.perf_counter()
embedder.embed_array(texts)
print(round(time.perf_counter() - started, 2))
"""
BUSY = "while True: pass"


def _embedding(spinning: bool, passages: int, threads: int) -> subprocess.Popen[str]:
    code = CHILD.format(root=str(ROOT), threads=threads, spinning=spinning, n=passages)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def _seconds(child: subprocess.Popen[str]) -> float:
    out, _ = child.communicate()
    return float(out.strip().splitlines()[-1])


def case(name: str, spinning: bool, passages: int, threads: int) -> float:
    if name == "alone":
        return _seconds(_embedding(spinning, passages, threads))
    if name == "beside a busy core":
        busy = subprocess.Popen([sys.executable, "-c", BUSY])
        try:
            time.sleep(0.5)
            return _seconds(_embedding(spinning, passages, threads))
        finally:
            busy.kill()
            busy.wait()
    pair = [_embedding(spinning, passages, threads) for _ in range(2)]
    return max(_seconds(child) for child in pair)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=160)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    random.seed(0)
    print("| case | spinning (s) | sleeping (s) | sleeping / spinning |")
    print("| --- | ---: | ---: | ---: |")
    for name in ("alone", "beside a busy core", "two embedding processes at once"):
        spin = case(name, True, args.passages, args.threads)
        sleep = case(name, False, args.passages, args.threads)
        print(f"| {name} | {spin:.1f} | {sleep:.1f} | {sleep / spin:.2f} |", flush=True)


if __name__ == "__main__":
    main()
