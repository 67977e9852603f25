import cProfile, pstats, time, numpy as np
from rudder.alignment import *
from rudder.experiments.tasks.core import synthetic_demonstrations
seqs=synthetic_demonstrations(3000,100,np.random.default_rng(1))
sc=ScoringScheme.from_frequencies(event_frequencies(seqs,15))
cProfile.run("align_sequences(seqs,sc,method='kmer')", "/tmp/p3.out")
pstats.Stats("/tmp/p3.out").sort_stats("tottime").print_stats(12)
