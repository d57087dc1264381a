"""The real delivery channels behind the `deliver` activity: email link, US mail, CD, FedEx."""
