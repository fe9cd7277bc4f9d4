"""The NumPy backpropagation engine. Never imports Qt."""

from bpviz.engine.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from bpviz.engine.gradcheck import LayerCheck, gradcheck
from bpviz.engine.losses import LOSSES
from bpviz.engine.network import INITS, Network, StepRecord
from bpviz.engine.optimizers import OPTIMIZERS, Adam, Momentum, SGD, make_optimizer
from bpviz.engine.training import MODES, LossMonitor, Trainer, TrainerState, TrainStep

__all__ = [
    "ACTIVATIONS", "HIDDEN_ACTIVATIONS", "OUTPUT_ACTIVATIONS", "LOSSES", "INITS", "OPTIMIZERS", "MODES",
    "Network", "StepRecord", "SGD", "Momentum", "Adam", "make_optimizer",
    "Trainer", "TrainerState", "TrainStep", "LossMonitor", "LayerCheck", "gradcheck",
]
