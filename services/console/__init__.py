"""The console: the office's and the units' web pages over the four services' public APIs."""
