"""What tests share, so that no test module imports another.

- `aws`: the table from template.yaml, API Gateway events, invoking a handler, reading the table
  back, the template's API on the local gateway.
- `api`: the status API and the callbacks function as a client calls them (register, look up,
  post each provider's callback).
- `payloads`: what each provider sends, in its own shape (webhooks, signatures, send responses).
- `adapters`: each provider's adapter built from the test settings (optionally on a simulator).
- `rig`: the poller on a fake clock with the Wunderkind simulator.
- `waiting`: waiting, bounded in time, for what another thread or process does.
"""
