"""`proxx serve`: the operator's web page and the integrator's HTTP API, a thin shell over `proxx.Proxx`.

Operators choose an intent and sources and watch their jobs; nothing here configures encoding, edits
a profile or a JobSpec, retries by itself or suggests another intent. Operator pages and the operator
API never show a canonical id, codec, container or command line (`proxx.visibility`); integrators get
those under `/api/integrator/...` only.
"""
