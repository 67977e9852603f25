import time, numpy as np
from rudder.alignment import *
from rudder.experiments.tasks.core import synthetic_demonstrations
for n,L in ((1000,200),(3000,100),(10000,100)):
    seqs=synthetic_demonstrations(n,L,np.random.default_rng(1))
    sc=ScoringScheme.from_frequencies(event_frequencies(seqs,15))
    t=time.perf_counter(); tree=kmer_guide_tree(seqs,15); t1=time.perf_counter()-t
    k=align_sequences(seqs,sc,guide_tree=tree, method='kmer'); tk=time.perf_counter()-t
    print(f'{n}x{L} tree {t1:.2f}s total {tk:.2f}s cols {k.length}', flush=True)
