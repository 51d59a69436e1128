"""The hostile corpus of issue 11: every hostile input gets a one-line answer in bounded time."""
