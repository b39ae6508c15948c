"""The transactional outbox: messages to the world outside, written with the change that
causes them and delivered by a worker after commit."""
