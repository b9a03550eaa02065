"""Long work the service runs off the request path.

`POST /v1/evaluations` stores a job and answers 202 at once; the service's worker thread runs
the job (`runner.JobRunner`) and records its state and progress in the store (`store`), so
`GET /v1/jobs/{id}` answers from any server of the same store. A job whose worker stops
(a crash, `kill -9`, a restart) falls silent, and is then marked failed with the reason.
The CLI (`scs evaluate`) runs in its own process and needs no job.
"""
