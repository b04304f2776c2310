"""``python -m recommender`` runs the newsrec command line."""

from recommender.cli import main

main()
