"""Learning from readers: experiments, assignment, interleaving, recommendation ids, feedback."""
