"""AMI: events in, one ordered pipeline per node, actions out."""
