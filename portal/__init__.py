"""The patient portal (issue 17): the public side, its own app and process, so the staff app
never faces the internet. It submits through services/intake.py like every other channel."""
