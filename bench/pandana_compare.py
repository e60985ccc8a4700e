"""Runs pandana 0.8 (the C++ contraction-hierarchy accessibility library used with osmnx)
on a network exported by `doorstep bench geo --pandana`, times its nearest_pois and
aggregate queries, and compares their answers with Doorstep's.

Usage: python3 bench/pandana_compare.py DIR MAXDIST_METRES   (prints JSON)
"""
import json
import sys
import time

import numpy as np
import pandas as pd
import pandana

directory, maxdist = sys.argv[1], float(sys.argv[2])
nodes = pd.read_csv(f"{directory}/nodes.csv", index_col="id")
edges = pd.read_csv(f"{directory}/edges.csv")
pois = pd.read_csv(f"{directory}/pois.csv")
ours = pd.read_csv(f"{directory}/ours.csv", index_col="id")

t0 = time.perf_counter()
net = pandana.Network(nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["weight"]], twoway=True)
net.precompute(maxdist)
precompute = time.perf_counter() - t0

query = 0.0
worst_nearest = 0.0
nearest_mismatches = 0
count_mismatches = 0
at_cutoff = 0
explained = 0  # at most 200 differences are explained (each costs a batch of path queries)
compared = 0
for category, group in pois.groupby("category"):
    node_ids = group["node"].to_numpy()
    t = time.perf_counter()
    net.set_pois(category, maxdist, 1, nodes.loc[node_ids, "x"], nodes.loc[node_ids, "y"])
    nearest = net.nearest_pois(maxdist, category, num_pois=1)[1]
    net.set(pd.Series(node_ids), variable=pd.Series(np.ones(len(node_ids))), name=category)
    counts = net.aggregate(maxdist, type="count", decay="flat", name=category)
    query += time.perf_counter() - t

    mine_d = ours[f"nearest_{category}"].reindex(nearest.index).to_numpy(dtype=float)
    theirs_d = nearest.to_numpy(dtype=float)
    within = mine_d <= maxdist
    diff = np.abs(mine_d[within] - theirs_d[within])
    worst_nearest = max(worst_nearest, float(diff.max()) if diff.size else 0.0)
    nearest_mismatches += int((diff > 0.01 + 1e-4 * mine_d[within]).sum())
    # Beyond the cut-off pandana answers maxdist itself.
    nearest_mismatches += int((np.abs(theirs_d[~within] - maxdist) > 0.01).sum())
    mine_c = ours[f"count_{category}"].reindex(counts.index).to_numpy(dtype=float)
    bad = np.abs(mine_c - counts.to_numpy(dtype=float)) > 0.5
    count_mismatches += int(bad.sum())
    # Explain each difference: a facility within 10 cm of the cut-off, where float
    # rounding decides on which side it falls.
    for node in counts.index[bad][: max(0, 200 - explained)]:
        explained += 1
        d = np.asarray(net.shortest_path_lengths([node] * len(node_ids), list(node_ids)), dtype=float)
        if np.any(np.abs(d - maxdist) < 0.1):
            at_cutoff += 1
    compared += len(nearest)

result = json.dumps({
    "pandana_version": pandana.__version__,
    "precompute_seconds": round(precompute, 4),
    "query_seconds": round(query, 4),
    "node_category_pairs_compared": compared,
    "nearest_max_abs_diff_m": round(worst_nearest, 6),
    "nearest_mismatches": nearest_mismatches,
    "count_mismatches": count_mismatches,
    "count_mismatches_explained": explained,
    "count_mismatches_at_cutoff": at_cutoff,
})
# pandana prints progress on stdout: the figures go to a file.
with open(f"{directory}/result.json", "w") as f:
    f.write(result)
