#!/usr/bin/env python3
"""How small the store benchmark's prompt text can get: the random words of
Sources/TollgateAnalytics/Synthetic/SyntheticTraffic.swift,
200,000 of them joined by spaces as the benchmark does, against their entropy and what zstd and xz make of them.

    scripts/words-bound.py
"""
import math
import random
import re
import subprocess

source = open("Sources/TollgateAnalytics/Synthetic/SyntheticTraffic.swift").read()
literal = re.search(r'static let words = """\n(.*?)"""', source, re.S).group(1)
words = literal.replace("\\\n", " ").split()
random.seed(1)
text = " ".join(random.choice(words) for _ in range(200_000)).encode()
bits = math.log2(len(words))
print(f"{len(words)} words, {bits:.2f} bits a word, {len(text) / 200_000:.2f} bytes a word with its space")
print(f"entropy bound: {bits / 8 / (len(text) / 200_000):.3f} of raw ({len(text)} bytes)")
for name, command in [("zstd -3", ["zstd", "-q", "-3", "-c"]), ("zstd -19", ["zstd", "-q", "-19", "-c"]),
                      ("xz -9", ["xz", "-9", "-c"])]:
    out = subprocess.run(command, input=text, capture_output=True, check=True).stdout
    print(f"{name}: {len(out) / len(text):.3f} of raw")
