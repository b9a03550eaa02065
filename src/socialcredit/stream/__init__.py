"""Records in real time over NATS JetStream (docs/realtime.md)."""
