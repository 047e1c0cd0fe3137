"""Write examples/data/delivery-times.csv: a generated regression data set for example 62.

200 made-up deliveries: distance (km), parcels, stops and whether it rained, and the minutes each took,
minutes = 12 + 2.5 * distance + 0.8 * parcels + 3 * stops + 6 * rain + noise (Gaussian, std 4), rounded to
two decimals. Python's own random module with seed 13, so the file is the same on every run:
    python3 scripts/make-regression-csv.py
"""

import os
import random

rng = random.Random(13)
rows = []
for _ in range(200):
    distance = round(rng.uniform(0.5, 25.0), 2)
    parcels = rng.randint(1, 30)
    stops = rng.randint(1, 8)
    rain = 1 if rng.random() < 0.3 else 0
    minutes = 12 + 2.5 * distance + 0.8 * parcels + 3 * stops + 6 * rain + rng.gauss(0, 4)
    rows.append(f"{distance},{parcels},{stops},{rain},{minutes:.2f}")
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "data", "delivery-times.csv")
with open(path, "w", newline="\n") as f:
    f.write("distance_km,parcels,stops,rain,minutes\n" + "\n".join(rows) + "\n")
