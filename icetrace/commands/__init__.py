"""One module per CLI subcommand; each exports `register(subparsers)` and `run(args, out, err)`."""
