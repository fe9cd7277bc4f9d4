"""bpviz.allocator: training's large temporaries stop page-faulting in every step."""

import subprocess
import sys

import pytest

STEPS = """
import resource, sys
import numpy as np
from bpviz.allocator import reuse_freed_memory
from bpviz.engine import SGD, Network, Trainer
if sys.argv[1] == "on":
    assert reuse_freed_memory()
rng = np.random.default_rng(0)
X = rng.normal(size=(512, 784))
T = np.eye(10)[rng.integers(0, 10, len(X))]
trainer = Trainer(Network([784, 128, 64, 10], "relu", "softmax", "cross_entropy", init="he"), X, T,
                  SGD(0.01), batch_size=64)
for _ in range(20):
    trainer.step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):
    trainer.step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 40)
"""


def faults_per_step(mode):
    done = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True)
    return float(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc and its page-fault count")
def test_freed_arrays_are_reused_instead_of_faulted_in_again():
    assert faults_per_step("off") > 100  # ~400: each large temporary mapped afresh
    assert faults_per_step("on") < 10
