"""Pictures of alignments and redistributed reward (needs ``pip install "align-rudder[viz]"``)."""

from rudder.viz.plots import plot_alignment, plot_redistribution, plot_redistributor_alignment

__all__ = ["plot_alignment", "plot_redistribution", "plot_redistributor_alignment"]
