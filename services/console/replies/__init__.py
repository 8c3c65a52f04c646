"""The reply on a letter's page: the five-part editor, extensions, reminders, the review
chain, and the publication mode with its masked preview."""
