"""The commands that run or drive the service: serve, warm, and the service as a child process."""
