"""The paper's experiments (sorting, MNIST jigsaw, Sinkhorn diagnostics), runnable from the CLI."""
