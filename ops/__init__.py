"""The top floor: bootstrap, the demo and its seed, the dev server and the replay check.

These start and prepare the whole system, so they may import any layer; nothing imports them
but the `roi` command and scripts.
"""
