"""The staff web app: specialists' queue, supervisors' board, intake API, public status lookup."""
