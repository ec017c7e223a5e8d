"""Floor 3: scenarios, run directories, plots and the command line."""
