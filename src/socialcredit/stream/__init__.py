"""Records in real time on NATS JetStream (docs/stream.md).

`scs stream publish` puts a file's records on the stream `SCS_RECORDS` (subjects
`scs.records.<source>`); `scs stream run` is the worker that passes each micro-batch through the
same `accept_records` as `scs ingest`, commits, refreshes the outcomes, and only then acks.
Records it rejects go with their reasons to `SCS_REJECTS` (`scs.rejects.<source>`).
"""
