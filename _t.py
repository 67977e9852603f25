import time, numpy as np
from rudder.alignment import *
from rudder.alignment.msa import _progressive_counts
from rudder.experiments.tasks.core import synthetic_demonstrations
n,L=300,200
seqs=synthetic_demonstrations(n,L,np.random.default_rng(1))
sc=ScoringScheme.from_frequencies(event_frequencies(seqs,15))
pairs=n*(n-1)/2
e0=align_sequences(seqs,sc,method='exact',refine_passes=0); print('exact no refine', e0.sum_of_pairs(sc)/pairs, e0.length)
for k in (1,2,3):
  for leaf in (16,64,256):
    t=time.perf_counter(); tree=kmer_guide_tree(seqs,15,k=k,leaf_size=leaf); rows=_progressive_counts(seqs,tree,sc); dt=time.perf_counter()-t
    print(k,leaf,f'{dt:.2f}s', MultipleAlignment(rows).sum_of_pairs(sc)/pairs, rows.shape[1], flush=True)
