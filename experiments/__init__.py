"""The paper's experiments (sorting, MNIST jigsaw, Sinkhorn diagnostics), each runnable from the CLI."""
