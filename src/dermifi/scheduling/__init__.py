"""The appointment book and the providers' day schedules built from it."""
