"""Mean PESQ / ESTOI of the valid split per SNR range and per noise class, from maese-score's per-file CSVs.

    cd recipes/DNS && python summaries/real_floor_2026-12-06/valid_by_noise.py results/real/corpus/valid_set/denoise/pairs.json \
        NAME=CSV ...
"""
import collections
import csv
import json
import sys

import numpy as np

pairs = json.load(open(sys.argv[1]))
scores = {name: {r["file"]: (float(r["pesq"]), float(r["estoi"])) for r in csv.DictReader(open(path))}
          for name, path in (arg.split("=", 1) for arg in sys.argv[2:])}


def table(title, key, label=str):
    groups = collections.defaultdict(list)
    for fileid, pair in pairs.items():
        groups[key(pair)].append(fileid + ".wav")
    print(f"| {title} | files | " + " | ".join(f"{n} PESQ / ESTOI" for n in scores) + " |")
    print("| --- | ---: |" + " ---: |" * len(scores))
    for group in sorted(groups):
        files = groups[group]
        cells = [f"{np.mean([s[f][0] for f in files]):.2f} / {np.mean([s[f][1] for f in files]):.2f}" for s in scores.values()]
        print(f"| {label(group)} | {len(files)} | " + " | ".join(cells) + " |")
    print()


table("SNR (dB)", lambda p: int(p["snr"] // 4 * 4), lambda low: f"{low} to {low + 4}")
table("noise (ESC-10 class)", lambda p: p["noise"].split("esc10_")[1].rsplit("_", 1)[0])
