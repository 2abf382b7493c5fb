"""The render farm: proxx jobs run by Celery workers on several hosts, through a Redis broker.

Design (where things live, and why):

* The submitting machine creates the job as usual (compile, JobSpec, its own SQLite store), marked
  there as dispatched to the broker so that local `proxx worker`s never claim it. The JobSpec then
  travels whole in the Celery task (its canonical JSON and its digest) on the queue of its engine,
  `proxx.<engine>`: a worker consumes only the queues of the engines it was started with, so a
  machine without Resolve never receives a Resolve job. Workers never compile and never read a
  profile repository. Each worker advertises the engines it takes (`proxx:farm:worker:<id>`, with a
  TTL, refreshed by its reaper loop), and a submission compiles against those as well as the engines
  installed on the submitting machine. The submitting machine's store keeps the broker URL without
  its password; PROXX_FARM_BROKER supplies it for mirroring and retries.
* Farm states, progress and results live in Redis, in one hash per job (`proxx:farm:job:<id>`),
  written with small Lua scripts so that every transition is atomic and forward-only. The SQLite
  store of the submitting machine mirrors them whenever it is opened (`Proxx.refresh`), so
  `proxx jobs list`, `proxx jobs show` and the web UI see farm jobs like local ones, with the result
  JSON and the job log copied beside local jobs'. The farm never shares one SQLite file over the
  network: SQLite's locking is unreliable on network file systems, and a lost lock there means a lost
  or doubled job. Each worker keeps its own execution record in a local SQLite store under
  PROXX_HOME/farm-worker.
* Exactly once: Celery acknowledges a task only after it ran (acks_late, reject_on_worker_lost), so a
  task lost with its worker before it started is delivered again; a worker takes a job only with an
  atomic claim (`SET NX` on `proxx:farm:claim:<id>`), so a delivery of a job that was already taken
  is refused and never runs a second time. The claim reserves the job (QUEUED, under a lease) while
  the worker runs its class B checks; only then does it start (RUNNING), so a job they refuse goes
  QUEUED -> FAILED and is never seen RUNNING (`FarmState.reserve`, `start`). Celery retries are off
  (the task never raises, and has no retry policy).
* Worker lost: a reserved or running job keeps `proxx:farm:alive:<id>` alive (a key with a TTL of the
  lease, PROXX_FARM_LEASE_SECONDS, refreshed three times per lease). When it expires - the worker was
  SIGKILLed, its host is gone - the next reaper pass (every farm worker runs one every half lease;
  the submitting machine runs one when it mirrors) suspects the job, and a pass a lease later marks
  it FAILED "worker lost", class C, unless its worker renewed meanwhile: a worker only cut off from
  Redis renews within a third of a lease of its return, so a live worker is never called lost.
  Retry stays an operator action (`proxx jobs retry`). A worker whose job is no longer its own finds
  so just before publishing each output, and leaves it unpublished.
* Broker faults: progress, published clips and the cancel poll go through a reporting thread
  (`FarmReporter`), never the encoder's; publications and the closing record wait for an unreachable
  broker (`patiently`). A broker that lost its data gets each running job's record back from its
  worker (the heartbeat writes it again) and each finished job's from its worker's outbox; a job with
  no record for `lost_after()` is resolved on the submitting machine from what is on disk
  (`proxx_farm.mirror`).
* Path mapping: a worker started with `--map-path /Volumes/Media=/mnt/media` runs a mapped copy of the
  JobSpec; the JobSpec itself (and its digest) never changes. The result sent back names its clips by
  the JobSpec's own paths, and records the rules and the executed paths under
  `engine.details.path_mapping` (the worker's own records keep its paths).
"""
