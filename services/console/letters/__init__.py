"""The letters' pages: 待办 (the worklist), the list with its filters, and one letter."""
